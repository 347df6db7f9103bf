public import Foundation
import GRDB
public import SlipwayCore
public import SlipwayStore

/// The prediction log in the table of migration `v3`.
extension SQLiteMetadataStore {
    public func appendPredictions(_ records: [PredictionRecord]) async throws {
        guard !records.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO predictions (endpoint, request_id, kind, variant, ts, model_version, sticky_key, features,
                        prediction, confidence, latency_ms, status, ground_truth, outcome, feedback_at, feedback_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for r in records {
                try statement.execute(arguments: [
                    r.endpoint, r.requestId, r.kind.rawValue, r.variant, Timestamp.millis(r.timestamp), r.modelVersion, r.stickyKey,
                    r.features, r.prediction, r.confidence, r.latencyMs, r.status, r.feedback?.groundTruth, r.feedback?.outcome,
                    r.feedback.map { Timestamp.millis($0.receivedAt) }, r.feedback?.by,
                ])
            }
        }
    }

    public func attachFeedback(endpoint: String, requestId: String, feedback: Feedback) async throws -> PredictionRecord {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE predictions SET ground_truth = ?, outcome = ?, feedback_at = ?, feedback_by = ?
                    WHERE endpoint = ? AND request_id = ? AND kind = 'primary'
                    """,
                arguments: [feedback.groundTruth, feedback.outcome, Timestamp.millis(feedback.receivedAt), feedback.by, endpoint, requestId])
            guard db.changesCount > 0,
                let row = try Row.fetchOne(
                    db, sql: "\(Self.predictionColumns) WHERE endpoint = ? AND request_id = ? AND kind = 'primary'",
                    arguments: [endpoint, requestId])
            else {
                throw StoreError(
                    .notFound,
                    "endpoint '\(endpoint)' has no logged request '\(requestId)'; the gateway logs a request within a fraction of a second of answering it")
            }
            return Self.prediction(row)
        }
    }

    public func predictions(endpoint: String, since: Date?, limit: Int, pageToken: String?) async throws -> Page<PredictionRecord> {
        guard (1...10_000).contains(limit) else {
            throw StoreError(.invalidArgument, "the page size must be between 1 and 10000, got \(limit)")
        }
        let fingerprint = "predictions:\(endpoint):\(since.map { String(Timestamp.millis($0)) } ?? "")"
        let after = try pageToken.map { Int64(try PageToken.decode($0, fingerprint: fingerprint).offset) } ?? 0
        return try await read { db in
            var sql = "\(Self.predictionColumns) WHERE endpoint = ? AND id > ?"
            var arguments: StatementArguments = [endpoint, after]
            if let since {
                sql += " AND ts >= ?"
                _ = arguments.append(contentsOf: [Timestamp.millis(since)])
            }
            sql += " ORDER BY id LIMIT ?"
            _ = arguments.append(contentsOf: [limit + 1])
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            let items = rows.prefix(limit).map(Self.prediction)
            let next: String? =
                rows.count > limit
                ? PageToken(offset: Int(rows[limit - 1]["id"] as Int64), query: fingerprint).encoded : nil
            return Page(items: items, nextPageToken: next)
        }
    }

    static let predictionColumns = """
        SELECT id, endpoint, request_id, kind, variant, ts, model_version, sticky_key, features, prediction, confidence, latency_ms,
            status, ground_truth, outcome, feedback_at, feedback_by FROM predictions
        """

    static func prediction(_ row: Row) -> PredictionRecord {
        let feedbackAt: Int64? = row["feedback_at"]
        return PredictionRecord(
            requestId: row["request_id"], timestamp: Timestamp.date(millis: row["ts"]), endpoint: row["endpoint"], variant: row["variant"],
            modelVersion: row["model_version"], stickyKey: row["sticky_key"],
            kind: PredictionRecord.Kind(rawValue: row["kind"]) ?? .primary, features: row["features"], prediction: row["prediction"],
            confidence: row["confidence"], latencyMs: row["latency_ms"], status: row["status"],
            feedback: feedbackAt.map { at in
                Feedback(groundTruth: row["ground_truth"], outcome: row["outcome"], receivedAt: Timestamp.date(millis: at), by: row["feedback_by"] ?? "")
            })
    }
}
