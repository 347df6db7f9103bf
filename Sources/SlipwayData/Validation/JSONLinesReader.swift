import Foundation
import SlipwayCore

/// A streaming reader of JSON Lines: one JSON object per line (LF or CRLF), UTF-8 with an optional byte-order mark.
/// Blank lines are skipped; a line that is not a JSON object, or is longer than the limit, comes back as
/// ``JSONLinesRecord/malformed(line:reason:)`` and reading goes on after it.
struct JSONLinesReader {
    private var source: ByteSource
    private let maxRecordBytes: Int
    private let decoder = JSONDecoder()
    /// The line number of the next unconsumed byte (1-based).
    private(set) var line = 1

    /// Opens a file.
    /// - Throws: ``DataValidationError`` when the file is missing or unreadable.
    init(url: URL, maxRecordBytes: Int = 16 << 20, chunkSize: Int = 1 << 20) throws(DataValidationError) {
        source = try ByteSource(url: url, chunkSize: chunkSize)
        self.maxRecordBytes = max(16, maxRecordBytes)
        while source.available < 3, try source.refill() {}
        if source.available >= 3, source.buffer[source.position] == 0xEF, source.buffer[source.position + 1] == 0xBB,
            source.buffer[source.position + 2] == 0xBF
        {
            source.position += 3
        }
    }

    /// The next record, or nil at the end of the file.
    mutating func next() throws(DataValidationError) -> JSONLinesRecord? {
        while true {
            if source.available == 0 {
                guard try source.refill() else { return nil }
            }
            let start = line
            var end: Int
            var next: Int
            if let newline = source.find(UInt8(ascii: "\n"), from: source.position, to: source.buffer.count) {
                end = newline
                next = newline + 1
            } else if source.available > maxRecordBytes {
                // Skip the overlong line up to its end.
                var found = false
                while !found {
                    if let newline = source.find(UInt8(ascii: "\n"), from: source.position, to: source.buffer.count) {
                        source.position = newline + 1
                        found = true
                    } else {
                        source.position = source.buffer.count
                        if !(try source.refill()) { break }
                    }
                }
                line += 1
                return .malformed(line: start, reason: "the line is longer than \(maxRecordBytes) bytes")
            } else if try source.refill() {
                continue
            } else {
                end = source.buffer.count
                next = end
            }
            if end > source.position, source.buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let bytes = source.buffer[source.position..<end]
            source.position = next
            line += 1
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard String(validating: bytes, as: UTF8.self) != nil else {
                return .malformed(line: start, reason: "the line is not valid UTF-8; save the file as UTF-8")
            }
            let value: JSONValue
            do {
                value = try decoder.decode(JSONValue.self, from: Data(bytes))
            } catch {
                return .malformed(line: start, reason: "the line is not valid JSON (\(SchemaReader.describe(error)))")
            }
            guard case .object(let fields) = value else {
                return .malformed(line: start, reason: "the line holds \(value.typeName), not a JSON object")
            }
            return .object(line: start, fields)
        }
    }
}

/// One line of a JSON Lines file.
enum JSONLinesRecord: Sendable, Hashable {
    /// A JSON object and its line.
    case object(line: Int, [String: JSONValue])
    /// A line that cannot be used, and why.
    case malformed(line: Int, reason: String)
}
