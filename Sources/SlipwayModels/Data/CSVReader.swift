public import Foundation

/// Reads a CSV file in chunks, so a large file never has to fit in memory as text.
public enum CSVReader {
    /// Calls `body` with every record of the file, in order.
    ///
    /// - Parameters:
    ///   - url: the file to read.
    ///   - chunkSize: how many bytes to read at a time.
    ///   - body: called with each record; throwing from it stops the reading.
    /// - Throws: ``ModelError/csv(source:line:message:)`` for malformed input, ``ModelError/io(_:)`` when the file cannot be read.
    public static func forEachRecord(in url: URL, chunkSize: Int = 1 << 16, _ body: (CSVRecord) throws -> Void) throws {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw ModelError.io("cannot read \(url.path): \(Self.reason(error))")
        }
        defer { try? handle.close() }
        var parser = CSVParser(source: url.path)
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: chunkSize)
            } catch {
                throw ModelError.io("cannot read \(url.path): \(Self.reason(error))")
            }
            guard let chunk, !chunk.isEmpty else { break }
            for record in try parser.feed(chunk) { try body(record) }
        }
        for record in try parser.finish() { try body(record) }
    }

    /// Reads a whole file: its header and its data records.
    ///
    /// - Throws: ``ModelError`` when the file is empty, malformed, has duplicate column names, or a row
    ///   whose field count differs from the header's.
    public static func readTable(_ url: URL) throws -> (header: [String], records: [CSVRecord]) {
        var header: [String]?
        var records: [CSVRecord] = []
        try forEachRecord(in: url) { record in
            guard let header else {
                try validateHeader(record, source: url.path)
                header = record.fields
                return
            }
            guard record.fields.count == header.count else {
                throw ModelError.csv(
                    source: url.path, line: record.line,
                    message: "\(record.fields.count) fields, but the header has \(header.count); every row needs one value per column")
            }
            records.append(record)
        }
        guard let header else { throw ModelError.invalidData("\(url.path) is empty; it needs a header row and data rows") }
        return (header, records)
    }

    static func validateHeader(_ record: CSVRecord, source: String) throws(ModelError) {
        var seen = Set<String>()
        for (index, name) in record.fields.enumerated() {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else {
                throw ModelError.csv(source: source, line: record.line, message: "column \(index + 1) of the header has no name")
            }
            guard seen.insert(name).inserted else {
                throw ModelError.csv(source: source, line: record.line, message: "the header names column '\(name)' twice")
            }
        }
    }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? error.localizedDescription
    }
}
