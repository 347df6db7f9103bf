import Foundation

/// Walks a schema document, collecting every problem with its JSON pointer instead of stopping at the first.
struct SchemaReader {
    var issues: [SchemaIssue] = []

    mutating func issue(_ pointer: String, _ message: String) {
        issues.append(SchemaIssue(pointer: pointer, message: message))
    }

    static let rootKeys: Set<String> = ["version", "description", "columns", "rows", "missingValues", "quality", "drift"]
    static let columnKeys: Set<String> = [
        "name", "description", "type", "nullable", "min", "max", "categories", "pattern", "unique", "drift", "maxMissingShare", "allowConstant",
        "driftThreshold",
    ]
    static let qualityKeys: Set<String> = [
        "maxMissingShare", "maxDuplicateRowShare", "allowConstantColumns", "failOnExtraColumns", "malformedRowReportLimit",
    ]
    static let driftKeys: Set<String> = ["smallSampleLimit", "pValueThreshold", "distanceThreshold", "datasetDriftShare", "failOnColumnDrift"]

    static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription
            default: return "\(decoding)"
            }
        }
        return error.localizedDescription
    }

    mutating func object(_ value: JSONValue, _ pointer: String, allowed: Set<String>) -> [String: JSONValue]? {
        guard case .object(let fields) = value else {
            issue(pointer, "must be an object, not \(value.typeName)")
            return nil
        }
        for key in fields.keys.sorted() where !allowed.contains(key) {
            issue(pointer + "/" + pointerEscape(key), "unknown key '\(key)'; expected one of \(allowed.sorted().joined(separator: ", "))")
        }
        return fields
    }

    mutating func bool(_ fields: [String: JSONValue], _ key: String, _ pointer: String) -> Bool? {
        guard let value = fields[key] else { return nil }
        guard case .bool(let b) = value else {
            issue(pointer + "/" + key, "must be true or false, not \(value.typeName)")
            return nil
        }
        return b
    }

    mutating func number(_ fields: [String: JSONValue], _ key: String, _ pointer: String) -> Double? {
        guard let value = fields[key] else { return nil }
        guard case .number(let d) = value, d.isFinite else {
            issue(pointer + "/" + key, "must be a number, not \(value.typeName)")
            return nil
        }
        return d
    }

    mutating func share(_ fields: [String: JSONValue], _ key: String, _ pointer: String) -> Double? {
        guard let d = number(fields, key, pointer) else { return nil }
        guard d >= 0, d <= 1 else {
            issue(pointer + "/" + key, "must be a share between 0 and 1, not \(d)")
            return nil
        }
        return d
    }

    mutating func count(_ fields: [String: JSONValue], _ key: String, _ pointer: String, minimum: Int = 0) -> Int? {
        guard let d = number(fields, key, pointer) else { return nil }
        guard d == d.rounded(), d >= Double(minimum), d <= 1e15 else {
            issue(pointer + "/" + key, "must be a whole number of at least \(minimum), not \(d)")
            return nil
        }
        return Int(d)
    }

    mutating func schema(_ root: JSONValue) -> DataSchema? {
        guard let fields = object(root, "", allowed: Self.rootKeys) else { return nil }
        if let version = fields["version"], version != .number(1) {
            issue("/version", "must be 1 (the only schema version), not \(version)")
        }
        if let description = fields["description"], case .string = description {
        } else if fields["description"] != nil {
            issue("/description", "must be a string")
        }
        var schema = DataSchema(columns: [])
        if let rows = fields["rows"], let rowFields = object(rows, "/rows", allowed: ["min", "max"]) {
            schema.minRows = count(rowFields, "min", "/rows")
            schema.maxRows = count(rowFields, "max", "/rows")
            if let lo = schema.minRows, let hi = schema.maxRows, lo > hi {
                issue("/rows/min", "is larger than /rows/max (\(lo) > \(hi))")
            }
        }
        if let missing = fields["missingValues"] {
            if case .array(let items) = missing {
                var values: [String] = []
                for (i, item) in items.enumerated() {
                    if case .string(let s) = item { values.append(s) } else { issue("/missingValues/\(i)", "must be a string, not \(item.typeName)") }
                }
                schema.missingValues = values
            } else {
                issue("/missingValues", "must be an array of strings, not \(missing.typeName)")
            }
        }
        if let quality = fields["quality"], let q = object(quality, "/quality", allowed: Self.qualityKeys) {
            if let v = share(q, "maxMissingShare", "/quality") { schema.quality.maxMissingShare = v }
            if let v = share(q, "maxDuplicateRowShare", "/quality") { schema.quality.maxDuplicateRowShare = v }
            if let v = bool(q, "allowConstantColumns", "/quality") { schema.quality.allowConstantColumns = v }
            if let v = bool(q, "failOnExtraColumns", "/quality") { schema.quality.failOnExtraColumns = v }
            if let v = count(q, "malformedRowReportLimit", "/quality") { schema.quality.malformedRowReportLimit = v }
        }
        if let drift = fields["drift"], let d = object(drift, "/drift", allowed: Self.driftKeys) {
            if let v = count(d, "smallSampleLimit", "/drift") { schema.drift.smallSampleLimit = v }
            if let v = share(d, "pValueThreshold", "/drift") { schema.drift.pValueThreshold = v }
            if let v = number(d, "distanceThreshold", "/drift") {
                if v > 0 { schema.drift.distanceThreshold = v } else { issue("/drift/distanceThreshold", "must be positive, not \(v)") }
            }
            if let v = share(d, "datasetDriftShare", "/drift") { schema.drift.datasetDriftShare = v }
            if let v = bool(d, "failOnColumnDrift", "/drift") { schema.drift.failOnColumnDrift = v }
        }
        guard let columnsValue = fields["columns"] else {
            issue("/columns", "is missing; list the data set's columns, e.g. \"columns\": [{\"name\": \"age\", \"type\": \"integer\"}]")
            return nil
        }
        guard case .array(let items) = columnsValue else {
            issue("/columns", "must be an array of column objects, not \(columnsValue.typeName)")
            return nil
        }
        if items.isEmpty { issue("/columns", "is empty; list at least one column") }
        var seen: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            guard let column = column(item, "/columns/\(i)") else { continue }
            if let first = seen[column.name] {
                issue("/columns/\(i)/name", "repeats the name '\(column.name)' of /columns/\(first); column names must be unique")
                continue
            }
            seen[column.name] = i
            schema.columns.append(column)
        }
        return schema
    }

    mutating func column(_ value: JSONValue, _ pointer: String) -> DataSchema.Column? {
        guard let fields = object(value, pointer, allowed: Self.columnKeys) else { return nil }
        var valid = true
        var name = ""
        switch fields["name"] {
        case .string(let s) where !s.isEmpty: name = s
        case nil:
            issue(pointer, "has no 'name'; give every column the name of its CSV header or JSON key")
            valid = false
        case .some(let other):
            issue(pointer + "/name", "must be a non-empty string, not \(other.typeName)")
            valid = false
        }
        var type = DataSchema.ColumnType.string
        switch fields["type"] {
        case .string(let s):
            if let t = DataSchema.ColumnType(rawValue: s) {
                type = t
            } else {
                issue(
                    pointer + "/type",
                    "unknown type '\(s)'; expected one of \(DataSchema.ColumnType.allCases.map(\.rawValue).joined(separator: ", "))")
                valid = false
            }
        case nil:
            issue(pointer, "has no 'type'; use one of \(DataSchema.ColumnType.allCases.map(\.rawValue).joined(separator: ", "))")
            valid = false
        case .some(let other):
            issue(pointer + "/type", "must be a string, not \(other.typeName)")
            valid = false
        }
        if let description = fields["description"], description.typeName != "a string" {
            issue(pointer + "/description", "must be a string, not \(description.typeName)")
        }
        let numeric = type == .integer || type == .number
        let minimum = number(fields, "min", pointer)
        let maximum = number(fields, "max", pointer)
        if (minimum != nil || maximum != nil) && !numeric && valid {
            issue(pointer + (minimum != nil ? "/min" : "/max"), "applies to integer and number columns only, not \(type.rawValue)")
        }
        if let minimum, let maximum, minimum > maximum {
            issue(pointer + "/min", "is larger than max (\(minimum) > \(maximum))")
        }
        var pattern: String?
        if let p = fields["pattern"] {
            if case .string(let s) = p {
                if type != .string && type != .datetime && valid {
                    issue(pointer + "/pattern", "applies to string and datetime columns only, not \(type.rawValue)")
                } else if (try? NSRegularExpression(pattern: s)) == nil {
                    issue(pointer + "/pattern", "'\(s)' is not a valid regular expression")
                } else {
                    pattern = s
                }
            } else {
                issue(pointer + "/pattern", "must be a string, not \(p.typeName)")
            }
        }
        var categories: [String]?
        if let c = fields["categories"] {
            if case .array(let items) = c, !items.isEmpty {
                var list: [String] = []
                for (i, item) in items.enumerated() {
                    if let text = category(item, type: type) {
                        if list.contains(text) { issue("\(pointer)/categories/\(i)", "repeats the category \(text)") } else { list.append(text) }
                    } else if valid {
                        issue("\(pointer)/categories/\(i)", "\(item.typeName) is not a \(type.rawValue) value")
                    }
                }
                categories = list
            } else {
                issue(pointer + "/categories", "must be a non-empty array of allowed values")
            }
        }
        var drift: DataSchema.DriftKind
        if let d = fields["drift"] {
            if case .string(let s) = d, let kind = DataSchema.DriftKind(rawValue: s) {
                drift = kind
                if kind == .numerical && !numeric && valid {
                    issue(pointer + "/drift", "numerical drift needs an integer or number column, not \(type.rawValue); use categorical or none")
                }
            } else {
                issue(pointer + "/drift", "must be one of numerical, categorical, none")
                drift = .none
            }
        } else {
            switch type {
            case .number: drift = .numerical
            case .integer: drift = categories == nil ? .numerical : .categorical
            case .boolean: drift = .categorical
            case .string: drift = categories == nil ? .none : .categorical
            case .datetime: drift = .none
            }
        }
        let column = DataSchema.Column(
            name: name, type: type, nullable: bool(fields, "nullable", pointer) ?? true, minimum: minimum, maximum: maximum, categories: categories,
            pattern: pattern, unique: bool(fields, "unique", pointer) ?? false, drift: drift,
            maxMissingShare: share(fields, "maxMissingShare", pointer),
            allowConstant: bool(fields, "allowConstant", pointer), driftThreshold: number(fields, "driftThreshold", pointer))
        if let t = column.driftThreshold, t <= 0 { issue(pointer + "/driftThreshold", "must be positive, not \(t)") }
        return valid ? column : nil
    }

    /// The canonical text of an allowed value, or nil when it does not fit the column type.
    func category(_ value: JSONValue, type: DataSchema.ColumnType) -> String? {
        switch (type, value) {
        case (.integer, .number(let d)) where d == d.rounded() && abs(d) < 9.2e18: return String(Int64(d))
        case (.number, .number(let d)) where d.isFinite: return CellParser.canonical(d)
        case (.string, .string(let s)), (.datetime, .string(let s)): return s
        case (.boolean, .bool(let b)): return b ? "true" : "false"
        default: return nil
        }
    }
}
