import Foundation
import SlipwayCore
import Yams

/// The entries of one YAML mapping in file order, after unknown keys were reported.
struct YAMLFields {
    /// The mapping node.
    let node: Node
    /// The readable path of the mapping, e.g. `jobs.train.strategy`, for messages.
    let path: String
    /// Key text, key node and value node, in file order.
    let entries: [(key: String, keyNode: Node, value: Node)]

    subscript(_ key: String) -> Node? { entries.first { $0.key == key }?.value }

    func keyNode(_ key: String) -> Node? { entries.first { $0.key == key }?.keyNode }

    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The child path `path.key`.
    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// Reads typed values out of Yams nodes for the workflow parser and collects every problem with
/// its position, so one pass reports all of them.
final class WorkflowReader {
    let file: String
    let lines: [Substring]
    private(set) var diagnostics: [WorkflowDiagnostic] = []
    /// YAML values converted into matrix values so far; bounds the work an aliased tree can cause.
    var convertedValues = 0
    /// The most YAML values a workflow's matrices may hold in total.
    static let maximumConvertedValues = 100_000

    init(file: String, source: String) {
        self.file = file
        self.lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    }

    // MARK: Positions and problems

    func location(_ node: Node?) -> SourceLocation {
        guard let mark = node?.mark else { return SourceLocation(line: 1, column: 1) }
        return SourceLocation(line: mark.line, column: mark.column)
    }

    func report(at location: SourceLocation, _ message: String) {
        diagnostics.append(WorkflowDiagnostic(file: file, line: location.line, column: location.column, message: message))
    }

    func report(_ node: Node?, _ message: String) {
        report(at: location(node), message)
    }

    /// The file position of an offset (in Unicode scalars) inside a scalar's text: plain and
    /// quoted scalars, and block scalars (`|`, `>`), whose lines start at their indentation.
    func location(ofOffset offset: Int, in node: Node) -> SourceLocation {
        guard case .scalar(let scalar) = node, let mark = scalar.mark else { return location(node) }
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
            return SourceLocation(line: line, column: indent + 1 + columnInLine)
        case .singleQuoted, .doubleQuoted:
            if lineInText == 0 { return SourceLocation(line: mark.line, column: mark.column + 1 + columnInLine) }
            return SourceLocation(line: mark.line + lineInText, column: columnInLine + 1)
        default:
            if lineInText == 0 { return SourceLocation(line: mark.line, column: mark.column + columnInLine) }
            return SourceLocation(line: mark.line + lineInText, column: columnInLine + 1)
        }
    }

    // MARK: Mappings

    /// Reads a mapping, reporting keys outside `allowed` and naming the keys that are.
    /// - Returns: nil (after reporting) when the node is not a mapping.
    func mapping(_ node: Node, path: String, allowed: [String]?, what: String? = nil) -> YAMLFields? {
        guard case .mapping(let mapping) = node else {
            report(node, "\(what ?? path) must be a mapping of keys to values, got \(describe(node))")
            return nil
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let k) = key, !isNull(key) else {
                report(key, "keys of \(what ?? path) must be plain names")
                continue
            }
            let name = k.string
            if let allowed, !allowed.contains(name) {
                var message = "unknown key '\(name)' in \(what ?? path)"
                if let close = Suggestion.closest(to: name, in: allowed) { message += "; did you mean '\(close)'?" }
                message += " Allowed keys: \(allowed.joined(separator: ", "))"
                report(key, message)
                continue
            }
            entries.append((name, key, value))
        }
        return YAMLFields(node: node, path: path, entries: entries)
    }

    /// The mapping under `key`, if present.
    func mapping(_ fields: YAMLFields, _ key: String, allowed: [String]?) -> YAMLFields? {
        guard let node = fields[key] else { return nil }
        return mapping(node, path: fields.child(key), allowed: allowed)
    }

    // MARK: Scalars

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s):
            if isNull(node) { return "nothing" }
            let text = s.string.count > 40 ? String(s.string.prefix(40)) + "…" : s.string
            return "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    func isPlain(_ node: Node) -> Bool {
        guard case .scalar(let s) = node else { return false }
        return s.style == .plain || s.style == .any
    }

    /// A null in YAML 1.2's core schema: an empty plain scalar, `~`, `null`, `Null` or `NULL`.
    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, isPlain(node), s.tag.rawValue != Tag.Name.str.rawValue else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// A boolean in YAML 1.2's core schema (`yes`/`on` stay strings, as GitHub reads them).
    func boolValue(_ node: Node) -> Bool? {
        guard case .scalar(let s) = node, isPlain(node), s.tag.rawValue != Tag.Name.str.rawValue else { return nil }
        switch s.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    /// A number in YAML 1.2's core schema: decimal, `0o` octal and `0x` hexadecimal integers,
    /// floats with an optional exponent, `.inf` and `.nan`.
    func numberValue(_ node: Node) -> Double? {
        guard case .scalar(let s) = node, isPlain(node), s.tag.rawValue != Tag.Name.str.rawValue else { return nil }
        return Self.coreNumber(s.string)
    }

    static func coreNumber(_ text: String) -> Double? {
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

    /// The text of a scalar (numbers and booleans as written); nil after reporting for anything else.
    func text(_ node: Node, path: String, allowEmpty: Bool = false) -> String? {
        if case .scalar(let s) = node, s.tag.rawValue.hasPrefix("!") {
            report(node, "\(path) starts with '\(s.tag.rawValue)', which YAML reads as a tag; put the value in quotes")
            return nil
        }
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

    func text(_ fields: YAMLFields, _ key: String, allowEmpty: Bool = false) -> String? {
        guard let node = fields[key] else { return nil }
        return text(node, path: fields.child(key), allowEmpty: allowEmpty)
    }

    /// A text value that may embed `${{ }}` expressions, each checked to parse.
    func template(_ fields: YAMLFields, _ key: String, allowEmpty: Bool = false) -> String? {
        guard let node = fields[key] else { return nil }
        return template(node, path: fields.child(key), allowEmpty: allowEmpty)
    }

    func template(_ node: Node, path: String, allowEmpty: Bool = false) -> String? {
        guard let value = text(node, path: path, allowEmpty: allowEmpty) else { return nil }
        checkExpressions(in: value, node: node, path: path)
        return value
    }

    /// Reports the first `${{ }}` expression of `text` that does not parse, at its line and column.
    func checkExpressions(in text: String, node: Node, path: String) {
        guard text.contains("${{") else { return }
        do throws(ExpressionError) {
            _ = try Template.expressions(in: text)
        } catch {
            report(at: location(ofOffset: error.offset, in: node), "\(path): the expression does not parse: \(error.message)")
        }
    }

    /// An `if:` condition: a bare expression, or text with `${{ }}`; a YAML boolean is kept as its text.
    func condition(_ fields: YAMLFields, _ key: String) -> String? {
        guard let node = fields[key] else { return nil }
        let path = fields.child(key)
        if let flag = boolValue(node) { return flag ? "true" : "false" }
        if numberValue(node) != nil, case .scalar(let s) = node { return s.string }
        guard let value = text(node, path: path) else { return nil }
        if value.contains("${{") {
            checkExpressions(in: value, node: node, path: path)
        } else {
            do throws(ExpressionError) {
                _ = try Expression.parse(value)
            } catch {
                report(at: location(ofOffset: error.offset, in: node), "\(path): the condition does not parse: \(error.message)")
            }
        }
        return value
    }

    /// `true`/`false`; nil after reporting for anything else.
    func bool(_ fields: YAMLFields, _ key: String) -> Bool? {
        guard let node = fields[key] else { return nil }
        guard let value = boolValue(node) else {
            report(node, "\(fields.child(key)) must be true or false, got \(describe(node))")
            return nil
        }
        return value
    }

    /// `true`/`false` or an expression, kept as text.
    func boolOrExpression(_ fields: YAMLFields, _ key: String) -> String? {
        guard let node = fields[key] else { return nil }
        let path = fields.child(key)
        if let value = boolValue(node) { return value ? "true" : "false" }
        if case .scalar(let s) = node, s.string.contains("${{") {
            checkExpressions(in: s.string, node: node, path: path)
            return s.string
        }
        report(node, "\(path) must be true, false or a ${{ }} expression, got \(describe(node))")
        return nil
    }

    /// A positive number of minutes or an expression, kept as text.
    func minutesOrExpression(_ fields: YAMLFields, _ key: String) -> String? {
        guard let node = fields[key] else { return nil }
        let path = fields.child(key)
        if let value = numberValue(node), case .scalar(let s) = node {
            guard value > 0, value.isFinite else {
                report(node, "\(path) must be a number of minutes greater than 0, got \(s.string)")
                return nil
            }
            return s.string
        }
        if case .scalar(let s) = node, s.string.contains("${{") {
            checkExpressions(in: s.string, node: node, path: path)
            return s.string
        }
        report(node, "\(path) must be a number of minutes or a ${{ }} expression, got \(describe(node))")
        return nil
    }

    /// A whole number within `range`.
    func integer(_ fields: YAMLFields, _ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let node = fields[key] else { return nil }
        guard let value = numberValue(node), value == value.rounded(), abs(value) < 1e15 else {
            report(node, "\(fields.child(key)) must be a whole number, got \(describe(node))")
            return nil
        }
        guard range.contains(Int(value)) else {
            report(node, "\(fields.child(key)) must be between \(range.lowerBound) and \(range.upperBound), got \(Int(value))")
            return nil
        }
        return Int(value)
    }

    /// A list of text values; a single text value counts as a list of one.
    func textList(_ node: Node, path: String, checkTemplates: Bool = false) -> [String]? {
        if case .scalar = node, !isNull(node) {
            guard let value = checkTemplates ? template(node, path: path) : text(node, path: path) else { return nil }
            return [value]
        }
        guard case .sequence(let sequence) = node else {
            report(node, "\(path) must be a text value or a list of them, got \(describe(node))")
            return nil
        }
        var values: [String] = []
        var ok = true
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path)[\(index)]"
            if let value = checkTemplates ? template(item, path: itemPath) : text(item, path: itemPath) {
                values.append(value)
            } else {
                ok = false
            }
        }
        return ok ? values : nil
    }

    /// `env:` (or any name → text mapping): scalar values as text (a null is empty), expressions checked.
    func textMapping(_ fields: YAMLFields, _ key: String) -> [(name: String, value: String)] {
        guard let node = fields[key] else { return [] }
        let path = fields.child(key)
        if case .scalar(let s) = node, s.string.contains("${{") {
            report(node, "\(path) as one expression is not supported by Slipway; write the variables as a mapping")
            return []
        }
        guard let mapping = mapping(node, path: path, allowed: nil) else { return [] }
        var result: [(name: String, value: String)] = []
        for entry in mapping.entries {
            let entryPath = "\(path).\(entry.key)"
            guard case .scalar(let s) = entry.value else {
                report(entry.value, "\(entryPath) must be a text, number or boolean value, got \(describe(entry.value))")
                continue
            }
            let value = isNull(entry.value) ? "" : s.string
            checkExpressions(in: value, node: entry.value, path: entryPath)
            result.append((entry.key, value))
        }
        return result
    }

    // MARK: Values

    /// A YAML value as an expression value, with YAML 1.2 core types; aliases count toward a budget.
    func expressionValue(_ node: Node, path: String) -> ExpressionValue? {
        convertedValues += 1
        if convertedValues > Self.maximumConvertedValues {
            if convertedValues == Self.maximumConvertedValues + 1 {
                report(node, "\(path): the matrix holds more than \(Self.maximumConvertedValues) values (YAML aliases included); it is refused")
            }
            return nil
        }
        switch node {
        case .scalar(let s):
            if isNull(node) { return .null }
            if let flag = boolValue(node) { return .bool(flag) }
            if let number = numberValue(node) { return .number(number) }
            checkExpressions(in: s.string, node: node, path: path)
            return .string(s.string)
        case .sequence(let sequence):
            var items: [ExpressionValue] = []
            for (index, item) in sequence.enumerated() {
                guard let value = expressionValue(item, path: "\(path)[\(index)]") else { return nil }
                items.append(value)
            }
            return .array(items)
        case .mapping(let mapping):
            var object = ExpressionObject()
            for (key, value) in mapping {
                guard case .scalar(let k) = key else {
                    report(key, "keys of \(path) must be plain names")
                    return nil
                }
                guard let converted = expressionValue(value, path: "\(path).\(k.string)") else { return nil }
                object[k.string] = converted
            }
            return .object(object)
        case .alias:
            report(node, "\(path): an unresolved YAML alias")
            return nil
        }
    }

    // MARK: Identifiers

    /// GitHub's rule for job, step and input ids: a letter or `_`, then letters, digits, `-` or `_`.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, first == "_" || first.properties.isAlphabetic else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0 == "-" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }
}
