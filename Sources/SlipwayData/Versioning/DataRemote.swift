import Foundation
public import SlipwayCore
import AsyncHTTPClient
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import SlipwayHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the cache's objects are shared: a folder (``FolderRemote``) or a Slipway server (``ServerRemote``).
///
/// Every object arrives verified: it is written to a temporary name, its digest checked, then
/// renamed to its address (or, on a folder remote, gathered with other small objects into a pack that
/// becomes visible only once complete), so an interrupted transfer leaves whole objects or nothing.
public protocol DataRemote: Sendable {
    /// The digests (of those given) that the remote does not have.
    func missing(_ digests: [Digest]) async throws -> Set<Digest>
    /// Sends one cache object.
    func upload(_ digest: Digest, from path: String, size: Int64) async throws
    /// Fetches one object into the cache (verified) and returns its size.
    func download(_ digest: Digest, into cache: DataCache) async throws -> Int64
}

extension DataWorkspace {
    /// Opens a remote by name (default: `data.remote`, else the only remote configured).
    /// - Parameter token: the bearer token for a server remote (the CLI passes `SLIPWAY_TOKEN`).
    public func remote(named name: String?, token: String? = nil) throws -> any DataRemote {
        let chosen: String
        if let name {
            chosen = name
        } else if let configured = settings.remote {
            chosen = configured
        } else if settings.remotes.count == 1, let only = settings.remotes.keys.first {
            chosen = only
        } else {
            throw DataError(
                .failedPrecondition,
                settings.remotes.isEmpty
                    ? "no remote is configured; add one with 'slipway data remote add NAME URL'"
                    : "several remotes are configured (\(settings.remotes.keys.sorted().joined(separator: ", "))); choose one with --remote")
        }
        guard let url = settings.remotes[chosen] else {
            throw DataError(.notFound, "remote '\(chosen)' is not configured in \(configPath); add it with 'slipway data remote add \(chosen) URL'")
        }
        return try Self.remote(url: url, root: root, token: token)
    }

    /// A remote for a URL: `http(s)://` is a Slipway server, anything else a folder (relative to `root`).
    public static func remote(url: String, root: String, token: String?) throws -> any DataRemote {
        if url.hasPrefix("http://") || url.hasPrefix("https://") {
            guard ServerConnection.isServerURL(url) else { throw DataError(.invalidArgument, "'\(url)' is not a valid server URL") }
            return ServerRemote(baseURL: url, token: token)
        }
        guard !url.contains("://") else {
            throw DataError(.invalidArgument, "remote URL '\(url)' is neither a folder nor an http(s):// Slipway server")
        }
        let path = url.hasPrefix("/") ? url : root + "/" + url
        return try FolderRemote(root: (path as NSString).standardizingPath)
    }
}

/// A Slipway server remote: `POST /api/v1/artifacts/missing` to ask what it lacks, then
/// `PUT`/`GET /api/v1/artifacts/{digest}` (the server verifies uploads; downloads are verified here).
public struct ServerRemote: DataRemote {
    let connection: ServerConnection
    /// Digests per `missing` request.
    static let batchSize = 5000
    /// How long one exchange (a batch of digests, an object) may take.
    static let timeout = TimeAmount.seconds(600)

    /// The server's URL without trailing slashes.
    var baseURL: String { connection.baseURL }

    /// A remote for a server URL and bearer token.
    public init(baseURL: String, token: String?) {
        let source = "the remote's URL (`slipway data remote list`)"
        self.init(connection: ServerConnection(baseURL: baseURL, token: token, urlSource: source, tokenHint: ServerConnection.editorTokenHint))
    }

    /// A remote on an existing connection to a server (whose URL, token and hints it keeps).
    public init(connection: ServerConnection) {
        self.connection = connection
    }

    /// Runs a step of an exchange, turning the connection's errors into ``DataError``s.
    private func exchange<Value>(_ step: () async throws(ServerConnectionError) -> Value) async throws(DataError) -> Value {
        do { return try await step() } catch { throw DataError(error.kind, error.message) }
    }

    private struct MissingRequest: Codable { var digests: [Digest] }
    private struct MissingResponse: Codable { var missing: [Digest] }

    public func missing(_ digests: [Digest]) async throws -> Set<Digest> {
        var result = Set<Digest>()
        var start = 0
        while start < digests.count {
            let batch = Array(digests[start..<min(start + Self.batchSize, digests.count)])
            start += batch.count
            let answer: MissingResponse?
            do {
                answer = try await connection.call(
                    .POST, "artifacts/missing", body: MissingRequest(digests: batch), as: MissingResponse.self, timeout: Self.timeout,
                    limit: 64 << 20, action: "list missing objects")
            } catch let error where error.status == 404 || error.status == 405 {
                // An older server without the batch route: ask object by object.
                for digest in batch where try await !has(digest) { result.insert(digest) }
                continue
            } catch {
                throw DataError(error.kind, error.message)
            }
            guard let answer else {
                throw DataError(.internal, "the Slipway server at \(baseURL) answered the request to list missing objects with no digest list")
            }
            result.formUnion(answer.missing)
        }
        return result
    }

    private func has(_ digest: Digest) async throws -> Bool {
        let response = try await exchange { () async throws(ServerConnectionError) in
            try await connection.execute(try connection.request(.HEAD, "artifacts/\(digest)"), timeout: Self.timeout)
        }
        if response.status == .notFound { return false }
        _ = try await exchange { () async throws(ServerConnectionError) in try await connection.checked(response, to: "check object \(digest)") }
        return true
    }

    public func upload(_ digest: Digest, from path: String, size: Int64) async throws {
        try await exchange { () async throws(ServerConnectionError) in
            var request = try connection.request(.PUT, "artifacts/\(digest)")
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .stream(FileChunks(path: path), length: .known(size))
            let response = try await connection.checked(try await connection.execute(request, timeout: Self.timeout), to: "store object \(digest)")
            _ = try? await response.body.collect(upTo: 1 << 20)
        }
    }

    public func download(_ digest: Digest, into cache: DataCache) async throws -> Int64 {
        let response = try await exchange { () async throws(ServerConnectionError) in
            let answer = try await connection.execute(try connection.request(.GET, "artifacts/\(digest)"), timeout: Self.timeout)
            return try await connection.checked(answer, to: "send object \(digest)")
        }
        let temporary = try cache.temporaryPath(for: digest)
        let fd = try Posix.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600, action: "create")
        var hasher = DigestHasher()
        do {
            for try await buffer in response.body {
                try buffer.withUnsafeReadableBytes { (bytes: UnsafeRawBufferPointer) throws(DataError) in
                    hasher.update(bytes: bytes)
                    try Posix.writeAll(fd, bytes, path: temporary)
                }
            }
            guard fchmod(fd, 0o444) == 0 else { throw DataError.system("set the mode of", temporary, errno) }
            Posix.close(fd)
        } catch {
            Posix.close(fd)
            _ = unlink(temporary)
            if error is DataError { throw error }
            throw DataError(.unavailable, "the download of \(digest) from \(baseURL) was interrupted: \(error); run the command again")
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            _ = unlink(temporary)
            throw DataError(.corrupted, "object \(digest) from \(baseURL) arrived with bytes that hash to \(actual); it was not stored")
        }
        try cache.place(temporary, as: digest)
        return hasher.count
    }
}

/// A file as a sequence of 1 MiB buffers, for streaming uploads.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String

    final class AsyncIterator: AsyncIteratorProtocol {
        let path: String
        var fd: Int32 = -1
        var finished = false

        init(path: String) { self.path = path }

        deinit { if fd >= 0 { Posix.close(fd) } }

        func next() async throws -> ByteBuffer? {
            if finished { return nil }
            if fd < 0 { fd = try Posix.open(path, O_RDONLY | O_CLOEXEC, action: "read") }
            var buffer = ByteBufferAllocator().buffer(capacity: Posix.bufferSize)
            let descriptor = fd
            let path = path
            let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Posix.bufferSize) { raw in
                try Posix.readFully(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<Posix.bufferSize]), path: path)
            }
            if count < Posix.bufferSize {
                finished = true
                Posix.close(fd)
                fd = -1
            }
            return count == 0 ? nil : buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path) }
}
