public import Logging
#if os(Linux)
import CSlipwayLinux
#endif
import Dispatch
import Foundation
import NIOCore
public import SlipwayCore
public import SlipwayStore
import Synchronization

/// The gateway's prediction log: buffers the records the data plane hands it and appends them to a
/// ``PredictionStore`` in batches, from a thread of its own.
///
/// ``record(_:)`` never blocks an event loop: it appends to a bounded, lock-protected buffer (records
/// beyond ``capacity`` are dropped and counted in ``dropped``, `slipway_prediction_log_dropped_total`).
/// A thread that hands the log most of the records (a gateway thread) takes a ``Lane`` instead: a queue of its
/// own that it fills without any lock, so it never waits for a thread that was taken off its CPU while it held
/// the buffer's lock. The writer moves what the lanes hold into the buffer each time it wakes.
/// The writer appends a batch every ``interval`` or as soon as ``batchSize`` records wait. It runs on a
/// thread of its own and appends on it when the store can (``SynchronousPredictionAppending``): a batch
/// then costs one wake-up of one thread, not a task, a timer and a hand-off to the store's queue. When the
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
    private let synchronousStore: (any SynchronousPredictionAppending)?
    private let logger: Logger
    private let state: Mutex<State>
    /// Signalled to wake the writer while it waits (see ``ring()``).
    private let wake = DispatchSemaphore(value: 0)
    /// ``interval`` as the writer's wait takes it.
    private let wait: DispatchTimeInterval
    /// Set by ``close()``, read by lane producers, which take no lock.
    private let closed = Atomic<Bool>(false)
    /// Records dropped because their lane was full or the log closed.
    private let laneDropped = Atomic<Int>(0)

    /// Records waiting to be written, in order, with the bytes some records' features are the SHA-256 of
    /// while the hash is still to be computed (off the event loops, by the writer).
    private struct Waiting {
        var records: [PredictionRecord] = []
        /// Positions in ``records`` whose features are still to be hashed, with the bytes to hash.
        var unhashed: [(index: Int, bytes: [UInt8])] = []
        var count: Int { records.count }

        mutating func removeAll() {
            records.removeAll(keepingCapacity: true)
            unhashed.removeAll(keepingCapacity: true)
        }
    }

    private struct State {
        var buffer = Waiting()
        /// The lanes handed out and not yet retired and emptied.
        var lanes: [Lane] = []
        var dropped = 0
        var closing = false
        /// Set when the writer was called while it was not waiting: its next wait returns at once.
        var rung = false
        /// Whether the writer waits on ``PredictionLog/wake``.
        var waiting = false
        var finished = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// How many niceness steps the writer's thread runs below the process: enough that a gateway thread that
    /// wakes up takes the CPU from it at once, little enough that it keeps up with the gateway at full load.
    static let writerNiceness: Int32 = 5

    /// Starts the writer.
    ///
    /// - Parameters:
    ///   - store: where records are appended.
    ///   - capacity: the most records held in memory while the store is slow or down (default 100,000).
    ///   - batchSize: the most records per append (default 256). Each batch costs a wake-up of the writer's thread
    ///     (a context switch on a busy machine), so batches of a few hundred records keep that cost small per record
    ///     while a batch still takes well under a millisecond to write.
    ///   - interval: the longest a record waits before its batch is written (default 100 ms).
    public init(
        store: any PredictionStore, logger: Logger, capacity: Int = 100_000, batchSize: Int = 256, interval: Duration = .milliseconds(100)
    ) {
        self.store = store
        self.synchronousStore = store as? any SynchronousPredictionAppending
        self.logger = logger
        self.capacity = max(capacity, 1)
        self.batchSize = max(batchSize, 1)
        self.interval = interval
        let (seconds, attoseconds) = interval.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self.wait = .nanoseconds(Int(clamping: nanoseconds.overflow ? Int64.max : max(nanoseconds.partialValue &+ attoseconds / 1_000_000_000, 0)))
        self.state = Mutex(State())
        // The one thread the log owns: it runs until close(), which waits for it. It is not a Service of the
        // server's group because it has to outlive the gateway, which stops after the group returns.
        let writer = Thread { [self] in
            #if os(Linux)
            // Named for `top -H` and `/proc`: a thread started from a pool thread would otherwise carry that one's name.
            CSlipwayNameThread("slipway-predlog")
            // Below the threads that answer requests: a batch (and now and then sealing a segment) is work that
            // can wait a moment, and on a machine with few cores it would otherwise take a CPU from a request.
            CSlipwayRunThreadBelowProcess(Self.writerNiceness)
            #endif
            write()
        }
        writer.start()
    }

    /// Takes one record; drops it (and counts it) when the buffer is full or the log is closed.
    public func record(_ record: PredictionRecord) {
        append(record, unhashed: nil)
    }

    /// Takes one record whose features are the SHA-256 of `features` (as hex), computed by the writer.
    func record(_ record: PredictionRecord, hashing features: [UInt8]) {
        append(record, unhashed: features)
    }

    /// A queue of records for one producing thread (see ``Lane``); ``retire(_:)`` it when the thread is done.
    func makeLane() -> Lane {
        let lane = Lane(capacity: min(capacity, Lane.largest))
        state.withLock { $0.lanes.append(lane) }
        return lane
    }

    /// Says that `lane`'s thread hands it no more records; the writer empties it and then lets it go.
    func retire(_ lane: Lane) {
        lane.retired.store(true, ordering: .releasing)
        ring()
    }

    /// Takes one record from `lane`'s thread, its features to hash (by the writer) if `features` is given.
    /// Takes no lock: a full lane or a closed log drops the record and counts it.
    func record(_ record: PredictionRecord, hashing features: [UInt8]?, in lane: Lane) {
        guard !closed.load(ordering: .acquiring), let written = lane.push(record, features) else {
            laneDropped.add(1, ordering: .relaxed)
            return
        }
        // Once per batch the lane's thread wakes the writer (it also wakes every interval on its own).
        if written % batchSize == 0 { ring() }
    }

    private func append(_ record: PredictionRecord, unhashed: [UInt8]?) {
        let full = state.withLock { state -> Bool? in
            guard !state.closing, state.buffer.count < capacity else {
                state.dropped += 1
                return nil
            }
            if let unhashed { state.buffer.unhashed.append((state.buffer.records.count, unhashed)) }
            state.buffer.records.append(record)
            return state.buffer.count == batchSize
        }
        if full == true { ring() }
    }

    /// Records dropped so far because the buffer was full or the log closed.
    public var dropped: Int { state.withLock { $0.dropped } + laneDropped.load(ordering: .relaxed) }

    /// Lanes handed out and not yet let go.
    var laneCount: Int { state.withLock { $0.lanes.count } }

    /// Records waiting to be written.
    public var pending: Int {
        state.withLock { state in state.buffer.count + state.lanes.reduce(0) { $0 + $1.count } }
    }

    /// Writes every record taken so far and stops the writer. Records offered afterwards are dropped.
    /// Waits while the store fails, but gives up (and counts the records as dropped) after a few attempts.
    public func close() async {
        closed.store(true, ordering: .releasing)
        state.withLock { $0.closing = true }
        ring()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { state -> Bool in
                if state.finished { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if finished { continuation.resume() }
        }
    }

    // MARK: The writer

    private func write() {
        var failures = 0
        // The batch being written. When no more than a batch waits, the writer swaps the whole buffer for this one
        // (emptied, its storage kept), so records are not copied out one by one; features still to hash are
        // hashed in place afterwards, outside the lock.
        var batch = Waiting()
        // Nothing is waiting yet: the first batch starts like every other, when it is full, the interval is over or
        // the log closes.
        pause()
        while true {
            batch.removeAll()
            drainLanes()
            let closing = state.withLock { state in
                if state.buffer.count <= batchSize {
                    swap(&batch, &state.buffer)
                } else {
                    batch.records.append(contentsOf: state.buffer.records[..<batchSize])
                    state.buffer.records.removeFirst(batchSize)
                    let split = state.buffer.unhashed.partition { $0.index >= batchSize }
                    batch.unhashed.append(contentsOf: state.buffer.unhashed[..<split])
                    state.buffer.unhashed.removeFirst(split)
                    for index in state.buffer.unhashed.indices { state.buffer.unhashed[index].index -= batchSize }
                }
                return state.closing
            }
            for (index, bytes) in batch.unhashed {
                batch.records[index].features = bytes.withUnsafeBytes { buffer in
                    var hasher = DigestHasher()
                    hasher.update(bytes: buffer)
                    return hasher.finalize().hex
                }
            }
            batch.unhashed.removeAll(keepingCapacity: true)
            let records = batch.records
            if !records.isEmpty {
                do {
                    try appendNow(records)
                    if failures > 0 {
                        logger.notice("the prediction log writes again", metadata: ["slipway.failures": "\(failures)"])
                    }
                    failures = 0
                } catch {
                    failures += 1
                    let waiting = state.withLock { state in
                        // Back in front of what came since, hashed already.
                        state.buffer.records.insert(contentsOf: records, at: 0)
                        for index in state.buffer.unhashed.indices { state.buffer.unhashed[index].index += records.count }
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
                        break
                    }
                    // The lanes are emptied into the buffer meanwhile, so that they do not fill up and drop
                    // while the buffer still has room.
                    let resume = DispatchTime.now() + .milliseconds(min(100 << min(failures, 6), 5_000))
                    while DispatchTime.now() < resume {
                        drainLanes()
                        Thread.sleep(forTimeInterval: min(Double(resume.uptimeNanoseconds &- DispatchTime.now().uptimeNanoseconds) / 1e9, 0.05))
                    }
                    continue
                }
            }
            drainLanes()
            let waiting = state.withLock { $0.buffer.count }
            if closing && waiting == 0 { break }
            if waiting >= batchSize || (closing && waiting > 0) { continue }
            pause()
        }
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.closeWaiters = [] }
            return state.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Moves what the lanes hold to the end of the buffer (dropping, and counting, what does not fit in
    /// ``capacity``) and lets retired lanes that are empty go.
    private func drainLanes() {
        let lanes = state.withLock { $0.lanes }
        guard !lanes.isEmpty else { return }
        var records: [PredictionRecord] = []
        var features: [[UInt8]?] = []
        var emptied: [ObjectIdentifier] = []
        for lane in lanes {
            // Read before taking, so a lane is let go only when a take after its last record found it empty.
            let retired = lane.retired.load(ordering: .acquiring)
            records.removeAll(keepingCapacity: true)
            features.removeAll(keepingCapacity: true)
            lane.take(into: &records, &features)
            if retired { emptied.append(ObjectIdentifier(lane)) }
            guard !records.isEmpty else { continue }
            state.withLock { state in
                let room = max(capacity - state.buffer.count, 0)
                let kept = min(room, records.count)
                for index in 0..<kept {
                    if let bytes = features[index] { state.buffer.unhashed.append((state.buffer.records.count, bytes)) }
                    state.buffer.records.append(records[index])
                }
                state.dropped += records.count - kept
            }
        }
        if !emptied.isEmpty {
            state.withLock { state in state.lanes.removeAll { lane in emptied.contains(ObjectIdentifier(lane)) && lane.count == 0 } }
        }
    }

    /// Appends on this thread: directly when the store can, otherwise through its asynchronous append, waited for.
    private func appendNow(_ records: [PredictionRecord]) throws {
        if let synchronousStore {
            try synchronousStore.appendPredictionsNow(records)
            return
        }
        let outcome = Outcome()
        let store = self.store
        Task {
            do {
                try await store.appendPredictions(records)
                outcome.set(.success(()))
            } catch {
                outcome.set(.failure(error))
            }
        }
        try outcome.wait()
    }

    /// The result of an asynchronous append, waited for by the writer's thread.
    private final class Outcome: Sendable {
        private let result = Mutex<Result<Void, any Error>?>(nil)
        private let done = DispatchSemaphore(value: 0)

        func set(_ value: Result<Void, any Error>) {
            result.withLock { $0 = value }
            done.signal()
        }

        func wait() throws {
            done.wait()
            try result.withLock { $0 }?.get()
        }
    }

    /// Waits for ``interval``, or until ``record(_:)`` fills a batch or ``close()`` is called.
    private func pause() {
        let now = state.withLock { state -> Bool in
            if state.rung || state.closing {
                state.rung = false
                return true
            }
            state.waiting = true
            return false
        }
        guard !now else { return }
        _ = wake.wait(timeout: .now() + wait)
        state.withLock { $0.waiting = false }
    }

    /// Wakes the writer if it waits; otherwise makes its next wait return at once.
    private func ring() {
        let signal = state.withLock { state -> Bool in
            guard state.waiting else {
                state.rung = true
                return false
            }
            state.waiting = false
            return true
        }
        if signal { wake.signal() }
    }
}

extension PredictionLog {
    /// A bounded queue of records with one producing thread and one consumer (the log's writer), that
    /// neither side locks: the producer publishes each record by advancing `tail`, the writer frees slots by
    /// advancing `head`.
    final class Lane: @unchecked Sendable {
        /// The most records a lane holds; at the gateway's rates that is a second or more of one thread's
        /// traffic, while the writer empties it every batch or interval.
        static let largest = 8_192

        private let mask: Int
        /// The most records the lane holds: the log's capacity, up to ``largest``.
        let limit: Int
        private let records: UnsafeMutablePointer<PredictionRecord>
        private let features: UnsafeMutablePointer<[UInt8]?>
        /// The next slot the producer fills; written only by the producer.
        private let tail = Atomic<Int>(0)
        /// The next slot the writer takes; written only by the writer.
        private let head = Atomic<Int>(0)
        fileprivate let retired = Atomic<Bool>(false)

        fileprivate init(capacity: Int) {
            limit = max(capacity, 1)
            var size = 1
            while size < limit { size <<= 1 }
            mask = size - 1
            records = .allocate(capacity: size)
            features = .allocate(capacity: size)
        }

        /// Records in the lane now.
        var count: Int { tail.load(ordering: .acquiring) - head.load(ordering: .acquiring) }

        /// Appends a record (producer only); returns how many records the lane has taken in all, or nil when
        /// it is full.
        fileprivate func push(_ record: PredictionRecord, _ bytes: [UInt8]?) -> Int? {
            let end = tail.load(ordering: .relaxed)
            guard end - head.load(ordering: .acquiring) < limit else { return nil }
            (records + (end & mask)).initialize(to: record)
            (features + (end & mask)).initialize(to: bytes)
            tail.store(end + 1, ordering: .releasing)
            return end + 1
        }

        /// Moves every published record out, in order (writer only).
        fileprivate func take(into taken: inout [PredictionRecord], _ takenFeatures: inout [[UInt8]?]) {
            let start = head.load(ordering: .relaxed)
            let end = tail.load(ordering: .acquiring)
            guard end > start else { return }
            taken.reserveCapacity(taken.count + end - start)
            for position in start..<end {
                taken.append((records + (position & mask)).move())
                takenFeatures.append((features + (position & mask)).move())
            }
            head.store(end, ordering: .releasing)
        }

        deinit {
            let start = head.load(ordering: .relaxed)
            let end = tail.load(ordering: .relaxed)
            for position in start..<end {
                (records + (position & mask)).deinitialize(count: 1)
                (features + (position & mask)).deinitialize(count: 1)
            }
            records.deallocate()
            features.deallocate()
        }
    }
}
