import Foundation
import Testing

@testable import SlipwayData

@Suite struct ValidationJSONLinesTests {
    @Test func objectsBlankLinesAndMalformedLines() throws {
        let folder = try validationScratch("jsonl")
        var bytes = Data([0xEF, 0xBB, 0xBF])
        bytes.append(Data("{\"a\": 1, \"b\": \"x\"}\r\n\n  \n[1,2]\n{\"a\": tru}\n".utf8))
        bytes.append(contentsOf: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D, 0x0A])
        bytes.append(Data("{\"a\": null, \"c\": true}".utf8))
        var reader = try JSONLinesReader(url: try writeValidationFile(folder, "a.jsonl", bytes))
        var records: [JSONLinesRecord] = []
        while let record = try reader.next() { records.append(record) }
        #expect(records.count == 5)
        #expect(records.first == .object(line: 1, ["a": .number(1), "b": .string("x")]))
        var malformed: [Int: String] = [:]
        for case .malformed(let line, let reason) in records { malformed[line] = reason }
        #expect(malformed[4]?.contains("not a JSON object") == true)
        #expect(malformed[5]?.contains("not valid JSON") == true)
        #expect(malformed[6]?.contains("UTF-8") == true)
        #expect(records.last == .object(line: 7, ["a": .null, "c": .bool(true)]))
    }

    @Test func overlongLinesAreReportedAndSkipped() throws {
        let folder = try validationScratch("jsonl-long")
        let text = "{\"a\": \"" + String(repeating: "z", count: 3000) + "\"}\n{\"a\": 2}\n"
        var reader = try JSONLinesReader(url: try writeValidationFile(folder, "b.jsonl", text), maxRecordBytes: 500, chunkSize: 100)
        var records: [JSONLinesRecord] = []
        while let record = try reader.next() { records.append(record) }
        #expect(records.count == 2)
        if case .malformed(let line, let reason) = records.first {
            #expect(line == 1)
            #expect(reason.contains("500 bytes"))
        } else {
            Issue.record("expected a malformed first line")
        }
        #expect(records.last == .object(line: 2, ["a": .number(2)]))
    }

    @Test func validatesLikeCSV() throws {
        let folder = try validationScratch("jsonl-validate")
        let schema = try DataSchema.parse(
            Data(
                #"{"columns": [{"name": "n", "type": "integer", "min": 0}, {"name": "s", "type": "string", "categories": ["a", "b"]}, {"name": "f", "type": "boolean"}]}"#
                    .utf8))
        let text = """
            {"n": 1, "s": "a", "f": true}
            {"n": -1, "s": "b", "f": false}
            {"n": "2", "s": "c", "f": true}
            {"s": "a", "f": "yes"}
            not json
            """
        let report = try DataValidator().validate(data: try writeValidationFile(folder, "d.jsonl", text), schema: schema)
        #expect(report.format == "jsonl")
        #expect(report.rows == 4)
        #expect(report.malformedRows == 1)
        func check(_ name: String, _ column: String?) -> ValidationCheck? { report.checks.first { $0.check == name && $0.column == column } }
        #expect(check("type", "n")?.value == 1)
        #expect(check("type", "n")?.line == 3)
        #expect(check("min", "n")?.verdict == .fail)
        #expect(check("categories", "s")?.value == 1)
        #expect(check("type", "f")?.value == 1)
        #expect(check("malformed_row", nil)?.line == 5)
    }

    /// Random byte mutations of JSON Lines and CSV, validated end to end: a report or a clear error, never a crash or a hang.
    @Test(.timeLimit(.minutes(1))) func fuzzedFilesValidateOrFailCleanly() throws {
        let folder = try validationScratch("fuzz-validate")
        let schema = try DataSchema.parse(
            Data(
                #"{"columns": [{"name": "a", "type": "integer", "unique": true}, {"name": "b", "type": "string", "pattern": "[a-z]+"}, {"name": "c", "type": "datetime"}]}"#
                    .utf8))
        let seeds = [
            Array("{\"a\": 1, \"b\": \"x\", \"c\": \"2026-01-02\"}\n{\"a\": [1, {\"z\": null}], \"b\": \"\\u00e9\\n\"}\r\n\n{\"a\": 1e308}\n".utf8),
            Array("a,b,c\n1,x,2026-01-02\n\"2\",\"y\"\"\",2026-01-02T10:00Z\n3,,\n".utf8),
        ]
        var state: UInt64 = 99
        func random(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let alphabet: [UInt8] = [0x22, 0x2C, 0x0A, 0x0D, 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x5C, 0xFF, 0xC3, 0x00]
        var reports = 0
        for round in 0..<300 {
            let seed = seeds[round % 2]
            var bytes = seed
            for _ in 0..<(1 + random(5)) {
                let at = random(bytes.count + 1)
                switch random(3) {
                case 0 where at < bytes.count: bytes[at] = alphabet[random(alphabet.count)]
                case 1: bytes.insert(alphabet[random(alphabet.count)], at: at)
                default: if at < bytes.count { bytes.remove(at: at) }
                }
            }
            let url = try writeValidationFile(folder, "f\(round % 4).\(round % 2 == 0 ? "jsonl" : "csv")", Data(bytes))
            do {
                let report = try DataValidator().validate(data: url, schema: schema)
                #expect(report.summary.checks == report.checks.count)
                reports += 1
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
        #expect(reports > 100)
    }
}
