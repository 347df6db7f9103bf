public import Foundation
public import SlipwayCore
public import SlipwayStore

/// Finished jobs by content key: their outputs (`outputs:` values) and the files and folders their
/// `cache.outputs` name, stored in the data folder's content-addressed artifact store.
///
/// An entry is one JSON file under `<data folder>/cache/jobs/<key>.json`, written last (temporary
/// file and rename) after every object it names is stored, so an interrupted save leaves no entry.
/// A hit restores each output path from its objects, each verified against its digest, and only
/// then replaces what the workspace holds at that path.
public struct JobCacheStore: Sendable {
    /// One cached job.
    public struct Entry: Sendable, Codable, Equatable {
        public struct Output: Sendable, Codable, Equatable {
            /// Relative to the workspace.
            public var path: String
            /// A file object or a folder's manifest.
            public var digest: Digest
            public var folder: Bool
            public var size: Int64
        }

        public var key: String
        public var workflow: String
        public var job: String
        /// The job's `outputs:` values.
        public var jobOutputs: [String: String]
        public var files: [Output]
        public var createdAt: Date
    }

    public let folder: URL
    public let artifacts: LocalArtifactStore

    /// The cache of a data folder, sharing its artifact store (`<data folder>/artifacts`).
    public init(dataDir: URL) throws {
        folder = dataDir.appendingPathComponent("cache/jobs", isDirectory: true)
        artifacts = try LocalArtifactStore(root: dataDir.appendingPathComponent("artifacts"))
    }

    /// The entry for a key whose objects are all still present, or nil.
    public func lookup(_ key: String) async -> Entry? {
        guard key.allSatisfy(\.isHexDigit), let data = try? Data(contentsOf: file(key)),
            let entry = Self.quickDecode(data) ?? (try? SlipwayJSON.decoder().decode(Entry.self, from: data)), entry.key == key
        else { return nil }
        for output in entry.files where (try? await artifacts.contains(output.digest)) != true { return nil }
        return entry
    }

    /// Reads an entry in the form `save` writes, without job outputs, without the general JSON decoder (a
    /// cached run reads one entry per job, and Codable's decoding is most of that). Nil when anything is
    /// not exactly that form; the caller then decodes it the general way.
    static func quickDecode(_ data: Data) -> Entry? {
        guard data.count < 1 << 20, let text = String(validating: data, as: UTF8.self) else { return nil }
        var parser = ExpressionJSONParser(text)
        guard case .object(let root)? = try? parser.parseDocument() else { return nil }
        var fields: [String: ExpressionValue] = [:]
        for (name, value) in root.entries { fields[name] = value }
        guard fields.count == 6, case .string(let key)? = fields["key"], case .string(let workflow)? = fields["workflow"],
            case .string(let job)? = fields["job"], case .object(let outputs)? = fields["jobOutputs"], case .array(let files)? = fields["files"],
            case .string(let created)? = fields["createdAt"], let createdAt = Timestamp.parse(created)
        else { return nil }
        // Output names are case-sensitive here, and the expression parser folds case: entries with
        // outputs take the general way.
        guard outputs.entries.isEmpty else { return nil }
        var outputFiles: [Entry.Output] = []
        for file in files {
            guard case .object(let object) = file, object.entries.count == 4, case .string(let path)? = object.entries.first(where: { $0.key == "path" })?.value,
                case .string(let digestText)? = object.entries.first(where: { $0.key == "digest" })?.value, let digest = Digest(digestText),
                case .bool(let folder)? = object.entries.first(where: { $0.key == "folder" })?.value,
                case .number(let size)? = object.entries.first(where: { $0.key == "size" })?.value,
                size >= 0, size < 9_007_199_254_740_992, size == size.rounded()
            else { return nil }
            outputFiles.append(Entry.Output(path: path, digest: digest, folder: folder, size: Int64(size)))
        }
        return Entry(key: key, workflow: workflow, job: job, jobOutputs: [:], files: outputFiles, createdAt: createdAt)
    }

    /// Stores a successful job's outputs under its key. Refused (nothing stored) when an output path is
    /// missing or escapes the workspace, or when an output value or file holds one of `secretValues`:
    /// secrets never go into the cache.
    @discardableResult
    public func save(
        key: String, workflow: String, job: String, jobOutputs: [String: String], outputPaths: [String], workspace: URL,
        secretValues: [String]
    ) async throws -> Entry {
        let secrets = secretValues.filter { $0.count >= 2 }.map { Data($0.utf8) }
        for (name, value) in jobOutputs where secrets.contains(where: { Data(value.utf8).range(of: $0) != nil }) {
            throw CacheError("output \(name) holds a secret; the job's results are not cached")
        }
        var files: [Entry.Output] = []
        for raw in outputPaths {
            let path = try Self.relativePath(raw)
            let url = workspace.appendingPathComponent(path)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                throw CacheError("cache output '\(raw)' was not produced by the job; nothing was cached")
            }
            try Self.refuseSecrets(in: url, folder: isFolder.boolValue, secrets: secrets, shown: raw)
            if isFolder.boolValue {
                let stored = try await artifacts.putDirectory(at: url)
                files.append(Entry.Output(path: path, digest: stored.object.digest, folder: true, size: stored.manifest.totalSize))
            } else {
                let stored = try await artifacts.putFile(at: url)
                files.append(Entry.Output(path: path, digest: stored.digest, folder: false, size: stored.size))
            }
        }
        let entry = Entry(key: key, workflow: workflow, job: job, jobOutputs: jobOutputs, files: files, createdAt: Date())
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".\(key).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: try SlipwayJSON.encoder().encode(entry)) else {
            throw CacheError("could not write the cache entry in \(folder.path)")
        }
        guard rename(temporary.path, file(key).path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw CacheError("could not store the cache entry in \(folder.path)")
        }
        return entry
    }

    /// Puts an entry's files and folders back into the workspace, replacing what is there. With
    /// `digests`, outputs that the workspace already holds byte for byte are left alone.
    public func restore(_ entry: Entry, into workspace: URL, digests: FileDigestCache? = nil) async throws {
        for output in entry.files {
            let path = try Self.relativePath(output.path)
            let target = workspace.appendingPathComponent(path)
            if let digests, await holds(output, at: target, path: path, digests: digests) { continue }
            let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).restore-\(UUID().uuidString)")
            do {
                try await artifacts.materialize(output.digest, to: staging)
            } catch {
                try? FileManager.default.removeItem(at: staging)
                throw CacheError("cannot restore '\(output.path)' from the cache: \(error)")
            }
            try? FileManager.default.removeItem(at: target)
            guard rename(staging.path, target.path) == 0 else {
                try? FileManager.default.removeItem(at: staging)
                throw CacheError("cannot put '\(output.path)' back into the workspace: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Whether the workspace already has exactly this output (a file with its digest, or a folder
    /// with exactly the manifest's files).
    private func holds(_ output: Entry.Output, at target: URL, path: String, digests: FileDigestCache) async -> Bool {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target.path, isDirectory: &isFolder), isFolder.boolValue == output.folder else { return false }
        guard output.folder else {
            return (try? digests.digest(of: target, relative: path))?.digest == output.digest.hex
        }
        guard let manifest = try? await artifacts.manifest(output.digest) else { return false }
        var expected = Set(manifest.files.map(\.path))
        let enumerator = FileManager.default.enumerator(atPath: target.path)
        while let relative = enumerator?.nextObject() as? String {
            guard let type = enumerator?.fileAttributes?[.type] as? FileAttributeType else { return false }
            if type == .typeDirectory { continue }
            guard type == .typeRegular, expected.remove(relative) != nil else { return false }
        }
        guard expected.isEmpty else { return false }
        for file in manifest.files {
            guard (try? digests.digest(of: target.appendingPathComponent(file.path), relative: "\(path)/\(file.path)"))?.digest == file.digest.hex
            else { return false }
        }
        return true
    }

    /// Removes every entry (the objects stay until the artifact store's garbage collection).
    public func clear() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func file(_ key: String) -> URL { folder.appendingPathComponent("\(key).json") }

    static func relativePath(_ raw: String) throws -> String {
        var path = raw.trimmingCharacters(in: .whitespaces)
        while path.hasPrefix("./") { path.removeFirst(2) }
        while path.hasSuffix("/") { path.removeLast() }
        do {
            try LocalArtifactStore.validateRelativePath(path)
        } catch {
            throw CacheError("cache output '\(raw)' must be a path inside the workspace: \(error)")
        }
        return path
    }

    private static func refuseSecrets(in url: URL, folder: Bool, secrets: [Data], shown: String) throws {
        guard !secrets.isEmpty else { return }
        var files = [url]
        if folder {
            files = []
            let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey])
            while let next = enumerator?.nextObject() as? URL {
                if (try? next.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true { files.append(next) }
            }
        }
        for file in files {
            guard let data = try? Data(contentsOf: file, options: .alwaysMapped) else { continue }
            if secrets.contains(where: { data.range(of: $0) != nil }) {
                throw CacheError("cache output '\(shown)' holds a secret; the job's results are not cached")
            }
        }
    }
}
