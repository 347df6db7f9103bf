import Foundation
import SlipwayCore

/// Reads a stored lineage document in one pass over its UTF-8 bytes, several times faster than `JSONDecoder`.
///
/// A search answer materialises up to a page of versions, and decoding each one's lineage with Foundation's
/// decoder was most of that cost. The reader accepts exactly the JSON that decoder accepts for a ``Lineage``
/// (unknown keys are skipped, `null` counts as absent, dates are milliseconds or ISO 8601), and gives up with
/// nil on anything it does not read the same way: duplicate keys, integers written with a fraction or
/// exponent, numbers out of range, malformed text. The caller then decodes with `JSONDecoder`, which also
/// explains what is wrong, so the reader never changes a result, only its cost.
struct LineageReader: ~Copyable {
    /// Thrown internally when the reader gives up; never leaves this type.
    private struct Unreadable: Error {}

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The lineage in `text`, or nil when the document must be left to `JSONDecoder`.
    static func read(_ text: String) -> Lineage? {
        var text = text
        return text.withUTF8 { buffer in
            var reader = LineageReader(bytes: buffer)
            do {
                let lineage = try reader.lineage()
                reader.skipWhitespace()
                return reader.index == buffer.count ? lineage : nil
            } catch {
                return nil
            }
        }
    }

    // MARK: Lineage and its parts

    private mutating func lineage() throws -> Lineage {
        var lineage = Lineage()
        var seen: UInt32 = 0
        try object { reader, key in
            switch key {
            case "modelId": if try reader.present(0, &seen) { lineage.modelId = try reader.string() }
            case "git": if try reader.present(1, &seen) { lineage.git = try reader.git() }
            case "trainingData": if try reader.present(2, &seen) { lineage.trainingData = try reader.array { try $0.datasetReference() } }
            case "parameters": if try reader.present(3, &seen) { lineage.parameters = try reader.stringDictionary() }
            case "metrics": if try reader.present(4, &seen) { lineage.metrics = try reader.numberDictionary() }
            case "environment": if try reader.present(5, &seen) { lineage.environment = try reader.environment() }
            case "containerImage": if try reader.present(6, &seen) { lineage.containerImage = try reader.string() }
            case "trainedBy": if try reader.present(7, &seen) { lineage.trainedBy = try reader.string() }
            case "approvedBy": if try reader.present(8, &seen) { lineage.approvedBy = try reader.array { try $0.string() } }
            case "deployments": if try reader.present(9, &seen) { lineage.deployments = try reader.array { try $0.deployment() } }
            case "extras": if try reader.present(10, &seen) { lineage.extras = try reader.stringDictionary() }
            default: try reader.skipValue()
            }
        }
        return lineage
    }

    private mutating func git() throws -> GitInfo {
        var commit: String?
        var git = GitInfo(commit: "")
        var seen: UInt32 = 0
        try object { reader, key in
            switch key {
            case "commit": if try reader.present(0, &seen) { commit = try reader.string() }
            case "repository": if try reader.present(1, &seen) { git.repository = try reader.string() }
            case "branch": if try reader.present(2, &seen) { git.branch = try reader.string() }
            case "dirty": if try reader.present(3, &seen) { git.dirty = try reader.bool() }
            default: try reader.skipValue()
            }
        }
        guard let commit else { throw Unreadable() }
        git.commit = commit
        return git
    }

    private mutating func datasetReference() throws -> DatasetReference {
        var uri: String?
        var reference = DatasetReference(uri: "")
        var seen: UInt32 = 0
        try object { reader, key in
            switch key {
            case "uri": if try reader.present(0, &seen) { uri = try reader.string() }
            case "digest":
                if try reader.present(1, &seen) {
                    guard let digest = Digest(try reader.string()) else { throw Unreadable() }
                    reference.digest = digest
                }
            case "rows": if try reader.present(2, &seen) { reference.rows = try reader.integer() }
            case "dateFrom": if try reader.present(3, &seen) { reference.dateFrom = try reader.string() }
            case "dateTo": if try reader.present(4, &seen) { reference.dateTo = try reader.string() }
            default: try reader.skipValue()
            }
        }
        guard let uri else { throw Unreadable() }
        reference.uri = uri
        return reference
    }

    private mutating func environment() throws -> EnvironmentInfo {
        var environment = EnvironmentInfo()
        var seen: UInt32 = 0
        try object { reader, key in
            switch key {
            case "os": if try reader.present(0, &seen) { environment.os = try reader.string() }
            case "architecture": if try reader.present(1, &seen) { environment.architecture = try reader.string() }
            case "language": if try reader.present(2, &seen) { environment.language = try reader.string() }
            case "languageVersion": if try reader.present(3, &seen) { environment.languageVersion = try reader.string() }
            case "libraries": if try reader.present(4, &seen) { environment.libraries = try reader.stringDictionary() }
            case "cuda": if try reader.present(5, &seen) { environment.cuda = try reader.string() }
            case "hostname": if try reader.present(6, &seen) { environment.hostname = try reader.string() }
            default: try reader.skipValue()
            }
        }
        return environment
    }

    private mutating func deployment() throws -> DeploymentRecord {
        var alias: String?
        var from: Date?
        var until: Date?
        var seen: UInt32 = 0
        try object { reader, key in
            switch key {
            case "alias": if try reader.present(0, &seen) { alias = try reader.string() }
            case "from": if try reader.present(1, &seen) { from = try reader.date() }
            case "until": if try reader.present(2, &seen) { until = try reader.date() }
            default: try reader.skipValue()
            }
        }
        guard let alias, let from else { throw Unreadable() }
        return DeploymentRecord(alias: alias, from: from, until: until)
    }

    /// Marks the field numbered `bit` as read (giving up on a second one: the decoder's choice between
    /// duplicates is its own) and consumes a `null` value. True when a value other than `null` follows.
    private mutating func present(_ bit: Int, _ seen: inout UInt32) throws -> Bool {
        let flag = UInt32(1) << UInt32(bit)
        guard seen & flag == 0 else { throw Unreadable() }
        seen |= flag
        return try !null()
    }

    /// A date as `SlipwayJSON.decoder()` reads one: milliseconds since 1970, or ISO 8601 text.
    private mutating func date() throws -> Date {
        if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
            guard let date = Timestamp.parse(try string()) else { throw Unreadable() }
            return date
        }
        let date = Date(timeIntervalSince1970: try number() / 1000)
        guard Timestamp.range.contains(date) else { throw Unreadable() }
        return date
    }

    // MARK: Containers

    private mutating func stringDictionary() throws -> [String: String] {
        var dictionary: [String: String] = [:]
        try object { reader, key in
            guard dictionary.updateValue(try reader.string(), forKey: key) == nil else { throw Unreadable() }
        }
        return dictionary
    }

    private mutating func numberDictionary() throws -> [String: Double] {
        var dictionary: [String: Double] = [:]
        try object { reader, key in
            guard dictionary.updateValue(try reader.number(), forKey: key) == nil else { throw Unreadable() }
        }
        return dictionary
    }

    /// Calls `member` for each key of an object, with the reader at the key's value.
    private mutating func object(_ member: (inout LineageReader, String) throws -> Void) throws {
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try member(&self, key)
            skipWhitespace()
            let next = try peek()
            index += 1
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw Unreadable() }
        }
    }

    private mutating func array<Element>(_ element: (inout LineageReader) throws -> Element) throws -> [Element] {
        skipWhitespace()
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        var elements: [Element] = []
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return elements
        }
        while true {
            skipWhitespace()
            elements.append(try element(&self))
            skipWhitespace()
            let next = try peek()
            index += 1
            if next == UInt8(ascii: "]") { return elements }
            guard next == UInt8(ascii: ",") else { throw Unreadable() }
        }
    }

    /// Skips any JSON value, checking its syntax.
    private mutating func skipValue() throws {
        skipWhitespace()
        switch try peek() {
        case UInt8(ascii: "{"): try object { reader, _ in try reader.skipValue() }
        case UInt8(ascii: "["): _ = try array { try $0.skipValue() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): guard try null() else { throw Unreadable() }
        default: _ = try number()
        }
    }

    // MARK: Scalars

    /// Consumes `null` if it comes next.
    private mutating func null() throws -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    private mutating func bool() throws -> Bool {
        switch try peek() {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        default: throw Unreadable()
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw Unreadable() }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw Unreadable() }
        index += count
    }

    /// A JSON string; escapes are decoded, unescaped control characters and lone surrogates give up.
    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            if byte < 0x20 { throw Unreadable() }
            index += 1
        }
        throw Unreadable()
    }

    /// The rest of a string that holds escapes, from its first byte at `start`.
    private mutating func escapedString(from start: Int) throws -> String {
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escape = try peek()
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hexQuad()
                    if (0xD800..<0xDC00).contains(scalar) {
                        try literal("\\u")
                        let low = try hexQuad()
                        guard (0xDC00..<0xE000).contains(low) else { throw Unreadable() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Unreadable() }
                    utf8.append(contentsOf: String(Character(unicode)).utf8)
                default: throw Unreadable()
                }
            default:
                guard byte >= 0x20 else { throw Unreadable() }
                utf8.append(byte)
            }
        }
        throw Unreadable()
    }

    private mutating func hexQuad() throws -> UInt32 {
        guard bytes.count - index >= 4 else { throw Unreadable() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Unreadable()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A JSON number as a finite double (correctly rounded, as the decoder reads it).
    private mutating func number() throws -> Double {
        let start = index
        try skipNumber()
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw Unreadable() }
        return value
    }

    /// A JSON integer written without fraction or exponent that fits 64 bits.
    private mutating func integer() throws -> Int64 {
        let negative = try peek() == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var value: Int64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let digit = Int64(bytes[index] - UInt8(ascii: "0"))
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = shifted.addingReportingOverflow(negative ? -digit : digit)
            guard !overflow, !overflowSum else { throw Unreadable() }
            value = sum
            index += 1
        }
        let digits = index - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { throw Unreadable() }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) { throw Unreadable() }
        return value
    }

    /// Moves past a number, checking the JSON grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func skipNumber() throws {
        if try peek() == UInt8(ascii: "-") { index += 1 }
        let first = try peek()
        guard isDigit(first) else { throw Unreadable() }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(try peek()) else { throw Unreadable() }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            let sign = try peek()
            if sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard isDigit(try peek()) else { throw Unreadable() }
            skipDigits()
        }
    }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    // MARK: Bytes

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    private func peek() throws -> UInt8 {
        guard index < bytes.count else { throw Unreadable() }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard try peek() == byte else { throw Unreadable() }
        index += 1
    }
}
