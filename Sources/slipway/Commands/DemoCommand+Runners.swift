import Foundation
import SlipwayCore
import SlipwayPipeline

#if canImport(Glibc)
    import Glibc
#endif

/// The remote-runner part of the demo: a control plane (`slipway server`) and a runner labelled `gpu`
/// (`slipway runner --labels gpu --ephemeral`) as real processes; the example's gpu-train workflow
/// trains on the runner and validates and evaluates here, the model crossing as an artifact.
extension DemoCommand {
    struct RunnerSummary: Encodable {
        var run: String
        var conclusion: String
        /// Each job and the runner it ran on.
        var runners: [String: String]
        var accuracy: String?
    }

    /// Runs the gpu-train workflow with a remote runner; `secrets` is the project's secret store (as the pipeline part opened it).
    func runnerStory(
        project: URL, projectData: URL, secrets: SecretStore, dataURL: URL, environment: [String: String]
    ) async throws -> RunnerSummary {
        say("\n== Remote runners: the train job of gpu-train needs a runner labelled gpu")
        let executable = RunCommand.executable()
        let serverData = dataURL.appendingPathComponent("runner-server")
        let runnerHome = dataURL.appendingPathComponent("runner-home")
        for folder in [serverData, runnerHome] {
            try? FileManager.default.removeItem(at: folder)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        let server = try await Self.startServer(
            dataDir: serverData.appendingPathComponent("data"), folder: serverData, executable: executable, environment: environment)
        defer { server.stop() }
        let url = server.api
        let token = server.adminToken
        say("slipway server: the control plane at \(url)")
        var runnerEnvironment = environment
        runnerEnvironment["SLIPWAY_TOKEN"] = token
        let runnerOut = runnerHome.appendingPathComponent("runner.out")
        let runner = try Self.child(
            executable, ["runner", "--server", url, "--labels", "gpu,cuda12", "--name", "gpu-runner", "--ephemeral"], in: runnerHome,
            environment: runnerEnvironment, output: runnerOut)
        defer {
            if runner.isRunning { kill(runner.processIdentifier, SIGTERM) }
            runner.waitUntilExit()
        }
        say("slipway runner --server \(url) --labels gpu,cuda12 --name gpu-runner --ephemeral")

        let catalog = WorkflowCatalog.load(project: project)
        guard let workflow = catalog.find("gpu-train", project: project)?.workflow else {
            throw GenericError(.invalidArgument, "examples/pipeline has no readable gpu-train workflow")
        }
        // As `slipway run gpu-train --server URL` assembles it: the job labelled gpu goes to the server's runners.
        let plane = try ControlPlane(baseURL: url, token: token)
        let configuration = try RunConfiguration.standard(
            project: project, dataDir: projectData, event: "workflow_dispatch", inputs: ["algorithm": "logistic"], secretStore: secrets,
            executable: executable, environment: environment, dispatcher: ServerJobDispatcher(plane: plane, project: project, dataDir: projectData),
            actor: "alice")
        let record = try await WorkflowExecution(workflow: workflow, configuration: configuration, store: FileRunStore(dataDir: projectData)).run()
        let runners = Dictionary(record.jobs.map { ($0.key, $0.runner ?? "-") }, uniquingKeysWith: { $1 })
        say("slipway run gpu-train --server \(url) --event workflow_dispatch (run \(record.id)): \(record.conclusion?.rawValue ?? "unknown")")
        if !json {
            Output.table(
                ["JOB", "RESULT", "RUNNER"],
                record.jobs.map { ["  " + $0.key, $0.conclusion?.rawValue ?? "-", $0.runner ?? "-"] })
        }
        guard record.conclusion == .success else {
            let log = (try? String(contentsOf: runnerOut, encoding: .utf8)) ?? ""
            throw GenericError(.internal, "the gpu-train run \(record.id) ended \(record.conclusion?.rawValue ?? "unknown"); the runner said:\n\(log.suffix(2000))")
        }
        // The ephemeral runner leaves after its one job.
        let exitDeadline = Date().addingTimeInterval(20)
        while runner.isRunning && Date() < exitDeadline { try await Task.sleep(for: .milliseconds(50)) }
        say(runner.isRunning ? "The runner is still running" : "The ephemeral runner took its one job and exited")
        return RunnerSummary(
            run: record.id, conclusion: record.conclusion?.rawValue ?? "unknown", runners: runners, accuracy: record.job("evaluate")?.outputs["accuracy"])
    }

    /// A `slipway server` child process of the demo, and what it announced.
    struct ServerChild {
        /// The process.
        let process: Process
        /// The control plane's URL.
        let api: String
        /// The inference gateway's URL.
        let gateway: String
        /// The admin token the server printed on its first start.
        let adminToken: String

        /// Stops the server (SIGTERM: it stops its model servers and removes its announcement) and waits for it;
        /// one that has not exited after 60 s is killed.
        /// - Returns: the exit status, 0 for a clean stop.
        @discardableResult
        func stop() -> Int32 {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// Starts `slipway server` on `dataDir` (free ports, errors only in the log) and waits until it answers.
    ///
    /// Its ready file and output go to `folder`. The data folder must be new: the admin token is printed on the first
    /// start only.
    /// - Throws: when the process cannot start, exits, or does not answer within 60 s (the process is stopped then).
    static func startServer(dataDir: URL, folder: URL, executable: URL, environment: [String: String]) async throws -> ServerChild {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let ready = folder.appendingPathComponent("ready.json")
        try? FileManager.default.removeItem(at: ready)
        let serverOut = folder.appendingPathComponent("server.out")
        let process = try child(
            executable, ["server", "--port", "0", "--gateway-port", "0", "--data-dir", dataDir.path, "--ready-file", ready.path, "--log-level", "error"],
            in: folder, environment: environment, output: serverOut)
        var urls: [String: String]?
        let deadline = Date().addingTimeInterval(60)
        while urls == nil, Date() < deadline, process.isRunning {
            if let data = try? Data(contentsOf: ready), let object = try? JSONSerialization.jsonObject(with: data) as? [String: String] {
                urls = object
            } else {
                do { try await Task.sleep(for: .milliseconds(50)) } catch {
                    if process.isRunning { kill(process.processIdentifier, SIGTERM) }
                    process.waitUntilExit()
                    throw error
                }
            }
        }
        let text = (try? String(contentsOf: serverOut, encoding: .utf8)) ?? ""
        let token = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first(where: { $0.hasPrefix("slw_") }).map(String.init)
        guard let api = urls?["api"], let gateway = urls?["gateway"], let token else {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            process.waitUntilExit()
            throw GenericError(
                .unavailable, "the demo's slipway server on \(dataDir.path) did not start (see \(serverOut.path)): \(text.suffix(500))")
        }
        return ServerChild(process: process, api: api, gateway: gateway, adminToken: token)
    }

    /// A child `slipway` process with its output in a file.
    static func child(_ executable: URL, _ arguments: [String], in folder: URL, environment: [String: String], output: URL) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = environment
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }
}
