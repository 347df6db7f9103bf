import Foundation
import SlipwayCore
import SlipwayStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The bytes of the prediction log's files. Every number is little-endian.
//
// A segment file (`<first sequence number, 20 digits>.segment`) starts with a 16-byte header: the magic
// `SLPWYPL1` and the sequence number of its first record. Frames follow, each with a 24-byte header:
//
//     u32 magic   u32 payload length   u32 record count   u32 zero   u64 checksum of the payload
//
// A batch frame (``SegmentFormat/batchMagic``) holds the records of one append, each a u32 length, a u64
// checksum and the record's bytes (so that a record read on its own, through an index, is checked too); a seal frame (``SegmentFormat/sealMagic``, empty) ends a segment that is full. A frame
// whose header or checksum does not hold is where a write was cut off: the log ends before it.
//
// A record: i64 time (ms since 1970), f64 latency (ms), i32 status, u8 kind, u8 flags, u16 zero, then the
// texts endpoint, request id, variant and model version (each a u32 length and UTF-8), then what the flags
// say is present: f64 confidence, texts sticky key, features and prediction, and feedback (i64 time, text by,
// text ground truth, f64 outcome).
//
// The feedback file (`feedback`) starts with the magic `SLPWYFB1`; each frame is u32 magic, u32 payload
// length, u64 checksum and a payload of u64 sequence number and the feedback as in a record.
//
// A sealed segment's index (`<first sequence number>.index`) is written when the segment is sealed and can
// always be built again from it: the magic `SLPWYIX1`, u64 first sequence number, u64 record count, i64
// earliest and latest time, u64 segment length, u32 endpoint count, u32 zero, the endpoints (texts), the
// records' offsets (u32 each), their (u64 key hash, u32 record, u32 zero) entries sorted by hash and record,
// and a u64 checksum of everything before it.
enum SegmentFormat {
    static let segmentMagic = Array("SLPWYPL1".utf8)
    static let feedbackMagic = Array("SLPWYFB1".utf8)
    static let indexMagic = Array("SLPWYIX1".utf8)
    static let segmentHeader = 16
    static let frameHeader = 24
    static let feedbackFrameHeader = 16
    static let batchMagic: UInt32 = 0x3142_5053  // "SPB1"
    static let sealMagic: UInt32 = 0x3153_5053  // "SPS1"
    static let feedbackFrameMagic: UInt32 = 0x3146_5053  // "SPF1"
    /// The fixed part of a record, before its texts.
    static let recordFixed = 24
    /// A record's length and checksum, before its bytes.
    static let recordHeader = 12

    enum Flag {
        static let stickyKey: UInt8 = 1
        static let features: UInt8 = 2
        static let prediction: UInt8 = 4
        static let confidence: UInt8 = 8
        static let feedback: UInt8 = 16
        static let groundTruth: UInt8 = 32
        static let outcome: UInt8 = 64
    }

    /// The hash that finds a request's records: FNV-1a over the endpoint, a 0xFF byte (never part of UTF-8) and the
    /// request id. Stable across processes and versions, because it is kept in index files.
    static func keyHash(endpoint: UnsafeRawBufferPointer, requestId: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in endpoint { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = (hash ^ 0xFF) &* 0x100_0000_01b3
        for byte in requestId { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    static func keyHash(endpoint: String, requestId: String) -> UInt64 {
        var endpoint = endpoint
        var requestId = requestId
        return endpoint.withUTF8 { endpoint in
            requestId.withUTF8 { requestId in keyHash(endpoint: UnsafeRawBufferPointer(endpoint), requestId: UnsafeRawBufferPointer(requestId)) }
        }
    }

    /// A checksum of a frame's payload, eight bytes at a time: it finds a write that was cut off or bytes that changed
    /// on disk, not an attacker.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            hash = (hash ^ word) &* 0xff51_afd7_ed55_8ccd
            hash ^= hash >> 32
            offset += 8
        }
        while offset < bytes.count {
            hash = (hash ^ UInt64(bytes[offset])) &* 0x100_0000_01b3
            offset += 1
        }
        hash ^= hash >> 29
        hash = hash &* 0xc4ce_b9fe_1a85_ec53
        return hash ^ (hash >> 32)
    }
}

/// Appends little-endian numbers and length-prefixed texts to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }
    mutating func f64(_ value: Double) { u64(value.bitPattern) }

    /// A text as it is stored: its UTF-8 with NUL characters made U+FFFD, as the store keeps text everywhere.
    mutating func text(_ value: String) {
        var value = value
        let plain = value.withUTF8 { utf8 -> Bool in
            guard let base = utf8.baseAddress, memchr(base, 0, utf8.count) != nil else {
                u32(UInt32(truncatingIfNeeded: utf8.count))
                bytes.append(contentsOf: utf8)
                return true
            }
            return false
        }
        if !plain { text(SQLiteMetadataStore.storable(value)) }
    }

    /// A writer that starts with room for a segment frame's header, to be filled in by ``finishFrame(_:records:)``.
    static func frame(capacity: Int = 0) -> ByteWriter {
        var writer = ByteWriter(capacity: SegmentFormat.frameHeader + capacity)
        writer.bytes.append(contentsOf: repeatElement(0, count: SegmentFormat.frameHeader))
        return writer
    }

    /// Fills in the header of the frame ``frame(capacity:)`` started: magic, payload length, record count and checksum.
    mutating func finishFrame(_ magic: UInt32, records: Int) {
        setU32(magic, at: 0)
        setU32(UInt32(bytes.count - SegmentFormat.frameHeader), at: 4)
        setU32(UInt32(records), at: 8)
        setU64(bytes.withUnsafeBytes { SegmentFormat.checksum(UnsafeRawBufferPointer(rebasing: $0[SegmentFormat.frameHeader...])) }, at: 16)
    }

    mutating func setU32(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for index in 0..<4 { bytes[offset + index] = raw[index] }
        }
    }

    mutating func setU64(_ value: UInt64, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for index in 0..<8 { bytes[offset + index] = raw[index] }
        }
    }
}

/// Reads what ``ByteWriter`` wrote, checking every length against the bytes there are.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, at offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    struct OutOfBounds: Error {}

    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - offset else { throw OutOfBounds() }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    mutating func u8() throws -> UInt8 { try take(1)[0] }
    mutating func u16() throws -> UInt16 { UInt16(littleEndian: try take(2).loadUnaligned(as: UInt16.self)) }
    mutating func u32() throws -> UInt32 { UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)) }
    mutating func u64() throws -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }
    mutating func i64() throws -> Int64 { Int64(bitPattern: try u64()) }
    mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    mutating func textBytes() throws -> UnsafeRawBufferPointer { try take(Int(try u32())) }
    mutating func text() throws -> String { String(decoding: try textBytes(), as: UTF8.self) }
}

/// A file mapped read-only into memory, unmapped when the last reference goes.
final class MappedFile: @unchecked Sendable {
    // Immutable after init; the mapping is only read.
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw PredictionSegments.ioError("cannot open", path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw PredictionSegments.ioError("cannot read the size of", path) }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), address != MAP_FAILED else {
            throw PredictionSegments.ioError("cannot map", path)
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

// MARK: Records

extension SegmentFormat {
    /// Appends a record (its u32 length, its checksum and its bytes). Values no store can keep are made storable: NUL characters
    /// become U+FFFD, a confidence or an outcome that is not a finite number is left out and such a latency is 0.
    static func encode(_ record: PredictionRecord, into writer: inout ByteWriter) {
        let start = writer.bytes.count
        writer.u32(0)
        writer.u64(0)
        writer.i64(Timestamp.millis(record.timestamp))
        writer.f64(record.latencyMs.isFinite ? record.latencyMs : 0)
        writer.u32(UInt32(bitPattern: Int32(clamping: record.status)))
        writer.u8(record.kind == .primary ? 0 : 1)
        var flags: UInt8 = 0
        if record.stickyKey != nil { flags |= Flag.stickyKey }
        if record.features != nil { flags |= Flag.features }
        if record.prediction != nil { flags |= Flag.prediction }
        if let confidence = record.confidence, confidence.isFinite { flags |= Flag.confidence }
        if let feedback = record.feedback { flags |= feedbackFlags(feedback) }
        writer.u8(flags)
        writer.u16(0)
        writer.text(record.endpoint)
        writer.text(record.requestId)
        writer.text(record.variant)
        writer.text(record.modelVersion)
        if flags & Flag.confidence != 0, let confidence = record.confidence { writer.f64(confidence) }
        if let stickyKey = record.stickyKey { writer.text(stickyKey) }
        if let features = record.features { writer.text(features) }
        if let prediction = record.prediction { writer.text(prediction) }
        if let feedback = record.feedback { encode(feedback, flags: flags, into: &writer) }
        let body = start + recordHeader
        writer.setU32(UInt32(truncatingIfNeeded: writer.bytes.count - body), at: start)
        writer.setU64(writer.bytes.withUnsafeBytes { checksum(UnsafeRawBufferPointer(rebasing: $0[body...])) }, at: start + 4)
    }

    /// The bytes of the record whose length is at `reader`'s offset, checked against its checksum (nil: they do not hold).
    static func recordBody(_ reader: inout ByteReader) throws -> UnsafeRawBufferPointer? {
        let length = try reader.u32()
        let sum = try reader.u64()
        let body = try reader.take(Int(length))
        return checksum(body) == sum ? body : nil
    }

    static func encode(_ feedback: Feedback, flags: UInt8, into writer: inout ByteWriter) {
        writer.i64(Timestamp.millis(feedback.receivedAt))
        writer.text(feedback.by)
        if let groundTruth = feedback.groundTruth { writer.text(groundTruth) }
        if flags & Flag.outcome != 0, let outcome = feedback.outcome { writer.f64(outcome) }
    }

    static func feedbackFlags(_ feedback: Feedback) -> UInt8 {
        var flags = Flag.feedback
        if feedback.groundTruth != nil { flags |= Flag.groundTruth }
        if let outcome = feedback.outcome, outcome.isFinite { flags |= Flag.outcome }
        return flags
    }

    static func decodeFeedback(_ reader: inout ByteReader, flags: UInt8) throws -> Feedback {
        let receivedAt = try reader.i64()
        let by = try reader.text()
        let groundTruth = flags & Flag.groundTruth != 0 ? try reader.text() : nil
        let outcome = flags & Flag.outcome != 0 ? try reader.f64() : nil
        return Feedback(groundTruth: groundTruth, outcome: outcome, receivedAt: Timestamp.date(millis: receivedAt), by: by)
    }

    /// The record whose bytes (after its length) are `body`.
    static func decode(_ body: UnsafeRawBufferPointer) throws -> PredictionRecord {
        var reader = ByteReader(body)
        let time = try reader.i64()
        let latency = try reader.f64()
        let status = Int32(bitPattern: try reader.u32())
        let kind: PredictionRecord.Kind = try reader.u8() == 0 ? .primary : .mirror
        let flags = try reader.u8()
        _ = try reader.u16()
        let endpoint = try reader.text()
        let requestId = try reader.text()
        let variant = try reader.text()
        let modelVersion = try reader.text()
        let confidence = flags & Flag.confidence != 0 ? try reader.f64() : nil
        let stickyKey = flags & Flag.stickyKey != 0 ? try reader.text() : nil
        let features = flags & Flag.features != 0 ? try reader.text() : nil
        let prediction = flags & Flag.prediction != 0 ? try reader.text() : nil
        let feedback = flags & Flag.feedback != 0 ? try decodeFeedback(&reader, flags: flags) : nil
        return PredictionRecord(
            requestId: requestId, timestamp: Timestamp.date(millis: time), endpoint: endpoint, variant: variant, modelVersion: modelVersion,
            stickyKey: stickyKey, kind: kind, features: features, prediction: prediction, confidence: confidence, latencyMs: latency,
            status: Int(status), feedback: feedback)
    }

    /// What identifies a record, read without decoding the rest: its time, kind and the bytes of its endpoint,
    /// request id and variant.
    struct Key {
        var time: Int64
        var kind: UInt8
        var endpoint: UnsafeRawBufferPointer
        var requestId: UnsafeRawBufferPointer
        var variant: UnsafeRawBufferPointer

        /// Whether both are the same record as far as the log is concerned: endpoint, request id, kind and variant.
        func isSameRecord(as other: Key) -> Bool {
            kind == other.kind && SegmentFormat.equal(requestId, other.requestId) && SegmentFormat.equal(endpoint, other.endpoint)
                && SegmentFormat.equal(variant, other.variant)
        }
    }

    static func key(_ body: UnsafeRawBufferPointer) throws -> Key {
        var reader = ByteReader(body)
        let time = try reader.i64()
        reader.offset = 20
        let kind = try reader.u8()
        reader.offset = recordFixed
        let endpoint = try reader.textBytes()
        let requestId = try reader.textBytes()
        let variant = try reader.textBytes()
        return Key(time: time, kind: kind, endpoint: endpoint, requestId: requestId, variant: variant)
    }

    static func equal(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Bool {
        first.count == second.count && (first.count == 0 || memcmp(first.baseAddress!, second.baseAddress!, first.count) == 0)
    }

    static func equal(_ bytes: UnsafeRawBufferPointer, _ array: [UInt8]) -> Bool {
        array.withUnsafeBytes { equal(bytes, $0) }
    }

    static func equal(_ bytes: UnsafeRawBufferPointer, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { equal(bytes, UnsafeRawBufferPointer($0)) }
    }
}
