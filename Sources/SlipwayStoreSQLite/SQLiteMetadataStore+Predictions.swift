public import Foundation
import GRDB
import GRDBSQLite
public import SlipwayCore
public import SlipwayStore

/// The prediction log in the table of migration `v3`.
///
/// What SQLite cannot keep as given is made storable rather than dropped, so that one odd answer never
/// costs a batch: a NUL character in text (SQLite reads bound text only up to its first NUL) becomes
/// U+FFFD, a confidence that is not a finite number becomes nil, and a latency that is not one becomes 0
/// (JSON has no NaN or infinity, so such values could not be listed either).
extension SQLiteMetadataStore {
    public func appendPredictions(_ records: [PredictionRecord]) async throws {
        guard !records.isEmpty else { return }
        try await write { db in
            // The log's one hot write. Records go in groups of `insertGroup` rows per statement (the rest one by one),
            // which spares SQLite a statement run per record, and values are bound straight to the prepared statement
            // rather than through a `StatementArguments` of sixteen boxed values per record.
            var next = records.startIndex
            if records.count >= Self.insertGroup {
                let group = try db.cachedStatement(sql: Self.insertSQL(rows: Self.insertGroup))
                while records.endIndex - next >= Self.insertGroup {
                    try Self.insert(records[next..<(next + Self.insertGroup)], with: group, in: db)
                    next += Self.insertGroup
                }
            }
            if next < records.endIndex {
                let single = try db.cachedStatement(sql: Self.insertSQL(rows: 1))
                for index in next..<records.endIndex { try Self.insert(records[index...index], with: single, in: db) }
            }
        }
    }

    /// Rows per multi-row insert: 64 × 16 values stay far below SQLite's limit on bound values.
    static let insertGroup = 64

    static func insertSQL(rows: Int) -> String {
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        return """
            INSERT OR IGNORE INTO predictions (endpoint, request_id, kind, variant, ts, model_version, sticky_key, features,
                prediction, confidence, latency_ms, status, ground_truth, outcome, feedback_at, feedback_by)
            VALUES \(Array(repeating: row, count: rows).joined(separator: ", "))
            """
    }

    /// Runs an insert of as many rows as `records` has; each record that is already logged is skipped.
    private static func insert(_ records: ArraySlice<PredictionRecord>, with statement: Statement, in db: Database) throws {
        let insert = PredictionInsert(statement.sqliteStatement)
        insert.reset()
        defer { insert.reset() }
        // Each field is read in place: copying a whole record would retain and release every one of its strings.
        for (row, index) in records.indices.enumerated() {
            let base = Int32(row * 16)
            insert.text(base + 1, records[index].endpoint)
            insert.text(base + 2, records[index].requestId)
            insert.text(base + 3, records[index].kind.rawValue)
            insert.text(base + 4, records[index].variant)
            insert.integer(base + 5, Timestamp.millis(records[index].timestamp))
            insert.text(base + 6, records[index].modelVersion)
            insert.text(base + 7, records[index].stickyKey)
            insert.text(base + 8, records[index].features)
            insert.text(base + 9, records[index].prediction)
            insert.real(base + 10, records[index].confidence.flatMap(Self.finite))
            let latency = records[index].latencyMs
            insert.real(base + 11, latency.isFinite ? latency : 0)
            insert.integer(base + 12, Int64(records[index].status))
            if let feedback = records[index].feedback {
                insert.text(base + 13, feedback.groundTruth)
                insert.real(base + 14, feedback.outcome.flatMap(Self.finite))
                insert.integer(base + 15, Timestamp.millis(feedback.receivedAt))
                insert.text(base + 16, feedback.by)
            }
        }
        let code = insert.step()
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
        }
    }

    public func attachFeedback(endpoint: String, requestId: String, feedback: Feedback) async throws -> PredictionRecord {
        if let outcome = feedback.outcome, !outcome.isFinite {
            throw StoreError(.invalidArgument, "the outcome must be a finite number, got \(outcome)")
        }
        if let label = feedback.groundTruth, label.utf8.contains(0) {
            throw StoreError(.invalidArgument, "the ground truth must not contain NUL characters")
        }
        let endpoint = Self.storable(endpoint)
        let requestId = Self.storable(requestId)
        return try await write { db in
            // The primary record is the answer the caller got; a mirrored copy of the same request never takes feedback.
            guard
                let id = try Int64.fetchOne(db, sql: Self.primaryRecordSQL, arguments: [endpoint, requestId])
            else {
                throw StoreError(
                    .notFound,
                    "endpoint '\(endpoint)' has no logged request '\(requestId)'; the gateway logs a request within a fraction of a second of answering it"
                )
            }
            try db.execute(
                sql: "UPDATE predictions SET ground_truth = ?, outcome = ?, feedback_at = ?, feedback_by = ? WHERE id = ?",
                arguments: [feedback.groundTruth, feedback.outcome, Timestamp.millis(feedback.receivedAt), Self.storable(feedback.by), id])
            guard let row = try Row.fetchOne(db, sql: "\(Self.predictionColumns) WHERE id = ?", arguments: [id]) else {
                throw StoreError(.internal, "the prediction record of request '\(requestId)' vanished while feedback was attached")
            }
            return Self.prediction(row)
        }
    }

    public func predictions(endpoint: String, since: Date?, limit: Int, pageToken: String?) async throws -> Page<PredictionRecord> {
        guard (1...10_000).contains(limit) else {
            throw StoreError(.invalidArgument, "the page size must be between 1 and 10000, got \(limit)")
        }
        let endpoint = Self.storable(endpoint)
        let sinceMillis = since.map(Timestamp.millis)
        let fingerprint = Self.predictionsFingerprint(endpoint: endpoint, sinceMillis: sinceMillis)
        let after = try pageToken.map { Int64(try PageToken.decode($0, fingerprint: fingerprint).offset) }
        return try await read { db in
            var lowerBound = after ?? 0
            if after == nil, let sinceMillis {
                // The first page of a time window starts at the window's oldest record, found on the time index, so the
                // scan in log order below does not walk through everything logged before the window.
                guard let first = try Int64.fetchOne(db, sql: Self.windowStartSQL, arguments: [endpoint, sinceMillis]) else {
                    return Page(items: [], nextPageToken: nil)
                }
                lowerBound = first - 1
            }
            var arguments: StatementArguments = [endpoint, lowerBound]
            if let sinceMillis { _ = arguments.append(contentsOf: [sinceMillis]) }
            _ = arguments.append(contentsOf: [limit + 1])
            let rows = try Row.fetchAll(db, sql: Self.pageSQL(since: sinceMillis != nil), arguments: arguments)
            let items = rows.prefix(limit).map(Self.prediction)
            let next: String? =
                rows.count > limit
                ? PageToken(offset: Int(rows[limit - 1]["id"] as Int64), query: fingerprint).encoded : nil
            return Page(items: items, nextPageToken: next)
        }
    }

    /// The id of a request's primary record. `+id` keeps the planner on the request index: ordering by the bare id
    /// would have it walk the endpoint's whole log in id order instead.
    static let primaryRecordSQL = "SELECT id FROM predictions WHERE endpoint = ? AND request_id = ? AND kind = 'primary' ORDER BY +id LIMIT 1"

    /// The oldest record of a time window, found on the (endpoint, ts) index.
    static let windowStartSQL = "SELECT MIN(id) FROM predictions WHERE endpoint = ? AND ts >= ?"

    /// A page in log order after an id. `+ts` keeps the planner on the (endpoint, id) index, so rows come in log order
    /// without sorting the whole window first.
    static func pageSQL(since: Bool) -> String {
        "\(predictionColumns) WHERE endpoint = ? AND id > ?\(since ? " AND +ts >= ?" : "") ORDER BY id LIMIT ?"
    }

    /// The query plans of the prediction log's lookups (`EXPLAIN QUERY PLAN`), by query: what the indexes are for.
    package func predictionQueryPlans() async throws -> [String: String] {
        try await read { db in
            var plans: [String: String] = [:]
            let queries: [(String, String, StatementArguments)] = [
                ("feedback", Self.primaryRecordSQL, ["e", "r"]), ("window", Self.windowStartSQL, ["e", 0]),
                ("page", Self.pageSQL(since: false), ["e", 0, 10]), ("windowPage", Self.pageSQL(since: true), ["e", 0, 0, 10]),
            ]
            for (name, sql, arguments) in queries {
                plans[name] = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
                    .joined(separator: "; ")
            }
            return plans
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

    static func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }

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

/// Binds the values of one prediction record to the prepared insert. Text is copied by SQLite during the bind
/// (`SQLITE_TRANSIENT`), and made storable as ``SQLiteMetadataStore/storable(_:)`` does: a NUL character,
/// where SQLite would cut the text, becomes U+FFFD.
private struct PredictionInsert {
    let statement: OpaquePointer
    init(_ statement: OpaquePointer) { self.statement = statement }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func reset() {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    func step() -> Int32 { sqlite3_step(statement) }

    func text(_ index: Int32, _ value: String?) {
        guard var value else { return }  // cleared bindings are NULL
        let bound = value.withUTF8 { utf8 -> Bool in
            guard let base = utf8.baseAddress else {
                sqlite3_bind_text(statement, index, "", 0, Self.transient)
                return true
            }
            guard memchr(base, 0, utf8.count) == nil else { return false }
            sqlite3_bind_text(statement, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(clamping: utf8.count), Self.transient)
            return true
        }
        if !bound { text(index, SQLiteMetadataStore.storable(value)) }
    }

    func integer(_ index: Int32, _ value: Int64?) {
        guard let value else { return }
        sqlite3_bind_int64(statement, index, value)
    }

    func real(_ index: Int32, _ value: Double?) {
        guard let value else { return }
        sqlite3_bind_double(statement, index, value)
    }
}
