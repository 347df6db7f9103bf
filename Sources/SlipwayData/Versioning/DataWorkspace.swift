public import Foundation
import SlipwayCore
import SlipwayStore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A project folder whose data files are versioned by pointer files (`PATH.slipway`) and kept in a
/// content-addressed cache.
///
/// The project root is the nearest folder (from the working directory up) that holds `.slipway/`
/// or `.git`. Settings are the `data:` section of `.slipway/config.yml` (``DataSettings``); the
/// cache is `.slipway/cache` unless configured otherwise (``DataCache``).
///
/// ```swift
/// let workspace = try DataWorkspace.find(from: FileManager.default.currentDirectoryPath)
/// let report = try workspace.add(["data/images"])
/// print(report.paths[0].pointer.digest)
/// ```
public struct DataWorkspace: Sendable {
    /// The project root (absolute, links resolved).
    public let root: String
    /// The `data:` settings of `.slipway/config.yml`.
    public let settings: DataSettings
    /// The object cache.
    public let cache: DataCache

    /// The settings file.
    public var configPath: String { Self.configPath(root: root) }

    static func configPath(root: String) -> String { root + "/.slipway/config.yml" }

    /// Opens the workspace rooted at a folder.
    /// - Throws: ``DataError`` for a malformed config file or a cache folder that cannot be created.
    public init(root: String) throws {
        let resolved = try Posix.realPath(root)
        self.root = resolved
        self.settings = try DataSettings.load(from: Self.configPath(root: resolved))
        var cacheRoot = settings.cache ?? ".slipway/cache"
        if !cacheRoot.hasPrefix("/") { cacheRoot = resolved + "/" + cacheRoot }
        self.cache = try DataCache(root: (cacheRoot as NSString).standardizingPath)
    }

    /// Finds the project root from a folder upwards (the first folder with `.slipway/` or `.git`) and opens it.
    /// - Throws: ``DataError`` (`failedPrecondition`) when no folder up to `/` qualifies.
    public static func find(from directory: String) throws -> DataWorkspace {
        var current = (try? Posix.realPath(directory)) ?? directory
        while true {
            for marker in ["/.slipway", "/.git"] {
                if Posix.lstatus(current + marker) != nil { return try DataWorkspace(root: current) }
            }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { break }
            current = parent
        }
        throw DataError(
            .failedPrecondition,
            "'\(directory)' is not inside a project: no folder up to '/' holds .slipway/ or .git; run 'git init' or 'mkdir .slipway' in the project root")
    }

    // MARK: Paths

    /// A tracked path: where the data is and where its pointer is.
    public struct Tracked: Sendable, Hashable {
        /// The data's absolute path.
        public var path: String
        /// The path relative to the project root (how it is shown).
        public var relative: String
        /// The pointer file's absolute path.
        public var pointerPath: String { path + DataPointer.suffix }
    }

    /// Resolves a command-line path (a data path or its `.slipway` pointer, relative to `directory`).
    /// - Throws: ``DataError`` (`invalidArgument`) for a path outside the project or inside `.slipway/` or `.git/`.
    public func tracked(_ argument: String, from directory: String = FileManager.default.currentDirectoryPath) throws -> Tracked {
        guard !argument.isEmpty, !argument.utf8.contains(0) else { throw DataError(.invalidArgument, "an empty path was given; name a file or folder") }
        var absolute = argument.hasPrefix("/") ? argument : directory + "/" + argument
        absolute = (absolute as NSString).standardizingPath
        while absolute.count > 1 && absolute.hasSuffix("/") { absolute.removeLast() }
        if absolute.hasSuffix(DataPointer.suffix) { absolute.removeLast(DataPointer.suffix.count) }
        // Resolve links in the parent folders so that a link cannot lead out of the project.
        let parent = (absolute as NSString).deletingLastPathComponent
        let name = (absolute as NSString).lastPathComponent
        if let realParent = try? Posix.realPath(parent) { absolute = realParent == "/" ? "/" + name : realParent + "/" + name }
        guard absolute != root else {
            throw DataError(.invalidArgument, "'\(argument)' is the project root itself; track the files or folders inside it")
        }
        guard absolute.hasPrefix(root + "/") else {
            throw DataError(
                .invalidArgument,
                "'\(argument)' is outside the project '\(root)'; data paths must be inside the project (the folder holding .slipway/ or .git)")
        }
        let relative = String(absolute.dropFirst(root.count + 1))
        let first = relative.split(separator: "/").first.map(String.init) ?? ""
        guard first != ".slipway" && first != ".git", !name.isEmpty, name != "." && name != ".." else {
            throw DataError(.invalidArgument, "'\(argument)' is inside '\(first)', which Slipway manages; track data elsewhere in the project")
        }
        guard !absolute.hasPrefix(cache.root + "/") && absolute != cache.root else {
            throw DataError(.invalidArgument, "'\(argument)' is inside the data cache; track data elsewhere in the project")
        }
        return Tracked(path: absolute, relative: relative)
    }

    /// Reads the pointer of a tracked path.
    public func pointer(of tracked: Tracked) throws -> DataPointer {
        let path = tracked.pointerPath
        guard let info = Posix.lstatus(path) else {
            throw DataError(.notFound, "'\(tracked.relative)' is not tracked: '\(tracked.relative)\(DataPointer.suffix)' does not exist; run 'slipway data add \(tracked.relative)'")
        }
        guard Posix.isRegular(info), info.st_size <= DataPointer.maximumSize, let data = FileManager.default.contents(atPath: path) else {
            throw DataError(.invalidArgument, "pointer file \(tracked.relative)\(DataPointer.suffix) is not a small regular file; restore it from git")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DataError(.invalidArgument, "pointer file \(tracked.relative)\(DataPointer.suffix) is not UTF-8 text; restore it from git")
        }
        return try DataPointer.parse(text, path: tracked.relative + DataPointer.suffix)
    }

    /// The tracked paths named on the command line, or every pointer in the project when none are.
    public func selection(_ arguments: [String], from directory: String = FileManager.default.currentDirectoryPath) throws -> [Tracked] {
        if arguments.isEmpty { return allTracked() }
        var seen = Set<Tracked>()
        return try arguments.map { try tracked($0, from: directory) }.filter { seen.insert($0).inserted }
    }

    /// Every pointer file in the project, in path order. Folders whose names start with `.` and
    /// tracked folders themselves are not searched.
    public func allTracked() -> [Tracked] {
        var result: [Tracked] = []
        func walk(_ folder: String, _ relative: String) {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
            let pointers = Set(names.filter { $0.hasSuffix(DataPointer.suffix) && $0.count > DataPointer.suffix.count })
            let tracked = Set(pointers.map { String($0.dropLast(DataPointer.suffix.count)) })
            for name in names.sorted() {
                let path = folder + "/" + name
                let rel = relative.isEmpty ? name : relative + "/" + name
                if pointers.contains(name) {
                    result.append(Tracked(path: String(path.dropLast(DataPointer.suffix.count)), relative: String(rel.dropLast(DataPointer.suffix.count))))
                    continue
                }
                guard !name.hasPrefix("."), !tracked.contains(name), let info = Posix.lstatus(path), Posix.isDirectory(info) else { continue }
                walk(path, rel)
            }
        }
        walk(root, "")
        return result.sorted { $0.relative < $1.relative }
    }

    /// The hash index of this workspace's cache.
    func openIndex() -> HashIndex { HashIndex(path: cache.root + "/index-v1.bin") }

    /// The effective link strategy: the argument, else the config, else auto.
    func strategy(_ override: LinkStrategy?) -> LinkStrategy { override ?? settings.link ?? .auto }
}
