import GRDB
public import SlipwayCore
import SlipwayStore

extension SQLiteMetadataStore {
    public func auditEvents(model: String?, limit: Int, beforeId: Int64?) async throws -> [AuditEvent] {
        guard (1...10_000).contains(limit) else {
            throw StoreError(.invalidArgument, "limit must be between 1 and 10000, got \(limit)")
        }
        return try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let model {
                // A model keeps its history across renames (by id); a deleted one is found by the name it had.
                if let record = try Rows.model(db, named: model) {
                    conditions.append("model_id = ?")
                    arguments += [record.id]
                } else {
                    conditions.append("model_name = ?")
                    arguments += [model]
                }
            }
            if let beforeId {
                conditions.append("id < ?")
                arguments += [beforeId]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            return try Row.fetchAll(
                db,
                sql: "SELECT id, at, actor, action, model_name, version, before, after FROM audit_events \(filter) ORDER BY id DESC LIMIT ?",
                arguments: arguments
            ).map { row in
                AuditEvent(
                    id: row["id"], at: Timestamp.date(millis: row["at"]), actor: row["actor"], action: row["action"], model: row["model_name"],
                    version: row["version"], before: row["before"], after: row["after"]
                )
            }
        }
    }

    // MARK: Tokens

    public func createToken(_ token: TokenRecord, actor: String) async throws {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM tokens WHERE id = ?", arguments: [token.id]) != nil {
                throw StoreError(.alreadyExists, "a token with id '\(token.id)' already exists; create the token again")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM tokens WHERE secret_hash = ?", arguments: [token.secretHash]) != nil {
                throw StoreError(.alreadyExists, "a token with this secret already exists; create the token again")
            }
            try db.execute(
                sql: "INSERT INTO tokens (id, name, role, secret_hash, created_at, created_by, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    token.id, token.name, token.role.rawValue, token.secretHash, Timestamp.millis(token.createdAt), token.createdBy,
                    token.revokedAt.map(Timestamp.millis),
                ]
            )
            try Rows.appendAudit(
                db,
                .change(
                    action: "token.create", actor: actor, at: Timestamp.now(), model: nil, version: nil, before: TokenRecord?.none,
                    after: Self.redacted(Self.stored(token))
                ),
                modelId: nil
            )
        }
    }

    public func token(secretHash: String) async throws -> TokenRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE secret_hash = ? AND revoked_at IS NULL", arguments: [secretHash])
                .map(Self.tokenRecord(row:))
        }
    }

    public func tokens() async throws -> [TokenRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY created_at, id").map(Self.tokenRecord(row:))
        }
    }

    public func revokeToken(id: String, actor: String) async throws {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "there is no token with id '\(id)'; `slipway token list` shows the tokens")
            }
            let before = Self.tokenRecord(row: row)
            if before.revokedAt != nil { return }
            let now = Timestamp.now()
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ?", arguments: [Timestamp.millis(now), id])
            var after = before
            after.revokedAt = now
            try Rows.appendAudit(
                db,
                .change(
                    action: "token.revoke", actor: actor, at: now, model: nil, version: nil, before: Self.redacted(before),
                    after: Self.redacted(after)),
                modelId: nil
            )
        }
    }

    static func tokenRecord(row: Row) -> TokenRecord {
        let role: String = row["role"]
        return TokenRecord(
            id: row["id"], name: row["name"], role: Role(rawValue: role) ?? .viewer, secretHash: row["secret_hash"],
            createdAt: Timestamp.date(millis: row["created_at"]), createdBy: row["created_by"],
            revokedAt: (row["revoked_at"] as Int64?).map(Timestamp.date(millis:))
        )
    }

    /// The record as it reads back from storage (dates to the millisecond).
    static func stored(_ token: TokenRecord) -> TokenRecord {
        var token = token
        token.createdAt = Timestamp.date(millis: Timestamp.millis(token.createdAt))
        token.revokedAt = token.revokedAt.map { Timestamp.date(millis: Timestamp.millis($0)) }
        return token
    }

    /// The audit log never holds secret hashes.
    static func redacted(_ token: TokenRecord) -> TokenRecord {
        var token = token
        token.secretHash = "<redacted>"
        return token
    }
}
