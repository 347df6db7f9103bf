import Foundation
import Testing

/// A JSON value read from a fixture file.
enum JSONValue: Decodable, Sendable, CustomStringConvertible {
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    var double: Double {
        switch self {
        case .number(let d): return d
        case .string("nan"): return .nan
        case .string("inf"): return .infinity
        case .string("-inf"): return -.infinity
        case .bool(let b): return b ? 1 : 0
        default: return .nan
        }
    }

    var int: Int { Int(double) }
    var string: String {
        if case .string(let s) = self { return s }
        return description
    }
    var bool: Bool {
        if case .bool(let b) = self { return b }
        if case .null = self { return false }
        return double != 0
    }
    var doubles: [Double] {
        if case .array(let a) = self { return a.map(\.double) }
        return []
    }
    var ints: [Int] { doubles.map { Int($0) } }
    var array: [JSONValue] {
        if case .array(let a) = self { return a }
        return []
    }
    subscript(key: String) -> JSONValue {
        if case .object(let o) = self { return o[key] ?? .null }
        return .null
    }
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    var description: String {
        switch self {
        case .number(let d): return "\(d)"
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return "\(b)"
        case .null: return "null"
        case .array(let a):
            if a.count > 8 { return "[\(a.prefix(8).map(\.description).joined(separator: ", ")), … (\(a.count))]" }
            return "[\(a.map(\.description).joined(separator: ", "))]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0): \(o[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

struct FixtureCase: Decodable, Sendable {
    let fn: String
    let args: JSONValue
    let expected: JSONValue
}

struct FixtureFile: Decodable, Sendable {
    let cases: [FixtureCase]
}

enum Fixtures {
    /// Loads `Fixtures/<name>.json` from the test bundle.
    static func load(_ name: String) throws -> [FixtureCase] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            Issue.record("missing fixture \(name).json")
            return []
        }
        return try JSONDecoder().decode(FixtureFile.self, from: Data(contentsOf: url)).cases
    }
}

/// Relative tolerance 1e-9; where the reference is exactly 0 (a reference that underflowed, e.g. gbstats'
/// `1 − cdf`), an absolute tolerance of 1e-12. `abs` also floors the relative test for tiny references.
func close(_ actual: Double, _ expected: Double, rel: Double = 1e-9, abs absTol: Double = 1e-12) -> Bool {
    if expected.isNaN { return actual.isNaN }
    if expected.isInfinite { return actual == expected }
    if !actual.isFinite { return false }
    if expected == 0 { return abs(actual) <= absTol }
    return abs(actual - expected) <= max(rel * abs(expected), 1e-300)
}

/// Compares and records a readable issue on mismatch; returns whether it matched.
@discardableResult
func expectClose(
    _ actual: Double, _ expected: JSONValue, _ label: @autoclosure () -> String,
    rel: Double = 1e-9, abs absTol: Double = 1e-12, sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
    let e = expected.double
    if close(actual, e, rel: rel, abs: absTol) { return true }
    let relErr = e == 0 ? Swift.abs(actual) : Swift.abs(actual - e) / Swift.abs(e)
    Issue.record("\(label()): got \(actual), expected \(e) (rel err \(relErr))", sourceLocation: sourceLocation)
    return false
}
