import Foundation
import SlipwayCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Packs: many small objects in one file, so that pushing 50,000 small files to a folder remote creates
/// a handful of files instead of 50,000 (on ext4 the cost of a push is the inodes and directory entries).
///
/// A pack is two files in the remote's `packs/` folder, named by the same 64 hex digits:
///
/// ```
/// packs/<name>.pack   "SLWPACK1", then the objects' bytes back to back
/// packs/<name>.idx    "SLWPIDX1", the object count (u64), then for every object, sorted by digest,
///                     its 32 digest bytes, offset and length in the pack (u64 each);
///                     then the SHA-256 of all the bytes before it, whose hex is <name>
/// ```
///
/// Integers are little-endian. Both files are written under temporary names in `tmp/` and flushed,
/// then the pack is renamed into place and the index after it: the index is what makes a pack
/// visible, so an interrupted push leaves whole packs only (a pack without its index is ignored and
/// removed by a later push once it is an hour old). An index that is truncated, fails its checksum,
/// or names bytes beyond the end of its pack is not used: its objects count as missing, so the next
/// push sends them again.
enum ObjectPack {
    static let packMagic = Array("SLWPACK1".utf8)
    static let indexMagic = Array("SLWPIDX1".utf8)
    /// Digest, offset, length.
    static let entrySize = 48
    /// Magic and count before the entries, checksum after them.
    static let indexOverhead = 16 + 32
    /// Objects smaller than this go into packs; larger ones stay single files.
    static let smallObjectLimit: Int64 = 64 << 10
    /// Index files larger than this are not read (about 22 million objects).
    static let indexSizeLimit = 1 << 30

    /// How many bytes of objects one pack holds: about a sixteenth of the push (so an interrupted push keeps
    /// most of its work and every core has packs to write), between 1 MiB and 64 MiB.
    static func packLimit(total: Int64) -> Int64 {
        min(64 << 20, max(1 << 20, total / 16))
    }

    /// Splits digests (sorted) into consecutive groups of at most `limit` bytes each.
    static func groups(_ objects: [(digest: Digest, size: Int64)], limit: Int64) -> [[Digest]] {
        var result: [[Digest]] = []
        var current: [Digest] = []
        var bytes: Int64 = 0
        for object in objects {
            if !current.isEmpty && bytes + object.size > limit {
                result.append(current)
                current = []
                bytes = 0
            }
            current.append(object.digest)
            bytes += object.size
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// Writes the objects (sorted by digest) from a cache into one new pack, verifying each object's digest on the way.
    ///
    /// - Parameters:
    ///   - digests: the objects, in ascending order.
    ///   - source: the cache that holds them.
    ///   - packs: the `packs/` folder of the remote.
    ///   - temporary: a folder on the same file system for the files being written.
    ///   - buffer: the staging buffer (objects are gathered in it and written in large blocks).
    ///   - progress: called with each object's size once it is in the pack.
    /// - Returns: the pack's name.
    /// - Throws: ``DataError`` `corrupted` when a cache object's bytes do not match its digest (nothing is then made visible).
    static func write(
        _ digests: [Digest], from source: DataCache, packs: String, temporary: String, buffer: UnsafeMutableRawBufferPointer,
        progress: (Int64) -> Void
    ) throws -> String {
        guard let base = buffer.baseAddress, buffer.count > packMagic.count else { throw DataError(.internal, "the pack buffer is too small") }
        let packTemporary = "\(temporary)/\(Posix.uniqueName()).pack.tmp"
        let indexTemporary = "\(temporary)/\(Posix.uniqueName()).idx.tmp"
        let output = try Posix.open(packTemporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600, action: "create")
        var closed = false
        defer { if !closed { Posix.close(output) } }
        do {
            var index = [UInt8]()
            index.reserveCapacity(indexOverhead + digests.count * entrySize)
            index += indexMagic
            appendInteger(UInt64(digests.count), to: &index)
            packMagic.withUnsafeBytes { buffer.copyMemory(from: $0) }
            var filled = packMagic.count
            var flushed: Int64 = 0
            func flush() throws(DataError) {
                try Posix.writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<filled]), path: packTemporary)
                flushed += Int64(filled)
                filled = 0
            }
            for digest in digests {
                let path = source.path(of: digest)
                let input = try Posix.open(path, O_RDONLY | O_CLOEXEC, action: "read")
                defer { Posix.close(input) }
                let offset = flushed + Int64(filled)
                var hasher = DigestHasher()
                while true {
                    if filled == buffer.count { try flush() }
                    let wanted = buffer.count - filled
                    let count = read(input, base + filled, wanted)
                    if count < 0 {
                        if errno == EINTR { continue }
                        throw DataError.system("read", path, errno)
                    }
                    if count == 0 { break }
                    hasher.update(bytes: UnsafeRawBufferPointer(rebasing: buffer[filled..<filled + count]))
                    filled += count
                    // A regular file reads short only at its end (as in Posix.copyHashing): no second call to see zero.
                    if count < wanted { break }
                }
                let actual = hasher.finalize()
                guard actual == digest else {
                    throw DataError(
                        .corrupted,
                        "cache object \(digest) at '\(path)' is corrupted (its bytes hash to \(actual)); it was not pushed. "
                            + "Delete it and 'slipway data add' the original file again")
                }
                index += rawBytes(of: digest)
                appendInteger(UInt64(offset), to: &index)
                appendInteger(UInt64(hasher.count), to: &index)
                progress(hasher.count)
            }
            try flush()
            guard fchmod(output, 0o444) == 0 else { throw DataError.system("set the mode of", packTemporary, errno) }
            guard fsync(output) == 0 else { throw DataError.system("flush", packTemporary, errno) }
            Posix.close(output)
            closed = true
            let checksum = Digest(of: index)
            index += rawBytes(of: checksum)
            let name = checksum.hex
            let indexOutput = try Posix.open(indexTemporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600, action: "create")
            do {
                try index.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in try Posix.writeAll(indexOutput, bytes, path: indexTemporary) }
                guard fchmod(indexOutput, 0o444) == 0, fsync(indexOutput) == 0 else { throw DataError.system("flush", indexTemporary, errno) }
                Posix.close(indexOutput)
            } catch {
                Posix.close(indexOutput)
                _ = unlink(indexTemporary)
                throw error
            }
            do {
                try Posix.rename(packTemporary, "\(packs)/\(name).pack")
                try Posix.rename(indexTemporary, "\(packs)/\(name).idx")
            } catch {
                _ = unlink(indexTemporary)
                throw error
            }
            return name
        } catch {
            _ = unlink(packTemporary)
            throw error
        }
    }

    /// Copies one packed object into a cache, verifying its digest; returns its size.
    /// - Throws: ``DataError`` `corrupted` when the bytes in the pack do not hash to the digest (nothing is stored).
    static func extract(
        _ digest: Digest, at object: PackedObject, packPath: String, descriptor: Int32, into cache: DataCache, buffer: UnsafeMutableRawBufferPointer
    ) throws -> Int64 {
        guard let base = buffer.baseAddress else { throw DataError(.internal, "the pack buffer is empty") }
        let temporary = try cache.temporaryPath(for: digest)
        let output = try Posix.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600, action: "create")
        var hasher = DigestHasher()
        do throws(DataError) {
            var position = object.offset
            let end = object.offset + object.length
            while position < end {
                let wanted = Int(min(Int64(buffer.count), end - position))
                let count = pread(descriptor, base, wanted, off_t(position))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw DataError.system("read", packPath, errno)
                }
                guard count > 0 else {
                    throw DataError(
                        .corrupted,
                        "the pack '\(packPath)' ends before object \(digest) does; it was not transferred. "
                            + "Remove the pack and its .idx file from the remote and push again from a workspace that has the data")
                }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                hasher.update(bytes: chunk)
                try Posix.writeAll(output, chunk, path: temporary)
                position += Int64(count)
            }
            guard fchmod(output, 0o444) == 0 else { throw DataError.system("set the mode of", temporary, errno) }
            Posix.close(output)
        } catch {
            Posix.close(output)
            _ = unlink(temporary)
            throw error
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            _ = unlink(temporary)
            throw DataError(
                .corrupted,
                "object \(digest) in the pack '\(packPath)' is corrupted (its bytes hash to \(actual)); it was not transferred. "
                    + "Remove the pack and its .idx file from the remote and push again from a workspace that has the data")
        }
        try cache.place(temporary, as: digest)
        return hasher.count
    }

    /// Removes what interrupted pushes left that is more than an hour old: packs without an index, and
    /// temporary files in `temporary`.
    static func removeStale(in packs: String, temporary: String) {
        let limit = Int64((Date().timeIntervalSince1970 - 3600) * 1e9)
        func removeIfOld(_ path: String) {
            if let info = Posix.lstatus(path), Posix.isRegular(info), Posix.mtimeNanoseconds(info) < limit { _ = unlink(path) }
        }
        let names = Set((try? FileManager.default.contentsOfDirectory(atPath: packs)) ?? [])
        for name in names where name.hasSuffix(".pack") && !names.contains(String(name.dropLast(5)) + ".idx") { removeIfOld(packs + "/" + name) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasSuffix(".tmp") {
            removeIfOld(temporary + "/" + name)
        }
    }

    static func appendInteger(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    static func readInteger(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The 32 bytes a digest's hex spells.
    static func rawBytes(of digest: Digest) -> [UInt8] {
        let hex = Array(digest.hex.utf8)
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 { bytes[index] = nibble(hex[index * 2]) << 4 | nibble(hex[index * 2 + 1]) }
        return bytes
    }

    /// The digest of 32 raw bytes starting at `offset`.
    static func digest(_ raw: UnsafeRawBufferPointer, at offset: Int) -> Digest? {
        let hex = String(unsafeUninitializedCapacity: 64) { text in
            for index in 0..<32 {
                let value = raw[offset + index]
                text[index * 2] = hexDigits[Int(value >> 4)]
                text[index * 2 + 1] = hexDigits[Int(value & 0x0f)]
            }
            return 64
        }
        return Digest(hex: hex)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func nibble(_ ascii: UInt8) -> UInt8 {
        ascii >= UInt8(ascii: "a") ? ascii - UInt8(ascii: "a") + 10 : ascii - UInt8(ascii: "0")
    }
}

/// Where a packed object is: which pack of a ``PackCatalog``, and its byte range in it.
struct PackedObject: Sendable, Hashable {
    var pack: Int
    var offset: Int64
    var length: Int64
}

/// The packs of a folder remote, read from their indexes.
struct PackCatalog: Sendable {
    /// An index that was not used, and why.
    struct Damage: Sendable, Hashable {
        var path: String
        var reason: String
    }

    /// The pack files, numbered as ``PackedObject/pack`` counts.
    var packs: [String] = []
    /// Every packed object.
    var objects: [Digest: PackedObject] = [:]
    /// Indexes that could not be used (their objects count as missing).
    var damaged: [Damage] = []

    /// Reads every `*.idx` in a `packs/` folder (a missing folder is an empty catalog).
    static func load(folder: String) -> PackCatalog {
        var catalog = PackCatalog()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".idx") }.sorted()
        for name in names {
            let stem = String(name.dropLast(4))
            guard stem.utf8.count == 64, Digest(hex: stem)?.hex == stem else { continue }
            let path = folder + "/" + name
            if let reason = catalog.add(index: path, pack: "\(folder)/\(stem).pack", name: stem) {
                catalog.damaged.append(Damage(path: path, reason: reason))
            }
        }
        return catalog
    }

    /// Adds one index; returns why it cannot be used, or nil.
    private mutating func add(index path: String, pack: String, name: String) -> String? {
        guard let info = Posix.lstatus(path), Posix.isRegular(info) else { return "it is not a regular file" }
        guard Int(info.st_size) <= ObjectPack.indexSizeLimit else { return "it is larger than \(ObjectPack.indexSizeLimit) bytes" }
        guard let packInfo = Posix.lstatus(pack), Posix.isRegular(packInfo) else { return "its pack '\(pack)' is missing" }
        guard let data = FileManager.default.contents(atPath: path) else { return "it cannot be read" }
        let packSize = Int64(packInfo.st_size)
        let number = packs.count
        var found: [(Digest, PackedObject)] = []
        let problem: String? = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> String? in
            guard raw.count >= ObjectPack.indexOverhead, Array(raw[0..<8]) == ObjectPack.indexMagic else { return "it does not start with SLWPIDX1" }
            let count = ObjectPack.readInteger(raw, at: 8)
            let body = raw.count - ObjectPack.indexOverhead
            guard body % ObjectPack.entrySize == 0, count == UInt64(body / ObjectPack.entrySize) else {
                return "it is \(raw.count) bytes long, which does not fit its count of \(count) objects"
            }
            let checksum = Digest(of: UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 32)]))
            guard ObjectPack.digest(raw, at: raw.count - 32) == checksum, checksum.hex == name else {
                return "its checksum does not match its bytes or its name"
            }
            found.reserveCapacity(Int(count))
            var previous = ""
            for entry in 0..<Int(count) {
                let at = 16 + entry * ObjectPack.entrySize
                guard let digest = ObjectPack.digest(raw, at: at) else { return "entry \(entry) has no valid digest" }
                let offset = ObjectPack.readInteger(raw, at: at + 32)
                let length = ObjectPack.readInteger(raw, at: at + 40)
                guard digest.hex > previous else { return "its entries are not sorted by digest" }
                previous = digest.hex
                guard offset >= UInt64(ObjectPack.packMagic.count), offset <= UInt64(packSize), length <= UInt64(packSize) - offset else {
                    return "object \(digest) lies beyond the end of the pack (\(packSize) bytes)"
                }
                found.append((digest, PackedObject(pack: number, offset: Int64(offset), length: Int64(length))))
            }
            return nil
        }
        if let problem { return problem }
        packs.append(pack)
        objects.reserveCapacity(objects.count + found.count)
        for (digest, object) in found where objects[digest] == nil { objects[digest] = object }
        return nil
    }

    /// A sentence about the damaged indexes, for error messages ("" when there are none).
    var damageNote: String {
        guard let first = damaged.first else { return "" }
        return "; \(damaged.count) pack index(es) on the remote cannot be used, such as '\(first.path)' (\(first.reason)): remove them and their "
            + ".pack files, then push again from a workspace that has the data"
    }
}

/// Pack files opened for reading, shared by the workers of one fetch and closed together.
final class OpenPacks: Sendable {
    private let descriptors = Mutex<[Int: Int32]>([:])
    let catalog: PackCatalog

    init(_ catalog: PackCatalog) { self.catalog = catalog }

    /// The descriptor of pack `number`, opened on first use.
    func descriptor(_ number: Int) throws -> Int32 {
        let path = catalog.packs[number]
        return try descriptors.withLock { (open: inout [Int: Int32]) throws -> Int32 in
            if let fd = open[number] { return fd }
            let fd = try Posix.open(path, O_RDONLY | O_CLOEXEC, action: "read")
            open[number] = fd
            return fd
        }
    }

    deinit {
        descriptors.withLock { open in
            for fd in open.values { Posix.close(fd) }
        }
    }
}
