import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

extension MetadataStoreConformance {
    /// Every change leaves one audit event with its actor, action, model, version and the state before and after.
    public static func auditEventsForEveryChange(_ store: any MetadataStore) async throws {
        _ = try await store.createModel(NewModel(name: "iris"), actor: alice)
        _ = try await store.updateModel(named: "iris", description: "flowers", actor: bob)
        try await store.setModelTag(model: "iris", key: "team", value: "vision", actor: alice)
        try await store.deleteModelTag(model: "iris", key: "team", actor: alice)
        _ = try await store.createVersion(NewVersion(model: "iris"), actor: alice)
        _ = try await store.finishVersion(model: "iris", version: 1, outcome: .ready(digest: digestA, size: 1), actor: alice)
        _ = try await store.updateVersion(model: "iris", version: 1, description: "first", actor: alice)
        try await store.setVersionTag(model: "iris", version: 1, key: "k", value: "v", immutable: false, actor: alice)
        try await store.deleteVersionTag(model: "iris", version: 1, key: "k", immutable: false, actor: alice)
        _ = try await store.transitionStage(
            model: "iris", version: 1, expected: "None", stage: "Staging", archiveOthers: false, archiveStage: "Archived", actor: alice
        )
        _ = try await store.setAlias(model: "iris", alias: "production", version: 1, immutable: false, reason: "go", actor: bob)
        _ = try await store.deleteAlias(model: "iris", alias: "production", immutable: false, reason: "stop", actor: bob)
        try await store.addApproval(Approval(model: "iris", version: 1, stage: "Production", approver: "carol", comment: nil, at: Timestamp.now()))
        _ = try await store.createVersion(NewVersion(model: "iris"), actor: alice)
        try await store.deleteVersion(model: "iris", version: 2, actor: bob)
        _ = try await store.renameModel(from: "iris", to: "flowers", actor: bob)
        _ = try await store.createModel(NewModel(name: "wine"), actor: alice)

        let expected = [
            "model.create", "model.rename", "version.delete", "version.create", "approval.add", "alias.delete", "alias.set", "stage.transition",
            "version.tag.delete", "version.tag.set", "version.update", "version.finish", "version.create", "model.tag.delete", "model.tag.set",
            "model.update", "model.create",
        ]
        let all = try await store.auditEvents(model: nil, limit: 100, beforeId: nil)
        #expect(all.map(\.action) == expected)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.id > $1.id && $0.at >= $1.at })
        #expect(all.first?.model == "wine")

        let flowers = try await store.auditEvents(model: "flowers", limit: 100, beforeId: nil)
        #expect(flowers.map(\.action) == Array(expected.dropFirst()))
        #expect(flowers.map(\.actor) == [bob, bob, alice, "carol", bob, bob, alice, alice, alice, alice, alice, alice, alice, alice, bob, alice])

        func event(_ action: String) throws -> AuditEvent {
            guard let event = flowers.first(where: { $0.action == action }) else {
                throw StoreError(.notFound, "the audit log has no '\(action)' event")
            }
            return event
        }
        // Creations have no before, deletions no after; the rest have both.
        #expect(try event("model.create").before == nil)
        #expect(try decode(RegisteredModel.self, event("model.create").after).name == "iris")
        #expect(try decode(RegisteredModel.self, event("model.update").before).description == "")
        #expect(try decode(RegisteredModel.self, event("model.update").after).description == "flowers")
        #expect(try decode(RegisteredModel.self, event("model.tag.set").after).tags == ["team": "vision"])
        #expect(try decode(RegisteredModel.self, event("model.tag.delete").after).tags == [:])
        #expect(try event("version.create").before == nil)
        #expect(try event("version.create").version == 2)
        #expect(try decode(ModelVersion.self, event("version.finish").before).status == .pending)
        #expect(try decode(ModelVersion.self, event("version.finish").after).status == .ready)
        #expect(try decode(ModelVersion.self, event("version.update").after).description == "first")
        #expect(try decode(ModelVersion.self, event("version.tag.set").after).tags == ["k": "v"])
        #expect(try decode(ModelVersion.self, event("stage.transition").before).stage == "None")
        #expect(try decode(ModelVersion.self, event("stage.transition").after).stage == "Staging")
        #expect(try event("alias.set").before == nil)
        #expect(try event("alias.set").after != nil)
        #expect(try event("alias.delete").before != nil)
        #expect(try event("alias.delete").after == nil)
        #expect(try decode(Approval.self, event("approval.add").after).approver == "carol")
        #expect(try event("version.delete").after == nil)
        #expect(try decode(ModelVersion.self, event("version.delete").before).version == 2)
        #expect(try event("version.delete").version == 2)

        // Paging backwards by id.
        let firstPage = try await store.auditEvents(model: "flowers", limit: 5, beforeId: nil)
        #expect(firstPage.count == 5)
        let secondPage = try await store.auditEvents(model: "flowers", limit: 5, beforeId: firstPage.last?.id)
        #expect(secondPage.map(\.action) == Array(flowers.dropFirst(5).prefix(5)).map(\.action))
        #expect(try await store.auditEvents(model: "nope", limit: 10, beforeId: nil).isEmpty)

        await expectError(.invalidArgument) { _ = try await store.auditEvents(model: nil, limit: 0, beforeId: nil) }
        await expectError(.invalidArgument) { _ = try await store.auditEvents(model: nil, limit: 10_001, beforeId: nil) }
    }

    /// A change that fails changes nothing and leaves no audit event.
    public static func failedChangesLeaveNoTrace(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 2)
        _ = try await store.setAlias(model: "iris", alias: "production", version: 1, immutable: false, reason: nil, actor: alice)
        try await store.setVersionTag(model: "iris", version: 1, key: "release", value: "v1", immutable: true, actor: alice)
        let before = try await store.auditEvents(model: nil, limit: 1000, beforeId: nil)
        let model = try await store.model(named: "iris")
        let version = try await store.version(model: "iris", version: 1)

        await expectError(.alreadyExists) { _ = try await store.createModel(NewModel(name: "iris", description: "dup"), actor: bob) }
        await expectError(.failedPrecondition) { try await store.deleteVersion(model: "iris", version: 1, actor: bob) }
        await expectError(.failedPrecondition) { try await store.deleteModel(named: "iris", actor: bob) }
        await expectError(.failedPrecondition) {
            try await store.setVersionTag(model: "iris", version: 1, key: "release", value: "v2", immutable: true, actor: bob)
        }
        await expectError(.failedPrecondition) {
            _ = try await store.setAlias(model: "iris", alias: "production", version: 2, immutable: true, reason: nil, actor: bob)
        }
        await expectError(.failedPrecondition) {
            _ = try await store.transitionStage(
                model: "iris", version: 1, expected: "Staging", stage: "Production", archiveOthers: true, archiveStage: "Archived", actor: bob
            )
        }
        await expectError(.notFound) { _ = try await store.createVersion(NewVersion(model: "nope"), actor: bob) }

        #expect(try await store.auditEvents(model: nil, limit: 1000, beforeId: nil) == before)
        #expect(try await store.model(named: "iris") == model)
        #expect(try await store.version(model: "iris", version: 1) == version)
        #expect(try await store.createVersion(NewVersion(model: "iris"), actor: alice).version == 3)
    }

    /// Tokens are stored by secret hash, found while unrevoked, listed with revoked ones, and revoked by id.
    public static func tokens(_ store: any MetadataStore) async throws {
        let now = Timestamp.now()
        let admin = TokenRecord(
            id: "tok-1", name: "first admin", role: .admin, secretHash: String(repeating: "a", count: 64), createdAt: now, createdBy: "system")
        let viewer = TokenRecord(
            id: "tok-2", name: "dashboard", role: .viewer, secretHash: String(repeating: "b", count: 64), createdAt: now, createdBy: alice)
        try await store.createToken(admin, actor: "system")
        try await store.createToken(viewer, actor: alice)
        #expect(try await store.token(secretHash: admin.secretHash) == admin)
        #expect(try await store.token(secretHash: viewer.secretHash) == viewer)
        #expect(try await store.token(secretHash: String(repeating: "c", count: 64)) == nil)
        #expect(try await store.tokens().sorted { $0.id < $1.id } == [admin, viewer])

        await expectError(.alreadyExists) { try await store.createToken(admin, actor: alice) }

        try await store.revokeToken(id: "tok-2", actor: alice)
        #expect(try await store.token(secretHash: viewer.secretHash) == nil)
        let listed = try await store.tokens()
        #expect(listed.count == 2)
        let revoked = try #require(listed.first { $0.id == "tok-2" })
        #expect(revoked.revokedAt != nil)
        #expect(listed.first { $0.id == "tok-1" }?.revokedAt == nil)
        await expectError(.notFound) { try await store.revokeToken(id: "tok-9", actor: alice) }

        let audit = try await store.auditEvents(model: nil, limit: 10, beforeId: nil)
        #expect(audit.map(\.action) == ["token.revoke", "token.create", "token.create"])
        // The audit log never holds a secret hash.
        #expect(audit.allSatisfy { !($0.after ?? "").contains(admin.secretHash) && !($0.after ?? "").contains(viewer.secretHash) })
    }
}
