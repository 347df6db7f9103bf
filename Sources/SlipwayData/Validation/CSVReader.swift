import Foundation
import SlipwayCore

/// A streaming reader of RFC 4180 CSV: a header row, comma-separated fields, fields in double quotes
/// (with doubled quotes inside and line breaks allowed), CRLF or LF line ends, UTF-8 with an optional byte-order mark.
///
/// It never stops at a bad record: a record with the wrong number of fields, a quote that is never closed,
/// a character after a closing quote, invalid UTF-8 or a record longer than the limit comes back as
/// ``CSVRecord/malformed(line:reason:)`` with the line it starts on, and reading goes on after it.
/// A quote inside an unquoted field is kept as a character (as most CSV writers and readers do).
struct CSVReader {
    private var source: ByteSource
    private let separator: UInt8
    private let maxRecordBytes: Int
    /// The line number of the next unconsumed byte (1-based).
    private(set) var line = 1
    /// The column names of the header row.
    private(set) var header: [String] = []

    private static let quote = UInt8(ascii: "\"")
    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")

    /// Opens a file and reads its header row.
    /// - Throws: ``DataValidationError`` when the file is missing, empty, or its header row is malformed or repeats a name.
    init(url: URL, separator: UInt8 = UInt8(ascii: ","), maxRecordBytes: Int = 16 << 20, chunkSize: Int = 1 << 20) throws(DataValidationError) {
        source = try ByteSource(url: url, chunkSize: chunkSize)
        self.separator = separator
        self.maxRecordBytes = max(16, maxRecordBytes)
        // Skip a UTF-8 byte-order mark.
        while source.available < 3, try source.refill() {}
        if source.available >= 3, source.buffer[source.position] == 0xEF, source.buffer[source.position + 1] == 0xBB,
            source.buffer[source.position + 2] == 0xBF
        {
            source.position += 3
        }
        guard let first = try nextRecord(expected: nil) else {
            throw DataValidationError(.invalidArgument, "\(url.path) is empty; a CSV file needs a header row naming its columns")
        }
        switch first {
        case .malformed(let line, let reason):
            throw DataValidationError(.invalidArgument, "the header row of \(url.path) is malformed (line \(line): \(reason)); fix the first line")
        case .fields(_, let names):
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted {
                throw DataValidationError(
                    .invalidArgument, "the header row of \(url.path) names the column '\(name)' twice; column names must be unique")
            }
            header = names
        }
    }

    /// The next record, or nil at the end of the file.
    mutating func next() throws(DataValidationError) -> CSVRecord? {
        try nextRecord(expected: header.count)
    }

    private mutating func nextRecord(expected: Int?) throws(DataValidationError) -> CSVRecord? {
        if source.available == 0 {
            guard try source.refill() else { return nil }
        }
        let start = line
        // Fast path: the whole line is buffered and has no quote, so it splits on separators.
        while true {
            if let newline = source.find(Self.lf, from: source.position, to: source.buffer.count) {
                guard source.find(Self.quote, from: source.position, to: newline) == nil else { break }
                var end = newline
                if end > source.position, source.buffer[end - 1] == Self.cr { end -= 1 }
                let record = split(from: source.position, to: end, line: start, expected: expected)
                source.position = newline + 1
                line += 1
                return record
            }
            if source.available > maxRecordBytes { break }
            if !(try source.refill()) {
                // The last line has no line break.
                guard source.find(Self.quote, from: source.position, to: source.buffer.count) == nil else { break }
                var end = source.buffer.count
                if end > source.position, source.buffer[end - 1] == Self.cr { end -= 1 }
                let record = split(from: source.position, to: end, line: start, expected: expected)
                source.position = source.buffer.count
                return record
            }
        }
        return try slowRecord(line: start, expected: expected)
    }

    private func split(from: Int, to: Int, line: Int, expected: Int?) -> CSVRecord {
        if to - from > maxRecordBytes { return .malformed(line: line, reason: "the record is longer than \(maxRecordBytes) bytes") }
        var fields: [String] = []
        if let expected { fields.reserveCapacity(expected) }
        var start = from
        var invalid: Int?
        source.buffer.withUnsafeBufferPointer { bytes in
            while true {
                let stop = source.find(separator, from: start, to: to) ?? to
                if let text = String(validating: bytes[start..<stop], as: UTF8.self) {
                    fields.append(text)
                } else {
                    if invalid == nil { invalid = fields.count + 1 }
                    fields.append("")
                }
                if stop >= to { break }
                start = stop + 1
            }
        }
        return finish(fields, line: line, expected: expected, error: invalid.map { "field \($0) is not valid UTF-8; save the file as UTF-8" })
    }

    private func finish(_ fields: [String], line: Int, expected: Int?, error: String?) -> CSVRecord {
        if let error { return .malformed(line: line, reason: error) }
        if let expected, fields.count != expected {
            return .malformed(line: line, reason: "\(fields.count) field(s) where the header has \(expected)")
        }
        return .fields(line: line, fields)
    }

    private enum State {
        case fieldStart
        case unquoted
        case quoted
        case quoteSeen
    }

    /// The general case, byte by byte: quoted fields, doubled quotes, line breaks inside quotes.
    private mutating func slowRecord(line start: Int, expected: Int?) throws(DataValidationError) -> CSVRecord {
        var fields: [String] = []
        var field: [UInt8] = []
        var state = State.fieldStart
        var error: String?
        var quoteLine = start
        var size = 0
        func endField() {
            if let text = String(validating: field, as: UTF8.self) {
                fields.append(text)
            } else {
                if error == nil { error = "field \(fields.count + 1) is not valid UTF-8; save the file as UTF-8" }
                fields.append("")
            }
            field.removeAll(keepingCapacity: true)
        }
        while true {
            guard let b = try source.next() else {
                if state == .quoted, error == nil {
                    error = "the quoted field opened on line \(quoteLine) is never closed; close it with a double quote"
                }
                endField()
                return finish(fields, line: start, expected: expected, error: error)
            }
            size += 1
            if size > maxRecordBytes {
                // Resynchronise at the next line break, whatever the quoting.
                if b != Self.lf {
                    while let c = try source.next(), c != Self.lf {}
                }
                line += 1
                let reason =
                    state == .quoted
                    ? "the quoted field opened on line \(quoteLine) runs past \(maxRecordBytes) bytes; it is probably never closed"
                    : "the record is longer than \(maxRecordBytes) bytes"
                return .malformed(line: start, reason: error ?? reason)
            }
            switch state {
            case .quoted:
                if b == Self.quote {
                    state = .quoteSeen
                } else {
                    if b == Self.lf { line += 1 }
                    field.append(b)
                }
                continue
            case .quoteSeen where b == Self.quote:
                field.append(Self.quote)
                state = .quoted
                continue
            default:
                break
            }
            // Outside quotes.
            if b == separator {
                endField()
                state = .fieldStart
            } else if b == Self.lf {
                line += 1
                endField()
                return finish(fields, line: start, expected: expected, error: error)
            } else if b == Self.cr, try source.peek() == Self.lf {
                _ = try source.next()
                line += 1
                endField()
                return finish(fields, line: start, expected: expected, error: error)
            } else if state == .fieldStart && b == Self.quote {
                state = .quoted
                quoteLine = line
            } else {
                if state == .quoteSeen, error == nil {
                    error = "a character follows the closing quote of field \(fields.count + 1); double a quote inside a quoted field (\"\")"
                }
                field.append(b)
                state = .unquoted
            }
        }
    }
}

/// One record of a CSV file.
enum CSVRecord: Sendable, Hashable {
    /// A well-formed record with as many fields as the header, and the line it starts on.
    case fields(line: Int, [String])
    /// A record that cannot be used, the line it starts on, and why.
    case malformed(line: Int, reason: String)
}
