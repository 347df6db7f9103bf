import Foundation
import SlipwayCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the POSIX calls data versioning needs; they retry on `EINTR` and throw ``DataError``.
enum Posix {
    /// The size of the buffer files are streamed through (hashing, copying).
    static let bufferSize = 1 << 20

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0, action: String) throws(DataError) -> Int32 {
        while true {
            let fd = sysOpen(path, flags, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw DataError.system(action, path, errno) }
        }
    }

    static func close(_ fd: Int32) { _ = sysClose(fd) }

    /// A name no other call in any process will produce: a random prefix chosen once per process, then a counter
    /// (one `UUID()` per temporary file would read the random device every time).
    static func uniqueName() -> String {
        "\(namePrefix)-\(nameCounter.wrappingAdd(1, ordering: .relaxed).oldValue)"
    }

    private static let namePrefix = "\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
    private static let nameCounter = Atomic<Int>(0)

    /// `lstat`, or nil if nothing is there.
    static func lstatus(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    /// `stat` (following links), or nil.
    static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    static func isDirectory(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFDIR }
    static func isRegular(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFREG }
    static func isLink(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFLNK }

    /// The modification time in nanoseconds since 1970.
    static func mtimeNanoseconds(_ info: stat) -> Int64 {
        #if canImport(Darwin)
        Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
        #else
        Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        #endif
    }

    /// The canonical path with every link resolved; throws for loops and dangling links.
    static func realPath(_ path: String) throws(DataError) -> String {
        guard let resolved = realpath(path, nil) else {
            let code = errno
            if code == ELOOP {
                throw DataError(.invalidArgument, "'\(path)' is a symbolic link loop; fix or remove the link")
            }
            if code == ENOENT, lstatus(path) != nil {
                throw DataError(.invalidArgument, "'\(path)' is a symbolic link to something that does not exist; fix or remove the link")
            }
            throw DataError.system("resolve", path, code)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Reads until `buffer` is full or the file ends.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(DataError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var filled = 0
        while filled < buffer.count {
            let count = sysRead(fd, base + filled, buffer.count - filled)
            if count < 0 {
                if errno == EINTR { continue }
                throw DataError.system("read", path, errno)
            }
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    /// Writes every byte.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(DataError) {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = sysWrite(fd, next, left)
            if written < 0 {
                if errno == EINTR { continue }
                throw DataError.system("write", path, errno)
            }
            next += written
            left -= written
        }
    }

    /// Hashes a whole file with SHA-256 through `buffer`; returns its digest and size.
    static func hashFile(_ path: String, buffer: UnsafeMutableRawBufferPointer) throws(DataError) -> (digest: Digest, size: Int64) {
        let fd = try open(path, O_RDONLY | O_CLOEXEC, action: "read")
        defer { close(fd) }
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        var hasher = DigestHasher()
        while true {
            let count = try readFully(fd, into: buffer, path: path)
            if count == 0 { break }
            hasher.update(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            if count < buffer.count { break }
        }
        return (hasher.finalize(), hasher.count)
    }

    /// Copies `source` to a new file `destination` (created exclusively) while hashing the bytes.
    static func copyHashing(
        from source: String, to destination: String, mode: mode_t, buffer: UnsafeMutableRawBufferPointer, sync: Bool = false
    ) throws(DataError) -> (digest: Digest, size: Int64) {
        let input = try open(source, O_RDONLY | O_CLOEXEC, action: "read")
        defer { close(input) }
        let output = try open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600, action: "create")
        var hasher = DigestHasher()
        do throws(DataError) {
            while true {
                let count = try readFully(input, into: buffer, path: source)
                if count == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                hasher.update(bytes: chunk)
                try writeAll(output, chunk, path: destination)
                if count < buffer.count { break }
            }
            guard fchmod(output, mode) == 0 else { throw DataError.system("set the mode of", destination, errno) }
            if sync, fsync(output) != 0 { throw DataError.system("flush", destination, errno) }
            close(output)
        } catch {
            close(output)
            _ = unlink(destination)
            throw error
        }
        return (hasher.finalize(), hasher.count)
    }

    /// Clones `source` into the new file `destination` sharing its blocks (FICLONE); false if the file system cannot.
    static func reflink(from source: String, to destination: String, mode: mode_t) throws(DataError) -> Bool {
        #if os(Linux)
        let input = try open(source, O_RDONLY | O_CLOEXEC, action: "read")
        defer { close(input) }
        let output = try open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600, action: "create")
        // FICLONE = _IOW(0x94, 9, int)
        if ioctl(output, UInt(0x4004_9409), input) != 0 {
            let code = errno
            close(output)
            _ = unlink(destination)
            if code == EOPNOTSUPP || code == ENOTTY || code == EXDEV || code == EINVAL || code == ENOSYS || code == EPERM { return false }
            throw DataError.system("clone into", destination, code)
        }
        _ = fchmod(output, mode)
        close(output)
        return true
        #else
        return false
        #endif
    }

    /// Makes a hard link; false if the file system cannot link across these paths.
    static func hardlink(from source: String, to destination: String) throws(DataError) -> Bool {
        if link(source, destination) == 0 { return true }
        let code = errno
        if code == EXDEV || code == EPERM || code == EOPNOTSUPP || code == EMLINK { return false }
        throw DataError.system("link", destination, code)
    }

    static func rename(_ source: String, _ destination: String) throws(DataError) {
        guard sysRename(source, destination) == 0 else { throw DataError.system("move into place", destination, errno) }
    }

    /// Creates a folder and its parents.
    static func makeFolders(_ path: String) throws(DataError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw DataError(.internal, "cannot create the folder '\(path)': \(error.localizedDescription)")
        }
    }

    /// Writes a small file atomically (temporary file in the same folder, flush, rename).
    static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644, sync: Bool = true) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = "\(folder)/.\((path as NSString).lastPathComponent).tmp-\(UUID().uuidString.prefix(8).lowercased())"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600, action: "create")
        do {
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in try writeAll(fd, bytes, path: temporary) }
            guard fchmod(fd, mode) == 0, !sync || fsync(fd) == 0 else { throw DataError.system("flush", temporary, errno) }
            close(fd)
            try rename(temporary, path)
        } catch {
            close(fd)
            _ = unlink(temporary)
            throw error
        }
    }

    /// Flushes files to disk: one `fsync` each for a few, one `syncfs` of their file system for many.
    static func flush(_ paths: [String], fileSystemOf folder: String) {
        guard paths.count > 64 else {
            for path in paths {
                let fd = sysOpen(path, O_RDONLY | O_CLOEXEC, 0)
                guard fd >= 0 else { continue }
                _ = fsync(fd)
                close(fd)
            }
            return
        }
        syncFileSystem(of: folder)
    }

    /// Flushes every pending write of the file system that holds `path` (one call instead of an fsync per file).
    static func syncFileSystem(of path: String) {
        #if os(Linux)
        let fd = sysOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard fd >= 0 else { return }
        _ = linuxSyncfs(fd)
        close(fd)
        #else
        sync()
        #endif
    }
}

private func sysOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func sysClose(_ fd: Int32) -> Int32 { close(fd) }
private func sysRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
private func sysWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
private func sysRename(_ a: String, _ b: String) -> Int32 { rename(a, b) }

#if os(Linux)
/// `syncfs(2)`, which Glibc's module map does not export.
@_silgen_name("syncfs")
private func linuxSyncfs(_ fd: Int32) -> Int32
#endif
