import Foundation
import SlipwayCore
import SlipwayData
import SlipwayRegistry
import SlipwayServer

/// The data half of the demo: the breast-cancer files are tracked in a project folder (pointers, cache,
/// .gitignore), the held-out set is validated against the schema and against the training set as the
/// reference, and the training set is registered as a dataset that the models' lineage names.
extension DemoCommand {
    struct DataSummary: Encodable {
        var tracked: [String: String]
        var checks: Int
        var failedChecks: Int
        var driftedColumns: Int
        var driftShare: Double
        var dataset: Dataset
    }

    func dataStory(services: SlipwayServices, dataURL: URL, examples: URL) async throws -> (summary: DataSummary, training: DatasetReference) {
        let alice = Principal(name: "alice", role: .editor)
        let source = examples.appendingPathComponent("data/breast-cancer")
        say("\n== Data: track, validate and register the training data")
        let project = dataURL.appendingPathComponent("project")
        let files = FileManager.default
        try files.createDirectory(at: project.appendingPathComponent(".slipway"), withIntermediateDirectories: true)
        try files.createDirectory(at: project.appendingPathComponent("data"), withIntermediateDirectories: true)
        for name in ["train.csv", "test.csv"] {
            let target = project.appendingPathComponent("data/\(name)")
            if !files.fileExists(atPath: target.path) { try files.copyItem(at: source.appendingPathComponent(name), to: target) }
        }
        let workspace = try DataWorkspace(root: project.path)
        let added = try workspace.add(["data/train.csv", "data/test.csv"], from: project.path)
        var tracked: [String: String] = [:]
        for entry in added.paths {
            tracked[entry.path] = entry.pointer.digest.description
            say("slipway data add \(entry.path): \(entry.pointer.size) bytes, \(entry.pointer.digest.short) -> \(entry.pointerFile) (commit it; the data is in .slipway/cache and .gitignore)")
        }

        let schemaURL = source.appendingPathComponent("data_schema.json")
        let schema = try DataSchema.load(from: schemaURL)
        let report = try DataValidator().validate(
            data: project.appendingPathComponent("data/test.csv"), schema: schema, reference: project.appendingPathComponent("data/train.csv"))
        let drift = report.drift
        say(
            "slipway data validate --schema data_schema.json --data data/test.csv --reference data/train.csv: \(report.summary.passed) of \(report.summary.checks) checks passed, \(report.summary.failed) failed; "
                + "\(drift.map { "\($0.driftedColumns) of \($0.columns) columns drifted (dataset drift: \($0.datasetDrift ? "yes" : "no"))" } ?? "no drift checks")")
        guard report.summary.success else {
            throw GenericError(.failedPrecondition, "the demo's held-out data failed validation: \(report.failedChecks.map(\.message).prefix(3).joined(separator: "; "))")
        }

        let draft = try workspace.newDataset("data/train.csv", description: "Breast cancer (Wisconsin) diagnostic, training split", from: project.path)
        let (dataset, _) = try await services.registry.registerDataset(draft, by: alice)
        say("registered dataset \(dataset.name) \(dataset.digest.short): \(dataset.rows.map(String.init) ?? "?") rows, \(dataset.columns.count) columns (\(dataset.columns.prefix(3).map { "\($0.name): \($0.type)" }.joined(separator: ", ")), …)")
        let summary = DataSummary(
            tracked: tracked, checks: report.summary.checks, failedChecks: report.summary.failed, driftedColumns: drift?.driftedColumns ?? 0,
            driftShare: drift?.driftShare ?? 0, dataset: dataset)
        return (summary, dataset.reference)
    }
}
