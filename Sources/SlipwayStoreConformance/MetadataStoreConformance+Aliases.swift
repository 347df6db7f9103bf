import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

extension MetadataStoreConformance {
    /// Aliases move between versions and every move lands in an append-only history with actor, reason, from and to.
    public static func aliasesAndHistory(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 3)
        let first = try await store.setAlias(
            model: "iris", alias: "production", version: 1, immutable: false, reason: "initial release", actor: alice)
        #expect(first.model == "iris")
        #expect(first.alias == "production")
        #expect(first.fromVersion == nil)
        #expect(first.toVersion == 1)
        #expect(first.actor == alice)
        #expect(first.reason == "initial release")

        _ = try await store.setAlias(model: "iris", alias: "staging", version: 2, immutable: false, reason: nil, actor: alice)
        let moved = try await store.setAlias(model: "iris", alias: "production", version: 2, immutable: false, reason: "better accuracy", actor: bob)
        #expect(moved.fromVersion == 1)
        #expect(moved.toVersion == 2)
        #expect(moved.at >= first.at)

        #expect(try await store.model(named: "iris")?.aliases == ["production": 2, "staging": 2])
        #expect(try await store.version(model: "iris", version: 2)?.aliases.sorted() == ["production", "staging"])
        #expect(try await store.version(model: "iris", version: 1)?.aliases == [])
        let searched = try await store.searchVersions(SearchQuery(filter: filter(clause(.attribute(.version), .equal, .number(2)))))
        #expect(searched.items.first?.aliases.sorted() == ["production", "staging"])

        // Pointing an alias where it already points changes nothing.
        let same = try await store.setAlias(model: "iris", alias: "production", version: 2, immutable: false, reason: "again", actor: bob)
        #expect(same.toVersion == 2)

        let deleted = try await store.deleteAlias(model: "iris", alias: "production", immutable: false, reason: "incident 42", actor: bob)
        #expect(deleted.fromVersion == 2)
        #expect(deleted.toVersion == nil)
        #expect(deleted.reason == "incident 42")
        #expect(try await store.model(named: "iris")?.aliases == ["staging": 2])

        let history = try await store.aliasHistory(model: "iris", alias: "production")
        #expect(history.map(\.fromVersion) == [nil, 1, 2])
        #expect(history.map(\.toVersion) == [1, 2, nil])
        #expect(history.map(\.actor) == [alice, bob, bob])
        #expect(history.map(\.reason) == ["initial release", "better accuracy", "incident 42"])
        #expect(history.allSatisfy { $0.model == "iris" && $0.alias == "production" })
        #expect(zip(history, history.dropFirst()).allSatisfy { $0.at <= $1.at })
        #expect(history.first == first)

        let all = try await store.aliasHistory(model: "iris", alias: nil)
        #expect(all.count == 4)
        #expect(all.map(\.alias) == ["production", "staging", "production", "production"])
        #expect(try await store.aliasHistory(model: "iris", alias: "champion").isEmpty)

        // What served when: the lineage of a single version lists its periods under each alias.
        let v1 = try #require(try await store.version(model: "iris", version: 1))
        #expect(v1.lineage.deployments.count == 1)
        #expect(v1.lineage.deployments.first?.alias == "production")
        #expect(v1.lineage.deployments.first?.from == first.at)
        #expect(v1.lineage.deployments.first?.until == moved.at)
        let v2 = try #require(try await store.version(model: "iris", version: 2))
        #expect(Set(v2.lineage.deployments.map(\.alias)) == ["production", "staging"])
        #expect(v2.lineage.deployments.first { $0.alias == "production" }?.until == deleted.at)
        #expect(v2.lineage.deployments.first { $0.alias == "staging" }?.until == nil)

        await expectError(.notFound) {
            _ = try await store.setAlias(model: "iris", alias: "production", version: 9, immutable: false, reason: nil, actor: bob)
        }
        await expectError(.notFound) {
            _ = try await store.setAlias(model: "nope", alias: "production", version: 1, immutable: false, reason: nil, actor: bob)
        }
        await expectError(.notFound, containing: ["production"]) {
            _ = try await store.deleteAlias(model: "iris", alias: "production", immutable: false, reason: nil, actor: bob)
        }
        await expectError(.notFound) {
            _ = try await store.aliasHistory(model: "nope", alias: nil)
        }
    }

    /// An immutable alias can be created and confirmed, but neither moved nor deleted.
    public static func immutableAliases(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 2)
        _ = try await store.setAlias(model: "iris", alias: "v1-frozen", version: 1, immutable: true, reason: nil, actor: alice)
        _ = try await store.setAlias(model: "iris", alias: "v1-frozen", version: 1, immutable: true, reason: nil, actor: alice)
        await expectError(.failedPrecondition, containing: ["v1-frozen"]) {
            _ = try await store.setAlias(model: "iris", alias: "v1-frozen", version: 2, immutable: true, reason: nil, actor: bob)
        }
        await expectError(.failedPrecondition, containing: ["v1-frozen"]) {
            _ = try await store.deleteAlias(model: "iris", alias: "v1-frozen", immutable: true, reason: nil, actor: bob)
        }
        #expect(try await store.model(named: "iris")?.aliases == ["v1-frozen": 1])
        #expect(try await store.aliasHistory(model: "iris", alias: "v1-frozen").count == 1)
    }

    /// A version that an alias points at cannot be deleted, nor can its model; the error names the aliases.
    public static func referentialIntegrityOnDelete(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 3)
        _ = try await store.setAlias(model: "iris", alias: "production", version: 2, immutable: false, reason: nil, actor: alice)
        _ = try await store.setAlias(model: "iris", alias: "staging", version: 2, immutable: false, reason: nil, actor: alice)
        await expectError(.failedPrecondition, containing: ["iris@2", "production", "staging"]) {
            try await store.deleteVersion(model: "iris", version: 2, actor: alice)
        }
        await expectError(.failedPrecondition, containing: ["iris", "production"]) {
            try await store.deleteModel(named: "iris", actor: alice)
        }
        #expect(try await store.version(model: "iris", version: 2) != nil)
        #expect(try await store.model(named: "iris") != nil)

        // Unreferenced versions go, with their tags, and drop out of searches.
        try await store.setVersionTag(model: "iris", version: 3, key: "k", value: "v", immutable: false, actor: alice)
        try await store.deleteVersion(model: "iris", version: 3, actor: alice)
        #expect(try await references(store, clause(.tag("k"), .equal, .string("v"))).isEmpty)

        _ = try await store.deleteAlias(model: "iris", alias: "production", immutable: false, reason: nil, actor: alice)
        await expectError(.failedPrecondition, containing: ["staging"]) {
            try await store.deleteVersion(model: "iris", version: 2, actor: alice)
        }
        _ = try await store.setAlias(model: "iris", alias: "staging", version: 1, immutable: false, reason: nil, actor: alice)
        try await store.deleteVersion(model: "iris", version: 2, actor: alice)
        _ = try await store.deleteAlias(model: "iris", alias: "staging", immutable: false, reason: nil, actor: alice)
        try await store.deleteModel(named: "iris", actor: alice)
        #expect(try await store.model(named: "iris") == nil)
        #expect(try await references(store).isEmpty)
        // The audit log outlives the model.
        let audit = try await store.auditEvents(model: "iris", limit: 100, beforeId: nil)
        #expect(audit.first?.action == "model.delete")
        #expect(audit.first?.after == nil)
        #expect(try decode(RegisteredModel.self, audit.first?.before).name == "iris")
    }

    /// Approving a version twice for the same stage records one approval; approvers show in the lineage.
    public static func approvalsAreIdempotent(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 1)
        let at = Timestamp.now()
        try await store.addApproval(Approval(model: "iris", version: 1, stage: "Production", approver: bob, comment: "looks good", at: at))
        try await store.addApproval(Approval(model: "iris", version: 1, stage: "Production", approver: bob, comment: "again", at: at))
        try await store.addApproval(Approval(model: "iris", version: 1, stage: "Production", approver: "carol", comment: nil, at: at))
        try await store.addApproval(Approval(model: "iris", version: 1, stage: "Staging", approver: bob, comment: nil, at: at))
        let approvals = try await store.approvals(model: "iris", version: 1)
        #expect(approvals.count == 3)
        #expect(approvals.first == Approval(model: "iris", version: 1, stage: "Production", approver: bob, comment: "looks good", at: at))
        #expect(approvals.map(\.approver) == [bob, "carol", bob])
        #expect(try await store.version(model: "iris", version: 1)?.lineage.approvedBy == [bob, "carol"])
        let audit = try await store.auditEvents(model: "iris", limit: 100, beforeId: nil)
        #expect(audit.filter { $0.action == "approval.add" }.count == 3)

        await expectError(.notFound) {
            try await store.addApproval(Approval(model: "iris", version: 5, stage: "Production", approver: bob, comment: nil, at: at))
        }
        await expectError(.notFound) {
            _ = try await store.approvals(model: "iris", version: 5)
        }
    }
}
