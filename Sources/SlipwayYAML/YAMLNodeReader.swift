import Foundation
import SlipwayCore
public import Yams

/// A line and column in a YAML file, both counted from 1.
public struct YAMLPosition: Sendable, Equatable, Hashable {
    /// The line, from 1.
    public var line: Int
    /// The column, from 1.
    public var column: Int

    /// Creates a position.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The first character of the file, where problems without a node are reported.
    public static let start = YAMLPosition(line: 1, column: 1)
}

/// One problem found while reading a YAML file, with where it is.
public struct YAMLProblem: Sendable, Equatable {
    /// Where the problem is.
    public var position: YAMLPosition
    /// What is wrong and, where possible, how to fix it.
    public var message: String

    /// Creates a problem.
    public init(position: YAMLPosition, message: String) {
        self.position = position
        self.message = message
    }
}

/// The entries of one YAML mapping in file order, after keys outside the allowed set were reported.
public struct YAMLMapping {
    /// The mapping node.
    public let node: Node
    /// The readable path of the mapping, such as `jobs.train.strategy`, for messages.
    public let path: String
    /// Key text, key node and value node, in file order.
    public let entries: [(key: String, keyNode: Node, value: Node)]

    /// Creates a mapping view.
    public init(node: Node, path: String, entries: [(key: String, keyNode: Node, value: Node)]) {
        self.node = node
        self.path = path
        self.entries = entries
    }

    /// The value under `key`, the first one when the key repeats.
    public subscript(_ key: String) -> Node? { entries.first { $0.key == key }?.value }

    /// The key node of `key`, for problems about the key itself.
    public func keyNode(_ key: String) -> Node? { entries.first { $0.key == key }?.keyNode }

    /// Whether the mapping holds `key`.
    public func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The child path `path.key`.
    public func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// How a YAML format reads its input where formats differ.
public struct YAMLReaderOptions: Sendable {
    /// How an unknown key's message names the keys that are allowed.
    public enum AllowedKeys: Sendable {
        /// After the suggestion, always: `…; did you mean 'name'? Allowed keys: a, b`.
        case alwaysListed
        /// Only when nothing is close enough to suggest: `…; allowed keys are a, b`.
        case listedWithoutSuggestion
    }

    /// How unknown keys name the allowed ones.
    public var allowedKeys: AllowedKeys
    /// Whether a null key (`~`, `null`, an empty key) is refused as not a plain name.
    public var refusesNullKeys: Bool
    /// Whether an explicit `!!str` tag keeps a plain scalar a string (not a null, boolean or number).
    public var honoursStringTag: Bool
    /// The longest scalar text quoted in messages before it is cut with `…`; nil quotes it whole.
    public var describedTextLimit: Int?

    /// Creates options.
    public init(allowedKeys: AllowedKeys, refusesNullKeys: Bool, honoursStringTag: Bool, describedTextLimit: Int?) {
        self.allowedKeys = allowedKeys
        self.refusesNullKeys = refusesNullKeys
        self.honoursStringTag = honoursStringTag
        self.describedTextLimit = describedTextLimit
    }
}

/// Walks a composed YAML node tree keeping every node's line and column: reads mappings against a
/// set of allowed keys (suggesting the closest one for a typo), recognises YAML 1.2 core scalars,
/// and collects each problem with its position so that one pass reports all of them.
///
/// Each YAML format builds its own reader on top of this one, with its own messages and types.
open class YAMLNodeReader {
    /// The file name problems are reported against.
    public let file: String
    /// The source text split into lines, for positions inside block scalars.
    public let lines: [Substring]
    /// How this format differs from others.
    public let options: YAMLReaderOptions
    /// The problems reported so far, in the order they were found.
    public private(set) var problems: [YAMLProblem] = []

    /// Creates a reader for `source`, read from `file`.
    public init(file: String, source: String, options: YAMLReaderOptions) {
        self.file = file
        self.lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        self.options = options
    }

    // MARK: Positions and problems

    /// Where `node` starts; the start of the file when there is no node or it has no mark.
    public func position(_ node: Node?) -> YAMLPosition {
        guard let mark = node?.mark else { return .start }
        return YAMLPosition(line: mark.line, column: mark.column)
    }

    /// Records a problem at `position`.
    public func report(at position: YAMLPosition, _ message: String) { problems.append(YAMLProblem(position: position, message: message)) }

    /// Records a problem at the start of `node`.
    public func report(_ node: Node?, _ message: String) { report(at: position(node), message) }

    /// The file position of an offset (in Unicode scalars) inside a scalar's text: plain and
    /// quoted scalars, and block scalars (`|`, `>`), whose lines start at their indentation.
    public func position(ofOffset offset: Int, in node: Node) -> YAMLPosition {
        guard case .scalar(let scalar) = node, let mark = scalar.mark else { return position(node) }
        var lineInText = 0
        var columnInLine = 0
        for (i, s) in scalar.string.unicodeScalars.enumerated() {
            if i == offset { break }
            if s == "\n" {
                lineInText += 1
                columnInLine = 0
            } else {
                columnInLine += 1
            }
        }
        switch scalar.style {
        case .literal, .folded:
            let line = mark.line + 1 + lineInText
            let indent = line - 1 < lines.count ? lines[line - 1].prefix { $0 == " " }.count : 0
            return YAMLPosition(line: line, column: indent + 1 + columnInLine)
        case .singleQuoted, .doubleQuoted:
            if lineInText == 0 { return YAMLPosition(line: mark.line, column: mark.column + 1 + columnInLine) }
            return YAMLPosition(line: mark.line + lineInText, column: columnInLine + 1)
        default:
            if lineInText == 0 { return YAMLPosition(line: mark.line, column: mark.column + columnInLine) }
            return YAMLPosition(line: mark.line + lineInText, column: columnInLine + 1)
        }
    }

    // MARK: Mappings

    /// Reads a mapping, reporting keys that are not plain names and keys outside `allowed`
    /// (with the closest allowed key when one is near). A nil `allowed` accepts every name.
    /// - Parameter what: how messages name the mapping; `path` when nil.
    /// - Returns: nil (after reporting) when the node is not a mapping.
    public func mapping(_ node: Node, path: String, allowed: [String]?, what: String? = nil) -> YAMLMapping? {
        let name = what ?? path
        guard case .mapping(let mapping) = node else {
            report(node, "\(name) must be a mapping of keys to values, got \(describe(node))")
            return nil
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let k) = key, !(options.refusesNullKeys && isNull(key)) else {
                report(key, "keys of \(name) must be plain names")
                continue
            }
            if let allowed, !allowed.contains(k.string) {
                report(key, unknownKeyMessage(k.string, in: name, allowed: allowed))
                continue
            }
            entries.append((k.string, key, value))
        }
        return YAMLMapping(node: node, path: path, entries: entries)
    }

    /// The message for a key outside `allowed`, with the closest allowed key when one is near.
    public func unknownKeyMessage(_ key: String, in name: String, allowed: [String]) -> String {
        var message = "unknown key '\(key)' in \(name)"
        let close = Suggestion.closest(to: key, in: allowed)
        if let close { message += "; did you mean '\(close)'?" }
        switch options.allowedKeys {
        case .alwaysListed: message += " Allowed keys: \(allowed.joined(separator: ", "))"
        case .listedWithoutSuggestion: if close == nil { message += "; allowed keys are \(allowed.joined(separator: ", "))" }
        }
        return message
    }

    // MARK: Scalars

    /// How messages name what a node holds: `'text'`, `nothing`, `a mapping`, `a list` or `an alias`.
    public func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s):
            if isNull(node) { return "nothing" }
            if let limit = options.describedTextLimit, s.string.count > limit { return "'\(s.string.prefix(limit))…'" }
            return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// Whether `node` is an unquoted scalar.
    public func isPlain(_ node: Node) -> Bool {
        guard case .scalar(let s) = node else { return false }
        return s.style == .plain || s.style == .any
    }

    /// The text of an unquoted scalar that may hold a null, boolean or number: not a quoted one,
    /// and not one tagged `!!str` when the format honours that tag.
    public func plainText(_ node: Node) -> String? {
        guard case .scalar(let s) = node, isPlain(node) else { return nil }
        if options.honoursStringTag && s.tag.rawValue == Tag.Name.str.rawValue { return nil }
        return s.string
    }

    /// A null in YAML 1.2's core schema: an empty plain scalar, `~`, `null`, `Null` or `NULL`.
    public func isNull(_ node: Node) -> Bool {
        guard let text = plainText(node) else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// A boolean in YAML 1.2's core schema (`yes` and `on` stay strings).
    public func boolValue(_ node: Node) -> Bool? {
        switch plainText(node) {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// A number in YAML 1.2's core schema (see ``coreNumber(_:)``).
    open func numberValue(_ node: Node) -> Double? { plainText(node).flatMap(Self.coreNumber) }

    /// A number in YAML 1.2's core schema: decimal, `0o` octal and `0x` hexadecimal integers,
    /// floats with an optional exponent, `.inf` and `.nan`; nil for any other text.
    public static func coreNumber(_ text: String) -> Double? {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { return nil }
        if text.hasPrefix("0o"), scalars.count > 2, let n = Int(text.dropFirst(2), radix: 8) { return Double(n) }
        if text.hasPrefix("0x"), scalars.count > 2, let n = Int(text.dropFirst(2), radix: 16) { return Double(n) }
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
        var i = 0
        if scalars[i] == "-" || scalars[i] == "+" { i += 1 }
        var digits = 0
        while i < scalars.count, ("0"..."9").contains(scalars[i]) {
            i += 1
            digits += 1
        }
        if i < scalars.count, scalars[i] == "." {
            i += 1
            var fraction = 0
            while i < scalars.count, ("0"..."9").contains(scalars[i]) {
                i += 1
                fraction += 1
            }
            if digits == 0 && fraction == 0 { return nil }
        } else if digits == 0 {
            return nil
        }
        if i < scalars.count, scalars[i] == "e" || scalars[i] == "E" {
            i += 1
            if i < scalars.count, scalars[i] == "-" || scalars[i] == "+" { i += 1 }
            var exponent = 0
            while i < scalars.count, ("0"..."9").contains(scalars[i]) {
                i += 1
                exponent += 1
            }
            if exponent == 0 { return nil }
        }
        guard i == scalars.count else { return nil }
        return Double(text)
    }

    /// The text of a non-null scalar that is not blank; nil after reporting
    /// `<path> must be a text value, got …` or `<path> must not be empty` otherwise.
    open func text(_ node: Node, path: String, allowEmpty: Bool = false) -> String? {
        guard case .scalar(let s) = node, !isNull(node) else {
            report(node, "\(path) must be a text value, got \(describe(node))")
            return nil
        }
        if !allowEmpty && s.string.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            report(node, "\(path) must not be empty")
            return nil
        }
        return s.string
    }
}
