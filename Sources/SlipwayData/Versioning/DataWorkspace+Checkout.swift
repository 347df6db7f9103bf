public import Foundation
public import SlipwayCore
import SlipwayStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One file as a pointer describes it.
public struct DataFile: Sendable, Codable, Equatable {
    /// The path inside the tracked folder ("" for a tracked file).
    public var path: String
    public var digest: Digest
    public var size: Int64
    public var executable: Bool
}

/// The state of one tracked path compared with its pointer.
public struct DataStatus: Sendable, Codable, Equatable {
    /// The tracked path (relative to the project root).
    public var path: String
    /// "up to date", "modified", "deleted" (the data is missing) or "unknown" (the folder manifest is not in the cache).
    public var state: String
    public var added: [String]
    public var deleted: [String]
    public var modified: [String]
    /// How many files were hashed to find this out.
    public var hashedFiles: Int
}

/// What `checkout` did.
public struct CheckoutReport: Sendable, Codable, Equatable {
    /// Files written or linked.
    public var restored: [String]
    /// Files removed (extra files in a tracked folder, with force).
    public var removed: [String]
    /// Files that were already right.
    public var unchanged: Int
    public var link: String
}

extension DataWorkspace {
    /// The files a pointer stands for (a folder's manifest must be in the cache).
    func files(of pointer: DataPointer, name: String) throws -> [DataFile] {
        switch pointer.kind {
        case .file:
            return [DataFile(path: "", digest: pointer.digest, size: pointer.size, executable: false)]
        case .folder:
            return try cache.manifest(pointer.digest, pointer: name).files.map {
                DataFile(path: $0.path, digest: $0.digest, size: $0.size, executable: $0.executable)
            }
        }
    }

    /// The files actually in the workspace for a tracked path (nil when it does not exist).
    func current(_ target: Tracked, index: inout HashIndex, hashed: inout Int, progress: DataProgressHandler?) throws -> [DataFile]? {
        guard let scan = try scan(target) else { return nil }
        return try current(scan, index: &index, hashed: &hashed, progress: progress)
    }

    /// The files of a scanned tracked path with their digests (hashing those the index does not know).
    func current(_ scan: Scan, index: inout HashIndex, hashed: inout Int, progress: DataProgressHandler?) throws -> [DataFile] {
        let digests = try digests(of: scan, index: &index, hashed: &hashed, progress: progress)
        return zip(scan.files, digests).map { DataFile(path: $0.relative, digest: $1, size: $0.info.size, executable: $0.executable) }
    }

    /// Compares tracked paths with their pointers.
    ///
    /// - Parameter arguments: tracked paths or pointer files; none means every pointer in the project.
    /// - Throws: ``DataError`` for corrupt pointers, link loops, paths outside the project.
    public func status(
        _ arguments: [String] = [], from directory: String = FileManager.default.currentDirectoryPath, progress: DataProgressHandler? = nil
    ) throws -> [DataStatus] {
        var index = openIndex()
        defer { index.save() }
        var result: [DataStatus] = []
        for target in try selection(arguments, from: directory) {
            let pointer = try pointer(of: target)
            var hashed = 0
            let scan = try scan(target)
            if let scan, scan.kind == .folder, pointer.kind == .folder, ManifestCodec.digest(of: scan, index: index) == pointer.digest {
                // Nothing changed in a folder whose files the index knows: its manifest digest, computed
                // straight from the scan and the index, is the pointer's.
                result.append(DataStatus(path: target.relative, state: "up to date", added: [], deleted: [], modified: [], hashedFiles: 0))
                continue
            }
            let actual = try scan.map { try current($0, index: &index, hashed: &hashed, progress: progress) }
            if let actual, Self.digest(of: actual, kind: pointer.kind) == pointer.digest {
                // The common case: rebuilding the pointer from the workspace gives the same digest.
                result.append(DataStatus(path: target.relative, state: "up to date", added: [], deleted: [], modified: [], hashedFiles: hashed))
                continue
            }
            let expected: [DataFile]
            do {
                expected = try files(of: pointer, name: target.relative + DataPointer.suffix)
            } catch let error as DataError where error.kind == .notFound {
                result.append(DataStatus(path: target.relative, state: "unknown", added: [], deleted: [], modified: [], hashedFiles: hashed))
                continue
            }
            guard let actual else {
                result.append(
                    DataStatus(path: target.relative, state: "deleted", added: [], deleted: expected.map(\.path), modified: [], hashedFiles: 0))
                continue
            }
            let changes = Self.compare(expected, actual)
            let clean = changes.added.isEmpty && changes.deleted.isEmpty && changes.modified.isEmpty
            result.append(
                DataStatus(
                    path: target.relative, state: clean ? "up to date" : "modified", added: changes.added, deleted: changes.deleted,
                    modified: changes.modified, hashedFiles: hashed))
        }
        return result
    }

    /// The digest a pointer of `kind` would have for these files (nil when the kind does not fit).
    static func digest(of files: [DataFile], kind: DataPointer.Kind) -> Digest? {
        switch kind {
        case .file:
            guard files.count == 1, files[0].path.isEmpty else { return nil }
            return files[0].digest
        case .folder:
            guard !files.contains(where: { $0.path.isEmpty }) else { return nil }
            let manifest = ArtifactManifest(
                files: files.map { ArtifactManifest.Entry(path: $0.path, digest: $0.digest, size: $0.size, executable: $0.executable) })
            return (try? ManifestCodec.encode(manifest)).map { Digest(of: $0) }
        }
    }

    static func compare(_ old: [DataFile], _ new: [DataFile]) -> (added: [String], deleted: [String], modified: [String]) {
        let before = Dictionary(old.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let added = after.keys.filter { before[$0] == nil }.sorted()
        let deleted = before.keys.filter { after[$0] == nil }.sorted()
        let modified = after.compactMap { path, file in before[path].map { $0.digest != file.digest ? path : nil } ?? nil }.sorted()
        return (added, deleted, modified)
    }

    /// Restores tracked paths from their pointers, from the cache.
    ///
    /// Every object needed is verified before anything is written; a corrupted or missing object
    /// stops the command with nothing changed. Files with changes that are not in their pointer are
    /// only overwritten (and extra files in a tracked folder only removed) with `force`.
    /// - Throws: ``DataError`` (`corrupted`, `notFound`, `failedPrecondition` for local changes).
    public func checkout(
        _ arguments: [String] = [], link: LinkStrategy? = nil, force: Bool = false, from directory: String = FileManager.default.currentDirectoryPath,
        progress: DataProgressHandler? = nil
    ) throws -> CheckoutReport {
        var index = openIndex()
        defer { index.save() }
        let linker = Linker(cache: cache, requested: strategy(link))
        struct Job {
            var target: String
            var file: DataFile
        }
        var jobs: [Job] = []
        var removals: [String] = []
        var conflicts: [String] = []
        var unchanged = 0
        var replaceWhole: [String] = []
        for target in try selection(arguments, from: directory) {
            let pointer = try pointer(of: target)
            let expected = try files(of: pointer, name: target.relative + DataPointer.suffix)
            var hashed = 0
            let info = Posix.lstatus(target.path)
            let kindMatches: Bool = {
                guard let info else { return true }
                let isFolder = Posix.isDirectory(info) || (Posix.isLink(info) && Posix.status(target.path).map(Posix.isDirectory) == true)
                return isFolder == (pointer.kind == .folder)
            }()
            if !kindMatches {
                if !force { conflicts.append(target.relative) } else { replaceWhole.append(target.path) }
                jobs += expected.map { Job(target: target.path, file: $0) }
                continue
            }
            let actual = try current(target, index: &index, hashed: &hashed, progress: nil) ?? []
            let present = Dictionary(actual.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            let wanted = Set(expected.map(\.path))
            for file in expected {
                let shown = file.path.isEmpty ? target.relative : target.relative + "/" + file.path
                if let have = present[file.path] {
                    if have.digest == file.digest { unchanged += 1; continue }
                    if !force { conflicts.append(shown) }
                }
                jobs.append(Job(target: target.path, file: file))
            }
            for file in actual where !wanted.contains(file.path) {
                if force { removals.append(target.path + "/" + file.path) } else { conflicts.append(target.relative + "/" + file.path) }
            }
        }
        if !conflicts.isEmpty {
            let shown = conflicts.prefix(5).map { "'\($0)'" }.joined(separator: ", ") + (conflicts.count > 5 ? " and \(conflicts.count - 5) more" : "")
            throw DataError(
                .failedPrecondition,
                "\(shown) \(conflicts.count == 1 ? "has" : "have") changes that are not in the pointer files; "
                    + "run 'slipway data add' to keep them or 'slipway data checkout --force' to discard them (nothing was changed)")
        }
        // Verify every object before touching the workspace.
        let digests = Array(Set(jobs.map(\.file.digest)))
        for digest in digests where !cache.contains(digest) {
            throw DataError(.notFound, "object \(digest) is not in the cache; run 'slipway data pull' (nothing was changed)")
        }
        var toHash: [(Digest, String, stat)] = []
        for digest in digests {
            let path = cache.path(of: digest)
            guard let info = Posix.status(path) else { throw DataError.system("read", path, errno) }
            if index.digest(for: FileInfo(info)) != digest { toHash.append((digest, path, info)) }
        }
        let verifyList = toHash
        let counter = ProgressCounter("verifying", files: toHash.count, bytes: toHash.reduce(0) { $0 + Int64($1.2.st_size) }, handler: progress)
        let actualDigests = try Parallel.map(toHash.count) { slot, buffer in
            let result = try Posix.hashFile(verifyList[slot].1, buffer: buffer)
            counter.advance(bytes: result.size)
            return result.digest
        }
        for (slot, item) in toHash.enumerated() {
            guard actualDigests[slot] == item.0 else { throw DataError.corrupted(item.0, path: item.1, actual: actualDigests[slot]) }
            index.record(FileInfo(item.2), digest: item.0)
        }
        // Write.
        for path in replaceWhole { try? FileManager.default.removeItem(atPath: path) }
        for path in removals { _ = unlink(path) }
        let writer = ProgressCounter("checking out", files: jobs.count, bytes: jobs.reduce(0) { $0 + $1.file.size }, handler: progress)
        let used = linker.used
        var folders = Set<String>()
        for job in jobs {
            let path = job.file.path.isEmpty ? job.target : job.target + "/" + job.file.path
            folders.insert((path as NSString).deletingLastPathComponent)
        }
        for folder in folders.sorted() { try Posix.makeFolders(folder) }
        let work = jobs
        _ = try Parallel.map(work.count) { slot, buffer in
            let job = work[slot]
            let path = job.file.path.isEmpty ? job.target : job.target + "/" + job.file.path
            try self.materialize(job.file, at: path, strategy: used, buffer: buffer)
            writer.advance(bytes: job.file.size)
            return true
        }
        return CheckoutReport(
            restored: jobs.map { job in
                let relative = String(job.target.dropFirst(root.count + 1))
                return job.file.path.isEmpty ? relative : relative + "/" + job.file.path
            }, removed: removals.map { String($0.dropFirst(root.count + 1)) }, unchanged: unchanged, link: used.rawValue)
    }

    /// Writes one file from its (verified) cache object into place, atomically.
    func materialize(_ file: DataFile, at path: String, strategy: LinkStrategy, buffer: UnsafeMutableRawBufferPointer) throws {
        let object = cache.path(of: file.digest)
        let temporary = Linker.siblingTemporary(path)
        let mode: mode_t = file.executable ? 0o755 : 0o644
        var done = false
        switch strategy {
        case .reflink, .auto:
            done = try Posix.reflink(from: object, to: temporary, mode: mode)
        case .hardlink:
            done = try Posix.hardlink(from: object, to: temporary)
        case .symlink:
            guard symlink(object, temporary) == 0 else { throw DataError.system("create a link at", temporary, errno) }
            done = true
        case .copy:
            break
        }
        if !done {
            let copied = try Posix.copyHashing(from: object, to: temporary, mode: mode, buffer: buffer)
            guard copied.digest == file.digest else {
                _ = unlink(temporary)
                throw DataError.corrupted(file.digest, path: object, actual: copied.digest)
            }
        }
        if let info = Posix.lstatus(path), Posix.isDirectory(info) { try? FileManager.default.removeItem(atPath: path) }
        do { try Posix.rename(temporary, path) } catch {
            _ = unlink(temporary)
            throw error
        }
    }
}
