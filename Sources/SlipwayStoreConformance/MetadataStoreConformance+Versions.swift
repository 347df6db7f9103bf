import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

extension MetadataStoreConformance {
    /// Every field of a new version, its whole lineage included, reads back as written.
    public static func versionRoundTrip(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris")
        let lineage = Lineage(
            modelId: "flowers-classifier",
            git: GitInfo(
                commit: "0123456789abcdef0123456789abcdef01234567", repository: "https://example.com/iris.git", branch: "main", dirty: false),
            trainingData: [
                DatasetReference(uri: "s3://data/iris.csv", digest: digestB, rows: 150, dateFrom: "2026-01-01", dateTo: "2026-06-30")
            ],
            parameters: ["max_depth": "5", "criterion": "gini"],
            metrics: ["accuracy": 0.953, "f1": 0.94],
            environment: EnvironmentInfo(
                os: "Linux", architecture: "x86_64", language: "python", languageVersion: "3.11.7", libraries: ["scikit-learn": "1.5.2"],
                cuda: "12.4", hostname: "trainer-1"
            ),
            containerImage: "registry.example.com/iris@sha256:\(digestA.hex)",
            trainedBy: "carol",
            extras: ["notes": "baseline"]
        )
        let new = NewVersion(
            model: "iris", source: "runs:/abc/model", runId: "abc", description: "first", tags: ["team": "vision"], lineage: lineage,
            status: .ready, artifactDigest: digestA, artifactSize: 1234
        )
        let created = try await store.createVersion(new, actor: alice)
        #expect(created.model == "iris")
        #expect(created.version == 1)
        #expect(created.reference == "iris@1")
        #expect(created.status == .ready)
        #expect(created.statusMessage == nil)
        #expect(created.stage == "None")
        #expect(created.artifactDigest == digestA)
        #expect(created.artifactSize == 1234)
        #expect(created.source == "runs:/abc/model")
        #expect(created.runId == "abc")
        #expect(created.description == "first")
        #expect(created.tags == ["team": "vision"])
        #expect(created.lineage == lineage)
        #expect(created.aliases.isEmpty)
        #expect(created.createdBy == alice)
        #expect(created.createdAt == created.updatedAt)

        let read = try #require(try await store.version(model: "iris", version: 1))
        #expect(read == created)
        #expect(try await store.version(model: "iris", version: 2) == nil)
        #expect(try await store.version(model: "nope", version: 1) == nil)

        let pending = try await store.createVersion(NewVersion(model: "iris"), actor: bob)
        #expect(pending.status == .pending)
        #expect(pending.artifactDigest == nil)
        #expect(pending.artifactSize == nil)
        #expect(pending.runId == nil)
        #expect(pending.lineage == Lineage())
        #expect(pending.createdBy == bob)

        let model = try #require(try await store.model(named: "iris"))
        #expect(model.latestVersion == 2)

        await expectError(.notFound, containing: ["nope"]) {
            _ = try await store.createVersion(NewVersion(model: "nope"), actor: alice)
        }
        let updated = try await store.updateVersion(model: "iris", version: 1, description: "the baseline", actor: bob)
        #expect(updated.description == "the baseline")
        #expect(updated.artifactDigest == digestA)
        #expect(updated.updatedAt >= created.updatedAt)
        await expectError(.notFound) {
            _ = try await store.updateVersion(model: "iris", version: 9, description: "", actor: bob)
        }
    }

    /// Versions are numbered 1, 2, 3… per model, and a deleted number is never given out again.
    public static func versionNumbersAreNeverReused(_ store: any MetadataStore) async throws {
        let versions = try await seed(store, model: "iris", versions: 3)
        #expect(versions.map(\.version) == [1, 2, 3])
        try await seed(store, model: "wine", versions: 1)

        try await store.deleteVersion(model: "iris", version: 3, actor: alice)
        #expect(try await store.createVersion(NewVersion(model: "iris"), actor: alice).version == 4)
        try await store.deleteVersion(model: "iris", version: 1, actor: alice)
        try await store.deleteVersion(model: "iris", version: 4, actor: alice)
        #expect(try await store.model(named: "iris")?.latestVersion == 2)
        #expect(try await store.createVersion(NewVersion(model: "iris"), actor: alice).version == 5)
        #expect(try await store.model(named: "iris")?.latestVersion == 5)
        #expect(try await store.createVersion(NewVersion(model: "wine"), actor: alice).version == 2)
        #expect(try await store.version(model: "iris", version: 1) == nil)
        #expect(try await store.version(model: "iris", version: 2) != nil)
        await expectError(.notFound, containing: ["iris@1"]) {
            try await store.deleteVersion(model: "iris", version: 1, actor: alice)
        }
    }

    /// Versions registered at the same time get distinct, consecutive numbers.
    public static func concurrentVersionsGetDistinctNumbers(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris")
        let numbers = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await store.createVersion(NewVersion(model: "iris", description: "writer \(index)"), actor: "writer-\(index)").version
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(numbers.sorted() == Array(1...20))
        #expect(try await store.model(named: "iris")?.latestVersion == 20)
        let audit = try await store.auditEvents(model: "iris", limit: 100, beforeId: nil)
        #expect(Set(audit.filter { $0.action == "version.create" }.compactMap(\.version)) == Set(1...20))
    }

    /// `finishVersion` moves PENDING to READY or FAILED, and nothing else.
    public static func finishVersionOnlyFromPending(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 2)
        let ready = try await store.finishVersion(model: "iris", version: 1, outcome: .ready(digest: digestA, size: 99), actor: bob)
        #expect(ready.status == .ready)
        #expect(ready.artifactDigest == digestA)
        #expect(ready.artifactSize == 99)
        #expect(ready.statusMessage == nil)
        #expect(try await store.version(model: "iris", version: 1)?.status == .ready)

        let failed = try await store.finishVersion(model: "iris", version: 2, outcome: .failed(message: "upload interrupted"), actor: bob)
        #expect(failed.status == .failed)
        #expect(failed.statusMessage == "upload interrupted")
        #expect(failed.artifactDigest == nil)

        await expectError(.failedPrecondition, containing: ["iris@2"]) {
            _ = try await store.finishVersion(model: "iris", version: 2, outcome: .ready(digest: digestB, size: 1), actor: bob)
        }
        #expect(try await store.version(model: "iris", version: 2)?.status == .failed)
        await expectError(.notFound) {
            _ = try await store.finishVersion(model: "iris", version: 7, outcome: .ready(digest: digestB, size: 1), actor: bob)
        }
    }

    /// A READY version keeps its artifact forever; a READY registration needs a digest or an external source.
    public static func readyVersionsAreImmutable(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris")
        let created = try await store.createVersion(ready("iris"), actor: alice)
        await expectError(.failedPrecondition, containing: ["iris@1", "READY"]) {
            _ = try await store.finishVersion(model: "iris", version: 1, outcome: .ready(digest: digestB, size: 7), actor: bob)
        }
        await expectError(.failedPrecondition, containing: ["iris@1"]) {
            _ = try await store.finishVersion(model: "iris", version: 1, outcome: .failed(message: "no"), actor: bob)
        }
        let read = try #require(try await store.version(model: "iris", version: 1))
        #expect(read.artifactDigest == digestA)
        #expect(read.artifactSize == 42)
        #expect(read.status == .ready)
        #expect(read.updatedAt == created.updatedAt)

        await expectError(.invalidArgument) {
            _ = try await store.createVersion(NewVersion(model: "iris", status: .ready), actor: alice)
        }
        #expect(try await store.model(named: "iris")?.latestVersion == 1)
        let external = try await store.createVersion(NewVersion(model: "iris", source: "s3://bucket/iris", status: .ready), actor: alice)
        #expect(external.status == .ready && external.artifactDigest == nil && external.source == "s3://bucket/iris")
    }

    /// Stage transitions are compare-and-set; `archiveOthers` moves the other versions in the stage out of it.
    public static func stageCompareAndSet(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 3)
        let staged = try await store.transitionStage(
            model: "iris", version: 1, expected: "None", stage: "Staging", archiveOthers: false, archiveStage: "Archived", actor: alice
        )
        #expect(staged.stage == "Staging")
        await expectError(.failedPrecondition, containing: ["iris@1", "Staging"]) {
            _ = try await store.transitionStage(
                model: "iris", version: 1, expected: "None", stage: "Production", archiveOthers: false, archiveStage: "Archived", actor: alice
            )
        }
        #expect(try await store.version(model: "iris", version: 1)?.stage == "Staging")

        _ = try await store.transitionStage(
            model: "iris", version: 1, expected: "Staging", stage: "Production", archiveOthers: false, archiveStage: "Archived", actor: alice
        )
        _ = try await store.transitionStage(
            model: "iris", version: 2, expected: "None", stage: "Production", archiveOthers: false, archiveStage: "Archived", actor: alice
        )
        #expect(try await store.version(model: "iris", version: 1)?.stage == "Production")
        #expect(try await store.version(model: "iris", version: 2)?.stage == "Production")

        let promoted = try await store.transitionStage(
            model: "iris", version: 3, expected: "None", stage: "Production", archiveOthers: true, archiveStage: "Archived", actor: bob
        )
        #expect(promoted.stage == "Production")
        #expect(try await store.version(model: "iris", version: 1)?.stage == "Archived")
        #expect(try await store.version(model: "iris", version: 2)?.stage == "Archived")
        #expect(try await store.version(model: "iris", version: 3)?.stage == "Production")

        let audit = try await store.auditEvents(model: "iris", limit: 100, beforeId: nil)
        let transitions = audit.filter { $0.action == "stage.transition" }
        #expect(transitions.count >= 4)
        let last = try decode(ModelVersion.self, audit.first { $0.action == "stage.transition" && $0.version == 3 }?.after)
        #expect(last.stage == "Production")

        await expectError(.notFound) {
            _ = try await store.transitionStage(
                model: "iris", version: 9, expected: "None", stage: "Staging", archiveOthers: false, archiveStage: "Archived", actor: bob
            )
        }
    }

    /// Of several transitions racing from the same expected stage, exactly one wins.
    public static func concurrentStageTransitionsHaveOneWinner(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 1)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<10 {
                group.addTask {
                    do {
                        _ = try await store.transitionStage(
                            model: "iris", version: 1, expected: "None", stage: index % 2 == 0 ? "Staging" : "Production", archiveOthers: false,
                            archiveStage: "Archived", actor: "racer-\(index)"
                        )
                        return true
                    } catch let error as any SlipwayError {
                        #expect(error.kind == .failedPrecondition, "\(error.message)")
                        return false
                    } catch {
                        Issue.record("unexpected error \(error)")
                        return false
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
        let audit = try await store.auditEvents(model: "iris", limit: 100, beforeId: nil)
        #expect(audit.filter { $0.action == "stage.transition" }.count == 1)
        let stage = try #require(try await store.version(model: "iris", version: 1)?.stage)
        #expect(["Staging", "Production"].contains(stage))
    }

    /// Version tags are set, replaced and deleted.
    public static func versionTags(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 1)
        try await store.setVersionTag(model: "iris", version: 1, key: "validated", value: "false", immutable: false, actor: alice)
        try await store.setVersionTag(model: "iris", version: 1, key: "validated", value: "true", immutable: false, actor: alice)
        try await store.setVersionTag(model: "iris", version: 1, key: "owner", value: "alice", immutable: false, actor: alice)
        #expect(try await store.version(model: "iris", version: 1)?.tags == ["validated": "true", "owner": "alice"])
        try await store.deleteVersionTag(model: "iris", version: 1, key: "owner", immutable: false, actor: alice)
        #expect(try await store.version(model: "iris", version: 1)?.tags == ["validated": "true"])
        await expectError(.notFound, containing: ["owner"]) {
            try await store.deleteVersionTag(model: "iris", version: 1, key: "owner", immutable: false, actor: alice)
        }
        await expectError(.notFound) {
            try await store.setVersionTag(model: "iris", version: 2, key: "a", value: "b", immutable: false, actor: alice)
        }
        await expectError(.notFound) {
            try await store.setVersionTag(model: "nope", version: 1, key: "a", value: "b", immutable: false, actor: alice)
        }
    }

    /// An immutable tag is set once: the same value again is a no-op, another value or a deletion fails.
    public static func immutableTags(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 1)
        try await store.setVersionTag(model: "iris", version: 1, key: "release", value: "v2.1.0", immutable: true, actor: alice)
        let eventsBefore = try await store.auditEvents(model: "iris", limit: 100, beforeId: nil).count
        try await store.setVersionTag(model: "iris", version: 1, key: "release", value: "v2.1.0", immutable: true, actor: alice)
        #expect(try await store.auditEvents(model: "iris", limit: 100, beforeId: nil).count == eventsBefore)
        await expectError(.failedPrecondition, containing: ["release", "v2.1.0"]) {
            try await store.setVersionTag(model: "iris", version: 1, key: "release", value: "v2.2.0", immutable: true, actor: bob)
        }
        await expectError(.failedPrecondition, containing: ["release"]) {
            try await store.deleteVersionTag(model: "iris", version: 1, key: "release", immutable: true, actor: bob)
        }
        #expect(try await store.version(model: "iris", version: 1)?.tags == ["release": "v2.1.0"])
        #expect(try await store.auditEvents(model: "iris", limit: 100, beforeId: nil).count == eventsBefore)
    }
}
