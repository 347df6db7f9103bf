import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

extension MetadataStoreConformance {
    // MARK: Helpers

    /// An instant at whole milliseconds (what the log keeps), `offset` milliseconds after a fixed start.
    static func logTime(_ offset: Int64) -> Date { Timestamp.date(millis: 1_790_000_000_000 + offset) }

    /// A plain primary record of `endpoint`, numbered so that its fields tell it apart.
    static func logged(
        _ endpoint: String, _ number: Int, kind: PredictionRecord.Kind = .primary, variant: String = "stable", at offset: Int64? = nil
    ) -> PredictionRecord {
        PredictionRecord(
            requestId: "req-\(number)", timestamp: logTime(offset ?? Int64(number)), endpoint: endpoint, variant: variant, modelVersion: "churn@1",
            kind: kind, prediction: String(number % 2), confidence: 0.5 + Double(number % 5) / 10, latencyMs: Double(number) + 0.25, status: 200)
    }

    /// Every record of an endpoint, page by page with `limit`, checking each page's size on the way.
    static func allPredictions(
        _ store: any MetadataStore, endpoint: String, since: Date? = nil, limit: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [PredictionRecord] {
        var records: [PredictionRecord] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try await store.predictions(endpoint: endpoint, since: since, limit: limit, pageToken: token)
            #expect(page.items.count <= limit, sourceLocation: sourceLocation)
            #expect(page.nextPageToken == nil || page.items.count == limit, "only the last page may be short", sourceLocation: sourceLocation)
            records += page.items
            token = page.nextPageToken
            pages += 1
            guard pages <= 10_000 else {
                Issue.record("paging does not end", sourceLocation: sourceLocation)
                break
            }
        } while token != nil
        return records
    }

    // MARK: Cases

    /// A batch is logged in one go and read back in log order with every field, absent ones included.
    public static func predictionsRoundTrip(_ store: any MetadataStore) async throws {
        #expect(try await store.predictions(endpoint: "churn-api", since: nil, limit: 10, pageToken: nil) == Page(items: [], nextPageToken: nil))
        try await store.appendPredictions([])

        let full = PredictionRecord(
            requestId: "7f3c9a1e-0001", timestamp: logTime(1), endpoint: "churn-api", variant: "stable", modelVersion: "churn@3",
            stickyKey: "user-42", kind: .primary, features: #"{"inputs":[{"name":"x","data":[1.5,2]}]}"#, prediction: "1", confidence: 0.875,
            latencyMs: 12.625, status: 200,
            feedback: Feedback(groundTruth: "0", outcome: 19.99, receivedAt: logTime(5_000), by: "labeler"))
        let bare = PredictionRecord(
            requestId: "7f3c9a1e-0002", timestamp: logTime(2), endpoint: "churn-api", variant: "canary", modelVersion: "churn@4", latencyMs: 0,
            status: 502)
        let mirrored = PredictionRecord(
            requestId: "7f3c9a1e-0001", timestamp: logTime(3), endpoint: "churn-api", variant: "shadow", modelVersion: "churn@5",
            stickyKey: "user-42", kind: .mirror, features: "sha256:" + String(repeating: "ab", count: 32), prediction: "churn", confidence: 1,
            latencyMs: 30_000, status: 200)
        let outcomeOnly = PredictionRecord(
            requestId: "7f3c9a1e-0003", timestamp: logTime(0), endpoint: "churn-api", variant: "stable", modelVersion: "churn@3", prediction: "-0.25",
            confidence: 0, latencyMs: 1, status: 200, feedback: Feedback(outcome: 0, receivedAt: logTime(9), by: ""))
        let batch = [full, bare, mirrored, outcomeOnly]
        try await store.appendPredictions(batch)

        let page = try await store.predictions(endpoint: "churn-api", since: nil, limit: 10, pageToken: nil)
        #expect(page.nextPageToken == nil)
        #expect(page.items == batch, "records come back in the order they were logged, not by timestamp")
        for (read, written) in zip(page.items, batch) {
            #expect(read.requestId == written.requestId)
            #expect(read.timestamp == written.timestamp)
            #expect(read.kind == written.kind)
            #expect(read.stickyKey == written.stickyKey)
            #expect(read.features == written.features)
            #expect(read.prediction == written.prediction)
            #expect(read.confidence == written.confidence)
            #expect(read.latencyMs == written.latencyMs)
            #expect(read.status == written.status)
            #expect(read.feedback == written.feedback)
        }
        #expect(page.items[1].stickyKey == nil && page.items[1].features == nil && page.items[1].prediction == nil)
        #expect(page.items[1].confidence == nil && page.items[1].feedback == nil)
        #expect(page.items[3].feedback?.groundTruth == nil && page.items[3].feedback?.outcome == 0)

        // A second batch continues the log after the first.
        let later = logged("churn-api", 9)
        try await store.appendPredictions([later])
        #expect(try await store.predictions(endpoint: "churn-api", since: nil, limit: 10, pageToken: nil).items == batch + [later])
    }

    /// A record whose (endpoint, request id, kind, variant) is logged already is skipped, so a retried batch is not logged twice;
    /// a different kind or variant of the same request is a record of its own.
    public static func predictionsSkipDuplicates(_ store: any MetadataStore) async throws {
        let first = (1...3).map { logged("churn-api", $0) }
        try await store.appendPredictions(first)
        var changed = first[1]
        changed.prediction = "changed"
        changed.latencyMs = 999
        changed.timestamp = logTime(50_000)
        let mirror = logged("churn-api", 2, kind: .mirror, variant: "shadow")
        let otherVariant = logged("churn-api", 2, variant: "canary")
        let fresh = logged("churn-api", 4)
        // The retry carries the whole first batch again, one record changed, one twice, and new ones.
        try await store.appendPredictions(first + [changed, mirror, otherVariant, fresh, fresh, mirror])

        let records = try await store.predictions(endpoint: "churn-api", since: nil, limit: 100, pageToken: nil).items
        #expect(records == first + [mirror, otherVariant, fresh])
        #expect(records[1].prediction == first[1].prediction, "a duplicate does not overwrite what was logged first")
        // Feedback attached in between survives a retried batch.
        _ = try await store.attachFeedback(
            endpoint: "churn-api", requestId: "req-1", feedback: Feedback(groundTruth: "1", receivedAt: logTime(10), by: alice))
        try await store.appendPredictions(first)
        let again = try await store.predictions(endpoint: "churn-api", since: nil, limit: 100, pageToken: nil).items
        #expect(again.count == records.count)
        #expect(again.first?.feedback?.groundTruth == "1")

        // Large batches (which a store may insert many rows at a time): a retry skips what it already has, duplicates
        // within one batch included, wherever they fall in it, and keeps everything new in order.
        let bulk = (0..<300).map { logged("churn-bulk", $0) }
        try await store.appendPredictions(Array(bulk[0..<100]))
        try await store.appendPredictions(Array(bulk[0..<130]) + [bulk[5], bulk[64], bulk[129]] + Array(bulk[130..<300]) + [bulk[299]])
        #expect(try await allPredictions(store, endpoint: "churn-bulk", limit: 1_000) == bulk)
    }

    /// Pages follow each other with no record twice and none left out, also while the log grows; `since` keeps
    /// records at or after an instant, whatever order they were logged in.
    public static func predictionsPaging(_ store: any MetadataStore) async throws {
        var written: [PredictionRecord] = []
        for start in stride(from: 0, to: 60, by: 20) {
            let batch = (start..<start + 20).map { logged("churn-api", $0) }
            try await store.appendPredictions(batch)
            written += batch
        }
        for limit in [1, 7, 20, 59, 60, 61, 10_000] {
            let read = try await allPredictions(store, endpoint: "churn-api", limit: limit)
            #expect(read == written, "limit \(limit)")
        }
        // Exactly full pages: the last page of a log that ends at a page boundary has no next token.
        let first = try await store.predictions(endpoint: "churn-api", since: nil, limit: 30, pageToken: nil)
        #expect(first.items == Array(written[0..<30]))
        let tokenAfterFirst = try #require(first.nextPageToken)
        let second = try await store.predictions(endpoint: "churn-api", since: nil, limit: 30, pageToken: tokenAfterFirst)
        #expect(second.items == Array(written[30..<60]))
        #expect(second.nextPageToken == nil)

        // The log grows between pages: a token keeps its place, and the new records come on later pages.
        let grown = (60..<65).map { logged("churn-api", $0) }
        try await store.appendPredictions(grown)
        written += grown
        let resumed = try await store.predictions(endpoint: "churn-api", since: nil, limit: 30, pageToken: tokenAfterFirst)
        #expect(resumed.items == Array(written[30..<60]))
        let rest = try await store.predictions(endpoint: "churn-api", since: nil, limit: 30, pageToken: try #require(resumed.nextPageToken))
        #expect(rest.items == grown)
        #expect(rest.nextPageToken == nil)
        // A token may be used with another page size.
        let small = try await store.predictions(endpoint: "churn-api", since: nil, limit: 2, pageToken: tokenAfterFirst)
        #expect(small.items == Array(written[30..<32]))

        // Late records: logged after newer ones, with older timestamps.
        let late = [logged("churn-api", 100, at: 5), logged("churn-api", 101, at: 45), logged("churn-api", 102, at: 10_000)]
        try await store.appendPredictions(late)
        written += late
        for (since, limit) in [(Int64(40), 3), (40, 100), (0, 7), (-1_000, 10_000), (64, 1), (65, 5), (10_000, 2)] {
            let expected = written.filter { $0.timestamp >= logTime(since) }
            let read = try await allPredictions(store, endpoint: "churn-api", since: logTime(since), limit: limit)
            #expect(read == expected, "since +\(since) ms, limit \(limit)")
        }
        #expect(try await store.predictions(endpoint: "churn-api", since: logTime(10_001), limit: 10, pageToken: nil).items.isEmpty)
        #expect(try await store.predictions(endpoint: "churn-api", since: logTime(10_001), limit: 10, pageToken: nil).nextPageToken == nil)
    }

    /// Page sizes run from 1 to 10,000; a token is only good for the query (endpoint and `since`) it was issued for.
    public static func predictionsLimitsAndTokens(_ store: any MetadataStore) async throws {
        try await store.appendPredictions((0..<5).map { logged("churn-api", $0) } + (0..<5).map { logged("fraud-api", $0) })
        for limit in [0, -1, 10_001, Int.max, Int.min] {
            await expectError(.invalidArgument, containing: ["10000"]) {
                _ = try await store.predictions(endpoint: "churn-api", since: nil, limit: limit, pageToken: nil)
            }
        }
        #expect(try await store.predictions(endpoint: "churn-api", since: nil, limit: 10_000, pageToken: nil).items.count == 5)

        let token = try #require(try await store.predictions(endpoint: "churn-api", since: nil, limit: 2, pageToken: nil).nextPageToken)
        #expect(try await store.predictions(endpoint: "churn-api", since: nil, limit: 2, pageToken: token).items.count == 2)
        let garbage = [
            "", "garbage", "eyJvIjoyfQ", "%%%", "eyJvIjotMSwicSI6InByZWRpY3Rpb25zIn0", String(repeating: "A", count: 5000), token + "x",
            String(token.dropLast()), String(token.reversed()),
        ]
        for text in garbage {
            await expectError(.invalidArgument) { _ = try await store.predictions(endpoint: "churn-api", since: nil, limit: 2, pageToken: text) }
        }
        // Another endpoint's, another window's or a search's token is refused, not read as a place in this log.
        await expectError(.invalidArgument) { _ = try await store.predictions(endpoint: "fraud-api", since: nil, limit: 2, pageToken: token) }
        await expectError(.invalidArgument) { _ = try await store.predictions(endpoint: "CHURN-API", since: nil, limit: 2, pageToken: token) }
        await expectError(.invalidArgument) {
            _ = try await store.predictions(endpoint: "churn-api", since: logTime(0), limit: 2, pageToken: token)
        }
        let windowToken = try #require(try await store.predictions(endpoint: "churn-api", since: logTime(1), limit: 1, pageToken: nil).nextPageToken)
        #expect(
            try await store.predictions(endpoint: "churn-api", since: logTime(1), limit: 1, pageToken: windowToken).items.map(\.requestId) == [
                "req-2"
            ])
        await expectError(.invalidArgument) { _ = try await store.predictions(endpoint: "churn-api", since: nil, limit: 1, pageToken: windowToken) }
        await expectError(.invalidArgument) {
            _ = try await store.predictions(endpoint: "churn-api", since: logTime(2), limit: 1, pageToken: windowToken)
        }
        try await seed(store, model: "paged", versions: 3)
        let searchToken = try #require(try await store.searchVersions(SearchQuery(limit: 1)).nextPageToken)
        await expectError(.invalidArgument) { _ = try await store.predictions(endpoint: "churn-api", since: nil, limit: 1, pageToken: searchToken) }
        await expectError(.invalidArgument) { _ = try await store.searchVersions(SearchQuery(limit: 1, pageToken: token)) }
    }

    /// Feedback goes to the primary record of a request (never to a mirrored copy), replaces earlier feedback whole,
    /// and is refused for a request the endpoint has not logged.
    public static func feedbackAttachesToPrimary(_ store: any MetadataStore) async throws {
        let primary = logged("churn-api", 1)
        let mirror = logged("churn-api", 1, kind: .mirror, variant: "shadow", at: 2)
        let mirrorOnly = logged("churn-api", 2, kind: .mirror, variant: "shadow")
        try await store.appendPredictions([mirror, primary, mirrorOnly])

        let label = Feedback(groundTruth: "1", outcome: 12.5, receivedAt: logTime(1_000), by: alice)
        let updated = try await store.attachFeedback(endpoint: "churn-api", requestId: "req-1", feedback: label)
        var expected = primary
        expected.feedback = label
        #expect(updated == expected)
        #expect(try await store.predictions(endpoint: "churn-api", since: nil, limit: 10, pageToken: nil).items == [mirror, expected, mirrorOnly])

        // Later feedback replaces the earlier one whole: a field it leaves out is gone.
        let correction = Feedback(outcome: -3, receivedAt: logTime(2_000), by: bob)
        let corrected = try await store.attachFeedback(endpoint: "churn-api", requestId: "req-1", feedback: correction)
        #expect(corrected.feedback == correction)
        #expect(corrected.feedback?.groundTruth == nil)
        let relabel = Feedback(groundTruth: "churned — by phone", receivedAt: logTime(3_000), by: alice)
        #expect(try await store.attachFeedback(endpoint: "churn-api", requestId: "req-1", feedback: relabel).feedback == relabel)
        let records = try await store.predictions(endpoint: "churn-api", since: nil, limit: 10, pageToken: nil).items
        #expect(records.map(\.feedback) == [nil, relabel, nil])

        for (endpoint, requestId) in [
            ("churn-api", "req-9"), ("churn-api", "req-2"), ("fraud-api", "req-1"), ("churn-api", "REQ-1"), ("churn-api", ""),
        ] {
            await expectError(.notFound, containing: ["'\(requestId)'"]) {
                _ = try await store.attachFeedback(endpoint: endpoint, requestId: requestId, feedback: label)
            }
        }
        for outcome in [Double.nan, .infinity, -.infinity] {
            await expectError(.invalidArgument) {
                _ = try await store.attachFeedback(
                    endpoint: "churn-api", requestId: "req-1", feedback: Feedback(outcome: outcome, receivedAt: logTime(0), by: alice))
            }
        }
        #expect(
            try await store.predictions(endpoint: "churn-api", since: nil, limit: 10, pageToken: nil).items == records,
            "refused feedback changes nothing")
    }

    /// One endpoint's log never shows another's records, even with the same request ids; names are case-sensitive.
    public static func predictionsOfOtherEndpointsInvisible(_ store: any MetadataStore) async throws {
        let churn = (0..<4).map { logged("churn-api", $0) }
        let fraud = (0..<3).map { logged("fraud-api", $0, variant: "blue") }
        let upper = [logged("CHURN-API", 0)]
        var mixed: [PredictionRecord] = []
        for index in 0..<4 {
            mixed.append(churn[index])
            if index < fraud.count { mixed.append(fraud[index]) }
        }
        try await store.appendPredictions(mixed + upper)
        #expect(try await allPredictions(store, endpoint: "churn-api", limit: 3) == churn)
        #expect(try await allPredictions(store, endpoint: "fraud-api", limit: 2) == fraud)
        #expect(try await allPredictions(store, endpoint: "CHURN-API", limit: 2) == upper)
        #expect(try await allPredictions(store, endpoint: "churn", limit: 2).isEmpty)
        #expect(try await allPredictions(store, endpoint: "churn-api%", limit: 2).isEmpty)

        _ = try await store.attachFeedback(
            endpoint: "fraud-api", requestId: "req-0", feedback: Feedback(groundTruth: "fraud", receivedAt: logTime(100), by: alice))
        #expect(try await allPredictions(store, endpoint: "churn-api", limit: 10) == churn, "feedback on one endpoint leaves the others alone")
        #expect(try await allPredictions(store, endpoint: "fraud-api", limit: 10).first?.feedback?.groundTruth == "fraud")
    }

    /// Quotes, SQL, non-Latin and long text are kept as given; what no backend can keep is made storable instead of
    /// costing the batch: NUL characters become U+FFFD, a non-finite confidence is absent and a non-finite latency is 0.
    public static func hostilePredictionStrings(_ store: any MetadataStore) async throws {
        let values = [
            "it's \"quoted\"", "'; DROP TABLE predictions; --", "Zürich — 東京 🚀", "100%", "a_b", "back\\slash", "line\nbreak,comma", "",
            String(repeating: "long value ", count: 10_000),
        ]
        let records = values.enumerated().map { index, value in
            PredictionRecord(
                requestId: "r\(index) \(value.prefix(100))", timestamp: logTime(Int64(index)), endpoint: "hostile", variant: "stable",
                modelVersion: value, stickyKey: value, features: value, prediction: value, latencyMs: 1, status: 200,
                feedback: Feedback(groundTruth: value, receivedAt: logTime(0), by: value))
        }
        try await store.appendPredictions(records)
        #expect(try await allPredictions(store, endpoint: "hostile", limit: 4) == records)
        for record in records {
            let label = Feedback(groundTruth: record.features, outcome: 1, receivedAt: logTime(7), by: "o'brien")
            #expect(try await store.attachFeedback(endpoint: "hostile", requestId: record.requestId, feedback: label).feedback == label)
        }

        let odd = PredictionRecord(
            requestId: "nul\u{0}id", timestamp: logTime(99), endpoint: "hostile", variant: "stable", modelVersion: "m@1", stickyKey: "a\u{0}b",
            features: "{\u{0}}", prediction: "\u{0}", confidence: .nan, latencyMs: .infinity, status: 200)
        let infinite = PredictionRecord(
            requestId: "inf", timestamp: logTime(100), endpoint: "hostile", variant: "stable", modelVersion: "m@1", confidence: -.infinity,
            latencyMs: .nan, status: 504)
        try await store.appendPredictions([odd, infinite])
        let tail = try await store.predictions(endpoint: "hostile", since: logTime(99), limit: 10, pageToken: nil).items
        #expect(tail.count == 2, "records with values a backend cannot keep are stored, not dropped")
        #expect(tail.first?.requestId == "nul\u{FFFD}id")
        #expect(tail.first?.stickyKey == "a\u{FFFD}b")
        #expect(tail.first?.features == "{\u{FFFD}}")
        #expect(tail.first?.prediction == "\u{FFFD}")
        #expect(tail.first?.confidence == nil)
        #expect(tail.first?.latencyMs == 0)
        #expect(tail.last?.confidence == nil)
        #expect(tail.last?.latencyMs == 0)
        #expect(
            try await store.attachFeedback(
                endpoint: "hostile", requestId: "nul\u{FFFD}id", feedback: Feedback(outcome: 1, receivedAt: logTime(1), by: alice)
            ).status == 200)
        await expectError(.invalidArgument) {
            _ = try await store.attachFeedback(
                endpoint: "hostile", requestId: "inf", feedback: Feedback(groundTruth: "a\u{0}b", receivedAt: logTime(1), by: alice))
        }
    }
}
