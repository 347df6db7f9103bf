public import Foundation
import GRDB
public import SlipwayCore
public import SlipwayStore

/// The prediction log, kept in segment files beside the database (``PredictionSegments``, in
/// `<database>-predictions/`): it is written at the rate of traffic, which a table with its indexes could not
/// keep up with cheaply.
///
/// What a store cannot keep as given is made storable rather than dropped, so that one odd answer never costs a
/// batch: a NUL character in text becomes U+FFFD (as everywhere in this store), a confidence that is not a finite
/// number becomes nil, and a latency that is not one becomes 0 (JSON has no NaN or infinity, so such values could
/// not be listed either).
extension SQLiteMetadataStore: SynchronousPredictionAppending {
    public func appendPredictions(_ records: [PredictionRecord]) async throws {
        try await predictionLog.append(records)
    }

    public func appendPredictionsNow(_ records: [PredictionRecord]) throws {
        try predictionLog.appendNow(records)
    }

    public func attachFeedback(endpoint: String, requestId: String, feedback: Feedback) async throws -> PredictionRecord {
        if let outcome = feedback.outcome, !outcome.isFinite {
            throw StoreError(.invalidArgument, "the outcome must be a finite number, got \(outcome)")
        }
        if let label = feedback.groundTruth, label.utf8.contains(0) {
            throw StoreError(.invalidArgument, "the ground truth must not contain NUL characters")
        }
        return try await predictionLog.attachFeedback(endpoint: endpoint, requestId: requestId, feedback: feedback)
    }

    public func predictions(endpoint: String, since: Date?, limit: Int, pageToken: String?) async throws -> Page<PredictionRecord> {
        guard (1...10_000).contains(limit) else {
            throw StoreError(.invalidArgument, "the page size must be between 1 and 10000, got \(limit)")
        }
        let sinceMillis = since.map(Timestamp.millis)
        let fingerprint = Self.predictionsFingerprint(endpoint: Self.storable(endpoint), sinceMillis: sinceMillis)
        let after = try pageToken.map { UInt64(try PageToken.decode($0, fingerprint: fingerprint).offset) } ?? 0
        let page = try await predictionLog.page(endpoint: endpoint, since: sinceMillis, after: after, limit: limit)
        return Page(items: page.items, nextPageToken: page.next.map { PageToken(offset: Int($0), query: fingerprint).encoded })
    }

    /// Moves the rows of the prediction table that migrations `v3`–`v5` kept to the segment files, in log order, before
    /// migration `v6` drops the table. A move a crash cut short is finished when the store opens next: records already
    /// moved are skipped.
    ///
    /// A large table takes a while (a few seconds per million records), so the move says so on standard error.
    func movePredictionsToSegments() throws {
        guard try pool.read({ db in try db.tableExists("predictions") }) else { return }
        let total = try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM predictions") } ?? 0
        guard total > 0 else { return }
        let announce = total >= 100_000
        if announce {
            Self.say("moving \(total) prediction records from '\(path)' to '\(predictionLog.folder)' (once, for this version of Slipway)…")
        }
        var after: Int64 = 0
        var moved = 0
        while true {
            let rows = try pool.read { db in
                try Row.fetchAll(db, sql: "\(Self.predictionColumns) WHERE id > ? ORDER BY id LIMIT 10000", arguments: [after])
            }
            guard let last = rows.last else { break }
            try predictionLog.appendNow(rows.map(Self.prediction))
            after = last["id"]
            moved += rows.count
            if announce && moved % 1_000_000 < rows.count { Self.say("  \(moved) of \(total) moved") }
        }
        if announce { Self.say("moved \(moved) prediction records") }
    }

    private static func say(_ line: String) {
        FileHandle.standardError.write(Data(("slipway: " + line + "\n").utf8))
    }

    /// Writes records into the prediction table of a database opened with the schema up to `v3`–`v5`, as those
    /// versions did; only for tests of the move to segment files.
    package func insertIntoPredictionTable(_ records: [PredictionRecord]) async throws {
        try await write { db in
            for record in records {
                try db.execute(
                    sql: """
                        INSERT INTO predictions (endpoint, request_id, kind, variant, ts, model_version, sticky_key, features, prediction,
                            confidence, latency_ms, status, ground_truth, outcome, feedback_at, feedback_by)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        record.endpoint, record.requestId, record.kind.rawValue, record.variant, Timestamp.millis(record.timestamp),
                        record.modelVersion, record.stickyKey, record.features, record.prediction, record.confidence, record.latencyMs,
                        record.status, record.feedback?.groundTruth, record.feedback?.outcome, record.feedback.map { Timestamp.millis($0.receivedAt) },
                        record.feedback?.by,
                    ])
            }
        }
    }

    /// What a page token of the prediction log belongs to: the endpoint and the start of the window, hashed so
    /// that no name can make a token long or two queries share one.
    static func predictionsFingerprint(endpoint: String, sinceMillis: Int64?) -> String {
        let query = "\(endpoint)\u{0}\(sinceMillis.map(String.init) ?? "-")"
        return "predictions:" + Digest(of: Data(query.utf8)).hex.prefix(32)
    }

    /// Text as SQLite can keep it: NUL characters (where SQLite would cut the text) become U+FFFD.
    static func storable(_ text: String) -> String {
        var bytes = text
        // memchr over the contiguous UTF-8 of a native string, rather than a generic scan of the view.
        let hasNUL = bytes.withUTF8 { utf8 in utf8.baseAddress.map { memchr($0, 0, utf8.count) != nil } ?? false }
        return hasNUL ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
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
                Feedback(
                    groundTruth: row["ground_truth"], outcome: row["outcome"], receivedAt: Timestamp.date(millis: at), by: row["feedback_by"] ?? "")
            })
    }
}
