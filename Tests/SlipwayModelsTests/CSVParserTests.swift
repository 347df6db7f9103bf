import Foundation
import SlipwayModels
import Testing

@Suite struct CSVParserTests {
    @Test func parsesQuotedFieldsEscapedQuotesAndLineBreaks() throws {
        let text = "name,note,value\r\n\"Smith, J\",\"said \"\"hi\"\"\",1\r\nplain,\"two\nlines\",2\r\n"
        let records = try CSVParser.parse(text)
        #expect(records.map(\.fields) == [["name", "note", "value"], ["Smith, J", "said \"hi\"", "1"], ["plain", "two\nlines", "2"]])
        #expect(records.map(\.line) == [1, 2, 3])
    }

    @Test func lineNumbersCountLinesInsideQuotedFields() throws {
        let records = try CSVParser.parse("a,b\n\"x\ny\nz\",1\nlast,2")
        #expect(records.map(\.line) == [1, 2, 5])
        #expect(records.last?.fields == ["last", "2"])
    }

    @Test func stripsTheByteOrderMarkAndSkipsBlankLines() throws {
        let records = try CSVParser.parse("\u{FEFF}a,b\n\n1,2\r\n\r\n3,4\n")
        #expect(records.map(\.fields) == [["a", "b"], ["1", "2"], ["3", "4"]])
        #expect(records.map(\.line) == [1, 3, 5])
    }

    @Test func emptyFieldsAndLoneCarriageReturns() throws {
        let records = try CSVParser.parse(",\r\"\",x\r,,")
        #expect(records.map(\.fields) == [["", ""], ["", "x"], ["", "", ""]])
    }

    @Test func byteOrderMarkSplitAcrossChunks() throws {
        var parser = CSVParser(source: "chunks")
        var records = try parser.feed([0xEF])
        records += try parser.feed([0xBB])
        records += try parser.feed([0xBF] + Array("a,b\n1,2".utf8))
        records += try parser.finish()
        #expect(records.map(\.fields) == [["a", "b"], ["1", "2"]])
    }

    @Test(arguments: [
        ("a,b\n1,x\"y\n", 2, "quote inside an unquoted field"),
        ("a,b\n\"1\"x,2\n", 2, "after the closing quote"),
        ("a,b\n1,2\n3,\"open\n4,5\n", 3, "never closed"),
    ])
    func malformedInputNamesTheLine(text: String, line: Int, phrase: String) {
        #expect {
            _ = try CSVParser.parse(text, source: "bad.csv")
        } throws: { error in
            guard case .csv(let source, let errorLine, let message) = error as? ModelError else { return false }
            return source == "bad.csv" && errorLine == line && message.contains(phrase)
        }
    }

    @Test func invalidUTF8IsRefusedWithItsLine() {
        var parser = CSVParser(source: "latin1.csv")
        #expect {
            _ = try parser.feed(Array("a,b\nok,1\n".utf8) + [0x63, 0x61, 0x66, 0xE9] + Array(",2\n".utf8))
        } throws: { error in
            guard case .csv(_, let line, let message) = error as? ModelError else { return false }
            return line == 3 && message.contains("UTF-8")
        }
    }

    @Test func raggedRowsAreRefusedWithTheirLine() throws {
        let file = try TemporaryFile(contents: "a,b,c\n1,2,3\n4,5\n")
        #expect {
            _ = try CSVReader.readTable(file.url)
        } throws: { error in
            guard case .csv(_, let line, let message) = error as? ModelError else { return false }
            return line == 3 && message.contains("2 fields, but the header has 3")
        }
    }

    @Test func duplicateHeaderNamesAreRefused() throws {
        let file = try TemporaryFile(contents: "a,b,a\n1,2,3\n")
        #expect(throws: ModelError.self) { _ = try CSVReader.readTable(file.url) }
    }

    @Test func readsAFileInSmallChunks() throws {
        let file = try TemporaryFile(contents: "\u{FEFF}x,\"y\"\r\n\"1,5\",\"a\"\"b\"\r\n2,c\r\n")
        var records: [CSVRecord] = []
        try CSVReader.forEachRecord(in: file.url, chunkSize: 3) { records.append($0) }
        #expect(records.map(\.fields) == [["x", "y"], ["1,5", "a\"b"], ["2", "c"]])
        #expect(records.map(\.line) == [1, 2, 3])
    }

    /// Random tables written the RFC 4180 way parse back to themselves, whatever the chunking.
    @Test func fuzzRoundTrip() throws {
        var random = TestRandom(seed: 42)
        let alphabet: [String] = ["a", "b", "1", " ", ",", "\"", "\n", "\r\n", "\r", "é", "🚢", "x\"y"]
        for _ in 0..<300 {
            let columns = random.int(1...5)
            let rows = random.int(1...6)
            var table: [[String]] = []
            for _ in 0..<rows {
                table.append(
                    (0..<columns).map { _ in
                        (0..<random.int(0...4)).map { _ in alphabet[random.int(0...(alphabet.count - 1))] }.joined()
                    })
            }
            // A record of one empty field would be a blank line, which the parser skips.
            if columns == 1 { table = table.map { $0[0].isEmpty ? ["z"] : $0 } }
            let terminator = random.int(0...1) == 0 ? "\n" : "\r\n"
            let text =
                table.map { row in row.map(Self.quote).joined(separator: ",") }.joined(separator: terminator)
                + (random.int(0...1) == 0 ? terminator : "")
            let bytes = Array(text.utf8)
            var parser = CSVParser(source: "fuzz")
            var records: [CSVRecord] = []
            var offset = 0
            while offset < bytes.count {
                let size = random.int(1...7)
                records += try parser.feed(bytes[offset..<min(offset + size, bytes.count)])
                offset += size
            }
            records += try parser.finish()
            #expect(records.map(\.fields) == table, "\(text.debugDescription)")
        }
    }

    /// Arbitrary bytes never crash the parser: they parse or fail with a line number in range.
    @Test func fuzzGarbage() {
        var random = TestRandom(seed: 7)
        let pieces: [[UInt8]] = [[0x22], [0x2C], [0x0A], [0x0D], [0x61], [0xEF, 0xBB, 0xBF], [0xC3], [0xA9], [0xFF], [0x00]]
        for _ in 0..<500 {
            var bytes: [UInt8] = []
            for _ in 0..<random.int(0...40) { bytes += pieces[random.int(0...(pieces.count - 1))] }
            var parser = CSVParser(source: "garbage")
            do {
                _ = try parser.feed(bytes) + parser.finish()
            } catch {
                guard case .csv(_, let line, _) = error else {
                    Issue.record("unexpected error \(error)")
                    continue
                }
                let lines = bytes.filter { $0 == 0x0A || $0 == 0x0D }.count + 1
                #expect(line >= 1 && line <= lines)
            }
        }
    }

    static func quote(_ field: String) -> String {
        if field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) || field.isEmpty {
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return field
    }
}
