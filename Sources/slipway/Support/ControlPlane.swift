import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import SlipwayData
import SlipwayHTTP
import SlipwayPipeline
import SlipwayStore

/// The calls `slipway run --server` and `slipway runner` make to the control plane: JSON calls under `/api/v1`, and
/// objects on its artifact store (workspaces, artifacts), verified by digest both ways.
struct ControlPlane: Sendable {
    /// The server: its URL (from `--server`), token and the token hint for refusals.
    let connection: ServerConnection

    /// The server's URL without trailing slashes.
    var baseURL: String { connection.baseURL }
    /// The bearer token, if any.
    var token: String? { connection.token }

    init(baseURL: String, token: String?) throws {
        guard ServerConnection.isServerURL(baseURL) else {
            throw GenericError(.invalidArgument, "--server '\(baseURL)' must be an http:// or https:// URL")
        }
        connection = ServerConnection(baseURL: baseURL, token: token, urlSource: "--server", tokenHint: ServerConnection.editorTokenHint)
    }

    /// A JSON call; nil for `204 No Content`.
    func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: (some Encodable)? = Optional<String>.none, as: Answer.Type, timeout: Int64 = 60
    ) async throws -> Answer? {
        do { return try await connection.call(method, path, body: body, as: Answer.self, timeout: .seconds(timeout)) } catch {
            throw GenericError(error.kind, error.message)
        }
    }

    private var objects: ServerRemote { ServerRemote(connection: connection) }

    /// Sends the objects (of those given, in `store`) that the server lacks.
    func push(_ digests: [Digest], from store: LocalArtifactStore) async throws {
        let missing = try await objects.missing(digests)
        for digest in digests where missing.contains(digest) {
            try await objects.upload(digest, from: store.path(of: digest), size: try await store.size(of: digest))
        }
    }

    /// Fetches one object into `store` (verified by its digest) unless it is there already.
    func pull(_ digest: Digest, into store: LocalArtifactStore, folder: URL) async throws {
        if try await store.contains(digest) { return }
        let response: HTTPClientResponse
        do {
            let answer = try await connection.execute(try connection.request(.GET, "artifacts/\(digest)"), timeout: .seconds(600))
            response = try await connection.checked(answer, to: "send object \(digest)")
        } catch {
            throw GenericError(error.kind, error.message)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".download-\(UUID().uuidString.lowercased())")
        defer { try? FileManager.default.removeItem(at: temporary) }
        _ = FileManager.default.createFile(atPath: temporary.path, contents: nil)
        let handle = try FileHandle(forWritingTo: temporary)
        do {
            for try await buffer in response.body { try handle.write(contentsOf: Data(buffer: buffer)) }
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        let stored = try await store.putFile(at: temporary)
        guard stored.digest == digest else {
            try? await store.delete(stored.digest)
            throw GenericError(.corrupted, "object \(digest) from \(baseURL) arrived as \(stored.digest); nothing was kept")
        }
    }

    /// The objects of artifacts: each manifest and the files it lists.
    static func objects(of artifacts: [ArtifactIndex], in store: LocalArtifactStore) async throws -> [Digest] {
        var digests: [Digest] = []
        for artifact in artifacts {
            guard let digest = Digest(artifact.digest) else { throw GenericError(.corrupted, "artifact \(artifact.name) has no valid digest") }
            digests.append(digest)
            if let manifest = try await store.manifest(digest) { digests += manifest.files.map(\.digest) }
        }
        return Array(Set(digests)).sorted()
    }

    /// Sends artifacts (manifests and files) that the server lacks.
    func pushArtifacts(_ artifacts: [ArtifactIndex], from store: LocalArtifactStore) async throws {
        guard !artifacts.isEmpty else { return }
        try await push(Self.objects(of: artifacts, in: store), from: store)
    }

    /// Fetches artifacts (manifests, then the files they list) into `store`.
    func pullArtifacts(_ artifacts: [ArtifactIndex], into store: LocalArtifactStore, folder: URL) async throws {
        for artifact in artifacts {
            guard let digest = Digest(artifact.digest) else { throw GenericError(.corrupted, "artifact \(artifact.name) has no valid digest") }
            try await pull(digest, into: store, folder: folder)
            if let manifest = try await store.manifest(digest) {
                for entry in manifest.files { try await pull(entry.digest, into: store, folder: folder) }
            }
        }
    }
}

/// The project's files as one tar archive, for a remote runner's workspace: git's tracked and untracked-but-not-ignored
/// files in a repository, else every file; never `.git` or the data folder.
enum WorkspaceArchive {
    static func pack(project: URL, dataDir: URL, into folder: URL) throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let archive = folder.appendingPathComponent("workspace-\(UUID().uuidString.lowercased()).tar")
        let projectPath = project.standardizedFileURL.path
        let dataPath = dataDir.standardizedFileURL.path
        let dataRelative = dataPath.hasPrefix(projectPath + "/") ? String(dataPath.dropFirst(projectPath.count + 1)) : nil
        var files: [String]?
        let list = Process()
        list.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        list.arguments = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
        list.currentDirectoryURL = project
        let pipe = Pipe()
        list.standardOutput = pipe
        list.standardError = FileHandle.nullDevice
        if (try? list.run()) != nil {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            list.waitUntilExit()
            if list.terminationStatus == 0 {
                files = String(decoding: data, as: UTF8.self).split(separator: "\0").map(String.init).filter { path in
                    // Only files that exist (a deleted tracked file is not part of the workspace).
                    FileManager.default.fileExists(atPath: project.appendingPathComponent(path).path)
                        && !(dataRelative.map { path == $0 || path.hasPrefix($0 + "/") } ?? false)
                }
            }
        }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.currentDirectoryURL = project
        tar.standardError = Pipe()
        if let files {
            let listFile = folder.appendingPathComponent("workspace-\(UUID().uuidString.lowercased()).list")
            defer { try? FileManager.default.removeItem(at: listFile) }
            try Data(files.joined(separator: "\0").utf8).write(to: listFile)
            tar.arguments = ["tar", "-cf", archive.path, "--warning=no-file-changed", "--no-recursion", "--null", "-T", listFile.path]
            try runTar(tar, changedIsFine: true)
        } else {
            var arguments = ["tar", "-cf", archive.path, "--warning=no-file-changed", "--exclude=./.git"]
            if let dataRelative { arguments.append("--exclude=./\(dataRelative)") }
            tar.arguments = arguments + ["."]
            try runTar(tar, changedIsFine: true)
        }
        return archive
    }

    /// Runs tar; with `changedIsFine`, its status 1 ("some files changed while being archived", as files of a
    /// running job may) is not a failure: the archive holds each file as it was read.
    private static func runTar(_ process: Process, changedIsFine: Bool = false) throws {
        do { try process.run() } catch { throw GenericError(.internal, "cannot start tar to pack the workspace: \(error)") }
        let errors = (process.standardError as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        process.waitUntilExit()
        guard process.terminationStatus == 0 || (changedIsFine && process.terminationStatus == 1) else {
            throw GenericError(.internal, "tar could not pack the workspace: \(String(decoding: errors.prefix(500), as: UTF8.self))")
        }
    }

    /// Extracts an archive into an empty folder, refusing members that would land outside it.
    static func extract(_ archive: URL, into folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["tar", "-tf", archive.path]
        let pipe = Pipe()
        check.standardOutput = pipe
        check.standardError = FileHandle.nullDevice
        try check.run()
        let names = pipe.fileHandleForReading.readDataToEndOfFile()
        check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw GenericError(.corrupted, "the workspace archive is not a tar archive") }
        for name in String(decoding: names, as: UTF8.self).split(separator: "\n") {
            if name.hasPrefix("/") || name.split(separator: "/").contains("..") {
                throw GenericError(.invalidArgument, "the workspace archive has a member outside the workspace: \(name.prefix(200))")
            }
        }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-xf", archive.path, "-C", folder.path, "--no-same-owner"]
        tar.standardError = Pipe()
        try runTar(tar)
    }
}
