import Crypto
public import Foundation

/// `hashFiles(patterns…)`: a SHA-256 over the files of the workspace that match, as GitHub computes it.
///
/// Patterns are globs relative to the workspace (`*`, `?`, `[…]`, `**` for any depth, a leading `!` excludes); an argument
/// may hold several, one a line, and a pattern may also be written as an absolute path inside the workspace. A pattern
/// selects the files whose whole path it matches (a folder's name alone selects nothing). Each selected file's SHA-256 is
/// computed; the result is the SHA-256 of those digests concatenated in path order, in hexadecimal, or the empty string
/// when nothing matches.
///
/// The files are found by the same walker as a job's `cache.inputs` (``CacheGlobs``, with its `hashFiles` rules): it
/// enters only the folders some pattern can reach, never searches the top `.git` folder, hashes a symbolic link to a file
/// as that file, enters no symbolic link to a folder, and passes over names that are not valid UTF-8 and files that
/// cannot be opened.
///
/// ```swift
/// let key = try HashFiles.hash(["**/requirements*.txt", "!vendor/**"], workspace: workspace)
/// ```
public enum HashFiles {
    /// The digest of the files that `patterns` select in `workspace`.
    /// - Parameters:
    ///   - patterns: the arguments of the `hashFiles()` call, each holding one or more patterns, one a line.
    ///   - workspace: the folder the patterns are relative to.
    /// - Returns: 64 lowercase hexadecimal digits, or the empty string when no file matches.
    /// - Throws: the regular-expression error of a pattern that is not a valid glob (an empty or reversed `[…]` range),
    ///   or a read error of a selected file.
    public static func hash(_ patterns: [String], workspace: URL) throws -> String {
        let matches = try files(patterns, workspace: workspace)
        guard !matches.isEmpty else { return "" }
        let root = workspace.standardizedFileURL.path
        var outer = SHA256()
        for relative in matches {
            var inner = SHA256()
            guard let handle = FileHandle(forReadingAtPath: root + "/" + relative) else { continue }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { inner.update(data: chunk) }
            outer.update(data: Data(inner.finalize()))
        }
        return outer.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The workspace-relative paths of the files `patterns` select, in the order they are hashed.
    /// - Throws: the regular-expression error of a pattern that is not a valid glob.
    static func files(_ patterns: [String], workspace: URL) throws -> [String] {
        var includes: [CacheGlobs.Pattern] = []
        var excludes: [CacheGlobs.Pattern] = []
        for (glob, negated) in globs(patterns, workspace: workspace) {
            let compiled = try CacheGlobs.Pattern(glob, rules: .hashFiles)
            if negated { excludes.append(compiled) } else { includes.append(compiled) }
        }
        return CacheGlobs.walk(includes: includes, excludes: excludes, in: workspace, rules: .hashFiles)
    }

    /// The globs `hashFiles()` arguments hold: one per non-empty line, trimmed, `!` marking an exclusion, and
    /// relative to the workspace (a leading `./` or the workspace's own path is dropped).
    static func globs(_ patterns: [String], workspace: URL) -> [(glob: String, negated: Bool)] {
        let prefix = workspace.standardizedFileURL.path + "/"
        var globs: [(glob: String, negated: Bool)] = []
        for raw in patterns {
            for piece in raw.split(whereSeparator: \.isNewline) {
                var pattern = piece.trimmingCharacters(in: .whitespaces)
                guard !pattern.isEmpty else { continue }
                let negated = pattern.hasPrefix("!")
                if negated { pattern.removeFirst() }
                if pattern.hasPrefix("./") { pattern.removeFirst(2) }
                if pattern.hasPrefix(prefix) { pattern.removeFirst(prefix.count) }
                globs.append((pattern, negated))
            }
        }
        return globs
    }

    /// An anchored regular expression for a glob.
    static func globRegex(_ glob: String) -> String {
        var regex = "^"
        var chars = Array(glob)
        var index = 0
        while index < chars.count {
            let char = chars[index]
            switch char {
            case "*":
                if index + 1 < chars.count, chars[index + 1] == "*" {
                    if index + 2 < chars.count, chars[index + 2] == "/" {
                        regex += "(?:.*/)?"
                        index += 3
                    } else {
                        regex += ".*"
                        index += 2
                    }
                    continue
                }
                regex += "[^/]*"
            case "?": regex += "[^/]"
            case "[":
                if let close = chars[(index + 1)...].firstIndex(of: "]") {
                    var set = String(chars[(index + 1)..<close])
                    if set.hasPrefix("!") { set = "^" + set.dropFirst() }
                    regex += "[" + set.replacingOccurrences(of: "\\", with: "\\\\") + "]"
                    index = close + 1
                    continue
                }
                regex += "\\["
            default:
                regex += NSRegularExpression.escapedPattern(for: String(char))
            }
            index += 1
        }
        chars.removeAll()
        return regex + "$"
    }
}
