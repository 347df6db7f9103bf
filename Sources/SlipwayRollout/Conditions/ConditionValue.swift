/// A measurement's result as a condition sees it: a number, a map of numbers (`result.p99`), an
/// array (`result[0]`), a string, a boolean or null.
///
/// Builtin metrics return a number that also carries named fields (``measured(_:fields:)``):
/// `result < 0.02` compares the number, `result.stable` reads a field.
public enum ConditionValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case number(Double)
    case bool(Bool)
    case string(String)
    case array([ConditionValue])
    case map([String: ConditionValue])
    case null

    /// The key that holds the number of a measured map.
    public static let valueKey = "value"

    /// A number with named fields: `result` is `value`, `result.<name>` reads a field.
    public static func measured(_ value: Double, fields: [String: Double] = [:]) -> ConditionValue {
        var map = fields.mapValues { ConditionValue.number($0) }
        map[valueKey] = .number(value)
        return .map(map)
    }

    /// The number this value stands for: a number, or the `value` of a measured map.
    public var numberValue: Double? {
        switch self {
        case .number(let x): x
        case .map(let m): if case .number(let x)? = m[Self.valueKey] { x } else { nil }
        default: nil
        }
    }

    /// A short name of the type, for error messages.
    var typeName: String {
        switch self {
        case .number: "a number"
        case .bool: "a boolean"
        case .string: "a string"
        case .array: "an array"
        case .map(let m): m[Self.valueKey] != nil ? "a number" : "a map"
        case .null: "null"
        }
    }

    public var description: String {
        switch self {
        case .number(let x): Self.format(x)
        case .bool(let b): b ? "true" : "false"
        case .string(let s): "'\(s)'"
        case .array(let a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .map(let m):
            if let x = numberValue, m.count == 1 {
                Self.format(x)
            } else {
                "{" + m.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
            }
        case .null: "null"
        }
    }

    static func format(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "+Inf" : "-Inf" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return String(x)
    }

    /// Encoded as plain JSON; NaN and infinities, which JSON cannot hold, as the strings `NaN`, `+Inf`, `-Inf`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let x): if x.isFinite { try c.encode(x) } else { try c.encode(Self.format(x)) }
        case .bool(let b): try c.encode(b)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .map(let m): try c.encode(m)
        case .null: try c.encodeNil()
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let x = try? c.decode(Double.self) {
            self = .number(x)
        } else if let s = try? c.decode(String.self) {
            switch s {
            case "NaN": self = .number(.nan)
            case "+Inf": self = .number(.infinity)
            case "-Inf": self = .number(-.infinity)
            default: self = .string(s)
            }
        } else if let a = try? c.decode([ConditionValue].self) {
            self = .array(a)
        } else {
            self = .map(try c.decode([String: ConditionValue].self))
        }
    }
}
