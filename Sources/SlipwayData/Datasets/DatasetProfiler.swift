public import Foundation
public import SlipwayCore

/// What registering a dataset learns from its data: rows, columns and the type of each, and the time
/// range of a named time column. Reads CSV (`.csv`) and JSON Lines (`.jsonl`, `.ndjson`) files as
/// streams, with the same readers as `slipway data validate`; a folder is every such file in it (rows
/// added up, columns in the order first seen). Other data is registered by digest, size and files alone.
public struct DatasetProfile: Sendable, Equatable {
    public var rows: Int64?
    public var columns: [DatasetColumn]
    public var dateFrom: String?
    public var dateTo: String?
    /// Records that could not be read (wrong field count, bad JSON…); not counted in `rows`.
    public var malformedRecords: Int

    /// Reads the data at `url` (a file or a folder).
    /// - Parameter timeColumn: a column whose first and last value (ISO 8601 compared as text) become the date range.
    /// - Throws: `invalidArgument` when the time column is not a column of the data, or a file cannot be read.
    public static func profile(of url: URL, timeColumn: String?) throws -> DatasetProfile {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw GenericError(.notFound, "\(url.path) does not exist; run `slipway data checkout` to restore it from the cache")
        }
        var files: [URL] = []
        if isFolder.boolValue {
            let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            while let next = walker?.nextObject() as? URL {
                if kind(of: next) != nil { files.append(next) }
            }
            files.sort { $0.path < $1.path }
        } else if kind(of: url) != nil {
            files = [url]
        }
        guard !files.isEmpty else { return DatasetProfile(rows: nil, columns: [], malformedRecords: 0) }
        var profiler = Profiler(timeColumn: timeColumn)
        for file in files {
            do throws(DataValidationError) {
                switch kind(of: file)! {
                case .csv: try profiler.readCSV(file)
                case .jsonLines: try profiler.readJSONLines(file)
                }
            } catch {
                throw GenericError(.invalidArgument, "\(file.path) cannot be profiled: \(error.message)")
            }
        }
        if let timeColumn, !profiler.names.contains(timeColumn) {
            throw GenericError(
                .invalidArgument,
                "the time column '\(timeColumn)' is not a column of \(url.lastPathComponent); its columns are \(profiler.names.prefix(20).joined(separator: ", "))")
        }
        return profiler.result
    }

    enum FileKind { case csv, jsonLines }

    static func kind(of url: URL) -> FileKind? {
        switch url.pathExtension.lowercased() {
        case "csv": .csv
        case "jsonl", "ndjson": .jsonLines
        default: nil
        }
    }

    /// The narrowest type every value of a column had so far.
    enum Inferred: Int, Comparable {
        case empty, integer, number, boolean, datetime, string
        static func < (a: Inferred, b: Inferred) -> Bool { a.rawValue < b.rawValue }

        var name: String {
            switch self {
            case .empty: "empty"
            case .integer: "integer"
            case .number: "number"
            case .boolean: "boolean"
            case .datetime: "datetime"
            case .string: "string"
            }
        }

        /// The type of one value.
        static func of(_ cell: RawCell) -> Inferred {
            if CellParser.parse(cell, as: .integer) != nil { return .integer }
            if CellParser.parse(cell, as: .number) != nil { return .number }
            if CellParser.parse(cell, as: .boolean) != nil { return .boolean }
            if CellParser.parse(cell, as: .datetime) != nil { return .datetime }
            return .string
        }

        /// Both types' values: integers widen to numbers; any other mix is text.
        func merged(_ other: Inferred) -> Inferred {
            if self == .empty { return other }
            if other == .empty || other == self { return self }
            if Set([self, other]) == [.integer, .number] { return .number }
            return .string
        }
    }

    struct Profiler {
        let timeColumn: String?
        var names: [String] = []
        var types: [String: Inferred] = [:]
        var rows: Int64 = 0
        var malformed = 0
        var from: String?
        var to: String?

        init(timeColumn: String?) { self.timeColumn = timeColumn }

        mutating func column(_ name: String) {
            if types[name] == nil {
                names.append(name)
                types[name] = .empty
            }
        }

        mutating func add(_ name: String, _ cell: RawCell?) {
            guard let cell else { return }
            types[name] = (types[name] ?? .empty).merged(Inferred.of(cell))
            if name == timeColumn {
                let text: String
                switch cell {
                case .text(let s): text = s
                case .json(.string(let s)): text = s
                case .json(.number(let d)): text = CellParser.canonical(d)
                case .json: return
                }
                if from.map({ text < $0 }) ?? true { from = text }
                if to.map({ text > $0 }) ?? true { to = text }
            }
        }

        mutating func readCSV(_ url: URL) throws(DataValidationError) {
            var reader = try CSVReader(url: url)
            for name in reader.header { column(name) }
            let header = reader.header
            while let record = try reader.next() {
                switch record {
                case .malformed: malformed += 1
                case .fields(_, let fields):
                    rows += 1
                    for (name, field) in zip(header, fields) { add(name, field.isEmpty ? nil : .text(field)) }
                }
            }
        }

        mutating func readJSONLines(_ url: URL) throws(DataValidationError) {
            var reader = try JSONLinesReader(url: url)
            while let record = try reader.next() {
                switch record {
                case .malformed: malformed += 1
                case .object(_, let object):
                    rows += 1
                    for (name, value) in object.sorted(by: { $0.key < $1.key }) {
                        column(name)
                        if case .null = value { continue }
                        add(name, .json(value))
                    }
                }
            }
        }

        var result: DatasetProfile {
            DatasetProfile(
                rows: rows, columns: names.map { DatasetColumn(name: $0, type: (types[$0] ?? .empty).name) }, dateFrom: from, dateTo: to,
                malformedRecords: malformed)
        }
    }
}
