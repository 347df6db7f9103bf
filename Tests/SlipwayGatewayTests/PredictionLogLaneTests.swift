import Foundation
import Logging
import SlipwayCore
import SlipwayStore
import SlipwayStoreSQLite
import Testing

@testable import SlipwayGateway

/// Lanes: the queues gateway threads hand the prediction log their records through without a lock, written
/// into a real SQLite store on a temporary file.
@Suite(.timeLimit(.minutes(3))) struct PredictionLogLaneTests {
    static func record(_ id: String) -> PredictionRecord {
        PredictionRecord(
            requestId: id, timestamp: Date(), endpoint: "churn", variant: "stable", modelVersion: "churn@1", prediction: "low", latencyMs: 1,
            status: 200)
    }

    static func hash(_ bytes: [UInt8]) -> String {
        var hasher = DigestHasher()
        bytes.withUnsafeBytes { hasher.update(bytes: $0) }
        return hasher.finalize().hex
    }

    /// Starts `count` threads that each run `body` with their index, and waits for all of them.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for index in 0..<count {
                group.enter()
                Thread {
                    body(index)
                    group.leave()
                }.start()
            }
            group.notify(queue: .global()) { done.resume() }
        }
    }

    @Test func recordsFromSeveralLanesAndTheSharedBufferAreAllWrittenInTheirThreadsOrder() async throws {
        try await PredictionLogTests.withFailingStore(failures: 0) { store, logger in
            let log = PredictionLog(store: store, logger: logger, batchSize: 64, interval: .milliseconds(5))
            let lanes = [log.makeLane(), log.makeLane()]
            #expect(log.laneCount == 2)
            let perThread = 3_000
            await Self.onThreads(3) { thread in
                for i in 0..<perThread {
                    let id = "t\(thread)-\(i)"
                    if thread == 2 {
                        log.record(Self.record(id))
                    } else if i % 2 == 0 {
                        // Hashed by the writer, like the gateway's hashed features.
                        log.record(Self.record(id), hashing: Array("{\"x\":\(i)}".utf8), in: lanes[thread])
                    } else {
                        var record = Self.record(id)
                        record.features = "plain"
                        log.record(record, hashing: nil, in: lanes[thread])
                    }
                    if i % 500 == 0 { Thread.sleep(forTimeInterval: 0.002) }
                }
            }
            for lane in lanes { log.retire(lane) }
            await log.close()
            #expect(log.dropped == 0 && log.pending == 0)
            #expect(log.laneCount == 0, "retired lanes are let go once empty")

            let logged = try await store.predictions(endpoint: "churn", since: nil, limit: 10_000, pageToken: nil).items
            #expect(logged.count == 3 * perThread)
            for thread in 0..<3 {
                let mine = logged.filter { $0.requestId.hasPrefix("t\(thread)-") }
                #expect(mine.map(\.requestId) == (0..<perThread).map { "t\(thread)-\($0)" }, "thread \(thread)'s records in its order")
                guard thread < 2 else { continue }
                for record in mine {
                    let i = try #require(Int(record.requestId.split(separator: "-").last ?? ""))
                    #expect(record.features == (i % 2 == 0 ? Self.hash(Array("{\"x\":\(i)}".utf8)) : "plain"), "\(record.requestId)")
                }
            }
        }
    }

    @Test func aFullLaneDropsAndCountsAndAClosedLogTakesNothing() async throws {
        try await PredictionLogTests.withFailingStore(failures: 0) { store, logger in
            // Nothing drains: batches of 1,000 every hour, and a lane holds at most the log's capacity.
            let log = PredictionLog(store: store, logger: logger, capacity: 100, batchSize: 1_000, interval: .seconds(3600))
            let lane = log.makeLane()
            for i in 0..<150 { log.record(Self.record("r\(i)"), hashing: nil, in: lane) }
            #expect(log.dropped == 50 && log.pending == 100)
            await log.close()
            log.record(Self.record("late"), hashing: nil, in: lane)
            #expect(log.dropped == 51 && log.pending == 0)
            let logged = try await store.predictions(endpoint: "churn", since: nil, limit: 1_000, pageToken: nil).items
            #expect(logged.map(\.requestId) == (0..<100).map { "r\($0)" })
        }
    }

    /// While the store fails the writer waits longer and longer between attempts; meanwhile it keeps moving
    /// the lanes into its buffer, which holds far more, so a lane smaller than the backlog drops nothing.
    @Test func lanesAreEmptiedWhileTheStoreFails() async throws {
        try await PredictionLogTests.withFailingStore(failures: 3) { store, logger in
            let log = PredictionLog(store: store, logger: logger, capacity: 100_000, batchSize: 256, interval: .milliseconds(20))
            let lane = log.makeLane()
            let total = 4 * PredictionLog.Lane.largest
            // Retries after 200, 400 and 800 ms: these chunks all arrive while the store fails, 3.3 lanes' worth in all.
            for chunk in 0..<4 {
                for i in 0..<(total / 4 - 200) { log.record(Self.record("c\(chunk)-\(i)"), hashing: nil, in: lane) }
                try await Task.sleep(for: .milliseconds(120))
            }
            #expect(store.attempts <= 4, "the store still failed while the lane filled (\(store.attempts) attempts)")
            log.retire(lane)
            await log.close()
            #expect(log.dropped == 0)
            let written = try await store.predictions(endpoint: "churn", since: nil, limit: 10_000, pageToken: nil)
            var count = written.items.count
            var token = written.nextPageToken
            while let next = token {
                let page = try await store.predictions(endpoint: "churn", since: nil, limit: 10_000, pageToken: next)
                count += page.items.count
                token = page.nextPageToken
            }
            #expect(count == total - 4 * 200)
        }
    }
}
