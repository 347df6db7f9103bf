import Foundation
import SlipwayCore
import Yams

/// How files get from the cache into the workspace (and into the cache on `add`).
public enum LinkStrategy: String, Sendable, Codable, CaseIterable {
    /// The fastest the file system allows: reflink, else hardlink, else copy.
    case auto
    /// A copy-on-write clone (`FICLONE`: Btrfs, XFS, bcachefs): instant, and the workspace file stays writable.
    case reflink
    /// A hard link to the cache object: instant; the file is made read-only so that an edit cannot change the cache.
    case hardlink
    /// A symbolic link to the cache object (read-only).
    case symlink
    /// A full copy: slow for large data, works everywhere.
    case copy
}

/// The `data:` section of `.slipway/config.yml`.
///
/// ```yaml
/// data:
///   cache: .slipway/cache      # the object cache, relative to the project root (or absolute)
///   link: auto                 # auto | reflink | hardlink | symlink | copy
///   remote: origin             # the remote push, pull and fetch use without --remote
///   remotes:
///     origin: /mnt/shared/slipway-data          # a folder
///     server: https://slipway.example.com      # a Slipway server (token from SLIPWAY_TOKEN)
/// ```
public struct DataSettings: Sendable, Codable, Equatable {
    /// The cache folder (`cache`), relative to the project root unless absolute; default `.slipway/cache`.
    public var cache: String?
    /// The link strategy (`link`); default ``LinkStrategy/auto``.
    public var link: LinkStrategy?
    /// The default remote's name (`remote`).
    public var remote: String?
    /// Remote names and their URLs (`remotes`): a folder path or an `http(s)://` Slipway server.
    public var remotes: [String: String]

    /// Settings with every default.
    public init(cache: String? = nil, link: LinkStrategy? = nil, remote: String? = nil, remotes: [String: String] = [:]) {
        self.cache = cache
        self.link = link
        self.remote = remote
        self.remotes = remotes
    }

    /// Reads the `data:` section of a config file; a missing file gives the defaults.
    /// - Throws: ``DataError`` (`invalidArgument`) naming the file and the offending key.
    public static func load(from path: String) throws -> DataSettings {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return DataSettings() }
        let document = try loadDocument(text, path: path)
        guard let section = document["data"] else { return DataSettings() }
        func fail(_ key: String, _ message: String) -> DataError {
            DataError(.invalidArgument, "\(path): key 'data.\(key)' \(message); fix the file or remove the key")
        }
        guard let data = section as? [String: Any] else { throw fail("", "must be a mapping") }
        var settings = DataSettings()
        for (key, value) in data {
            switch key {
            case "cache":
                guard let text = value as? String, !text.isEmpty else { throw fail(key, "must be a folder path") }
                settings.cache = text
            case "link":
                guard let text = value as? String, let link = LinkStrategy(rawValue: text) else {
                    throw fail(key, "must be one of \(LinkStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                settings.link = link
            case "remote":
                guard let text = value as? String, !text.isEmpty else { throw fail(key, "must be a remote name") }
                settings.remote = text
            case "remotes":
                guard let remotes = value as? [String: Any] else { throw fail(key, "must map remote names to URLs") }
                for (name, url) in remotes {
                    guard let url = url as? String, !url.isEmpty else { throw fail("\(key).\(name)", "must be a folder path or an http(s) URL") }
                    settings.remotes[name] = url
                }
            default:
                throw fail(key, "is unknown (known keys: cache, link, remote, remotes)")
            }
        }
        return settings
    }

    /// Writes these settings as the `data:` section of a config file, keeping its other sections.
    public func save(to path: String) throws {
        var document: [String: Any] = [:]
        if let text = try? String(contentsOfFile: path, encoding: .utf8) { document = try Self.loadDocument(text, path: path) }
        var section: [String: Any] = [:]
        if let cache { section["cache"] = cache }
        if let link { section["link"] = link.rawValue }
        if let remote { section["remote"] = remote }
        if !remotes.isEmpty { section["remotes"] = remotes }
        document["data"] = section
        let text: String
        do {
            text = try Yams.dump(object: document, sortKeys: true)
        } catch {
            throw DataError(.internal, "cannot write the settings to '\(path)': \(error)")
        }
        try Posix.makeFolders((path as NSString).deletingLastPathComponent)
        try Posix.writeAtomically(Data(text.utf8), to: path)
    }

    private static func loadDocument(_ text: String, path: String) throws -> [String: Any] {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw DataError(.invalidArgument, "\(path) is not valid YAML: \(error); fix the file")
        }
        guard let loaded else { return [:] }
        guard let document = loaded as? [String: Any] else {
            throw DataError(.invalidArgument, "\(path) must be a YAML mapping (with a 'data:' section); fix the file")
        }
        return document
    }
}
