public import Foundation
public import SlipwayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ArtifactManifest {
    /// The largest object that is considered a manifest; larger objects are always plain files.
    public static let maximumSize: Int64 = 64 << 20
}

/// Storing and restoring files and folders, for any backend.
extension ArtifactStore {
    /// Stores a file, streaming it in chunks.
    ///
    /// - Parameters:
    ///   - url: a regular file (a symbolic link is followed).
    ///   - progress: called with the number of bytes stored so far after each chunk.
    /// - Returns: the stored object.
    /// - Throws: `invalidArgument` if `url` is not a regular file, `notFound` if it does not exist.
    public func putFile(at url: URL, progress: (@Sendable (Int64) -> Void)? = nil) async throws -> StoredObject {
        let path = url.path
        let fd: Int32
        do {
            // O_NONBLOCK keeps a FIFO from blocking the open; it changes nothing for regular files.
            fd = try FileIO.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, action: "open the file")
        } catch {
            throw error.asStoreError
        }
        defer { systemClose(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileIO.Failure(action: "inspect the file", path: path, code: errno).storeError }
        guard let kind = FileKind(mode: info.st_mode), kind == .regular else {
            throw StoreError(
                .invalidArgument,
                "'\(path)' is \(FileKind(mode: info.st_mode)?.description ?? "not a regular file"); only regular files can be stored as one artifact")
        }
        let upload = try await beginUpload()
        do {
            var total: Int64 = 0
            while true {
                var chunk = Data(count: FileTransfer.chunkSize)
                let count: Int
                do {
                    count = try chunk.withUnsafeMutableBytes { buffer in try FileIO.readFully(fd, into: buffer, path: path) }
                } catch {
                    throw error.asStoreError
                }
                if count == 0 { break }
                chunk.count = count
                try await upload.write(chunk)
                total += Int64(count)
                progress?(total)
            }
            return try await upload.commit(expected: nil)
        } catch {
            await upload.abort()
            throw error
        }
    }

    /// Stores bytes that are already in memory.
    public func putData(_ data: Data) async throws -> StoredObject {
        let upload = try await beginUpload()
        do {
            var start = data.startIndex
            while start < data.endIndex {
                let end = start + min(FileTransfer.chunkSize, data.endIndex - start)
                try await upload.write(data[start..<end])
                start = end
            }
            return try await upload.commit(expected: nil)
        } catch {
            await upload.abort()
            throw error
        }
    }

    /// Stores every file of a folder and a manifest that describes them.
    ///
    /// Regular files are stored with their executable bit. Symbolic links are followed when they
    /// point inside the folder; links that leave it, loops, FIFOs, sockets and devices are refused.
    /// Empty folders are not recorded (a manifest lists files only). The manifest is stored as
    /// canonical JSON (sorted keys), so the same folder always has the same digest.
    ///
    /// - Parameters:
    ///   - url: the folder.
    ///   - progress: called with the number of file bytes stored so far.
    /// - Returns: the manifest and the object that holds it; its digest is the folder's digest.
    /// - Throws: `invalidArgument` for a path that is not a folder or holds something that cannot be stored.
    public func putDirectory(
        at url: URL, progress: (@Sendable (Int64) -> Void)? = nil
    ) async throws -> (manifest: ArtifactManifest, object: StoredObject) {
        guard let root = FileIO.realPath(url.path) else {
            throw StoreError(.notFound, "folder '\(url.path)' does not exist")
        }
        guard FileIO.status(root).flatMap({ FileKind(mode: $0.st_mode) }) == .directory else {
            throw StoreError(.invalidArgument, "'\(url.path)' is not a folder; use putFile for a single file")
        }
        var entries: [ArtifactManifest.Entry] = []
        var total: Int64 = 0
        try await storeFolder(
            at: root, relative: "", root: root, ancestors: [root], entries: &entries, total: &total, progress: progress)
        let manifest = ArtifactManifest(files: entries)
        let object = try await putData(try manifest.canonicalJSON())
        return (manifest, object)
    }

    /// Reads a small object into memory.
    ///
    /// - Parameters:
    ///   - digest: the object.
    ///   - maxSize: the largest size accepted.
    /// - Throws: `tooLarge` if the object is bigger than `maxSize`; `notFound`, `corrupted`.
    public func readData(_ digest: Digest, maxSize: Int64 = ArtifactManifest.maximumSize) async throws -> Data {
        let size = try await size(of: digest)
        guard size <= maxSize else { throw StoreError.objectTooLarge(digest, size: size, limit: maxSize) }
        let reader = try await open(digest)
        do {
            var data = Data()
            data.reserveCapacity(Int(size))
            while let chunk = try await reader.read(maxLength: FileTransfer.chunkSize) {
                data.append(chunk)
                guard Int64(data.count) <= maxSize else { throw StoreError.objectTooLarge(digest, size: Int64(data.count), limit: maxSize) }
            }
            await reader.close()
            return data
        } catch {
            await reader.close()
            throw error
        }
    }

    /// The manifest stored under `digest`, or nil if that object is a plain file.
    ///
    /// Only objects up to ``ArtifactManifest/maximumSize`` that start like a JSON object are read
    /// into memory; anything else is a file without reading it whole.
    /// - Throws: `notFound`, `corrupted`.
    public func manifest(_ digest: Digest) async throws -> ArtifactManifest? {
        guard try await size(of: digest) <= ArtifactManifest.maximumSize else { return nil }
        let reader = try await open(digest)
        var data = Data()
        do {
            while let chunk = try await reader.read(maxLength: FileTransfer.chunkSize) {
                if data.isEmpty, let first = chunk.first(where: { !FileTransfer.isJSONWhitespace($0) }), first != UInt8(ascii: "{") {
                    await reader.close()
                    return nil
                }
                data.append(chunk)
            }
            await reader.close()
        } catch {
            await reader.close()
            throw error
        }
        guard let manifest = try? SlipwayJSON.decoder().decode(ArtifactManifest.self, from: data),
            manifest.mediaType == ArtifactManifest.mediaType
        else { return nil }
        return manifest
    }

    /// Writes an object out: a file object becomes a file, a manifest becomes a folder with all its files.
    ///
    /// Everything is written into a temporary sibling of `destination` and renamed into place at the
    /// end, so a failure (a corrupted or missing object, an unsafe path in the manifest) leaves nothing.
    /// Every file is verified against its digest as it is written.
    /// - Parameters:
    ///   - digest: a file object or a manifest.
    ///   - destination: where to put it; it must not exist yet (its parent folder is created if needed).
    ///   - progress: called with the number of bytes written so far.
    /// - Throws: `alreadyExists` if `destination` exists; `invalidArgument` for a manifest with an
    ///   unsafe path; `notFound`, `corrupted`.
    public func materialize(_ digest: Digest, to destination: URL, progress: (@Sendable (Int64) -> Void)? = nil) async throws {
        let destinationPath = destination.standardizedFileURL.path
        guard FileIO.status(destinationPath) == nil else {
            throw StoreError(.alreadyExists, "'\(destinationPath)' already exists; remove it or choose another destination")
        }
        let parent = (destinationPath as NSString).deletingLastPathComponent
        let name = (destinationPath as NSString).lastPathComponent
        let manifest = try await manifest(digest)
        if let manifest {
            try Self.checkPaths(of: manifest, digest: digest)
        }
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.invalidArgument, "cannot create the folder '\(parent)': \(error.localizedDescription)")
        }
        let temporary = "\(parent)/.\(name).partial-\(UUID().uuidString.lowercased())"
        do {
            if let manifest {
                guard mkdir(temporary, 0o755) == 0 else { throw FileIO.Failure(action: "create the folder", path: temporary, code: errno).storeError }
                var total: Int64 = 0
                for entry in manifest.files {
                    let target = "\(temporary)/\(entry.path)"
                    let folder = (target as NSString).deletingLastPathComponent
                    if folder != temporary {
                        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    }
                    let base = total
                    let written = try await writeObject(
                        entry.digest, to: target, executable: entry.executable, progress: FileTransfer.offset(progress, by: base))
                    guard written == entry.size else {
                        throw StoreError(
                            .corrupted,
                            "manifest \(digest) says '\(entry.path)' has \(entry.size) bytes but object \(entry.digest) has \(written); "
                                + "re-upload the folder"
                        )
                    }
                    total += written
                }
            } else {
                _ = try await writeObject(digest, to: temporary, executable: false, progress: progress)
            }
            guard rename(temporary, destinationPath) == 0 else {
                throw FileIO.Failure(action: "move the download into place", path: destinationPath, code: errno).storeError
            }
            try? FileIO.syncDirectory(parent)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Checks a relative path from a manifest: not empty, not absolute, no empty, `.` or `..`
    /// components and no NUL character.
    ///
    /// ```swift
    /// try LocalArtifactStore.validateRelativePath("weights/model.safetensors")  // fine
    /// try LocalArtifactStore.validateRelativePath("../etc/passwd")             // throws invalidArgument
    /// ```
    /// - Throws: `StoreError(.invalidArgument)` naming the rule the path breaks.
    public static func validateRelativePath(_ path: String) throws {
        func refuse(_ reason: String) -> StoreError {
            StoreError(
                .invalidArgument,
                "path '\(path.debugDescription.dropFirst().dropLast())' \(reason); artifact paths must be relative, with '/' between non-empty names")
        }
        guard !path.isEmpty else { throw refuse("is empty") }
        guard !path.utf8.contains(0) else { throw refuse("contains a NUL character") }
        guard !path.hasPrefix("/") else { throw refuse("is absolute") }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            switch component {
            case "": throw refuse("has an empty component")
            case ".", "..": throw refuse("contains '\(component)'")
            default: continue
            }
        }
    }

    // MARK: Helpers

    /// Checks every path of a manifest and that no path is both a file and a folder, or listed twice.
    private static func checkPaths(of manifest: ArtifactManifest, digest: Digest) throws {
        var files = Set<String>()
        var folders = Set<String>()
        for entry in manifest.files {
            do {
                try validateRelativePath(entry.path)
            } catch let error as StoreError {
                throw StoreError(.invalidArgument, "manifest \(digest) is unsafe: \(error.message); nothing was written")
            }
            guard files.insert(entry.path).inserted else {
                throw StoreError(.invalidArgument, "manifest \(digest) lists '\(entry.path)' twice; nothing was written")
            }
            var folder = Substring(entry.path)
            while let slash = folder.lastIndex(of: "/") {
                folder = folder[..<slash]
                folders.insert(String(folder))
            }
        }
        if let clash = files.intersection(folders).min() {
            throw StoreError(.invalidArgument, "manifest \(digest) lists '\(clash)' both as a file and as a folder; nothing was written")
        }
    }

    /// Streams one object into a new file and returns its size.
    private func writeObject(_ digest: Digest, to path: String, executable: Bool, progress: (@Sendable (Int64) -> Void)?) async throws -> Int64 {
        let fd: Int32
        do {
            fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: executable ? 0o755 : 0o644, action: "create the file")
        } catch {
            throw error.asStoreError
        }
        defer { systemClose(fd) }
        let reader = try await open(digest)
        do {
            var total: Int64 = 0
            while let chunk = try await reader.read(maxLength: FileTransfer.chunkSize) {
                do {
                    try chunk.withUnsafeBytes { bytes in try FileIO.writeAll(fd, bytes, path: path) }
                } catch {
                    throw error.asStoreError
                }
                total += Int64(chunk.count)
                progress?(total)
            }
            await reader.close()
            // The umask may have removed bits from the mode given to open.
            guard fchmod(fd, executable ? 0o755 : 0o644) == 0, fsync(fd) == 0 else {
                throw FileIO.Failure(action: "finish the file", path: path, code: errno).storeError
            }
            return total
        } catch {
            await reader.close()
            throw error
        }
    }

    /// Stores the files below one folder, depth first in name order.
    private func storeFolder(
        at path: String, relative: String, root: String, ancestors: Set<String>,
        entries: inout [ArtifactManifest.Entry], total: inout Int64, progress: (@Sendable (Int64) -> Void)?
    ) async throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw StoreError(.invalidArgument, "cannot list the folder '\(path)': \(error.localizedDescription)")
        }
        for name in names {
            let relativePath = relative.isEmpty ? name : "\(relative)/\(name)"
            try Self.validateRelativePath(relativePath)
            var full = "\(path)/\(name)"
            guard let info = FileIO.status(full) else { continue }  // removed while we were listing
            var kind = FileKind(mode: info.st_mode)
            var mode = info.st_mode
            if kind == .symbolicLink {
                guard let target = FileIO.realPath(full) else {
                    throw StoreError(
                        .invalidArgument, "'\(relativePath)' is a symbolic link to something that does not exist; fix or remove the link")
                }
                guard target == root || target.hasPrefix(root + "/") else {
                    throw StoreError(
                        .invalidArgument,
                        "'\(relativePath)' is a symbolic link to '\(target)', outside the folder; copy the file into the folder or remove the link")
                }
                guard let targetInfo = FileIO.status(target) else { continue }
                full = target
                kind = FileKind(mode: targetInfo.st_mode)
                mode = targetInfo.st_mode
            }
            switch kind {
            case .regular:
                let base = total
                let object = try await putFile(at: URL(fileURLWithPath: full), progress: FileTransfer.offset(progress, by: base))
                entries.append(ArtifactManifest.Entry(path: relativePath, digest: object.digest, size: object.size, executable: mode & 0o111 != 0))
                total += object.size
                progress?(total)
            case .directory:
                let real = FileIO.realPath(full) ?? full
                guard !ancestors.contains(real) else {
                    throw StoreError(.invalidArgument, "'\(relativePath)' is a symbolic link to a folder that contains it; remove the link")
                }
                try await storeFolder(
                    at: real, relative: relativePath, root: root, ancestors: ancestors.union([real]), entries: &entries, total: &total,
                    progress: progress)
            case let other:
                throw StoreError(
                    .invalidArgument,
                    "'\(relativePath)' is \(other?.description ?? "a special file"); "
                        + "a folder artifact can hold only regular files, folders and links within it"
                )
            }
        }
    }
}

extension ArtifactManifest {
    /// The manifest as canonical JSON (sorted keys, no escaped slashes): the bytes that are stored and hashed.
    public func canonicalJSON() throws -> Data {
        try SlipwayJSON.encoder().encode(self)
    }
}

extension StoreError {
    /// An object too large to be read into memory.
    static func objectTooLarge(_ digest: Digest, size: Int64, limit: Int64) -> StoreError {
        StoreError(
            .tooLarge,
            "object \(digest) has \(size) bytes, more than the \(limit) that can be read into memory; stream it with open() or materialize() instead")
    }
}

/// Constants shared by the file helpers.
enum FileTransfer {
    /// The chunk size for streaming files in and out.
    static let chunkSize = 1 << 20

    /// A progress callback that adds `base` to what it reports (for a file within a folder).
    static func offset(_ progress: (@Sendable (Int64) -> Void)?, by base: Int64) -> (@Sendable (Int64) -> Void)? {
        guard let progress else { return nil }
        return { @Sendable done in progress(base + done) }
    }

    static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

/// What a directory entry is, from its `st_mode`.
enum FileKind: Equatable, CustomStringConvertible {
    case regular, directory, symbolicLink, fifo, socket, characterDevice, blockDevice

    init?(mode: mode_t) {
        switch mode & 0o170000 {
        case 0o100000: self = .regular
        case 0o040000: self = .directory
        case 0o120000: self = .symbolicLink
        case 0o010000: self = .fifo
        case 0o140000: self = .socket
        case 0o020000: self = .characterDevice
        case 0o060000: self = .blockDevice
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .regular: "a regular file"
        case .directory: "a folder"
        case .symbolicLink: "a symbolic link"
        case .fifo: "a FIFO (named pipe)"
        case .socket: "a socket"
        case .characterDevice: "a character device"
        case .blockDevice: "a block device"
        }
    }
}

extension FileIO {
    /// The canonical absolute path with every link resolved, or nil if it does not resolve.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
