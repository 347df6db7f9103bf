import Foundation
import Testing

@testable import SlipwayData

/// `slipway data validate` as a real child process: exit codes, --output, --json.
@Suite struct ValidationCLITests {
    static let example = validationRepositoryRoot().appendingPathComponent("examples/data/breast-cancer")
    static let schema = example.appendingPathComponent("data_schema.json").path
    static let train = example.appendingPathComponent("train.csv").path
    static let test = example.appendingPathComponent("test.csv").path

    @Test func passingDataExitsZeroAndWritesTheReportAtomically() async throws {
        let folder = try validationScratch("cli-pass")
        let output = folder.appendingPathComponent("report.json")
        let result = try await runValidationCLI(
            ["data", "validate", "--schema", Self.schema, "--data", Self.test, "--reference", Self.train, "--output", output.path], in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("result     PASS"))
        let report = try JSONDecoder().decode(ValidationReport.self, from: Data(contentsOf: output))
        #expect(report.summary.success)
        #expect(report.rows == 114)
        #expect(report.checks.allSatisfy { !$0.statistic.isEmpty })
        // Every check has the same keys, with null for what does not apply.
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])
        let checks = try #require(raw["checks"] as? [[String: Any]])
        let keys: Set<String> = ["check", "column", "statistic", "value", "threshold", "verdict", "message", "line"]
        #expect(checks.allSatisfy { Set($0.keys) == keys })
        #expect(raw["summary"] != nil)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func failedChecksExitOneWithTheFailuresFirst() async throws {
        let folder = try validationScratch("cli-fail")
        var text = try String(contentsOfFile: Self.test, encoding: .utf8)
        text += "1,2,3\n"
        text = text.replacingOccurrences(of: "\n13.82,", with: "\n-13.82,")
        let data = try writeValidationFile(folder, "bad.csv", text)
        let result = try await runValidationCLI(["data", "validate", "--schema", Self.schema, "--data", data.path], in: folder)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("FAILED CHECKS"))
        #expect(result.stdout.contains("mean_radius"))
        #expect(result.stdout.contains("malformed_row"))
        #expect(result.stdout.contains("result     FAIL"))

        let json = try await runValidationCLI(["data", "validate", "--schema", Self.schema, "--data", data.path, "--json"], in: folder)
        #expect(json.status == 1)
        let report = try JSONDecoder().decode(ValidationReport.self, from: Data(json.stdout.utf8))
        #expect(report.malformedRows == 1)
        let min = try #require(report.checks.first { $0.check == "min" && $0.column == "mean_radius" })
        #expect(min.verdict == .fail)
        #expect(min.value == -13.82)
        #expect(min.threshold == 0)
    }

    @Test func unusableInputExitsTwo() async throws {
        let folder = try validationScratch("cli-unusable")
        let badSchema = try writeValidationFile(
            folder, "schema.json", #"{"columns": [{"name": "a", "type": "float"}, {"name": 3, "type": "integer"}]}"#)
        let empty = try writeValidationFile(folder, "empty.csv", "")
        let cases: [[String]] = [
            ["--schema", Self.schema, "--data", folder.appendingPathComponent("missing.csv").path],
            ["--schema", folder.appendingPathComponent("missing.json").path, "--data", Self.test],
            ["--schema", badSchema.path, "--data", Self.test],
            ["--schema", Self.schema, "--data", Self.test, "--reference", folder.appendingPathComponent("missing.csv").path],
            ["--schema", Self.schema, "--data", empty.path],
            ["--schema", Self.schema, "--data", Self.test, "--format", "parquet"],
            ["--schema", Self.schema, "--data", Self.test, "--output", folder.appendingPathComponent("no/such/folder/report.json").path],
        ]
        for arguments in cases {
            let result = try await runValidationCLI(["data", "validate"] + arguments, in: folder)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("error:"), "\(arguments)")
        }
        let schemaErrors = try await runValidationCLI(["data", "validate", "--schema", badSchema.path, "--data", Self.test], in: folder)
        #expect(schemaErrors.stderr.contains("/columns/0/type"))
        #expect(schemaErrors.stderr.contains("/columns/1/name"))
        let json = try await runValidationCLI(["data", "validate", "--schema", badSchema.path, "--data", Self.test, "--json"], in: folder)
        #expect(json.status == 2)
        struct ErrorDocument: Decodable {
            struct Inner: Decodable {
                var code: String
                var issues: [SchemaIssue]?
            }
            var error: Inner
        }
        let document = try JSONDecoder().decode(ErrorDocument.self, from: Data(json.stdout.utf8))
        #expect(document.error.code == "invalid_argument")
        #expect(document.error.issues?.map(\.pointer) == ["/columns/0/type", "/columns/1/name"])
        // Nothing half-written.
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("no").path))
    }

    @Test func jsonLinesByExtensionOrFlag() async throws {
        let folder = try validationScratch("cli-jsonl")
        let schema = try writeValidationFile(folder, "s.json", #"{"columns": [{"name": "a", "type": "integer", "allowConstant": true}]}"#)
        let lines = "{\"a\": 1}\n{\"a\": 2}\n"
        let jsonl = try writeValidationFile(folder, "d.jsonl", lines)
        let txt = try writeValidationFile(folder, "d.txt", lines)
        #expect(try await runValidationCLI(["data", "validate", "--schema", schema.path, "--data", jsonl.path], in: folder).status == 0)
        #expect(try await runValidationCLI(["data", "validate", "--schema", schema.path, "--data", txt.path, "--format", "jsonl"], in: folder).status == 0)
        // Read as CSV, the same file has a header '{"a": 1}' and no column a.
        #expect(try await runValidationCLI(["data", "validate", "--schema", schema.path, "--data", txt.path], in: folder).status == 1)
    }
}
