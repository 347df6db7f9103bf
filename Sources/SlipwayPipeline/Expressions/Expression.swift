/// A parsed `${{ … }}` expression of the workflow language.
///
/// Interface used by the workflow parser and the executor; the implementation lives in this
/// folder (parser, evaluator, functions, coercion rules).
public struct Expression: Sendable {
    /// The expression's source text, without the `${{ }}` delimiters.
    public let source: String

    /// Parses an expression (the text between `${{` and `}}`, or a bare `if:` condition).
    /// - Throws: `ExpressionError` with the offset of the problem in `text`.
    public static func parse(_ text: String) throws(ExpressionError) -> Expression {
        Expression(source: text)
    }

    /// Evaluates the expression against the contexts and status of the step or job.
    public func evaluate(in context: ExpressionContext) throws(ExpressionError) -> ExpressionValue {
        throw ExpressionError(message: "expressions are not evaluated yet", offset: 0)
    }
}

/// What an expression can see: the named contexts and the status functions' inputs.
public struct ExpressionContext: Sendable {
    /// `github`, `env`, `vars`, `secrets`, `inputs`, `needs`, `steps`, `job`, `runner`, `matrix`,
    /// `strategy`, by name. A context that is not available where the expression is evaluated is
    /// simply absent (referencing it is an error naming the contexts that are).
    public var contexts: [String: ExpressionValue]
    /// The status that `success()`, `failure()`, `always()` and `cancelled()` read.
    public var status: ExecutionStatus
    /// Computes `hashFiles(patterns…)` relative to the workspace; nil where it is not available.
    public var hashFiles: (@Sendable ([String]) throws -> String)?

    public init(
        contexts: [String: ExpressionValue] = [:],
        status: ExecutionStatus = ExecutionStatus(),
        hashFiles: (@Sendable ([String]) throws -> String)? = nil
    ) {
        self.contexts = contexts
        self.status = status
        self.hashFiles = hashFiles
    }
}

/// The state that the status functions test: whether anything before failed, and whether the run
/// was cancelled. For a job's `if`, "before" means the jobs it needs (transitively); for a step's
/// `if`, the earlier steps of the job.
public struct ExecutionStatus: Sendable, Equatable {
    /// Something the condition depends on failed.
    public var failed: Bool
    /// The run was cancelled.
    public var cancelled: Bool

    public init(failed: Bool = false, cancelled: Bool = false) {
        self.failed = failed
        self.cancelled = cancelled
    }
}

/// An expression that does not parse or cannot be evaluated.
public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in the user's terms.
    public var message: String
    /// Offset in Unicode scalars into the expression text where the problem is.
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}

/// Workflow text with embedded `${{ … }}` expressions, as used in `run:`, `with:`, `env:`, `name:`.
public enum Template {
    /// The expressions embedded in `text`, with their offsets, for validation without evaluation.
    /// - Throws: the first expression that does not parse or is not closed.
    public static func expressions(in text: String) throws(ExpressionError) -> [(offset: Int, expression: Expression)] {
        []
    }

    /// `text` with each `${{ … }}` replaced by its value converted to a string (GitHub's rules:
    /// null → empty, numbers without a trailing `.0`, objects and arrays as JSON).
    public static func render(_ text: String, in context: ExpressionContext) throws(ExpressionError) -> String {
        text
    }

    /// Evaluates a value that may be a whole expression (`${{ matrix.os }}` keeps its type) or text.
    public static func value(of text: String, in context: ExpressionContext) throws(ExpressionError) -> ExpressionValue {
        .string(text)
    }

    /// Evaluates an `if:` condition: with or without `${{ }}`, and with GitHub's implicit
    /// `success() &&` when the condition calls none of the status functions. An empty condition is `success()`.
    public static func condition(_ text: String?, in context: ExpressionContext) throws(ExpressionError) -> Bool {
        !context.status.failed && !context.status.cancelled
    }
}

extension ExpressionValue {
    /// GitHub's truthiness: false, 0, -0, NaN, "" and null are false; everything else is true.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .number(let value): value != 0 && !value.isNaN
        case .string(let value): !value.isEmpty
        case .array, .object: true
        }
    }
}
