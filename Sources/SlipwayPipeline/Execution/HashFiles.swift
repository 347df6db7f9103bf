import Crypto
public import Foundation

/// `hashFiles(patterns…)`: a SHA-256 over the files of the workspace that match, as GitHub computes it.
///
/// Patterns are globs relative to the workspace (`*`, `?`, `[…]`, `**` for any depth, a leading `!` excludes). Each
/// matching regular file's SHA-256 is computed; the result is the SHA-256 of those digests concatenated in path order,
/// in hexadecimal, or the empty string when nothing matches. The `.git` folder is never searched.
public enum HashFiles {
    public static func hash(_ patterns: [String], workspace: URL) throws -> String {
        var includes: [NSRegularExpression] = []
        var excludes: [NSRegularExpression] = []
        for raw in patterns {
            for piece in raw.split(whereSeparator: \.isNewline) {
                var pattern = piece.trimmingCharacters(in: .whitespaces)
                guard !pattern.isEmpty else { continue }
                let negated = pattern.hasPrefix("!")
                if negated { pattern.removeFirst() }
                if pattern.hasPrefix("./") { pattern.removeFirst(2) }
                let prefix = workspace.standardizedFileURL.path + "/"
                if pattern.hasPrefix(prefix) { pattern.removeFirst(prefix.count) }
                let regex = try NSRegularExpression(pattern: globRegex(pattern))
                if negated { excludes.append(regex) } else { includes.append(regex) }
            }
        }
        guard !includes.isEmpty else { return "" }
        var matches: [String] = []
        let root = workspace.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return "" }
        while let relative = enumerator.nextObject() as? String {
            if relative == ".git" || relative.hasPrefix(".git/") {
                enumerator.skipDescendants()
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let range = NSRange(relative.startIndex..., in: relative)
            guard includes.contains(where: { $0.firstMatch(in: relative, range: range) != nil }) else { continue }
            guard !excludes.contains(where: { $0.firstMatch(in: relative, range: range) != nil }) else { continue }
            matches.append(relative)
        }
        guard !matches.isEmpty else { return "" }
        var outer = SHA256()
        for relative in matches.sorted() {
            var inner = SHA256()
            guard let handle = FileHandle(forReadingAtPath: root + "/" + relative) else { continue }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { inner.update(data: chunk) }
            outer.update(data: Data(inner.finalize()))
        }
        return outer.finalize().map { String(format: "%02x", $0) }.joined()
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
