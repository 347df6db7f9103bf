/// A parsed search filter in MLflow's filter language, extended with `metrics.<k>` and `params.<k>`.
///
/// A filter is a conjunction: every clause must hold. The grammar is MLflow's:
/// `name = 'iris' AND tags.team = 'nlp' AND metrics.accuracy >= 0.9`.
public struct SearchFilter: Sendable, Equatable {
    /// The clauses, all of which must hold.
    public var clauses: [SearchClause]

    public init(clauses: [SearchClause] = []) {
        self.clauses = clauses
    }
}

/// One comparison of a key against a value.
public struct SearchClause: Sendable, Equatable {
    public var key: SearchKey
    public var op: SearchOperator
    public var value: SearchValue

    public init(key: SearchKey, op: SearchOperator, value: SearchValue) {
        self.key = key
        self.op = op
        self.value = value
    }
}

/// What a clause compares.
public enum SearchKey: Sendable, Equatable, Hashable {
    /// A built-in attribute, by its canonical name (see ``SearchAttribute``).
    case attribute(SearchAttribute)
    /// `tags.<key>` (or ``tags.`my key` `` / `tags."my key"`).
    case tag(String)
    /// `metrics.<key>`, compared as a number.
    case metric(String)
    /// `params.<key>`, compared as a string.
    case param(String)
}

/// The attributes a filter or an order clause can name.
public enum SearchAttribute: String, Sendable, Equatable, Hashable, CaseIterable {
    case name
    case version = "version_number"
    case runId = "run_id"
    case source
    case status
    case stage = "current_stage"
    case description
    case userId = "user_id"
    case creationTimestamp = "creation_timestamp"
    case lastUpdatedTimestamp = "last_updated_timestamp"
}

/// A comparison operator.
public enum SearchOperator: String, Sendable, Equatable, Hashable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case like = "LIKE"
    case ilike = "ILIKE"
    case `in` = "IN"
    case notIn = "NOT IN"
}

/// The right-hand side of a clause.
public enum SearchValue: Sendable, Equatable, Hashable {
    case string(String)
    case number(Double)
    case list([String])
}

/// One `ORDER BY` term such as `version_number DESC` or `metrics.accuracy DESC`.
public struct SearchOrder: Sendable, Equatable, Hashable {
    public var key: SearchKey
    public var ascending: Bool

    public init(key: SearchKey, ascending: Bool) {
        self.key = key
        self.ascending = ascending
    }
}
