public import Foundation

/// Reads the files a step writes to pass values on: `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`.
///
/// `GITHUB_OUTPUT` and `GITHUB_ENV` hold `NAME=value` lines and multi-line values written as
/// `NAME<<DELIMITER`, the lines of the value, then a line holding only `DELIMITER`.
public enum EnvironmentFiles {
    /// The largest file a step may write (1 MiB); a larger one fails the step.
    public static let maximumSize = 1 << 20

    /// A file that cannot be read as GitHub's `NAME=value` format.
    public struct FormatError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(_ message: String) { self.message = message }
    }

    /// Names `GITHUB_ENV` may not set: GitHub refuses `NODE_OPTIONS`.
    public static let protectedNames: Set<String> = ["NODE_OPTIONS"]

    /// Reads a file's text, refusing one over ``maximumSize``; a missing file is empty.
    public static func read(_ url: URL, label: String) throws(FormatError) -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path) else { return "" }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maximumSize else {
            throw FormatError("\(label) is \(size) bytes, over the limit of \(maximumSize) bytes (1 MiB); write large values to a file instead")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses `NAME=value` and `NAME<<DELIMITER` entries, in order (a later entry for a name wins when put in a dictionary).
    public static func parseAssignments(_ text: String, label: String) throws(FormatError) -> [(name: String, value: String)] {
        // "\r\n" is one Character in Swift: normalise line ends before splitting.
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        var result: [(name: String, value: String)] = []
        var index = 0
        while index < lines.count {
            var line = lines[index]
            if line.hasSuffix("\r") { line.removeLast() }
            index += 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let equals = line.firstIndex(of: "=")
            let heredoc = line.range(of: "<<")
            if let heredoc, equals.map({ heredoc.lowerBound < $0 }) ?? true {
                let name = String(line[..<heredoc.lowerBound])
                let delimiter = String(line[heredoc.upperBound...])
                try checkName(name, label: label, line: index)
                guard !delimiter.isEmpty else { throw FormatError("\(label) line \(index): '\(name)<<' needs a delimiter after '<<'") }
                var value: [String] = []
                var closed = false
                while index < lines.count {
                    var next = lines[index]
                    if next.hasSuffix("\r") { next.removeLast() }
                    index += 1
                    if next == delimiter {
                        closed = true
                        break
                    }
                    value.append(next)
                }
                guard closed else {
                    throw FormatError("\(label): the value of '\(name)' is never closed: no line holds only the delimiter '\(delimiter)'")
                }
                result.append((name, value.joined(separator: "\n")))
            } else if let equals {
                let name = String(line[..<equals])
                try checkName(name, label: label, line: index)
                result.append((name, String(line[line.index(after: equals)...])))
            } else {
                throw FormatError("\(label) line \(index): '\(line.prefix(80))' is neither NAME=value nor NAME<<DELIMITER")
            }
        }
        return result
    }

    /// The directories of a `GITHUB_PATH` file, one per non-empty line, in file order.
    public static func parsePath(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func checkName(_ name: String, label: String, line: Int) throws(FormatError) {
        guard !name.isEmpty else { throw FormatError("\(label) line \(line): the name before '=' is empty") }
        guard !name.contains("="), !name.contains(where: \.isNewline), !name.contains("\0") else {
            throw FormatError("\(label) line \(line): '\(name.prefix(80))' is not a valid name")
        }
    }
}
