/// A byte-level JSON syntax check (RFC 8259) for the gateway's hot path: it reads the bytes once, builds
/// nothing and allocates nothing, and answers whether they are one well-formed JSON document.
///
/// What it accepts is what `JSONSerialization` accepts: objects, arrays, strings with the JSON escapes
/// (`\uXXXX` surrogates must come in pairs), numbers in JSON's grammar (no leading zeros, `+`, `NaN` or
/// hexadecimal; any size, as text), `true`, `false`, `null`, whitespace around tokens, well-formed UTF-8,
/// and at most ``maxDepth`` nested containers.
///
/// ``v2Request(_:stickyField:)`` also checks that the document is a V2 inference request (a top-level
/// object with an `inputs` array) and, in the same pass, finds the value of a sticky JSON field.
enum JSONSyntax {
    /// The deepest nesting of objects and arrays accepted.
    static let maxDepth = 512

    /// Whether `bytes` hold exactly one JSON value (a scalar at the top level counts).
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var reader = Reader(bytes)
        reader.skipWhitespace()
        guard reader.value(depth: 0) else { return false }
        reader.skipWhitespace()
        return reader.index == bytes.count
    }

    /// What ``v2Request(_:stickyField:)`` found.
    struct V2Request {
        /// Whether the bytes are a JSON object with an `inputs` array.
        var isValid: Bool
        /// Whether the bytes are a JSON object (with or without `inputs`).
        var isObject = false
        /// The sticky field's value as text (a string unescaped, a number or boolean as written), taken from
        /// the top level, else from the top-level `parameters` object.
        var stickyValue: String?
    }

    /// Checks a V2 inference request and reads one field of it.
    static func v2Request(_ bytes: UnsafeRawBufferPointer, stickyField: String? = nil) -> V2Request {
        var reader = Reader(bytes)
        var hasInputs = false
        var topLevel: Range<Int>?
        var inParameters: Range<Int>?
        reader.skipWhitespace()
        let valid = reader.object(depth: 0) { reader, key, depth in
            reader.skipWhitespace()
            let start = reader.index
            if Reader.equals(bytes, key, "inputs") {
                hasInputs = start < bytes.count && bytes[start] == UInt8(ascii: "[")
                return reader.value(depth: depth)
            }
            if let stickyField, Reader.equals(bytes, key, stickyField) {
                guard reader.value(depth: depth) else { return false }
                topLevel = start..<reader.index
                return true
            }
            if let stickyField, Reader.equals(bytes, key, "parameters"), start < bytes.count, bytes[start] == UInt8(ascii: "{") {
                return reader.object(depth: depth) { reader, key, depth in
                    reader.skipWhitespace()
                    let start = reader.index
                    guard reader.value(depth: depth) else { return false }
                    if Reader.equals(bytes, key, stickyField) { inParameters = start..<reader.index }
                    return true
                }
            }
            return reader.value(depth: depth)
        }
        reader.skipWhitespace()
        guard valid, reader.index == bytes.count else { return V2Request(isValid: false) }
        let sticky = topLevel.flatMap { Self.scalarText(bytes, $0) } ?? inParameters.flatMap { Self.scalarText(bytes, $0) }
        return V2Request(isValid: hasInputs, isObject: true, stickyValue: sticky)
    }

    /// The text of a scalar value of a valid document: a string unescaped, a number as written, a boolean
    /// as `1` or `0` (as `NSNumber` renders it); nil for `null`, objects and arrays.
    static func scalarText(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String? {
        guard !range.isEmpty else { return nil }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        switch slice[0] {
        case UInt8(ascii: "\""):
            return unescape(UnsafeRawBufferPointer(rebasing: slice[1..<(slice.count - 1)]))
        case UInt8(ascii: "t"): return "1"
        case UInt8(ascii: "f"): return "0"
        case UInt8(ascii: "n"), UInt8(ascii: "{"), UInt8(ascii: "["): return nil
        default: return String(decoding: slice, as: UTF8.self)
        }
    }

    /// The contents of a valid JSON string (without its quotes), escapes undone.
    static func unescape(_ raw: UnsafeRawBufferPointer) -> String {
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        var scalars = String.UnicodeScalarView()
        var bytes: [UInt8] = []
        func flush() {
            if !bytes.isEmpty {
                scalars.append(contentsOf: String(decoding: bytes, as: UTF8.self).unicodeScalars)
                bytes.removeAll(keepingCapacity: true)
            }
        }
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < raw.count else {
                bytes.append(byte)
                index += 1
                continue
            }
            let escape = raw[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "u"):
                var code = Reader.hex4(raw, index) ?? 0xFFFD
                index += 4
                if (0xD800..<0xDC00).contains(code), index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"),
                    let low = Reader.hex4(raw, index + 2), (0xDC00..<0xE000).contains(low)
                {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                flush()
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: bytes.append(escape)
            }
        }
        flush()
        return String(scalars)
    }

    /// A forward-only syntax reader; every method leaves `index` after what it read and returns false on
    /// malformed input.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(_ bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        /// Whether the raw (still escaped) key at `range` is `text`; keys with escapes are compared unescaped.
        static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
            let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
            if raw.contains(UInt8(ascii: "\\")) { return unescape(raw) == text }
            var text = text
            return text.withUTF8 { utf8 in utf8.count == raw.count && utf8.elementsEqual(raw) }
        }

        static func hex4(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for offset in 0..<4 {
                let byte = bytes[at + offset]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// One value of any kind, at nesting `depth` (its container's).
        mutating func value(depth: Int) -> Bool {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                return object(depth: depth) { reader, _, depth in
                    reader.skipWhitespace()
                    return reader.value(depth: depth)
                }
            case UInt8(ascii: "["):
                guard depth < JSONSyntax.maxDepth else { return false }
                index += 1
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return true
                }
                while true {
                    skipWhitespace()
                    guard value(depth: depth + 1) else { return false }
                    skipWhitespace()
                    guard index < bytes.count else { return false }
                    let next = bytes[index]
                    index += 1
                    if next == UInt8(ascii: "]") { return true }
                    guard next == UInt8(ascii: ",") else { return false }
                }
            case UInt8(ascii: "\""):
                return string() != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        /// An object; `field` gets the raw key range and the depth of the object's values, and must read the value.
        mutating func object(depth: Int, _ field: (inout Reader, Range<Int>, Int) -> Bool) -> Bool {
            guard depth < JSONSyntax.maxDepth, index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return false }
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return true
            }
            while true {
                skipWhitespace()
                guard let key = string() else { return false }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
                index += 1
                guard field(&self, key, depth + 1) else { return false }
                skipWhitespace()
                guard index < bytes.count else { return false }
                let next = bytes[index]
                index += 1
                if next == UInt8(ascii: "}") { return true }
                guard next == UInt8(ascii: ",") else { return false }
            }
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let pointer = word.utf8Start
            for offset in 0..<count where bytes[index + offset] != pointer[offset] { return false }
            index += count
            return true
        }

        private mutating func digits() -> Bool {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index > start
        }

        private mutating func number() -> Bool {
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { return false }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                guard digits() else { return false }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() else { return false }
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() else { return false }
            }
            return true
        }

        /// A string; returns the range of its contents (escapes left as they are).
        mutating func string() -> Range<Int>? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<(index - 1)
                case UInt8(ascii: "\\"):
                    guard index + 1 < bytes.count else { return nil }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                        UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 2
                    case UInt8(ascii: "u"):
                        guard let code = Self.hex4(bytes, index + 2) else { return nil }
                        index += 6
                        if (0xD800..<0xDC00).contains(code) {
                            guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                                let low = Self.hex4(bytes, index + 2), (0xDC00..<0xE000).contains(low)
                            else { return nil }
                            index += 6
                        } else if (0xDC00..<0xE000).contains(code) {
                            return nil
                        }
                    default: return nil
                    }
                case 0x00..<0x20:
                    return nil
                case 0x20..<0x80:
                    index += 1
                default:
                    guard utf8Sequence() else { return nil }
                }
            }
            return nil
        }

        /// One multi-byte UTF-8 sequence starting at `index` (no overlong forms, surrogates or values over U+10FFFF).
        private mutating func utf8Sequence() -> Bool {
            let lead = bytes[index]
            let count: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: count = 2
            case 0xE0:
                count = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: count = 3
            case 0xED:
                count = 3
                high = 0x9F
            case 0xF0:
                count = 4
                low = 0x90
            case 0xF1...0xF3: count = 4
            case 0xF4:
                count = 4
                high = 0x8F
            default: return false
            }
            guard index + count <= bytes.count else { return false }
            let second = bytes[index + 1]
            guard second >= low, second <= high else { return false }
            for offset in 2..<count where bytes[index + offset] & 0xC0 != 0x80 { return false }
            index += count
            return true
        }
    }
}
