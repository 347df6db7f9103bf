/// GitHub's conversions between expression values: to numbers (for comparisons of different types),
/// to strings (for `format`, `join`, `contains` and templates), and case-insensitive string comparison.
extension ExpressionValue {
    /// The value as a number, with GitHub's rules: null → 0, true → 1, false → 0, a string parsed as a
    /// number after trimming whitespace (decimal with optional exponent, `0x` hex, `0o` octal, `0b`
    /// binary, `Infinity`; the empty string is 0; anything else is NaN), arrays and objects → NaN.
    public var numberValue: Double {
        switch self {
        case .null: 0
        case .bool(let value): value ? 1 : 0
        case .number(let value): value
        case .string(let text): ExpressionNumber.parse(text, trimming: true) ?? .nan
        case .array, .object: .nan
        }
    }

    /// The value as text, with GitHub's rules: null → empty, `true`/`false`, numbers in their shortest
    /// decimal form (`1`, `0.5`, `1e+21`), strings as they are, arrays and objects as indented JSON.
    public var stringValue: String {
        switch self {
        case .null: ""
        case .bool(let value): value ? "true" : "false"
        case .number(let value): ExpressionNumber.format(value)
        case .string(let text): text
        case .array, .object: jsonText(pretty: true)
        }
    }

    /// Whether this is a string, number, boolean or null (not an array or object).
    public var isPrimitive: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    /// The type's name as GitHub's documentation uses it, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// Number parsing and printing with the rules of GitHub's expression language.
enum ExpressionNumber {
    /// Parses a number literal or the text of a string being coerced to a number.
    /// Accepts `[+-]digits[.digits][e[+-]digits]`, `.5`, `5.`, `0x`/`0o`/`0b` integers (no sign),
    /// and `[+-]Infinity`. With `trimming`, surrounding whitespace is ignored and the empty string is 0.
    static func parse(_ text: String, trimming: Bool) -> Double? {
        var scalars = Substring(text).unicodeScalars[...]
        if trimming {
            while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
            while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
            if scalars.isEmpty { return 0 }
        }
        let body = String(String.UnicodeScalarView(scalars))
        guard !body.isEmpty else { return nil }
        switch body {
        case "Infinity", "+Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: break
        }
        let bytes = Array(body.utf8)
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            let radix: Int? =
                switch bytes[1] {
                case UInt8(ascii: "x"), UInt8(ascii: "X"): 16
                case UInt8(ascii: "o"), UInt8(ascii: "O"): 8
                case UInt8(ascii: "b"), UInt8(ascii: "B"): 2
                default: nil
                }
            if let radix {
                var value = 0.0
                for byte in bytes[2...] {
                    guard let digit = digitValue(byte), digit < radix else { return nil }
                    value = value * Double(radix) + Double(digit)
                }
                return value
            }
        }
        guard isDecimal(bytes) else { return nil }
        return Double(body)
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    /// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`
    private static func isDecimal(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9") }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        var mantissaDigits = 0
        while isDigit(index) {
            index += 1
            mantissaDigits += 1
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while isDigit(index) {
                index += 1
                mantissaDigits += 1
            }
        }
        guard mantissaDigits > 0 else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(index) else { return false }
            while isDigit(index) { index += 1 }
        }
        return index == bytes.count
    }

    /// Prints a number as GitHub does: integers without a decimal point, other values with the
    /// fewest digits that read back to the same number, plain notation from 1e-6 up to 1e21 and
    /// exponent notation (`1e+21`, `1.5e-7`) outside it; `NaN`, `Infinity`, `-Infinity`; -0 is `0`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return "0" }
        let sign = value < 0 ? "-" : ""
        // Swift's description is the shortest text that reads back to the same Double; take its
        // digits and decimal exponent and lay them out in the notation described above.
        let description = abs(value).description
        let parts = description.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let mantissaParts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integerPart = String(mantissaParts[0])
        let fractionPart = mantissaParts.count > 1 ? String(mantissaParts[1]) : ""
        var digits = Array(integerPart + fractionPart)
        var point = integerPart.count + exponent
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        if digits.isEmpty { return "0" }
        let count = digits.count
        let text: String
        if count <= point && point <= 21 {
            text = String(digits) + String(repeating: "0", count: point - count)
        } else if 0 < point && point <= 21 {
            text = String(digits[..<point]) + "." + String(digits[point...])
        } else if -6 < point && point <= 0 {
            text = "0." + String(repeating: "0", count: -point) + String(digits)
        } else {
            let shown = point - 1
            let exponentText = (shown < 0 ? "-" : "+") + String(abs(shown))
            text = count == 1 ? "\(digits[0])e\(exponentText)" : "\(digits[0]).\(String(digits[1...]))e\(exponentText)"
        }
        return sign + text
    }
}

/// Case-insensitive text comparison as GitHub does it: each character is upper-cased on its own
/// (simple case mapping), then the texts are compared by code point.
enum ExpressionText {
    /// The text's scalars, each mapped to its upper-case form when that is a single scalar.
    static func folded(_ text: String) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let value = scalar.value
                result.append(value >= 0x61 && value <= 0x7A ? Unicode.Scalar(UInt8(truncatingIfNeeded: value - 0x20)) : scalar)
                continue
            }
            let upper = scalar.properties.uppercaseMapping.unicodeScalars
            if upper.count == 1, let first = upper.first {
                result.append(first)
            } else {
                result.append(scalar)
            }
        }
        return result
    }

    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        folded(lhs) == folded(rhs)
    }

    /// -1, 0 or 1.
    static func compare(_ lhs: String, _ rhs: String) -> Int {
        let left = folded(lhs)
        let right = folded(rhs)
        for (l, r) in zip(left, right) where l != r {
            return l.value < r.value ? -1 : 1
        }
        return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
    }

    static func contains(_ text: String, _ part: String) -> Bool {
        let haystack = folded(text)
        let needle = folded(part)
        if needle.isEmpty { return true }
        guard needle.count <= haystack.count else { return false }
        let first = needle[0]
        var start = 0
        while start + needle.count <= haystack.count {
            if haystack[start] == first, haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }

    static func hasPrefix(_ text: String, _ prefix: String) -> Bool {
        let haystack = folded(text)
        let needle = folded(prefix)
        return haystack.starts(with: needle)
    }

    static func hasSuffix(_ text: String, _ suffix: String) -> Bool {
        let haystack = folded(text)
        let needle = folded(suffix)
        return haystack.reversed().starts(with: needle.reversed())
    }
}
