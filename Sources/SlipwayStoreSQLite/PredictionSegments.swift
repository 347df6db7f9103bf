import Foundation
package import SlipwayCore
import SlipwayStore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded store's prediction log: records appended in batches to segment files in a folder beside the
/// database (`metadata.sqlite-predictions/`), read back in log order, with feedback kept in a file of its own.
///
/// The log is the store's one write at the rate of traffic, so a batch costs one `pwrite` of its encoded records
/// and a few in-memory index updates instead of four B-tree inserts per record: every record gets a sequence
/// number (its place in the log, which page tokens hold), and a hash of its (endpoint, request id) finds its
/// request for feedback and for skipping a record written twice.
///
/// - The last segment is the active one. Its index lives in memory and is rebuilt from the file at the log's
///   first operation. When it reaches ``segmentBytes`` it is sealed: a seal frame ends it, its index (offsets and sorted
///   hashes) is written to an `.index` file, and a new segment starts. An index file is derived data: a missing
///   or damaged one is built again from its segment.
/// - A batch is written with one `pwrite` of checksummed frames. When the write fails the file is cut back to
///   where it was, so an append is whole or absent. A write cut off by a crash (`kill -9`, power loss) leaves a
///   frame whose checksum does not hold; the log ends before it, and the next writer cuts it away.
/// - A record already logged with the same endpoint, request id, kind and variant is skipped. It is looked for
///   in the active segment and in sealed segments whose time range holds the record's time (a retried batch
///   carries its records' times), so the check costs nothing for a sealed segment the record cannot be in.
/// - Several processes may open the same folder: every operation holds an exclusive `flock` on `lock` and
///   first reads what other processes appended since.
///
/// Operations run on a serial queue of their own, so file I/O never blocks Swift's cooperative threads.
package final class PredictionSegments: Sendable {
    package let folder: String
    /// The size at which the active segment is sealed.
    package let segmentBytes: Int

    private let lockPath: String
    private let lockDescriptor: Int32
    private let queue = DispatchQueue(label: "slipway.predictions")
    /// Read from the files at the first operation, so that opening the store costs nothing for work that never
    /// touches the log (an in-process CLI command), while reading a large active segment takes a fraction of a second.
    private let state: Mutex<State?>

    /// A sealed segment: its file and its index, mapped.
    final class SealedSegment: Sendable {
        let base: UInt64
        let count: Int
        let earliest: Int64
        let latest: Int64
        let endpoints: Set<String>
        let path: String
        let index: MappedFile
        let offsetsStart: Int
        let entriesStart: Int

        init(
            base: UInt64, count: Int, earliest: Int64, latest: Int64, endpoints: Set<String>, path: String, index: MappedFile,
            offsetsStart: Int
        ) {
            self.base = base
            self.count = count
            self.earliest = earliest
            self.latest = latest
            self.endpoints = endpoints
            self.path = path
            self.index = index
            self.offsetsStart = offsetsStart
            self.entriesStart = offsetsStart + 4 * count
        }

        /// The byte offset of record `record` (its length) in the segment file.
        func offset(_ record: Int) -> Int {
            Int(UInt32(littleEndian: index.bytes.loadUnaligned(fromByteOffset: offsetsStart + 4 * record, as: UInt32.self)))
        }

        func entry(_ position: Int) -> (hash: UInt64, record: Int) {
            let at = entriesStart + 16 * position
            return (
                UInt64(littleEndian: index.bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
                Int(UInt32(littleEndian: index.bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self)))
            )
        }

        /// The records whose key hash is `hash`, in log order.
        func records(withHash hash: UInt64) -> [Int] {
            var low = 0
            var high = count
            while low < high {
                let middle = (low + high) / 2
                if entry(middle).hash < hash { low = middle + 1 } else { high = middle }
            }
            var found: [Int] = []
            while low < count, case let (entryHash, record) = entry(low), entryHash == hash {
                found.append(record)
                low += 1
            }
            return found
        }
    }

    /// The segment being appended to, with its index in memory.
    struct Active {
        var base: UInt64
        var path: String
        var descriptor: Int32
        /// The bytes that hold whole frames; appends go here.
        var length: Int
        var offsets: [UInt32] = []
        var hashes: [UInt64] = []
        /// Per record, the previous record with the same hash (`UInt32.max`: none).
        var previous: [UInt32] = []
        /// Per hash, the latest record that has it.
        var latestWithHash = LatestByHash()
        var earliest = Int64.max
        var latest = Int64.min
        var endpoints: Set<String> = []
        var count: Int { offsets.count }

        /// Makes room for about `records` records up front, so that the index does not grow (and copy itself) while traffic
        /// is being logged.
        mutating func reserve(records: Int) {
            offsets.reserveCapacity(records)
            hashes.reserveCapacity(records)
            previous.reserveCapacity(records)
            latestWithHash.reserve(records)
        }

        /// The endpoint of the record added last, so that a run of one endpoint's records adds it to ``endpoints`` once.
        var lastEndpoint: [UInt8] = []

        mutating func add(offset: Int, hash: UInt64, time: Int64, endpoint: UnsafeRawBufferPointer) {
            let record = UInt32(offsets.count)
            offsets.append(UInt32(offset))
            hashes.append(hash)
            previous.append(latestWithHash.update(record, for: hash) ?? .max)
            earliest = min(earliest, time)
            latest = max(latest, time)
            if !SegmentFormat.equal(endpoint, lastEndpoint) {
                lastEndpoint = Array(endpoint)
                endpoints.insert(String(decoding: endpoint, as: UTF8.self))
            }
        }
    }

    struct FeedbackFile {
        var path: String
        var descriptor: Int32
        var length: Int
        /// The latest feedback per record sequence number.
        var entries: [UInt64: Feedback] = [:]
    }

    struct State {
        var sealed: [SealedSegment]
        var active: Active
        var feedback: FeedbackFile
    }

    /// Opens the log in `folder` (creating it and its lock file). Its segments are read, and a write a crash cut off is
    /// repaired, at the first operation.
    ///
    /// - Parameter segmentBytes: the size at which a segment is sealed (default 64 MiB, at least 4 KiB).
    package init(folder: String, segmentBytes: Int = 64 << 20) throws {
        self.folder = folder
        self.segmentBytes = min(max(segmentBytes, 4_096), 1 << 30)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.unavailable, "cannot create the prediction log folder '\(folder)': \(error.localizedDescription)")
        }
        lockPath = folder + "/lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.ioError("cannot open", lockPath) }
        lockDescriptor = descriptor
        state = Mutex(nil)
    }

    deinit {
        state.withLock { state in
            guard let state else { return }
            close(state.active.descriptor)
            close(state.feedback.descriptor)
        }
        close(lockDescriptor)
    }

    // MARK: Operations

    /// Appends records in log order, skipping each one already logged (see the type's documentation).
    package func append(_ records: [PredictionRecord]) async throws {
        guard !records.isEmpty else { return }
        try await run { state in try self.append(records, to: &state) }
    }

    /// ``append(_:)`` on the calling thread.
    package func appendNow(_ records: [PredictionRecord]) throws {
        guard !records.isEmpty else { return }
        try locked { state in try append(records, to: &state) }
    }

    /// Attaches feedback to the first primary record of a request and returns the record with it.
    package func attachFeedback(endpoint: String, requestId: String, feedback: Feedback) async throws -> PredictionRecord {
        try await run { state in try self.attachFeedback(endpoint: endpoint, requestId: requestId, feedback: feedback, in: &state) }
    }

    /// Up to `limit` records of `endpoint` after sequence number `after`, at or after `since` (ms) when given, in log
    /// order; `next` is the sequence number of the last one when more follow.
    package func page(endpoint: String, since: Int64?, after: UInt64, limit: Int) async throws -> (items: [PredictionRecord], next: UInt64?) {
        try await run { state in try self.page(endpoint: endpoint, since: since, after: after, limit: limit, in: state) }
    }

    /// How many segments the log has, the active one included.
    package var segmentCount: Int { state.withLock { ($0?.sealed.count ?? 0) + 1 } }

    private func run<T: Sendable>(_ body: @escaping @Sendable (inout State) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.locked(body) })
            }
        }
    }

    private func locked<T: Sendable>(_ body: (inout State) throws -> T) throws -> T {
        try state.withLock { state throws -> T in
            try Self.lock(lockDescriptor, path: lockPath)
            defer { flock(lockDescriptor, LOCK_UN) }
            if state == nil {
                state = try Self.load(folder: folder, segmentBytes: segmentBytes)
            } else {
                try Self.catchUp(&state!, folder: folder, segmentBytes: segmentBytes)
            }
            return try body(&state!)
        }
    }

    private static func lock(_ descriptor: Int32, path: String) throws {
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw ioError("cannot lock", path) }
        }
    }

    // MARK: Appending

    /// A record of the batch being written.
    private struct Pending {
        /// Where the record's length is, from the start of the batch's bytes.
        var offset: Int
        var hash: UInt64
        var time: Int64
    }

    private func append(_ records: [PredictionRecord], to state: inout State) throws {
        var writer = ByteWriter.frame(capacity: records.count * 256)
        var pending: [Pending] = []
        pending.reserveCapacity(records.count)
        // The batch's own records by hash: the latest with each hash, and per record the previous one with its hash.
        var latestPending = LatestByHash()
        latestPending.reserve(records.count)
        var previousPending: [Int] = []
        previousPending.reserveCapacity(records.count)
        for record in records {
            // The record is encoded first and its key read back from its bytes, which are what is stored (NUL made
            // U+FFFD): so the hash and the comparisons are those a later lookup makes.
            let start = writer.bytes.count
            SegmentFormat.encode(record, into: &writer)
            let (hash, time, duplicate) = try writer.bytes.withUnsafeBytes { bytes -> (UInt64, Int64, Bool) in
                let key = try SegmentFormat.key(UnsafeRawBufferPointer(rebasing: bytes[(start + SegmentFormat.recordHeader)...]))
                let hash = SegmentFormat.keyHash(endpoint: key.endpoint, requestId: key.requestId)
                var earlier = latestPending[hash].map(Int.init) ?? -1
                while earlier >= 0 {
                    let other = try SegmentFormat.key(
                        UnsafeRawBufferPointer(rebasing: bytes[(pending[earlier].offset + SegmentFormat.recordHeader)...]))
                    if other.isSameRecord(as: key) { return (hash, key.time, true) }
                    earlier = previousPending[earlier]
                }
                return (hash, key.time, try Self.isLogged(key, hash: hash, in: state))
            }
            if duplicate {
                writer.bytes.removeSubrange(start...)
                continue
            }
            previousPending.append(latestPending.update(UInt32(pending.count), for: hash).map(Int.init) ?? -1)
            pending.append(Pending(offset: start, hash: hash, time: time))
        }
        guard !pending.isEmpty else { return }
        let payloadLength = writer.bytes.count - SegmentFormat.frameHeader
        guard payloadLength <= Int(UInt32.max) - SegmentFormat.frameHeader else {
            throw StoreError(.invalidArgument, "a batch of predictions must encode to less than 4 GiB, this one is \(payloadLength) bytes")
        }
        writer.finishFrame(SegmentFormat.batchMagic, records: pending.count)

        // Offsets in a segment are 32-bit: a segment that could not take the batch below 4 GiB is sealed first.
        if state.active.length + writer.bytes.count > Int(UInt32.max), state.active.count > 0 {
            try seal(&state)
        }
        let start = state.active.length
        try Self.write(writer.bytes, to: state.active.descriptor, at: start, path: state.active.path)
        try writer.bytes.withUnsafeBytes { bytes in
            for record in pending {
                let key = try SegmentFormat.key(UnsafeRawBufferPointer(rebasing: bytes[(record.offset + SegmentFormat.recordHeader)...]))
                state.active.add(offset: start + record.offset, hash: record.hash, time: record.time, endpoint: key.endpoint)
            }
        }
        state.active.length = start + writer.bytes.count
        if state.active.length >= segmentBytes { try seal(&state) }
    }

    /// Whether a record with this key is in the log already.
    private static func isLogged(_ key: SegmentFormat.Key, hash: UInt64, in state: State) throws -> Bool {
        var candidate = state.active.latestWithHash[hash] ?? .max
        while candidate != .max {
            let body = try readRecord(state.active.descriptor, at: Int(state.active.offsets[Int(candidate)]), path: state.active.path)
            if try body.withUnsafeBytes({ try SegmentFormat.key($0).isSameRecord(as: key) }) { return true }
            candidate = state.active.previous[Int(candidate)]
        }
        for segment in state.sealed.reversed() where segment.earliest <= key.time && key.time <= segment.latest {
            let records = segment.records(withHash: hash)
            guard !records.isEmpty else { continue }
            let file = try MappedFile(path: segment.path)
            for record in records
            where try Self.key(try recordBody(file.bytes, at: segment.offset(record), path: segment.path), path: segment.path).isSameRecord(as: key) {
                return true
            }
        }
        return false
    }

    // MARK: Feedback

    private func attachFeedback(endpoint: String, requestId: String, feedback: Feedback, in state: inout State) throws -> PredictionRecord {
        let endpoint = SQLiteMetadataStore.storable(endpoint)
        let requestId = SQLiteMetadataStore.storable(requestId)
        let hash = SegmentFormat.keyHash(endpoint: endpoint, requestId: requestId)
        func isPrimary(_ body: UnsafeRawBufferPointer) throws -> Bool {
            let key = try SegmentFormat.key(body)
            return key.kind == 0 && SegmentFormat.equal(key.requestId, requestId) && SegmentFormat.equal(key.endpoint, endpoint)
        }
        // The first primary record in log order: sealed segments oldest first, then the active one.
        var found: (sequence: UInt64, record: PredictionRecord)?
        search: for segment in state.sealed {
            let records = segment.records(withHash: hash)
            guard !records.isEmpty else { continue }
            let file = try MappedFile(path: segment.path)
            for record in records {
                let body = try Self.recordBody(file.bytes, at: segment.offset(record), path: segment.path)
                if try isPrimary(body) {
                    found = (segment.base + UInt64(record), try Self.decode(body, path: segment.path))
                    break search
                }
            }
        }
        if found == nil {
            // The chain runs from the latest record with the hash back to the first: the last match is the first in log order.
            var first: (record: UInt32, body: [UInt8])?
            var candidate = state.active.latestWithHash[hash] ?? .max
            while candidate != .max {
                let body = try Self.readRecord(state.active.descriptor, at: Int(state.active.offsets[Int(candidate)]), path: state.active.path)
                if try body.withUnsafeBytes(isPrimary) { first = (candidate, body) }
                candidate = state.active.previous[Int(candidate)]
            }
            if let (record, body) = first {
                found = (state.active.base + UInt64(record), try body.withUnsafeBytes { try Self.decode($0, path: state.active.path) })
            }
        }
        guard let (sequence, found) = found else {
            throw StoreError(
                .notFound,
                "endpoint '\(endpoint)' has no logged request '\(requestId)'; the gateway logs a request within a fraction of a second of answering it"
            )
        }
        var writer = ByteWriter(capacity: 128)
        writer.bytes.append(contentsOf: repeatElement(0, count: SegmentFormat.feedbackFrameHeader))
        writer.u64(sequence)
        let flags = SegmentFormat.feedbackFlags(feedback)
        writer.u8(flags)
        SegmentFormat.encode(feedback, flags: flags, into: &writer)
        let payload = writer.bytes.count - SegmentFormat.feedbackFrameHeader
        writer.setU32(SegmentFormat.feedbackFrameMagic, at: 0)
        writer.setU32(UInt32(payload), at: 4)
        writer.setU64(writer.bytes.withUnsafeBytes { SegmentFormat.checksum(UnsafeRawBufferPointer(rebasing: $0[16...])) }, at: 8)
        let stored = try writer.bytes.withUnsafeBytes { bytes in
            var reader = ByteReader(bytes, at: SegmentFormat.feedbackFrameHeader + 9)
            return try SegmentFormat.decodeFeedback(&reader, flags: flags)
        }
        try Self.write(writer.bytes, to: state.feedback.descriptor, at: state.feedback.length, path: state.feedback.path)
        state.feedback.length += writer.bytes.count
        state.feedback.entries[sequence] = stored
        var record = found
        record.feedback = stored
        return record
    }

    // MARK: Reading

    private func page(endpoint: String, since: Int64?, after: UInt64, limit: Int, in state: State) throws -> (
        items: [PredictionRecord], next: UInt64?
    ) {
        let endpoint = SQLiteMetadataStore.storable(endpoint)
        var items: [PredictionRecord] = []
        var sequences: [UInt64] = []
        /// Reads records `first..<count` of a segment; false once the page is full.
        func read(_ bytes: UnsafeRawBufferPointer, base: UInt64, first: Int, count: Int, path: String, offset: (Int) -> Int) throws -> Bool {
            for record in first..<count {
                let body = try Self.recordBody(bytes, at: offset(record), path: path)
                let key = try Self.key(body, path: path)
                guard SegmentFormat.equal(key.endpoint, endpoint), since.map({ key.time >= $0 }) ?? true else { continue }
                var decoded = try Self.decode(body, path: path)
                let sequence = base + UInt64(record)
                if let feedback = state.feedback.entries[sequence] { decoded.feedback = feedback }
                items.append(decoded)
                sequences.append(sequence)
                if items.count > limit { return false }
            }
            return true
        }
        func first(base: UInt64) -> Int { after >= base ? Int(after - base + 1) : 0 }
        var more = true
        for segment in state.sealed where segment.count > 0 && segment.base + UInt64(segment.count) - 1 > after {
            guard segment.endpoints.contains(endpoint), since.map({ segment.latest >= $0 }) ?? true else { continue }
            let file = try MappedFile(path: segment.path)
            more = try read(file.bytes, base: segment.base, first: first(base: segment.base), count: segment.count, path: segment.path) {
                segment.offset($0)
            }
            if !more { break }
        }
        let active = state.active
        if more, active.count > 0, active.base + UInt64(active.count) - 1 > after, active.endpoints.contains(endpoint),
            since.map({ active.latest >= $0 }) ?? true
        {
            let file = try MappedFile(path: active.path)
            let bytes = UnsafeRawBufferPointer(rebasing: file.bytes.prefix(active.length))
            _ = try read(bytes, base: active.base, first: first(base: active.base), count: active.count, path: active.path) {
                Int(active.offsets[$0])
            }
        }
        guard items.count > limit else { return (items, nil) }
        return (Array(items.prefix(limit)), sequences[limit - 1])
    }

    // MARK: Sealing

    private func seal(_ state: inout State) throws {
        let active = state.active
        var frame = ByteWriter.frame()
        frame.finishFrame(SegmentFormat.sealMagic, records: 0)
        try Self.write(frame.bytes, to: active.descriptor, at: active.length, path: active.path)
        let length = active.length + frame.bytes.count
        let sealed = try Self.writeIndex(
            base: active.base, offsets: active.offsets, hashes: active.hashes, earliest: active.earliest, latest: active.latest,
            endpoints: active.endpoints, segmentLength: length, segmentPath: active.path)
        let next = try Self.openActive(base: active.base + UInt64(active.count), folder: folder, segmentBytes: segmentBytes)
        close(active.descriptor)
        state.sealed.append(sealed)
        state.active = next
    }

    static func segmentPath(_ base: UInt64, folder: String) -> String {
        let digits = String(base)
        return folder + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".segment"
    }

    static func indexPath(forSegment path: String) -> String { String(path.dropLast(".segment".count)) + ".index" }

    /// Writes the index of a sealed segment (to a temporary file, then renamed into place) and maps it.
    private static func writeIndex(
        base: UInt64, offsets: [UInt32], hashes: [UInt64], earliest: Int64, latest: Int64, endpoints: Set<String>, segmentLength: Int,
        segmentPath: String
    ) throws -> SealedSegment {
        let count = offsets.count
        var writer = ByteWriter(capacity: 64 + count * 20)
        writer.bytes.append(contentsOf: SegmentFormat.indexMagic)
        writer.u64(base)
        writer.u64(UInt64(count))
        writer.i64(earliest)
        writer.i64(latest)
        writer.u64(UInt64(segmentLength))
        writer.u32(UInt32(endpoints.count))
        writer.u32(0)
        for endpoint in endpoints.sorted() { writer.text(endpoint) }
        let offsetsStart = writer.bytes.count
        for offset in offsets { writer.u32(offset) }
        var entries = [(hash: UInt64, record: UInt32)]()
        entries.reserveCapacity(count)
        for (record, hash) in hashes.enumerated() { entries.append((hash, UInt32(record))) }
        entries.sort { $0 < $1 }
        for entry in entries {
            writer.u64(entry.hash)
            writer.u32(entry.record)
            writer.u32(0)
        }
        writer.u64(writer.bytes.withUnsafeBytes { SegmentFormat.checksum($0) })
        let path = indexPath(forSegment: segmentPath)
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ioError("cannot create", temporary) }
        do {
            try write(writer.bytes, to: descriptor, at: 0, path: temporary)
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else { throw ioError("cannot rename", temporary) }
        return SealedSegment(
            base: base, count: count, earliest: earliest, latest: latest, endpoints: endpoints, path: segmentPath, index: try MappedFile(path: path),
            offsetsStart: offsetsStart)
    }

    /// Maps the index of a sealed segment, or builds it again from the segment when it is missing or does not hold.
    private static func openSealed(base: UInt64, path: String) throws -> SealedSegment {
        let indexPath = indexPath(forSegment: path)
        if let index = try? MappedFile(path: indexPath), let segment = readIndex(index, base: base, segmentPath: path) {
            return segment
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ioError("cannot open", path) }
        defer { close(descriptor) }
        var active = Active(base: base, path: path, descriptor: descriptor, length: SegmentFormat.segmentHeader)
        let scan = try scanAppended(&active)
        return try writeIndex(
            base: base, offsets: active.offsets, hashes: active.hashes, earliest: active.earliest, latest: active.latest,
            endpoints: active.endpoints, segmentLength: scan.end, segmentPath: path)
    }

    private static func readIndex(_ index: MappedFile, base: UInt64, segmentPath: String) -> SealedSegment? {
        let bytes = index.bytes
        guard bytes.count >= 56, Array(bytes.prefix(8)) == SegmentFormat.indexMagic else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: bytes.prefix(bytes.count - 8))
        guard UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)) == SegmentFormat.checksum(body) else {
            return nil
        }
        var reader = ByteReader(body, at: 8)
        guard let indexBase = try? reader.u64(), indexBase == base, let count = try? reader.u64(), count <= UInt64(UInt32.max),
            let earliest = try? reader.i64(), let latest = try? reader.i64(), (try? reader.u64()) != nil, let endpointCount = try? reader.u32(),
            (try? reader.u32()) != nil
        else { return nil }
        var endpoints = Set<String>()
        for _ in 0..<endpointCount {
            guard let endpoint = try? reader.text() else { return nil }
            endpoints.insert(endpoint)
        }
        guard reader.remaining == Int(count) * 20 else { return nil }
        return SealedSegment(
            base: base, count: Int(count), earliest: earliest, latest: latest, endpoints: endpoints, path: segmentPath, index: index,
            offsetsStart: reader.offset)
    }

    // MARK: Opening and catching up

    private static func load(folder: String, segmentBytes: Int) throws -> State {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw StoreError(.unavailable, "cannot list the prediction log folder '\(folder)': \(error.localizedDescription)")
        }
        let bases = names.compactMap { name -> UInt64? in
            guard name.hasSuffix(".segment"), name.utf8.count == 28 else { return nil }
            return UInt64(name.prefix(20))
        }.sorted()
        var sealed: [SealedSegment] = []
        for base in bases.dropLast() {
            sealed.append(try openSealed(base: base, path: segmentPath(base, folder: folder)))
        }
        let active = try openActive(base: bases.last ?? 1, folder: folder, segmentBytes: segmentBytes)
        let feedbackPath = folder + "/feedback"
        let feedbackDescriptor = open(feedbackPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard feedbackDescriptor >= 0 else {
            close(active.descriptor)
            throw ioError("cannot open", feedbackPath)
        }
        var state = State(sealed: sealed, active: active, feedback: FeedbackFile(path: feedbackPath, descriptor: feedbackDescriptor, length: 0))
        do {
            try catchUp(&state, folder: folder, segmentBytes: segmentBytes)
        } catch {
            close(state.active.descriptor)
            close(feedbackDescriptor)
            throw error
        }
        return state
    }

    /// Opens (or creates: the log's first segment, or the next one when a crash came between a seal and its creation)
    /// the segment starting at `base` as the active one. Its records are indexed by ``catchUp(_:folder:segmentBytes:)``.
    private static func openActive(base: UInt64, folder: String, segmentBytes: Int) throws -> Active {
        let path = segmentPath(base, folder: folder)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ioError("cannot open", path) }
        do {
            let size = try fileSize(descriptor, path: path)
            if size < SegmentFormat.segmentHeader {
                try writeHeader(base: base, to: descriptor, path: path)
            } else {
                let header = try read(descriptor, count: SegmentFormat.segmentHeader, at: 0, path: path)
                let headerBase = header.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
                guard Array(header.prefix(8)) == SegmentFormat.segmentMagic, headerBase == base else {
                    throw StoreError(
                        .unavailable, "'\(path)' is not a Slipway prediction log segment; move it out of the folder '\(folder)'")
                }
            }
        } catch {
            close(descriptor)
            throw error
        }
        var active = Active(base: base, path: path, descriptor: descriptor, length: SegmentFormat.segmentHeader)
        active.reserve(records: segmentBytes / 200)
        return active
    }

    /// Writes a segment's header into an empty (or cut-short) file.
    private static func writeHeader(base: UInt64, to descriptor: Int32, path: String) throws {
        var header = ByteWriter(capacity: SegmentFormat.segmentHeader)
        header.bytes.append(contentsOf: SegmentFormat.segmentMagic)
        header.u64(base)
        guard ftruncate(descriptor, 0) == 0 else { throw ioError("cannot reset", path) }
        try write(header.bytes, to: descriptor, at: 0, path: path)
    }

    /// Reads what was appended to the log since this process last looked (by another process, or before a crash),
    /// and cuts off a write that a crash left incomplete.
    private static func catchUp(_ state: inout State, folder: String, segmentBytes: Int) throws {
        while true {
            let scan = try scanAppended(&state.active)
            if scan.sealed {
                // Another process sealed the segment (and wrote its index) before it let go of the lock.
                let active = state.active
                let sealed = try openSealed(base: active.base, path: active.path)
                close(active.descriptor)
                state.sealed.append(sealed)
                state.active = try openActive(base: active.base + UInt64(active.count), folder: folder, segmentBytes: segmentBytes)
                continue
            }
            if scan.end < scan.size {
                guard ftruncate(state.active.descriptor, off_t(scan.end)) == 0 else { throw ioError("cannot repair", state.active.path) }
            }
            break
        }
        try catchUpFeedback(&state.feedback)
    }

    /// Indexes the whole frames after `active.length`. Returns where they end, the file's size and whether a seal frame
    /// ended the segment.
    @discardableResult
    private static func scanAppended(_ active: inout Active) throws -> (end: Int, size: Int, sealed: Bool) {
        let size = try fileSize(active.descriptor, path: active.path)
        guard size > active.length else { return (active.length, size, false) }
        let bytes = try read(active.descriptor, count: size - active.length, at: active.length, path: active.path)
        let start = active.length
        var sealed = false
        bytes.withUnsafeBytes { bytes in
            var at = 0
            frames: while bytes.count - at >= SegmentFormat.frameHeader {
                var header = ByteReader(bytes, at: at)
                let magic = (try? header.u32()) ?? 0
                let length = Int((try? header.u32()) ?? 0)
                let count = Int((try? header.u32()) ?? 0)
                _ = try? header.u32()
                let checksum = (try? header.u64()) ?? 0
                if magic == SegmentFormat.sealMagic {
                    sealed = true
                    at += SegmentFormat.frameHeader
                    break frames
                }
                guard magic == SegmentFormat.batchMagic, length <= bytes.count - at - SegmentFormat.frameHeader else { break }
                let payload = UnsafeRawBufferPointer(rebasing: bytes[(at + SegmentFormat.frameHeader)..<(at + SegmentFormat.frameHeader + length)])
                guard SegmentFormat.checksum(payload) == checksum else { break }
                // A frame whose checksum holds was written whole; its records are read as they are.
                var records: [(offset: Int, hash: UInt64, time: Int64, endpoint: UnsafeRawBufferPointer)] = []
                var reader = ByteReader(payload)
                for _ in 0..<count {
                    let recordStart = reader.offset
                    guard let body = try? SegmentFormat.recordBody(&reader), let key = try? SegmentFormat.key(body) else { break frames }
                    records.append(
                        (recordStart, SegmentFormat.keyHash(endpoint: key.endpoint, requestId: key.requestId), key.time, key.endpoint))
                }
                guard reader.remaining == 0 else { break }
                for record in records {
                    active.add(
                        offset: start + at + SegmentFormat.frameHeader + record.offset, hash: record.hash, time: record.time,
                        endpoint: record.endpoint)
                }
                at += SegmentFormat.frameHeader + length
            }
            active.length = start + at
        }
        return (active.length, size, sealed)
    }

    private static func catchUpFeedback(_ file: inout FeedbackFile) throws {
        let path = file.path
        let size = try fileSize(file.descriptor, path: path)
        if file.length == 0 {
            if size < SegmentFormat.feedbackMagic.count {
                guard ftruncate(file.descriptor, 0) == 0 else { throw ioError("cannot reset", path) }
                try write(SegmentFormat.feedbackMagic, to: file.descriptor, at: 0, path: path)
                file.length = SegmentFormat.feedbackMagic.count
                return
            }
            let magic = try read(file.descriptor, count: SegmentFormat.feedbackMagic.count, at: 0, path: path)
            guard magic == SegmentFormat.feedbackMagic else {
                throw StoreError(.unavailable, "'\(path)' is not a Slipway prediction feedback file; move it away")
            }
            file.length = SegmentFormat.feedbackMagic.count
        }
        guard size > file.length else { return }
        let bytes = try read(file.descriptor, count: size - file.length, at: file.length, path: path)
        var at = 0
        bytes.withUnsafeBytes { bytes in
            while bytes.count - at >= SegmentFormat.feedbackFrameHeader {
                var reader = ByteReader(bytes, at: at)
                guard (try? reader.u32()) == SegmentFormat.feedbackFrameMagic, let length = try? reader.u32(), let checksum = try? reader.u64(),
                    Int(length) <= reader.remaining
                else { break }
                let payload = UnsafeRawBufferPointer(rebasing: bytes[reader.offset..<(reader.offset + Int(length))])
                guard SegmentFormat.checksum(payload) == checksum else { break }
                var body = ByteReader(payload)
                guard let sequence = try? body.u64(), let flags = try? body.u8(),
                    let feedback = try? SegmentFormat.decodeFeedback(&body, flags: flags)
                else { break }
                file.entries[sequence] = feedback
                at += SegmentFormat.feedbackFrameHeader + Int(length)
            }
        }
        file.length += at
        if file.length < size {
            guard ftruncate(file.descriptor, off_t(file.length)) == 0 else { throw ioError("cannot repair", path) }
        }
    }

    // MARK: Files

    static func ioError(_ what: String, _ path: String) -> StoreError {
        let reason = String(cString: strerror(errno))
        return StoreError(.unavailable, "\(what) the prediction log file '\(path)': \(reason)")
    }

    private static func damaged(_ path: String, at offset: Int) -> StoreError {
        StoreError(.unavailable, "the prediction log file '\(path)' is damaged near byte \(offset); move it out of the log's folder to read the rest")
    }

    private static func fileSize(_ descriptor: Int32, path: String) throws -> Int {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ioError("cannot read the size of", path) }
        return Int(status.st_size)
    }

    /// Writes all of `bytes` at `offset`; when that fails, cuts the file back to `offset` so nothing half-written stays.
    private static func write(_ bytes: [UInt8], to descriptor: Int32, at offset: Int, path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let result = pwrite(descriptor, buffer.baseAddress! + written, buffer.count - written, off_t(offset + written))
                if result < 0 {
                    if errno == EINTR { continue }
                    let error = ioError("cannot write to", path)
                    _ = ftruncate(descriptor, off_t(offset))
                    throw error
                }
                written += result
            }
        }
    }

    private static func read(_ descriptor: Int32, count: Int, at offset: Int, path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < count {
                let result = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if result < 0 {
                    if errno == EINTR { continue }
                    throw ioError("cannot read", path)
                }
                guard result > 0 else { throw damaged(path, at: offset + done) }
                done += result
            }
        }
        return bytes
    }

    /// The bytes of the record whose length is at `offset` of an open segment, checked.
    private static func readRecord(_ descriptor: Int32, at offset: Int, path: String) throws -> [UInt8] {
        let header = try read(descriptor, count: SegmentFormat.recordHeader, at: offset, path: path)
        let (length, sum) = header.withUnsafeBytes {
            (UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)), UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt64.self)))
        }
        let body = try read(descriptor, count: Int(length), at: offset + SegmentFormat.recordHeader, path: path)
        guard body.withUnsafeBytes(SegmentFormat.checksum) == sum else { throw damaged(path, at: offset) }
        return body
    }

    /// The bytes of the record whose length is at `offset` of a mapped segment, checked.
    private static func recordBody(_ bytes: UnsafeRawBufferPointer, at offset: Int, path: String) throws -> UnsafeRawBufferPointer {
        var reader = ByteReader(bytes, at: offset)
        guard let body = try? SegmentFormat.recordBody(&reader) else { throw damaged(path, at: offset) }
        return body
    }

    private static func key(_ body: UnsafeRawBufferPointer, path: String) throws -> SegmentFormat.Key {
        do {
            return try SegmentFormat.key(body)
        } catch {
            throw damaged(path, at: 0)
        }
    }

    private static func decode(_ body: UnsafeRawBufferPointer, path: String) throws -> PredictionRecord {
        do {
            return try SegmentFormat.decode(body)
        } catch {
            throw damaged(path, at: 0)
        }
    }
}
