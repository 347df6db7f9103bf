import SlipwayCore
import SlipwayYAML
import Foundation
import Yams

/// A position in a spec file.
typealias SourcePosition = YAMLPosition

/// The fields of one YAML mapping, by key, after unknown keys were reported.
struct Fields {
    /// The mapping node itself.
    let node: Node
    /// Where a missing required field is reported: the key that owns this mapping, or the mapping.
    let owner: SourcePosition
    /// A readable path such as `spec.strategy.canary`, for messages.
    let path: String
    /// Key node and value node per key.
    let entries: [String: (key: Node, value: Node)]

    subscript(_ key: String) -> Node? { entries[key]?.value }

    func has(_ key: String) -> Bool { entries[key] != nil }

    /// The child path `path.key`.
    func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// Reads typed values out of Yams nodes and collects every problem with its position, so one pass
/// reports all errors at once. Positions, mappings and unknown keys come from ``YAMLNodeReader``;
/// this layer keeps the spec's own values (durations, conditions, choices) and messages.
final class SpecReader: YAMLNodeReader {
    /// Every problem found so far, as rollout diagnostics.
    var diagnostics: [RolloutDiagnostic] {
        problems.map { RolloutDiagnostic(file: file, line: $0.position.line, column: $0.position.column, message: $0.message) }
    }

    /// How specs read YAML: unknown keys list the allowed ones only when nothing is close.
    static let options = YAMLReaderOptions(
        allowedKeys: .listedWithoutSuggestion, refusesNullKeys: false, honoursStringTag: false, describedTextLimit: nil
    )

    init(file: String, source: String) {
        super.init(file: file, source: source, options: Self.options)
    }

    // MARK: Mappings

    /// Reads a mapping, reporting keys outside `allowed` (with a suggestion when one is close).
    /// - Parameter owner: the key that owns the mapping, where a missing field is reported.
    /// - Returns: nil (after reporting) when the node is not a mapping.
    func mapping(_ node: Node, path: String, allowed: [String], owner: Node? = nil, what: String? = nil) -> Fields? {
        guard let read = super.mapping(node, path: path, allowed: allowed, what: what) else { return nil }
        var entries: [String: (key: Node, value: Node)] = [:]
        for entry in read.entries { entries[entry.key] = (entry.keyNode, entry.value) }
        let ownerPosition = owner.map { position($0) } ?? position(node)
        return Fields(node: node, owner: ownerPosition, path: path, entries: entries)
    }

    /// The mapping under `key`, if present.
    func mapping(_ fields: Fields, _ key: String, allowed: [String]) -> Fields? {
        guard let entry = fields.entries[key] else { return nil }
        return mapping(entry.value, path: fields.child(key), allowed: allowed, owner: entry.key)
    }

    func missing(_ fields: Fields, _ key: String, _ hint: String = "") {
        report(at: fields.owner, "\(fields.path) needs '\(key)'\(hint.isEmpty ? "" : "; \(hint)")")
    }

    // MARK: Scalars

    /// A plain (unquoted) scalar's number, `_` separators allowed; nil when not finite.
    override func numberValue(_ node: Node) -> Double? {
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any else { return nil }
        let text = s.string.replacingOccurrences(of: "_", with: "")
        guard let x = Double(text), x.isFinite else { return nil }
        return x
    }

    func string(_ fields: Fields, _ key: String, required: Bool = false, hint: String = "") -> String? {
        guard let node = fields[key] else {
            if required { missing(fields, key, hint) }
            return nil
        }
        return string(node, path: fields.child(key))
    }

    func string(_ node: Node, path: String) -> String? {
        text(node, path: path)
    }

    func number(_ fields: Fields, _ key: String, in range: ClosedRange<Double>, required: Bool = false, unit: String = "") -> Double? {
        guard let node = fields[key] else {
            if required { missing(fields, key) }
            return nil
        }
        return number(node, path: fields.child(key), in: range, unit: unit)
    }

    func number(_ node: Node, path: String, in range: ClosedRange<Double>, unit: String = "") -> Double? {
        guard let x = numberValue(node) else {
            report(node, "\(path) must be a number between \(format(range.lowerBound)) and \(format(range.upperBound))\(unit), got \(describe(node))")
            return nil
        }
        guard range.contains(x) else {
            report(node, "\(path) must be between \(format(range.lowerBound)) and \(format(range.upperBound))\(unit), got \(format(x))")
            return nil
        }
        return x
    }

    func integer(_ fields: Fields, _ key: String, in range: ClosedRange<Int>, required: Bool = false) -> Int? {
        guard let node = fields[key] else {
            if required { missing(fields, key) }
            return nil
        }
        return integer(node, path: fields.child(key), in: range)
    }

    func integer(_ node: Node, path: String, in range: ClosedRange<Int>) -> Int? {
        let upper = range.upperBound == Int.max ? "" : " up to \(range.upperBound)"
        guard let x = numberValue(node), x == x.rounded(), abs(x) < 1e15 else {
            report(node, "\(path) must be a whole number ≥ \(range.lowerBound)\(upper), got \(describe(node))")
            return nil
        }
        let bounds = range.upperBound == Int.max ? "≥ \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
        guard range.contains(Int(x)) else {
            report(
                node,
                "\(path) must be a whole number \(bounds), got \(Int(x))"
            )
            return nil
        }
        return Int(x)
    }

    func bool(_ fields: Fields, _ key: String) -> Bool? {
        guard let node = fields[key] else { return nil }
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any, ["true", "false"].contains(s.string.lowercased()) else {
            report(node, "\(fields.child(key)) must be true or false, got \(describe(node))")
            return nil
        }
        return s.string.lowercased() == "true"
    }

    func duration(_ fields: Fields, _ key: String, required: Bool = false, positive: Bool = false) -> RolloutDuration? {
        guard let node = fields[key] else {
            if required { missing(fields, key) }
            return nil
        }
        return duration(node, path: fields.child(key), positive: positive)
    }

    func duration(_ node: Node, path: String, positive: Bool = false) -> RolloutDuration? {
        guard case .scalar(let s) = node, !isNull(node) else {
            report(node, "\(path) must be a duration such as 30s, 10m, 1h or 1h30m, got \(describe(node))")
            return nil
        }
        do throws(RolloutError) {
            let d = try RolloutDuration(parsing: s.string)
            if positive && d.seconds <= 0 {
                report(node, "\(path) must be longer than 0s")
                return nil
            }
            return d
        } catch {
            report(node, "\(path): \(error.message)")
            return nil
        }
    }

    func list(_ fields: Fields, _ key: String, required: Bool = false, nonEmpty: Bool = false) -> [Node]? {
        guard let entry = fields.entries[key] else {
            if required { missing(fields, key) }
            return nil
        }
        guard case .sequence(let sequence) = entry.value else {
            if isNull(entry.value), !nonEmpty { return [] }
            report(entry.value, "\(fields.child(key)) must be a list, got \(describe(entry.value))")
            return nil
        }
        let items = Array(sequence)
        if nonEmpty && items.isEmpty {
            report(entry.key, "\(fields.child(key)) must not be empty")
            return nil
        }
        return items
    }

    /// A condition expression; a syntax error is reported at its exact line and column.
    func condition(_ fields: Fields, _ key: String) -> Condition? {
        guard let node = fields[key] else { return nil }
        guard let text = string(node, path: fields.child(key)) else { return nil }
        switch Condition.parse(text) {
        case .success(let condition):
            return condition
        case .failure(let problem):
            report(at: position(ofOffset: problem.offset, in: node), "\(fields.child(key)) does not parse: \(problem.message)")
            return nil
        }
    }

    /// One of the values in `choices`.
    func choice(_ fields: Fields, _ key: String, _ choices: [String], required: Bool = false) -> String? {
        guard let node = fields[key] else {
            if required { missing(fields, key, "one of \(choices.joined(separator: ", "))") }
            return nil
        }
        guard let text = string(node, path: fields.child(key)) else { return nil }
        guard choices.contains(text) else {
            var message = "\(fields.child(key)) must be one of \(choices.joined(separator: ", ")), got '\(text)'"
            if let close = Suggestion.closest(to: text, in: choices) { message += "; did you mean '\(close)'?" }
            report(node, message)
            return nil
        }
        return text
    }

    func format(_ x: Double) -> String { ConditionValue.format(x) }
}
