public import Foundation

/// Rows of numeric features with a class label each: what training and evaluation read from a CSV file.
public struct LabeledData: Sendable {
    /// The name of the label column.
    public var target: String
    /// How the CSV columns became ``features``.
    public var encoding: FeatureEncoding
    /// One row of features per sample, in ``FeatureEncoding/featureNames`` order.
    public var features: [[Double]]
    /// The label of each sample, as written in the file.
    public var labels: [String]
    /// The line each sample starts on in its file (for error messages); empty for data made in code.
    public var lines: [Int]

    public init(target: String, encoding: FeatureEncoding, features: [[Double]], labels: [String], lines: [Int] = []) {
        self.target = target
        self.encoding = encoding
        self.features = features
        self.labels = labels
        self.lines = lines
    }

    /// Where sample `index` came from, for error messages.
    public func location(_ index: Int) -> String {
        index < lines.count ? "line \(lines[index])" : "row \(index + 1)"
    }

    /// The feature names.
    public var featureNames: [String] { encoding.featureNames }

    /// Reads training data: every column but `target` is a feature, and the encoding is inferred.
    ///
    /// - Throws: ``ModelError`` naming the file and line for malformed CSV, a missing target column,
    ///   empty values, or a column that mixes numbers and text.
    public static func load(csv url: URL, target: String) throws -> LabeledData {
        let (header, records) = try CSVReader.readTable(url)
        return try make(header: header, records: records, target: target, encoding: nil, source: url.path)
    }

    /// Reads data for a trained model: its input columns are looked up by name, in any order.
    public static func load(csv url: URL, target: String, encoding: FeatureEncoding) throws -> LabeledData {
        let (header, records) = try CSVReader.readTable(url)
        return try make(header: header, records: records, target: target, encoding: encoding, source: url.path)
    }

    /// Builds labeled data from parsed CSV (the header and its data records).
    public static func make(header: [String], records: [CSVRecord], target: String, encoding: FeatureEncoding?, source: String) throws(ModelError)
        -> LabeledData
    {
        guard let targetIndex = header.firstIndex(of: target) else {
            throw ModelError.invalidData("\(source) has no column '\(target)'; its columns are \(header.joined(separator: ", "))")
        }
        guard !records.isEmpty else { throw ModelError.invalidData("\(source) has a header but no data rows") }
        let positions: [Int]
        let resolved: FeatureEncoding
        if let encoding {
            var found: [Int] = []
            for column in encoding.columns {
                guard let position = header.firstIndex(of: column.name), position != targetIndex else {
                    throw ModelError.invalidData("\(source) has no column '\(column.name)', which the model was trained on")
                }
                found.append(position)
            }
            positions = found
            resolved = encoding
        } else {
            positions = header.indices.filter { $0 != targetIndex }
            guard !positions.isEmpty else { throw ModelError.invalidData("\(source) has no feature columns besides '\(target)'") }
            resolved = try FeatureEncoding.infer(header: header, featureIndices: positions, records: records, source: source)
        }
        var features: [[Double]] = []
        var labels: [String] = []
        features.reserveCapacity(records.count)
        labels.reserveCapacity(records.count)
        for record in records {
            let label = record.fields[targetIndex].trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else {
                throw ModelError.csv(source: source, line: record.line, message: "the target column '\(target)' has no value")
            }
            labels.append(label)
            features.append(try resolved.encode(record, positions: positions, source: source))
        }
        return LabeledData(target: target, encoding: resolved, features: features, labels: labels, lines: records.map(\.line))
    }
}
