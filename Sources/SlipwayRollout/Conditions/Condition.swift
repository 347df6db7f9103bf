import SlipwayCore
import Foundation

/// A `successCondition` or `failureCondition`: an expression over a measurement's `result` that
/// evaluates to true or false.
///
/// The language is small and close to the expressions Argo Rollouts users write:
/// numbers, strings, `result`, fields (`result.p99`), indexes (`result[0]`), arithmetic
/// (`+ - * / %`), comparisons (`< <= > >= == !=`), `&&`/`and`, `||`/`or`, `!`/`not`, parentheses
/// and the functions `len`, `isNaN`, `isInf`, `abs`, `min`, `max`, `asFloat`, `asInt`.
/// `!`/`not` apply to a whole comparison, so `not result > 5` means `not (result > 5)`.
///
/// ```swift
/// let c = try Condition("result[0] < 0.02 && !isNaN(result[0])")
/// try c.evaluate(result: .array([.number(0.01)]))   // true
/// ```
public struct Condition: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The expression as written.
    public let source: String
    let root: ConditionNode

    /// Parses an expression.
    /// - Throws: `RolloutError.invalidCondition` with the column of the problem.
    public init(_ source: String) throws(RolloutError) {
        switch Self.parse(source) {
        case .success(let condition): self = condition
        case .failure(let error): throw RolloutError(.invalidCondition, "condition '\(source)': \(error)")
        }
    }

    private init(source: String, root: ConditionNode) {
        self.source = source
        self.root = root
    }

    /// Parses an expression, returning the offset of a problem instead of throwing.
    public static func parse(_ source: String) -> Result<Condition, ConditionSyntaxError> {
        do throws(ConditionSyntaxError) {
            return .success(Condition(source: source, root: try ConditionParser.parse(source)))
        } catch {
            return .failure(error)
        }
    }

    /// Evaluates the condition with `result` bound to a measurement's value.
    /// - Throws: `RolloutError.conditionEvaluation` when a type does not fit (comparing a map with a
    ///   number), a field or index is missing, or the expression is not a boolean.
    public func evaluate(result: ConditionValue) throws(RolloutError) -> Bool {
        do throws(ConditionEvaluationError) {
            let value = try ConditionEvaluator(result: result).evaluate(root)
            guard case .bool(let b) = value else {
                throw ConditionEvaluationError(offset: 0, message: "the condition gives \(value.typeName) (\(value)), not true or false")
            }
            return b
        } catch {
            throw RolloutError(.conditionEvaluation, "condition '\(source)' at column \(error.offset + 1): \(error.message)")
        }
    }

    public var description: String { source }

    public static func == (a: Condition, b: Condition) -> Bool { a.source == b.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    /// Encoded as its text.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(source)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        switch Self.parse(text) {
        case .success(let condition): self = condition
        case .failure(let error): throw DecodingError.dataCorruptedError(in: c, debugDescription: "condition '\(text)': \(error)")
        }
    }
}

struct ConditionEvaluationError: Error {
    var offset: Int
    var message: String
}

/// Evaluates a syntax tree against one `result`.
struct ConditionEvaluator {
    let result: ConditionValue

    func evaluate(_ node: ConditionNode) throws(ConditionEvaluationError) -> ConditionValue {
        switch node {
        case .literal(let value, _):
            return value
        case .result:
            return result
        case .member(let base, let name, let at):
            let value = try evaluate(base)
            guard case .map(let map) = value else {
                throw ConditionEvaluationError(offset: at, message: "'.\(name)' reads a field, but the value is \(value.typeName)")
            }
            guard let field = map[name] else {
                let fields = map.keys.filter { $0 != ConditionValue.valueKey }.sorted()
                let hint = Suggestion.closest(to: name, in: fields).map { " Did you mean '\($0)'?" } ?? ""
                throw ConditionEvaluationError(
                    offset: at,
                    message: "the result has no field '\(name)'; it has \(fields.isEmpty ? "none" : fields.joined(separator: ", ")).\(hint)")
            }
            return field
        case .index(let base, let indexNode, let at):
            let value = try evaluate(base)
            let index = try evaluate(indexNode)
            switch value {
            case .array(let items):
                guard let x = index.numberValue, x == x.rounded(), x.isFinite else {
                    throw ConditionEvaluationError(offset: at, message: "an array index must be a whole number, got \(index)")
                }
                let i = Int(x) < 0 ? items.count + Int(x) : Int(x)
                guard items.indices.contains(i) else {
                    throw ConditionEvaluationError(offset: at, message: "index \(Int(x)) is out of range; the result has \(items.count) value(s)")
                }
                return items[i]
            case .map(let map):
                guard case .string(let key) = index else {
                    throw ConditionEvaluationError(offset: at, message: "a map is indexed by a string, got \(index.typeName)")
                }
                guard let field = map[key] else {
                    throw ConditionEvaluationError(offset: at, message: "the result has no field '\(key)'")
                }
                return field
            default:
                if value.numberValue != nil, index.numberValue == 0 {
                    // A single number behaves as a one-element vector, as PromQL scalars do in Argo (`result[0]`).
                    return value
                }
                throw ConditionEvaluationError(offset: at, message: "only arrays and maps can be indexed, but the value is \(value.typeName)")
            }
        case .unary(let op, let operand, let at):
            let value = try evaluate(operand)
            switch op {
            case .not:
                guard case .bool(let b) = value else {
                    throw ConditionEvaluationError(offset: at, message: "'!' needs true or false, got \(value.typeName)")
                }
                return .bool(!b)
            default:
                return .number(-(try number(value, at: at, op: "-")))
            }
        case .binary(let op, let lhs, let rhs, let at):
            return try binary(op, lhs, rhs, at: at)
        case .call(let name, let arguments, let at):
            let values = try arguments.map { (node) throws(ConditionEvaluationError) -> ConditionValue in try evaluate(node) }
            return try call(name, values, at: at)
        }
    }

    private func number(_ value: ConditionValue, at: Int, op: String) throws(ConditionEvaluationError) -> Double {
        if let x = value.numberValue { return x }
        if case .array(let items) = value, items.count == 1, let x = items[0].numberValue { return x }
        throw ConditionEvaluationError(offset: at, message: "'\(op)' needs numbers, got \(value.typeName) (\(value))")
    }

    private func binary(_ op: ConditionOperator, _ lhs: ConditionNode, _ rhs: ConditionNode, at: Int) throws(ConditionEvaluationError)
        -> ConditionValue
    {
        switch op {
        case .and, .or:
            let left = try evaluate(lhs)
            guard case .bool(let a) = left else {
                throw ConditionEvaluationError(offset: at, message: "'\(op.rawValue)' needs true or false on its left, got \(left.typeName)")
            }
            if op == .and && !a { return .bool(false) }
            if op == .or && a { return .bool(true) }
            let right = try evaluate(rhs)
            guard case .bool(let b) = right else {
                throw ConditionEvaluationError(offset: at, message: "'\(op.rawValue)' needs true or false on its right, got \(right.typeName)")
            }
            return .bool(b)
        case .equal, .notEqual:
            let a = try evaluate(lhs)
            let b = try evaluate(rhs)
            let same: Bool
            if let x = scalarNumber(a), let y = scalarNumber(b) {
                same = x == y
            } else {
                switch (a, b) {
                case (.string(let x), .string(let y)): same = x == y
                case (.bool(let x), .bool(let y)): same = x == y
                case (.null, .null): same = true
                case (.null, _), (_, .null): same = false
                default:
                    throw ConditionEvaluationError(offset: at, message: "cannot compare \(a.typeName) with \(b.typeName)")
                }
            }
            return .bool(op == .equal ? same : !same)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let a = try evaluate(lhs)
            let b = try evaluate(rhs)
            if case .string(let x) = a, case .string(let y) = b {
                switch op {
                case .less: return .bool(x < y)
                case .lessOrEqual: return .bool(x <= y)
                case .greater: return .bool(x > y)
                default: return .bool(x >= y)
                }
            }
            let x = try number(a, at: at, op: op.rawValue)
            let y = try number(b, at: at, op: op.rawValue)
            switch op {
            case .less: return .bool(x < y)
            case .lessOrEqual: return .bool(x <= y)
            case .greater: return .bool(x > y)
            default: return .bool(x >= y)
            }
        case .plus, .minus, .times, .divide, .remainder:
            let x = try number(try evaluate(lhs), at: at, op: op.rawValue)
            let y = try number(try evaluate(rhs), at: at, op: op.rawValue)
            switch op {
            case .plus: return .number(x + y)
            case .minus: return .number(x - y)
            case .times: return .number(x * y)
            case .divide: return .number(x / y)
            default: return .number(x.truncatingRemainder(dividingBy: y))
            }
        case .not:
            throw ConditionEvaluationError(offset: at, message: "'!' takes one operand")
        }
    }

    private func scalarNumber(_ value: ConditionValue) -> Double? {
        if let x = value.numberValue { return x }
        if case .array(let items) = value, items.count == 1 { return items[0].numberValue }
        return nil
    }

    private func call(_ name: String, _ values: [ConditionValue], at: Int) throws(ConditionEvaluationError) -> ConditionValue {
        switch name {
        case "len":
            switch values[0] {
            case .array(let items): return .number(Double(items.count))
            case .map(let map): return .number(Double(map.count))
            case .string(let s): return .number(Double(s.count))
            case .null: return .number(0)
            default: throw ConditionEvaluationError(offset: at, message: "len() needs an array, a map or a string, got \(values[0].typeName)")
            }
        case "isNaN":
            return .bool(try number(values[0], at: at, op: name).isNaN)
        case "isInf":
            return .bool(try number(values[0], at: at, op: name).isInfinite)
        case "abs":
            return .number(abs(try number(values[0], at: at, op: name)))
        case "min", "max":
            var numbers: [Double] = []
            for value in values {
                if case .array(let items) = value {
                    for item in items { numbers.append(try number(item, at: at, op: name)) }
                } else {
                    numbers.append(try number(value, at: at, op: name))
                }
            }
            guard !numbers.isEmpty else { throw ConditionEvaluationError(offset: at, message: "\(name)() of nothing") }
            return .number(name == "min" ? numbers.min()! : numbers.max()!)
        case "asFloat":
            if case .string(let s) = values[0] {
                guard let x = Double(s.trimmingCharacters(in: .whitespaces)) else {
                    throw ConditionEvaluationError(offset: at, message: "asFloat('\(s)'): not a number")
                }
                return .number(x)
            }
            return .number(try number(values[0], at: at, op: name))
        default:  // asInt
            if case .string(let s) = values[0] {
                guard let x = Double(s.trimmingCharacters(in: .whitespaces)) else {
                    throw ConditionEvaluationError(offset: at, message: "asInt('\(s)'): not a number")
                }
                return .number(x.rounded(.towardZero))
            }
            return .number(try number(values[0], at: at, op: name).rounded(.towardZero))
        }
    }
}
