import Foundation
import SlipwayCore

/// What one streaming pass over a data file learned about one schema column.
struct ColumnProfile {
    let column: DataSchema.Column
    let regex: NSRegularExpression?
    /// Whether the file has the column (a CSV header names it; JSON Lines always has every column).
    var present = true
    var missing = 0
    var firstMissingLine: Int?
    var invalidType = 0
    var firstInvalid: (line: Int, value: String)?
    var belowMinimum = 0
    var aboveMaximum = 0
    var observedMinimum: Double?
    var observedMaximum: Double?
    var firstOutOfRange: (line: Int, value: String)?
    var outsideCategories = 0
    var firstOutside: (line: Int, value: String)?
    var patternMismatches = 0
    var firstMismatch: (line: Int, value: String)?
    var firstLabel: String?
    var varied = false
    var distinctValues: HashDistinctCounter?
    /// Values that repeat an earlier value (for `unique` columns, once the pass is over).
    var duplicateValues = 0
    var numericSample: ReservoirSample?
    /// For numerical drift: the count of each value while the column has at most ``fewValuesLimit`` distinct
    /// values (nil once it has more); such a column is compared as categories.
    var fewNumbers: [Double: Int]?
    var categoryCounts: [String: Int] = [:]
    let categorySet: Set<String>?

    /// Labels kept per column for categorical drift; further labels are counted together under ``otherLabel``.
    static let maxLabels = 10_000
    /// A numerical column with at most this many distinct values is compared as categories (Evidently's rule).
    static let fewValuesLimit = 5
    /// The bucket of labels beyond ``maxLabels``.
    static let otherLabel = "\u{0}other"

    init(column: DataSchema.Column, options: DataValidator.Options, folder: URL, quality: Bool) {
        self.column = column
        regex = quality ? column.pattern.flatMap { try? NSRegularExpression(pattern: "^(?:" + $0 + ")$") } : nil
        categorySet = quality ? column.categories.map(Set.init) : nil
        if quality && column.unique { distinctValues = HashDistinctCounter(memoryLimit: options.hashMemoryLimit, temporaryFolder: folder) }
        if column.drift == .numerical {
            numericSample = ReservoirSample(capacity: options.sampleLimit)
            fewNumbers = [:]
        }
    }

    /// Adds one cell; `cell` is nil for a missing value.
    mutating func add(_ cell: RawCell?, line: Int, quality: Bool) throws(DataValidationError) {
        guard let cell else {
            missing += 1
            if firstMissingLine == nil { firstMissingLine = line }
            return
        }
        guard let value = CellParser.parse(cell, as: column.type) else {
            invalidType += 1
            if firstInvalid == nil { firstInvalid = (line, CellParser.show(cell)) }
            return
        }
        if let number = value.number {
            numericSample?.add(number)
            if fewNumbers != nil {
                fewNumbers?[number, default: 0] += 1
                if (fewNumbers?.count ?? 0) > Self.fewValuesLimit { fewNumbers = nil }
            }
            if quality {
                observedMinimum = min(observedMinimum ?? number, number)
                observedMaximum = max(observedMaximum ?? number, number)
                var outside = false
                if let minimum = column.minimum, number < minimum {
                    belowMinimum += 1
                    outside = true
                }
                if let maximum = column.maximum, number > maximum {
                    aboveMaximum += 1
                    outside = true
                }
                if outside, firstOutOfRange == nil { firstOutOfRange = (line, value.label) }
            }
        }
        if column.drift == .categorical {
            if categoryCounts[value.label] != nil || categoryCounts.count < Self.maxLabels {
                categoryCounts[value.label, default: 0] += 1
            } else {
                categoryCounts[Self.otherLabel, default: 0] += 1
            }
        }
        guard quality else { return }
        if let categorySet, !categorySet.contains(value.label) {
            outsideCategories += 1
            if firstOutside == nil { firstOutside = (line, CellParser.show(cell)) }
        }
        if let regex {
            let range = NSRange(value.label.startIndex..<value.label.endIndex, in: value.label)
            if regex.firstMatch(in: value.label, range: range) == nil {
                patternMismatches += 1
                if firstMismatch == nil { firstMismatch = (line, CellParser.show(cell)) }
            }
        }
        if !varied {
            if let firstLabel { varied = firstLabel != value.label } else { firstLabel = value.label }
        }
        if let distinctValues {
            var hasher = Hasher()
            hasher.combine(value.label)
            try distinctValues.insert(UInt64(bitPattern: Int64(hasher.finalize())))
        }
    }

    /// Non-missing values of the right type.
    var validValues: Int { numericSample?.seen ?? categoryCounts.values.reduce(0, +) }
}

/// One streaming pass over a data file: per-column profiles and data-set counts.
struct DataProfile {
    var columns: [ColumnProfile]
    var rows = 0
    var malformedRows = 0
    /// The first malformed rows, up to the report limit.
    var malformed: [(line: Int, reason: String)] = []
    var extraColumns: [String] = []
    var duplicateRows = 0

    /// Reads `url` once. With `quality` false only what drift needs is kept (for a reference data set).
    static func read(
        url: URL, format: DataValidator.Format, schema: DataSchema, options: DataValidator.Options, folder: URL, quality: Bool
    ) throws(DataValidationError) -> DataProfile {
        var profile = DataProfile(
            columns: schema.columns.map { ColumnProfile(column: $0, options: options, folder: folder, quality: quality) })
        let limit = schema.quality.malformedRowReportLimit
        let rowHashes = quality ? HashDistinctCounter(memoryLimit: options.hashMemoryLimit, temporaryFolder: folder) : nil
        let missingValues = Set(schema.missingValues)
        func malformed(_ line: Int, _ reason: String) {
            profile.malformedRows += 1
            if profile.malformed.count < limit { profile.malformed.append((line, reason)) }
        }
        switch format {
        case .csv:
            var reader = try CSVReader(url: url, maxRecordBytes: options.maxRecordBytes)
            let position = Dictionary(reader.header.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            let indices = schema.columns.map { position[$0.name] }
            for i in profile.columns.indices where indices[i] == nil { profile.columns[i].present = false }
            let known = Set(schema.columns.map(\.name))
            profile.extraColumns = reader.header.filter { !known.contains($0) }
            while let record = try reader.next() {
                switch record {
                case .malformed(let line, let reason):
                    malformed(line, reason)
                case .fields(let line, let fields):
                    profile.rows += 1
                    for i in profile.columns.indices {
                        guard let index = indices[i] else { continue }
                        let text = fields[index]
                        try profile.columns[i].add(missingValues.contains(text) ? nil : .text(text), line: line, quality: quality)
                    }
                    if let rowHashes {
                        var hasher = Hasher()
                        for field in fields { hasher.combine(field) }
                        try rowHashes.insert(UInt64(bitPattern: Int64(hasher.finalize())))
                    }
                }
            }
        case .jsonLines:
            var reader = try JSONLinesReader(url: url, maxRecordBytes: options.maxRecordBytes)
            while let record = try reader.next() {
                switch record {
                case .malformed(let line, let reason):
                    malformed(line, reason)
                case .object(let line, let fields):
                    profile.rows += 1
                    var hasher = Hasher()
                    for i in profile.columns.indices {
                        let value = fields[profile.columns[i].column.name] ?? .null
                        hasher.combine(value)
                        try profile.columns[i].add(value == .null ? nil : .json(value), line: line, quality: quality)
                    }
                    try rowHashes?.insert(UInt64(bitPattern: Int64(hasher.finalize())))
                }
            }
        }
        if let rowHashes { profile.duplicateRows = rowHashes.total - (try rowHashes.distinct()) }
        for i in profile.columns.indices {
            guard let counter = profile.columns[i].distinctValues else { continue }
            profile.columns[i].duplicateValues = counter.total - (try counter.distinct())
        }
        return profile
    }
}
