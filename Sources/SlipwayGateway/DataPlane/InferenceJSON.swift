import Foundation

/// Reads the few parts of Open Inference Protocol (KServe V2) messages the prediction log keeps, straight
/// from the bytes and without building the document: the span of a request's `inputs`, and a response's
/// prediction and confidence.
///
/// The rules, in the words of the prediction log:
/// - **prediction**: the first scalar of the first output's `data` (descending into nested arrays), as
///   text: a string unescaped, a number or a boolean as the backend wrote it. `null` or no outputs: none.
/// - **confidence**: from the first output whose name contains `proba` (`probabilities`, `probability`,
///   `predict_proba`, `class_probabilities`…). With a shape of two or more dimensions its first row is the
///   last dimension's worth of values (or the first nested array), and the confidence is the row's
///   largest value. With one dimension (one probability per row, a binary model's positive class) the
///   first value `p` gives `max(p, 1 - p)`. Values outside [0, 1] are not probabilities: no confidence.
enum InferenceJSON {
    /// What a response predicted.
    struct Answer: Equatable {
        var prediction: String?
        var confidence: Double?
    }

    /// The byte offsets of the top-level `inputs` value of a request (relative to `bytes`), if it has one.
    static func inputsRange(in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var scanner = Scanner(bytes)
        var found: Range<Int>?
        _ = scanner.object { scanner, key in
            guard scanner.key(key, is: "inputs") else { return scanner.skipValue() }
            scanner.skipWhitespace()
            let start = scanner.index
            guard scanner.skipValue() else { return false }
            found = start..<scanner.index
            return false
        }
        return found
    }

    /// The prediction and confidence of a response body.
    static func answer(in bytes: UnsafeRawBufferPointer) -> Answer {
        var scanner = Scanner(bytes)
        var answer = Answer()
        _ = scanner.object { scanner, key in
            guard scanner.key(key, is: "outputs") else { return scanner.skipValue() }
            var position = 0
            var confident = false
            _ = scanner.array { scanner in
                defer { position += 1 }
                var output = Output()
                guard scanner.object({ scanner, key in output.read(key, from: &scanner) }) else { return false }
                var reader = Scanner(bytes)
                if position == 0, let data = output.data { answer.prediction = reader.firstScalar(in: data) }
                if !confident, output.isProbability, let data = output.data {
                    answer.confidence = reader.confidence(in: data, dimensions: output.dimensions, lastDimension: output.lastDimension)
                    confident = true
                }
                return !confident
            }
            return false
        }
        return answer
    }

    /// The parts of one output tensor the log reads; `data` is a byte range, read once the shape is known.
    struct Output {
        var isProbability = false
        /// How many dimensions the shape has, and the last one's size (what the confidence reads of it).
        var dimensions = 0
        var lastDimension = 0
        var data: Range<Int>?

        /// Whether a name contains `proba` in any ASCII case.
        static func mentionsProba(_ name: String) -> Bool {
            var name = name
            return name.withUTF8 { mentionsProba(UnsafeRawBufferPointer($0)) }
        }

        static func mentionsProba(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard bytes.count >= 5 else { return false }
            let word = ("proba" as StaticString).utf8Start
            for start in 0...(bytes.count - 5) {
                var matches = true
                for offset in 0..<5 where bytes[start + offset] | 0x20 != word[offset] {
                    matches = false
                    break
                }
                if matches { return true }
            }
            return false
        }

        mutating func read(_ key: Range<Int>, from scanner: inout Scanner) -> Bool {
            if scanner.key(key, is: "name") {
                scanner.skipWhitespace()
                // A name with no escapes is read where it lies; one with escapes is unescaped first.
                var probe = scanner
                if let raw = probe.rawString(), !UnsafeRawBufferPointer(rebasing: scanner.bytes[raw]).contains(UInt8(ascii: "\\")) {
                    scanner = probe
                    isProbability = Self.mentionsProba(UnsafeRawBufferPointer(rebasing: scanner.bytes[raw]))
                    return true
                }
                guard let name = scanner.string() else { return false }
                isProbability = Self.mentionsProba(name)
                return true
            }
            if scanner.key(key, is: "shape") {
                dimensions = 0
                return scanner.array { scanner in
                    guard let dimension = scanner.integer() else { return false }
                    dimensions += 1
                    lastDimension = dimension
                    return true
                }
            }
            if scanner.key(key, is: "data") {
                scanner.skipWhitespace()
                let start = scanner.index
                guard scanner.skipValue() else { return false }
                data = start..<scanner.index
                return true
            }
            return scanner.skipValue()
        }
    }

    /// A forward-only reader of JSON bytes. Every method leaves `index` after what it read and returns
    /// false (or nil) on malformed input; callers then give up, so a bad answer is logged without a prediction.
    struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(_ bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// Consumes `byte` (after whitespace) if it is next.
        mutating func take(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// Reads an object, calling `field` with the byte range of each key (escapes left as they are);
        /// `field` must consume the value and returns false to stop early (which also makes this return false).
        mutating func object(_ field: (inout Scanner, Range<Int>) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            if take(UInt8(ascii: "}")) { return true }
            repeat {
                skipWhitespace()
                guard let key = rawString(), take(UInt8(ascii: ":")) else { return false }
                guard field(&self, key) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        }

        /// Whether the key at `range` is `name`, byte for byte.
        func key(_ range: Range<Int>, is name: StaticString) -> Bool {
            guard range.count == name.utf8CodeUnitCount else { return false }
            return memcmp(bytes.baseAddress! + range.lowerBound, name.utf8Start, range.count) == 0
        }

        /// An integer as `Int(_:)` reads the scalar's text (an optional sign, then decimal digits); nil for anything else.
        mutating func integer() -> Int? {
            skipWhitespace()
            let start = index
            guard scalarEnd() else { return nil }
            var position = start
            var negative = false
            if position < index, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
                negative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            guard position < index else { return nil }
            var value = 0
            while position < index {
                let digit = bytes[position] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
                let (next, overflowNext) = negative ? times.subtractingReportingOverflow(Int(digit)) : times.addingReportingOverflow(Int(digit))
                guard !overflowTimes, !overflowNext else { return nil }
                value = next
                position += 1
            }
            return value
        }

        /// Reads an array, calling `element` for each element; it must consume the element.
        mutating func array(_ element: (inout Scanner) -> Bool) -> Bool {
            guard take(UInt8(ascii: "[")) else { return false }
            if take(UInt8(ascii: "]")) { return true }
            repeat {
                guard element(&self) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]"))
        }

        /// The range of a string's contents, escapes left as they are.
        mutating func rawString() -> Range<Int>? {
            guard index < bytes.count, bytes[index] == Self.quote else { return nil }
            index += 1
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case Self.quote:
                    index += 1
                    return start..<(index - 1)
                case Self.backslash: index += 2
                default: index += 1
                }
            }
            return nil
        }

        /// A string value, unescaped.
        mutating func string() -> String? {
            skipWhitespace()
            guard let range = rawString() else { return nil }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
            guard raw.contains(Self.backslash) else { return String(decoding: raw, as: UTF8.self) }
            let quoted = Data(bytes[(range.lowerBound - 1)..<(range.upperBound + 1)])
            return (try? JSONSerialization.jsonObject(with: quoted, options: .fragmentsAllowed)) as? String
        }

        /// A number, boolean or null as its text; nil for anything else.
        mutating func scalar() -> String? {
            skipWhitespace()
            let start = index
            guard scalarEnd() else { return nil }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }

        /// Moves past the bytes of a scalar; false when there are none or a string, array, object or colon starts.
        private mutating func scalarEnd() -> Bool {
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), 0x20, 0x09, 0x0A, 0x0D: break
                case Self.quote, UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ":"): return false
                default:
                    index += 1
                    continue
                }
                break
            }
            return index > start
        }

        /// Skips one value of any kind.
        mutating func skipValue() -> Bool {
            skipWhitespace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case Self.quote:
                return rawString() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    switch bytes[index] {
                    case Self.quote:
                        guard rawString() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default: break
                    }
                    index += 1
                }
                return false
            default:
                return scalar() != nil
            }
        }

        /// The first scalar of a value (descending into arrays) as text; nil for `null` or an empty array.
        mutating func firstScalar(in range: Range<Int>) -> String? {
            index = range.lowerBound
            while take(UInt8(ascii: "[")) {}
            skipWhitespace()
            guard index < range.upperBound else { return nil }
            if bytes[index] == Self.quote { return string() }
            guard let text = scalar(), text != "null" else { return nil }
            return text
        }

        /// The confidence of a probability output's first row (see ``InferenceJSON``).
        mutating func confidence(in range: Range<Int>, dimensions: Int, lastDimension: Int) -> Double? {
            index = range.lowerBound
            guard take(UInt8(ascii: "[")) else { return nil }
            var nested = false
            if take(UInt8(ascii: "[")) { nested = true }
            let width = nested ? Int.max : (dimensions >= 2 ? max(lastDimension, 1) : 1)
            var best = -Double.infinity
            var count = 0
            repeat {
                guard let text = scalar(), let value = Double(text), (0...1).contains(value) else { return nil }
                best = Swift.max(best, value)
                count += 1
            } while count < width && take(UInt8(ascii: ","))
            guard count > 0 else { return nil }
            return !nested && dimensions < 2 ? Swift.max(best, 1 - best) : best
        }
    }
}
