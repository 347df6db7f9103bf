import Foundation
public import SlipwayCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder remote, e.g. on a shared disk: the cache's layout plus packs of small objects.
///
/// ```
/// objects/sha256/ab/cdef…   one read-only file per object (objects of 64 KiB and more, and everything an older Slipway pushed)
/// packs/<name>.pack         small objects back to back (see ObjectPack)
/// packs/<name>.idx          the pack's sorted index: digest → offset, length; written last, so it makes the pack visible
/// tmp/                      files being written
/// ```
///
/// `push` puts objects smaller than 64 KiB into packs (a new file per pack instead of per object) and
/// copies larger ones as single files. An object counts as present when a pack index lists it or its
/// single file exists, so a remote written before packs existed still works, and mixed remotes too.
public struct FolderRemote: DataRemote {
    let store: DataCache
    /// The `packs/` folder.
    let packs: String
    private let cached: CatalogBox

    /// Opens (and creates) the folder.
    public init(root: String) throws {
        store = try DataCache(root: root)
        packs = root + "/packs"
        cached = CatalogBox()
    }

    /// The packs as they are now, read again from their indexes.
    func catalog() -> PackCatalog {
        let catalog = PackCatalog.load(folder: packs)
        cached.value.withLock { $0 = catalog }
        return catalog
    }

    public func missing(_ digests: [Digest]) async throws -> Set<Digest> {
        let catalog = catalog()
        // Only look for single files in the shard folders that exist (none on a remote that holds packs only).
        let shards = Set(((try? FileManager.default.contentsOfDirectory(atPath: store.objects)) ?? []).filter { $0.utf8.count == 2 })
        return Set(digests.filter { catalog.objects[$0] == nil && (!shards.contains(String($0.hex.prefix(2))) || !store.contains($0)) })
    }

    public func upload(_ digest: Digest, from path: String, size: Int64) async throws {
        try Self.copy(digest, from: path, into: store)
        Posix.flush([store.path(of: digest)], fileSystemOf: store.root)
    }

    public func download(_ digest: Digest, into cache: DataCache) async throws -> Int64 {
        try downloadNow(digest, into: cache)
    }

    /// ``download(_:into:)`` without suspending: a packed object or a single file, verified.
    func downloadNow(_ digest: Digest, into cache: DataCache) throws -> Int64 {
        var catalog = cached.value.withLock { $0 } ?? self.catalog()
        var fresh = false
        let source = store.path(of: digest)
        while true {
            if let object = catalog.objects[digest] {
                let open = OpenPacks(catalog)
                let descriptor: Int32
                do {
                    descriptor = try open.descriptor(object.pack)
                } catch where !fresh {
                    // The pack went away since the indexes were read: read them again.
                    catalog = self.catalog()
                    fresh = true
                    continue
                }
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Posix.bufferSize, alignment: 64)
                defer { buffer.deallocate() }
                return try ObjectPack.extract(digest, at: object, packPath: catalog.packs[object.pack], descriptor: descriptor, into: cache, buffer: buffer)
            }
            if Posix.lstatus(source) != nil { return try Self.copy(digest, from: source, into: cache) }
            guard fresh else {
                catalog = self.catalog()
                fresh = true
                continue
            }
            throw DataError(.notFound, "object \(digest) is not on the remote '\(store.root)'; push it from a workspace that has it" + catalog.damageNote)
        }
    }

    /// Sends many objects (sorted by digest) from a cache: the small ones in packs, the others as single files,
    /// on all cores, then flushes once; `progress` gets each object's size.
    func pushAll(_ objects: [(digest: Digest, size: Int64)], from cache: DataCache, progress: @Sendable (Int64) -> Void) throws {
        let small = objects.filter { $0.size < ObjectPack.smallObjectLimit }
        let large = objects.filter { $0.size >= ObjectPack.smallObjectLimit }.map(\.digest)
        if !small.isEmpty {
            try Posix.makeFolders(packs)
            ObjectPack.removeStale(in: packs, temporary: store.temporary)
            let groups = ObjectPack.groups(small, limit: ObjectPack.packLimit(total: small.reduce(0) { $0 + $1.size }))
            let packs = packs
            let temporary = store.temporary
            _ = try Parallel.map(groups.count) { slot, buffer in
                try ObjectPack.write(groups[slot], from: cache, packs: packs, temporary: temporary, buffer: buffer, progress: progress)
            }
        }
        if !large.isEmpty {
            try copyAll(large, from: cache, to: store, progress: progress)
        } else {
            // The new names of the packs.
            Posix.syncFileSystem(of: store.root)
        }
    }

    /// Brings many objects into a cache, from packs or single files, verifying each, on all cores; then flushes once.
    func fetchAll(_ digests: [Digest], into cache: DataCache, progress: @Sendable (Int64) -> Void) throws {
        let catalog = catalog()
        let open = OpenPacks(catalog)
        // Packed objects in pack and offset order, so each pack is read front to back.
        let ordered = digests.map { (digest: $0, object: catalog.objects[$0]) }.sorted { a, b in
            switch (a.object, b.object) {
            case (let x?, let y?): return x.pack != y.pack ? x.pack < y.pack : x.offset < y.offset
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.digest < b.digest
            }
        }
        let root = store.root
        let objects = store
        _ = try Parallel.map(ordered.count) { slot, buffer in
            let (digest, packed) = ordered[slot]
            let size: Int64
            if let object = packed {
                size = try ObjectPack.extract(
                    digest, at: object, packPath: catalog.packs[object.pack], descriptor: try open.descriptor(object.pack), into: cache, buffer: buffer)
            } else {
                let source = objects.path(of: digest)
                guard Posix.lstatus(source) != nil else {
                    throw DataError(.notFound, "object \(digest) is not on the remote '\(root)'; push it from a workspace that has it" + catalog.damageNote)
                }
                size = try Self.copy(digest, from: source, into: cache, buffer: buffer)
            }
            progress(size)
            return size
        }
        Posix.syncFileSystem(of: cache.root)
    }

    /// Copies many objects as single files on all cores (each worker reusing one buffer); `progress` gets each object's size.
    func copyAll(_ digests: [Digest], from source: DataCache, to destination: DataCache, progress: @Sendable (Int64) -> Void) throws {
        // One worker per core: more only contend for the file system's directory and journal locks.
        _ = try Parallel.map(digests.count) { slot, buffer in
            let size = try Self.copy(digests[slot], from: source.path(of: digests[slot]), into: destination, buffer: buffer)
            progress(size)
            return size
        }
        Posix.syncFileSystem(of: destination.root)
    }

    /// Copies a file into a cache under its digest, verifying the bytes on the way.
    @discardableResult
    static func copy(_ digest: Digest, from source: String, into cache: DataCache, buffer given: UnsafeMutableRawBufferPointer? = nil) throws -> Int64 {
        let temporary = try cache.temporaryPath(for: digest)
        let buffer = given ?? UnsafeMutableRawBufferPointer.allocate(byteCount: Posix.bufferSize, alignment: 64)
        defer { if given == nil { buffer.deallocate() } }
        let copied = try Posix.copyHashing(from: source, to: temporary, mode: 0o444, buffer: buffer)
        guard copied.digest == digest else {
            _ = unlink(temporary)
            throw DataError(.corrupted, "object \(digest) at '\(source)' is corrupted (its bytes hash to \(copied.digest)); it was not transferred")
        }
        try cache.place(temporary, as: digest)
        return copied.size
    }
}

/// The pack catalog a folder remote read last (`download` reuses it rather than reading every index per object).
private final class CatalogBox: Sendable {
    let value = Mutex<PackCatalog?>(nil)
}
