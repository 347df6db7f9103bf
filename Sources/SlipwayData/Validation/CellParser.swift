import Foundation

/// A value read from a data file, before it is checked against its column's type.
enum RawCell {
    /// A CSV field (already known not to be a missing-value marker).
    case text(String)
    /// A JSON Lines value (not null).
    case json(JSONValue)
}

/// A value that passed its column's type check.
struct TypedValue {
    /// The canonical text: what categories, uniqueness, constancy and categorical drift compare.
    var label: String
    /// The numeric value of integer and number columns.
    var number: Double?
}

/// Type checks and canonical forms of cell values.
enum CellParser {
    /// The canonical text of a number: whole numbers below 10¹⁵ without a fraction (`3`), others as Swift prints them.
    static func canonical(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    /// The typed value of a cell, or nil when it is not a value of `type`.
    static func parse(_ cell: RawCell, as type: DataSchema.ColumnType) -> TypedValue? {
        switch (type, cell) {
        case (.integer, .text(let s)):
            guard let v = Int64(s) else { return nil }
            return TypedValue(label: String(v), number: Double(v))
        case (.integer, .json(.number(let d))):
            guard d == d.rounded(), abs(d) < 9.2e18 else { return nil }
            return TypedValue(label: String(Int64(d)), number: d)
        case (.number, .text(let s)):
            guard isDecimal(s), let d = Double(s), d.isFinite else { return nil }
            return TypedValue(label: canonical(d), number: d)
        case (.number, .json(.number(let d))):
            return d.isFinite ? TypedValue(label: canonical(d), number: d) : nil
        case (.string, .text(let s)), (.string, .json(.string(let s))):
            return TypedValue(label: s, number: nil)
        case (.boolean, .text(let s)):
            switch s.lowercased() {
            case "true": return TypedValue(label: "true", number: nil)
            case "false": return TypedValue(label: "false", number: nil)
            default: return nil
            }
        case (.boolean, .json(.bool(let b))):
            return TypedValue(label: b ? "true" : "false", number: nil)
        case (.datetime, .text(let s)), (.datetime, .json(.string(let s))):
            return isISO8601(s) ? TypedValue(label: s, number: nil) : nil
        default:
            return nil
        }
    }

    /// A short rendering of a bad value for messages.
    static func show(_ cell: RawCell) -> String {
        let text: String
        switch cell {
        case .text(let s): text = "'\(s)'"
        case .json(.string(let s)): text = "\"\(s)\""
        case .json(.number(let d)): text = "\(d)"
        case .json(.bool(let b)): text = "\(b)"
        case .json(let other): text = other.typeName
        }
        return text.count > 40 ? String(text.prefix(40)) + "…" : text
    }

    /// Decimal notation only: optional sign, digits with an optional point, optional exponent (no hex, no `nan`, no `inf`).
    static func isDecimal(_ s: String) -> Bool {
        var digits = 0
        var seenPoint = false
        var seenExponent = false
        var exponentDigits = 0
        var previous: UInt8 = 0
        for (i, c) in s.utf8.enumerated() {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if seenExponent { exponentDigits += 1 } else { digits += 1 }
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard i == 0 || previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E") else { return false }
            case UInt8(ascii: "."):
                guard !seenPoint, !seenExponent else { return false }
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard !seenExponent, digits > 0 else { return false }
                seenExponent = true
            default:
                return false
            }
            previous = c
        }
        return digits > 0 && (!seenExponent || exponentDigits > 0)
    }

    /// `YYYY-MM-DD`, optionally followed by `T` or a space, `hh:mm[:ss[.fraction]]` and `Z` or an offset `±hh:mm` / `±hhmm`.
    static func isISO8601(_ s: String) -> Bool {
        let b = Array(s.utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var v = 0
            for k in i..<(i + width) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            i += width
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < b.count, let ascii = c.asciiValue, b[i] == ascii else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else { return false }
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= days else { return false }
        if i == b.count { return true }
        guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") else { return false }
        i += 1
        guard let hour = number(2), hour < 24, expect(":"), let minute = number(2), minute < 60 else { return false }
        if i < b.count, b[i] == UInt8(ascii: ":") {
            i += 1
            guard let second = number(2), second <= 60 else { return false }
            if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
                i += 1
                let start = i
                while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
                guard i > start else { return false }
            }
        }
        if i == b.count { return true }
        if b[i] == UInt8(ascii: "Z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return false }
        i += 1
        guard let offsetHours = number(2), offsetHours < 24 else { return false }
        if i < b.count, b[i] == UInt8(ascii: ":") { i += 1 }
        guard let offsetMinutes = number(2), offsetMinutes < 60 else { return false }
        return i == b.count
    }
}
