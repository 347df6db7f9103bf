/// Writes a JSON array of rows (arrays of strings, numbers, nulls and embedded JSON) for `json_each` bulk inserts.
///
/// Faster than encoding `[[Any]]` with Foundation, and the embedded lineage documents go in as they are.
struct JSONRowsWriter {
    private(set) var text = "["
    private var firstRow = true
    private var firstValue = true

    init(reservingCapacity capacity: Int = 0) {
        text.reserveCapacity(capacity)
    }

    mutating func beginRow() {
        if !firstRow { text += "," }
        firstRow = false
        firstValue = true
        text += "["
    }

    mutating func endRow() {
        text += "]"
    }

    mutating func string(_ value: String) {
        separate()
        Self.appendQuoted(value, to: &text)
    }

    mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// A JSON document, embedded as a value (not as a string).
    mutating func json(_ document: String) {
        separate()
        text += document
    }

    mutating func integer(_ value: Int64) {
        separate()
        text += String(value)
    }

    mutating func integer(_ value: Int64?) {
        if let value { integer(value) } else { null() }
    }

    /// A finite number (Swift prints doubles in a form that is valid JSON, e.g. `0.95`, `1e-05`).
    mutating func number(_ value: Double) {
        separate()
        text += value.description
    }

    mutating func null() {
        separate()
        text += "null"
    }

    func finished() -> String {
        text + "]"
    }

    private mutating func separate() {
        if !firstValue { text += "," }
        firstValue = false
    }

    static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            text += value
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        text.unicodeScalars.append(scalar)
                    }
                }
            }
        }
        text += "\""
    }
}
