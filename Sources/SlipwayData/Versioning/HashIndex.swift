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
    static let recordSize = 64

    let path: String
    private(set) var entries: [Key: Entry] = [:]
    private(set) var changed = false

    /// Loads the index; a missing or unreadable file is an empty index (it is only a cache).
    init(path: String) {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path), data.count >= 8,
            Array(data.prefix(8)) == Self.magic, (data.count - 8) % Self.recordSize == 0
        else { return }
        let count = (data.count - 8) / Self.recordSize
        entries.reserveCapacity(count)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var hex = [UInt8](repeating: 0, count: 64)
            let digits = Array("0123456789abcdef".utf8)
            for index in 0..<count {
                let base = 8 + index * Self.recordSize
                let device = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt64.self))
                let inode = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self))
                let size = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: Int64.self))
                let mtime = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 24, as: Int64.self))
                for byte in 0..<32 {
                    let value = raw[base + 32 + byte]
                    hex[byte * 2] = digits[Int(value >> 4)]
                    hex[byte * 2 + 1] = digits[Int(value & 0x0f)]
                }
                guard let digest = Digest(hex: String(decoding: hex, as: UTF8.self)) else { continue }
                entries[Key(device: device, inode: inode)] = Entry(size: size, mtime: mtime, digest: digest)
            }
        }
    }

    static func key(_ info: stat) -> Key { Key(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) }

    /// The remembered digest of a file, if its size and modification time are unchanged.
    func digest(for info: stat) -> Digest? {
        guard let entry = entries[Self.key(info)], entry.size == Int64(info.st_size), entry.mtime == Posix.mtimeNanoseconds(info) else {
            return nil
        }
        return entry.digest
    }

    /// Remembers a file's digest.
    mutating func record(_ info: stat, digest: Digest) {
        let entry = Entry(size: Int64(info.st_size), mtime: Posix.mtimeNanoseconds(info), digest: digest)
        let key = Self.key(info)
        if let old = entries[key], old.size == entry.size, old.mtime == entry.mtime, old.digest == digest { return }
        entries[key] = entry
        changed = true
    }

    /// Writes the index if it changed (atomically; a failure only costs re-hashing later).
    mutating func save() {
        guard changed else { return }
        var data = Data(capacity: 8 + entries.count * Self.recordSize)
        data.append(contentsOf: Self.magic)
        var record = [UInt8](repeating: 0, count: Self.recordSize)
        for (key, entry) in entries {
            record.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: key.device.littleEndian, toByteOffset: 0, as: UInt64.self)
                raw.storeBytes(of: key.inode.littleEndian, toByteOffset: 8, as: UInt64.self)
                raw.storeBytes(of: entry.size.littleEndian, toByteOffset: 16, as: Int64.self)
                raw.storeBytes(of: entry.mtime.littleEndian, toByteOffset: 24, as: Int64.self)
            }
            let hex = Array(entry.digest.hex.utf8)
            for byte in 0..<32 {
                record[32 + byte] = Self.nibble(hex[byte * 2]) << 4 | Self.nibble(hex[byte * 2 + 1])
            }
            data.append(contentsOf: record)
        }
        // No fsync: the index is only a cache, and a lost update only costs hashing again.
        if (try? Posix.writeAtomically(data, to: path, sync: false)) != nil { changed = false }
    }

    private static func nibble(_ ascii: UInt8) -> UInt8 {
        ascii >= UInt8(ascii: "a") ? ascii - UInt8(ascii: "a") + 10 : ascii - UInt8(ascii: "0")
    }
}
