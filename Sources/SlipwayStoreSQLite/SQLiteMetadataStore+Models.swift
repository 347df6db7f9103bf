import GRDB
public import SlipwayCore
public import SlipwayStore

extension SQLiteMetadataStore {
    public func createModel(_ new: NewModel, actor: String) async throws -> RegisteredModel {
        try await write { db in
            if try Rows.model(db, named: new.name) != nil {
                throw StoreError(.alreadyExists, "registered model '\(new.name)' already exists; choose another name or register a version of it")
            }
            let now = Timestamp.now()
            let millis = Timestamp.millis(now)
            try db.cachedStatement(sql: "INSERT INTO models (name, description, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [new.name, new.description, millis, millis, actor])
            let id = db.lastInsertedRowID
            let insertTag = try db.cachedStatement(sql: "INSERT INTO model_tags (model_id, key, value) VALUES (?, ?, ?)")
            for (key, value) in new.tags.sorted(by: { $0.key < $1.key }) {
                try insertTag.execute(arguments: [id, key, value])
            }
            let model = try Rows.registeredModel(db, id: id)
            try Rows.appendAudit(
                db,
                .change(action: "model.create", actor: actor, at: now, model: model.name, version: nil, before: RegisteredModel?.none, after: model),
                modelId: id
            )
            return model
        }
    }

    public func model(named name: String) async throws -> RegisteredModel? {
        try await read { db in
            guard let record = try Rows.model(db, named: name) else { return nil }
            return try Rows.registeredModels(db, [record])[0]
        }
    }

    public func updateModel(named name: String, description: String, actor: String) async throws -> RegisteredModel {
        try await write { db in
            let record = try Rows.requireModel(db, named: name)
            let before = try Rows.registeredModels(db, [record])[0]
            let now = Timestamp.now()
            try db.cachedStatement(sql: "UPDATE models SET description = ?, updated_at = ? WHERE id = ?")
                .execute(arguments: [description, Timestamp.millis(now), record.id])
            let after = try Rows.registeredModel(db, id: record.id)
            try Rows.appendAudit(
                db, .change(action: "model.update", actor: actor, at: now, model: name, version: nil, before: before, after: after),
                modelId: record.id
            )
            return after
        }
    }

    public func renameModel(from name: String, to newName: String, actor: String) async throws -> RegisteredModel {
        try await write { db in
            let record = try Rows.requireModel(db, named: name)
            let before = try Rows.registeredModels(db, [record])[0]
            if newName == name { return before }
            if try Rows.model(db, named: newName) != nil {
                throw StoreError(
                    .alreadyExists, "cannot rename '\(name)' to '\(newName)': a registered model with that name already exists; choose another name")
            }
            let now = Timestamp.now()
            try db.cachedStatement(sql: "UPDATE models SET name = ?, updated_at = ? WHERE id = ?")
                .execute(arguments: [newName, Timestamp.millis(now), record.id])
            let after = try Rows.registeredModel(db, id: record.id)
            try Rows.appendAudit(
                db, .change(action: "model.rename", actor: actor, at: now, model: newName, version: nil, before: before, after: after),
                modelId: record.id
            )
            return after
        }
    }

    public func deleteModel(named name: String, actor: String) async throws {
        try await write { db in
            let record = try Rows.requireModel(db, named: name)
            let pointing = try Row.fetchAll(
                db,
                sql: "SELECT a.alias, v.version FROM aliases a JOIN versions v ON v.id = a.version_id WHERE a.model_id = ? ORDER BY a.alias",
                arguments: [record.id]
            )
            if !pointing.isEmpty {
                let list = pointing.map { "\($0["alias"] as String) (version \($0["version"] as Int))" }.joined(separator: ", ")
                let subject = pointing.count == 1 ? "alias \(list) points" : "aliases \(list) point"
                throw StoreError(
                    .failedPrecondition,
                    "cannot delete registered model '\(name)': \(subject) at its versions; delete \(pointing.count == 1 ? "it" : "them") first"
                )
            }
            let serving = try Rows.deploymentsServing(db, modelId: record.id)
            if !serving.isEmpty {
                let list = serving.map { "endpoint '\($0.endpoint)' variant '\($0.variant)' serves version \($0.version)" }.joined(separator: ", ")
                throw StoreError(
                    .failedPrecondition,
                    "cannot delete registered model '\(name)': \(list); remove the \(serving.count == 1 ? "deployment" : "deployments") first"
                )
            }
            let before = try Rows.registeredModels(db, [record])[0]
            try db.execute(sql: "DELETE FROM models WHERE id = ?", arguments: [record.id])
            try Rows.appendAudit(
                db,
                .change(
                    action: "model.delete", actor: actor, at: Timestamp.now(), model: name, version: nil, before: before, after: RegisteredModel?.none
                ),
                modelId: record.id
            )
        }
    }

    public func setModelTag(model name: String, key: String, value: String, actor: String) async throws {
        try await write { db in
            let record = try Rows.requireModel(db, named: name)
            let current = try String.fetchOne(db, sql: "SELECT value FROM model_tags WHERE model_id = ? AND key = ?", arguments: [record.id, key])
            if current == value { return }
            let before = try Rows.registeredModels(db, [record])[0]
            let now = Timestamp.now()
            try db.cachedStatement(
                sql: "INSERT INTO model_tags (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value"
            ).execute(arguments: [record.id, key, value])
            try Rows.touchModel(db, id: record.id, at: Timestamp.millis(now))
            let after = try Rows.registeredModel(db, id: record.id)
            try Rows.appendAudit(
                db, .change(action: "model.tag.set", actor: actor, at: now, model: name, version: nil, before: before, after: after),
                modelId: record.id
            )
        }
    }

    public func deleteModelTag(model name: String, key: String, actor: String) async throws {
        try await write { db in
            let record = try Rows.requireModel(db, named: name)
            let before = try Rows.registeredModels(db, [record])[0]
            guard before.tags[key] != nil else {
                throw StoreError(.notFound, "registered model '\(name)' has no tag '\(key)'")
            }
            let now = Timestamp.now()
            try db.execute(sql: "DELETE FROM model_tags WHERE model_id = ? AND key = ?", arguments: [record.id, key])
            try Rows.touchModel(db, id: record.id, at: Timestamp.millis(now))
            let after = try Rows.registeredModel(db, id: record.id)
            try Rows.appendAudit(
                db, .change(action: "model.tag.delete", actor: actor, at: now, model: name, version: nil, before: before, after: after),
                modelId: record.id
            )
        }
    }
}
