import Foundation
import Logging
import SlipwayCore
import SlipwayStore
import SlipwayStoreSQLite
import Testing

@testable import SlipwayGateway

/// What the prediction log's writer does to a batch on its way into a real SQLite store: features handed
/// over unhashed come out as their SHA-256, in the right record of a mixed batch, and every column reads
/// back as it was given (text SQLite cannot keep made storable, numbers that are not finite replaced).
@Suite(.timeLimit(.minutes(2))) struct PredictionLogBatchTests {
    private static func withStore(_ body: (SQLiteMetadataStore) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-prediction-batch-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(try SQLiteMetadataStore(path: folder.appendingPathComponent("metadata.sqlite").path))
    }

    @Test func featuresHashedByTheWriterLandInTheirOwnRecordsOfAMixedBatch() async throws {
        try await Self.withStore { store in
            let log = PredictionLog(store: store, logger: Logger(label: "prediction-batch-test"), batchSize: 64, interval: .milliseconds(20))
            var expected: [String: String?] = [:]
            for i in 0..<300 {
                let inputs = Array(#"[{"name":"x","data":[\#(i)]}]"#.utf8)
                var record = PredictionRecord(
                    requestId: "r\(i)", timestamp: Date(), endpoint: "churn", variant: i % 2 == 0 ? "stable" : "canary", modelVersion: "churn@1",
                    stickyKey: "user-\(i)", latencyMs: 1, status: 200)
                switch i % 3 {
                case 0:
                    log.record(record, hashing: inputs)
                    expected[record.requestId] = Digest(of: inputs).hex
                case 1:
                    record.features = "kept-\(i)"
                    log.record(record)
                    expected[record.requestId] = "kept-\(i)"
                default:
                    log.record(record)
                    expected[record.requestId] = String?.none
                }
            }
            await log.close()
            #expect(log.dropped == 0 && log.pending == 0)
            let logged = try await store.predictions(endpoint: "churn", since: nil, limit: 1_000, pageToken: nil).items
            #expect(logged.count == 300)
            for record in logged {
                #expect(expected[record.requestId] == .some(record.features), "features of \(record.requestId)")
                #expect(record.stickyKey == "user-\(record.requestId.dropFirst())")
            }
            // The SHA-256 of the empty input, a known vector, through the writer.
            let empty = PredictionLog(store: store, logger: Logger(label: "prediction-batch-test"))
            empty.record(
                PredictionRecord(requestId: "empty", timestamp: Date(), endpoint: "vectors", variant: "a", modelVersion: "m@1", latencyMs: 0, status: 200),
                hashing: [])
            await empty.close()
            let vector = try await store.predictions(endpoint: "vectors", since: nil, limit: 10, pageToken: nil).items
            #expect(vector.map(\.features) == ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"])
        }
    }

    @Test func everyColumnReadsBackAndHostileValuesAreMadeStorable() async throws {
        try await Self.withStore { store in
            let at = Date(timeIntervalSince1970: 1_800_000_000.123)
            let feedback = Feedback(groundTruth: "yes\u{0}no", outcome: .nan, receivedAt: at, by: "re\u{0}viewer")
            let given = [
                PredictionRecord(
                    requestId: "plain", timestamp: at, endpoint: "churn", variant: "stable", modelVersion: "churn@2", stickyKey: "u-1", kind: .mirror,
                    features: "[1,2]", prediction: "high", confidence: 0.75, latencyMs: 12.5, status: 201,
                    feedback: Feedback(groundTruth: "high", outcome: 1, receivedAt: at, by: "ops")),
                PredictionRecord(
                    requestId: "nul\u{0}id", timestamp: at, endpoint: "churn", variant: "stable", modelVersion: "churn@2", stickyKey: "a\u{0}b",
                    features: "\u{0}", prediction: "ünï\u{0}cødé", confidence: .infinity, latencyMs: .nan, status: 502, feedback: feedback),
                PredictionRecord(requestId: "bare", timestamp: at, endpoint: "churn", variant: "canary", modelVersion: "churn@3", latencyMs: 0, status: 200),
            ]
            try await store.appendPredictions(given)
            // The same batch again is skipped record by record, not written twice.
            try await store.appendPredictions(given)
            let logged = try await store.predictions(endpoint: "churn", since: nil, limit: 10, pageToken: nil).items
            #expect(logged.count == 3)
            let byId = Dictionary(uniqueKeysWithValues: logged.map { ($0.requestId, $0) })
            let plain = try #require(byId["plain"])
            #expect(plain.kind == .mirror && plain.features == "[1,2]" && plain.prediction == "high" && plain.confidence == 0.75)
            #expect(plain.latencyMs == 12.5 && plain.status == 201 && plain.stickyKey == "u-1" && plain.modelVersion == "churn@2")
            #expect(plain.feedback?.groundTruth == "high" && plain.feedback?.outcome == 1 && plain.feedback?.by == "ops")
            #expect(Timestamp.millis(plain.timestamp) == Timestamp.millis(at))
            let hostile = try #require(byId["nul\u{FFFD}id"])
            #expect(hostile.stickyKey == "a\u{FFFD}b" && hostile.features == "\u{FFFD}" && hostile.prediction == "ünï\u{FFFD}cødé")
            #expect(hostile.confidence == nil && hostile.latencyMs == 0 && hostile.status == 502)
            #expect(hostile.feedback?.groundTruth == "yes\u{FFFD}no" && hostile.feedback?.outcome == nil && hostile.feedback?.by == "re\u{FFFD}viewer")
            let bare = try #require(byId["bare"])
            #expect(bare.stickyKey == nil && bare.features == nil && bare.prediction == nil && bare.confidence == nil && bare.feedback == nil)
        }
    }
}
