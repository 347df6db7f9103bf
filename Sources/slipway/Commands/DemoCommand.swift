import ArgumentParser
import SlipwayClient
import Foundation
import Logging
import SlipwayCore
import SlipwayRegistry
import SlipwayServer
import SlipwayStore

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Walk a model through its life cycle on a fresh embedded store and print what happened.",
        discussion: """
            Alice registers two versions of a churn model with their lineage (from examples/registry), Bob \
            approves them, the policy refuses what it must, aliases move, and the history answers what served when. \
            The breast-cancer data in examples/data is tracked (content-addressed cache and .slipway pointers), the \
            held-out split is validated against its schema and for drift against the training split, and the training \
            split is registered as a dataset that the models' lineage names. \
            Then two built-in models are trained on it, deployed as supervised \
            built-in model servers behind the gateway with a sticky 90/10 split that grows to 50/50, judged with a \
            two-proportion test; every answer lands in the prediction log and the true diagnoses come back as feedback. \
            Last, the rollout controller runs two canaries while patients keep arriving: a retrained model goes 20% -> 50% \
            -> 100% through the default analysis and takes the production alias; a model trained on flipped diagnoses \
            is caught by the prediction-drift check and rolled back to 0%, and production stays where it was. A shadow test \
            mirrors every request to the gradient-boosted model and reports agreement, latency, errors and drift at its \
            gate, where bob stops it; a blue-green rollout switches all traffic to a retrained model in one change. \
            Finally the ML pipeline of examples/pipeline runs as a GitHub Actions workflow: checks, data validation, \
            training, evaluation, comparison with production, registration, a deployment to staging smoke-tested \
            through the gateway of a `slipway server` child, and a canary to production behind the production \
            environment's approval (bob approves; its secret reaches only that job, masked); run again with nothing \
            changed, its cached jobs are restored and nothing is deployed.
            """
    )
    @Option(name: .long, help: "The data folder to use (default: a new temporary folder).") var dataDir: String?
    @Option(name: .long, help: "The examples folder (default: ./examples).") var examples: String = "examples"
    @Flag(name: .long, help: "Print one JSON summary instead of the story.") var json = false

    func run() async throws {
        try await Output.run(json: json) { try await story() }
    }

    func say(_ text: String) { if !json { Output.line(text) } }

    private func story() async throws {
        let folder = URL(fileURLWithPath: examples).appendingPathComponent("registry")
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw GenericError(.invalidArgument, "examples folder \(folder.path) not found; run the demo from the Slipway checkout or pass --examples")
        }
        let dataURL = dataDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("slipway-demo-\(UUID().uuidString.prefix(8))")
        var config = try SlipwayConfiguration.load()
        config.dataDir = dataURL
        config.policy = RegistryPolicy(
            stages: ["None", "Staging", "Production", "Archived"], immutableTags: ["v[0-9]*"],
            transitions: [StageRule(to: "Production", from: ["Staging"], approvals: 1, conditions: ["metrics.accuracy >= 0.9"])])
        var logger = Logger(label: "slipway.demo")
        // The story says what happens; the rollout controller's warning when it rolls a canary back would repeat it.
        logger.logLevel = .error
        let services = try SlipwayServices.open(config, logger: logger)
        let registry = services.registry
        let alice = Principal(name: "alice", role: .editor)
        let bob = Principal(name: "bob", role: .approver)
        let model = "churn-classifier"

        say("== Slipway demo: a model's life cycle (data in \(dataURL.path))")
        say("Policy: None -> Staging -> Production -> Archived; Production needs an approval by someone other than the registrant, comes from Staging, and needs metrics.accuracy >= 0.9.\n")

        _ = try await registry.createModel(
            NewModel(name: model, description: "Predicts which customers will cancel next month.", tags: ["team": "growth"]), by: alice)
        say("alice registered model \(model).")

        var versions: [ModelVersion] = []
        for n in 1...2 {
            let artifact = try await services.artifacts.putDirectory(at: folder.appendingPathComponent("model-v\(n)")).object
            var lineage = try LineageFile.load(folder.appendingPathComponent("lineage-v\(n).yml").path)
            lineage.environment = lineage.environment ?? LineageProbe.environment()
            let version = try await registry.createVersion(
                NewVersion(model: model, source: "examples/registry/model-v\(n)", lineage: lineage, artifactDigest: artifact.digest), by: alice)
            versions.append(version)
            say("alice registered \(version.reference): artifact \(artifact.digest.short) (\(version.artifactSize ?? 0) bytes), git \(lineage.git?.commit.prefix(7) ?? "-"), data \(lineage.trainingData.first?.digest?.short ?? "-"), accuracy \(lineage.metrics["accuracy"].map { String($0) } ?? "-")")
        }

        _ = try await registry.transitionStage(model, 1, to: "Staging", by: alice)
        try await registry.setAlias(model, alias: "staging", version: 1, reason: "first candidate", by: alice)
        _ = try await registry.approve(model, 1, stage: "Production", comment: "offline metrics reviewed", by: bob)
        _ = try await registry.transitionStage(model, 1, to: "Production", by: alice)
        try await registry.setAlias(model, alias: "production", version: 1, reason: "initial launch", by: bob)
        try await registry.setVersionTag(model, 1, key: "v1.0.0", value: "release", by: alice)
        try await registry.setAlias(model, alias: "v1.0.0", version: 1, reason: "release tag", by: alice)
        say("v1 went Staging -> Production with bob's approval; aliases staging and production point at it; release tag v1.0.0 set.")
        let servedV1Until = Timestamp.now()
        try await Task.sleep(for: .milliseconds(20))

        _ = try await registry.transitionStage(model, 2, to: "Staging", by: alice)
        try await registry.setAlias(model, alias: "staging", version: 2, reason: "retrained on Q3 data", by: alice)
        var refusals: [String] = []
        do {
            _ = try await registry.transitionStage(model, 2, to: "Production", by: alice)
        } catch let error as any SlipwayError {
            refusals.append(error.message)
            say("refused: \(error.message)")
        }
        do {
            _ = try await registry.approve(model, 2, stage: "Production", comment: nil, by: Principal(name: "alice", role: .approver))
        } catch let error as any SlipwayError {
            refusals.append(error.message)
            say("refused: \(error.message)")
        }
        _ = try await registry.approve(model, 2, stage: "Production", comment: "A/B guardrails fine", by: bob)
        _ = try await registry.transitionStage(model, 2, to: "Production", archiveExisting: true, by: alice)
        try await registry.setAlias(model, alias: "production", version: 2, reason: "v2 beats v1 on recall", by: bob)
        say("bob approved v2; it moved to Production and v1 was archived; production -> 2.")
        do {
            try await registry.setAlias(model, alias: "v1.0.0", version: 2, reason: nil, by: alice)
        } catch let error as any SlipwayError {
            refusals.append(error.message)
            say("refused: \(error.message)")
        }
        do {
            try await registry.deleteVersion(model, 2, by: alice)
        } catch let error as any SlipwayError {
            refusals.append(error.message)
            say("refused: \(error.message)")
        }

        let found = try await registry.searchVersions(
            filter: "name = '\(model)' AND metrics.accuracy >= 0.93 AND params.max_depth = '6'", orderBy: ["version_number DESC"], by: alice)
        say("\nsearch \"metrics.accuracy >= 0.93 AND params.max_depth = '6'\": \(found.items.map(\.reference).joined(separator: ", "))")

        let history = try await registry.aliasHistory(model, alias: "production", by: alice)
        say("\nHistory of \(model)@production:")
        if !json { AliasCommand.printHistory(history) }
        let servedThen = try await registry.alias(model, alias: "production", at: servedV1Until, by: alice)
        let servedNow = try await registry.alias(model, alias: "production", by: alice).version
        say("\nWhat served when: at \(Output.date(servedV1Until)) production was version \(servedThen.map(String.init) ?? "none"); now it is \(servedNow).")

        let downloaded = dataURL.appendingPathComponent("download-v2")
        let v2 = try await registry.version(model, 2, by: alice)
        try await services.artifacts.materialize(v2.artifactDigest!, to: downloaded)
        say("Downloaded \(v2.reference) and verified it against \(v2.artifactDigest!.short).")
        say("\nLineage of \(v2.reference):")
        if !json { VersionsCommand.describe(v2) }

        let audit = try await registry.audit(model: model, limit: 100, by: alice)
        say("\nThe audit log holds \(audit.count) changes to \(model); the last five:")
        if !json {
            Output.table(
                ["WHEN", "WHO", "ACTION", "VERSION"],
                audit.prefix(5).map { [Output.date($0.at), $0.actor, $0.action, $0.version.map(String.init) ?? "-"] })
        }
        let examplesURL = URL(fileURLWithPath: examples)
        let (delivery, rollouts) = try await deliveryStory(services: services, dataURL: dataURL, examples: examplesURL, logger: logger)
        let pipeline = try await pipelineStory(dataURL: dataURL, examples: examplesURL)

        say("\nTry it yourself: swift run slipway versions show \(model) production --data-dir \(dataURL.path)")

        if json {
            struct Summary: Encodable {
                var dataDir: String
                var model: String
                var versions: [ModelVersion]
                var productionHistory: [AliasEvent]
                var servedAt: [String: Int?]
                var refusals: [String]
                var auditEvents: Int
                var delivery: DeliverySummary
                var rollouts: [RolloutSummary]
                var pipeline: PipelineSummary
            }
            Output.json(
                Summary(
                    dataDir: dataURL.path, model: model, versions: [try await registry.version(model, 1, by: alice), v2],
                    productionHistory: history, servedAt: [Output.date(servedV1Until): servedThen, "now": servedNow], refusals: refusals,
                    auditEvents: audit.count, delivery: delivery, rollouts: rollouts, pipeline: pipeline))
        }
    }
}
