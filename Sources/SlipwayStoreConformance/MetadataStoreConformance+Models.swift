import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

extension MetadataStoreConformance {
    /// Models are created, read, updated and deleted; names are unique and case-sensitive.
    public static func modelsRoundTrip(_ store: any MetadataStore) async throws {
        let created = try await store.createModel(NewModel(name: "iris", description: "flowers", tags: ["team": "vision"]), actor: alice)
        #expect(created.name == "iris")
        #expect(created.description == "flowers")
        #expect(created.tags == ["team": "vision"])
        #expect(created.aliases.isEmpty)
        #expect(created.latestVersion == nil)
        #expect(created.createdBy == alice)
        #expect(created.createdAt == created.updatedAt)

        let read = try #require(try await store.model(named: "iris"))
        #expect(read == created)
        #expect(try await store.model(named: "IRIS") == nil)
        #expect(try await store.model(named: "unknown") == nil)

        await expectError(.alreadyExists, containing: ["iris"]) {
            _ = try await store.createModel(NewModel(name: "iris"), actor: bob)
        }
        // Names are case-sensitive: another capitalisation is another model.
        let upper = try await store.createModel(NewModel(name: "Iris"), actor: bob)
        #expect(upper.createdBy == bob)

        let updated = try await store.updateModel(named: "iris", description: "three species", actor: bob)
        #expect(updated.description == "three species")
        #expect(updated.createdAt == created.createdAt)
        #expect(updated.createdBy == alice)
        #expect(updated.updatedAt >= created.updatedAt)
        #expect(try await store.model(named: "iris") == updated)
        await expectError(.notFound, containing: ["nope"]) {
            _ = try await store.updateModel(named: "nope", description: "", actor: alice)
        }

        try await store.deleteModel(named: "iris", actor: alice)
        #expect(try await store.model(named: "iris") == nil)
        #expect(try await store.model(named: "Iris") != nil)
        await expectError(.notFound, containing: ["iris"]) {
            try await store.deleteModel(named: "iris", actor: alice)
        }
        // The name is free again.
        let again = try await store.createModel(NewModel(name: "iris"), actor: alice)
        #expect(again.description == "")
        #expect(again.latestVersion == nil)
    }

    /// Model tags are set, replaced and deleted; unknown models and keys are `notFound`.
    public static func modelTags(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris")
        try await store.setModelTag(model: "iris", key: "team", value: "vision", actor: alice)
        try await store.setModelTag(model: "iris", key: "owner", value: "alice", actor: alice)
        #expect(try await store.model(named: "iris")?.tags == ["team": "vision", "owner": "alice"])
        try await store.setModelTag(model: "iris", key: "team", value: "nlp", actor: bob)
        #expect(try await store.model(named: "iris")?.tags == ["team": "nlp", "owner": "alice"])
        try await store.deleteModelTag(model: "iris", key: "owner", actor: bob)
        #expect(try await store.model(named: "iris")?.tags == ["team": "nlp"])

        await expectError(.notFound, containing: ["owner"]) {
            try await store.deleteModelTag(model: "iris", key: "owner", actor: bob)
        }
        await expectError(.notFound, containing: ["nope"]) {
            try await store.setModelTag(model: "nope", key: "a", value: "b", actor: bob)
        }
        await expectError(.notFound, containing: ["nope"]) {
            try await store.deleteModelTag(model: "nope", key: "a", actor: bob)
        }
    }

    /// A rename carries the versions, aliases, tags, alias history and audit history to the new name.
    public static func renameKeepsVersionsAliasesAndHistory(_ store: any MetadataStore) async throws {
        _ = try await store.createModel(NewModel(name: "iris", tags: ["team": "vision"]), actor: alice)
        _ = try await store.createVersion(ready("iris"), actor: alice)
        _ = try await store.createVersion(ready("iris", digest: digestB, tags: ["k": "v"]), actor: alice)
        _ = try await store.setAlias(model: "iris", alias: "production", version: 1, immutable: false, reason: "first", actor: alice)
        try await store.addApproval(Approval(model: "iris", version: 1, stage: "Production", approver: bob, comment: nil, at: Timestamp.now()))
        _ = try await store.createModel(NewModel(name: "taken"), actor: alice)

        await expectError(.alreadyExists, containing: ["taken"]) {
            _ = try await store.renameModel(from: "iris", to: "taken", actor: alice)
        }
        await expectError(.notFound, containing: ["nope"]) {
            _ = try await store.renameModel(from: "nope", to: "other", actor: alice)
        }

        let renamed = try await store.renameModel(from: "iris", to: "flowers", actor: bob)
        #expect(renamed.name == "flowers")
        #expect(renamed.tags == ["team": "vision"])
        #expect(renamed.aliases == ["production": 1])
        #expect(renamed.latestVersion == 2)
        #expect(try await store.model(named: "iris") == nil)
        #expect(try await store.model(named: "flowers") == renamed)

        let v1 = try #require(try await store.version(model: "flowers", version: 1))
        #expect(v1.model == "flowers")
        #expect(v1.aliases == ["production"])
        #expect(v1.lineage.approvedBy == [bob])
        #expect(try await store.version(model: "flowers", version: 2)?.tags == ["k": "v"])
        #expect(try await store.version(model: "iris", version: 1) == nil)
        #expect(try await store.approvals(model: "flowers", version: 1).map(\.approver) == [bob])

        let history = try await store.aliasHistory(model: "flowers", alias: "production")
        #expect(history.count == 1)
        #expect(history.first?.model == "flowers")
        #expect(history.first?.toVersion == 1)

        let audit = try await store.auditEvents(model: "flowers", limit: 100, beforeId: nil)
        #expect(audit.first?.action == "model.rename")
        #expect(audit.contains { $0.action == "model.create" && $0.model == "iris" })
        #expect(audit.contains { $0.action == "alias.set" })
        let before = try decode(RegisteredModel.self, audit.first?.before)
        let after = try decode(RegisteredModel.self, audit.first?.after)
        #expect(before.name == "iris")
        #expect(after.name == "flowers")

        // Numbering goes on under the new name, and the old name is free.
        #expect(try await store.createVersion(NewVersion(model: "flowers"), actor: alice).version == 3)
        _ = try await store.createModel(NewModel(name: "iris"), actor: alice)
        #expect(try await store.createVersion(NewVersion(model: "iris"), actor: alice).version == 1)
        #expect(try await store.auditEvents(model: "iris", limit: 100, beforeId: nil).map(\.action) == ["version.create", "model.create"])
    }
}
