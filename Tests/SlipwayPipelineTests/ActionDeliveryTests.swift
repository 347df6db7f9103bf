import Foundation
import Testing

@testable import SlipwayPipeline

#if canImport(Glibc)
    import Glibc
#endif

/// A `slipway server` child process on 127.0.0.1 with port 0, announced in its data folder.
final class ActionServer: @unchecked Sendable {
    // Set once in init, read afterwards.
    let process = Process()
    let dataDir: URL

    init(dataDir: URL, folder: URL) async throws {
        self.dataDir = dataDir
        let ready = folder.appendingPathComponent("ready.json")
        process.executableURL = actionSlipwayExecutable()
        process.arguments = [
            "server", "--port", "0", "--gateway-port", "0", "--data-dir", dataDir.path, "--ready-file", ready.path, "--log-level", "warning",
        ]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_CONFIG", "SLIPWAY_DATA_DIR", "SLIPWAY_PORT"] { environment[key] = nil }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning, !FileManager.default.fileExists(atPath: ready.path) {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard FileManager.default.fileExists(atPath: ready.path) else {
            stop()
            throw ActionError("the server did not become ready")
        }
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

@Suite("Delivery actions against a server", .serialized)
struct ActionDeliveryTests {
    @Test("deploy serves version 1, a rollout to version 2 is followed to Healthy, an aborted one fails the step")
    func deployAndRollout() async throws {
        let executable = actionSlipwayExecutable()
        let scratch = try ActionScratch("delivery")
        defer { scratch.remove() }
        let ws = try scratch.workspace("job")
        try FileManager.default.copyItem(at: breastCancerFolder(), to: ws.appendingPathComponent("data"))
        let server = try await ActionServer(dataDir: scratch.dataDir, folder: scratch.root)
        defer { server.stop() }
        var env = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_CONFIG", "SLIPWAY_DATA_DIR"] { env[key] = nil }
        let log = ActionLog()
        func invoke(_ inputs: [String: String]) -> ActionInvocation { scratch.invocation(inputs, workspace: ws, environment: env, log: log) }

        // No SLIPWAY_DATA_DIR in the step: the action's data folder is used, and the server announced there.
        _ = try await TrainAction(executable: executable).run(
            invoke(["algorithm": "logistic", "data": "data/train.csv", "target": "target", "out": "models/cancer"]))
        let register = RegisterAction(executable: executable, dataDir: scratch.dataDir)
        #expect(try await register.run(invoke(["model": "cancer", "artifact": "models/cancer", "alias": "production"])).outputs["version"] == "1")
        #expect(try await register.run(invoke(["model": "cancer", "artifact": "models/cancer"])).outputs["version"] == "2")
        #expect(try await register.run(invoke(["model": "cancer", "artifact": "models/cancer"])).outputs["version"] == "3")

        let deploy = DeployAction(executable: executable, dataDir: scratch.dataDir)
        let deployed = try await deploy.run(invoke(["endpoint": "cancer-api", "variant": "stable", "model": "cancer@production", "builtin": "true"]))
        #expect(deployed.outputs["variant"] == "stable")

        let rollout = RolloutAction(executable: executable, dataDir: scratch.dataDir)
        try scratch.write(Self.rollout(name: "cancer-v2", version: 2, steps: ["- setWeight: 50", "- setWeight: 100"]), to: "rollout.yml", in: ws)
        let healthy = try await rollout.run(invoke(["file": "rollout.yml", "wait": "true", "poll-seconds": "0.5"]))
        #expect(healthy.outputs["name"] == "cancer-v2" && healthy.outputs["phase"] == "Healthy")

        try scratch.write(
            Self.rollout(name: "cancer-v3", version: 3, steps: ["- setWeight: 20", "- pause: {}", "- setWeight: 100"]), to: "paused.yml", in: ws)
        let pausedInvocation = invoke(["file": "paused.yml", "wait": "true", "poll-seconds": "0.5"])
        let waiting = Task { await actionError(rollout, pausedInvocation) }
        var aborted = false
        let deadline = Date().addingTimeInterval(60)
        while !aborted, Date() < deadline {
            try await Task.sleep(for: .milliseconds(300))
            let outcome = try await SlipwayCLI(executable: executable, dataDir: scratch.dataDir).run(
                ["rollout", "abort", "cancer-v3", "--reason", "test abort", "--json"], invocation: invoke([:]), action: "test")
            aborted = outcome.status == 0
        }
        #expect(aborted)
        let error = await waiting.value
        #expect(error?.contains("rollout cancer-v3 ended Degraded") == true, "\(error ?? "no error")")
    }

    static func rollout(name: String, version: Int, steps: [String]) -> String {
        """
        apiVersion: slipway.dev/v1alpha1
        kind: Rollout
        metadata:
          name: \(name)
        spec:
          endpoint: cancer-api
          stable: stable
          candidate:
            model: cancer
            version: \(version)
            backend: builtin
            variant: canary\(version)
          strategy:
            canary:
              steps:
        \(steps.map { "        " + $0 }.joined(separator: "\n"))

        """
    }
}
