import Foundation

/// JSON text and Foundation objects to and from expression values.
extension ExpressionValue {
    /// The value as JSON. Compact (`{"a":1,"b":[true,null]}`) or, with `pretty`, indented by two
    /// spaces as `toJSON` prints it. Object keys keep their order; numbers print as in templates;
    /// NaN and infinities, which JSON cannot express, print as `null`.
    public func jsonText(pretty: Bool = false) -> String {
        var output = ""
        ExpressionJSONWriter(pretty: pretty).write(self, indent: 0, into: &output)
        return output
    }

    /// The value as compact JSON.
    public var jsonText: String { jsonText(pretty: false) }

    /// Parses JSON text into a value, keeping the order of object keys.
    /// - Throws: `ExpressionError` whose offset is the position (in Unicode scalars) of the problem.
    public init(parsingJSON text: String) throws(ExpressionError) {
        var parser = ExpressionJSONParser(text)
        self = try parser.parseDocument()
    }

    /// Converts a Foundation JSON object (the result of `JSONSerialization`: `NSNull`, numbers,
    /// booleans, strings, arrays and dictionaries) into a value; dictionary keys are sorted, since
    /// Foundation does not keep their order. Nil for anything else (dates, data, …).
    public init?(jsonObject: Any) {
        switch jsonObject {
        case is NSNull:
            self = .null
        case let flag as Bool where type(of: jsonObject) == Bool.self:
            self = .bool(flag)
        case let text as String:
            self = .string(text)
        case let number as NSNumber:
            if ExpressionValue.isBoolean(number) {
                self = .bool(number.boolValue)
            } else {
                self = .number(number.doubleValue)
            }
        case let array as [Any]:
            var values: [ExpressionValue] = []
            values.reserveCapacity(array.count)
            for element in array {
                guard let value = ExpressionValue(jsonObject: element) else { return nil }
                values.append(value)
            }
            self = .array(values)
        case let dictionary as [String: Any]:
            var entries: [(key: String, value: ExpressionValue)] = []
            for key in dictionary.keys.sorted() {
                guard let element = dictionary[key], let value = ExpressionValue(jsonObject: element) else { return nil }
                entries.append((key, value))
            }
            self = .object(ExpressionObject(entries))
        default:
            return nil
        }
    }

    /// An object of strings, keys sorted (e.g. `env` or a step's `outputs`).
    public init(strings: [String: String]) {
        self = .object(ExpressionObject(strings: strings))
    }

    /// The value as a Foundation JSON object (`NSNull`, `Bool`, `Double`, `String`, arrays,
    /// dictionaries), e.g. for `JSONSerialization`.
    public var jsonObject: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): value
        case .number(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.jsonObject)
        case .object(let object): Dictionary(object.entries.map { ($0.key, $0.value.jsonObject) }, uniquingKeysWith: { $1 })
        }
    }

    private static func isBoolean(_ number: NSNumber) -> Bool {
        #if canImport(Darwin)
            return CFGetTypeID(number) == CFBooleanGetTypeID()
        #else
            return String(cString: number.objCType) == "c"
        #endif
    }
}

extension ExpressionObject {
    /// An object of strings with keys in sorted order.
    public init(strings: [String: String]) {
        self.init(strings.keys.sorted().map { (key: $0, value: ExpressionValue.string(strings[$0] ?? "")) })
    }

    /// An object of strings with keys in the given order (a later duplicate key wins).
    public init(orderedStrings: [(name: String, value: String)]) {
        self.init(orderedStrings.map { (key: $0.name, value: ExpressionValue.string($0.value)) })
    }
}

/// Writes JSON the way GitHub's `toJSON` does: two-space indentation, `"key": value`.
struct ExpressionJSONWriter {
    var pretty: Bool

    func write(_ value: ExpressionValue, indent: Int, into output: inout String) {
        switch value {
        case .null:
            output += "null"
        case .bool(let flag):
            output += flag ? "true" : "false"
        case .number(let number):
            output += number.isFinite ? ExpressionNumber.format(number) : "null"
        case .string(let text):
            Self.writeString(text, into: &output)
        case .array(let values):
            guard !values.isEmpty else {
                output += "[]"
                return
            }
            output += "["
            for (index, element) in values.enumerated() {
                if index > 0 { output += "," }
                newline(indent + 1, into: &output)
                write(element, indent: indent + 1, into: &output)
            }
            newline(indent, into: &output)
            output += "]"
        case .object(let object):
            guard !object.entries.isEmpty else {
                output += "{}"
                return
            }
            output += "{"
            for (index, entry) in object.entries.enumerated() {
                if index > 0 { output += "," }
                newline(indent + 1, into: &output)
                Self.writeString(entry.key, into: &output)
                output += pretty ? ": " : ":"
                write(entry.value, indent: indent + 1, into: &output)
            }
            newline(indent, into: &output)
            output += "}"
        }
    }

    private func newline(_ indent: Int, into output: inout String) {
        guard pretty else { return }
        output += "\n"
        output += String(repeating: "  ", count: indent)
    }

    static func writeString(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}

/// A strict JSON parser (RFC 8259) that keeps object keys in order and bounds nesting depth.
struct ExpressionJSONParser {
    /// Deeper documents are refused rather than risking the stack.
    static let maximumDepth = 256

    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    mutating func parseDocument() throws(ExpressionError) -> ExpressionValue {
        skipWhitespace()
        guard position < scalars.count else { throw failure("the JSON text is empty") }
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == scalars.count else { throw failure("unexpected '\(scalars[position])' after the JSON value") }
        return value
    }

    private func failure(_ message: String) -> ExpressionError {
        ExpressionError(message: "\(message) (at position \(position + 1) of the JSON text)", offset: position)
    }

    private mutating func skipWhitespace() {
        while position < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[position]) { position += 1 }
    }

    private mutating func parseValue(depth: Int) throws(ExpressionError) -> ExpressionValue {
        guard depth < Self.maximumDepth else { throw failure("the JSON is nested more than \(Self.maximumDepth) levels deep") }
        skipWhitespace()
        guard position < scalars.count else { throw failure("the JSON text ends where a value was expected") }
        switch scalars[position] {
        case "{": return try parseObject(depth: depth)
        case "[": return try parseArray(depth: depth)
        case "\"": return .string(try parseString())
        case "t":
            try expectWord("true")
            return .bool(true)
        case "f":
            try expectWord("false")
            return .bool(false)
        case "n":
            try expectWord("null")
            return .null
        case "-", "0"..."9": return .number(try parseNumber())
        default: throw failure("unexpected '\(scalars[position])' where a JSON value was expected")
        }
    }

    private mutating func expectWord(_ word: String) throws(ExpressionError) {
        let start = position
        for expected in word.unicodeScalars {
            guard position < scalars.count, scalars[position] == expected else {
                position = start
                throw failure("invalid literal, expected '\(word)'")
            }
            position += 1
        }
    }

    private mutating func parseObject(depth: Int) throws(ExpressionError) -> ExpressionValue {
        position += 1
        var object = ExpressionObject()
        skipWhitespace()
        if position < scalars.count, scalars[position] == "}" {
            position += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard position < scalars.count, scalars[position] == "\"" else { throw failure("expected a quoted key in the JSON object") }
            let key = try parseString()
            skipWhitespace()
            guard position < scalars.count, scalars[position] == ":" else { throw failure("expected ':' after the key \"\(key)\"") }
            position += 1
            object[key] = try parseValue(depth: depth + 1)
            skipWhitespace()
            guard position < scalars.count else { throw failure("the JSON object is not closed with '}'") }
            if scalars[position] == "," {
                position += 1
            } else if scalars[position] == "}" {
                position += 1
                return .object(object)
            } else {
                throw failure("expected ',' or '}' in the JSON object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(ExpressionError) -> ExpressionValue {
        position += 1
        var values: [ExpressionValue] = []
        skipWhitespace()
        if position < scalars.count, scalars[position] == "]" {
            position += 1
            return .array(values)
        }
        while true {
            values.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard position < scalars.count else { throw failure("the JSON array is not closed with ']'") }
            if scalars[position] == "," {
                position += 1
            } else if scalars[position] == "]" {
                position += 1
                return .array(values)
            } else {
                throw failure("expected ',' or ']' in the JSON array")
            }
        }
    }

    private mutating func parseString() throws(ExpressionError) -> String {
        let start = position
        position += 1
        var result = String.UnicodeScalarView()
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            switch scalar {
            case "\"":
                return String(result)
            case "\\":
                guard position < scalars.count else { break }
                let escape = scalars[position]
                position += 1
                switch escape {
                case "\"": result.append("\"")
                case "\\": result.append("\\")
                case "/": result.append("/")
                case "b": result.append("\u{08}")
                case "f": result.append("\u{0C}")
                case "n": result.append("\n")
                case "r": result.append("\r")
                case "t": result.append("\t")
                case "u":
                    let high = try parseHex4()
                    if (0xD800..<0xDC00).contains(high), position + 1 < scalars.count, scalars[position] == "\\", scalars[position + 1] == "u" {
                        position += 2
                        let low = try parseHex4()
                        if (0xDC00..<0xE000).contains(low), let combined = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) {
                            result.append(combined)
                        } else {
                            result.append("\u{FFFD}")
                            result.append(Unicode.Scalar(low) ?? "\u{FFFD}")
                        }
                    } else {
                        result.append(Unicode.Scalar(high) ?? "\u{FFFD}")
                    }
                default:
                    position -= 2
                    throw failure("invalid escape '\\\(escape)' in a JSON string")
                }
            default:
                if scalar.value < 0x20 {
                    position -= 1
                    throw failure("a control character must be escaped in a JSON string")
                }
                result.append(scalar)
            }
        }
        position = start
        throw failure("the JSON string is not closed with '\"'")
    }

    private mutating func parseHex4() throws(ExpressionError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < scalars.count, scalars[position].isASCII, let digit = UInt32(String(scalars[position]), radix: 16) else {
                throw failure("expected four hexadecimal digits after '\\u'")
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }

    private mutating func parseNumber() throws(ExpressionError) -> Double {
        let start = position
        func isDigit(_ i: Int) -> Bool { i < scalars.count && ("0"..."9").contains(scalars[i]) }
        if scalars[position] == "-" { position += 1 }
        guard isDigit(position) else { throw failure("expected a digit in the JSON number") }
        if scalars[position] == "0" {
            position += 1
        } else {
            while isDigit(position) { position += 1 }
        }
        if position < scalars.count, scalars[position] == "." {
            position += 1
            guard isDigit(position) else { throw failure("expected a digit after '.' in the JSON number") }
            while isDigit(position) { position += 1 }
        }
        if position < scalars.count, scalars[position] == "e" || scalars[position] == "E" {
            position += 1
            if position < scalars.count, scalars[position] == "+" || scalars[position] == "-" { position += 1 }
            guard isDigit(position) else { throw failure("expected a digit in the exponent of the JSON number") }
            while isDigit(position) { position += 1 }
        }
        let text = String(String.UnicodeScalarView(scalars[start..<position]))
        guard let value = Double(text) else { throw failure("'\(text)' is not a number") }
        return value
    }
}
