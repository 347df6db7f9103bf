import Foundation
import GRDB
import SlipwayCore
public import SlipwayStore

/// Rollouts and their history in the tables of migration `v4`.
///
/// Each change is one write transaction: the compare-and-set on the revision, the new row, the history entry and the
/// audit event. A partial unique index keeps one running rollout per endpoint even if a check were missed.
extension SQLiteMetadataStore {
    /// Rollouts (spec and step state as JSON documents) and the append-only history of their transitions.
    static let schemaV4 = """
        CREATE TABLE rollouts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            endpoint TEXT NOT NULL,
            spec TEXT NOT NULL,
            phase TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            step INTEGER NOT NULL,
            state TEXT NOT NULL,
            candidate_model TEXT NOT NULL,
            candidate_version INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            created_by TEXT NOT NULL
        );
        CREATE UNIQUE INDEX rollouts_running_per_endpoint ON rollouts(endpoint) WHERE phase IN ('Progressing', 'Paused');

        CREATE TABLE rollout_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            rollout TEXT NOT NULL,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            from_phase TEXT,
            to_phase TEXT NOT NULL,
            from_step INTEGER,
            step INTEGER NOT NULL,
            reason TEXT NOT NULL
        );
        CREATE INDEX rollout_history_rollout ON rollout_history(rollout, id);
        """

    public func startRollout(_ new: NewRollout, actor: String) async throws -> RolloutRecord {
        try Self.validateRolloutName(new.name)
        guard !new.endpoint.isEmpty else { throw StoreError(.invalidArgument, "a rollout needs an endpoint") }
        return try await write { db in
            let existing = try Self.rolloutRow(db, named: new.name)
            if let existing, existing.phase.isRunning {
                throw StoreError(
                    .alreadyExists,
                    "rollout '\(new.name)' is running (\(existing.phase.rawValue)); abort it with `slipway rollout abort \(new.name)` or wait for it to finish"
                )
            }
            if let running = try Self.runningRollout(db, endpoint: new.endpoint) {
                throw StoreError(
                    .failedPrecondition,
                    "endpoint '\(new.endpoint)' already has a running rollout, '\(running)'; abort it with `slipway rollout abort \(running)` or wait for it to finish"
                )
            }
            let now = Timestamp.now()
            let millis = Timestamp.millis(now)
            if existing != nil {
                try db.execute(sql: "DELETE FROM rollouts WHERE name = ?", arguments: [new.name])
            }
            try db.execute(
                sql: """
                    INSERT INTO rollouts (name, endpoint, spec, phase, reason, step, state, candidate_model, candidate_version, revision,
                        created_at, updated_at, created_by)
                    VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, 1, ?, ?, ?)
                    """,
                arguments: [
                    new.name, new.endpoint, new.spec, RolloutPhase.progressing.rawValue, new.reason, new.state, new.candidateModel,
                    new.candidateVersion, millis, millis, actor,
                ])
            let record = try Self.rolloutRow(db, named: new.name)!
            try Self.appendTransition(db, rollout: new.name, at: millis, actor: actor, action: "rollout.start", from: nil, to: record)
            try Rows.appendAudit(
                db,
                .change(
                    action: "rollout.start", actor: actor, at: now, model: new.candidateModel, version: new.candidateVersion,
                    before: existing.map(AuditedRollout.init), after: AuditedRollout(record)),
                modelId: nil)
            return record
        }
    }

    public func rollout(named name: String) async throws -> RolloutRecord? {
        try await read { db in try Self.rolloutRow(db, named: name) }
    }

    public func rollouts(runningOnly: Bool) async throws -> [RolloutRecord] {
        try await read { db in
            let filter = runningOnly ? " WHERE phase IN ('Progressing', 'Paused')" : ""
            return try Row.fetchAll(db, sql: "SELECT * FROM rollouts\(filter) ORDER BY name").map(Self.rolloutRecord)
        }
    }

    public func updateRollout(named name: String, expectedRevision: Int, change: RolloutChange, actor: String) async throws -> RolloutRecord {
        guard change.step >= 0 else { throw StoreError(.invalidArgument, "a rollout's step cannot be negative, got \(change.step)") }
        return try await write { db in
            guard let before = try Self.rolloutRow(db, named: name) else {
                throw StoreError(.notFound, "rollout '\(name)' does not exist; `slipway rollout list` shows the rollouts")
            }
            guard before.revision == expectedRevision else {
                throw StoreError(
                    .failedPrecondition,
                    "rollout '\(name)' is at revision \(before.revision), not \(expectedRevision): someone else changed it; read it again and retry")
            }
            if change.phase.isRunning, !before.phase.isRunning, let running = try Self.runningRollout(db, endpoint: before.endpoint) {
                throw StoreError(
                    .failedPrecondition,
                    "endpoint '\(before.endpoint)' already has a running rollout, '\(running)'; abort it with `slipway rollout abort \(running)` first"
                )
            }
            let now = Timestamp.now()
            let millis = Timestamp.millis(now)
            try db.execute(
                sql: """
                    UPDATE rollouts SET phase = ?, reason = ?, step = ?, state = ?, revision = revision + 1, updated_at = ?
                    WHERE name = ? AND revision = ?
                    """,
                arguments: [change.phase.rawValue, change.reason, change.step, change.state, millis, name, expectedRevision])
            let after = try Self.rolloutRow(db, named: name)!
            if change.action != RolloutChange.measureAction {
                try Self.appendTransition(db, rollout: name, at: millis, actor: actor, action: change.action, from: before, to: after)
            }
            try Rows.appendAudit(
                db,
                .change(
                    action: change.action, actor: actor, at: now, model: after.candidateModel, version: after.candidateVersion,
                    before: AuditedRollout(before), after: AuditedRollout(after)),
                modelId: nil)
            return after
        }
    }

    public func rolloutHistory(named name: String) async throws -> [RolloutTransition] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rollout_history WHERE rollout = ? ORDER BY id", arguments: [name]).map { row in
                RolloutTransition(
                    id: row["id"], rollout: row["rollout"], at: Timestamp.date(millis: row["at"]), actor: row["actor"], action: row["action"],
                    fromPhase: (row["from_phase"] as String?).flatMap(RolloutPhase.init(rawValue:)),
                    toPhase: RolloutPhase(rawValue: row["to_phase"]) ?? .degraded, fromStep: row["from_step"], step: row["step"],
                    reason: row["reason"])
            }
        }
    }

    // MARK: Rows

    static func validateRolloutName(_ name: String) throws {
        guard !name.isEmpty, name.count <= 128, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw StoreError(.invalidArgument, "rollout name '\(name)' must be 1 to 128 letters, digits, '-', '_' or '.'")
        }
    }

    static func rolloutRow(_ db: Database, named name: String) throws -> RolloutRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM rollouts WHERE name = ?", arguments: [name]).map(rolloutRecord)
    }

    static func runningRollout(_ db: Database, endpoint: String) throws -> String? {
        try String.fetchOne(
            db, sql: "SELECT name FROM rollouts WHERE endpoint = ? AND phase IN ('Progressing', 'Paused') LIMIT 1", arguments: [endpoint])
    }

    static func rolloutRecord(_ row: Row) -> RolloutRecord {
        RolloutRecord(
            name: row["name"], endpoint: row["endpoint"], spec: row["spec"], phase: RolloutPhase(rawValue: row["phase"]) ?? .degraded,
            reason: row["reason"], step: row["step"], state: row["state"], candidateModel: row["candidate_model"],
            candidateVersion: row["candidate_version"], createdAt: Timestamp.date(millis: row["created_at"]),
            updatedAt: Timestamp.date(millis: row["updated_at"]), createdBy: row["created_by"], revision: row["revision"])
    }

    static func appendTransition(
        _ db: Database, rollout: String, at millis: Int64, actor: String, action: String, from: RolloutRecord?, to: RolloutRecord
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO rollout_history (rollout, at, actor, action, from_phase, to_phase, from_step, step, reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [rollout, millis, actor, action, from?.phase.rawValue, to.phase.rawValue, from?.step, to.step, to.reason])
    }
}

/// A rollout as its audit record shows it: everything but the spec, which `rollout.start` records once.
private struct AuditedRollout: Encodable {
    var name: String
    var endpoint: String
    var phase: String
    var reason: String
    var step: Int
    var state: String
    var candidate: String
    var revision: Int

    init(_ r: RolloutRecord) {
        name = r.name
        endpoint = r.endpoint
        phase = r.phase.rawValue
        reason = r.reason
        step = r.step
        state = r.state
        candidate = "\(r.candidateModel)@\(r.candidateVersion)"
        revision = r.revision
    }
}
