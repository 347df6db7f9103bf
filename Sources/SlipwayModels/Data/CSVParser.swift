/// One CSV record: its fields and the physical line it starts on (1-based).
public struct CSVRecord: Sendable, Equatable {
    public var fields: [String]
    public var line: Int

    public init(fields: [String], line: Int) {
        self.fields = fields
        self.line = line
    }
}

/// An incremental RFC 4180 parser: feed it bytes in chunks of any size and it hands back the
/// records completed so far.
///
/// It accepts quoted fields with embedded commas, line breaks and doubled quotes, CRLF, LF or CR
/// line ends, and a leading UTF-8 byte order mark. Blank lines are skipped. A quote inside an
/// unquoted field, text after a closing quote, an unclosed quote and invalid UTF-8 are errors that
/// name the line.
///
/// ```swift
/// var parser = CSVParser(source: "train.csv")
/// var records = try parser.feed(Array("a,b\r\n1,\"x,y\"\r\n".utf8))
/// records += try parser.finish()
/// ```
public struct CSVParser: Sendable {
    /// How the input is named in error messages (usually its path).
    public let source: String
    /// The longest field accepted, in bytes: a guard against a file that is one endless quoted field.
    public var maxFieldBytes = 16 << 20
    /// The most fields a record may have.
    public var maxFields = 100_000

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }

    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var line = 1
    private var recordLine = 1
    private var recordStarted = false
    private var quoteLine = 1
    private var afterCR = false
    private var leading: [UInt8] = []
    private var pastBOM = false

    public init(source: String) {
        self.source = source
    }

    /// Parses the next chunk and returns the records it completed.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ModelError) -> [CSVRecord] {
        var records: [CSVRecord] = []
        for byte in bytes {
            if !pastBOM {
                leading.append(byte)
                if leading.count < 3 && [0xEF, 0xBB, 0xBF].starts(with: leading) { continue }
                pastBOM = true
                let pending = leading == [0xEF, 0xBB, 0xBF] ? [] : leading
                leading = []
                for b in pending { try consume(b, into: &records) }
                continue
            }
            try consume(byte, into: &records)
        }
        return records
    }

    /// Ends the input and returns the last record, if the input did not end with a line break.
    public mutating func finish() throws(ModelError) -> [CSVRecord] {
        var records: [CSVRecord] = []
        if !pastBOM {
            pastBOM = true
            let pending = leading
            leading = []
            for b in pending { try consume(b, into: &records) }
        }
        if state == .quoted {
            throw ModelError.csv(
                source: source, line: quoteLine, message: "the quoted field that starts on this line is never closed; add the closing \"")
        }
        if recordStarted { try endRecord(into: &records) }
        return records
    }

    /// Parses a whole text at once.
    public static func parse(_ text: String, source: String = "<text>") throws(ModelError) -> [CSVRecord] {
        var parser = CSVParser(source: source)
        return try parser.feed(text.utf8) + parser.finish()
    }

    private mutating func consume(_ byte: UInt8, into records: inout [CSVRecord]) throws(ModelError) {
        let quote: UInt8 = 0x22
        let comma: UInt8 = 0x2C
        let lf: UInt8 = 0x0A
        let cr: UInt8 = 0x0D
        if afterCR {
            afterCR = false
            if byte == lf { return }  // the LF of a CRLF that already ended the record
        }
        if !recordStarted {
            if byte == lf || byte == cr {
                // A blank line.
                line += 1
                afterCR = byte == cr
                return
            }
            recordStarted = true
            recordLine = line
        }
        switch state {
        case .fieldStart:
            switch byte {
            case quote:
                state = .quoted
                quoteLine = line
            case comma: try endField()
            case lf, cr: try endLine(byte, into: &records)
            default:
                try append(byte)
                state = .unquoted
            }
        case .unquoted:
            switch byte {
            case comma: try endField()
            case lf, cr: try endLine(byte, into: &records)
            case quote:
                throw ModelError.csv(
                    source: source, line: line,
                    message: "a quote inside an unquoted field (field \(fields.count + 1)); enclose the field in quotes and double the quote (\"\")")
            default: try append(byte)
            }
        case .quoted:
            if byte == quote {
                state = .quoteInQuoted
            } else {
                if byte == lf { line += 1 }
                try append(byte)
            }
        case .quoteInQuoted:
            switch byte {
            case quote:
                try append(quote)
                state = .quoted
            case comma: try endField()
            case lf, cr: try endLine(byte, into: &records)
            default:
                throw ModelError.csv(
                    source: source, line: line,
                    message: "text after the closing quote of field \(fields.count + 1); a quoted field must end at a comma or a line break")
            }
        }
    }

    private mutating func append(_ byte: UInt8) throws(ModelError) {
        guard field.count < maxFieldBytes else {
            throw ModelError.csv(source: source, line: line, message: "a field longer than \(maxFieldBytes) bytes; is a quote missing?")
        }
        field.append(byte)
    }

    private mutating func endField() throws(ModelError) {
        guard let text = String(validating: field, as: UTF8.self) else {
            throw ModelError.csv(source: source, line: line, message: "field \(fields.count + 1) is not valid UTF-8; save the file as UTF-8")
        }
        guard fields.count < maxFields else {
            throw ModelError.csv(source: source, line: line, message: "more than \(maxFields) fields in one record")
        }
        fields.append(text)
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    private mutating func endLine(_ byte: UInt8, into records: inout [CSVRecord]) throws(ModelError) {
        try endRecord(into: &records)
        line += 1
        afterCR = byte == 0x0D
    }

    private mutating func endRecord(into records: inout [CSVRecord]) throws(ModelError) {
        try endField()
        records.append(CSVRecord(fields: fields, line: recordLine))
        fields = []
        recordStarted = false
    }
}
