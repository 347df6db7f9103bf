public import SlipwayCore

/// Why a validation could not run at all: a missing or unreadable file, an invalid schema, or data too
/// malformed to check (no header row, say). A run that finds bad data does not throw: it reports failed checks.
public struct DataValidationError: SlipwayError, Equatable {
    /// The kind of failure (always ``ErrorKind/invalidArgument`` or ``ErrorKind/notFound`` for input problems).
    public var kind: ErrorKind
    /// What was wrong and what to do about it; for a schema, every problem found, one per line.
    public var message: String
    /// For an invalid schema, each problem with the JSON pointer of the offending key.
    public var schemaIssues: [SchemaIssue]

    /// Creates an error.
    public init(_ kind: ErrorKind, _ message: String, schemaIssues: [SchemaIssue] = []) {
        self.kind = kind
        self.message = message
        self.schemaIssues = schemaIssues
    }

    /// An invalid schema file, listing every problem at once.
    static func invalidSchema(path: String, _ issues: [SchemaIssue]) -> DataValidationError {
        let lines = issues.map { "  \(path): \($0.pointer.isEmpty ? "(document)" : $0.pointer): \($0.message)" }
        let message = "the schema \(path) has \(issues.count) error(s); fix them and run again:\n" + lines.joined(separator: "\n")
        return DataValidationError(.invalidArgument, message, schemaIssues: issues)
    }
}

/// One problem in a schema document.
public struct SchemaIssue: Sendable, Hashable, Codable {
    /// The JSON pointer (RFC 6901) of the offending key or value, e.g. `/columns/3/type`; empty for the whole document.
    public var pointer: String
    /// What is wrong and what is expected instead.
    public var message: String

    /// Creates an issue.
    public init(pointer: String, message: String) {
        self.pointer = pointer
        self.message = message
    }
}
