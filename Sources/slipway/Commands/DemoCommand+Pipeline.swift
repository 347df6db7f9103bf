import Foundation
import SlipwayCore
import SlipwayPipeline

/// The pipeline part of the demo: the ML workflow of examples/pipeline runs locally with GitHub's
/// semantics (needs, outputs, conditions, a protected environment with bob as reviewer, a secret
/// that only the approved job sees, masked), then runs again with nothing changed and restores its
/// cached jobs.
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
        var remote: RunnerSummary
    }

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
        let executable = RunCommand.executable()
        var environment = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_DATA_DIR", "SLIPWAY_CONFIG"] { environment[key] = nil }
        environment["PATH"] = executable.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        var outlines: [PipelineSummary.RunOutline] = []
        var promotionLog: String?
        for attempt in 1...2 {
            var configuration = RunConfiguration(
                project: project, dataDir: projectData, event: "push", secrets: try secrets.values(), verbose: false,
                actions: .slipway(executable: executable, dataDir: projectData),
                hooks: [ApprovalHook(dataDir: projectData, pollInterval: .milliseconds(50)), try JobCacheHook(dataDir: projectData)],
                baseEnvironment: environment, actor: "alice")
            configuration.environmentSecrets = { name in
                let repository = try secrets.values()
                return try secrets.values(environment: name).filter { repository[$0.key] != $0.value }
            }
            let started = ContinuousClock.now
            let record = try await WorkflowExecution(workflow: workflow, configuration: configuration, store: FileRunStore(dataDir: projectData)).run()
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let outline = PipelineSummary.RunOutline(
                id: record.id, conclusion: record.conclusion?.rawValue ?? "unknown", seconds: seconds,
                jobs: Dictionary(record.jobs.map { ($0.key, $0.conclusion?.rawValue ?? "-") }, uniquingKeysWith: { $1 }),
                cached: record.jobs.filter(\.cached).map(\.key))
            outlines.append(outline)
            if attempt == 1 { promotionLog = record.job("production")?.steps.first?.log }
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
        let remote = try await runnerStory(project: project, projectData: projectData, dataURL: dataURL, environment: environment)
        say("Try it yourself: cd \(project.path) && swift run slipway runs list")
        return PipelineSummary(project: project.path, runs: outlines, remote: remote)
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
