import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayStoreSQLite
import Testing

@Suite("SQLite prediction log")
struct SQLitePredictionLogTests {
    /// A store on a new file in a folder of its own; the folder is removed by `body`'s end.
    func withStore(_ body: (SQLiteMetadataStore) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-predictions-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(try SQLiteMetadataStore(path: folder.appendingPathComponent("metadata.sqlite").path))
    }

    @Test("a window's pages and a feedback lookup read the same records in a large log as in a small one")
    func windowOverLargeLog() async throws {
        try await withStore { store in
            // Old records first, then a window of recent ones with a few late arrivals mixed in.
            var records: [PredictionRecord] = []
            for index in 0..<5_000 {
                let late = index > 4_000 && index.isMultiple(of: 97)
                records.append(
                    PredictionRecord(
                        requestId: "req-\(index)", timestamp: Timestamp.date(millis: late ? 10 : Int64(index) * 1_000), endpoint: "churn-api",
                        variant: "stable", modelVersion: "churn@1", latencyMs: 1, status: 200))
            }
            try await store.appendPredictions(records)
            let since = Timestamp.date(millis: 4_500 * 1_000)
            let read = try await PredictionSegmentsTests.all(store, endpoint: "churn-api", since: since, limit: 128)
            #expect(read == records.filter { $0.timestamp >= since })
            let updated = try await store.attachFeedback(
                endpoint: "churn-api", requestId: "req-4999", feedback: Feedback(outcome: 1, receivedAt: Timestamp.now(), by: "alice"))
            #expect(updated.requestId == "req-4999")
        }
    }
}
