import Foundation

extension ExpressionValue {
    /// An object of strings.
    static func strings(_ map: [String: String]) -> ExpressionValue {
        .object(ExpressionObject(map.sorted { $0.key < $1.key }.map { (key: $0.key, value: ExpressionValue.string($0.value)) }))
    }

    /// An object of strings in the given order.
    static func strings(ordered pairs: [(String, String)]) -> ExpressionValue {
        .object(ExpressionObject(pairs.map { (key: $0.0, value: ExpressionValue.string($0.1)) }))
    }

    /// The value as text, GitHub's way (for `timeout-minutes`, `continue-on-error`, labels).
    var text: String {
        switch self {
        case .null: ""
        case .bool(let value): value ? "true" : "false"
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): value
        case .array(let items): "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object: "{}"
        }
    }

    /// The value as JSON (for the matrix of a record).
    var json: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .number: text
        case .string(let value):
            String(decoding: (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8), as: UTF8.self)
        case .array(let items): "[" + items.map(\.json).joined(separator: ",") + "]"
        case .object(let object):
            "{" + object.entries.map { ExpressionValue.string($0.key).json + ":" + $0.value.json }.joined(separator: ",") + "}"
        }
    }
}

/// The safe base of the environment steps inherit from `slipway run`: the variables a shell and common tools need,
/// nothing else (no tokens or credentials of the invoking shell).
enum SafeEnvironment {
    static let names: Set<String> = [
        "PATH", "HOME", "LANG", "LANGUAGE", "TERM", "USER", "LOGNAME", "SHELL", "TMPDIR", "TZ", "PWD", "HOSTNAME", "SSL_CERT_FILE", "SSL_CERT_DIR",
    ]

    static func filter(_ environment: [String: String]) -> [String: String] {
        environment.filter { names.contains($0.key) || $0.key.hasPrefix("LC_") }
    }
}

/// Whether a condition calls a status function (`success()`, `failure()`, `always()`, `cancelled()`), outside strings.
func conditionUsesStatusFunction(_ condition: String?) -> Bool {
    guard let condition else { return false }
    var outsideStrings = ""
    var inString = false
    for char in condition {
        if char == "'" { inString.toggle() } else if !inString { outsideStrings.append(char) }
    }
    let lowered = outsideStrings.lowercased()
    for name in ["success", "failure", "always", "cancelled"] {
        var search = lowered.startIndex
        while let range = lowered.range(of: name, range: search..<lowered.endIndex) {
            let before = range.lowerBound == lowered.startIndex ? " " : lowered[lowered.index(before: range.lowerBound)]
            let after = lowered[range.upperBound...].drop { $0 == " " }.first
            if !(before.isLetter || before.isNumber || before == "_" || before == "." || before == "-"), after == "(" { return true }
            search = range.upperBound
        }
    }
    return false
}

/// A number of minutes written as a number or a numeric string.
func parseMinutes(_ value: ExpressionValue, field: String) throws(ExpressionError) -> Double {
    let number: Double?
    switch value {
    case .number(let n): number = n
    case .string(let s): number = Double(s.trimmingCharacters(in: .whitespaces))
    default: number = nil
    }
    guard let number, number.isFinite, number > 0 else {
        throw ExpressionError(message: "\(field) must be a positive number of minutes, not '\(value.text)'", offset: 0)
    }
    return number
}

/// `3` for 3.0, `0.05` otherwise.
func formatMinutes(_ minutes: Double) -> String {
    minutes == minutes.rounded() ? String(Int(minutes)) : String(minutes)
}
