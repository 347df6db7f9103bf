import Foundation
import Logging
import Testing

import SlipwayCore
@testable import SlipwayRegistry
import SlipwayStore
import SlipwayStoreSQLite

/// A registry on a real SQLite file and a real artifact folder in a fresh temporary directory.
struct Fixture {
    let root: URL
    let registry: Registry
    let tokens: AccessTokens

    static let alice = Principal(name: "alice", role: .editor)
    static let bob = Principal(name: "bob", role: .approver)
    static let viewer = Principal(name: "victor", role: .viewer)
    static let admin = Principal(name: "root", role: .admin)

    init(policy: RegistryPolicy = .default) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let store = try SQLiteMetadataStore(path: root.appendingPathComponent("metadata.sqlite").path)
        let artifacts = try LocalArtifactStore(root: root.appendingPathComponent("artifacts"))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        registry = Registry(store: store, artifacts: artifacts, policy: policy, logger: logger)
        tokens = AccessTokens(store: store)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: root) }

    /// A model with `count` READY versions registered by alice, each with an artifact.
    func model(_ name: String = "churn", versions count: Int, accuracy: [Double] = []) async throws {
        _ = try await registry.createModel(NewModel(name: name, tags: ["team": "growth"]), by: Self.alice)
        for n in 1...max(count, 1) where count > 0 {
            let object = try await registry.artifacts.putData(Data("weights \(name) \(n)".utf8))
            var lineage = Lineage()
            lineage.metrics["accuracy"] = n <= accuracy.count ? accuracy[n - 1] : 0.95
            lineage.parameters["depth"] = String(n + 4)
            _ = try await registry.createVersion(
                NewVersion(model: name, lineage: lineage, artifactDigest: object.digest), by: Self.alice)
        }
    }
}

func expectError(_ kind: ErrorKind, containing text: String = "", _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected a \(kind) error")
    } catch let error as any SlipwayError {
        #expect(error.kind == kind, "\(error.message)")
        if !text.isEmpty { #expect(error.message.contains(text), "\(error.message)") }
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Suite struct RegistryTests {
    @Test func createAndReadModelsAndVersions() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        try await f.model(versions: 2)
        let model = try await f.registry.model("churn", by: Fixture.viewer)
        #expect(model.latestVersion == 2)
        #expect(model.tags == ["team": "growth"])
        let v2 = try await f.registry.resolve("churn", "latest", by: Fixture.viewer)
        #expect(v2.version == 2 && v2.status == .ready && v2.stage == "None")
        #expect(v2.artifactDigest == Digest(of: Data("weights churn 2".utf8)))
        #expect(v2.artifactSize == Int64("weights churn 2".utf8.count))
        #expect(v2.source == "slipway-artifacts:/\(v2.artifactDigest!)")
        #expect(try await f.registry.resolve("churn", "v1", by: Fixture.viewer).version == 1)
    }

    @Test func rolesAreEnforced() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        await expectError(.permissionDenied, containing: "editor") {
            _ = try await f.registry.createModel(NewModel(name: "m"), by: Fixture.viewer)
        }
        try await f.model(versions: 1)
        await expectError(.permissionDenied, containing: "admin") { try await f.registry.deleteModel("churn", by: Fixture.alice) }
        await expectError(.permissionDenied, containing: "approver") {
            _ = try await f.registry.approve("churn", 1, stage: "Production", comment: nil, by: Fixture.alice)
        }
        #expect(try await f.registry.audit(model: "churn", by: Fixture.viewer).allSatisfy { $0.actor == "alice" })
    }

    @Test func invalidInputChangesNothing() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        await expectError(.invalidArgument) { _ = try await f.registry.createModel(NewModel(name: "bad name"), by: Fixture.alice) }
        await expectError(.invalidArgument) {
            _ = try await f.registry.createModel(NewModel(name: "ok", tags: ["": "x"]), by: Fixture.alice)
        }
        #expect(try await f.registry.searchModels(filter: "", by: Fixture.viewer).items.isEmpty)
        try await f.model(versions: 0)
        await expectError(.alreadyExists) { _ = try await f.registry.createModel(NewModel(name: "churn"), by: Fixture.alice) }
        let missing = Digest(of: Data("never stored".utf8))
        await expectError(.failedPrecondition, containing: "upload it first") {
            _ = try await f.registry.createVersion(NewVersion(model: "churn", artifactDigest: missing), by: Fixture.alice)
        }
        await expectError(.invalidArgument, containing: "finite") {
            var lineage = Lineage()
            lineage.metrics["auc"] = .nan
            _ = try await f.registry.createVersion(NewVersion(model: "churn", source: "s3://x", lineage: lineage), by: Fixture.alice)
        }
        await expectError(.notFound) { _ = try await f.registry.createVersion(NewVersion(model: "nope", source: "x"), by: Fixture.alice) }
        #expect(try await f.registry.model("churn", by: Fixture.viewer).latestVersion == nil)
        await expectError(.invalidArgument, containing: "invalid search") {
            _ = try await f.registry.searchVersions(filter: "name = 'x' OR name = 'y'", by: Fixture.viewer)
        }
        await expectError(.invalidArgument) { _ = try await f.registry.searchVersions(filter: "", limit: 0, by: Fixture.viewer) }
        await expectError(.invalidArgument, containing: "models have no metrics") {
            _ = try await f.registry.searchModels(filter: "metrics.acc > 1", by: Fixture.viewer)
        }
    }

    @Test func productionNeedsAnotherApprover() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        try await f.model(versions: 1)
        await expectError(.failedPrecondition, containing: "must come from Staging") {
            _ = try await f.registry.transitionStage("churn", 1, to: "Production", by: Fixture.alice)
        }
        _ = try await f.registry.transitionStage("churn", 1, to: "staging", by: Fixture.alice)
        #expect(try await f.registry.version("churn", 1, by: Fixture.viewer).stage == "Staging")
        await expectError(.failedPrecondition, containing: "needs 1 approval") {
            _ = try await f.registry.transitionStage("churn", 1, to: "Production", by: Fixture.alice)
        }
        // The registrant cannot approve their own version, whatever their role.
        await expectError(.failedPrecondition, containing: "cannot approve") {
            _ = try await f.registry.approve("churn", 1, stage: "Production", comment: nil, by: Principal(name: "alice", role: .admin))
        }
        // An approval for another stage does not count.
        _ = try await f.registry.approve("churn", 1, stage: "Staging", comment: nil, by: Fixture.bob)
        await expectError(.failedPrecondition) { _ = try await f.registry.transitionStage("churn", 1, to: "Production", by: Fixture.alice) }
        let approved = try await f.registry.approve("churn", 1, stage: "Production", comment: "ok", by: Fixture.bob)
        #expect(approved.lineage.approvedBy.contains("bob"))
        let moved = try await f.registry.transitionStage("churn", 1, to: "Production", by: Fixture.alice)
        #expect(moved.stage == "Production")
        await expectError(.invalidArgument, containing: "unknown stage") {
            _ = try await f.registry.transitionStage("churn", 1, to: "Canary", by: Fixture.alice)
        }
        let actions = try await f.registry.audit(model: "churn", by: Fixture.viewer).map(\.action)
        #expect(actions.filter { $0 == "stage.transition" }.count == 2)
    }

    @Test func metricConditionsGateStages() async throws {
        let policy = RegistryPolicy(
            stages: ["None", "Staging", "Production", "Archived"], immutableTags: [],
            transitions: [StageRule(to: "Staging", conditions: ["metrics.accuracy >= 0.9", "params.depth IN ('5', '6')"])])
        let f = try Fixture(policy: policy)
        defer { f.cleanUp() }
        try await f.model(versions: 3, accuracy: [0.85, 0.93, 0.97])
        await expectError(.failedPrecondition, containing: "metrics.accuracy >= 0.9") {
            _ = try await f.registry.transitionStage("churn", 1, to: "Staging", by: Fixture.alice)
        }
        _ = try await f.registry.transitionStage("churn", 2, to: "Staging", by: Fixture.alice)
        await expectError(.failedPrecondition, containing: "params.depth") {
            _ = try await f.registry.transitionStage("churn", 3, to: "Staging", by: Fixture.alice)
        }
        #expect(try await f.registry.version("churn", 3, by: Fixture.viewer).stage == "None")
    }

    @Test func archiveExistingMovesOthers() async throws {
        let f = try Fixture(policy: RegistryPolicy(stages: ["None", "Staging", "Production", "Archived"], immutableTags: [], transitions: []))
        defer { f.cleanUp() }
        try await f.model(versions: 2)
        _ = try await f.registry.transitionStage("churn", 1, to: "Production", by: Fixture.alice)
        _ = try await f.registry.transitionStage("churn", 2, to: "Production", archiveExisting: true, by: Fixture.alice)
        #expect(try await f.registry.version("churn", 1, by: Fixture.viewer).stage == "Archived")
        #expect(try await f.registry.version("churn", 2, by: Fixture.viewer).stage == "Production")
    }

    @Test func aliasesKeepHistoryAndAnswerWhatServedWhen() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        try await f.model(versions: 3)
        let first = try await f.registry.setAlias("churn", alias: "production", version: 1, reason: "launch", by: Fixture.alice)
        #expect(first.fromVersion == nil && first.toVersion == 1 && first.actor == "alice" && first.reason == "launch")
        let between = Timestamp.date(millis: Timestamp.millis(first.at) + 1)
        try await waitPast(between)
        let second = try await f.registry.setAlias("churn", alias: "production", version: 3, reason: "better recall", by: Fixture.bob)
        #expect(second.fromVersion == 1 && second.toVersion == 3)
        #expect(try await f.registry.alias("churn", alias: "production", by: Fixture.viewer).version == 3)
        #expect(try await f.registry.alias("churn", alias: "production", at: between, by: Fixture.viewer) == 1)
        #expect(try await f.registry.alias("churn", alias: "production", at: Date(timeIntervalSince1970: 0), by: Fixture.viewer) == nil)
        let removed = try await f.registry.deleteAlias("churn", alias: "production", reason: "rollback drill", by: Fixture.alice)
        #expect(removed.fromVersion == 3 && removed.toVersion == nil)
        await expectError(.notFound) { _ = try await f.registry.alias("churn", alias: "production", by: Fixture.viewer) }
        let history = try await f.registry.aliasHistory("churn", alias: "production", by: Fixture.viewer)
        #expect(history.map(\.toVersion) == [1, 3, nil])
        #expect(history.map(\.actor) == ["alice", "bob", "alice"])
        await expectError(.invalidArgument) { try await f.registry.setAlias("churn", alias: "42", version: 1, reason: nil, by: Fixture.alice) }
        await expectError(.notFound) { try await f.registry.setAlias("churn", alias: "x", version: 99, reason: nil, by: Fixture.alice) }
    }

    @Test func releaseTagsAreImmutable() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        try await f.model(versions: 2)
        try await f.registry.setAlias("churn", alias: "v2.1.0", version: 1, reason: nil, by: Fixture.alice)
        try await f.registry.setAlias("churn", alias: "v2.1.0", version: 1, reason: nil, by: Fixture.alice)
        await expectError(.failedPrecondition, containing: "immutable") {
            try await f.registry.setAlias("churn", alias: "v2.1.0", version: 2, reason: nil, by: Fixture.alice)
        }
        await expectError(.failedPrecondition) { _ = try await f.registry.deleteAlias("churn", alias: "v2.1.0", reason: nil, by: Fixture.alice) }
        try await f.registry.setVersionTag("churn", 1, key: "v2.1.0", value: "release", by: Fixture.alice)
        await expectError(.failedPrecondition) { try await f.registry.setVersionTag("churn", 1, key: "v2.1.0", value: "other", by: Fixture.alice) }
        await expectError(.failedPrecondition) { try await f.registry.deleteVersionTag("churn", 1, key: "v2.1.0", by: Fixture.alice) }
        try await f.registry.setVersionTag("churn", 1, key: "note", value: "a", by: Fixture.alice)
        try await f.registry.setVersionTag("churn", 1, key: "note", value: "b", by: Fixture.alice)
        #expect(try await f.registry.version("churn", 1, by: Fixture.viewer).tags == ["v2.1.0": "release", "note": "b"])
    }

    @Test func referencedVersionsCannotBeDeleted() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        try await f.model(versions: 2)
        try await f.registry.setAlias("churn", alias: "champion", version: 2, reason: nil, by: Fixture.alice)
        await expectError(.failedPrecondition, containing: "champion") { try await f.registry.deleteVersion("churn", 2, by: Fixture.alice) }
        await expectError(.failedPrecondition) { try await f.registry.deleteModel("churn", by: Fixture.admin) }
        try await f.registry.deleteVersion("churn", 1, by: Fixture.alice)
        await expectError(.notFound) { _ = try await f.registry.version("churn", 1, by: Fixture.viewer) }
        _ = try await f.registry.deleteAlias("churn", alias: "champion", reason: nil, by: Fixture.alice)
        try await f.registry.deleteModel("churn", by: Fixture.admin)
        await expectError(.notFound) { _ = try await f.registry.model("churn", by: Fixture.viewer) }
    }

    @Test func searchWithTheFilterLanguage() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        try await f.model("churn", versions: 3, accuracy: [0.8, 0.9, 0.95])
        try await f.model("fraud", versions: 1, accuracy: [0.99])
        let viewer = Fixture.viewer
        func refs(_ filter: String, _ order: [String] = ["name ASC", "version_number ASC"]) async throws -> [String] {
            try await f.registry.searchVersions(filter: filter, orderBy: order, by: viewer).items.map(\.reference)
        }
        #expect(try await refs("metrics.accuracy >= 0.9") == ["churn@2", "churn@3", "fraud@1"])
        #expect(try await refs("name = 'churn' AND params.depth = '6'") == ["churn@2"])
        #expect(try await refs("name LIKE 'fr%'") == ["fraud@1"])
        #expect(try await refs("name LIKE 'FR%'") == [])
        #expect(try await refs("name ILIKE 'FR%'") == ["fraud@1"])
        #expect(try await refs("name IN ('fraud', 'nope')") == ["fraud@1"])
        #expect(try await refs("name != 'churn'") == ["fraud@1"])
        #expect(try await refs("", ["metrics.accuracy DESC"]) == ["fraud@1", "churn@3", "churn@2", "churn@1"])
        let models = try await f.registry.searchModels(filter: "tags.team = 'growth'", orderBy: ["name DESC"], by: viewer)
        #expect(models.items.map(\.name) == ["fraud", "churn"])
        var seen: [String] = []
        var token: String?
        repeat {
            let page = try await f.registry.searchVersions(filter: "", orderBy: ["version_number ASC", "name ASC"], limit: 3, pageToken: token, by: viewer)
            seen += page.items.map(\.reference)
            token = page.nextPageToken
        } while token != nil
        #expect(Set(seen).count == 4 && seen.count == 4)
    }

    @Test func tokensStoreOnlyHashes() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let admin = try #require(try await f.tokens.bootstrapAdmin())
        #expect(try await f.tokens.bootstrapAdmin() == nil)
        #expect(admin.token.hasPrefix("slw_") && admin.role == .admin)
        let principal = try #require(try await f.tokens.authenticate(secret: admin.token))
        #expect(principal.role == .admin)
        let editor = try await f.tokens.create(name: "ci", role: .editor, by: principal)
        #expect(try await f.tokens.authenticate(secret: editor.token) == Principal(name: "ci", role: .editor))
        #expect(try await f.tokens.authenticate(secret: editor.token + "x") == nil)
        #expect(try await f.tokens.authenticate(secret: "") == nil)
        await expectError(.permissionDenied) { _ = try await f.tokens.create(name: "x", role: .admin, by: Principal(name: "ci", role: .editor)) }
        let listed = try await f.tokens.list(by: principal)
        #expect(listed.count == 2 && listed.allSatisfy { $0.secretHash.isEmpty })
        try await f.tokens.revoke(id: editor.id, by: principal)
        #expect(try await f.tokens.authenticate(secret: editor.token) == nil)
        // The database file never contains a secret.
        let bytes = try Data(contentsOf: f.root.appendingPathComponent("metadata.sqlite"))
        #expect(bytes.range(of: Data(admin.token.utf8)) == nil)
    }

    @Test func everyChangeIsAudited() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        try await f.model(versions: 1)
        _ = try await f.registry.updateModel("churn", description: "new", by: Fixture.alice)
        try await f.registry.setModelTag("churn", key: "k", value: "v", by: Fixture.alice)
        try await f.registry.setAlias("churn", alias: "staging", version: 1, reason: nil, by: Fixture.alice)
        let events = try await f.registry.audit(model: "churn", by: Fixture.viewer)
        let update = try #require(events.first { $0.action == "model.update" })
        #expect(update.before?.contains("\"description\":\"\"") == true)
        #expect(update.after?.contains("\"description\":\"new\"") == true)
        #expect(events.map(\.id) == events.map(\.id).sorted(by: >))
        #expect(Set(events.map(\.action)).isSuperset(of: ["model.create", "version.create", "model.update", "alias.set"]))
    }

    /// Polls until the clock has passed an instant (no fixed sleeps).
    func waitPast(_ instant: Date) async throws {
        let deadline = Date().addingTimeInterval(5)
        while Timestamp.now() <= instant && Date() < deadline { try await Task.sleep(for: .milliseconds(1)) }
    }
}

@Suite struct PolicyTests {
    @Test(arguments: [
        ("v[0-9]*", "v2.1.0", true), ("v[0-9]*", "version", false), ("v[0-9]*", "v", false), ("*", "", true),
        ("release-?", "release-1", true), ("release-?", "release-10", false), ("[!a]x", "bx", true), ("[!a]x", "ax", false),
        ("a[", "a[", true), ("*-prod", "eu-prod", true), ("*-prod", "eu-prod-2", false),
    ])
    func globs(_ pattern: String, _ text: String, _ expected: Bool) {
        #expect(Glob.matches(pattern: pattern, text) == expected)
    }

    @Test func validatesPolicies() throws {
        try RegistryPolicy.default.validate()
        #expect(throws: RegistryError.self) { try RegistryPolicy(stages: [], immutableTags: [], transitions: []).validate() }
        #expect(throws: RegistryError.self) {
            try RegistryPolicy(stages: ["A", "a"], immutableTags: [], transitions: []).validate()
        }
        #expect(throws: RegistryError.self) {
            try RegistryPolicy(stages: ["A"], immutableTags: [], transitions: [StageRule(to: "B")]).validate()
        }
        #expect(throws: RegistryError.self) {
            try RegistryPolicy(stages: ["A"], immutableTags: [], transitions: [StageRule(to: "A", conditions: ["metrics.x >"])]).validate()
        }
    }

    @Test(arguments: [("abc", "a%", true), ("abc", "a_c", true), ("abc", "A%", false), ("", "%", true), ("abc", "%d", false), ("a%c", "a%", true)])
    func likeMatching(_ text: String, _ pattern: String, _ expected: Bool) {
        #expect(SearchClause.like(text, pattern, caseInsensitive: false) == expected)
    }
}
