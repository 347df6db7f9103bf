import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayData

/// `slipway data validate`: schema, quality and drift checks, usable as a pipeline gate.
struct DataValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a data set against a schema and a reference data set.",
        discussion: """
            Reads CSV (RFC 4180, with a header row) or JSON Lines in one streaming pass, checks every column \
            against the schema (type, nullable, min/max, categories, pattern, unique), the data set's quality \
            (missing values, duplicate rows, constant columns, malformed rows, row count) and, with --reference, \
            each column's distribution with Evidently's default tests. Exit code 0 when every check passes, 1 when \
            a check fails, 2 when the input cannot be used (a missing file, an invalid schema, no header row). \
            The schema format is described in docs/data-validation.md.
            """
    )

    @Option(name: .long, help: "The schema: a JSON file describing the columns and thresholds.") var schema: String
    @Option(name: .long, help: "The data to validate: a CSV or JSON Lines file.") var data: String
    @Option(name: .long, help: "A reference data set (e.g. the training data) for the drift checks.") var reference: String?
    @Option(name: .long, help: "Write the JSON report to this file (atomically).") var output: String?
    @Option(name: .long, help: "The format of --data and --reference: csv or jsonl (default: from the file extension).")
    var format: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let report: ValidationReport
        var fileFormat: DataValidator.Format?
        if let format {
            guard let known = DataValidator.Format(rawValue: format.lowercased()) else {
                unusable("invalid_argument", "--format '\(format)' is not a known format; use csv or jsonl", issues: [])
            }
            fileFormat = known
        }
        do {
            let parsed = try DataSchema.load(from: URL(fileURLWithPath: schema))
            report = try DataValidator().validate(
                data: URL(fileURLWithPath: data), format: fileFormat, schema: parsed, reference: reference.map { URL(fileURLWithPath: $0) },
                referenceFormat: fileFormat)
            if let output { try Self.writeAtomically(report, to: URL(fileURLWithPath: output)) }
        } catch let error as DataValidationError {
            unusable(error.kind.rawValue, error.message, issues: error.schemaIssues)
        } catch {
            unusable("error", "\(error)", issues: [])
        }
        if global.json {
            Output.json(report)
        } else {
            Self.printSummary(report)
        }
        if !report.summary.success { throw ExitCode(1) }
    }

    /// Prints the error and exits with 2, the pipeline-gate code for input that cannot be validated.
    private func unusable(_ code: String, _ message: String, issues: [SchemaIssue]) -> Never {
        struct ErrorDocument: Encodable {
            struct Inner: Encodable {
                var code: String
                var message: String
                var issues: [SchemaIssue]?
            }
            var error: Inner
        }
        if global.json { Output.json(ErrorDocument(error: .init(code: code, message: message, issues: issues.isEmpty ? nil : issues))) }
        Output.note("error: \(message)")
        Foundation.exit(2)
    }

    /// Writes the report to a temporary file beside `url`, then renames it into place, so a reader never sees half a report.
    static func writeAtomically(_ report: ValidationReport, to url: URL) throws {
        let encoded: Data
        do {
            encoded = try SlipwayJSON.encoder(pretty: true).encode(report) + Data("\n".utf8)
        } catch {
            throw GenericError(.internal, "the report could not be encoded (\(error))")
        }
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
        do {
            try encoded.write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw GenericError(.invalidArgument, "the report cannot be moved to \(url.path) (\(reason)); choose another --output path")
            }
        } catch let error as GenericError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw GenericError(
                .invalidArgument,
                "the report cannot be written next to \(url.path) (\(error.localizedDescription)); check that the folder exists and is writable")
        }
    }

    static func printSummary(_ report: ValidationReport) {
        func number(_ value: Double?) -> String {
            guard let value else { return "-" }
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(format: "%.4g", value)
        }
        func row(_ check: ValidationCheck) -> [String] {
            let text = check.message.count > 100 ? String(check.message.prefix(99)) + "…" : check.message
            return [check.check, check.column ?? "-", check.statistic, number(check.value), number(check.threshold), text]
        }
        let failed = report.checks.filter { $0.verdict == .fail }
        let warnings = report.checks.filter { $0.verdict == .warn }
        if !failed.isEmpty {
            Output.line("FAILED CHECKS")
            Output.table(["check", "column", "statistic", "value", "threshold", "detail"], failed.map(row))
            Output.line()
        }
        if !warnings.isEmpty {
            Output.line("WARNINGS")
            Output.table(["check", "column", "statistic", "value", "threshold", "detail"], warnings.map(row))
            Output.line()
        }
        var source = "data       \(report.data) (\(report.format)): \(report.rows) row(s)"
        if report.malformedRows > 0 { source += ", \(report.malformedRows) malformed" }
        Output.line(source)
        if let reference = report.reference { Output.line("reference  \(reference): \(report.referenceRows ?? 0) row(s)") }
        if let drift = report.drift {
            Output.line(
                "drift      \(drift.driftedColumns) of \(drift.columns) column(s) drifted (share \(String(format: "%.3f", drift.driftShare)), "
                    + "threshold \(String(format: "%.3f", drift.threshold))): \(drift.datasetDrift ? "dataset drift" : "no dataset drift")")
        }
        let s = report.summary
        Output.line("checks     \(s.checks): \(s.passed) passed, \(s.failed) failed, \(s.warnings) warning(s)")
        Output.line(s.success ? "result     PASS" : "result     FAIL")
    }
}
