import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// examples/pipeline end to end: `slipway run` as a child process against a real `slipway server` on the same data
/// folder. The first release goes straight to the production endpoint; a better model then goes through the canary,
/// which moves the `production` alias; a rerun with nothing new deploys nothing.
@Suite("The example ML pipeline against a real server", .timeLimit(.minutes(4)))
struct ExamplePipelineTests {
    /// The repository's examples folder.
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples")

    /// A git repository holding the example and the breast-cancer data, as its README describes.
    static func project(in folder: URL) throws -> URL {
        let files = FileManager.default
        let project = folder.appendingPathComponent("project")
        try files.copyItem(at: examples.appendingPathComponent("pipeline"), to: project)
        try files.createDirectory(at: project.appendingPathComponent("data"), withIntermediateDirectories: true)
        for name in ["train.csv", "test.csv", "data_schema.json"] {
            try files.copyItem(at: examples.appendingPathComponent("data/breast-cancer/\(name)"), to: project.appendingPathComponent("data/\(name)"))
        }
        for arguments in [["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=alice", "-c", "user.email=a@example.com", "commit", "-qm", "ml"]] {
            let git = Process()
            git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            git.arguments = ["git"] + arguments
            git.currentDirectoryURL = project
            git.standardOutput = FileHandle.nullDevice
            git.standardError = FileHandle.nullDevice
            try git.run()
            git.waitUntilExit()
            try #require(git.terminationStatus == 0, "git \(arguments[0]) failed")
        }
        return project
    }

    /// The gateway URL from the server's ready file.
    static func gateway(of server: ServerProcess) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: server.folder.path)
        let ready = try #require(names.first { $0.hasPrefix("ready-") && $0.hasSuffix(".json") })
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: server.folder.appendingPathComponent(ready))) as? [String: String]
        return try #require(object?["gateway"])
    }

    /// Runs the pipeline as alice, approves its production job as bob, and returns the run's JSON document.
    static func run(_ project: URL, _ arguments: [String], environment: [String: String], approve: Bool) async throws -> [String: Any] {
        let run = try BackgroundCLI(
            ["run", "ml-pipeline", "--json"] + arguments, in: project, environment: environment.merging(["USER": "alice"]) { $1 })
        defer { run.signal(SIGKILL) }
        if approve {
            let id = try await waitingRun(project, environment: environment)
            let approved = try await runCLI(["approve", id, "--env", "production"], in: project, environment: environment.merging(["USER": "bob"]) { $1 })
            #expect(approved.status == 0, "\(approved.stderr)")
        }
        let status = await run.exit(within: 300)
        let log = run.stderr
        #expect(status == 0, "the run failed:\n\(log.suffix(4000))")
        let text = run.stdout
        var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
        object["log"] = log
        return object
    }

    /// The run waiting for approval, polled with a deadline.
    static func waitingRun(_ project: URL, environment: [String: String]) async throws -> String {
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            let pending = try await runCLI(["approve", "--json"], in: project, environment: environment)
            if let list = try? JSONSerialization.jsonObject(with: Data(pending.stdout.utf8)) as? [[String: Any]], let run = list.first?["run"] as? String {
                return run
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("no run asked for approval within 90 s")
    }

    static func job(_ run: [String: Any], _ name: String) -> (conclusion: String?, outputs: [String: String]) {
        let job = (run["jobs"] as? [String: [String: Any]])?[name]
        return (job?["conclusion"] as? String, job?["outputs"] as? [String: String] ?? [:])
    }

    static func json(_ arguments: [String], in project: URL, environment: [String: String]) async throws -> [String: Any] {
        let result = try await runCLI(arguments + ["--json"], in: project, environment: environment)
        try #require(result.status == 0, "slipway \(arguments.joined(separator: " ")): \(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func smoke(_ arguments: [String], in project: URL, environment: [String: String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", "scripts/smoke.sh"] + arguments
        process.currentDirectoryURL = project
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = project.appendingPathComponent(".smoke-\(UUID().uuidString.prefix(6)).out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    @Test func theFirstReleaseGoesStraightToProductionAndABetterModelThroughACanary() async throws {
        let server = try await ServerProcess(label: "example-pipeline")
        defer { server.cleanUp() }
        let project = try Self.project(in: server.folder)
        // The project's data folder is the server's: the workflow's `run:` steps use the default, ./.slipway.
        try FileManager.default.createSymbolicLink(at: project.appendingPathComponent(".slipway"), withDestinationURL: server.dataDir)
        let gateway = try Self.gateway(of: server)
        try Data("GATEWAY_URL: \"\(gateway)\"\n".utf8).write(to: server.dataDir.appendingPathComponent("vars.yml"))
        let environment: [String: String] = [:]
        #expect(try await runCLI(["env", "create", "production", "--reviewers", "bob"], in: project, environment: environment).status == 0)
        let secret = "registry-\(UUID().uuidString)"
        let stored = try await runCLI(["secret", "set", "REGISTRY_TOKEN", "--env", "production"], in: project, environment: environment, stdin: Data(secret.utf8))
        #expect(stored.status == 0, "\(stored.stderr)")

        // The first release (gbdt): nothing serves production yet, so the version goes straight to the endpoint.
        let first = try await Self.run(project, [], environment: environment, approve: true)
        #expect(first["conclusion"] as? String == "success")
        #expect(Self.job(first, "register").outputs["version"] == "1")
        #expect(Self.job(first, "smoke-test").outputs["answered"] == "10")
        #expect(Self.job(first, "production").outputs["strategy"] == "first-release")
        let log = first["log"] as? String ?? ""
        #expect(log.contains("promoting with registry token ***") && !log.contains(secret), "the secret did not reach the job masked")
        #expect(try await Self.json(["alias", "get", "cancer-classifier", "production"], in: project, environment: environment)["version"] as? Int == 1)
        let staging = try await Self.json(["endpoints", "show", "cancer-staging"], in: project, environment: environment)
        #expect(staging["weights"] as? [String: Double] == ["stable": 100])

        // Logistic regression beats it on the held-out rows: a canary against v1, which then takes production.
        let second = try await Self.run(
            project, ["--event", "workflow_dispatch", "--input", "algorithm=logistic"], environment: environment, approve: true)
        #expect(second["conclusion"] as? String == "success")
        #expect(Self.job(second, "register").outputs["version"] == "2")
        let production = Self.job(second, "production").outputs
        #expect(production["strategy"] == "canary")
        #expect(production["phase"] == "Healthy")
        let rollout = try #require(production["rollout"])
        let history = try await runCLI(["rollout", "history", rollout], in: project, environment: environment)
        #expect(history.stdout.contains("candidate weight 20%") && history.stdout.contains("candidate weight 50%"), "\(history.stdout)")
        #expect(try await Self.json(["alias", "get", "cancer-classifier", "production"], in: project, environment: environment)["version"] as? Int == 2)
        let endpoint = try await Self.json(["endpoints", "show", "cancer-classifier"], in: project, environment: environment)
        #expect(endpoint["weights"] as? [String: Double] == ["v2": 100])

        // The production endpoint answers from v2 through the gateway.
        let smokeEnvironment = ["GATEWAY_URL": gateway, "MODEL": "cancer-classifier", "SMOKE_TIMEOUT": "30"]
        let answered = try await Self.smoke(["cancer-classifier", "2", "data/test.csv", "5"], in: project, environment: smokeEnvironment)
        #expect(answered.status == 0, "\(answered.output)")
        #expect(answered.output.contains("5 predictions from cancer-classifier@2"))

        // Nothing new: the cached jobs are restored and nothing is registered or deployed.
        let third = try await Self.run(project, ["--event", "workflow_dispatch", "--input", "algorithm=logistic"], environment: environment, approve: false)
        #expect(third["conclusion"] as? String == "success")
        #expect(Self.job(third, "compare").outputs["should_deploy"] == "false")
        for name in ["register", "deploy-staging", "smoke-test", "production"] { #expect(Self.job(third, name).conclusion == "skipped", "\(name)") }
        #expect(await server.stop() == 0)
    }

    @Test func theSmokeTestRefusesBadInputAndFailsWhenNothingAnswers() async throws {
        let folder = try makeScratchFolder("example-smoke")
        defer { try? FileManager.default.removeItem(at: folder) }
        let project = try Self.project(in: folder)
        try "a,b,label\n1,2,0\n".write(to: project.appendingPathComponent("data/wrong.csv"), atomically: true, encoding: .utf8)
        // Port 9 (discard) on the loopback: nothing answers there.
        let environment = ["GATEWAY_URL": "http://127.0.0.1:9", "MODEL": "cancer-classifier", "SMOKE_TIMEOUT": "1"]
        let cases: [([String], String)] = [
            ([], "usage: smoke.sh"),
            (["cancer-staging", "1", "data/test.csv", "many"], "ROWS must be a positive number"),
            (["cancer-staging", "1", "data/missing.csv"], "cannot read data/missing.csv"),
            (["cancer-staging", "1", "data/wrong.csv"], "not 'target'"),
            (["cancer-staging", "1", "data/test.csv"], "does not answer"),
        ]
        for (arguments, message) in cases {
            let result = try await Self.smoke(arguments, in: project, environment: environment)
            #expect(result.status != 0, "smoke.sh \(arguments) succeeded")
            #expect(result.output.contains(message), "smoke.sh \(arguments): \(result.output)")
        }
        let noTimeout = try await Self.smoke(["cancer-staging", "1", "data/test.csv"], in: project, environment: environment.merging(["SMOKE_TIMEOUT": "-1"]) { $1 })
        #expect(noTimeout.status != 0 && noTimeout.output.contains("SMOKE_TIMEOUT must be a positive number"))
    }
}
