public import Foundation
import SlipwayCore

/// What `push`, `pull` or `fetch` moved.
public struct TransferReport: Sendable, Codable, Equatable {
    /// Objects the selected pointers need.
    public var objects: Int
    /// Objects transferred now.
    public var transferred: Int
    /// Bytes transferred now.
    public var bytes: Int64
    /// Objects that were already there.
    public var present: Int
    /// For pull: what checkout did.
    public var checkout: CheckoutReport?
}

extension DataWorkspace {
    /// How many objects move at once.
    public static let transferWidth = 8

    /// Sends the objects of tracked paths (every pointer when none is named) that the remote lacks.
    ///
    /// Files go before folder manifests, so a remote that has a manifest has its files. Safe to run
    /// again after an interruption: only what is still missing is sent.
    public func push(
        _ arguments: [String] = [], to remote: any DataRemote, from directory: String = FileManager.default.currentDirectoryPath,
        progress: DataProgressHandler? = nil
    ) async throws -> TransferReport {
        var files: [Digest: Int64] = [:]
        var manifests: [Digest: Int64] = [:]
        for target in try selection(arguments, from: directory) {
            let pointer = try pointer(of: target)
            switch pointer.kind {
            case .file: files[pointer.digest] = pointer.size
            case .folder:
                for file in try self.files(of: pointer, name: target.relative + DataPointer.suffix) { files[file.digest] = file.size }
                manifests[pointer.digest] = Int64(Posix.lstatus(cache.path(of: pointer.digest))?.st_size ?? 0)
            }
        }
        let absent = files.keys.filter { !cache.contains($0) }
        if let first = absent.min() {
            throw DataError(
                .notFound, "\(absent.count) object(s) such as \(first) are not in the cache; run 'slipway data add' or 'slipway data fetch' first")
        }
        let all = Array(files.keys) + Array(manifests.keys)
        let missing = try await remote.missing(all)
        let fileJobs = files.filter { missing.contains($0.key) }.sorted { $0.key < $1.key }
        let manifestJobs = manifests.filter { missing.contains($0.key) }.sorted { $0.key < $1.key }
        let total = (fileJobs + manifestJobs).reduce(Int64(0)) { $0 + $1.value }
        let counter = ProgressCounter("pushing", files: fileJobs.count + manifestJobs.count, bytes: total, handler: progress)
        let fileSizes = files
        let manifestSizes = manifests
        for jobs in [fileJobs, manifestJobs] {
            if let folder = remote as? FolderRemote {
                // A folder: packs and file copies on every core, no tasks needed.
                try folder.pushAll(jobs.map { (digest: $0.key, size: $0.value) }, from: cache) { counter.advance(bytes: $0) }
                continue
            }
            try await Self.run(jobs.map(\.key)) { digest in
                let size = fileSizes[digest] ?? manifestSizes[digest] ?? 0
                try await remote.upload(digest, from: cache.path(of: digest), size: size)
                counter.advance(bytes: size)
            }
        }
        return TransferReport(objects: all.count, transferred: fileJobs.count + manifestJobs.count, bytes: total, present: all.count - missing.count, checkout: nil)
    }

    /// Brings the objects of tracked paths that the cache lacks from a remote (verified on arrival).
    public func fetch(
        _ arguments: [String] = [], from remote: any DataRemote, directory: String = FileManager.default.currentDirectoryPath,
        progress: DataProgressHandler? = nil
    ) async throws -> TransferReport {
        let targets = try selection(arguments, from: directory)
        var pointers: [(Tracked, DataPointer)] = []
        for target in targets { pointers.append((target, try pointer(of: target))) }
        var transferred = 0
        var bytes: Int64 = 0
        // Folder manifests first: they say which files are needed.
        let manifests = Set(pointers.filter { $0.1.kind == .folder && !cache.contains($0.1.digest) }.map(\.1.digest))
        try await Self.run(Array(manifests)) { digest in _ = try await remote.download(digest, into: cache) }
        transferred += manifests.count
        var needed: [Digest: Int64] = [:]
        var all = Set<Digest>(pointers.map(\.1.digest))
        for (target, pointer) in pointers {
            for file in try files(of: pointer, name: target.relative + DataPointer.suffix) {
                all.insert(file.digest)
                if !cache.contains(file.digest) { needed[file.digest] = file.size }
            }
        }
        let total = needed.values.reduce(0, +)
        let counter = ProgressCounter("fetching", files: needed.count, bytes: total, handler: progress)
        if let folder = remote as? FolderRemote {
            try folder.fetchAll(needed.keys.sorted(), into: cache) { counter.advance(bytes: $0) }
        } else {
            try await Self.run(needed.keys.sorted()) { digest in
                let size = try await remote.download(digest, into: cache)
                counter.advance(bytes: size)
            }
        }
        transferred += needed.count
        bytes += total
        Posix.syncFileSystem(of: cache.root)
        return TransferReport(objects: all.count, transferred: transferred, bytes: bytes, present: all.count - transferred, checkout: nil)
    }

    /// ``fetch(_:from:directory:progress:)`` and then ``checkout(_:link:force:from:progress:)``.
    public func pull(
        _ arguments: [String] = [], from remote: any DataRemote, link: LinkStrategy? = nil, force: Bool = false,
        directory: String = FileManager.default.currentDirectoryPath, progress: DataProgressHandler? = nil
    ) async throws -> TransferReport {
        var report = try await fetch(arguments, from: remote, directory: directory, progress: progress)
        report.checkout = try checkout(arguments, link: link, force: force, from: directory, progress: progress)
        return report
    }

    /// Runs `body` for every digest, at most ``transferWidth`` at a time; the first error cancels the rest.
    static func run(_ digests: [Digest], _ body: @escaping @Sendable (Digest) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < digests.count && next < transferWidth {
                let digest = digests[next]
                group.addTask { try await body(digest) }
                next += 1
            }
            while try await group.next() != nil {
                if next < digests.count {
                    let digest = digests[next]
                    group.addTask { try await body(digest) }
                    next += 1
                }
            }
        }
    }
}
