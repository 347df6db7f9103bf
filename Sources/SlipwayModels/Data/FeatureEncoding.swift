import Foundation

/// One input column of a model: a number, or a category expanded to one indicator feature per
/// category seen in training (one-hot).
public struct InputColumn: Sendable, Codable, Equatable {
    /// The column name in the CSV header.
    public var name: String
    /// The categories of a string column, in the order of their indicator features; nil for a numeric column.
    public var categories: [String]?

    public init(name: String, categories: [String]? = nil) {
        self.name = name
        self.categories = categories
    }
}

/// How CSV columns become the numeric features a model sees.
///
/// A column whose values are all numbers is one feature. A column whose values are all text is
/// one-hot encoded: one feature `name=category` per category seen in training, so a category
/// unseen in training encodes as all zeros. A column that mixes numbers and text is refused,
/// naming the column and the first line that does not fit.
public struct FeatureEncoding: Sendable, Codable, Equatable {
    /// The most categories a text column may have before it is refused as probably not categorical.
    public static let maxCategories = 256

    public var columns: [InputColumn]

    public init(columns: [InputColumn]) {
        self.columns = columns
    }

    /// The names of the features, in order: a numeric column's name, or `column=category` for each category.
    public var featureNames: [String] {
        columns.flatMap { column in
            column.categories.map { $0.map { "\(column.name)=\($0)" } } ?? [column.name]
        }
    }

    /// True when every column is numeric, so features and columns are the same.
    public var isAllNumeric: Bool { columns.allSatisfy { $0.categories == nil } }

    /// Infers the encoding of the feature columns from training rows.
    ///
    /// - Parameters:
    ///   - header: all column names of the file.
    ///   - featureIndices: which header positions are features.
    ///   - records: the data rows.
    ///   - source: the file name for error messages.
    public static func infer(header: [String], featureIndices: [Int], records: [CSVRecord], source: String) throws(ModelError) -> FeatureEncoding {
        var inference = Inference(header: header, featureIndices: featureIndices, source: source)
        for record in records { try inference.add(record) }
        return try inference.finish()
    }

    /// Infers an encoding one record at a time, so a file can be streamed through it.
    public struct Inference: Sendable {
        private struct Column: Sendable {
            var name: String
            var position: Int
            var firstNumberLine: Int?
            var firstTextLine: Int?
            var categories = Set<String>()
        }

        private var columns: [Column]
        private let source: String

        public init(header: [String], featureIndices: [Int], source: String) {
            self.columns = featureIndices.map { Column(name: header[$0], position: $0) }
            self.source = source
        }

        /// Takes one data record into account.
        public mutating func add(_ record: CSVRecord) throws(ModelError) {
            for c in columns.indices {
                let raw = record.fields[columns[c].position]
                let value = raw.trimmingCharacters(in: .whitespaces)
                let name = columns[c].name
                if value.isEmpty {
                    throw ModelError.csv(
                        source: source, line: record.line, message: "column '\(name)' has no value; fill in missing values before training")
                }
                if FeatureEncoding.parseNumber(value) != nil {
                    if let textLine = columns[c].firstTextLine {
                        throw ModelError.csv(
                            source: source, line: record.line,
                            message:
                                "column '\(name)' holds text categories (from line \(textLine)), but this line has the number '\(raw)'; make the column all text or all numbers"
                        )
                    }
                    if columns[c].firstNumberLine == nil { columns[c].firstNumberLine = record.line }
                } else {
                    if let numberLine = columns[c].firstNumberLine {
                        throw ModelError.csv(
                            source: source, line: record.line,
                            message:
                                "column '\(name)' holds numbers (from line \(numberLine)), but this line has '\(raw)', which is not a finite number; fix the value or make the whole column text categories"
                        )
                    }
                    if columns[c].firstTextLine == nil { columns[c].firstTextLine = record.line }
                    columns[c].categories.insert(value)
                    guard columns[c].categories.count <= FeatureEncoding.maxCategories else {
                        throw ModelError.invalidData(
                            "column '\(name)' has more than \(FeatureEncoding.maxCategories) different text values; a categorical column may have at most \(FeatureEncoding.maxCategories). Drop it or convert it to numbers"
                        )
                    }
                }
            }
        }

        /// The encoding of every column seen.
        public func finish() throws(ModelError) -> FeatureEncoding {
            FeatureEncoding(columns: columns.map { InputColumn(name: $0.name, categories: $0.firstTextLine == nil ? nil : $0.categories.sorted()) })
        }
    }

    /// Encodes one row given the header positions of this encoding's columns.
    public func encode(_ record: CSVRecord, positions: [Int], source: String) throws(ModelError) -> [Double] {
        var row: [Double] = []
        row.reserveCapacity(columns.count)
        for (column, position) in zip(columns, positions) {
            let value = record.fields[position].trimmingCharacters(in: .whitespaces)
            if let categories = column.categories {
                for category in categories { row.append(category == value ? 1 : 0) }
            } else {
                guard !value.isEmpty else {
                    throw ModelError.csv(source: source, line: record.line, message: "column '\(column.name)' has no value; fill in missing values")
                }
                guard let number = Self.parseNumber(value) else {
                    throw ModelError.csv(
                        source: source, line: record.line,
                        message: "column '\(column.name)' must be a number, but this line has '\(record.fields[position])'")
                }
                row.append(number)
            }
        }
        return row
    }

    /// A finite decimal number, or nil (`nan`, `inf`, hexadecimal and empty text are not numbers here).
    public static func parseNumber(_ text: some StringProtocol) -> Double? {
        guard let first = text.utf8.first,
            first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".") || (first >= 0x30 && first <= 0x39)
        else { return nil }
        guard !text.contains("x") && !text.contains("X"), let value = Double(String(text)), value.isFinite else { return nil }
        return value
    }
}
