import Foundation
import SlipwayCore
import SlipwayYAML
import Yams

/// The entries of one workflow mapping in file order, after unknown keys were reported.
typealias YAMLFields = YAMLMapping

/// Reads typed values out of Yams nodes for the workflow parser and collects every problem with
/// its position, so one pass reports all of them. Positions, mappings and YAML 1.2 core scalars
/// come from ``YAMLNodeReader``; this layer keeps the workflow's own values and messages.
final class WorkflowReader: YAMLNodeReader {
    /// Every problem found so far, as workflow diagnostics.
    var diagnostics: [WorkflowDiagnostic] {
        problems.map { WorkflowDiagnostic(file: file, line: $0.position.line, column: $0.position.column, message: $0.message) }
    }
    /// YAML values converted into matrix values so far; bounds the work an aliased tree can cause.
    var convertedValues = 0
    /// The most YAML values a workflow's matrices may hold in total.
    static let maximumConvertedValues = 100_000

    /// How workflows read YAML: GitHub's reading of `!!str`, null keys refused, every allowed key listed.
    static let options = YAMLReaderOptions(
        allowedKeys: .alwaysListed, refusesNullKeys: true, honoursStringTag: true, describedTextLimit: 40
    )

    init(file: String, source: String) {
        super.init(file: file, source: source, options: Self.options)
    }

    // MARK: Positions and problems

    func location(_ node: Node?) -> SourceLocation {
        let p = position(node)
        return SourceLocation(line: p.line, column: p.column)
    }

    func report(at location: SourceLocation, _ message: String) {
        report(at: YAMLPosition(line: location.line, column: location.column), message)
    }

    /// The file position of an offset (in Unicode scalars) inside a scalar's text.
    func location(ofOffset offset: Int, in node: Node) -> SourceLocation {
        let p = position(ofOffset: offset, in: node)
        return SourceLocation(line: p.line, column: p.column)
    }

    // MARK: Mappings

    /// The mapping under `key`, if present.
    func mapping(_ fields: YAMLFields, _ key: String, allowed: [String]?) -> YAMLFields? {
        guard let node = fields[key] else { return nil }
        return mapping(node, path: fields.child(key), allowed: allowed)
    }

    // MARK: Scalars

    /// The text of a scalar (numbers and booleans as written); nil after reporting for anything else.
    override func text(_ node: Node, path: String, allowEmpty: Bool = false) -> String? {
        if case .scalar(let s) = node, s.tag.rawValue.hasPrefix("!") {
            report(node, "\(path) starts with '\(s.tag.rawValue)', which YAML reads as a tag; put the value in quotes")
            return nil
        }
        return super.text(node, path: path, allowEmpty: allowEmpty)
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
