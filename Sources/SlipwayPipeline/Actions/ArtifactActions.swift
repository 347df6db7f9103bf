public import Foundation
import SlipwayCore
import SlipwayStore

/// A run's record of one uploaded artifact: `<runFolder>/artifacts/<name>.json`.
public struct ArtifactIndex: Sendable, Codable, Equatable {
    /// The artifact's name.
    public var name: String
    /// The digest of the artifact's manifest on the content-addressed store.
    public var digest: String
    /// The files, relative to the artifact's root.
    public var files: [String]
    /// The total size of the files in bytes.
    public var size: Int64
    /// The job that uploaded it.
    public var job: String
    /// When it was uploaded.
    public var createdAt: Date
}

/// Where artifacts live: the store's objects in the data folder, the index of each run in the run's folder.
enum ArtifactLocations {
    /// The data folder. With `preferEnvironment` (the ML actions): `$SLIPWAY_DATA_DIR` of the step (relative to the
    /// project), else the one given to the action; otherwise (artifacts, which every job of a run must share) the one
    /// given to the action first. Without either, `.slipway` in the project.
    static func dataDir(_ configured: URL?, _ invocation: ActionInvocation, preferEnvironment: Bool = false) -> URL {
        if !preferEnvironment, let configured { return configured }
        if let value = invocation.environment["SLIPWAY_DATA_DIR"], !value.isEmpty {
            return value.hasPrefix("/") ? URL(fileURLWithPath: value) : invocation.project.appendingPathComponent(value)
        }
        if let configured { return configured }
        return invocation.project.appendingPathComponent(".slipway")
    }

    static func store(_ configured: URL?, _ invocation: ActionInvocation, action: String) throws(ActionError) -> LocalArtifactStore {
        let root = dataDir(configured, invocation).appendingPathComponent("artifacts")
        do { return try LocalArtifactStore(root: root) } catch {
            throw ActionError("\(action): cannot open the artifact store \(root.path): \(error)")
        }
    }

    static func indexFolder(_ invocation: ActionInvocation) -> URL { invocation.runFolder.appendingPathComponent("artifacts") }

    /// Checks an artifact name as GitHub does: not empty, none of `" : < > | * ? \ /`, no CR or LF.
    static func validateName(_ name: String, action: String) throws(ActionError) {
        let forbidden: Set<Character> = ["\"", ":", "<", ">", "|", "*", "?", "\\", "/", "\r", "\n", "\0"]
        if let bad = name.first(where: { forbidden.contains($0) }) {
            throw ActionError(
                "\(action): the artifact name '\(name)' contains \(bad.debugDescription); names may not contain \" : < > | * ? \\ / or line breaks")
        }
        guard !name.hasPrefix(".") else { throw ActionError("\(action): the artifact name '\(name)' may not start with '.'") }
    }

    /// The readable artifact indexes in a run's artifact folder, by name (unreadable ones are left out).
    static func indexes(in folder: URL) -> [ArtifactIndex] {
        DownloadArtifactAction.names(in: folder).compactMap { name in
            try? SlipwayJSON.decoder().decode(ArtifactIndex.self, from: Data(contentsOf: folder.appendingPathComponent("\(name).json")))
        }
    }

    /// Writes (or replaces) indexes in a run's artifact folder; names that are not plain file names are skipped.
    static func write(_ indexes: [ArtifactIndex], in folder: URL) {
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for index in indexes where !index.name.isEmpty && !index.name.contains("/") && !index.name.hasPrefix(".") {
            if let data = try? SlipwayJSON.encoder().encode(index) {
                try? data.write(to: folder.appendingPathComponent("\(index.name).json"), options: .atomic)
            }
        }
    }

    static func readIndex(_ url: URL, action: String) throws(ActionError) -> ArtifactIndex {
        do {
            return try SlipwayJSON.decoder().decode(ArtifactIndex.self, from: Data(contentsOf: url))
        } catch {
            throw ActionError("\(action): the artifact index \(url.path) cannot be read (\(error.localizedDescription)); upload the artifact again")
        }
    }
}

/// `actions/upload-artifact`: stores files of the workspace as a named artifact of the run.
///
/// Inputs: `name` (default `artifact`), `path` (required: one or more lines of files, folders or globs relative to the
/// workspace; a leading `!` excludes), `if-no-files-found` (`warn` (default), `error` or `ignore`), `overwrite`
/// (default false), `include-hidden-files` (default false). As on GitHub, the artifact's root is the deepest folder
/// common to all the paths, so `path: dist/` stores `dist`'s contents at the top. The files go to the data folder's
/// content-addressed store; `<runFolder>/artifacts/<name>.json` records the digest and the file list.
/// Outputs: `artifact-id` and `artifact-digest` (both the manifest's `sha256:` digest).
public struct UploadArtifactAction: BuiltinAction {
    public var name: String { "actions/upload-artifact" }
    /// The data folder, or nil for `$SLIPWAY_DATA_DIR` (else `.slipway` in the project).
    public let dataDir: URL?

    /// The action, storing on `dataDir`'s artifact store.
    public init(dataDir: URL? = nil) { self.dataDir = dataDir }

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let inputs = ActionInputs(name, invocation)
        let artifactName = inputs.optional("name") ?? "artifact"
        try ArtifactLocations.validateName(artifactName, action: name)
        let patterns = try inputs.required("path", "the files, folders or globs to upload, one per line")
        let ifNone = try inputs.choice("if-no-files-found", ["warn", "error", "ignore"], default: "warn")
        let overwrite = try inputs.bool("overwrite", default: false)
        let hidden = try inputs.bool("include-hidden-files", default: false)
        if inputs.optional("retention-days") != nil { _ = try inputs.integer("retention-days", minimum: 0) }

        let (root, files) = try collect(patterns, inputs: inputs, includeHidden: hidden)
        var result = ActionResult()
        guard !files.isEmpty else {
            let message =
                "no files were found with the provided path: \(patterns.split(whereSeparator: \.isNewline).joined(separator: ", ")); "
                + "no artifact will be uploaded"
            switch ifNone {
            case "error": throw ActionError("\(name): \(message)")
            case "warn": invocation.log("::warning::\(message)")
            default: invocation.log(message)
            }
            return result
        }
        let folder = ArtifactLocations.indexFolder(invocation)
        let indexURL = folder.appendingPathComponent("\(artifactName).json")
        if FileManager.default.fileExists(atPath: indexURL.path), !overwrite {
            throw ActionError(
                "\(name): an artifact named '\(artifactName)' already exists in this run; choose another name or set overwrite: true")
        }
        let store = try ArtifactLocations.store(dataDir, invocation, action: name)
        var entries: [ArtifactManifest.Entry] = []
        do {
            for file in files {
                let object = try await store.putFile(at: file)
                let relative = String(file.path.dropFirst(root.path == "/" ? 1 : root.path.count + 1))
                try LocalArtifactStore.validateRelativePath(relative)
                entries.append(
                    ArtifactManifest.Entry(
                        path: relative, digest: object.digest, size: object.size, executable: FileManager.default.isExecutableFile(atPath: file.path))
                )
            }
        } catch {
            throw ActionError("\(name): cannot store the files: \(error)")
        }
        let manifest = ArtifactManifest(files: entries)
        let object: StoredObject
        do { object = try await store.putData(try manifest.canonicalJSON()) } catch {
            throw ActionError("\(name): cannot store the artifact's manifest: \(error)")
        }
        let index = ArtifactIndex(
            name: artifactName, digest: object.digest.description, files: manifest.files.map(\.path), size: manifest.totalSize,
            job: invocation.jobKey, createdAt: Date())
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let data = try SlipwayJSON.encoder().encode(index)
            let temporary = folder.appendingPathComponent(".\(artifactName).json.\(UUID().uuidString.lowercased())")
            try data.write(to: temporary)
            defer { try? FileManager.default.removeItem(at: temporary) }
            // Without overwrite a hard link claims the name atomically: a job uploading the same name at the same time loses.
            let placed = overwrite ? rename(temporary.path, indexURL.path) : link(temporary.path, indexURL.path)
            guard placed == 0 else {
                if errno == EEXIST {
                    throw ActionError(
                        "an artifact named '\(artifactName)' was uploaded by another job meanwhile; choose another name or set overwrite: true")
                }
                throw ActionError("cannot move the index into place at \(indexURL.path)")
            }
        } catch let error as ActionError {
            throw ActionError("\(name): \(error.message)")
        } catch {
            throw ActionError("\(name): cannot write the artifact index \(indexURL.path): \(error.localizedDescription)")
        }
        invocation.log("Uploaded artifact '\(artifactName)': \(entries.count) file(s), \(manifest.totalSize) bytes, \(object.digest)")
        result.outputs = ["artifact-id": object.digest.description, "artifact-digest": object.digest.description]
        return result
    }

    /// The files the patterns select, and the root their artifact paths are relative to.
    func collect(_ patterns: String, inputs: ActionInputs, includeHidden: Bool) throws(ActionError) -> (URL, [URL]) {
        var includes: [(search: URL, regex: NSRegularExpression?)] = []
        var excludes: [NSRegularExpression] = []
        let workspace = URL(fileURLWithPath: try ActionInputs.resolve(".", in: inputs.workspace).path)
        for raw in patterns.split(whereSeparator: \.isNewline) {
            var pattern = raw.trimmingCharacters(in: .whitespaces)
            guard !pattern.isEmpty else { continue }
            let negated = pattern.hasPrefix("!")
            if negated { pattern = String(pattern.dropFirst()).trimmingCharacters(in: .whitespaces) }
            // The literal folders before the first component with a glob character.
            let components = pattern.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let globIndex = components.firstIndex { $0.contains(where: { "*?[".contains($0) }) }
            let literal = components[..<(globIndex ?? components.count)].joined(separator: "/")
            let base = try inputs.path("path", literal.isEmpty ? (pattern.hasPrefix("/") ? "/" : ".") : literal)
            var regex: NSRegularExpression?
            if globIndex != nil {
                let absolute = pattern.hasPrefix("/") ? pattern : workspace.path + "/" + pattern
                let normalized = URL(fileURLWithPath: absolute).standardizedFileURL.path
                let relative = String(normalized.dropFirst(min(normalized.count, workspace.path.count + 1)))
                do { regex = try NSRegularExpression(pattern: HashFiles.globRegex(relative)) } catch {
                    throw ActionError("\(name): the path pattern '\(pattern)' is not a valid glob")
                }
            }
            if negated {
                let relative = String(base.path.dropFirst(min(base.path.count, workspace.path.count + 1)))
                let expression = regex ?? (try? NSRegularExpression(pattern: "^" + NSRegularExpression.escapedPattern(for: relative) + "(?:/.*)?$"))
                if let expression { excludes.append(expression) }
            } else {
                includes.append((base, regex))
            }
        }
        var selected: Set<String> = []
        var searchRoots: [URL] = []
        for include in includes {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: include.search.path, isDirectory: &isDirectory) else { continue }
            if !isDirectory.boolValue {
                if include.regex == nil || matches(include.regex, include.search, workspace) {
                    selected.insert(include.search.path)
                    searchRoots.append(include.search.deletingLastPathComponent())
                }
                continue
            }
            searchRoots.append(include.search)
            guard let enumerator = FileManager.default.enumerator(atPath: include.search.path) else { continue }
            while let relative = enumerator.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if !includeHidden, name.hasPrefix(".") {
                    enumerator.skipDescendants()
                    continue
                }
                let full = include.search.appendingPathComponent(relative)
                var directory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: full.path, isDirectory: &directory), !directory.boolValue else { continue }
                guard include.regex == nil || matches(include.regex, full, workspace) else { continue }
                // A symbolic link inside the tree that points out of the workspace is left out.
                guard (try? ActionInputs.resolve(full.path, in: workspace)) != nil else { continue }
                selected.insert(full.standardizedFileURL.path)
            }
        }
        let files = selected.filter { path in
            let relative = String(path.dropFirst(min(path.count, workspace.path.count + 1)))
            let range = NSRange(relative.startIndex..., in: relative)
            return !excludes.contains { $0.firstMatch(in: relative, range: range) != nil }
        }.sorted().map { URL(fileURLWithPath: $0) }
        // The deepest folder common to every search root.
        var common = searchRoots.first.map { $0.standardizedFileURL.pathComponents } ?? workspace.pathComponents
        for root in searchRoots.dropFirst() {
            let parts = root.standardizedFileURL.pathComponents
            var count = 0
            while count < min(common.count, parts.count), common[count] == parts[count] { count += 1 }
            common = Array(common.prefix(count))
        }
        let root = URL(fileURLWithPath: common.isEmpty ? "/" : NSString.path(withComponents: common))
        return (root, files)
    }

    private func matches(_ regex: NSRegularExpression?, _ file: URL, _ workspace: URL) -> Bool {
        guard let regex else { return true }
        let path = file.standardizedFileURL.path
        let relative = String(path.dropFirst(min(path.count, workspace.path.count + 1)))
        return regex.firstMatch(in: relative, range: NSRange(relative.startIndex..., in: relative)) != nil
    }
}

/// `actions/download-artifact`: writes artifacts of the run into the workspace.
///
/// Inputs: `name` (one artifact, its files straight into `path`), or no `name` for every artifact of the run, each
/// into `path/<name>/` (`pattern` keeps only names matching a glob; `merge-multiple: true` puts them all straight into
/// `path`); `path` (default the workspace). Every file is verified against its digest; a corrupted or missing object
/// fails the step and leaves nothing half-written. Output: `download-path`.
public struct DownloadArtifactAction: BuiltinAction {
    public var name: String { "actions/download-artifact" }
    /// The data folder, or nil for `$SLIPWAY_DATA_DIR` (else `.slipway` in the project).
    public let dataDir: URL?

    /// The action, reading from `dataDir`'s artifact store.
    public init(dataDir: URL? = nil) { self.dataDir = dataDir }

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let inputs = ActionInputs(name, invocation)
        var destination = try ActionInputs.resolve(".", in: invocation.workspace)
        if let given = try inputs.optionalPath("path") { destination = given }
        let merge = try inputs.bool("merge-multiple", default: false)
        let folder = ArtifactLocations.indexFolder(invocation)
        var chosen: [(ArtifactIndex, URL)] = []
        if let artifactName = inputs.optional("name") {
            try ArtifactLocations.validateName(artifactName, action: name)
            let url = folder.appendingPathComponent("\(artifactName).json")
            guard FileManager.default.fileExists(atPath: url.path) else {
                let known = Self.names(in: folder)
                throw ActionError(
                    "\(name): this run has no artifact named '\(artifactName)'"
                        + (known.isEmpty ? "; upload it first with actions/upload-artifact" : "; it has: \(known.joined(separator: ", "))"))
            }
            chosen = [(try ArtifactLocations.readIndex(url, action: name), destination)]
        } else {
            var regex: NSRegularExpression?
            if let pattern = inputs.optional("pattern") {
                do { regex = try NSRegularExpression(pattern: HashFiles.globRegex(pattern)) } catch {
                    throw ActionError("\(name): the input 'pattern' ('\(pattern)') is not a valid glob")
                }
            }
            for artifactName in Self.names(in: folder) {
                if let regex, regex.firstMatch(in: artifactName, range: NSRange(artifactName.startIndex..., in: artifactName)) == nil { continue }
                let index = try ArtifactLocations.readIndex(folder.appendingPathComponent("\(artifactName).json"), action: name)
                chosen.append((index, merge ? destination : destination.appendingPathComponent(artifactName)))
            }
            if chosen.isEmpty { invocation.log("::warning::this run has no artifacts to download") }
        }
        let store = try ArtifactLocations.store(dataDir, invocation, action: name)
        for (index, target) in chosen {
            guard let digest = Digest(index.digest) else {
                throw ActionError("\(name): the index of artifact '\(index.name)' has an invalid digest '\(index.digest)'; upload it again")
            }
            let staging = invocation.temp.appendingPathComponent("download-\(UUID().uuidString.lowercased())")
            do {
                try FileManager.default.createDirectory(at: invocation.temp, withIntermediateDirectories: true)
                try await store.materialize(digest, to: staging)
            } catch {
                try? FileManager.default.removeItem(at: staging)
                throw ActionError("\(name): artifact '\(index.name)' cannot be restored: \(error)")
            }
            defer { try? FileManager.default.removeItem(at: staging) }
            do {
                for file in index.files {
                    let source = staging.appendingPathComponent(file)
                    let place = target.appendingPathComponent(file)
                    try FileManager.default.createDirectory(at: place.deletingLastPathComponent(), withIntermediateDirectories: true)
                    if FileManager.default.fileExists(atPath: place.path) { try FileManager.default.removeItem(at: place) }
                    try FileManager.default.moveItem(at: source, to: place)
                }
            } catch {
                throw ActionError("\(name): cannot write artifact '\(index.name)' into \(target.path): \(error.localizedDescription)")
            }
            invocation.log("Downloaded artifact '\(index.name)' (\(index.files.count) file(s), \(index.digest)) to \(target.path)")
        }
        var result = ActionResult()
        result.outputs = ["download-path": destination.path]
        return result
    }

    static func names(in folder: URL) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return entries.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }.sorted()
    }
}
