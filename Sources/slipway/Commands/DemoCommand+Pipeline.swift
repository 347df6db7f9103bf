import Foundation
import SlipwayCore
import SlipwayModels
import SlipwayPipeline

#if canImport(Glibc)
    import Glibc
#endif

/// The pipeline part of the demo: the ML workflow of examples/pipeline runs locally with GitHub's
/// semantics (needs, outputs, conditions, a protected environment with bob as reviewer, a secret
/// that only the approved job sees, masked), then runs again with nothing changed and restores its
/// cached jobs. A `slipway server` child serves the project's data folder for the run: the pipeline
/// deploys the new version to a staging endpoint, smoke-tests it through the gateway, and canaries it
/// to production against the model that served there before.
extension DemoCommand {
    struct PipelineSummary: Encodable {
        struct RunOutline: Encodable {
            var id: String
            var conclusion: String
            var seconds: Double
            var jobs: [String: String]
            var cached: [String]
        }
        var project: String
        var runs: [RunOutline]
        var delivery: PipelineDelivery
        var remote: RunnerSummary
    }

    /// What the first run delivered, read back from the server after it.
    struct PipelineDelivery: Encodable {
        struct Staging: Encodable {
            var endpoint: String
            var model: String?
            var predictions: Int
            var correct: Int
        }
        struct Canary: Encodable {
            var name: String
            var phase: String
            var seconds: Double?
            var steps: [String]
        }
        /// The control plane and gateway of the `slipway server` child.
        var server: String
        var gateway: String
        /// The version in production before the pipeline ran (served by endpoint cancer-classifier).
        var baseline: Int
        var staging: Staging
        var canary: Canary?
        /// The version the `production` alias names after the run.
        var production: Int?
        /// The weights of endpoint cancer-classifier after the run.
        var productionWeights: [String: Double]
        /// The server's exit status once stopped (0: a clean stop).
        var serverExitStatus: Int32?
    }

    /// The registered model of the example pipeline.
    static let pipelineModel = "cancer-classifier"

    func pipelineStory(dataURL: URL, examples: URL) async throws -> PipelineSummary {
        say("\n== Pipeline: examples/pipeline/.github/workflows/ml-pipeline.yml, run locally")
        let files = FileManager.default
        let project = dataURL.appendingPathComponent("pipeline-project")
        try? files.removeItem(at: project)
        try files.copyItem(at: examples.appendingPathComponent("pipeline"), to: project)
        try files.createDirectory(at: project.appendingPathComponent("data"), withIntermediateDirectories: true)
        for name in ["train.csv", "test.csv", "data_schema.json"] {
            try files.copyItem(
                at: examples.appendingPathComponent("data/breast-cancer/\(name)"), to: project.appendingPathComponent("data/\(name)"))
        }
        try Self.git(["init", "-q", "-b", "main"], in: project)
        try Self.git(["add", "-A"], in: project)
        try Self.git(["-c", "user.name=alice", "-c", "user.email=alice@example.com", "commit", "-qm", "ML pipeline"], in: project)

        let projectData = project.appendingPathComponent(".slipway")
        let executable = RunCommand.executable()
        var environment = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_DATA_DIR", "SLIPWAY_CONFIG"] { environment[key] = nil }
        environment["PATH"] = executable.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")

        // The deploy jobs need a server: its gateway serves the endpoints and its controller runs the canary.
        let server = try await Self.startServer(
            dataDir: projectData, folder: dataURL.appendingPathComponent("pipeline-server"), executable: executable, environment: environment)
        var serverExitStatus: Int32?
        defer { if serverExitStatus == nil { server.stop() } }
        say("slipway server --data-dir \(projectData.path): API \(server.api), gateway \(server.gateway); the pipeline's slipway commands find it in .slipway/server.json")
        try Data("GATEWAY_URL: \"\(server.gateway)\"\n".utf8).write(to: projectData.appendingPathComponent("vars.yml"))
        say("vars.GATEWAY_URL (.slipway/vars.yml) tells the smoke test where the gateway is")
        let baseline = try await seedProduction(
            projectData: projectData, dataURL: dataURL, examples: examples, executable: executable, environment: environment)

        try EnvironmentStore(dataDir: projectData).save(DeploymentEnvironment(name: "production", reviewers: ["bob"], preventSelfReview: true))
        let secrets = try SecretStore.open(dataDir: projectData, environment: [:])
        try secrets.set("REGISTRY_TOKEN", value: "demo-registry-token-\(UUID().uuidString.prefix(8))", environment: "production")
        say("slipway env create production --reviewers bob --prevent-self-review; the production environment holds the secret REGISTRY_TOKEN")

        // bob answers every approval request as it comes.
        let book = ApprovalBook(dataDir: projectData)
        let approver = Task {
            while !Task.isCancelled {
                for request in (try? book.pending()) ?? [] {
                    _ = try? book.decide(run: request.run, environment: request.environment, reviewer: "bob", approve: true, comment: "metrics reviewed")
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { approver.cancel() }

        let catalog = WorkflowCatalog.load(project: project)
        guard let entry = catalog.find("ml-pipeline", project: project), let workflow = entry.workflow else {
            throw GenericError(.invalidArgument, "examples/pipeline has no readable ml-pipeline workflow: \(catalog.find("ml-pipeline", project: project)?.errors?.description ?? "missing")")
        }
        var outlines: [PipelineSummary.RunOutline] = []
        var promotionLog: String?
        var firstRun: RunRecord?
        for attempt in 1...2 {
            let configuration = try RunConfiguration.standard(
                project: project, dataDir: projectData, event: "push", secretStore: secrets, executable: executable, environment: environment,
                approvalPollInterval: .milliseconds(50), actor: "alice")
            let started = ContinuousClock.now
            let record = try await WorkflowExecution(workflow: workflow, configuration: configuration, store: FileRunStore(dataDir: projectData)).run()
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let outline = PipelineSummary.RunOutline(
                id: record.id, conclusion: record.conclusion?.rawValue ?? "unknown", seconds: seconds,
                jobs: Dictionary(record.jobs.map { ($0.key, $0.conclusion?.rawValue ?? "-") }, uniquingKeysWith: { $1 }),
                cached: record.jobs.filter(\.cached).map(\.key))
            outlines.append(outline)
            if attempt == 1 {
                firstRun = record
                promotionLog = record.job("production")?.steps.first { $0.name == "Promote" }?.log
            }
            say(
                attempt == 1
                    ? "slipway run ml-pipeline (run \(record.id)): \(outline.conclusion) in \(String(format: "%.1f", seconds)) s"
                    : "slipway run ml-pipeline again, nothing changed (run \(record.id)): \(outline.conclusion) in \(String(format: "%.1f", seconds)) s")
            if !json {
                Output.table(
                    ["JOB", "RESULT", "DETAIL"],
                    record.jobs.map { job in
                        var detail = job.cached ? "restored from the cache" : ""
                        if let environment = job.environment, job.conclusion == .success { detail = "environment \(environment), approved by bob" }
                        if let version = job.outputs["version"] { detail = "version \(version)" }
                        if let answered = job.outputs["answered"], !answered.isEmpty { detail = "\(answered) predictions through the gateway, well-formed" }
                        if let phase = job.outputs["phase"], !phase.isEmpty { detail += ", canary \(phase)" }
                        if let deploy = job.outputs["should_deploy"] { detail = "should_deploy=\(deploy)" }
                        if let accuracy = job.outputs["accuracy"] { detail += (detail.isEmpty ? "" : ", ") + "accuracy \(accuracy.prefix(6))" }
                        return ["  " + job.key, job.conclusion?.rawValue ?? "-", detail]
                    })
            }
            guard record.conclusion == .success else {
                throw GenericError(.internal, "the example pipeline's run \(record.id) ended \(outline.conclusion); see slipway runs show \(record.id) in \(project.path)")
            }
        }
        let promoted = promotionLog.flatMap { try? FileRunStore(dataDir: projectData).log(run: outlines[0].id, path: $0) } ?? ""
        if let line = promoted.split(separator: "\n").first(where: { $0.contains("registry token") }) {
            say("The production job's log (the environment's secret is masked): \(line.trimmingCharacters(in: .whitespaces))")
        }
        var delivery = try await deliveryOutline(
            run: firstRun, server: server, baseline: baseline, projectData: projectData, executable: executable, environment: environment)
        let status = server.stop()
        serverExitStatus = status
        delivery.serverExitStatus = status
        say(status == 0 ? "slipway server stopped cleanly (its model servers with it)" : "slipway server stopped with exit status \(status)")

        let remote = try await runnerStory(project: project, projectData: projectData, secrets: secrets, dataURL: dataURL, environment: environment)
        say("Try it yourself: cd \(project.path) && swift run slipway runs list")
        return PipelineSummary(project: project.path, runs: outlines, delivery: delivery, remote: remote)
    }

    /// Puts a first model in production before the pipeline runs, the way a team starts: an early gradient-boosted
    /// model with three trees, registered, behind the `production` alias and served by endpoint cancer-classifier
    /// (variant v1). The pipeline's candidate has to beat it and then goes through a canary against it.
    /// - Returns: the version it registered.
    func seedProduction(projectData: URL, dataURL: URL, examples: URL, executable: URL, environment: [String: String]) async throws -> Int {
        let data = examples.appendingPathComponent("data/breast-cancer")
        let train = try LabeledData.load(csv: data.appendingPathComponent("train.csv"), target: "target")
        let test = try LabeledData.load(csv: data.appendingPathComponent("test.csv"), target: "target", encoding: train.encoding)
        let model = try ModelTrainer.train(.gbdt, on: train, parameters: ["max_iter": "3"])
        let accuracy = try model.evaluate(test).accuracy
        let dir = dataURL.appendingPathComponent("models/cancer-classifier-early")
        try? FileManager.default.removeItem(at: dir)
        try model.save(to: dir)
        let name = Self.pipelineModel
        func slipway(_ arguments: [String]) async throws -> [String: Any] {
            try await Self.slipwayJSON(executable, arguments, dataDir: projectData, environment: environment)
        }
        _ = try await slipway(["models", "create", name, "--description", "Breast cancer (Wisconsin) diagnosis, delivered by examples/pipeline"])
        let created = try await slipway([
            "versions", "create", name, "--artifact", dir.path, "--metric", "accuracy=\(accuracy)", "--param", "algorithm=gbdt", "--param", "max_iter=3",
        ])
        guard let version = created["version"] as? Int else { throw GenericError(.internal, "slipway versions create returned no version number") }
        _ = try await slipway(["alias", "set", name, "production", String(version), "--reason", "the first model in production"])
        _ = try await slipway(["endpoints", "create", name, "--variant", "v\(version)"])
        _ = try await slipway(["deploy", name, "--variant", "v\(version)", "--model", "\(name)@\(version)", "--builtin"])
        say(
            String(format: "in production before the pipeline: %@@%d (gbdt, 3 trees, held-out accuracy %.3f), ", name, version, accuracy)
                + "served by endpoint \(name) as variant v\(version)")
        return version
    }

    /// Reads back what the first run delivered (staging endpoint, canary, production alias) and prints it as a table.
    func deliveryOutline(
        run: RunRecord?, server: ServerChild, baseline: Int, projectData: URL, executable: URL, environment: [String: String]
    ) async throws -> PipelineDelivery {
        let name = Self.pipelineModel
        func slipway(_ arguments: [String]) async throws -> [String: Any] {
            try await Self.slipwayJSON(executable, arguments, dataDir: projectData, environment: environment)
        }
        func deployments(_ shown: [String: Any]) -> [[String: Any]] {
            ((shown["endpoint"] as? [String: Any])?["deployments"] as? [[String: Any]]) ?? []
        }
        let smoke = run?.job("smoke-test")?.outputs ?? [:]
        let stagingShown = try await slipway(["endpoints", "show", "cancer-staging"])
        let stagingModel = deployments(stagingShown).first { $0["variant"] as? String == "stable" }.flatMap { deployment -> String? in
            guard let model = deployment["model"] as? String, let version = deployment["version"] as? Int else { return nil }
            return "\(model)@\(version)"
        }
        let staging = PipelineDelivery.Staging(
            endpoint: "cancer-staging", model: stagingModel, predictions: Int(smoke["answered"] ?? "") ?? 0, correct: Int(smoke["correct"] ?? "") ?? 0)

        var canary: PipelineDelivery.Canary?
        let production = run?.job("production")?.outputs ?? [:]
        if let rollout = production["rollout"], !rollout.isEmpty {
            let history = try await Self.slipwayJSONArray(executable, ["rollout", "history", rollout], dataDir: projectData, environment: environment)
            let parser = ISO8601DateFormatter()
            parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let times = history.compactMap { ($0["at"] as? String).flatMap(parser.date(from:)) }
            let steps = history.compactMap { entry -> String? in
                guard let action = entry["action"] as? String, ["rollout.step", "rollout.complete"].contains(action) else { return nil }
                return entry["reason"] as? String
            }
            canary = PipelineDelivery.Canary(
                name: rollout, phase: production["phase"] ?? "unknown",
                seconds: times.first.flatMap { first in times.last.map { $0.timeIntervalSince(first) } }, steps: steps)
        }
        let alias = try? await slipway(["alias", "get", name, "production"])
        let productionVersion = alias?["version"] as? Int
        let shown = try await slipway(["endpoints", "show", name])
        let weights = ((shown["weights"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
        let delivery = PipelineDelivery(
            server: server.api, gateway: server.gateway, baseline: baseline, staging: staging, canary: canary, production: productionVersion,
            productionWeights: weights, serverExitStatus: nil)
        say("\nWhat the first run delivered (read back from the server):")
        if !json {
            let weightText = weights.sorted { $0.key < $1.key }.map { "\($0.key)=\(EndpointsCommand.number($0.value))%" }.joined(separator: " ")
            var rows = [
                [
                    "  staging", "endpoint cancer-staging serves \(stagingModel ?? "nothing")",
                    "\(staging.predictions) predictions through the gateway, all well-formed, \(staging.correct) correct",
                ]
            ]
            if let canary {
                // "candidate weight 20%" and "pause of 2s over" read as "20%" and "pause 2s".
                let schedule = canary.steps.compactMap { step -> String? in
                    if step.hasPrefix("candidate weight ") { return String(step.dropFirst("candidate weight ".count)) }
                    if step.hasPrefix("pause of "), step.hasSuffix(" over") { return "pause " + step.dropFirst("pause of ".count).dropLast(" over".count) }
                    return nil
                }
                rows.append([
                    "  canary", "\(canary.name): \(canary.phase)" + (canary.seconds.map { String(format: " in %.1f s", $0) } ?? ""),
                    schedule.joined(separator: " -> "),
                ])
            }
            rows.append([
                "  production", "\(name)@production: \(baseline) -> \(productionVersion.map(String.init) ?? "none")",
                "endpoint \(name): \(weightText.isEmpty ? "no traffic" : weightText)",
            ])
            Output.table(["STAGE", "STATE", "DETAIL"], rows)
        }
        return delivery
    }

    /// Runs `slipway ARGUMENTS --json` on the data folder `dataDir` (so it finds the server announced there) and parses
    /// its JSON document.
    /// - Throws: the command's own error message when it fails.
    static func slipwayJSON(_ executable: URL, _ arguments: [String], dataDir: URL, environment: [String: String]) async throws -> [String: Any] {
        let output = try await slipwayOutput(executable, arguments, dataDir: dataDir, environment: environment)
        guard let object = (try? JSONSerialization.jsonObject(with: output)) as? [String: Any] else {
            throw GenericError(.internal, "slipway \(arguments.prefix(2).joined(separator: " ")) printed no JSON object")
        }
        return object
    }

    /// Like ``slipwayJSON(_:_:dataDir:environment:)`` for a command that prints a JSON array.
    static func slipwayJSONArray(_ executable: URL, _ arguments: [String], dataDir: URL, environment: [String: String]) async throws
        -> [[String: Any]]
    {
        let output = try await slipwayOutput(executable, arguments, dataDir: dataDir, environment: environment)
        guard let array = (try? JSONSerialization.jsonObject(with: output)) as? [[String: Any]] else {
            throw GenericError(.internal, "slipway \(arguments.prefix(2).joined(separator: " ")) printed no JSON array")
        }
        return array
    }

    /// Runs `slipway ARGUMENTS --json` as a child process and returns its standard output.
    static func slipwayOutput(_ executable: URL, _ arguments: [String], dataDir: URL, environment: [String: String]) async throws -> Data {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let stdout = folder.appendingPathComponent("stdout")
        let stderr = folder.appendingPathComponent("stderr")
        var childEnvironment = environment
        childEnvironment["SLIPWAY_DATA_DIR"] = dataDir.path
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + ["--json"]
        process.environment = childEnvironment
        process.currentDirectoryURL = folder
        process.standardInput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let out = try FileHandle(forWritingTo: stdout)
        let err = try FileHandle(forWritingTo: stderr)
        defer {
            try? out.close()
            try? err.close()
        }
        process.standardOutput = out
        process.standardError = err
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        }
        let output = (try? Data(contentsOf: stdout)) ?? Data()
        guard status == 0 else {
            let document = (try? JSONSerialization.jsonObject(with: output)) as? [String: Any]
            let message = ((document?["error"] as? [String: Any])?["message"] as? String)
                ?? String(decoding: (try? Data(contentsOf: stderr)) ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw GenericError(.internal, "slipway \(arguments.prefix(2).joined(separator: " ")) failed: \(message)")
        }
        return output
    }

    static func git(_ arguments: [String], in folder: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw GenericError(.unavailable, "git \(arguments.first ?? "") failed in \(folder.path); is git installed?") }
    }
}
