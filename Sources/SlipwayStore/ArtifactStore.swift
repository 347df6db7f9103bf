public import Foundation
public import SlipwayCore

/// A content-addressed store of immutable objects (model files, folder manifests, data files).
///
/// Objects are addressed by their SHA-256 ``Digest``; storing the same bytes twice keeps one copy.
/// Writes are atomic (a crash never leaves a half-written object under its address) and every
/// read is verified: bytes that no longer hash to their address raise a `corrupted` error and are
/// never handed out as good data.
///
/// Implementations: ``LocalArtifactStore`` (a folder, `objects/sha256/ab/cdef…`) and, later, S3.
public protocol ArtifactStore: Sendable {
    /// Starts an upload. Write the bytes in order, then ``ArtifactUpload/commit(expected:)``.
    func beginUpload() async throws -> any ArtifactUpload
    /// Whether an object is present (without verifying it).
    func contains(_ digest: Digest) async throws -> Bool
    /// The size of a stored object in bytes. Throws `notFound`.
    func size(of digest: Digest) async throws -> Int64
    /// Opens an object for streaming. The object is verified before the first byte is returned,
    /// and re-hashed while it streams: a mismatch throws `corrupted` instead of returning the end.
    /// Throws `notFound` or `corrupted`.
    func open(_ digest: Digest) async throws -> any ArtifactReader
    /// Removes an object (garbage collection). Removing an absent object is not an error.
    func delete(_ digest: Digest) async throws
    /// All stored digests (for garbage collection and verification).
    func allDigests() async throws -> [Digest]
}

/// An upload in progress. Used by one task at a time.
public protocol ArtifactUpload: AnyObject, Sendable {
    /// Appends bytes.
    func write(_ chunk: Data) async throws
    /// Makes the object durable under its digest and returns it. If `expected` is given and the
    /// bytes hash to something else, nothing is stored and `invalidArgument` is thrown.
    func commit(expected: Digest?) async throws -> StoredObject
    /// Throws the upload away; nothing is stored.
    func abort() async
}

/// A verified object being read. Used by one task at a time.
public protocol ArtifactReader: AnyObject, Sendable {
    /// The object's digest and size.
    var object: StoredObject { get }
    /// The next chunk of at most `maxLength` bytes, or nil at the end (after a final verification).
    func read(maxLength: Int) async throws -> Data?
    /// Releases the file or connection.
    func close() async
}

/// An object's address and size.
public struct StoredObject: Sendable, Codable, Hashable {
    public var digest: Digest
    public var size: Int64

    public init(digest: Digest, size: Int64) {
        self.digest = digest
        self.size = size
    }
}

/// The description of a folder: each file's relative path, digest, size and whether it is executable.
/// Stored as a JSON object; the folder's digest is the digest of this manifest.
public struct ArtifactManifest: Sendable, Codable, Equatable {
    public static let mediaType = "application/vnd.slipway.manifest.v1+json"

    public var mediaType: String
    public var files: [Entry]

    public struct Entry: Sendable, Codable, Equatable {
        /// A relative path with `/` separators, no `..`, no leading `/`.
        public var path: String
        public var digest: Digest
        public var size: Int64
        public var executable: Bool

        public init(path: String, digest: Digest, size: Int64, executable: Bool = false) {
            self.path = path
            self.digest = digest
            self.size = size
            self.executable = executable
        }
    }

    public init(files: [Entry]) {
        self.mediaType = Self.mediaType
        self.files = files.sorted { $0.path < $1.path }
    }

    /// The total size of the files.
    public var totalSize: Int64 { files.reduce(0) { $0 + $1.size } }
}
