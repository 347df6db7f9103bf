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
    /// The file is streamed twice (once to infer the column types, once to encode), so only the
    /// numbers stay in memory.
    ///
    /// - Throws: ``ModelError`` naming the file and line for malformed CSV, a missing target column,
    ///   empty values, or a column that mixes numbers and text.
    public static func load(csv url: URL, target: String) throws -> LabeledData {
        var header: [String]?
        var inference: FeatureEncoding.Inference?
        try CSVReader.forEachRecord(in: url) { record in
            guard let header else {
                let (featureIndices, _) = try Self.columns(of: record, target: target, source: url.path)
                header = record.fields
                inference = FeatureEncoding.Inference(header: record.fields, featureIndices: featureIndices, source: url.path)
                return
            }
            try Self.checkWidth(record, header: header, source: url.path)
            try inference?.add(record)
        }
        guard let inference else { throw ModelError.invalidData("\(url.path) is empty; it needs a header row and data rows") }
        return try load(csv: url, target: target, encoding: inference.finish())
    }

    /// Reads data for a trained model: its input columns are looked up by name, in any order, and
    /// the file is streamed.
    public static func load(csv url: URL, target: String, encoding: FeatureEncoding) throws -> LabeledData {
        var header: [String]?
        var targetIndex = 0
        var positions: [Int] = []
        var data = LabeledData(target: target, encoding: encoding, features: [], labels: [], lines: [])
        try CSVReader.forEachRecord(in: url) { record in
            guard let header else {
                (positions, targetIndex) = try Self.positions(of: encoding, in: record, target: target, source: url.path)
                header = record.fields
                return
            }
            try Self.checkWidth(record, header: header, source: url.path)
            try data.append(record, targetIndex: targetIndex, positions: positions, source: url.path)
        }
        guard header != nil else { throw ModelError.invalidData("\(url.path) is empty; it needs a header row and data rows") }
        guard !data.labels.isEmpty else { throw ModelError.invalidData("\(url.path) has a header but no data rows") }
        return data
    }

    private static func checkWidth(_ record: CSVRecord, header: [String], source: String) throws(ModelError) {
        guard record.fields.count == header.count else {
            throw ModelError.csv(
                source: source, line: record.line,
                message: "\(record.fields.count) fields, but the header has \(header.count); every row needs one value per column")
        }
    }

    private static func columns(of header: CSVRecord, target: String, source: String) throws(ModelError) -> (features: [Int], target: Int) {
        try CSVReader.validateHeader(header, source: source)
        guard let targetIndex = header.fields.firstIndex(of: target) else {
            throw ModelError.invalidData("\(source) has no column '\(target)'; its columns are \(header.fields.joined(separator: ", "))")
        }
        let features = header.fields.indices.filter { $0 != targetIndex }
        guard !features.isEmpty else { throw ModelError.invalidData("\(source) has no feature columns besides '\(target)'") }
        return (features, targetIndex)
    }

    private static func positions(of encoding: FeatureEncoding, in header: CSVRecord, target: String, source: String) throws(ModelError) -> (
        [Int], Int
    ) {
        let (_, targetIndex) = try columns(of: header, target: target, source: source)
        var found: [Int] = []
        for column in encoding.columns {
            guard let position = header.fields.firstIndex(of: column.name), position != targetIndex else {
                throw ModelError.invalidData("\(source) has no column '\(column.name)', which the model was trained on")
            }
            found.append(position)
        }
        return (found, targetIndex)
    }

    private mutating func append(_ record: CSVRecord, targetIndex: Int, positions: [Int], source: String) throws(ModelError) {
        let label = record.fields[targetIndex].trimmingCharacters(in: .whitespaces)
        guard !label.isEmpty else {
            throw ModelError.csv(source: source, line: record.line, message: "the target column '\(target)' has no value")
        }
        features.append(try encoding.encode(record, positions: positions, source: source))
        labels.append(label)
        lines.append(record.line)
    }

    /// Builds labeled data from parsed CSV (the header and its data records); the encoding is inferred when nil.
    public static func make(header: [String], records: [CSVRecord], target: String, encoding: FeatureEncoding?, source: String) throws(ModelError)
        -> LabeledData
    {
        let headerRecord = CSVRecord(fields: header, line: 1)
        let (featureIndices, _) = try columns(of: headerRecord, target: target, source: source)
        guard !records.isEmpty else { throw ModelError.invalidData("\(source) has a header but no data rows") }
        for record in records { try checkWidth(record, header: header, source: source) }
        let resolved: FeatureEncoding
        if let encoding {
            resolved = encoding
        } else {
            resolved = try FeatureEncoding.infer(header: header, featureIndices: featureIndices, records: records, source: source)
        }
        let (positions, targetIndex) = try positions(of: resolved, in: headerRecord, target: target, source: source)
        var data = LabeledData(target: target, encoding: resolved, features: [], labels: [], lines: [])
        for record in records { try data.append(record, targetIndex: targetIndex, positions: positions, source: source) }
        return data
    }
}
