public import Foundation
import SlipwayCore
import SlipwayStore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What `add` did.
public struct AddReport: Sendable, Codable, Equatable {
    /// One tracked path.
    public struct Entry: Sendable, Codable, Equatable {
        /// The path relative to the project root.
        public var path: String
        /// The pointer file written (relative to the project root).
        public var pointerFile: String
        public var pointer: DataPointer
        /// Objects that were new to the cache.
        public var newObjects: Int
    }

    public var paths: [Entry]
    /// How many files were read and hashed (the others were unchanged according to the hash index).
    public var hashedFiles: Int
    /// How many files were looked at.
    public var scannedFiles: Int
    /// The link strategy that was used ("reflink", "hardlink", "symlink" or "copy").
    public var link: String
}

extension DataWorkspace {
    /// Tracks files or folders: hashes them (on all cores, skipping unchanged files), puts them in the
    /// cache, writes `PATH.slipway` and adds `PATH` to the `.gitignore` next to it.
    ///
    /// - Parameters:
    ///   - arguments: files or folders, relative to `directory`.
    ///   - link: the link strategy (default: config, else ``LinkStrategy/auto``).
    ///   - progress: called while hashing and linking.
    /// - Throws: ``DataError`` for missing paths, paths outside the project, link loops, special files.
    ///   Each object and pointer is written atomically; running `add` again after a failure is safe.
    public func add(
        _ arguments: [String], link: LinkStrategy? = nil, from directory: String = FileManager.default.currentDirectoryPath,
        progress: DataProgressHandler? = nil
    ) throws -> AddReport {
        guard !arguments.isEmpty else { throw DataError(.invalidArgument, "name at least one file or folder to add") }
        let targets = try arguments.map { try tracked($0, from: directory) }
        for target in targets where Posix.lstatus(target.path) == nil {
            throw DataError(.notFound, "'\(target.relative)' does not exist; check the path (nothing was added)")
        }
        var index = openIndex()
        defer { index.save() }
        var hashed = 0
        var scanned = 0
        var entries: [AddReport.Entry] = []
        let linker = Linker(cache: cache, requested: strategy(link))
        for target in targets {
            guard let scan = try scan(target) else {
                throw DataError(.notFound, "'\(target.relative)' does not exist; check the path")
            }
            let files = scan.files
            scanned += files.count
            let digests = try digests(of: scan, index: &index, hashed: &hashed, progress: progress)
            let newObjects = try linker.ingest(scan, digests: digests, progress: progress)
            let pointer: DataPointer
            if scan.kind == .file, let file = files.first {
                pointer = DataPointer(kind: .file, digest: digests[0], size: file.info.size, files: 1)
            } else {
                let manifest = ArtifactManifest(
                    files: zip(files, digests).map { file, digest in
                        ArtifactManifest.Entry(path: file.relative, digest: digest, size: file.info.size, executable: file.executable)
                    })
                let data: Data
                do {
                    data = try ManifestCodec.encode(manifest)
                } catch {
                    throw DataError(.internal, "cannot encode the manifest of '\(target.relative)': \(error)")
                }
                let digest = try cache.store(data)
                pointer = DataPointer(kind: .folder, digest: digest, size: manifest.totalSize, files: manifest.files.count)
            }
            linker.flush()
            try Posix.writeAtomically(Data(pointer.yaml.utf8), to: target.pointerPath)
            try ignore(target)
            entries.append(
                AddReport.Entry(path: target.relative, pointerFile: target.relative + DataPointer.suffix, pointer: pointer, newObjects: newObjects))
        }
        return AddReport(paths: entries, hashedFiles: hashed, scannedFiles: scanned, link: linker.used.rawValue)
    }

    /// Adds `/NAME` to the `.gitignore` next to a tracked path (creating it; never twice).
    func ignore(_ target: Tracked) throws {
        let folder = (target.path as NSString).deletingLastPathComponent
        let name = (target.path as NSString).lastPathComponent
        let file = folder + "/.gitignore"
        let line = "/" + name
        let existing = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        let lines = existing.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if lines.contains(line) || lines.contains(line + "/") { return }
        var text = existing
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += line + "\n"
        try Posix.writeAtomically(Data(text.utf8), to: file)
    }
}

/// Moves files into the cache and links them back, with one link strategy for the whole command.
final class Linker: Sendable {
    let cache: DataCache
    let requested: LinkStrategy
    /// The strategy that works on this file system (decided on the first file for auto).
    private let decided: Mutex<LinkStrategy?>
    /// Objects created since the last ``flush()``.
    private let created = Mutex<[String]>([])

    init(cache: DataCache, requested: LinkStrategy) {
        self.cache = cache
        self.requested = requested
        self.decided = Mutex(requested == .auto ? Linker.probe(cache) : requested)
    }

    /// The fastest strategy the cache's file system supports: reflink, else hardlink, else copy.
    static func probe(_ cache: DataCache) -> LinkStrategy {
        let source = cache.temporaryPath()
        let clone = cache.temporaryPath()
        defer {
            _ = unlink(source)
            _ = unlink(clone)
        }
        guard let fd = try? Posix.open(source, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600, action: "create") else { return .copy }
        Posix.close(fd)
        if (try? Posix.reflink(from: source, to: clone, mode: 0o600)) == true { return .reflink }
        _ = unlink(clone)
        if (try? Posix.hardlink(from: source, to: clone)) == true { return .hardlink }
        return .copy
    }

    var used: LinkStrategy { decided.withLock { $0 } ?? (requested == .auto ? .copy : requested) }

    /// Makes sure every file's object is in the cache and links the workspace file per the strategy; returns how many objects were new.
    func ingest(_ scan: DataWorkspace.Scan, digests: [Digest], progress: DataProgressHandler?) throws -> Int {
        let files = scan.files
        guard !files.isEmpty else { return 0 }
        let total = files.reduce(Int64(0)) { $0 + $1.info.size }
        let counter = ProgressCounter("caching", files: files.count, bytes: total, handler: progress)
        // The first file decides what the file system supports; the rest run on all cores.
        var created = try ingest(files[0], of: scan, digest: digests[0], buffer: nil) ? 1 : 0
        counter.advance(bytes: files[0].info.size)
        if files.count > 1 {
            let results = try Parallel.map(files.count - 1) { slot, buffer in
                let new = try self.ingest(files[slot + 1], of: scan, digest: digests[slot + 1], buffer: buffer)
                counter.advance(bytes: files[slot + 1].info.size)
                return new
            }
            created += results.filter { $0 }.count
        }
        return created
    }

    /// One file; returns whether its object was new.
    private func ingest(
        _ file: DataWorkspace.ScannedFile, of scan: DataWorkspace.Scan, digest: Digest, buffer: UnsafeMutableRawBufferPointer?
    ) throws -> Bool {
        let object = cache.path(of: digest)
        var created = false
        if Posix.lstatus(object) == nil {
            try createObject(from: scan.source(of: file), digest: digest, buffer: buffer)
            self.created.withLock { $0.append(object) }
            created = true
        }
        guard !file.isLink else { return created }
        switch used {
        case .hardlink:
            // The workspace file becomes (or already is) the read-only cache object.
            if let objectInfo = Posix.lstatus(object).map(FileInfo.init), objectInfo.inode != file.info.inode || objectInfo.device != file.info.device {
                let path = scan.path(of: file)
                let temporary = Linker.siblingTemporary(path)
                if (try? Posix.hardlink(from: object, to: temporary)) == true {
                    try Posix.rename(temporary, path)
                }
            }
        case .symlink:
            let path = scan.path(of: file)
            let temporary = Linker.siblingTemporary(path)
            guard symlink(object, temporary) == 0 else { throw DataError.system("create a link at", temporary, errno) }
            do { try Posix.rename(temporary, path) } catch {
                _ = unlink(temporary)
                throw error
            }
        case .auto, .reflink, .copy:
            break
        }
        return created
    }

    /// Puts a workspace file's bytes into the cache under `digest`.
    private func createObject(from source: String, digest: Digest, buffer: UnsafeMutableRawBufferPointer?) throws {
        let temporary = try cache.temporaryPath(for: digest)
        var strategy = decided.withLock { $0 } ?? .auto
        if strategy == .symlink { strategy = .auto }  // the object itself is a clone, a link or a copy
        if strategy == .auto || strategy == .reflink {
            if try Posix.reflink(from: source, to: temporary, mode: 0o444) {
                decide(.reflink)
                try cache.place(temporary, as: digest)
                return
            }
            if requested == .reflink {
                throw DataError(
                    .failedPrecondition,
                    "the file system of '\(cache.root)' cannot clone files (reflink); use --link hardlink, symlink or copy, or 'link: auto' in .slipway/config.yml")
            }
            strategy = .auto
        }
        if strategy == .auto || strategy == .hardlink {
            if try Posix.hardlink(from: source, to: temporary) {
                // Hard-linked data is read-only: an edit in place would change the cache object.
                _ = chmod(temporary, 0o444)
                decide(requested == .symlink ? .symlink : .hardlink)
                try cache.place(temporary, as: digest)
                return
            }
            if requested == .hardlink {
                throw DataError(
                    .failedPrecondition,
                    "cannot hard-link '\(source)' into the cache '\(cache.root)' (another file system?); use --link copy or move the cache next to the data")
            }
        }
        decide(requested == .symlink ? .symlink : .copy)
        let scratch = buffer ?? UnsafeMutableRawBufferPointer.allocate(byteCount: Posix.bufferSize, alignment: 64)
        defer { if buffer == nil { scratch.deallocate() } }
        let copied = try Posix.copyHashing(from: source, to: temporary, mode: 0o444, buffer: scratch)
        guard copied.digest == digest else {
            _ = unlink(temporary)
            throw DataError(.failedPrecondition, "'\(source)' changed while it was being added; run the command again")
        }
        try cache.place(temporary, as: digest)
    }

    /// Makes the objects created so far durable (before a pointer names them).
    func flush() {
        let paths = created.withLock { paths in
            defer { paths.removeAll() }
            return paths
        }
        Posix.flush(paths, fileSystemOf: cache.root)
    }

    private func decide(_ strategy: LinkStrategy) {
        decided.withLock { current in
            if current == nil { current = strategy }
        }
    }

    /// A temporary name next to a workspace file (same folder, so a rename replaces it atomically).
    static func siblingTemporary(_ path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return "\(folder)/.\((path as NSString).lastPathComponent).slipway-\(Posix.uniqueName())"
    }
}
