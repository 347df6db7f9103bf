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
        var columns: [InputColumn] = []
        for index in featureIndices {
            let name = header[index]
            var firstText: CSVRecord?
            var firstNumber: CSVRecord?
            var categories = Set<String>()
            for record in records {
                let raw = record.fields[index]
                let value = raw.trimmingCharacters(in: .whitespaces)
                if value.isEmpty {
                    throw ModelError.csv(source: source, line: record.line, message: "column '\(name)' has no value; fill in missing values before training")
                }
                if parseNumber(value) != nil {
                    if firstNumber == nil { firstNumber = record }
                } else {
                    if firstText == nil { firstText = record }
                    categories.insert(value)
                }
                if let firstText, let firstNumber {
                    // Mixed: report the first line that breaks the pattern set by the first row.
                    let bad = firstNumber.line < firstText.line ? firstText : firstNumber
                    let shown = bad.fields[index]
                    throw ModelError.csv(
                        source: source, line: bad.line,
                        message: firstNumber.line < firstText.line
                            ? "column '\(name)' holds numbers, but this line has '\(shown)', which is not a finite number; fix the value or make the whole column text categories"
                            : "column '\(name)' holds text categories, but this line has the number '\(shown)'; make the column all text or all numbers")
                }
            }
            if firstText != nil {
                guard categories.count <= maxCategories else {
                    throw ModelError.invalidData(
                        "column '\(name)' has \(categories.count) different text values; a categorical column may have at most \(maxCategories). Drop it or convert it to numbers")
                }
                columns.append(InputColumn(name: name, categories: categories.sorted()))
            } else {
                columns.append(InputColumn(name: name))
            }
        }
        return FeatureEncoding(columns: columns)
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
                        source: source, line: record.line, message: "column '\(column.name)' must be a number, but this line has '\(record.fields[position])'")
                }
                row.append(number)
            }
        }
        return row
    }

    /// A finite decimal number, or nil (`nan`, `inf`, hexadecimal and empty text are not numbers here).
    public static func parseNumber(_ text: some StringProtocol) -> Double? {
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") || first == UInt8(ascii: ".") || (first >= 0x30 && first <= 0x39)
        else { return nil }
        guard !text.contains("x") && !text.contains("X"), let value = Double(String(text)), value.isFinite else { return nil }
        return value
    }
}
