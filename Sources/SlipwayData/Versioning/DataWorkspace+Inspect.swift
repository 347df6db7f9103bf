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

/// A file listed by `ls`.
public struct ListedFile: Sendable, Codable, Equatable {
    /// The path relative to the project root.
    public var path: String
    public var size: Int64
    public var digest: Digest
}

/// One difference found by `diff`.
public struct DataChange: Sendable, Codable, Equatable {
    /// The file's path relative to the project root.
    public var path: String
    /// "added", "removed" or "modified".
    public var change: String
    public var oldSize: Int64?
    public var newSize: Int64?
}

/// What `gc` removed (or would remove with a dry run).
public struct GarbageReport: Sendable, Codable, Equatable {
    public var removedObjects: Int
    public var removedBytes: Int64
    public var keptObjects: Int
    public var dryRun: Bool
}

extension DataWorkspace {
    /// The files of tracked paths (every pointer when none is named) with sizes and digests.
    public func list(_ arguments: [String] = [], from directory: String = FileManager.default.currentDirectoryPath) throws -> [ListedFile] {
        var result: [ListedFile] = []
        for target in try selection(arguments, from: directory) {
            let pointer = try pointer(of: target)
            for file in try files(of: pointer, name: target.relative + DataPointer.suffix) {
                result.append(ListedFile(path: file.path.isEmpty ? target.relative : target.relative + "/" + file.path, size: file.size, digest: file.digest))
            }
        }
        return result
    }

    /// Removes cache objects that no pointer in the workspace references.
    /// - Throws: ``DataError`` if a folder manifest is missing (its files could not be told apart from garbage).
    public func collectGarbage(dryRun: Bool) throws -> GarbageReport {
        var keep = Set<Digest>()
        for target in allTracked() {
            let pointer = try pointer(of: target)
            keep.insert(pointer.digest)
            if pointer.kind == .folder {
                do {
                    for file in try files(of: pointer, name: target.relative + DataPointer.suffix) { keep.insert(file.digest) }
                } catch let error as DataError {
                    throw DataError(error.kind, "\(error.message); gc needs every folder manifest to know which objects are in use (nothing was removed)")
                }
            }
        }
        var removed = 0
        var bytes: Int64 = 0
        var kept = 0
        for (digest, size) in cache.allObjects() {
            if keep.contains(digest) {
                kept += 1
                continue
            }
            if !dryRun {
                let path = cache.path(of: digest)
                guard unlink(path) == 0 || errno == ENOENT else { throw DataError.system("delete", path, errno) }
            }
            removed += 1
            bytes += size
        }
        if !dryRun { cache.removeStaleTemporaries() }
        return GarbageReport(removedObjects: removed, removedBytes: bytes, keptObjects: kept, dryRun: dryRun)
    }

    /// Compares the data of two git revisions, or of one revision and the workspace (`to` nil).
    ///
    /// Pointer files are read with `git show REV:path`; a folder's manifest must be in the cache.
    /// - Throws: ``DataError`` for an unknown revision, a corrupt pointer or a missing manifest.
    public func diff(from old: String, to new: String?) throws -> [DataChange] {
        let before = try snapshot(revision: old)
        let after = try new.map { try snapshot(revision: $0) } ?? workspaceSnapshot()
        var changes: [DataChange] = []
        for path in Set(before.keys).union(after.keys).sorted() {
            switch (before[path], after[path]) {
            case (nil, let added?): changes.append(DataChange(path: path, change: "added", oldSize: nil, newSize: added.size))
            case (let removed?, nil): changes.append(DataChange(path: path, change: "removed", oldSize: removed.size, newSize: nil))
            case (let a?, let b?) where a.digest != b.digest:
                changes.append(DataChange(path: path, change: "modified", oldSize: a.size, newSize: b.size))
            default: continue
            }
        }
        return changes
    }

    private func add(_ files: [DataFile], under relative: String, into snapshot: inout [String: DataFile]) {
        for file in files { snapshot[file.path.isEmpty ? relative : relative + "/" + file.path] = file }
    }

    private func workspaceSnapshot() throws -> [String: DataFile] {
        var index = openIndex()
        defer { index.save() }
        var snapshot: [String: DataFile] = [:]
        var hashed = 0
        for target in allTracked() {
            if let files = try current(target, index: &index, hashed: &hashed, progress: nil) { add(files, under: target.relative, into: &snapshot) }
        }
        return snapshot
    }

    private func snapshot(revision: String) throws -> [String: DataFile] {
        guard !revision.hasPrefix("-"), !revision.isEmpty else { throw DataError(.invalidArgument, "'\(revision)' is not a git revision") }
        let top = try git(["rev-parse", "--show-toplevel"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let gitRoot = (try? Posix.realPath(top)) ?? top
        _ = try git(["rev-parse", "--verify", "--quiet", revision + "^{commit}"], failure: "'\(revision)' is not a commit in this repository; check the revision")
        let prefix = root == gitRoot ? "" : String(root.dropFirst(gitRoot.count + 1)) + "/"
        let listing = try git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", revision])
        var snapshot: [String: DataFile] = [:]
        for name in listing.split(separator: "\0").map(String.init) where name.hasSuffix(DataPointer.suffix) && name.hasPrefix(prefix) {
            let relative = String(name.dropFirst(prefix.count).dropLast(DataPointer.suffix.count))
            let text = try git(["show", "\(revision):\(name)"])
            let pointer = try DataPointer.parse(text, path: "\(revision):\(name)")
            add(try files(of: pointer, name: "\(revision):\(name)"), under: relative, into: &snapshot)
        }
        return snapshot
    }

    /// Runs git in the project root and returns its standard output.
    private func git(_ arguments: [String], failure: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", root] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw DataError(.unavailable, "cannot run git: \(error.localizedDescription); install git")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw DataError(
                .invalidArgument, failure ?? "git \(arguments.joined(separator: " ")) failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
