import Foundation
import Testing

@testable import SlipwayData

@Suite struct ValidationCSVTests {
    func fields(_ records: [CSVRecord]) -> [[String]] {
        records.compactMap { if case .fields(_, let f) = $0 { f } else { nil } }
    }

    @Test func quotedFieldsDoubledQuotesAndEmbeddedNewlines() throws {
        let folder = try validationScratch("csv-quotes")
        let url = try writeValidationFile(folder, "a.csv", "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"line1\nline2\r\nline3\"\r\nplain,,\"\"\r\n4,5,6")
        let (header, records) = try readValidationCSV(url)
        #expect(header == ["a", "b", "c"])
        #expect(fields(records) == [["x, y", "say \"hi\"", "line1\nline2\r\nline3"], ["plain", "", ""], ["4", "5", "6"]])
        // Line numbers count the physical lines, embedded ones included.
        #expect(records.map { if case .fields(let line, _) = $0 { line } else { -1 } } == [2, 5, 6])
    }

    @Test func byteOrderMarkLineEndsAndUnicode() throws {
        let folder = try validationScratch("csv-bom")
        var bytes = Data([0xEF, 0xBB, 0xBF])
        bytes.append(Data("naïve,ключ\n\"日本\",é\n".utf8))
        let (header, records) = try readValidationCSV(try writeValidationFile(folder, "b.csv", bytes))
        #expect(header == ["naïve", "ключ"])
        #expect(fields(records) == [["日本", "é"]])
    }

    @Test func malformedRecordsAreReportedWithLinesAndReadingGoesOn() throws {
        let folder = try validationScratch("csv-bad")
        var bytes = Data("a,b\n1,2\n1,2,3\n\"x\"y,2\n".utf8)
        bytes.append(contentsOf: [0x66, 0xFF, 0xFE, 0x2C, 0x32, 0x0A])  // f\xFF\xFE,2
        bytes.append(Data("5,6\n7,\"never closed\n8,9\n".utf8))
        let (_, records) = try readValidationCSV(try writeValidationFile(folder, "c.csv", bytes))
        var malformed: [Int: String] = [:]
        for case .malformed(let line, let reason) in records { malformed[line] = reason }
        #expect(fields(records) == [["1", "2"], ["5", "6"]])
        #expect(malformed[3]?.contains("3 field(s) where the header has 2") == true)
        #expect(malformed[4]?.contains("follows the closing quote") == true)
        #expect(malformed[5]?.contains("UTF-8") == true)
        #expect(malformed[7]?.contains("never closed") == true)
        #expect(malformed.count == 4)
    }

    @Test func overlongRecordsAreCutAndReadingResynchronises() throws {
        let folder = try validationScratch("csv-long")
        let text = "a,b\n\"" + String(repeating: "z", count: 5000) + "\n1,2\n3,4\n"
        let (_, records) = try readValidationCSV(try writeValidationFile(folder, "d.csv", text), maxRecordBytes: 1000, chunkSize: 64)
        guard case .malformed(let line, let reason) = records.first else {
            Issue.record("expected a malformed record first, got \(records)")
            return
        }
        #expect(line == 2)
        #expect(reason.contains("1000 bytes"))
        #expect(fields(records) == [["1", "2"], ["3", "4"]])
    }

    @Test func smallChunksGiveTheSameRecords() throws {
        let folder = try validationScratch("csv-chunks")
        let text = "a,b,c\r\n\"q,\"\"1\"\"\r\nx\",2,3\r\n4,5,6\r\n,,\r\n\"a\",\"b\",\"c\""
        let url = try writeValidationFile(folder, "e.csv", text)
        let big = try readValidationCSV(url)
        for chunk in [1, 2, 3, 7] {
            let small = try readValidationCSV(url, chunkSize: chunk)
            #expect(small.header == big.header)
            #expect(small.records == big.records, "chunk size \(chunk)")
        }
    }

    @Test func unusableHeadersThrow() throws {
        let folder = try validationScratch("csv-header")
        #expect(throws: DataValidationError.self) { try readValidationCSV(try writeValidationFile(folder, "empty.csv", "")) }
        #expect(throws: DataValidationError.self) { try readValidationCSV(try writeValidationFile(folder, "dup.csv", "a,a\n1,2\n")) }
        #expect(throws: DataValidationError.self) { try readValidationCSV(try writeValidationFile(folder, "open.csv", "\"a,b\n1,2\n")) }
        #expect(throws: DataValidationError.self) { try readValidationCSV(folder.appendingPathComponent("missing.csv")) }
        #expect(throws: DataValidationError.self) { try readValidationCSV(folder) }
    }

    /// Random byte mutations of a tricky file: every run ends with rows or malformed records, never a crash or a hang.
    @Test(.timeLimit(.minutes(1))) func fuzzedInputsNeverCrash() throws {
        let folder = try validationScratch("csv-fuzz")
        let seed = Array("id,name,note\r\n1,\"a, \"\"b\"\"\",\"x\ny\"\n2,plain,\n3,\"é\",\"\"\n".utf8)
        var state: UInt64 = 0x1234_5678
        func random(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let alphabet: [UInt8] = [0x22, 0x2C, 0x0A, 0x0D, 0xFF, 0xC3, 0x00, 0x61, 0xEF, 0xBB, 0xBF]
        for round in 0..<400 {
            var bytes = seed
            for _ in 0..<(1 + random(6)) {
                switch random(3) {
                case 0 where !bytes.isEmpty: bytes[random(bytes.count)] = random(2) == 0 ? alphabet[random(alphabet.count)] : UInt8(random(256))
                case 1: bytes.insert(alphabet[random(alphabet.count)], at: random(bytes.count + 1))
                default: if !bytes.isEmpty { bytes.remove(at: random(bytes.count)) }
                }
            }
            let url = try writeValidationFile(folder, "fuzz-\(round % 8).csv", Data(bytes))
            do {
                let (header, records) = try readValidationCSV(url, maxRecordBytes: 64, chunkSize: 1 + random(16))
                for case .fields(_, let f) in records { #expect(f.count == header.count) }
            } catch is DataValidationError {
                // An unusable header is a clear error, which is fine.
            }
        }
    }
}
