public import Logging
import NIOCore
public import SlipwayCore
public import SlipwayStore
import Synchronization

/// The gateway's prediction log: buffers the records the data plane hands it and appends them to a
/// ``PredictionStore`` in batches, from one background task.
///
/// ``record(_:)`` never blocks an event loop: it appends to a bounded, lock-protected buffer (records
/// beyond ``capacity`` are dropped and counted in ``dropped``, `slipway_prediction_log_dropped_total`).
/// The writer appends a batch every ``interval`` or as soon as ``batchSize`` records wait. When the
/// store fails it keeps the batch, logs the error and tries again with a growing pause; a batch written
/// twice is harmless because the store skips records it already has. ``close()`` writes everything that
/// is left, so stop the gateway first and close the log after it:
///
/// ```swift
/// let log = PredictionLog(store: metadata, logger: logger)
/// let gateway = Gateway(logger: logger, predictions: log)
/// // … serve …
/// await gateway.stop()
/// await log.close()
/// ```
public final class PredictionLog: PredictionSink {
    /// The most records waiting to be written; more are dropped.
    public let capacity: Int
    /// The most records appended in one transaction; this many waiting start a write at once.
    public let batchSize: Int
    /// How long a record waits at most before a write starts (while the store keeps up).
    public let interval: Duration

    private let store: any PredictionStore
    private let logger: Logger
    private let state: Mutex<State>

    /// A record waiting to be written, with the bytes its features are the SHA-256 of when the hash is
    /// still to be computed (off the event loops, by the writer).
    private struct Entry {
        var record: PredictionRecord
        var unhashed: [UInt8]?
    }

    private struct State {
        var buffer = CircularBuffer<Entry>()
        var dropped = 0
        var closing = false
        /// Set when the writer was called while it was not waiting.
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        var writer: Task<Void, Never>?
    }

    /// Starts the writer.
    ///
    /// - Parameters:
    ///   - store: where records are appended.
    ///   - capacity: the most records held in memory while the store is slow or down (default 100,000).
    ///   - batchSize: the most records per transaction (default 128: two of the store's 64-row inserts). Small
    ///     batches keep the writer's bursts of CPU short, so it delays the gateway's threads less on a busy
    ///     machine; larger ones cost little less per record.
    ///   - interval: the longest a record waits before its batch is written (default 100 ms).
    public init(
        store: any PredictionStore, logger: Logger, capacity: Int = 100_000, batchSize: Int = 128, interval: Duration = .milliseconds(100)
    ) {
        self.store = store
        self.logger = logger
        self.capacity = max(capacity, 1)
        self.batchSize = max(batchSize, 1)
        self.interval = interval
        self.state = Mutex(State())
        // The one task the log owns: it runs until close(), which awaits it. It is not a Service of the
        // server's group because it has to outlive the gateway, which stops after the group returns.
        let writer = Task { [self] in await write() }
        state.withLock { $0.writer = writer }
    }

    /// Takes one record; drops it (and counts it) when the buffer is full or the log is closed.
    public func record(_ record: PredictionRecord) {
        append(Entry(record: record, unhashed: nil))
    }

    /// Takes one record whose features are the SHA-256 of `features` (as hex), computed by the writer.
    func record(_ record: PredictionRecord, hashing features: [UInt8]) {
        append(Entry(record: record, unhashed: features))
    }

    private func append(_ entry: Entry) {
        let full = state.withLock { state -> Bool? in
            guard !state.closing, state.buffer.count < capacity else {
                state.dropped += 1
                return nil
            }
            state.buffer.append(entry)
            return state.buffer.count == batchSize
        }
        if full == true { ring() }
    }

    /// Records dropped so far because the buffer was full or the log closed.
    public var dropped: Int { state.withLock { $0.dropped } }

    /// Records waiting to be written.
    public var pending: Int { state.withLock { $0.buffer.count } }

    /// Writes every record taken so far and stops the writer. Records offered afterwards are dropped.
    /// Waits while the store fails, but gives up (and counts the records as dropped) after a few attempts.
    public func close() async {
        let writer = state.withLock { state in
            state.closing = true
            return state.writer
        }
        ring()
        await writer?.value
    }

    // MARK: The writer

    private func write() async {
        var failures = 0
        // Nothing is waiting yet: the first batch starts like every other, when it is full, the interval is over or
        // the log closes.
        await pause(for: interval, wakeOnRing: true)
        while true {
            // The records are moved out of the buffer as they are; features still to hash are hashed in place
            // afterwards, outside the lock.
            var records: [PredictionRecord] = []
            var unhashed: [(index: Int, bytes: [UInt8])] = []
            let closing = state.withLock { state in
                let count = min(state.buffer.count, batchSize)
                records.reserveCapacity(count)
                for index in 0..<count {
                    let entry = state.buffer.removeFirst()
                    if let bytes = entry.unhashed { unhashed.append((index, bytes)) }
                    records.append(entry.record)
                }
                return state.closing
            }
            for (index, bytes) in unhashed {
                records[index].features = bytes.withUnsafeBytes { buffer in
                    var hasher = DigestHasher()
                    hasher.update(bytes: buffer)
                    return hasher.finalize().hex
                }
            }
            if !records.isEmpty {
                do {
                    try await store.appendPredictions(records)
                    if failures > 0 {
                        logger.notice("the prediction log writes again", metadata: ["slipway.failures": "\(failures)"])
                    }
                    failures = 0
                } catch {
                    failures += 1
                    let waiting = state.withLock { state in
                        for record in records.reversed() { state.buffer.prepend(Entry(record: record, unhashed: nil)) }
                        return state.buffer.count
                    }
                    if failures == 1 || failures % 50 == 0 {
                        // Only counts and the error: records hold features and sticky keys.
                        logger.error(
                            "cannot append to the prediction log; keeping the records and retrying",
                            metadata: ["slipway.error": "\(error)", "slipway.records": "\(waiting)", "slipway.failures": "\(failures)"])
                    }
                    if closing && failures >= 5 {
                        let lost = state.withLock { state in
                            defer { state.buffer.removeAll() }
                            state.dropped += state.buffer.count
                            return state.buffer.count
                        }
                        logger.error(
                            "the prediction log is closing and the store still fails; records lost", metadata: ["slipway.records": "\(lost)"])
                        return
                    }
                    await pause(for: .milliseconds(min(100 << min(failures, 6), 5_000)), wakeOnRing: false)
                    continue
                }
            }
            let waiting = state.withLock { $0.buffer.count }
            if closing && waiting == 0 { return }
            if waiting >= batchSize || (closing && waiting > 0) { continue }
            await pause(for: interval, wakeOnRing: true)
        }
    }

    /// Waits for `duration`, or until ``record(_:)`` fills a batch or ``close()`` is called.
    private func pause(for duration: Duration, wakeOnRing: Bool) async {
        guard wakeOnRing else {
            try? await Task.sleep(for: duration)
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                do {
                    try await Task.sleep(for: duration)
                    ring()
                } catch {}
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.rung || state.closing {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
            group.cancelAll()
        }
    }

    /// Wakes the writer if it waits; otherwise makes its next wait return at once.
    private func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }
}
