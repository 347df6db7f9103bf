import Foundation
import SlipwayCore
import SlipwayStore
@testable import SlipwayStoreSQLite
import Testing

/// The embedded store's prediction log on its files: segments sealed and indexed, reopening, a write a crash cut
/// off, damaged and missing files, two openers of one folder, and the move from the prediction table.
@Suite("prediction log segments")
struct PredictionSegmentsTests {
    /// A folder of its own, removed at the end of `body`.
    func withFolder(_ body: (String) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-segments-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder.path)
    }

    static func record(_ number: Int, endpoint: String = "churn-api", kind: PredictionRecord.Kind = .primary, variant: String = "stable")
        -> PredictionRecord
    {
        PredictionRecord(
            requestId: "req-\(number)", timestamp: Timestamp.date(millis: 1_790_000_000_000 + Int64(number)), endpoint: endpoint,
            variant: variant, modelVersion: "churn@1", stickyKey: "user-\(number % 17)", kind: kind,
            features: "sha256:" + String(repeating: "ab", count: 32), prediction: String(number % 3), confidence: 0.5, latencyMs: 1.5,
            status: 200)
    }

    /// Every record of an endpoint, page by page.
    static func all(_ log: PredictionSegments, endpoint: String = "churn-api", since: Int64? = nil, limit: Int = 1_000) async throws
        -> [PredictionRecord]
    {
        var records: [PredictionRecord] = []
        var after: UInt64 = 0
        while true {
            let page = try await log.page(endpoint: endpoint, since: since, after: after, limit: limit)
            records += page.items
            guard let next = page.next else { return records }
            #expect(page.items.count == limit)
            after = next
        }
    }

    /// Every record of an endpoint in a store, page by page.
    static func all(_ store: SQLiteMetadataStore, endpoint: String, since: Date? = nil, limit: Int) async throws -> [PredictionRecord] {
        var records: [PredictionRecord] = []
        var token: String?
        repeat {
            let page = try await store.predictions(endpoint: endpoint, since: since, limit: limit, pageToken: token)
            records += page.items
            token = page.nextPageToken
        } while token != nil
        return records
    }

    static func segmentFiles(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".segment") }.sorted().map { folder + "/" + $0 }
    }

    static func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
    }

    static func size(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    @Test("full segments are sealed and indexed; reads, feedback and duplicates work across them")
    func sealedSegments() async throws {
        try await withFolder { folder in
            let log = try PredictionSegments(folder: folder, segmentBytes: 4_096)
            let churn = (0..<600).map { Self.record($0) }
            let fraud = (0..<50).map { Self.record($0, endpoint: "fraud-api") }
            for start in stride(from: 0, to: 600, by: 40) {
                try await log.append(Array(churn[start..<(start + 40)]) + (start < 50 ? Array(fraud[start..<min(start + 40, 50)]) : []))
            }
            #expect(log.segmentCount > 10, "600 records of about 250 bytes fill many 4 KiB segments")
            for limit in [1, 7, 128, 1_000] {
                #expect(try await Self.all(log, limit: limit) == churn, "limit \(limit)")
            }
            #expect(try await Self.all(log, endpoint: "fraud-api", limit: 9) == fraud)
            #expect(try await Self.all(log, endpoint: "other").isEmpty)
            let since = Timestamp.millis(churn[450].timestamp)
            #expect(try await Self.all(log, since: since, limit: 13) == Array(churn[450...]))

            // Feedback on a record in the first, sealed segment and on one in the active segment.
            let label = Feedback(groundTruth: "1", receivedAt: Timestamp.date(millis: 1_790_000_100_000), by: "alice")
            #expect(try await log.attachFeedback(endpoint: "churn-api", requestId: "req-3", feedback: label).feedback == label)
            #expect(try await log.attachFeedback(endpoint: "churn-api", requestId: "req-599", feedback: label).feedback == label)
            await #expect(throws: StoreError.self) {
                _ = try await log.attachFeedback(endpoint: "fraud-api", requestId: "req-100", feedback: label)
            }
            // A retried batch whose records are in sealed segments is skipped, also mixed with new records.
            try await log.append(Array(churn[0..<40]) + [Self.record(600)] + Array(churn[300..<340]))
            let read = try await Self.all(log)
            #expect(read.count == 601)
            #expect(read.map(\.requestId) == (0...600).map { "req-\($0)" })
            #expect(read[3].feedback == label && read[599].feedback == label && read[4].feedback == nil)
        }
    }

    @Test("a reopened log has every record and feedback, continues the sequence and honours earlier page tokens")
    func reopening() async throws {
        try await withFolder { folder in
            let records = (0..<300).map { Self.record($0) }
            let label = Feedback(outcome: 2.5, receivedAt: Timestamp.date(millis: 1_790_000_100_000), by: "bob")
            let pageBefore: (items: [PredictionRecord], next: UInt64?)
            do {
                let log = try PredictionSegments(folder: folder, segmentBytes: 8_192)
                try await log.append(Array(records[0..<200]))
                _ = try await log.attachFeedback(endpoint: "churn-api", requestId: "req-7", feedback: label)
                pageBefore = try await log.page(endpoint: "churn-api", since: nil, after: 0, limit: 50)
            }
            let log = try PredictionSegments(folder: folder, segmentBytes: 8_192)
            try await log.append(Array(records[150..<300]))
            let read = try await Self.all(log, limit: 64)
            #expect(read.map(\.requestId) == records.map(\.requestId))
            #expect(read[7].feedback == label)
            let next = try #require(pageBefore.next)
            #expect(try await log.page(endpoint: "churn-api", since: nil, after: next, limit: 50).items == Array(read[50..<100]))
        }
    }

    @Test("a write a crash cut off is cut away: the log ends at the last whole batch and takes new ones after it")
    func tornTail() async throws {
        try await withFolder { folder in
            let first = (0..<20).map { Self.record($0) }
            do {
                let log = try PredictionSegments(folder: folder)
                try await log.append(first)
            }
            let segment = try #require(try Self.segmentFiles(folder).last)
            let whole = try Self.size(segment)
            // Half of a batch frame: a header that promises more than follows.
            var torn: [UInt8] = [0x53, 0x50, 0x42, 0x31, 0x00, 0x10, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0]
            torn += [UInt8](repeating: 0xAB, count: 40)
            try Self.append(torn, to: segment)
            let log = try PredictionSegments(folder: folder)
            #expect(try await Self.all(log) == first)
            #expect(try Self.size(segment) == whole, "the torn frame is cut away when the log is first used")
            let second = (20..<30).map { Self.record($0) }
            try await log.append(second)
            #expect(try await Self.all(log) == first + second)
            let reopened = try PredictionSegments(folder: folder)
            #expect(try await Self.all(reopened) == first + second)
        }
    }

    @Test("a batch whose bytes changed on disk ends the log before it; hostile frame headers are no crash")
    func damagedFrames() async throws {
        try await withFolder { folder in
            let batches = (0..<3).map { batch in (0..<10).map { Self.record(batch * 10 + $0) } }
            do {
                let log = try PredictionSegments(folder: folder)
                for batch in batches { try await log.append(batch) }
            }
            let segment = try #require(try Self.segmentFiles(folder).last)
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segment)))
            // Flip one byte inside the last batch's payload.
            bytes[bytes.count - 10] ^= 0x40
            try Data(bytes).write(to: URL(fileURLWithPath: segment))
            let log = try PredictionSegments(folder: folder)
            #expect(try await Self.all(log) == batches[0] + batches[1])

            // Frame headers claiming gigabytes, a record count beyond the payload, unknown magic.
            for hostile: [UInt8] in [
                [0x53, 0x50, 0x42, 0x31, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 12),
                [0x53, 0x50, 0x42, 0x31, 0x04, 0, 0, 0, 0xFF, 0xFF, 0, 0] + [UInt8](repeating: 0, count: 16),
                [UInt8](repeating: 0x7F, count: 100),
            ] {
                try Self.append(hostile, to: segment)
                let reopened = try PredictionSegments(folder: folder)
                #expect(try await Self.all(reopened) == batches[0] + batches[1])
            }
        }
    }

    @Test("random damage to the files opens as a shorter log or a clear error, never a crash")
    func fuzzedFiles() async throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<40 {
            try await withFolder { folder in
                let records = (0..<120).map { Self.record($0) }
                do {
                    let log = try PredictionSegments(folder: folder, segmentBytes: 4_096)
                    for start in stride(from: 0, to: 120, by: 20) { try await log.append(Array(records[start..<(start + 20)])) }
                    _ = try await log.attachFeedback(
                        endpoint: "churn-api", requestId: "req-5", feedback: Feedback(outcome: 1, receivedAt: Timestamp.now(), by: "a"))
                }
                let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0 != "lock" }.sorted()
                let victim = folder + "/" + files[Int.random(in: 0..<files.count, using: &generator)]
                var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: victim)))
                switch round % 3 {
                case 0: bytes = Array(bytes.prefix(Int.random(in: 0..<max(bytes.count, 1), using: &generator)))
                case 1:
                    for _ in 0..<4 where !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255) }
                default: bytes += (0..<Int.random(in: 1..<300, using: &generator)).map { _ in UInt8.random(in: 0...255) }
                }
                try Data(bytes).write(to: URL(fileURLWithPath: victim))
                do {
                    let log = try PredictionSegments(folder: folder, segmentBytes: 4_096)
                    let read = try await Self.all(log, limit: 17)
                    #expect(read.count <= records.count)
                    for record in read { #expect(records.contains { $0.requestId == record.requestId }) }
                    try await log.append([Self.record(1_000)])
                } catch let error as StoreError {
                    #expect(error.kind == .unavailable, "\(error)")
                    #expect(error.message.contains(folder), "the error names the file: \(error.message)")
                }
            }
        }
    }

    @Test("a sealed segment's missing or damaged index is built again from the segment")
    func indexRebuilt() async throws {
        try await withFolder { folder in
            let records = (0..<200).map { Self.record($0) }
            do {
                let log = try PredictionSegments(folder: folder, segmentBytes: 4_096)
                try await log.append(records)
                try await log.append([Self.record(200)])
            }
            let indexes = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".index") }.sorted()
            #expect(!indexes.isEmpty)
            try FileManager.default.removeItem(atPath: folder + "/" + indexes[0])
            if indexes.count > 1 {
                var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + indexes[1])))
                bytes[bytes.count / 2] ^= 0xFF
                try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + indexes[1]))
            }
            let log = try PredictionSegments(folder: folder, segmentBytes: 4_096)
            #expect(try await Self.all(log).count == 201)
            #expect(FileManager.default.fileExists(atPath: folder + "/" + indexes[0]))
            let label = Feedback(groundTruth: "x", receivedAt: Timestamp.now(), by: "c")
            #expect(try await log.attachFeedback(endpoint: "churn-api", requestId: "req-0", feedback: label).requestId == "req-0")
            try await log.append(Array(records[0..<10]))
            #expect(try await Self.all(log).count == 201, "records in a rebuilt segment are still found as duplicates")
        }
    }

    @Test("two openers of one folder see each other's records, seals and feedback")
    func twoOpeners() async throws {
        try await withFolder { folder in
            let first = try PredictionSegments(folder: folder, segmentBytes: 4_096)
            let second = try PredictionSegments(folder: folder, segmentBytes: 4_096)
            let records = (0..<400).map { Self.record($0) }
            // Appends alternate between the two, concurrently, so that each seals segments the other has open.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for start in stride(from: 0, to: 200, by: 10) { try await first.append(Array(records[start..<(start + 10)])) } }
                group.addTask {
                    for start in stride(from: 200, to: 400, by: 10) { try await second.append(Array(records[start..<(start + 10)])) }
                }
                try await group.waitForAll()
            }
            let fromFirst = try await Self.all(first, limit: 33)
            let fromSecond = try await Self.all(second, limit: 50)
            #expect(fromFirst == fromSecond)
            #expect(Set(fromFirst.map(\.requestId)) == Set(records.map(\.requestId)))
            #expect(fromFirst.count == 400)
            // Both skip what the other wrote.
            try await second.append(Array(records[0..<50]))
            #expect(try await Self.all(first).count == 400)
            let label = Feedback(groundTruth: "0", receivedAt: Timestamp.now(), by: "d")
            _ = try await first.attachFeedback(endpoint: "churn-api", requestId: "req-390", feedback: label)
            #expect(try await Self.all(second).first { $0.requestId == "req-390" }?.feedback == label)
        }
    }

    @Test("a file in the folder that is not a segment is a clear error")
    func foreignFile() async throws {
        try await withFolder { folder in
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("hello, this is not a segment".utf8).write(to: URL(fileURLWithPath: folder + "/00000000000000000001.segment"))
            let log = try PredictionSegments(folder: folder)
            let error = await #expect(throws: StoreError.self) { _ = try await log.page(endpoint: "churn-api", since: nil, after: 0, limit: 10) }
            #expect(error?.kind == .unavailable)
            #expect(error?.message.contains("not a Slipway prediction log segment") == true)
            #expect(try String(contentsOfFile: folder + "/00000000000000000001.segment", encoding: .utf8) == "hello, this is not a segment")
        }
    }

    @Test("a database whose prediction table has rows moves them to the segment files in log order, feedback included")
    func moveFromTable() async throws {
        try await withFolder { folder in
            let path = folder + "/metadata.sqlite"
            var records = (0..<250).map { Self.record($0, variant: $0.isMultiple(of: 2) ? "stable" : "canary") }
            records[3].feedback = Feedback(groundTruth: "1", outcome: 4, receivedAt: Timestamp.date(millis: 1_790_000_500_000), by: "eve")
            records.append(Self.record(3, kind: .mirror, variant: "shadow"))
            do {
                let old = try SQLiteMetadataStore(path: path, schemaUpTo: "v5")
                try await old.insertIntoPredictionTable(records)
            }
            let store = try SQLiteMetadataStore(path: path)
            #expect(try await store.appliedMigrations().last == "v6")
            #expect(try await Self.all(store, endpoint: "churn-api", limit: 100) == records)
            let reopened = try SQLiteMetadataStore(path: path)
            #expect(try await reopened.predictions(endpoint: "churn-api", since: nil, limit: 1_000, pageToken: nil).items == records)
            #expect(FileManager.default.fileExists(atPath: path + "-predictions/feedback"))
        }
    }
}
