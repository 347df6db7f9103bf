/// The outcome of one check.
public enum CheckVerdict: String, Sendable, Hashable, Codable {
    /// The check passed.
    case pass
    /// The check failed: the run fails (exit code 1).
    case fail
    /// Worth a look, but the run does not fail (a drifted column while the data set as a whole did not drift).
    case warn
}

/// One check of a validation run.
public struct ValidationCheck: Sendable, Hashable, Codable {
    /// What was checked: `type`, `nullable`, `missing_share`, `min`, `max`, `categories`, `pattern`, `unique`, `constant`,
    /// `present`, `extra_columns`, `min_rows`, `max_rows`, `duplicate_rows`, `malformed_rows`, `malformed_row`, `drift`,
    /// `dataset_drift`, `reference_malformed_rows`, `reference_malformed_row`.
    public var check: String
    /// The column checked, or nil for a data-set check.
    public var column: String?
    /// The name of the measured statistic, e.g. `missing_share` or `ks_p_value`.
    public var statistic: String
    /// The measured value (nil when there was nothing to measure).
    public var value: Double?
    /// The threshold the value was compared with.
    public var threshold: Double?
    /// The verdict.
    public var verdict: CheckVerdict
    /// A sentence saying what was found.
    public var message: String
    /// The line of the data file the check points at (malformed rows, first offending value).
    public var line: Int?

    /// Creates a check result.
    public init(
        check: String, column: String? = nil, statistic: String, value: Double?, threshold: Double?, verdict: CheckVerdict, message: String,
        line: Int? = nil
    ) {
        self.check = check
        self.column = column
        self.statistic = statistic
        self.value = value
        self.threshold = threshold
        self.verdict = verdict
        self.message = message
        self.line = line
    }
}

extension ValidationCheck {
    enum CodingKeys: String, CodingKey {
        case check, column, statistic, value, threshold, verdict, message, line
    }

    /// Encodes every key, with `null` for an absent column, value, threshold or line (and for a non-finite number),
    /// so every check in a report has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(check, forKey: .check)
        try container.encode(column, forKey: .column)
        try container.encode(statistic, forKey: .statistic)
        try container.encode(value.flatMap { $0.isFinite ? $0 : nil }, forKey: .value)
        try container.encode(threshold.flatMap { $0.isFinite ? $0 : nil }, forKey: .threshold)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(message, forKey: .message)
        try container.encode(line, forKey: .line)
    }
}

/// The drift part of a report.
public struct DriftSummary: Sendable, Hashable, Codable {
    /// Columns compared.
    public var columns: Int
    /// Columns that drifted.
    public var driftedColumns: Int
    /// driftedColumns / columns.
    public var driftShare: Double
    /// The share at which the data set counts as drifted.
    public var threshold: Double
    /// Whether the data set drifted.
    public var datasetDrift: Bool
}

/// Counts of checks by verdict.
public struct ValidationSummary: Sendable, Hashable, Codable {
    /// All checks.
    public var checks: Int
    /// Checks that passed.
    public var passed: Int
    /// Checks that failed.
    public var failed: Int
    /// Warnings.
    public var warnings: Int
    /// `true` when no check failed.
    public var success: Bool
}

/// Everything a validation run found, as written by `slipway data validate --output`.
public struct ValidationReport: Sendable, Hashable, Codable {
    /// The data file.
    public var data: String
    /// Its format (`csv` or `jsonl`).
    public var format: String
    /// The reference file, if any.
    public var reference: String?
    /// Well-formed rows of the data file.
    public var rows: Int
    /// Malformed rows of the data file.
    public var malformedRows: Int
    /// Well-formed rows of the reference.
    public var referenceRows: Int?
    /// Every check, in order: columns, data set, drift.
    public var checks: [ValidationCheck]
    /// The drift outcome, when a reference was given.
    public var drift: DriftSummary?
    /// Counts by verdict.
    public var summary: ValidationSummary

    /// The failed checks.
    public var failedChecks: [ValidationCheck] { checks.filter { $0.verdict == .fail } }

    static func summarise(_ checks: [ValidationCheck]) -> ValidationSummary {
        let failed = checks.filter { $0.verdict == .fail }.count
        let warnings = checks.filter { $0.verdict == .warn }.count
        return ValidationSummary(
            checks: checks.count, passed: checks.count - failed - warnings, failed: failed, warnings: warnings, success: failed == 0)
    }
}
