import Foundation
import Testing

@testable import SlipwayData

@Suite struct ValidationSchemaTests {
    func parse(_ json: String) throws -> DataSchema { try DataSchema.parse(Data(json.utf8), path: "s.json") }

    func issues(_ json: String) -> [SchemaIssue] {
        do {
            _ = try DataSchema.parse(Data(json.utf8), path: "s.json")
            return []
        } catch {
            return error.schemaIssues
        }
    }

    @Test func everyErrorIsReportedWithItsPointer() {
        let found = issues(
            """
            {"version": 2, "colums": [], "rows": {"min": 10, "max": 5},
             "quality": {"maxMissingShare": 1.5, "allowConstantColumns": "no"},
             "drift": {"pValueThreshold": "low", "bogus": 1},
             "columns": [
               {"name": "a", "type": "float"},
               {"name": "b", "type": "string", "min": 1, "pattern": "(["},
               {"type": "integer"},
               {"name": "d", "type": "integer", "categories": [1, "x", 2.5], "drift": "sideways"},
               {"name": "b", "type": "number", "nullable": "yes", "min": 5, "max": 1},
               {"name": "e", "type": "boolean", "drift": "numerical", "uniq": true},
               "f"
             ]}
            """)
        let pointers = Set(found.map(\.pointer))
        let expected: Set<String> = [
            "/version", "/colums", "/rows/min", "/quality/maxMissingShare", "/quality/allowConstantColumns", "/drift/pValueThreshold", "/drift/bogus",
            "/columns/0/type", "/columns/1/min", "/columns/1/pattern", "/columns/2", "/columns/3/categories/1", "/columns/3/categories/2",
            "/columns/3/drift", "/columns/4/nullable", "/columns/4/min", "/columns/4/name", "/columns/5/drift", "/columns/5/uniq", "/columns/6",
        ]
        #expect(pointers == expected, "missing: \(expected.subtracting(pointers)), extra: \(pointers.subtracting(expected))")
        #expect(found.first { $0.pointer == "/columns/0/type" }?.message.contains("float") == true)
    }

    @Test func notJSONAndMissingColumnsAreErrors() {
        #expect(issues("{\"columns\": [").map(\.pointer) == [""])
        #expect(issues("[1]").map(\.pointer) == [""])
        #expect(issues("{}").map(\.pointer) == ["/columns"])
        #expect(issues("{\"columns\": []}").map(\.pointer) == ["/columns"])
        #expect(issues("{\"columns\": [{\"name\": \"a/b~c\", \"type\": \"string\", \"x\": 1}]}").map(\.pointer) == ["/columns/0/x"])
    }

    @Test func errorMessageNamesTheFileAndEveryPointer() {
        do {
            _ = try DataSchema.parse(Data(#"{"columns": [{"name": "a", "type": "float"}, {"name": "b"}]}"#.utf8), path: "data_schema.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("data_schema.json: /columns/0/type"))
            #expect(error.message.contains("data_schema.json: /columns/1"))
            #expect(error.schemaIssues.count == 2)
        }
    }

    @Test func defaultsAndDriftKinds() throws {
        let schema = try parse(
            """
            {"columns": [
              {"name": "n", "type": "number"}, {"name": "i", "type": "integer"}, {"name": "c", "type": "integer", "categories": [0, 1]},
              {"name": "s", "type": "string"}, {"name": "t", "type": "string", "categories": ["a"]}, {"name": "b", "type": "boolean"},
              {"name": "d", "type": "datetime"}, {"name": "x", "type": "number", "drift": "none"}
            ]}
            """)
        #expect(schema.columns.map(\.drift) == [.numerical, .numerical, .categorical, .none, .categorical, .categorical, .none, .none])
        #expect(schema.columns[2].categories == ["0", "1"])
        #expect(schema.drift.pValueThreshold == 0.05 && schema.drift.distanceThreshold == 0.1 && schema.drift.datasetDriftShare == 0.5)
        #expect(schema.drift.smallSampleLimit == 1000)
        #expect(schema.columns.allSatisfy { $0.nullable && !$0.unique })
    }

    @Test func breastCancerExampleSchemaPassesOnTheExampleData() throws {
        let folder = validationRepositoryRoot().appendingPathComponent("examples/data/breast-cancer")
        let schema = try DataSchema.load(from: folder.appendingPathComponent("data_schema.json"))
        #expect(schema.columns.count == 31)
        let report = try DataValidator().validate(
            data: folder.appendingPathComponent("test.csv"), schema: schema, reference: folder.appendingPathComponent("train.csv"))
        #expect(report.summary.failed == 0, "\(report.failedChecks)")
        #expect(report.rows == 114)
        #expect(report.referenceRows == 455)
        #expect(report.drift?.columns == 31)
    }

    @Test func missingSchemaFileIsNotFound() {
        #expect(throws: DataValidationError.self) { try DataSchema.load(from: URL(fileURLWithPath: "/nonexistent/schema.json")) }
    }
}

@Suite struct ValidationChecksTests {
    let schemaText = """
        {"rows": {"min": 2, "max": 100},
         "quality": {"maxMissingShare": 0.5, "maxDuplicateRowShare": 0.2},
         "columns": [
           {"name": "id", "type": "integer", "unique": true, "nullable": false},
           {"name": "age", "type": "integer", "min": 0, "max": 120},
           {"name": "score", "type": "number", "min": 0, "max": 1, "maxMissingShare": 0.35},
           {"name": "grade", "type": "string", "categories": ["a", "b", "c"]},
           {"name": "code", "type": "string", "pattern": "[A-Z]{2}-[0-9]+"},
           {"name": "flag", "type": "boolean"},
           {"name": "seen", "type": "datetime"}
         ]}
        """

    func run(_ csv: String, schema text: String? = nil) throws -> ValidationReport {
        let folder = try validationScratch("checks")
        let schema = try DataSchema.parse(Data((text ?? schemaText).utf8))
        return try DataValidator().validate(data: try writeValidationFile(folder, "d.csv", csv), schema: schema)
    }

    func verdicts(_ report: ValidationReport) -> [String: CheckVerdict] {
        var map: [String: CheckVerdict] = [:]
        for c in report.checks where c.check != "malformed_row" { map[c.check + (c.column.map { ":" + $0 } ?? "")] = c.verdict }
        return map
    }

    @Test func everyCheckPassesOnGoodData() throws {
        let report = try run(
            """
            id,age,score,grade,code,flag,seen
            1,30,0.5,a,AB-1,true,2026-11-27
            2,40,0.25,b,CD-22,FALSE,2026-11-27T10:15:30Z
            3,50,,c,EF-333,True,2024-02-29 23:59:59.5+01:00
            """)
        #expect(report.summary.failed == 0, "\(report.failedChecks)")
        #expect(report.summary.success)
        let v = verdicts(report)
        for key in [
            "present:id", "type:age", "nullable:id", "missing_share:score", "min:age", "max:score", "categories:grade", "pattern:code", "unique:id",
            "constant:flag", "min_rows", "max_rows", "duplicate_rows", "malformed_rows", "extra_columns",
        ] {
            #expect(v[key] == .pass, "\(key)")
        }
        let missing = report.checks.first { $0.check == "missing_share" && $0.column == "score" }
        #expect(missing?.value == 1.0 / 3.0)
        #expect(missing?.threshold == 0.35)
    }

    @Test func everyCheckFailsOnBadData() throws {
        let report = try run(
            """
            id,age,score,grade,code,flag,seen,extra
            1,30,1.5,z,ab-1,yes,2026-02-30,x
            1,-4,,a,AB-1,true,2026-11-27,x
            ,abc,,a,AB-1,true,nope,x
            1,30,1.5,z,ab-1,yes,2026-02-30,x
            1,30,1.5,z,ab-1,yes,2026-02-30,x
            """)
        let v = verdicts(report)
        for key in [
            "type:age", "nullable:id", "missing_share:score", "min:age", "max:score", "categories:grade", "pattern:code", "unique:id", "type:flag",
            "type:seen", "duplicate_rows",
        ] {
            #expect(v[key] == .fail, "\(key)")
        }
        #expect(v["extra_columns"] == .warn)
        let type = report.checks.first { $0.check == "type" && $0.column == "age" }
        #expect(type?.line == 4)
        #expect(type?.message.contains("'abc'") == true)
        let duplicates = report.checks.first { $0.check == "duplicate_rows" }
        #expect(duplicates?.value == 2.0 / 5.0)
        let unique = report.checks.first { $0.check == "unique" }
        #expect(unique?.value == 3)
        #expect(!report.summary.success)
    }

    @Test func rowBoundsConstantColumnsMissingAndExtraColumns() throws {
        let schema = """
            {"rows": {"min": 3}, "quality": {"failOnExtraColumns": true},
             "columns": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}, {"name": "c", "type": "string", "allowConstant": true}]}
            """
        let report = try run("a,c,z\n1,k,0\n1,k,0\n", schema: schema)
        let v = verdicts(report)
        #expect(v["min_rows"] == .fail)
        #expect(v["constant:a"] == .fail)
        #expect(v["constant:c"] == nil)
        #expect(v["present:b"] == .fail)
        #expect(v["extra_columns"] == .fail)
        let tooMany = try run("a,b,c\n1,x,y\n2,y,y\n3,z,y\n", schema: #"{"rows": {"max": 2}, "columns": [{"name": "a", "type": "integer"}]}"#)
        #expect(verdicts(tooMany)["max_rows"] == .fail)
    }

    @Test func malformedRowsAreFailedChecksUpToTheLimit() throws {
        var csv = "a,b\n"
        for i in 0..<130 { csv += i % 2 == 0 ? "\(i),x\n" : "\(i)\n" }
        let report = try run(csv, schema: #"{"columns": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string", "allowConstant": true}]}"#)
        #expect(report.malformedRows == 65)
        let rows = report.checks.filter { $0.check == "malformed_row" }
        #expect(rows.count == 65)
        #expect(rows.first?.line == 3)
        #expect(rows.allSatisfy { $0.verdict == .fail })
        let limited = try run(
            csv,
            schema: #"{"quality": {"malformedRowReportLimit": 10}, "columns": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}]}"#)
        #expect(limited.checks.filter { $0.check == "malformed_row" }.count == 10)
        let summary = limited.checks.first { $0.check == "malformed_rows" }
        #expect(summary?.value == 65)
        #expect(summary?.message.contains("55 more") == true)
    }

    @Test func uniquenessAndDuplicatesSpillToDiskWithTheSameCounts() throws {
        let folder = try validationScratch("spill")
        var csv = "id,v\n"
        for i in 0..<5000 { csv += "\(i % 3000),\(i % 3000)\n" }
        let url = try writeValidationFile(folder, "d.csv", csv)
        let schema = try DataSchema.parse(
            Data(#"{"quality": {"maxDuplicateRowShare": 1}, "columns": [{"name": "id", "type": "integer", "unique": true}]}"#.utf8))
        var options = DataValidator.Options()
        options.hashMemoryLimit = 64
        options.temporaryFolder = folder
        for validator in [DataValidator(), DataValidator(options: options)] {
            let report = try validator.validate(data: url, schema: schema)
            #expect(report.checks.first { $0.check == "unique" }?.value == 2000)
            #expect(report.checks.first { $0.check == "duplicate_rows" }?.value == 2000.0 / 5000.0)
        }
        // Spill files are removed afterwards.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("slipway-distinct") }
        #expect(left.isEmpty)
    }

    @Test func typeParsingRules() {
        #expect(CellParser.parse(.text("12"), as: .integer)?.label == "12")
        #expect(CellParser.parse(.text("1.0"), as: .integer) == nil)
        #expect(CellParser.parse(.text("1e3"), as: .number)?.label == "1000")
        #expect(CellParser.parse(.text("nan"), as: .number) == nil)
        #expect(CellParser.parse(.text("0x10"), as: .number) == nil)
        #expect(CellParser.parse(.text(" 1"), as: .number) == nil)
        #expect(CellParser.parse(.json(.number(3)), as: .integer)?.label == "3")
        #expect(CellParser.parse(.json(.string("3")), as: .integer) == nil)
        #expect(CellParser.parse(.text("TRUE"), as: .boolean)?.label == "true")
        #expect(CellParser.parse(.text("1"), as: .boolean) == nil)
        for good in ["2024-02-29", "2026-11-27T10:15", "2026-11-27T10:15:30.123456Z", "2026-11-27 10:15:30+0530"] {
            #expect(CellParser.isISO8601(good), "\(good)")
        }
        for bad in ["2023-02-29", "2026-13-01", "2026-11-27T24:00", "27/11/2026", "2026-11-27Z", "2026-11-27T10:15:30+5"] {
            #expect(!CellParser.isISO8601(bad), "\(bad)")
        }
    }
}
