import Foundation
import SlipwayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Remembers which digest a file had: (device, inode) → (size, mtime in ns, digest).
///
/// A file whose device, inode, size and modification time are unchanged is not hashed again, so a
/// second `add` or `status` of 100,000 files reads none of them. Stored in the cache folder as
/// `index-v1.bin`: an 8-byte magic `SLWIDX01`, then 64-byte records (device, inode, size, mtime as
/// little-endian 64-bit integers, then the 32 digest bytes), written atomically.
///
/// Loading does not decode the records: the file's bytes stay as they are and an open-addressing
/// table of record numbers, keyed by (device, inode), points into them. Digests are only turned
/// into ``Digest`` values when a caller asks for one; ``rawDigest(for:)`` hands out the 32 bytes.
/// Records added by ``record(_:digest:)`` live in a dictionary beside the table until ``save()``.
struct HashIndex {
    struct Key: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    struct Entry {
        var size: Int64
        var mtime: Int64
        var digest: Digest
    }

    static let magic = Array("SLWIDX01".utf8)
    static let headerSize = 8
    static let recordSize = 64

    let path: String
    /// The file as it was loaded (magic and records).
    private var stored: [UInt8] = []
    /// Record numbers + 1 (0 = empty slot), a power of two long.
    private var slots: [Int32] = []
    /// Records added or changed since loading; they take precedence over `stored`.
    private var updates: [Key: Entry] = [:]
    private(set) var changed = false

    /// Loads the index; a missing, unreadable or malformed file is an empty index (it is only a cache).
    init(path: String) {
        self.path = path
        guard let bytes = Self.read(path), bytes.count >= Self.headerSize, bytes.prefix(Self.headerSize).elementsEqual(Self.magic),
            (bytes.count - Self.headerSize) % Self.recordSize == 0, (bytes.count - Self.headerSize) / Self.recordSize < Int(Int32.max) / 4
        else { return }
        stored = bytes
        let count = (bytes.count - Self.headerSize) / Self.recordSize
        var capacity = 16
        while capacity < count * 2 { capacity <<= 1 }
        var table = [Int32](repeating: 0, count: capacity)
        let mask = capacity - 1
        stored.withUnsafeBytes { raw in
            for record in 0..<count {
                let base = Self.headerSize + record * Self.recordSize
                let device = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt64.self))
                let inode = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self))
                var slot = Self.hash(device, inode) & mask
                while true {
                    let occupant = Int(table[slot])
                    if occupant == 0 {
                        table[slot] = Int32(record + 1)
                        break
                    }
                    let other = Self.headerSize + (occupant - 1) * Self.recordSize
                    if raw.loadUnaligned(fromByteOffset: other, as: UInt64.self) == device.littleEndian
                        && raw.loadUnaligned(fromByteOffset: other + 8, as: UInt64.self) == inode.littleEndian
                    {
                        // The same file twice (only a hand-made index has that): the later record wins.
                        table[slot] = Int32(record + 1)
                        break
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
        slots = table
    }

    /// The whole file in one read (no `Data` or Foundation file APIs on this path).
    private static func read(_ path: String) -> [UInt8]? {
        guard let fd = try? Posix.open(path, O_RDONLY | O_CLOEXEC, action: "read") else { return nil }
        defer { Posix.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Posix.isRegular(info), info.st_size >= 0, info.st_size < Int64(Int32.max) else { return nil }
        let size = Int(info.st_size)
        guard size > 0 else { return [] }
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            let filled = (try? Posix.readFully(fd, into: UnsafeMutableRawBufferPointer(buffer), path: path)) ?? -1
            if filled != size { failed = true }
            initialized = failed ? 0 : size
        }
        return failed ? nil : bytes
    }

    private static func hash(_ device: UInt64, _ inode: UInt64) -> Int {
        // Fibonacci hashing of the inode, mixed with the device; the top bits are the best mixed.
        let mixed = (inode ^ (device &* 0xff51_afd7_ed55_8ccd)) &* 0x9e37_79b9_7f4a_7c15
        return Int(truncatingIfNeeded: mixed >> 32)
    }

    /// The byte offset in `stored` of the record for a file (any size or mtime), if there is one.
    private func storedOffset(device: UInt64, inode: UInt64) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = Self.hash(device, inode) & mask
        return stored.withUnsafeBytes { raw -> Int? in
            while true {
                let occupant = Int(slots[slot])
                if occupant == 0 { return nil }
                let base = Self.headerSize + (occupant - 1) * Self.recordSize
                if raw.loadUnaligned(fromByteOffset: base, as: UInt64.self) == device.littleEndian
                    && raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self) == inode.littleEndian
                {
                    return base
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Where the 32 digest bytes of an unchanged file are.
    enum RawDigest {
        /// At this byte offset of the loaded file (see ``withStoredBytes(_:)``).
        case stored(Int)
        /// A digest recorded since loading.
        case updated(Digest)
    }

    /// The remembered digest of a file without building a ``Digest``, if its size and modification time are unchanged.
    func rawDigest(for info: FileInfo) -> RawDigest? {
        if !updates.isEmpty, let entry = updates[Key(device: info.device, inode: info.inode)] {
            return entry.size == info.size && entry.mtime == info.mtime ? .updated(entry.digest) : nil
        }
        guard let base = storedOffset(device: info.device, inode: info.inode) else { return nil }
        let matches = stored.withUnsafeBytes { raw in
            Int64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: Int64.self)) == info.size
                && Int64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 24, as: Int64.self)) == info.mtime
        }
        return matches ? .stored(base + 32) : nil
    }

    /// Calls `body` with the loaded file's bytes (for ``RawDigest/stored(_:)`` offsets).
    func withStoredBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try stored.withUnsafeBytes(body)
    }

    /// The remembered digest of a file, if its size and modification time are unchanged.
    func digest(for info: FileInfo) -> Digest? {
        switch rawDigest(for: info) {
        case nil: return nil
        case .updated(let digest): return digest
        case .stored(let offset): return stored.withUnsafeBytes { Self.digest(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + 32])) }
        }
    }

    /// A ``Digest`` from 32 raw bytes.
    static func digest(_ bytes: UnsafeRawBufferPointer) -> Digest? {
        var hex = [UInt8](repeating: 0, count: 64)
        HexDigits.write(bytes, into: &hex, at: 0)
        return Digest(hex: String(decoding: hex, as: UTF8.self))
    }

    /// Remembers a file's digest.
    mutating func record(_ info: FileInfo, digest: Digest) {
        if let known = self.digest(for: info), known == digest { return }
        updates[Key(device: info.device, inode: info.inode)] = Entry(size: info.size, mtime: info.mtime, digest: digest)
        changed = true
    }

    /// Writes the index if it changed (atomically; a failure only costs re-hashing later).
    mutating func save() {
        guard changed else { return }
        var data = [UInt8]()
        data.reserveCapacity(Self.headerSize + (slots.count / 2 + updates.count) * Self.recordSize)
        data += Self.magic
        // Loaded records that were not replaced, as they were.
        stored.withUnsafeBytes { raw in
            for occupant in slots where occupant != 0 {
                let base = Self.headerSize + (Int(occupant) - 1) * Self.recordSize
                let key = Key(
                    device: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt64.self)),
                    inode: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self)))
                if updates[key] != nil { continue }
                data += UnsafeRawBufferPointer(rebasing: raw[base..<base + Self.recordSize])
            }
        }
        var record = [UInt8](repeating: 0, count: Self.recordSize)
        for (key, entry) in updates {
            record.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: key.device.littleEndian, toByteOffset: 0, as: UInt64.self)
                raw.storeBytes(of: key.inode.littleEndian, toByteOffset: 8, as: UInt64.self)
                raw.storeBytes(of: entry.size.littleEndian, toByteOffset: 16, as: Int64.self)
                raw.storeBytes(of: entry.mtime.littleEndian, toByteOffset: 24, as: Int64.self)
            }
            let hex = Array(entry.digest.hex.utf8)
            for byte in 0..<32 {
                record[32 + byte] = HexDigits.value(hex[byte * 2]) << 4 | HexDigits.value(hex[byte * 2 + 1])
            }
            data += record
        }
        // No fsync: the index is only a cache, and a lost update only costs hashing again.
        if (try? Posix.writeAtomically(Data(data), to: path, sync: false)) != nil { changed = false }
    }
}

/// What the hash index and the scan need to know about a file (a small part of `stat`).
struct FileInfo: Sendable, Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    /// The modification time in nanoseconds since 1970.
    var mtime: Int64
    var mode: UInt32

    init(_ info: stat) {
        device = UInt64(truncatingIfNeeded: info.st_dev)
        inode = UInt64(truncatingIfNeeded: info.st_ino)
        size = Int64(info.st_size)
        mtime = Posix.mtimeNanoseconds(info)
        mode = UInt32(truncatingIfNeeded: info.st_mode)
    }

    /// Whether any execute bit is set.
    var executable: Bool { mode & 0o111 != 0 }
}

/// Lowercase hexadecimal digits to and from bytes.
enum HexDigits {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes two lowercase hex digits per byte of `bytes` into `output` from `start`.
    static func write(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8], at start: Int) {
        digits.withUnsafeBufferPointer { table in
            output.withUnsafeMutableBufferPointer { out in
                for (index, byte) in bytes.enumerated() {
                    out[start + index * 2] = table[Int(byte >> 4)]
                    out[start + index * 2 + 1] = table[Int(byte & 0x0f)]
                }
            }
        }
    }

    /// The value of one hex digit (either case).
    static func value(_ ascii: UInt8) -> UInt8 {
        switch ascii {
        case UInt8(ascii: "a")...UInt8(ascii: "f"): ascii - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): ascii - UInt8(ascii: "A") + 10
        default: ascii &- UInt8(ascii: "0")
        }
    }
}
