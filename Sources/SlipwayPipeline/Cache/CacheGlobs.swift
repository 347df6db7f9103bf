import Foundation

/// Workspace globs (`*`, `?`, `[…]`, `**`, and `!` to exclude) matched while the workspace is walked: the
/// `cache.inputs` / `cache.outputs` of a job and the patterns of the `hashFiles()` expression function.
///
/// The walk reads each folder once and enters only the folders below which some include pattern can still
/// match (`src/*.py` never enters `data/`, `*.lock` enters no folder at all), so a large data folder next to
/// the code costs nothing when no pattern reaches it. What a pattern selects, and which files the walk
/// yields, follow ``Rules``: cache patterns also take everything below a folder they name, while `hashFiles()`
/// patterns name files only, as on GitHub.
enum CacheGlobs {
    /// How patterns read and what a walk yields.
    struct Rules: Sendable {
        /// A pattern also selects everything below what it names (`data` selects `data/x.csv`); false: a
        /// pattern selects the files whose whole path it matches.
        var patternsTakeContents: Bool
        /// Names never looked at in the workspace's top folder, whatever they are.
        var skippedAtTop: Set<String>
        /// Each include pattern's walk starts at its literal folder prefix (`data/raw` of `data/raw/**/*.csv`),
        /// reached through symbolic links if need be; false: one walk from the top, which enters no symbolic link.
        var startsAtLiteralPrefix: Bool
        /// A symbolic link to a regular file counts as that file; false: symbolic links are passed over.
        var linkedFilesCount: Bool
        /// Names that are not valid UTF-8 are passed over; false: they are kept, each bad byte read as U+FFFD.
        var skipsNonUTF8Names: Bool

        /// `cache.inputs` and `cache.outputs`: `.git` and `.slipway` are never included.
        static let cache = Rules(
            patternsTakeContents: true, skippedAtTop: [".git", ".slipway"], startsAtLiteralPrefix: true, linkedFilesCount: false,
            skipsNonUTF8Names: false)
        /// `hashFiles()`: the top `.git` is never searched; a link to a file is hashed as that file; a link to a folder
        /// is not entered.
        static let hashFiles = Rules(
            patternsTakeContents: false, skippedAtTop: [".git"], startsAtLiteralPrefix: false, linkedFilesCount: true, skipsNonUTF8Names: true)
    }

    /// Relative paths of the regular files that `cache.inputs`-style patterns select, sorted. A pattern that names a
    /// folder takes everything under it.
    /// - Throws: ``CacheError`` for a pattern that leaves the workspace or is not a valid glob.
    static func files(matching patterns: [String], in workspace: URL) throws -> [String] {
        var includes: [Pattern] = []
        var excludes: [Pattern] = []
        for raw in patterns {
            var pattern = raw.trimmingCharacters(in: .whitespaces)
            guard !pattern.isEmpty else { continue }
            let negated = pattern.hasPrefix("!")
            if negated { pattern.removeFirst() }
            while pattern.hasPrefix("./") { pattern.removeFirst(2) }
            while pattern.hasSuffix("/") { pattern.removeLast() }
            guard !pattern.hasPrefix("/"), !pattern.split(separator: "/").contains("..") else {
                throw CacheError("cache pattern '\(raw)' must stay inside the workspace (no leading / and no ..)")
            }
            let compiled: Pattern
            do {
                compiled = try Pattern(pattern, rules: .cache)
            } catch {
                throw CacheError("cache pattern '\(raw)' is not a valid glob")
            }
            if negated { excludes.append(compiled) } else { includes.append(compiled) }
        }
        return walk(includes: includes, excludes: excludes, in: workspace, rules: .cache)
    }

    /// One pattern, relative to the workspace: how it matches a file's path, and which folders can hold a match.
    struct Pattern {
        /// The pattern as given (after `!` and leading `./` are removed).
        let text: String
        /// The literal folders it starts with (`data/raw` of `data/raw/**/*.csv`; empty when it starts with a wildcard).
        let literalPrefix: String
        private let matcher: Matcher
        /// One test per `/`-separated component, used to decide whether a folder can hold a match.
        private let steps: [Step]
        private let takesContents: Bool

        private enum Matcher {
            /// A plain path: itself and what is below it (cache rules only).
            case path(String)
            /// A glob as an anchored regular expression.
            case glob(NSRegularExpression)
        }

        private enum Step {
            /// A component without wildcards: equal bytes.
            case literal(String)
            /// A component with `*` or `?`: its own anchored regular expression.
            case wildcard(NSRegularExpression)
            /// `**`, or a component whose match may span folders (a `[…]` set may match `/`): anything from here down.
            case anything
        }

        /// Compiles a pattern.
        /// - Throws: the regular-expression error when the glob does not make a valid one (an empty or reversed `[…]` range).
        init(_ text: String, rules: Rules) throws {
            self.text = text
            takesContents = rules.patternsTakeContents
            let components = text.split(separator: "/", omittingEmptySubsequences: false)
            var literal: [Substring] = []
            for component in text.split(separator: "/") {
                if component.contains(where: { "*?[".contains($0) }) { break }
                literal.append(component)
            }
            literalPrefix = literal.joined(separator: "/")
            let regex = HashFiles.globRegex(text)
            if !rules.patternsTakeContents {
                matcher = .glob(try NSRegularExpression(pattern: regex))
            } else if !text.contains(where: { "*?[".contains($0) }) {
                // A plain path (the common case) needs no regular expression: it matches itself and what is below it.
                matcher = .path(text)
            } else {
                matcher = .glob(try NSRegularExpression(pattern: "(?:" + String(regex.dropLast()) + ")(?:/.*)?$"))
            }
            var steps: [Step] = []
            for component in components {
                if component.contains("**") || component.contains("[") {
                    steps.append(.anything)
                    break
                }
                if component.contains(where: { $0 == "*" || $0 == "?" }) {
                    steps.append(.wildcard(try NSRegularExpression(pattern: HashFiles.globRegex(String(component)))))
                } else {
                    steps.append(.literal(String(component)))
                }
            }
            self.steps = steps
        }

        /// Whether a workspace-relative file path is selected by the pattern.
        func matches(_ relative: String) -> Bool {
            switch matcher {
            case .path(let path):
                // Compared as bytes, as the regular expression of the same path would.
                guard relative.utf8.starts(with: path.utf8) else { return false }
                let rest = relative.utf8.dropFirst(path.utf8.count)
                return rest.isEmpty ? !path.isEmpty : rest.first == UInt8(ascii: "/")
            case .glob(let regex):
                return regex.firstMatch(in: relative, range: NSRange(relative.startIndex..., in: relative)) != nil
            }
        }

        /// Whether some file below a folder (given by its path components) can be selected by the pattern. Never false
        /// for a folder that holds a match; true for some that hold none (after `**`, for instance).
        func mayMatch(below folder: [String]) -> Bool {
            var index = 0
            for component in folder {
                guard index < steps.count else { return takesContents }
                switch steps[index] {
                case .anything:
                    return true
                case .literal(let name):
                    guard component.utf8.elementsEqual(name.utf8) else { return false }
                case .wildcard(let regex):
                    guard regex.firstMatch(in: component, range: NSRange(component.startIndex..., in: component)) != nil else { return false }
                }
                index += 1
            }
            return index < steps.count || takesContents
        }
    }

    /// Walks the workspace and returns the relative paths of the regular files that an include pattern selects and no
    /// exclude pattern does, sorted; folders no include pattern can reach are not entered.
    static func walk(includes: [Pattern], excludes: [Pattern], in workspace: URL, rules: Rules) -> [String] {
        guard !includes.isEmpty else { return [] }
        let root = workspace.standardizedFileURL.path
        var starts = [""]
        if rules.startsAtLiteralPrefix {
            starts = Array(Set(includes.map(\.literalPrefix))).sorted()
            starts = starts.filter { start in !starts.contains { other in other != start && (other.isEmpty || start.hasPrefix(other + "/")) } }
        }
        var found: [String] = []
        func consider(_ relative: String) {
            guard includes.contains(where: { $0.matches(relative) }), !excludes.contains(where: { $0.matches(relative) }) else { return }
            found.append(relative)
        }
        func walk(_ relative: String, components: [String]) {
            let path = relative.isEmpty ? root : root + "/" + relative
            guard let directory = opendir(path) else { return }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
                let name: String
                if rules.skipsNonUTF8Names {
                    guard let valid = String(validating: bytes, as: UTF8.self) else { continue }
                    name = valid
                } else {
                    name = String(decoding: bytes, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                if relative.isEmpty, rules.skippedAtTop.contains(name) { continue }
                let child = relative.isEmpty ? name : relative + "/" + name
                var type = Int32(entry.pointee.d_type)
                if type == Int32(DT_UNKNOWN) {
                    var info = stat()
                    guard lstat(root + "/" + child, &info) == 0 else { continue }
                    let format = info.st_mode & S_IFMT
                    type =
                        format == S_IFDIR ? Int32(DT_DIR) : format == S_IFREG ? Int32(DT_REG) : format == S_IFLNK ? Int32(DT_LNK) : Int32(DT_UNKNOWN)
                }
                if type == Int32(DT_DIR) {
                    let below = components + [name]
                    if includes.contains(where: { $0.mayMatch(below: below) }) { walk(child, components: below) }
                } else if type == Int32(DT_REG) {
                    consider(child)
                } else if type == Int32(DT_LNK), rules.linkedFilesCount {
                    var info = stat()
                    if stat(root + "/" + child, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { consider(child) }
                }
            }
        }
        for start in starts {
            let components = start.isEmpty ? [] : start.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if let first = components.first, rules.skippedAtTop.contains(first) { continue }
            var info = stat()
            guard lstat(start.isEmpty ? root : root + "/" + start, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                walk(start, components: components)
            } else if (info.st_mode & S_IFMT) == S_IFREG {
                consider(start)
            }
        }
        return found.sorted()
    }
}
