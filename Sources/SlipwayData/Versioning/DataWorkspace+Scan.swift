import Foundation
import SlipwayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension DataWorkspace {
    /// One file found in a tracked path.
    struct ScannedFile: Sendable {
        /// The path inside the tracked folder ("" for a tracked file).
        var relative: String
        /// The file whose bytes to read when it is not the scan's ``Scan/source`` + `/` + ``relative``
        /// (the file is a link, or lies under a linked folder); nil otherwise.
        var resolved: String?
        /// Its `stat` (of the link's target for a link).
        var info: FileInfo
        var isLink: Bool
        var executable: Bool { info.executable }
    }

    /// A tracked path as it is in the workspace: its kind and its files, sorted by path.
    ///
    /// Full paths are not stored per file (50,000 strings cost more than the `stat` calls); ``path(of:)``
    /// and ``source(of:)`` build them when a file is read or linked.
    struct Scan: Sendable {
        var kind: DataPointer.Kind
        /// The tracked path in the workspace.
        var path: String
        /// Where its bytes are: the tracked path itself, or the target when it is a link.
        var source: String
        var files: [ScannedFile]

        /// Where a file is in the workspace.
        func path(of file: ScannedFile) -> String { file.relative.isEmpty ? path : path + "/" + file.relative }

        /// The file whose bytes to read.
        func source(of file: ScannedFile) -> String { file.resolved ?? (file.relative.isEmpty ? source : source + "/" + file.relative) }
    }

    /// Lists a tracked path: its kind and its files (sorted), following links that stay inside it or point into the cache.
    ///
    /// Each folder is read once (`readdir`), each entry is `fstatat`ed relative to the open folder, and
    /// the entries of a folder are sorted by their bytes (a folder's name with a `/` after it), so the
    /// files come out in the order of their whole paths without sorting them all at the end.
    func scan(_ tracked: Tracked) throws -> Scan? {
        guard let info = Posix.lstatus(tracked.path) else { return nil }
        var source = tracked.path
        var target = info
        if Posix.isLink(info) {
            source = try Posix.realPath(tracked.path)
            guard source.hasPrefix(root + "/") || source.hasPrefix(cache.root + "/") else {
                throw DataError(
                    .invalidArgument,
                    "'\(tracked.relative)' is a symbolic link to '\(source)', outside the project; copy the data into the project or track the target")
            }
            guard let resolved = Posix.status(source) else { throw DataError.system("read", tracked.relative, errno) }
            target = resolved
        }
        if Posix.isRegular(target) {
            let file = ScannedFile(relative: "", resolved: nil, info: FileInfo(target), isLink: Posix.isLink(info))
            return Scan(kind: .file, path: tracked.path, source: source, files: [file])
        }
        guard Posix.isDirectory(target) else {
            throw DataError(.invalidArgument, "'\(tracked.relative)' is not a regular file or a folder; only files and folders can be tracked")
        }
        var walker = FolderWalker(top: source, display: tracked.relative, cacheRoot: cache.root)
        try walker.walk(source, natural: true, relative: [], ancestors: [source])
        if walker.unusualNames {
            // Names beyond ASCII: String order (Unicode) can differ from byte order.
            walker.files.sort { $0.relative < $1.relative }
        }
        return Scan(kind: .folder, path: tracked.path, source: source, files: walker.files)
    }

    /// The digests of scanned files: from the hash index when unchanged, else hashed on all cores.
    func digests(of scan: Scan, index: inout HashIndex, hashed: inout Int, progress: DataProgressHandler?) throws -> [Digest] {
        let files = scan.files
        var known = [Digest?](repeating: nil, count: files.count)
        var missing: [Int] = []
        for (position, file) in files.enumerated() {
            if let digest = index.digest(for: file.info) { known[position] = digest } else { missing.append(position) }
        }
        if !missing.isEmpty {
            let bytes = missing.reduce(Int64(0)) { $0 + files[$1].info.size }
            let pending = missing
            let counter = ProgressCounter("hashing", files: missing.count, bytes: bytes, handler: progress)
            let computed = try Parallel.map(missing.count) { slot, buffer in
                let file = files[pending[slot]]
                let result = try Posix.hashFile(scan.source(of: file), buffer: buffer)
                counter.advance(bytes: result.size)
                return (result.digest, result.size)
            }
            for (slot, position) in missing.enumerated() {
                let file = files[position]
                known[position] = computed[slot].0
                // A file that changed while it was read is not remembered; the next run reads it again.
                if computed[slot].1 == file.info.size, let now = Posix.status(scan.source(of: file)), Posix.mtimeNanoseconds(now) == file.info.mtime {
                    index.record(file.info, digest: computed[slot].0)
                }
            }
            hashed += missing.count
        }
        return known.map { $0! }
    }
}

/// Walks a tracked folder for ``DataWorkspace/scan(_:)``.
private struct FolderWalker {
    /// What every entry is checked against.
    let rules: Rules
    var files: [DataWorkspace.ScannedFile] = []
    /// Whether a name had bytes beyond ASCII (then the result needs a final sort by String order).
    var unusualNames = false

    /// Folders with at least this many entries are looked at on all cores.
    static let parallelThreshold = 256
    /// Entries per unit of parallel work.
    static let block = 128

    init(top: String, display: String, cacheRoot: String) {
        rules = Rules(top: top, display: display, cacheRoot: cacheRoot)
    }

    /// Where links may point and how the folder is named in messages.
    struct Rules: Sendable {
        /// The tracked folder's real path: links inside it must stay inside it (or point into the cache).
        let top: String
        /// The tracked path as the user sees it (for messages).
        let display: String
        let cacheRoot: String
    }

    /// One entry of a folder.
    struct Entry: Sendable {
        /// Where its name is in the folder's name buffer, and how long it is.
        var start: Int
        var length: Int
        var isFolder: Bool
        var isLink: Bool
        var info: FileInfo
        /// The real path of a link's target, or of a file under a linked folder; the folder to enter for a folder.
        var resolved: String?
    }

    /// Lists `folder` (a real path) whose path inside the tracked folder is `relative` (bytes, "" at the top).
    /// `natural` says whether `folder` is the tracked folder's real path + `/` + `relative` (no linked folder on the way).
    mutating func walk(_ folder: String, natural: Bool, relative: [UInt8], ancestors: Set<String>) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.listingError(folder, errno) }
        guard let directory = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw Self.listingError(folder, code)
        }
        defer { closedir(directory) }
        // The names first (each followed by a NUL byte for fstatat), then one fstatat each.
        var names: [UInt8] = []
        names.reserveCapacity(16_384)
        var spans: [Span] = []
        while true {
            errno = 0
            guard let item = readdir(directory) else {
                if errno != 0 { throw Self.listingError(folder, errno) }
                break
            }
            let length = withUnsafePointer(to: &item.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: item.pointee.d_name)) { name in
                    let length = strlen(name)
                    let bytes = UnsafeRawBufferPointer(start: name, count: length)
                    let dot = UInt8(ascii: ".")
                    if length == 0 || (length == 1 && bytes[0] == dot) || (length == 2 && bytes[0] == dot && bytes[1] == dot) { return 0 }
                    if bytes.contains(where: { $0 >= 0x80 }) {
                        // A name that is not UTF-8 cannot be named in a manifest; it is left out.
                        guard String(validating: bytes, as: UTF8.self) != nil else { return 0 }
                        unusualNames = true
                    }
                    names.append(contentsOf: bytes)
                    names.append(0)
                    return length
                }
            }
            if length > 0 { spans.append(Span(start: names.count - length - 1, length: length)) }
        }
        let entries: [Entry]
        let rules = self.rules
        if spans.count >= Self.parallelThreshold && Parallel.width > 1 {
            let frozenNames = names
            let frozenSpans = spans
            let blocks = try Parallel.map((spans.count + Self.block - 1) / Self.block) { block -> [Entry] in
                try frozenNames.withUnsafeBufferPointer { bytes in
                    var part: [Entry] = []
                    for span in frozenSpans[block * Self.block..<min(frozenSpans.count, (block + 1) * Self.block)] {
                        if let entry = try rules.entry(bytes, span, in: fd, folder: folder, natural: natural, relative: relative) { part.append(entry) }
                    }
                    return part
                }
            }
            entries = blocks.flatMap { $0 }
        } else {
            entries = try names.withUnsafeBufferPointer { bytes in
                try spans.compactMap { try rules.entry(bytes, $0, in: fd, folder: folder, natural: natural, relative: relative) }
            }
        }
        // Sort by name, a folder's name followed by "/": the order of the whole paths' bytes.
        var order = Array(entries.indices)
        names.withUnsafeBufferPointer { bytes in
            let keys = entries.map { Self.key($0, bytes) }
            order.sort { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : Self.precedes(entries[$0], entries[$1], bytes) }
        }
        for position in order {
            let entry = entries[position]
            let range = entry.start..<entry.start + entry.length
            if entry.isFolder {
                let path = names.withUnsafeBytes { Self.join(relative, UnsafeRawBufferPointer(rebasing: $0[range])) }
                let source = entry.resolved ?? folder
                guard !ancestors.contains(source) else {
                    throw DataError(
                        .invalidArgument,
                        "'\(rules.display)/\(String(decoding: path, as: UTF8.self))' is a symbolic link loop (it points to a folder that contains it); remove the link")
                }
                try walk(source, natural: natural && !entry.isLink, relative: path, ancestors: ancestors.union([source]))
            } else {
                let path = names.withUnsafeBytes { Self.joinedText(relative, UnsafeRawBufferPointer(rebasing: $0[range])) }
                files.append(DataWorkspace.ScannedFile(relative: path, resolved: entry.resolved, info: entry.info, isLink: entry.isLink))
            }
        }
    }

    /// Where a name is in a folder's name buffer (its NUL byte not counted).
    struct Span: Sendable {
        var start: Int
        var length: Int
    }

    /// The first 8 bytes of an entry's sort name (a folder's with "/" after it), big-endian, zero-padded.
    private static func key(_ entry: Entry, _ names: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var key: UInt64 = 0
        var taken = 0
        while taken < 8 && taken < entry.length {
            key = key << 8 | UInt64(names[entry.start + taken])
            taken += 1
        }
        if taken < 8 && entry.isFolder {
            key = key << 8 | UInt64(UInt8(ascii: "/"))
            taken += 1
        }
        return taken < 8 ? key << (8 * UInt64(8 - taken)) : key
    }

    /// `relative/name` as bytes (`name` alone at the top).
    private static func join(_ relative: [UInt8], _ name: UnsafeRawBufferPointer) -> [UInt8] {
        var path = relative
        path.reserveCapacity(relative.count + 1 + name.count)
        if !relative.isEmpty { path.append(UInt8(ascii: "/")) }
        path.append(contentsOf: name)
        return path
    }

    /// `relative/name` as a String, built in place (one allocation at most).
    static func joinedText(_ relative: [UInt8], _ name: UnsafeRawBufferPointer) -> String {
        let count = relative.count + (relative.isEmpty ? 0 : 1) + name.count
        return String(unsafeUninitializedCapacity: count) { buffer in
            var position = 0
            for byte in relative {
                buffer[position] = byte
                position += 1
            }
            if !relative.isEmpty {
                buffer[position] = UInt8(ascii: "/")
                position += 1
            }
            for byte in name {
                buffer[position] = byte
                position += 1
            }
            return position
        }
    }

    /// Whether `a` comes before `b` in the order of whole paths (a folder's name is followed by `/`).
    private static func precedes(_ a: Entry, _ b: Entry, _ names: UnsafeBufferPointer<UInt8>) -> Bool {
        let common = min(a.length, b.length)
        if common > 0, let base = names.baseAddress {
            let order = memcmp(base + a.start, base + b.start, common)
            if order != 0 { return order < 0 }
        }
        // One name is a prefix of the other: compare what follows it ("/" for a folder, nothing for a file).
        let nextA: Int = a.length > common ? Int(names[a.start + common]) : (a.isFolder ? Int(UInt8(ascii: "/")) : -1)
        let nextB: Int = b.length > common ? Int(names[b.start + common]) : (b.isFolder ? Int(UInt8(ascii: "/")) : -1)
        return nextA < nextB
    }

    static func listingError(_ folder: String, _ code: Int32) -> DataError {
        DataError(.invalidArgument, "cannot list the folder '\(folder)': \(String(cString: strerror(code))); check its permissions")
    }
}

extension FolderWalker.Rules {
    /// Looks at one name (`span` of `names`, NUL-terminated) in the folder open as `fd`; nil for entries to skip.
    fileprivate func entry(
        _ names: UnsafeBufferPointer<UInt8>, _ span: FolderWalker.Span, in fd: Int32, folder: String, natural: Bool, relative: [UInt8]
    ) throws -> FolderWalker.Entry? {
        guard let base = names.baseAddress else { return nil }
        let bytes = UnsafeRawBufferPointer(start: base + span.start, count: span.length)
        var info = stat()
        // The name is followed by a NUL byte in `names`.
        let name = UnsafeRawPointer(base + span.start).assumingMemoryBound(to: CChar.self)
        guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        var entry = FolderWalker.Entry(start: span.start, length: span.length, isFolder: false, isLink: false, info: FileInfo(info), resolved: nil)
        var target = info
        if Posix.isLink(info) {
            entry.isLink = true
            let path = folder + "/" + String(decoding: bytes, as: UTF8.self)
            let relativeText = FolderWalker.joinedText(relative, bytes)
            let source: String
            do {
                source = try Posix.realPath(path)
            } catch {
                throw DataError(.invalidArgument, "'\(display)/\(relativeText)': \(error.message.replacingOccurrences(of: "'\(path)' ", with: ""))")
            }
            guard source == top || source.hasPrefix(top + "/") || source.hasPrefix(cacheRoot + "/") else {
                throw DataError(
                    .invalidArgument,
                    "'\(display)/\(relativeText)' is a symbolic link to '\(source)', outside the folder; copy the file into the folder or remove the link")
            }
            guard let resolved = Posix.status(source) else { return nil }
            target = resolved
            entry.info = FileInfo(resolved)
            entry.resolved = source
        }
        if Posix.isRegular(target) {
            if !entry.isLink && !natural { entry.resolved = folder + "/" + String(decoding: bytes, as: UTF8.self) }
            return entry
        }
        if Posix.isDirectory(target) {
            entry.isFolder = true
            if !entry.isLink { entry.resolved = folder + "/" + String(decoding: bytes, as: UTF8.self) }
            return entry
        }
        let relativeText = FolderWalker.joinedText(relative, bytes)
        throw DataError(
            .invalidArgument, "'\(display)/\(relativeText)' is not a regular file or folder (a device, socket or pipe); remove it from the folder")
    }
}
