public import Foundation
import SlipwayCore

/// Checks a data set against a schema and, optionally, a reference data set.
///
/// One streaming pass over each file: memory stays bounded whatever the file size (see ``Options``).
/// Problems in the data become failed checks in the ``ValidationReport``; only unusable input (a missing
/// file, no header row) throws.
public struct DataValidator: Sendable {
    /// The file formats read.
    public enum Format: String, Sendable, Hashable, Codable, CaseIterable {
        /// RFC 4180 CSV with a header row.
        case csv
        /// JSON Lines: one JSON object per line.
        case jsonLines = "jsonl"

        /// The format for a file name: `.jsonl`, `.ndjson` and `.json` are JSON Lines, anything else CSV.
        public static func infer(from url: URL) -> Format {
            switch url.pathExtension.lowercased() {
            case "jsonl", "ndjson", "json": .jsonLines
            default: .csv
            }
        }
    }

    /// Limits that keep memory bounded.
    public struct Options: Sendable, Hashable {
        /// Values per numerical column kept for drift tests (default 1,000,000). Up to this many values the
        /// statistics are exact; above it they are computed on a uniform sample of this size.
        public var sampleLimit: Int = 1_000_000
        /// Hashes kept in memory per uniqueness or duplicate check before they spill to temporary files (default 1,048,576).
        public var hashMemoryLimit: Int = 1 << 20
        /// The longest record accepted, in bytes (default 16 MiB); longer ones are reported as malformed.
        public var maxRecordBytes: Int = 16 << 20
        /// Where spill files go (default: the system temporary folder).
        public var temporaryFolder: URL = FileManager.default.temporaryDirectory

        /// Creates options with the defaults.
        public init() {}
    }

    /// The limits in use.
    public var options: Options

    /// Creates a validator.
    public init(options: Options = Options()) {
        self.options = options
    }

    /// Validates `data` against `schema`, and against `reference` when given.
    /// - Parameters:
    ///   - data: the data file.
    ///   - format: its format (default: from the file name).
    ///   - schema: the schema.
    ///   - reference: a reference data file for the drift checks.
    ///   - referenceFormat: the reference's format (default: from its file name).
    /// - Returns: every check with its verdict.
    /// - Throws: ``DataValidationError`` when a file is missing or unreadable, or a CSV file has no usable header row.
    public func validate(data: URL, format: Format? = nil, schema: DataSchema, reference: URL? = nil, referenceFormat: Format? = nil)
        throws(DataValidationError) -> ValidationReport
    {
        var options = options
        options.sampleLimit = max(options.sampleLimit, schema.drift.smallSampleLimit + 1)
        let folder = options.temporaryFolder
        let dataFormat = format ?? Format.infer(from: data)
        // Open the reference first, so that a missing reference is reported before a long pass over the data.
        if let reference, !FileManager.default.fileExists(atPath: reference.path) {
            throw DataValidationError(.notFound, "the reference file \(reference.path) does not exist; check the path given with --reference")
        }
        let current = try DataProfile.read(url: data, format: dataFormat, schema: schema, options: options, folder: folder, quality: true)
        var checks = columnChecks(current, schema: schema)
        checks += datasetChecks(current, schema: schema, format: dataFormat)
        var referenceProfile: DataProfile?
        var drift: DriftSummary?
        if let reference {
            let profile = try DataProfile.read(
                url: reference, format: referenceFormat ?? Format.infer(from: reference), schema: schema, options: options, folder: folder,
                quality: false)
            referenceProfile = profile
            checks += malformedChecks(profile, schema: schema, prefix: "reference_")
            let (driftChecks, summary) = driftChecks(current: current, reference: profile, schema: schema)
            checks += driftChecks
            drift = summary
        }
        return ValidationReport(
            data: data.path, format: dataFormat.rawValue, reference: reference?.path, rows: current.rows, malformedRows: current.malformedRows,
            referenceRows: referenceProfile?.rows, checks: checks, drift: drift, summary: ValidationReport.summarise(checks))
    }

    func columnChecks(_ profile: DataProfile, schema: DataSchema) -> [ValidationCheck] {
        var checks: [ValidationCheck] = []
        for p in profile.columns {
            let c = p.column
            let name = c.name
            func check(
                _ check: String, _ statistic: String, _ value: Double?, _ threshold: Double?, _ passed: Bool, _ message: String, line: Int? = nil
            ) {
                checks.append(
                    ValidationCheck(
                        check: check, column: name, statistic: statistic, value: value, threshold: threshold, verdict: passed ? .pass : .fail,
                        message: message, line: line))
            }
            guard p.present else {
                check("present", "column_present", 0, 1, false, "the column '\(name)' is missing from the header row")
                continue
            }
            check("present", "column_present", 1, 1, true, "the column is present")
            let rows = profile.rows
            check(
                "type", "invalid_count", Double(p.invalidType), 0, p.invalidType == 0,
                p.firstInvalid.map { "\(p.invalidType) value(s) are not \(c.type.rawValue); the first is \($0.value) on line \($0.line)" }
                    ?? "every value is \(c.type.rawValue)", line: p.firstInvalid?.line)
            if !c.nullable {
                check(
                    "nullable", "missing_count", Double(p.missing), 0, p.missing == 0,
                    p.firstMissingLine.map { "\(p.missing) value(s) are missing in a non-nullable column; the first on line \($0)" }
                        ?? "no value is missing", line: p.firstMissingLine)
            }
            let share = rows > 0 ? Double(p.missing) / Double(rows) : 0
            let maxShare = c.maxMissingShare ?? schema.quality.maxMissingShare
            check(
                "missing_share", "missing_share", share, maxShare, share <= maxShare,
                String(format: "%.4f of the values are missing (at most %.4f allowed)", share, maxShare))
            if let minimum = c.minimum {
                check(
                    "min", "observed_min", p.observedMinimum, minimum, p.belowMinimum == 0,
                    p.belowMinimum == 0
                        ? "no value is below \(CellParser.canonical(minimum))"
                        : "\(p.belowMinimum) value(s) are below \(CellParser.canonical(minimum))")
            }
            if let maximum = c.maximum {
                check(
                    "max", "observed_max", p.observedMaximum, maximum, p.aboveMaximum == 0,
                    p.aboveMaximum == 0
                        ? "no value is above \(CellParser.canonical(maximum))"
                        : "\(p.aboveMaximum) value(s) are above \(CellParser.canonical(maximum))")
            }
            if let categories = c.categories {
                let shown = categories.prefix(10).joined(separator: ", ") + (categories.count > 10 ? ", …" : "")
                check(
                    "categories", "unknown_category_count", Double(p.outsideCategories), 0, p.outsideCategories == 0,
                    p.firstOutside.map { "\(p.outsideCategories) value(s) are not among \(shown); the first is \($0.value) on line \($0.line)" }
                        ?? "every value is among the allowed categories", line: p.firstOutside?.line)
            }
            if let pattern = c.pattern {
                check(
                    "pattern", "pattern_mismatch_count", Double(p.patternMismatches), 0, p.patternMismatches == 0,
                    p.firstMismatch.map { "\(p.patternMismatches) value(s) do not match /\(pattern)/; the first is \($0.value) on line \($0.line)" }
                        ?? "every value matches /\(pattern)/", line: p.firstMismatch?.line)
            }
            if p.distinctValues != nil {
                let duplicates = p.duplicateValues
                check(
                    "unique", "duplicate_value_count", Double(duplicates), 0, duplicates == 0,
                    duplicates == 0 ? "every value is distinct" : "\(duplicates) value(s) repeat an earlier value")
            }
            if !(c.allowConstant ?? schema.quality.allowConstantColumns) {
                let distinct = p.firstLabel == nil ? 0 : p.varied ? 2 : 1
                check(
                    "constant", "distinct_values_at_least", Double(distinct), 2, distinct >= 2,
                    distinct >= 2
                        ? "the column has more than one distinct value"
                        : distinct == 0
                            ? "the column has no valid value at all"
                            : "every value is '\(p.firstLabel ?? "")'; a constant column carries no information")
            }
        }
        return checks
    }

    func datasetChecks(_ profile: DataProfile, schema: DataSchema, format: Format) -> [ValidationCheck] {
        var checks: [ValidationCheck] = []
        let rows = Double(profile.rows)
        if let minimum = schema.minRows {
            checks.append(
                ValidationCheck(
                    check: "min_rows", statistic: "row_count", value: rows, threshold: Double(minimum),
                    verdict: profile.rows >= minimum ? .pass : .fail,
                    message: "\(profile.rows) row(s), at least \(minimum) required"))
        }
        if let maximum = schema.maxRows {
            checks.append(
                ValidationCheck(
                    check: "max_rows", statistic: "row_count", value: rows, threshold: Double(maximum),
                    verdict: profile.rows <= maximum ? .pass : .fail,
                    message: "\(profile.rows) row(s), at most \(maximum) allowed"))
        }
        let duplicateShare = profile.rows > 0 ? Double(profile.duplicateRows) / rows : 0
        let maxDuplicates = schema.quality.maxDuplicateRowShare
        checks.append(
            ValidationCheck(
                check: "duplicate_rows", statistic: "duplicate_row_share", value: duplicateShare, threshold: maxDuplicates,
                verdict: duplicateShare <= maxDuplicates ? .pass : .fail,
                message: "\(profile.duplicateRows) row(s) repeat an earlier row (\(String(format: "%.4f", duplicateShare)) of all rows)"))
        if format == .csv {
            let extra = profile.extraColumns
            let shown = extra.prefix(10).joined(separator: ", ") + (extra.count > 10 ? ", …" : "")
            checks.append(
                ValidationCheck(
                    check: "extra_columns", statistic: "extra_column_count", value: Double(extra.count), threshold: 0,
                    verdict: extra.isEmpty ? .pass : schema.quality.failOnExtraColumns ? .fail : .warn,
                    message: extra.isEmpty ? "every column is in the schema" : "columns not in the schema: \(shown)"))
        }
        checks += malformedChecks(profile, schema: schema, prefix: "")
        return checks
    }

    func malformedChecks(_ profile: DataProfile, schema: DataSchema, prefix: String) -> [ValidationCheck] {
        var checks: [ValidationCheck] = []
        let listed = profile.malformed.count
        let rest = profile.malformedRows - listed
        checks.append(
            ValidationCheck(
                check: prefix + "malformed_rows", statistic: "malformed_row_count", value: Double(profile.malformedRows), threshold: 0,
                verdict: profile.malformedRows == 0 ? .pass : .fail,
                message: profile.malformedRows == 0
                    ? "every row is well-formed"
                    : "\(profile.malformedRows) malformed row(s)" + (rest > 0 ? "; the first \(listed) are listed, \(rest) more are not" : ""),
                line: profile.malformed.first?.line))
        for (line, reason) in profile.malformed {
            checks.append(
                ValidationCheck(
                    check: prefix + "malformed_row", statistic: "line", value: Double(line), threshold: nil, verdict: .fail,
                    message: "line \(line): \(reason)", line: line))
        }
        return checks
    }
}
