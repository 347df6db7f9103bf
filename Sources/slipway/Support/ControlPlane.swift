import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import SlipwayData
import SlipwayPipeline
import SlipwayStore

/// The calls `slipway run --server` and `slipway runner` make to the control plane: JSON calls under `/api/v1`, and
/// objects on its artifact store (workspaces, artifacts), verified by digest both ways.
struct ControlPlane: Sendable {
    let baseURL: String
    let token: String?

    init(baseURL: String, token: String?) throws {
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://"), URL(string: baseURL)?.host != nil else {
            throw GenericError(.invalidArgument, "--server '\(baseURL)' must be an http:// or https:// URL")
        }
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
    }

    private struct ErrorBody: Decodable {
        struct Detail: Decodable { var message: String }
        var error: Detail
    }

    /// A JSON call; nil for `204 No Content`.
    func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: (some Encodable)? = Optional<String>.none, as: Answer.Type, timeout: Int64 = 60
    ) async throws -> Answer? {
        var request = HTTPClientRequest(url: baseURL + "/api/v1/" + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try SlipwayJSON.encoder().encode(body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        } catch {
            throw GenericError(.unavailable, "cannot reach the Slipway server \(baseURL): \(error); check --server and that the server runs")
        }
        let data = Data(buffer: try await response.body.collect(upTo: 256 << 20))
        if response.status == .noContent { return nil }
        guard (200..<300).contains(Int(response.status.code)) else {
            let message = (try? SlipwayJSON.decoder().decode(ErrorBody.self, from: data))?.error.message ?? String(decoding: data.prefix(300), as: UTF8.self)
            var hint = ""
            if response.status == .unauthorized || response.status == .forbidden { hint = " (pass --token or set SLIPWAY_TOKEN: a token with the editor role)" }
            throw GenericError(ErrorKind(status: Int(response.status.code)), "\(baseURL): \(message)\(hint)")
        }
        do { return try SlipwayJSON.decoder().decode(Answer.self, from: data) } catch {
            throw GenericError(.internal, "\(baseURL) answered \(path) with something unexpected: \(error)")
        }
    }

    private var objects: ServerRemote { ServerRemote(baseURL: baseURL, token: token) }

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
        var request = HTTPClientRequest(url: baseURL + "/api/v1/artifacts/\(digest)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
        guard response.status == .ok else {
            throw GenericError(ErrorKind(status: Int(response.status.code)), "\(baseURL) cannot send object \(digest) (HTTP \(response.status.code))")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".download-\(UUID().uuidString.lowercased())")
        defer { try? FileManager.default.removeItem(at: temporary) }
        FileManager.default.createFile(atPath: temporary.path, contents: nil)
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
