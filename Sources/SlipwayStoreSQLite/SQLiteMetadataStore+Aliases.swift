import GRDB
public import SlipwayCore
import SlipwayStore

extension SQLiteMetadataStore {
    public func setAlias(model: String, alias: String, version: Int, immutable: Bool, reason: String?, actor: String) async throws -> AliasEvent {
        try await write { db in
            let target = try Rows.requireVersion(db, model: model, number: version)
            let current = try Row.fetchOne(
                db,
                sql: "SELECT v.version FROM aliases a JOIN versions v ON v.id = a.version_id WHERE a.model_id = ? AND a.alias = ?",
                arguments: [target.modelId, alias]
            ).map { $0[0] as Int }
            let now = Timestamp.now()
            if current == version {
                // Already there: nothing moves, so the history and the audit log stay as they are.
                return AliasEvent(model: model, alias: alias, fromVersion: version, toVersion: version, actor: actor, reason: reason, at: now)
            }
            if immutable, let current {
                throw StoreError(
                    .failedPrecondition,
                    "alias '\(alias)' of model '\(model)' is immutable and points at version \(current); choose another alias"
                )
            }
            let millis = Timestamp.millis(now)
            try db.execute(
                sql: """
                    INSERT INTO aliases (model_id, alias, version_id, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (model_id, alias) DO UPDATE SET version_id = excluded.version_id, updated_at = excluded.updated_at
                    """,
                arguments: [target.modelId, alias, target.id, millis]
            )
            let event = AliasEvent(model: model, alias: alias, fromVersion: current, toVersion: version, actor: actor, reason: reason, at: now)
            try Self.appendAliasEvent(db, event, modelId: target.modelId)
            try Rows.touchModel(db, id: target.modelId, at: millis)
            try Rows.appendAudit(
                db,
                .change(
                    action: "alias.set", actor: actor, at: now, model: model, version: version,
                    before: current.map { AliasState(alias: alias, version: $0) }, after: AliasState(alias: alias, version: version)
                ),
                modelId: target.modelId
            )
            return event
        }
    }

    public func deleteAlias(model: String, alias: String, immutable: Bool, reason: String?, actor: String) async throws -> AliasEvent {
        try await write { db in
            let record = try Rows.requireModel(db, named: model)
            guard
                let current = try Row.fetchOne(
                    db,
                    sql: "SELECT v.version FROM aliases a JOIN versions v ON v.id = a.version_id WHERE a.model_id = ? AND a.alias = ?",
                    arguments: [record.id, alias]
                ).map({ $0[0] as Int })
            else {
                throw StoreError.aliasNotFound(model, alias)
            }
            if immutable {
                throw StoreError(.failedPrecondition, "alias '\(alias)' of model '\(model)' is immutable and cannot be deleted")
            }
            let now = Timestamp.now()
            try db.execute(sql: "DELETE FROM aliases WHERE model_id = ? AND alias = ?", arguments: [record.id, alias])
            let event = AliasEvent(model: model, alias: alias, fromVersion: current, toVersion: nil, actor: actor, reason: reason, at: now)
            try Self.appendAliasEvent(db, event, modelId: record.id)
            try Rows.touchModel(db, id: record.id, at: Timestamp.millis(now))
            try Rows.appendAudit(
                db,
                .change(
                    action: "alias.delete", actor: actor, at: now, model: model, version: current, before: AliasState(alias: alias, version: current),
                    after: AliasState?.none
                ),
                modelId: record.id
            )
            return event
        }
    }

    public func aliasHistory(model: String, alias: String?) async throws -> [AliasEvent] {
        try await read { db in
            let record = try Rows.requireModel(db, named: model)
            var sql = "SELECT alias, from_version, to_version, actor, reason, at FROM alias_events WHERE model_id = ?"
            var arguments: StatementArguments = [record.id]
            if let alias {
                sql += " AND alias = ?"
                arguments += [alias]
            }
            sql += " ORDER BY id"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                AliasEvent(
                    model: record.name, alias: row["alias"], fromVersion: row["from_version"], toVersion: row["to_version"], actor: row["actor"],
                    reason: row["reason"], at: Timestamp.date(millis: row["at"])
                )
            }
        }
    }

    static func appendAliasEvent(_ db: Database, _ event: AliasEvent, modelId: Int64) throws {
        try db.cachedStatement(
            sql: "INSERT INTO alias_events (model_id, alias, from_version, to_version, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [modelId, event.alias, event.fromVersion, event.toVersion, event.actor, event.reason, Timestamp.millis(event.at)])
    }

    // MARK: Approvals

    public func addApproval(_ approval: Approval) async throws {
        try await write { db in
            let record = try Rows.requireVersion(db, model: approval.model, number: approval.version)
            try db.execute(
                sql: "INSERT INTO approvals (version_id, stage, approver, comment, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [record.id, approval.stage, approval.approver, approval.comment, Timestamp.millis(approval.at)]
            )
            guard db.changesCount > 0 else { return }
            var stored = approval
            stored.at = Timestamp.date(millis: Timestamp.millis(approval.at))
            try Rows.appendAudit(
                db,
                .change(
                    action: "approval.add", actor: approval.approver, at: Timestamp.now(), model: approval.model, version: approval.version,
                    before: Approval?.none, after: stored
                ),
                modelId: record.modelId
            )
        }
    }

    public func approvals(model: String, version: Int) async throws -> [Approval] {
        try await read { db in
            let record = try Rows.requireVersion(db, model: model, number: version)
            return try Row.fetchAll(
                db, sql: "SELECT stage, approver, comment, at FROM approvals WHERE version_id = ? ORDER BY id", arguments: [record.id]
            ).map { row in
                Approval(
                    model: record.model, version: record.version, stage: row["stage"], approver: row["approver"], comment: row["comment"],
                    at: Timestamp.date(millis: row["at"])
                )
            }
        }
    }
}

/// One side of an alias change in the audit log.
struct AliasState: Encodable, Sendable {
    var alias: String
    var version: Int
}
