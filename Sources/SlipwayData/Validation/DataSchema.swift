public import Foundation
import SlipwayCore

/// What a data set must look like: its columns with types and constraints, row-count bounds, quality
/// thresholds and the drift settings. Read from a JSON document; see `docs/data-validation.md` for the format.
public struct DataSchema: Sendable, Hashable {
    /// The type of a column's values.
    public enum ColumnType: String, Sendable, Hashable, Codable, CaseIterable {
        /// Whole numbers (64-bit).
        case integer
        /// Finite floating-point numbers.
        case number
        /// Any text.
        case string
        /// `true` or `false` (any letter case in CSV).
        case boolean
        /// An ISO 8601 date (`2026-11-27`) or date and time (`2026-11-27T10:15:30Z`, with optional fraction and offset).
        case datetime
    }

    /// How a column takes part in distribution (drift) checks.
    public enum DriftKind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Compared as numbers (KS test or normalised Wasserstein distance).
        case numerical
        /// Compared as labels (chi-square, z-test or Jensen–Shannon distance).
        case categorical
        /// Not compared.
        case none
    }

    /// One column.
    public struct Column: Sendable, Hashable {
        /// The column name (CSV header, JSON Lines key).
        public var name: String
        /// The value type.
        public var type: ColumnType
        /// Whether missing values are allowed (default `true`).
        public var nullable: Bool
        /// The smallest allowed value (integer and number columns).
        public var minimum: Double?
        /// The largest allowed value (integer and number columns).
        public var maximum: Double?
        /// The allowed values, as canonical text (`"0"`, `"true"`, `"benign"`).
        public var categories: [String]?
        /// A regular expression every value must match in full (string and datetime columns).
        public var pattern: String?
        /// Whether every non-missing value must be distinct.
        public var unique: Bool
        /// How the column is compared with the reference.
        public var drift: DriftKind
        /// The largest allowed share of missing values; overrides the dataset default.
        public var maxMissingShare: Double?
        /// Whether a column with a single distinct value passes; overrides the dataset default.
        public var allowConstant: Bool?
        /// The drift threshold for this column (a p-value or a distance, by the test chosen); overrides the defaults.
        public var driftThreshold: Double?
    }

    /// Quality thresholds that apply to the whole data set.
    public struct Quality: Sendable, Hashable {
        /// The largest allowed share of missing values in a column (default 0.5).
        public var maxMissingShare: Double = 0.5
        /// The largest allowed share of rows that repeat an earlier row (default 0.05).
        public var maxDuplicateRowShare: Double = 0.05
        /// Whether a column with a single distinct value passes (default `false`).
        public var allowConstantColumns: Bool = false
        /// Whether columns the schema does not name fail the header check (default `false`).
        public var failOnExtraColumns: Bool = false
        /// How many malformed rows are reported one by one before the rest are only counted (default 100).
        public var malformedRowReportLimit: Int = 100

        /// Creates the defaults.
        public init() {}
    }

    /// Distribution-check settings; the defaults are Evidently's data-drift defaults.
    public struct Drift: Sendable, Hashable {
        /// Reference non-missing values up to which the statistical tests are used (default 1000).
        public var smallSampleLimit: Int = 1000
        /// Significance level of KS, chi-square and z-tests (default 0.05).
        public var pValueThreshold: Double = 0.05
        /// Drift threshold of the normalised Wasserstein and Jensen–Shannon distances (default 0.1).
        public var distanceThreshold: Double = 0.1
        /// The data set drifted when this share of compared columns drifted (default 0.5).
        public var datasetDriftShare: Double = 0.5
        /// Whether one drifted column fails the run on its own (default `false`: it is a warning, and only dataset drift fails).
        public var failOnColumnDrift: Bool = false

        /// Creates Evidently's defaults.
        public init() {}
    }

    /// The columns, in the order they are listed.
    public var columns: [Column]
    /// The fewest rows allowed.
    public var minRows: Int?
    /// The most rows allowed.
    public var maxRows: Int?
    /// Values read as missing in CSV (default: the empty field only).
    public var missingValues: [String]
    /// Quality thresholds.
    public var quality: Quality
    /// Drift settings.
    public var drift: Drift

    /// Creates a schema.
    public init(
        columns: [Column], minRows: Int? = nil, maxRows: Int? = nil, missingValues: [String] = [""], quality: Quality = Quality(),
        drift: Drift = Drift()
    ) {
        self.columns = columns
        self.minRows = minRows
        self.maxRows = maxRows
        self.missingValues = missingValues
        self.quality = quality
        self.drift = drift
    }

    /// Reads a schema file.
    /// - Throws: ``DataValidationError`` when the file cannot be read or the schema has errors (all of them, with JSON pointers).
    public static func load(from url: URL) throws(DataValidationError) -> DataSchema {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            if !FileManager.default.fileExists(atPath: url.path) {
                throw DataValidationError(.notFound, "the schema file \(url.path) does not exist; pass the path of a JSON schema with --schema")
            }
            throw DataValidationError(
                .invalidArgument, "the schema file \(url.path) cannot be read (\(error.localizedDescription)); check its permissions")
        }
        return try parse(data, path: url.path)
    }

    /// Parses a schema document.
    /// - Parameter path: the file name used in error messages.
    /// - Throws: ``DataValidationError`` listing every problem with its JSON pointer.
    public static func parse(_ data: Data, path: String = "schema") throws(DataValidationError) -> DataSchema {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .invalidSchema(
                path: path,
                [SchemaIssue(pointer: "", message: "not valid JSON (\(SchemaReader.describe(error))); write the schema as one JSON object")])
        }
        var reader = SchemaReader()
        let schema = reader.schema(root)
        if let schema, reader.issues.isEmpty { return schema }
        throw .invalidSchema(path: path, reader.issues)
    }
}
