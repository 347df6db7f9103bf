import Foundation
import SlipwayStats
import Testing

@testable import SlipwayData

@Suite struct ValidationDriftTests {
    static let folder = validationRepositoryRoot().appendingPathComponent("examples/data/breast-cancer")
    static let train = folder.appendingPathComponent("train.csv")
    static let test = folder.appendingPathComponent("test.csv")

    /// The numeric values of a column of a CSV file with a simple layout (no quotes).
    func column(_ url: URL, _ name: String) throws -> [String] {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        let index = try #require(lines.first?.firstIndex { $0 == name })
        return lines.dropFirst().map { String($0[index]) }
    }

    func schema(_ extra: String = "") throws -> DataSchema {
        try DataSchema.parse(
            Data(
                """
                {"drift": {\(extra)}, "columns": [
                  {"name": "mean_radius", "type": "number"}, {"name": "mean_texture", "type": "number"},
                  {"name": "worst_area", "type": "number"}, {"name": "smoothness_error", "type": "number"},
                  {"name": "target", "type": "integer", "categories": [0, 1]}]}
                """.utf8))
    }

    func driftValue(_ report: ValidationReport, _ column: String) -> (statistic: String, value: Double?) {
        let check = report.checks.first { $0.check == "drift" && $0.column == column }
        return (check?.statistic ?? "", check?.value)
    }

    struct Fixture: Decodable {
        struct Case: Decodable {
            var column: String
            var statistic: String
            var value: Double
        }
        var cases: [Case]
    }

    func scipy(_ column: String, _ statistic: String) throws -> Double {
        let url = validationRepositoryRoot().appendingPathComponent("tools/data_fixtures/drift_fixtures.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        return try #require(fixture.cases.first { $0.column == column && $0.statistic == statistic }).value
    }

    @Test func smallReferenceUsesKSAndZTestLikeSlipwayStatsAndScipy() throws {
        let report = try DataValidator().validate(data: Self.test, schema: try schema(), reference: Self.train)
        for name in ["mean_radius", "mean_texture", "worst_area", "smoothness_error"] {
            let r = try column(Self.train, name).map { try #require(Double($0)) }
            let c = try column(Self.test, name).map { try #require(Double($0)) }
            let direct = try ksTwoSample(r, c).pValue
            let (statistic, value) = driftValue(report, name)
            #expect(statistic == "ks_p_value")
            #expect(value == direct)
            #expect(abs(direct - (try scipy(name, "ks_p_value"))) < 1e-9)
        }
        let labels = DriftDetector.Column.categorical(try column(Self.train, "target"))
        let current = DriftDetector.Column.categorical(try column(Self.test, "target"))
        let direct = try DriftDetector().detectColumn(name: "target", reference: labels, current: current)
        #expect(direct.method == .proportionZTest)
        let (statistic, value) = driftValue(report, "target")
        #expect(statistic == "z_test_p_value")
        #expect(value == direct.score)
        #expect(abs(direct.score - (try scipy("target", "z_test_p_value"))) < 1e-9)
    }

    @Test func largeReferenceUsesWassersteinAndJensenShannon() throws {
        // A low small-sample limit makes the 455-row reference "large", as a reference above 1000 rows would be.
        let report = try DataValidator().validate(data: Self.test, schema: try schema("\"smallSampleLimit\": 100"), reference: Self.train)
        for name in ["mean_radius", "mean_texture", "worst_area", "smoothness_error"] {
            let r = try column(Self.train, name).map { try #require(Double($0)) }
            let c = try column(Self.test, name).map { try #require(Double($0)) }
            let direct = try wassersteinNormed(reference: r, current: c)
            let (statistic, value) = driftValue(report, name)
            #expect(statistic == "wasserstein_distance_norm")
            #expect(value == direct)
            #expect(abs(direct - (try scipy(name, "wasserstein_distance_norm"))) < 1e-9)
        }
        let detector = DriftDetector(smallSampleLimit: 100)
        let direct = try detector.detectColumn(
            name: "target", reference: .categorical(try column(Self.train, "target")), current: .categorical(try column(Self.test, "target")))
        #expect(direct.method == .jensenShannon)
        #expect(driftValue(report, "target").value == direct.score)
        #expect(abs(direct.score - (try scipy("target", "jensenshannon_distance"))) < 1e-9)
        // The normalised Wasserstein distances of mean_radius and smoothness_error are just above 0.1: two drifted columns of five.
        #expect(report.drift?.driftedColumns == 2)
        #expect(report.checks.first { $0.check == "drift" && $0.column == "mean_radius" }?.verdict == .warn)
        #expect(report.checks.first { $0.check == "drift" && $0.column == "mean_texture" }?.verdict == .pass)
        #expect(report.checks.first { $0.check == "dataset_drift" }?.verdict == .pass)
    }

    @Test(arguments: [
        (["a", "b", "c", "a", "b", "a", "c", "c", "a"], ["a", "a", "a", "b", "c", "c", "a", "a", "a", "a"]),
        (["a", "b", "c", "a"], ["a", "b", "d", "d"]),
        (["x", "y", "x", "x"], ["x", "x", "y", "y", "y"]),
        (["only", "only"], ["only"]),
        (["p", "q", "r", "s", "p"], ["p", "q", "r", "s", "s", "s"]),
    ])
    func categoricalDriftFromCountsEqualsSlipwayStats(reference: [String], current: [String]) throws {
        for limit in [1000, 2] {
            let detector = DriftDetector(smallSampleLimit: limit)
            let direct = try detector.detectColumn(name: "c", reference: .categorical(reference), current: .categorical(current))
            func counts(_ values: [String]) -> [String: Int] { values.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
            let fromCounts = try DataValidator.categoricalDrift(name: "c", reference: counts(reference), current: counts(current), detector: detector)
            #expect(fromCounts.method == direct.method)
            #expect(fromCounts.score == direct.score)
            #expect(fromCounts.drifted == direct.drifted)
        }
    }

    @Test func shiftedDataDriftsAndCanFailPerColumn() throws {
        let folder = try validationScratch("drift-shift")
        var reference = "x,y,g\n"
        var current = "x,y,g\n"
        for i in 0..<300 {
            reference += "\(Double(i % 50) / 10),\(i % 7),\(["a", "b", "c"][i % 3])\n"
            current += "\(Double(i % 50) / 10 + 3),\(i % 7),\(["a", "a", "c"][i % 3])\n"
        }
        let r = try writeValidationFile(folder, "r.csv", reference)
        let c = try writeValidationFile(folder, "c.csv", current)
        let text =
            #"{"columns": [{"name": "x", "type": "number"}, {"name": "y", "type": "integer"}, {"name": "g", "type": "string", "categories": ["a", "b", "c"]}]}"#
        let report = try DataValidator().validate(data: c, schema: try DataSchema.parse(Data(text.utf8)), reference: r)
        #expect(driftValue(report, "x").statistic == "ks_p_value")
        #expect(driftValue(report, "g").statistic == "chisquare_p_value")
        #expect(report.drift?.driftedColumns == 2)
        #expect(report.drift?.datasetDrift == true)
        #expect(report.checks.first { $0.check == "dataset_drift" }?.verdict == .fail)
        #expect(report.checks.first { $0.check == "drift" && $0.column == "y" }?.verdict == .pass)

        let strict = text.replacingOccurrences(
            of: "{\"columns\"", with: "{\"drift\": {\"datasetDriftShare\": 1, \"failOnColumnDrift\": true}, \"columns\"")
        let perColumn = try DataValidator().validate(data: c, schema: try DataSchema.parse(Data(strict.utf8)), reference: r)
        #expect(perColumn.checks.first { $0.check == "drift" && $0.column == "x" }?.verdict == .fail)
        #expect(perColumn.checks.first { $0.check == "dataset_drift" }?.verdict == .pass)

        let threshold = text.replacingOccurrences(of: "\"type\": \"number\"}", with: "\"type\": \"number\", \"driftThreshold\": 1e-300}")
        let relaxed = try DataValidator().validate(data: c, schema: try DataSchema.parse(Data(threshold.utf8)), reference: r)
        #expect(relaxed.checks.first { $0.check == "drift" && $0.column == "x" }?.threshold == 1e-300)
    }

    @Test func numericalColumnsWithAtMostFiveValuesAreComparedAsCategories() throws {
        let folder = try validationScratch("drift-few")
        var reference = "grade,flag,six,wide\n"
        var current = "grade,flag,six,wide\n"
        var labels: (grade: [String], flag: [String], currentGrade: [String], currentFlag: [String]) = ([], [], [], [])
        for i in 0..<300 {
            let grade = [1, 2, 3, 4][i % 4]
            let flag = i % 3 == 0 ? 1 : 0
            let currentGrade = [1, 1, 3, 4][i % 4]
            let currentFlag = i % 2
            reference += "\(grade),\(flag),\(i % 6),\(i % 5)\n"
            // "wide" gains a sixth value in the data: six values in all, so it stays numerical.
            current += "\(currentGrade),\(currentFlag),\(i % 6),\(i % 6)\n"
            labels.grade.append("\(grade)")
            labels.flag.append("\(flag)")
            labels.currentGrade.append("\(currentGrade)")
            labels.currentFlag.append("\(currentFlag)")
        }
        let r = try writeValidationFile(folder, "r.csv", reference)
        let c = try writeValidationFile(folder, "c.csv", current)
        func schema(_ drift: String) throws -> DataSchema {
            try DataSchema.parse(
                Data(
                    """
                    {"drift": {\(drift)}, "columns": [{"name": "grade", "type": "integer"}, {"name": "flag", "type": "number"},
                      {"name": "six", "type": "integer"}, {"name": "wide", "type": "integer"}]}
                    """.utf8))
        }
        let report = try DataValidator().validate(data: c, schema: try schema(""), reference: r)
        // Up to smallSampleLimit reference rows: chi-square for more than two values, the z-test for two, as for labels.
        let grade = try DriftDetector().detectColumn(name: "grade", reference: .categorical(labels.grade), current: .categorical(labels.currentGrade))
        #expect(grade.method == .chiSquare)
        #expect(driftValue(report, "grade").statistic == "chisquare_p_value")
        #expect(driftValue(report, "grade").value == grade.score)
        #expect(report.checks.first { $0.check == "drift" && $0.column == "grade" }?.message.contains("compared as categories") == true)
        #expect(report.checks.first { $0.check == "drift" && $0.column == "grade" }?.verdict == .warn)
        let flag = try DriftDetector().detectColumn(name: "flag", reference: .categorical(labels.flag), current: .categorical(labels.currentFlag))
        #expect(driftValue(report, "flag").statistic == "z_test_p_value")
        #expect(driftValue(report, "flag").value == flag.score)
        // Six distinct values, in the reference or only once the data is added, keep the numerical tests.
        #expect(driftValue(report, "six").statistic == "ks_p_value")
        #expect(driftValue(report, "wide").statistic == "ks_p_value")

        // Above smallSampleLimit reference rows: the Jensen–Shannon distance.
        let large = try DataValidator().validate(data: c, schema: try schema("\"smallSampleLimit\": 100"), reference: r)
        let distance = try DriftDetector(smallSampleLimit: 100).detectColumn(
            name: "grade", reference: .categorical(labels.grade), current: .categorical(labels.currentGrade))
        #expect(distance.method == .jensenShannon)
        #expect(driftValue(large, "grade").statistic == "jensenshannon_distance")
        #expect(driftValue(large, "grade").value == distance.score)
        #expect(driftValue(large, "six").statistic == "wasserstein_distance_norm")

        // Fractions are values like any other; a value unseen in the reference is drift.
        let fractions = DataValidator.fewValueCounts(reference: [0.5: 3, 1: 2], current: [0.5: 1, 1.5: 4])
        #expect(fractions?.labels == 3)
        #expect(fractions?.reference == ["0.5": 3, "1": 2])
        #expect(DataValidator.fewValueCounts(reference: [1: 1, 2: 1, 3: 1], current: [4: 1, 5: 1, 6: 1]) == nil)
        #expect(DataValidator.fewValueCounts(reference: [:], current: [1: 1]) == nil)
        #expect(DataValidator.fewValueCounts(reference: nil, current: [1: 1]) == nil)
    }

    @Test func samplesAreExactUpToTheLimitAndMarkedAboveIt() throws {
        let folder = try validationScratch("drift-sample")
        var reference = "x\n"
        var current = "x\n"
        var values: [Double] = []
        var state: UInt64 = 7
        for i in 0..<3000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let v = Double(state >> 11) / Double(1 << 53)
            values.append(v)
            reference += "\(v)\n"
            if i < 2500 { current += "\(v * 1.05)\n" }
        }
        let r = try writeValidationFile(folder, "r.csv", reference)
        let c = try writeValidationFile(folder, "c.csv", current)
        let schema = try DataSchema.parse(Data(#"{"columns": [{"name": "x", "type": "number"}]}"#.utf8))
        let exact = try DataValidator().validate(data: c, schema: schema, reference: r)
        let direct = try wassersteinNormed(reference: values, current: values.prefix(2500).map { $0 * 1.05 })
        let check = try #require(exact.checks.first { $0.check == "drift" })
        #expect(check.value == direct)
        #expect(!check.message.contains("samples"))
        var options = DataValidator.Options()
        options.sampleLimit = 1500
        let sampled = try DataValidator(options: options).validate(data: c, schema: schema, reference: r)
        let approximate = try #require(sampled.checks.first { $0.check == "drift" })
        #expect(approximate.statistic == "wasserstein_distance_norm")
        #expect(approximate.message.contains("samples of 1500"))
        #expect(abs((approximate.value ?? 0) - direct) < 0.05)
    }

    @Test func columnsMissingFromTheReferenceFail() throws {
        let folder = try validationScratch("drift-missing")
        let r = try writeValidationFile(folder, "r.csv", "a\n1\n2\n")
        let c = try writeValidationFile(folder, "c.csv", "a,b\n1,2\n2,3\n")
        let schema = try DataSchema.parse(Data(#"{"columns": [{"name": "a", "type": "number"}, {"name": "b", "type": "number"}]}"#.utf8))
        let report = try DataValidator().validate(data: c, schema: schema, reference: r)
        #expect(report.checks.first { $0.check == "drift" && $0.column == "b" }?.verdict == .fail)
    }
}
