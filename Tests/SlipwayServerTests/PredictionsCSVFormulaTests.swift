import Foundation
import Logging
import SlipwayCore
import SlipwayServer
import SlipwayStore
import Testing

extension PredictionsAPITests {
    /// Text a spreadsheet would run as a formula is exported with a leading `'`; numbers and other text are not touched.
    @Test func theCSVExportNeutralisesFormulas() async throws {
        let folder = try makeScratchFolder("export-formulas")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataDir = folder.appendingPathComponent("data")
        let local = ["--data-dir", dataDir.path]
        #expect(try await runCLI(["endpoints", "create", "churn-api"] + local, in: folder).status == 0)
        var logger = Logger(label: "slipway.test")
        logger.logLevel = .critical
        let store = try SlipwayServices.open(SlipwayConfiguration(dataDir: dataDir), logger: logger).metadata
        let hostile = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1", "plain", "a=b", "'quoted"]
        var records: [PredictionRecord] = []
        for (index, text) in hostile.enumerated() {
            var record = Self.record("churn-api", "r-\(index)", at: 1_790_000_000_000 + Int64(index), prediction: text, features: text)
            record.stickyKey = text
            records.append(record)
        }
        try await store.appendPredictions(records)
        let exported = try await runCLI(["predictions", "export", "churn-api", "--format", "csv", "--out", "log.csv"] + local, in: folder)
        #expect(exported.status == 0, "\(exported.stderr)")
        let rows = try #require(parseCSV(try String(contentsOf: folder.appendingPathComponent("log.csv"), encoding: .utf8)))
        #expect(rows.count == hostile.count + 1)
        for (row, text) in zip(rows.dropFirst(), hostile) {
            guard row.count == 16 else {
                Issue.record("row \(row) has \(row.count) fields")
                continue
            }
            let risky = text.first.map { "=+-@\t\r".contains($0) } ?? false
            let expected = risky ? "'" + text : text
            // stickyKey, features and prediction.
            #expect(row[6] == expected && row[7] == expected && row[8] == expected, "\(row)")
            #expect(Double(row[9]) == 0.75 && Double(row[10]) == 4.5, "numbers are written as numbers: \(row)")
        }
    }
}
