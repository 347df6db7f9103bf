import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayStoreSQLite
import Testing

/// `latestVersionsPerStage`: MLflow's "latest versions" for many models at once.
@Suite struct LatestVersionsTests {
    @Test("the newest version in each stage of each model, lowest version first, in one call")
    func newestPerStage() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-latest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteMetadataStore(path: folder.appendingPathComponent("metadata.sqlite").path)

        // churn: 1 Archived, 2 Production, 3 Staging, 4 Staging, 5…1,204 None; the Archived one is far older than the newest 1,000.
        _ = try await store.createModel(NewModel(name: "churn"), actor: "alice")
        _ = try await store.createVersions(
            model: "churn", (1...1_204).map { NewVersion(model: "churn", source: "s3://bucket/churn/\($0)", tags: ["n": "\($0)"], status: .ready) }, actor: "alice")
        for (version, stage) in [(1, "Archived"), (2, "Production"), (3, "Staging"), (4, "Staging")] {
            _ = try await store.transitionStage(
                model: "churn", version: version, expected: "None", stage: stage, archiveOthers: false, archiveStage: "Archived", actor: "alice")
        }
        _ = try await store.setAlias(model: "churn", alias: "champion", version: 2, immutable: false, reason: nil, actor: "alice")
        // fraud: one version; empty: none; "it's": a name that needs quoting.
        _ = try await store.createModel(NewModel(name: "fraud"), actor: "alice")
        _ = try await store.createVersion(NewVersion(model: "fraud", lineage: Lineage(metrics: ["auc": 0.8])), actor: "alice")
        _ = try await store.createModel(NewModel(name: "empty"), actor: "alice")
        _ = try await store.createModel(NewModel(name: "it's"), actor: "alice")
        _ = try await store.createVersion(NewVersion(model: "it's"), actor: "alice")

        let latest = try await store.latestVersionsPerStage(models: ["churn", "fraud", "empty", "it's", "nope", "churn", "a\u{0}b"])
        #expect(Set(latest.keys) == ["churn", "fraud", "it's"])
        let churn = try #require(latest["churn"])
        #expect(churn.map(\.version) == [1, 2, 4, 1_204])
        #expect(churn.map(\.stage) == ["Archived", "Production", "Staging", "None"])
        #expect(churn[1].aliases == ["champion"])
        #expect(churn[3].tags == ["n": "1204"])
        #expect(latest["fraud"]?.map(\.version) == [1])
        #expect(latest["fraud"]?.first?.lineage.metrics == ["auc": 0.8])
        #expect(latest["it's"]?.map(\.version) == [1])

        // The same versions as reading each one alone (apart from the lineage details filled on a single read).
        for version in churn {
            let alone = try #require(try await store.version(model: "churn", version: version.version))
            #expect(alone.stage == version.stage && alone.tags == version.tags && alone.aliases == version.aliases)
        }
        #expect(try await store.latestVersionsPerStage(models: []).isEmpty)
        #expect(try await store.latestVersionsPerStage(models: ["nope"]).isEmpty)
    }
}
