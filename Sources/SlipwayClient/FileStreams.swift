import Foundation
import NIOCore
import SlipwayCore
import SlipwayStore

#if canImport(Glibc)
import Glibc
#endif

/// Streaming file helpers for the HTTP client: hashing, chunked reading and writing in constant memory.
enum FileStreams {
    static let chunkSize = 1 << 20

    struct File {
        var url: URL
        var relativePath: String
        var size: Int64
        var executable: Bool
    }

    static func size(of url: URL) throws -> Int64 {
        var info = stat()
        guard stat(url.path, &info) == 0 else { throw GenericError(.invalidArgument, "cannot read \(url.path): \(String(cString: strerror(errno)))") }
        return Int64(info.st_size)
    }

    /// Every regular file under a folder, sorted by relative path. Symlinks and special files are refused.
    static func listFiles(in folder: URL) throws -> [File] {
        var files: [File] = []
        func walk(_ url: URL, _ relative: String) throws {
            let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            for name in names {
                let child = url.appendingPathComponent(name)
                let path = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(child.path, &info) == 0 else { throw GenericError(.invalidArgument, "cannot read \(child.path)") }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: try walk(child, path)
                case S_IFREG:
                    try LocalArtifactStore.validateRelativePath(path)
                    files.append(File(url: child, relativePath: path, size: Int64(info.st_size), executable: info.st_mode & 0o111 != 0))
                default:
                    throw GenericError(.invalidArgument, "\(child.path) is not a regular file or folder (symlinks and devices are not stored)")
                }
            }
        }
        try walk(folder, "")
        return files
    }

    /// The digest and size of a file, read once in chunks.
    static func digest(of url: URL) throws -> (Digest, Int64) {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw GenericError(.invalidArgument, "cannot open \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var hasher = DigestHasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw GenericError(.invalidArgument, "cannot read \(url.path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            hasher.update(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return (hasher.finalize(), hasher.count)
    }

    /// The file's bytes as a sequence of buffers, reading one chunk at a time.
    static func chunks(of url: URL, progress: (@Sendable (Int64) -> Void)?) -> FileChunks {
        FileChunks(path: url.path, progress: progress)
    }

    struct FileChunks: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let path: String
        let progress: (@Sendable (Int64) -> Void)?

        func makeAsyncIterator() -> Iterator { Iterator(path: path, progress: progress) }

        struct Iterator: AsyncIteratorProtocol {
            let path: String
            let progress: (@Sendable (Int64) -> Void)?
            var fd: Int32 = -1
            var done: Int64 = 0
            var finished = false

            init(path: String, progress: (@Sendable (Int64) -> Void)?) {
                self.path = path
                self.progress = progress
            }

            mutating func next() async throws -> ByteBuffer? {
                if finished { return nil }
                if fd < 0 {
                    fd = open(path, O_RDONLY)
                    guard fd >= 0 else { throw GenericError(.invalidArgument, "cannot open \(path)") }
                }
                var buffer = ByteBufferAllocator().buffer(capacity: FileStreams.chunkSize)
                let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: FileStreams.chunkSize) { pointer in
                    var count = 0
                    repeat { count = read(fd, pointer.baseAddress, FileStreams.chunkSize) } while count < 0 && errno == EINTR
                    return Swift.max(count, 0)
                }
                if n == 0 {
                    close(fd)
                    finished = true
                    return nil
                }
                done += Int64(n)
                progress?(done)
                return buffer
            }
        }
    }

    /// Writes buffers to a new file (mode 0644), fsynced on close.
    final class Writer {
        let fd: Int32
        let path: String
        var closed = false

        init(url: URL) throws {
            path = url.path
            fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            guard fd >= 0 else { throw GenericError(.invalidArgument, "cannot create \(url.path): \(String(cString: strerror(errno)))") }
        }

        func write(_ buffer: ByteBuffer) throws {
            try buffer.withUnsafeReadableBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw GenericError(.unavailable, "cannot write \(path): \(String(cString: strerror(errno)))")
                    }
                    offset += n
                }
            }
        }

        func close() throws {
            guard !closed else { return }
            closed = true
            fsync(fd)
            Glibc.close(fd)
        }

        deinit { if !closed { Glibc.close(fd) } }
    }
}

/// A running byte count shared by progress callbacks of one transfer.
final class ByteCounter: @unchecked Sendable {
    // Only touched by the one task driving a transfer; the lock keeps progress callbacks honest.
    private let lock = NSLock()
    private var total: Int64 = 0

    var value: Int64 { lock.withLock { total } }
    func add(_ n: Int64) { lock.withLock { total += n } }
}
