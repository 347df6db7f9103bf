/// Evaluates a syntax tree against an `ExpressionContext`, with GitHub's rules.
///
/// Objects and arrays compare equal only when they are the same instance. Slipway gives every
/// object and array an identity: the path it was reached by from a context (`github.event`, compared
/// case-insensitively, so `github.event == github['EVENT']` is true), or a new identity for each value
/// a function or an object filter creates (so `fromJSON('[]') == fromJSON('[]')` is false, as on
/// GitHub, where each call creates a new array).
final class ExpressionEvaluator {
    /// A value with its identity (arrays and objects only) and, for the result of an object filter,
    /// its elements with theirs: a property access after `*` applies to each element.
    struct Evaluated {
        var value: ExpressionValue
        var identity: String?
        var filtered: [Evaluated]?

        init(_ value: ExpressionValue, identity: String? = nil) {
            self.value = value
            self.identity = identity
        }

        init(filtered elements: [Evaluated], identity: String) {
            value = .array(elements.map(\.value))
            self.identity = identity
            filtered = elements
        }
    }

    private let context: ExpressionContext
    private let source: String
    private var createdValues = 0

    init(context: ExpressionContext, source: String) {
        self.context = context
        self.source = source
    }

    private func newIdentity() -> String {
        createdValues += 1
        return "#\(createdValues)"
    }

    private func error(_ message: String, at offset: Int) -> ExpressionError {
        ExpressionError(
            message: "\(message). Located at position \(offset + 1) within expression: \(ExpressionSyntax.excerpt(source))", offset: offset)
    }

    func evaluate(_ node: ExpressionNode) throws(ExpressionError) -> Evaluated {
        switch node {
        case .literal(let value, _):
            return Evaluated(value)
        case .context(let name, let offset):
            guard let value = context.context(named: name) else {
                let available = context.contexts.keys.sorted()
                let list = available.isEmpty ? "none" : available.joined(separator: ", ")
                throw error("The context '\(name)' is not available here. The contexts available here are: \(list)", at: offset)
            }
            return Evaluated(value, identity: "$" + name.lowercased())
        case .index(let baseNode, let keyNode, _):
            let base = try evaluate(baseNode)
            let key = try evaluate(keyNode)
            if let elements = base.filtered {
                return Evaluated(filtered: elements.compactMap { Self.element(of: $0, at: key.value) }, identity: newIdentity())
            }
            return Self.element(of: base, at: key.value) ?? Evaluated(.null)
        case .wildcard(let baseNode, _):
            let base = try evaluate(baseNode)
            if let elements = base.filtered {
                return Evaluated(filtered: elements.flatMap(Self.children), identity: newIdentity())
            }
            return Evaluated(filtered: Self.children(of: base), identity: newIdentity())
        case .not(let operand, _):
            return Evaluated(.bool(!(try evaluate(operand).value.isTruthy)))
        case .comparison(let op, let lhsNode, let rhsNode, _):
            let lhs = try evaluate(lhsNode)
            let rhs = try evaluate(rhsNode)
            return Evaluated(.bool(Self.compare(lhs, op, rhs)))
        case .and(let operands, _):
            var result = Evaluated(.bool(true))
            for operand in operands {
                result = try evaluate(operand)
                if !result.value.isTruthy { return result }
            }
            return result
        case .or(let operands, _):
            var result = Evaluated(.bool(false))
            for operand in operands {
                result = try evaluate(operand)
                if result.value.isTruthy { return result }
            }
            return result
        case .call(let function, let arguments, let offset):
            return try call(function, arguments, at: offset)
        }
    }

    // MARK: Property access and filters

    /// `base[key]`: an object's property (case-insensitive; the key as text), an array's element
    /// (the key as a number, rounded down); nil when there is none.
    static func element(of base: Evaluated, at key: ExpressionValue) -> Evaluated? {
        switch base.value {
        case .object(let object):
            guard key.isPrimitive else { return nil }
            let name = key.stringValue
            guard let value = object[name] else { return nil }
            return Evaluated(value, identity: base.identity.map { $0 + "\u{1F}" + name.lowercased() })
        case .array(let values):
            let number = key.numberValue
            guard number.isFinite, number >= 0, number < Double(values.count) else { return nil }
            let position = Int(number.rounded(.down))
            if let filtered = base.filtered { return filtered[position] }
            return Evaluated(values[position], identity: base.identity.map { $0 + "[\(position)]" })
        default:
            return nil
        }
    }

    /// An array's elements or an object's property values; nothing for other values.
    static func children(of base: Evaluated) -> [Evaluated] {
        if let filtered = base.filtered { return filtered }
        switch base.value {
        case .array(let values):
            return values.enumerated().map { position, value in
                Evaluated(value, identity: base.identity.map { $0 + "[\(position)]" })
            }
        case .object(let object):
            return object.entries.map { entry in Evaluated(entry.value, identity: base.identity.map { $0 + "\u{1F}" + entry.key.lowercased() }) }
        default:
            return []
        }
    }

    // MARK: Comparison

    /// GitHub's loose equality: values of the same type compare directly (strings ignoring case,
    /// arrays and objects by identity); values of different types are both converted to numbers.
    static func equal(_ lhs: Evaluated, _ rhs: Evaluated) -> Bool {
        switch (lhs.value, rhs.value) {
        case (.null, .null): return true
        case (.bool(let left), .bool(let right)): return left == right
        case (.number(let left), .number(let right)): return left == right
        case (.string(let left), .string(let right)): return ExpressionText.equal(left, right)
        case (.array, .array), (.object, .object):
            guard let left = lhs.identity, let right = rhs.identity else { return false }
            return left == right
        default:
            return lhs.value.numberValue == rhs.value.numberValue
        }
    }

    /// -1, 0 or 1, or nil when the values are not ordered (NaN, arrays, objects).
    static func order(_ lhs: ExpressionValue, _ rhs: ExpressionValue) -> Int? {
        if case .string(let left) = lhs, case .string(let right) = rhs { return ExpressionText.compare(left, right) }
        let left = lhs.numberValue
        let right = rhs.numberValue
        if left.isNaN || right.isNaN { return nil }
        return left < right ? -1 : (left > right ? 1 : 0)
    }

    static func compare(_ lhs: Evaluated, _ op: ComparisonOperator, _ rhs: Evaluated) -> Bool {
        switch op {
        case .equal: return equal(lhs, rhs)
        case .notEqual: return !equal(lhs, rhs)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let order = order(lhs.value, rhs.value) else { return false }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }

    // MARK: Functions

    private func call(_ function: ExpressionFunction, _ argumentNodes: [ExpressionNode], at offset: Int) throws(ExpressionError) -> Evaluated {
        switch function {
        case .success: return Evaluated(.bool(context.status.isSuccess))
        case .failure: return Evaluated(.bool(context.status.failed))
        case .always: return Evaluated(.bool(true))
        case .cancelled: return Evaluated(.bool(context.status.cancelled))
        default: break
        }
        var arguments: [Evaluated] = []
        for node in argumentNodes { arguments.append(try evaluate(node)) }
        switch function {
        case .contains:
            let search = arguments[0]
            let item = arguments[1]
            if case .array = search.value {
                return Evaluated(.bool(Self.children(of: search).contains { Self.equal($0, item) }))
            }
            guard search.value.isPrimitive, item.value.isPrimitive else { return Evaluated(.bool(false)) }
            return Evaluated(.bool(ExpressionText.contains(search.value.stringValue, item.value.stringValue)))
        case .startsWith, .endsWith:
            let text = arguments[0].value
            let part = arguments[1].value
            guard text.isPrimitive, part.isPrimitive else { return Evaluated(.bool(false)) }
            let result =
                function == .startsWith
                ? ExpressionText.hasPrefix(text.stringValue, part.stringValue) : ExpressionText.hasSuffix(text.stringValue, part.stringValue)
            return Evaluated(.bool(result))
        case .format:
            let pattern = arguments[0].value.stringValue
            let values = arguments.dropFirst().map(\.value.stringValue)
            return Evaluated(.string(try format(pattern, values, at: offset)))
        case .join:
            let separator = arguments.count > 1 ? arguments[1].value.stringValue : ","
            switch arguments[0].value {
            case .array(let values): return Evaluated(.string(values.map(\.stringValue).joined(separator: separator)))
            case .object: return Evaluated(.string(""))
            case let value: return Evaluated(.string(value.stringValue))
            }
        case .toJSON:
            return Evaluated(.string(arguments[0].value.jsonText(pretty: true)))
        case .fromJSON:
            let argument = arguments[0].value
            guard argument.isPrimitive else {
                throw error("fromJSON needs JSON text, but was given an \(argument.typeName); to copy a value, use it directly", at: offset)
            }
            let text = argument.stringValue
            let value: ExpressionValue
            do {
                value = try ExpressionValue(parsingJSON: text)
            } catch let failure {
                let shown = text.unicodeScalars.count > 80 ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(80))) + "…" : text
                throw error("fromJSON('\(shown)'): the text is not valid JSON: \(failure.message)", at: offset)
            }
            return Evaluated(value, identity: value.isPrimitive ? nil : newIdentity())
        case .hashFiles:
            guard let hashFiles = context.hashFiles else {
                throw error(
                    "hashFiles() is not available here: it hashes files in the job's workspace, so use it in a step's keys (run, with, env, if)",
                    at: offset)
            }
            let patterns = arguments.map(\.value.stringValue)
            do {
                return Evaluated(.string(try hashFiles(patterns)))
            } catch let failure {
                throw error("hashFiles(\(patterns.map { "'\($0)'" }.joined(separator: ", "))) failed: \(failure)", at: offset)
            }
        case .success, .failure, .always, .cancelled:
            return Evaluated(.null)
        }
    }

    /// `format`: `{N}` is replaced by argument N, `{{` and `}}` write single braces; anything else
    /// with a brace, or a number beyond the arguments given, is an error.
    private func format(_ pattern: String, _ values: [String], at offset: Int) throws(ExpressionError) -> String {
        let scalars = Array(pattern.unicodeScalars)
        var result = String.UnicodeScalarView()
        var position = 0
        func invalid(_ reason: String) -> ExpressionError {
            error("format: the format string '\(pattern)' is invalid at its position \(position + 1): \(reason)", at: offset)
        }
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar == "{" {
                if position + 1 < scalars.count, scalars[position + 1] == "{" {
                    result.append("{")
                    position += 2
                    continue
                }
                var end = position + 1
                while end < scalars.count, ExpressionLexer.isDigit(scalars[end]) { end += 1 }
                guard end > position + 1, end < scalars.count, scalars[end] == "}" else {
                    throw invalid("'{' must start an argument reference such as {0}; write '{{' for a literal brace")
                }
                let digits = String(String.UnicodeScalarView(scalars[(position + 1)..<end]))
                guard let index = Int(digits), index < values.count else {
                    throw error(
                        "format: the format string '\(pattern)' refers to argument {\(digits)}, but \(values.count == 1 ? "only 1 argument was" : "\(values.count) arguments were") given after it",
                        at: offset)
                }
                result.append(contentsOf: values[index].unicodeScalars)
                position = end + 1
            } else if scalar == "}" {
                guard position + 1 < scalars.count, scalars[position + 1] == "}" else {
                    throw invalid("a lone '}'; write '}}' for a literal brace")
                }
                result.append("}")
                position += 2
            } else {
                result.append(scalar)
                position += 1
            }
        }
        return String(result)
    }
}
