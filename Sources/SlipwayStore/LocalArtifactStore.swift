public import Foundation
public import Logging
public import SlipwayCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded ``ArtifactStore``: a folder of immutable objects addressed by their SHA-256 digest.
///
/// Layout under `root`:
///
/// ```
/// objects/sha256/ab/cdef…   one read-only (0444) file per object: the first two hex digits name the folder
/// tmp/upload-<uuid>.tmp     uploads in progress
/// ```
///
/// An upload is hashed while its bytes arrive, written to a file under `tmp/`, flushed with
/// `fsync`, renamed to its address and the folder flushed too, so a crash leaves either the whole
/// object or no object. Uploading bytes that are already stored keeps the existing copy. Every
/// read hashes the whole object before the first byte is returned and again while it streams, so
/// a flipped bit on disk surfaces as a `corrupted` error instead of bad data. Memory stays
/// constant: reads and writes move at most one chunk (``chunkSize``) at a time.
///
/// ```swift
/// let store = try LocalArtifactStore(root: dataFolder.appending(path: "artifacts"))
/// let object = try await store.putFile(at: modelFile)
/// try await store.materialize(object.digest, to: downloadFolder.appending(path: "model.bin"))
/// ```
public struct LocalArtifactStore: ArtifactStore {
    /// The largest chunk one ``ArtifactReader/read(maxLength:)`` returns, and the buffer used to verify objects.
    public static let chunkSize = 1 << 20
    /// Temporary files older than this are left over from an interrupted upload and removed at start.
    public static let staleUploadAge: TimeInterval = 3600

    /// The store's folder.
    public let root: URL
    let objectsPath: String
    let temporaryPath: String
    let logger: Logger

    /// Opens (and if needed creates) a store in a folder.
    ///
    /// Creates `root/objects/sha256/` and `root/tmp/`, and removes temporary files that interrupted
    /// uploads left behind more than ``staleUploadAge`` ago.
    /// - Parameters:
    ///   - root: the store's folder.
    ///   - logger: where to report removed leftovers and corrupted objects.
    /// - Throws: `StoreError(.unavailable)` if the folders cannot be created.
    public init(root: URL, logger: Logger = Logger(label: "slipway.artifacts")) throws {
        self.root = root.standardizedFileURL
        let rootPath = self.root.path
        self.objectsPath = rootPath + "/objects/sha256"
        self.temporaryPath = rootPath + "/tmp"
        self.logger = logger
        for path in [objectsPath, temporaryPath] {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw StoreError(
                    .unavailable,
                    "cannot create the artifact folder '\(path)': \(error.localizedDescription); check that '\(rootPath)' is writable")
            }
        }
        removeStaleUploads()
    }

    /// The file that holds an object (it may not exist).
    public func path(of digest: Digest) -> String {
        let hex = digest.hex
        return "\(objectsPath)/\(hex.prefix(2))/\(hex.dropFirst(2))"
    }

    // MARK: ArtifactStore

    public func beginUpload() async throws -> any ArtifactUpload {
        let path = "\(temporaryPath)/upload-\(UUID().uuidString.lowercased()).tmp"
        let fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600, action: "create the upload file")
        return LocalArtifactUpload(store: self, descriptor: fd, temporaryPath: path)
    }

    public func contains(_ digest: Digest) async throws -> Bool {
        FileIO.status(path(of: digest)) != nil
    }

    public func size(of digest: Digest) async throws -> Int64 {
        guard let info = FileIO.status(path(of: digest)) else { throw StoreError.objectNotFound(digest) }
        return Int64(info.st_size)
    }

    public func open(_ digest: Digest) async throws -> any ArtifactReader {
        let path = path(of: digest)
        let fd: Int32
        do {
            fd = try FileIO.open(path, O_RDONLY | O_CLOEXEC, action: "open the object")
        } catch {
            throw error.code == ENOENT ? StoreError.objectNotFound(digest) : error.storeError
        }
        do {
            let size = try await verify(descriptor: fd, digest: digest)
            guard lseek(fd, 0, SEEK_SET) == 0 else { throw FileIO.Failure(action: "rewind the object", path: path, code: errno) }
            return LocalArtifactReader(object: StoredObject(digest: digest, size: size), descriptor: fd, path: path, logger: logger)
        } catch {
            systemClose(fd)
            throw error.asStoreError
        }
    }

    public func delete(_ digest: Digest) async throws {
        let path = path(of: digest)
        guard unlink(path) == 0 || errno == ENOENT else {
            throw FileIO.Failure(action: "delete the object", path: path, code: errno).storeError
        }
    }

    public func allDigests() async throws -> [Digest] {
        let files = FileManager.default
        let shards: [String]
        do {
            shards = try files.contentsOfDirectory(atPath: objectsPath)
        } catch {
            throw StoreError(.unavailable, "cannot list the artifact folder '\(objectsPath)': \(error.localizedDescription)")
        }
        var digests: [Digest] = []
        for shard in shards where shard.utf8.count == 2 {
            for name in (try? files.contentsOfDirectory(atPath: "\(objectsPath)/\(shard)")) ?? [] {
                // Only names that spell their own digest in lowercase are objects; anything else is not ours.
                if let digest = Digest(hex: shard + name), digest.hex == shard + name {
                    digests.append(digest)
                }
            }
        }
        return digests.sorted()
    }

    // MARK: Internals

    /// Hashes a whole object from the start of `descriptor`; returns its size or throws `corrupted`.
    private func verify(descriptor fd: Int32, digest: Digest) async throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var hasher = DigestHasher()
        var chunks = 0
        while true {
            let count = try FileIO.readFully(fd, into: buffer, path: path(of: digest))
            if count == 0 { break }
            hasher.update(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            chunks += 1
            if chunks % 64 == 0 {
                // Hashing gigabytes takes seconds: let other tasks run and honour cancellation.
                try Task.checkCancellation()
                await Task.yield()
            }
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            logger.error("artifact object is corrupted", metadata: ["slipway.digest": "\(digest)", "slipway.actual": "\(actual)"])
            throw StoreError.objectCorrupted(digest, actual: actual)
        }
        return hasher.count
    }

    /// Moves a flushed, read-only temporary file to its address (or drops it if the object exists).
    fileprivate func place(temporaryPath: String, digest: Digest) throws(FileIO.Failure) {
        let hex = digest.hex
        let shard = "\(objectsPath)/\(hex.prefix(2))"
        if mkdir(shard, 0o755) == 0 {
            try FileIO.syncDirectory(objectsPath)
        } else if errno != EEXIST {
            throw FileIO.Failure(action: "create the object folder", path: shard, code: errno)
        }
        let destination = path(of: digest)
        if FileIO.status(destination) != nil {
            // Deduplication: the same bytes are already stored under this address.
            _ = unlink(temporaryPath)
            return
        }
        guard rename(temporaryPath, destination) == 0 else {
            throw FileIO.Failure(action: "move the upload into place", path: destination, code: errno)
        }
        try FileIO.syncDirectory(shard)
    }

    private func removeStaleUploads() {
        let files = FileManager.default
        let limit = Date().addingTimeInterval(-Self.staleUploadAge)
        for name in (try? files.contentsOfDirectory(atPath: temporaryPath)) ?? [] {
            let path = "\(temporaryPath)/\(name)"
            guard let modified = (try? files.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < limit else { continue }
            do {
                try files.removeItem(atPath: path)
                logger.info("removed an interrupted upload", metadata: ["slipway.file": "\(path)"])
            } catch {
                logger.warning("cannot remove an interrupted upload", metadata: ["slipway.file": "\(path)", "slipway.error": "\(error)"])
            }
        }
    }
}

// MARK: - Upload

/// An upload into a ``LocalArtifactStore``: a temporary file that is hashed as it is written.
final class LocalArtifactUpload: ArtifactUpload {
    private struct State {
        /// The temporary file, or -1 once the upload is committed or aborted.
        var descriptor: Int32
        var hasher = DigestHasher()
    }

    private let store: LocalArtifactStore
    private let temporaryPath: String
    private let state: Mutex<State>

    init(store: LocalArtifactStore, descriptor: Int32, temporaryPath: String) {
        self.store = store
        self.temporaryPath = temporaryPath
        self.state = Mutex(State(descriptor: descriptor))
    }

    deinit {
        discard()
    }

    func write(_ chunk: Data) async throws {
        let path = temporaryPath
        try state.withLock { state throws in
            guard state.descriptor >= 0 else { throw StoreError.uploadFinished() }
            let fd = state.descriptor
            do {
                try chunk.withUnsafeBytes { bytes in
                    try FileIO.writeAll(fd, bytes, path: path)
                    state.hasher.update(bytes: bytes)
                }
            } catch {
                // Part of the chunk may be on disk but not in the hash: this upload can no longer be committed.
                systemClose(fd)
                _ = unlink(path)
                state.descriptor = -1
                throw error.asStoreError
            }
        }
    }

    func commit(expected: Digest?) async throws -> StoredObject {
        let taken: (descriptor: Int32, hasher: DigestHasher)? = state.withLock { state in
            guard state.descriptor >= 0 else { return nil }
            defer { state.descriptor = -1 }
            return (state.descriptor, state.hasher)
        }
        guard let (fd, hasher) = taken else { throw StoreError.uploadFinished() }
        var placed = false
        defer {
            if !placed { _ = unlink(temporaryPath) }
        }
        let digest = hasher.finalize()
        if let expected, expected != digest {
            systemClose(fd)
            throw StoreError(
                .invalidArgument,
                "the uploaded bytes do not match the digest they were sent with: expected \(expected) but the bytes hash to \(digest); "
                    + "nothing was stored, send the file again"
            )
        }
        do {
            defer { systemClose(fd) }
            guard fsync(fd) == 0 else { throw FileIO.Failure(action: "flush the upload", path: temporaryPath, code: errno) }
            guard fchmod(fd, 0o444) == 0 else { throw FileIO.Failure(action: "make the upload read-only", path: temporaryPath, code: errno) }
        } catch {
            throw error.asStoreError
        }
        do {
            try store.place(temporaryPath: temporaryPath, digest: digest)
        } catch {
            throw error.asStoreError
        }
        placed = true
        return StoredObject(digest: digest, size: hasher.count)
    }

    func abort() async {
        discard()
    }

    private func discard() {
        let fd = state.withLock { state in
            defer { state.descriptor = -1 }
            return state.descriptor
        }
        guard fd >= 0 else { return }
        systemClose(fd)
        _ = unlink(temporaryPath)
    }
}

// MARK: - Reader

/// A verified object being streamed; it hashes the bytes again as they go and checks them at the end.
final class LocalArtifactReader: ArtifactReader {
    private enum Phase {
        case streaming(descriptor: Int32)
        /// Every byte was read and matched the digest.
        case verified
        case closed
    }

    private struct State {
        var phase: Phase
        var hasher = DigestHasher()
        var offset: Int64 = 0
    }

    let object: StoredObject
    private let path: String
    private let logger: Logger
    private let state: Mutex<State>

    init(object: StoredObject, descriptor: Int32, path: String, logger: Logger) {
        self.object = object
        self.path = path
        self.logger = logger
        self.state = Mutex(State(phase: .streaming(descriptor: descriptor)))
    }

    deinit {
        release()
    }

    func read(maxLength: Int) async throws -> Data? {
        guard maxLength > 0 else { throw StoreError(.invalidArgument, "read(maxLength:) needs a positive length, got \(maxLength)") }
        return try state.withLock { state throws -> Data? in
            let fd: Int32
            switch state.phase {
            case .verified: return nil
            case .closed: throw StoreError(.failedPrecondition, "the reader of \(object.digest) is closed; open the object again")
            case .streaming(let descriptor): fd = descriptor
            }
            do {
                let remaining = object.size - state.offset
                if remaining == 0 {
                    try finish(&state, descriptor: fd)
                    return nil
                }
                let wanted = Int(min(Int64(min(maxLength, LocalArtifactStore.chunkSize)), remaining))
                var data = Data(count: wanted)
                let count = try data.withUnsafeMutableBytes { buffer throws in
                    try FileIO.readFully(fd, into: buffer, path: path)
                }
                state.hasher.update(data.prefix(count))
                state.offset += Int64(count)
                guard count == wanted else {
                    throw corrupted("it is now \(state.offset) bytes long instead of \(object.size)")
                }
                if state.offset == object.size {
                    // Check the end before handing out the last chunk, so a changed object never streams to completion.
                    try finish(&state, descriptor: fd)
                }
                return data
            } catch {
                systemClose(fd)
                state.phase = .closed
                throw error.asStoreError
            }
        }
    }

    func close() async {
        release()
    }

    private func finish(_ state: inout State, descriptor fd: Int32) throws {
        var extra: UInt8 = 0
        let count = try withUnsafeMutableBytes(of: &extra) { try FileIO.readFully(fd, into: $0, path: path) }
        guard count == 0 else { throw corrupted("it grew past its \(object.size) bytes") }
        let actual = state.hasher.finalize()
        guard actual == object.digest else { throw corrupted("it hashes to \(actual)") }
        systemClose(fd)
        state.phase = .verified
    }

    private func corrupted(_ detail: String) -> StoreError {
        logger.error("artifact object changed while it was read", metadata: ["slipway.digest": "\(object.digest)", "slipway.detail": "\(detail)"])
        return StoreError(.corrupted, "object \(object.digest) is corrupted on disk (\(detail)); restore it from a remote or re-upload it")
    }

    private func release() {
        state.withLock { state in
            if case .streaming(let fd) = state.phase { systemClose(fd) }
            state.phase = .closed
        }
    }
}

// MARK: - Errors

extension StoreError {
    /// An object that is not in the store.
    public static func objectNotFound(_ digest: Digest) -> StoreError {
        StoreError(.notFound, "object \(digest) is not in the artifact store; upload it first or fetch it from a remote")
    }

    /// An object whose bytes no longer hash to its address.
    public static func objectCorrupted(_ digest: Digest, actual: Digest) -> StoreError {
        StoreError(.corrupted, "object \(digest) is corrupted on disk (it hashes to \(actual)); restore it from a remote or re-upload it")
    }

    fileprivate static func uploadFinished() -> StoreError {
        StoreError(.failedPrecondition, "this upload was already committed or aborted; start a new upload")
    }
}

// MARK: - POSIX file access

/// Thin wrappers over POSIX calls that retry on `EINTR` and report `errno` with what was being done.
enum FileIO {
    /// A failed system call.
    struct Failure: Error {
        var action: String
        var path: String
        var code: Int32

        var storeError: StoreError {
            let reason = String(cString: strerror(code))
            switch code {
            case ENOSPC, EDQUOT:
                return StoreError(.unavailable, "cannot \(action) '\(path)': \(reason); free some disk space and try again")
            case EACCES, EPERM, EROFS:
                return StoreError(.internal, "cannot \(action) '\(path)': \(reason); check the permissions of the folder")
            case ENOENT:
                return StoreError(.notFound, "cannot \(action) '\(path)': \(reason)")
            default:
                return StoreError(.internal, "cannot \(action) '\(path)': \(reason)")
            }
        }
    }

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0, action: String) throws(Failure) -> Int32 {
        while true {
            let fd = systemOpen(path, flags, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw Failure(action: action, path: path, code: errno) }
        }
    }

    /// Writes every byte of `bytes`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(Failure) {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = systemWrite(fd, next, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(action: "write", path: path, code: errno)
            }
            next += written
            left -= written
        }
    }

    /// Reads until `buffer` is full or the file ends; returns how many bytes were read.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(Failure) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var filled = 0
        while filled < buffer.count {
            let count = systemRead(fd, base + filled, buffer.count - filled)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(action: "read", path: path, code: errno)
            }
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    /// Flushes a folder's entries (a rename or a new file in it) to disk.
    static func syncDirectory(_ path: String) throws(Failure) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, action: "open the folder")
        defer { systemClose(fd) }
        guard fsync(fd) == 0 else { throw Failure(action: "flush the folder", path: path, code: errno) }
    }

    /// `lstat`, or nil if nothing is there.
    static func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }
}

extension Error {
    /// The error as a ``StoreError``: system call failures get a message, other errors pass through.
    var asStoreError: any Error {
        (self as? FileIO.Failure)?.storeError ?? self
    }
}

// File-scope names for the system calls whose names the types above use for their own methods.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
@discardableResult
func systemClose(_ fd: Int32) -> Int32 { close(fd) }
