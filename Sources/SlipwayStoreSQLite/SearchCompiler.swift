import Foundation
import GRDB
import SlipwayCore
import SlipwayStore

/// Compiles a ``SearchQuery`` to SQL over the schema of ``SQLiteMetadataStore``.
///
/// Values never enter the SQL text: every value is a bound argument. Under ``Plan/drive(_:)``, one tag, parameter or
/// metric clause becomes an `id IN (SELECT … WHERE key = ? AND value …)` subquery that its `(key, value, id)` index
/// answers, and the others become `EXISTS` checks by primary key on the candidates it yields; under ``Plan/walk(through:)``,
/// every such clause is an `EXISTS` check on rows read in index order. The query selects ids only.
struct SearchCompiler {
    enum Target: String {
        case models
        case versions
    }

    let target: Target
    private(set) var joins: [String] = []
    private(set) var joinArguments = StatementArguments()
    private(set) var conditions: [String] = []
    private(set) var whereArguments = StatementArguments()
    private(set) var orderTerms: [String] = []
    /// Whether a version search names the model (`name`), so that `models` must be joined.
    private(set) var usesModelName = false

    init(target: Target) {
        self.target = target
    }

    /// How a search with tag, parameter or metric clauses finds its rows.
    enum Plan: Equatable {
        /// Enumerate the matches of the clause at this index (`IN (SELECT …)` over its index), check the others per
        /// row, then sort what matched: fast when that clause matches few rows.
        case drive(Int)
        /// Walk the rows in the order asked and check every clause per row (`EXISTS` by primary key), stopping at the
        /// limit: fast when the clauses match many rows and an index gives the order. With a position, only the
        /// versions up to it in the default order (newest first) are walked.
        case walk(through: Position?)
    }

    /// A version's place in the default order: `created_at DESC, version DESC, id DESC`.
    struct Position: Equatable {
        var createdAt: Int64
        var version: Int
        var id: Int64
    }

    /// `SELECT <columns> FROM … WHERE … ORDER BY … LIMIT ? OFFSET ?` and its arguments.
    ///
    /// - Parameter plan: How to find the rows; by default, driven by ``drivingClause(_:)``.
    static func compile(
        _ query: SearchQuery, target: Target, columns: String, limit: Int, offset: Int, plan: Plan? = nil
    ) throws -> (String, StatementArguments) {
        var compiler = SearchCompiler(target: target)
        let plan = plan ?? drivingClause(query.filter.clauses).map(Plan.drive) ?? .walk(through: nil)
        for (index, clause) in query.filter.clauses.enumerated() { try compiler.add(clause, drives: plan == .drive(index)) }
        if case .walk(let position?) = plan, target == .versions {
            // A row-value range on the `versions_created (created_at, version)` index: the walk stops at the position.
            compiler.conditions.append("(v.created_at, v.version, v.id) >= (?, ?, ?)")
            compiler.whereArguments += [position.createdAt, position.version, position.id]
        }
        for order in query.order { try compiler.add(order) }
        compiler.addTieBreakers(defaultOrder: query.order.isEmpty)
        let from =
            switch target {
            case .models: "FROM models m"
            case .versions: compiler.usesModelName ? "FROM versions v JOIN models m ON m.id = v.model_id" : "FROM versions v"
            }
        var sql = "SELECT \(columns) \(from)"
        if !compiler.joins.isEmpty { sql += " " + compiler.joins.joined(separator: " ") }
        if !compiler.conditions.isEmpty { sql += " WHERE " + compiler.conditions.joined(separator: " AND ") }
        sql += " ORDER BY " + compiler.orderTerms.joined(separator: ", ") + " LIMIT ? OFFSET ?"
        var arguments = compiler.joinArguments
        arguments += compiler.whereArguments
        arguments += [limit, offset]
        return (sql, arguments)
    }

    // MARK: Filter

    /// Adds a clause. `drives` marks the clause whose matches SQLite should enumerate first (an `IN (SELECT …)`
    /// over the index); the other key-value clauses are checked per candidate row with `EXISTS`, which costs one
    /// primary-key lookup instead of materialising every row matching a broad condition such as `metrics.x > 0`.
    mutating func add(_ clause: SearchClause, drives: Bool) throws {
        if case .attribute(let attribute) = clause.key {
            let column = try column(for: attribute)
            let (sql, arguments) =
                switch column.kind {
                case .text: try Self.textCondition(column.sql, clause)
                case .number: try Self.numberCondition(column.sql, clause, timestamp: false)
                case .timestamp: try Self.numberCondition(column.sql, clause, timestamp: true)
                }
            conditions.append(sql)
            whereArguments += arguments
            return
        }
        guard let keyed = try keyedCondition(clause) else { return }
        if drives {
            conditions.append("\(keyed.id) IN (SELECT \(keyed.owner) FROM \(keyed.table) WHERE key = ? AND \(keyed.condition))")
        } else {
            conditions.append("EXISTS (SELECT 1 FROM \(keyed.table) WHERE \(keyed.owner) = \(keyed.id) AND key = ? AND \(keyed.condition))")
        }
        whereArguments += [keyed.key]
        whereArguments += keyed.arguments
    }

    /// The table, owner column, owner id, key and value condition of a tag, parameter or metric clause; nil for an attribute.
    func keyedCondition(
        _ clause: SearchClause
    ) throws -> (table: String, owner: String, id: String, key: String, condition: String, arguments: StatementArguments)? {
        let table: String
        let owner: String
        let id: String
        let condition: (String, StatementArguments)
        let key: String
        switch clause.key {
        case .attribute:
            return nil
        case .tag(let tag):
            (table, owner, id) =
                switch target {
                case .models: ("model_tags", "model_id", "m.id")
                case .versions: ("version_tags", "version_id", "v.id")
                }
            key = tag
            condition = try Self.textCondition("value", clause)
        case .param(let param):
            try requireVersions(clause.key)
            (table, owner, id, key) = ("version_params", "version_id", "v.id", param)
            condition = try Self.textCondition("value", clause)
        case .metric(let metric):
            try requireVersions(clause.key)
            (table, owner, id, key) = ("version_metrics", "version_id", "v.id", metric)
            condition = try Self.numberCondition("value", clause, timestamp: false)
        }
        return (table, owner, id, key, condition.0, condition.1)
    }

    /// `SELECT count(*)` of the rows a tag, parameter or metric clause matches, counting at most `cap` (an index-only
    /// scan of its `(key, value)` range that stops early); nil for an attribute clause.
    static func candidateCount(_ clause: SearchClause, target: Target, cap: Int) throws -> (String, StatementArguments)? {
        guard let keyed = try SearchCompiler(target: target).keyedCondition(clause) else { return nil }
        var arguments: StatementArguments = [keyed.key]
        arguments += keyed.arguments
        arguments += [cap]
        return ("SELECT count(*) FROM (SELECT 1 FROM \(keyed.table) WHERE key = ? AND \(keyed.condition) LIMIT ?)", arguments)
    }

    /// The clause to enumerate first: the first tag, parameter or metric clause that matches exact values
    /// (`=`, `IN`), else the first such clause at all.
    static func drivingClause(_ clauses: [SearchClause]) -> Int? {
        let keyed = clauses.indices.filter {
            if case .attribute = clauses[$0].key { return false }
            return true
        }
        return keyed.first { [.equal, .in].contains(clauses[$0].op) } ?? keyed.first
    }

    enum ColumnKind {
        case text
        case number
        case timestamp
    }

    mutating func column(for attribute: SearchAttribute) throws -> (sql: String, kind: ColumnKind) {
        if attribute == .name { usesModelName = true }
        switch (target, attribute) {
        case (_, .name): return ("m.name", .text)
        case (.models, .description): return ("m.description", .text)
        case (.models, .userId): return ("m.created_by", .text)
        case (.models, .creationTimestamp): return ("m.created_at", .timestamp)
        case (.models, .lastUpdatedTimestamp): return ("m.updated_at", .timestamp)
        case (.models, _):
            throw StoreError(
                .invalidArgument,
                "registered models cannot be searched or ordered by '\(attribute.rawValue)'; use name, description, user_id, creation_timestamp, "
                    + "last_updated_timestamp or tags.<key>"
            )
        case (.versions, .version): return ("v.version", .number)
        case (.versions, .runId): return ("v.run_id", .text)
        case (.versions, .source): return ("v.source", .text)
        case (.versions, .status): return ("v.status", .text)
        case (.versions, .stage): return ("v.stage", .text)
        case (.versions, .description): return ("v.description", .text)
        case (.versions, .userId): return ("v.created_by", .text)
        case (.versions, .creationTimestamp): return ("v.created_at", .timestamp)
        case (.versions, .lastUpdatedTimestamp): return ("v.updated_at", .timestamp)
        }
    }

    func requireVersions(_ key: SearchKey) throws {
        guard target == .versions else {
            throw StoreError(
                .invalidArgument,
                "registered models have no \(Self.describe(key)); search model versions for it, or use name, description, user_id, timestamps or tags.<key>"
            )
        }
    }

    /// A condition on a text column: `=`, `!=`, `LIKE` (case-sensitive), `ILIKE` (case-insensitive), `IN`, `NOT IN`.
    static func textCondition(_ column: String, _ clause: SearchClause) throws -> (String, StatementArguments) {
        switch clause.op {
        case .equal, .notEqual, .like, .ilike:
            guard case .string(let text) = clause.value else {
                throw StoreError(
                    .invalidArgument,
                    "\(describe(clause.key)) \(clause.op.rawValue) needs a quoted string, e.g. \(describe(clause.key)) \(clause.op.rawValue) 'value'")
            }
            switch clause.op {
            case .equal: return ("\(column) = ?", [text])
            case .notEqual: return ("\(column) != ?", [text])
            // GLOB is case-sensitive: MLflow's `%` and `_` become `*` and `?`, and GLOB's own wildcards are escaped.
            case .like: return ("\(column) GLOB ?", [globPattern(text)])
            default: return ("slipway_fold(\(column)) LIKE slipway_fold(?)", [text])
            }
        case .in, .notIn:
            let values = try list(clause)
            guard !values.isEmpty else { return (clause.op == .in ? "0" : "1", []) }
            let negation = clause.op == .notIn ? "NOT " : ""
            return ("\(column) \(negation)IN (\(Rows.placeholders(values.count)))", StatementArguments(values))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            throw StoreError(
                .invalidArgument,
                "\(describe(clause.key)) is text and cannot be compared with \(clause.op.rawValue); use =, !=, LIKE, ILIKE, IN or NOT IN"
            )
        }
    }

    /// A condition on a numeric column: `=`, `!=`, `<`, `<=`, `>`, `>=`, `IN`, `NOT IN`.
    static func numberCondition(_ column: String, _ clause: SearchClause, timestamp: Bool) throws -> (String, StatementArguments) {
        func number(_ value: SearchValue) throws -> Double {
            switch value {
            case .number(let number) where number.isFinite: return number
            case .string(let text):
                if let number = Double(text), number.isFinite { return number }
                if timestamp, let date = Timestamp.parse(text) { return Double(Timestamp.millis(date)) }
            default: break
            }
            let expected = timestamp ? "milliseconds since 1970 or an ISO 8601 date" : "a number"
            throw StoreError(.invalidArgument, "\(describe(clause.key)) is compared with \(describe(value)), which is not \(expected)")
        }
        switch clause.op {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            return ("\(column) \(clause.op.rawValue) ?", [try number(clause.value)])
        case .in, .notIn:
            let values = try list(clause).map { try number(.string($0)) }
            guard !values.isEmpty else { return (clause.op == .in ? "0" : "1", []) }
            let negation = clause.op == .notIn ? "NOT " : ""
            return ("\(column) \(negation)IN (\(Rows.placeholders(values.count)))", StatementArguments(values))
        case .like, .ilike:
            throw StoreError(
                .invalidArgument,
                "\(describe(clause.key)) is a number and cannot be matched with \(clause.op.rawValue); use =, !=, <, <=, >, >=, IN or NOT IN"
            )
        }
    }

    /// The most values an `IN` list may hold.
    static let maximumListCount = 1000

    static func list(_ clause: SearchClause) throws -> [String] {
        switch clause.value {
        case .list(let values):
            guard values.count <= maximumListCount else {
                throw StoreError(
                    .invalidArgument,
                    "\(describe(clause.key)) \(clause.op.rawValue) has \(values.count) values; a list may hold at most \(maximumListCount)"
                )
            }
            return values
        case .string(let value): return [value]
        case .number(let value): return [String(value)]
        }
    }

    /// The GLOB pattern matching what an SQL LIKE pattern matches, case-sensitively.
    static func globPattern(_ like: String) -> String {
        var glob = ""
        glob.reserveCapacity(like.count)
        for character in like {
            switch character {
            case "%": glob.append("*")
            case "_": glob.append("?")
            case "*": glob.append("[*]")
            case "?": glob.append("[?]")
            case "[": glob.append("[[]")
            default: glob.append(character)
            }
        }
        return glob
    }

    // MARK: Order

    mutating func add(_ order: SearchOrder) throws {
        let direction = order.ascending ? "ASC" : "DESC"
        let alias = "o\(joins.count)"
        switch order.key {
        case .attribute(let attribute):
            orderTerms.append("\(try column(for: attribute).sql) \(direction)")
            return
        case .tag(let key):
            switch target {
            case .models: joins.append("LEFT JOIN model_tags \(alias) ON \(alias).model_id = m.id AND \(alias).key = ?")
            case .versions: joins.append("LEFT JOIN version_tags \(alias) ON \(alias).version_id = v.id AND \(alias).key = ?")
            }
            joinArguments += [key]
        case .param(let key):
            try requireVersions(order.key)
            joins.append("LEFT JOIN version_params \(alias) ON \(alias).version_id = v.id AND \(alias).key = ?")
            joinArguments += [key]
        case .metric(let key):
            try requireVersions(order.key)
            joins.append("LEFT JOIN version_metrics \(alias) ON \(alias).version_id = v.id AND \(alias).key = ?")
            joinArguments += [key]
        }
        // Rows without the key come last in either direction.
        orderTerms.append("\(alias).value IS NULL")
        orderTerms.append("\(alias).value \(direction)")
    }

    /// Makes the order total, so that pages never overlap or skip: by default models by name, versions newest first.
    mutating func addTieBreakers(defaultOrder: Bool) {
        switch target {
        case .models:
            orderTerms.append("m.name ASC")
        case .versions:
            if defaultOrder { orderTerms.append("v.created_at DESC") }
            orderTerms.append("v.version DESC")
            orderTerms.append("v.id DESC")
        }
    }

    // MARK: Descriptions

    static func describe(_ key: SearchKey) -> String {
        switch key {
        case .attribute(let attribute): attribute.rawValue
        case .tag(let key): "tags.\(key)"
        case .param(let key): "params.\(key)"
        case .metric(let key): "metrics.\(key)"
        }
    }

    static func describe(_ value: SearchValue) -> String {
        switch value {
        case .string(let text): "'\(text)'"
        case .number(let number): "\(number)"
        case .list(let values): "(" + values.map { "'\($0)'" }.joined(separator: ", ") + ")"
        }
    }

    /// A canonical text of what a query asks (not where its page starts), for page tokens.
    static func fingerprint(_ query: SearchQuery, target: Target) -> String {
        var text = target.rawValue
        for clause in query.filter.clauses {
            text += "\u{1E}\(describeExactly(clause.key))\u{1F}\(clause.op.rawValue)\u{1F}\(describeExactly(clause.value))"
        }
        text += "\u{1D}"
        for order in query.order {
            text += "\u{1E}\(describeExactly(order.key))\u{1F}\(order.ascending ? "ASC" : "DESC")"
        }
        return Digest(of: Data(text.utf8)).hex
    }

    private static func describeExactly(_ key: SearchKey) -> String {
        switch key {
        case .attribute(let attribute): "a:\(attribute.rawValue)"
        case .tag(let key): "t:\(key)"
        case .param(let key): "p:\(key)"
        case .metric(let key): "m:\(key)"
        }
    }

    private static func describeExactly(_ value: SearchValue) -> String {
        switch value {
        case .string(let text): "s:\(text)"
        case .number(let number): "n:\(number.bitPattern)"
        case .list(let values): "l:\(values.count):" + values.map { "\($0.utf8.count):\($0)" }.joined()
        }
    }
}
