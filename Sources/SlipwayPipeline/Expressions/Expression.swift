/// A parsed `${{ … }}` expression of the workflow language.
///
/// The language is GitHub Actions': literals (`null`, `true`, `false`, numbers such as `711`,
/// `-9.2`, `0xff`, `-2.99e-2`, strings in single quotes with `''` for a quote), context references
/// with `.name`, `['name']`, `[expression]` and the object filter `*`, the operators
/// `! < <= > >= == != && ||` with GitHub's loose comparison rules, and the functions `contains`,
/// `startsWith`, `endsWith`, `format`, `join`, `toJSON`, `fromJSON`, `hashFiles`, `success`,
/// `failure`, `always` and `cancelled`.
///
/// Comparison follows GitHub: values of different types are compared as numbers, strings ignore
/// case, NaN compares false, and arrays and objects are equal only to themselves. "Themselves" means
/// the same context path (`github.event == github['EVENT']`); every array or object made by a
/// function or an object filter is a new instance (`fromJSON('[]') == fromJSON('[]')` is false).
///
/// ```swift
/// let expression = try Expression.parse("matrix.python >= 3.11 && !cancelled()")
/// let value = try expression.evaluate(in: context)
/// ```
public struct Expression: Sendable {
    /// The expression's source text, without the `${{ }}` delimiters.
    public let source: String
    /// The syntax tree.
    let root: ExpressionNode

    /// The context names GitHub defines; an expression may refer to these and no others.
    public static let knownContexts = ["github", "env", "vars", "secrets", "inputs", "needs", "steps", "job", "jobs", "runner", "matrix", "strategy"]

    /// Parses an expression (the text between `${{` and `}}`, or a bare `if:` condition).
    /// - Throws: `ExpressionError` with the offset of the problem in `text`.
    public static func parse(_ text: String) throws(ExpressionError) -> Expression {
        try parse(text, allowedContexts: knownContexts)
    }

    /// Parses an expression that may refer only to the named contexts (GitHub allows different
    /// contexts in different keys, e.g. no `steps` in a job's `runs-on`).
    /// - Throws: `ExpressionError` with the offset of the problem in `text`; a context outside
    ///   `allowedContexts` is an error that lists the allowed ones.
    public static func parse(_ text: String, allowedContexts: [String]) throws(ExpressionError) -> Expression {
        let tokens = try ExpressionLexer(text).tokenize()
        var parser = ExpressionParser(tokens: tokens, source: text, allowedContexts: allowedContexts)
        return Expression(source: text, root: try parser.parse())
    }

    /// Evaluates the expression against the contexts and status of the step or job.
    /// - Throws: `ExpressionError` for a context that is not available here, `fromJSON` of text
    ///   that is not JSON, a bad `format` string, or `hashFiles` where files cannot be hashed.
    public func evaluate(in context: ExpressionContext) throws(ExpressionError) -> ExpressionValue {
        try ExpressionEvaluator(context: context, source: source).evaluate(root).value
    }

    /// Whether the expression calls `success()`, `failure()`, `always()` or `cancelled()`; an `if:`
    /// that does not is evaluated as `success() && (…)`.
    public var callsStatusFunction: Bool {
        var found = false
        root.forEach { node in
            if case .call(let function, _, _) = node, function.isStatusFunction { found = true }
        }
        return found
    }

    /// The contexts the expression refers to (lower-case, e.g. `["matrix", "steps"]`), in order of
    /// first use; the executor can tell from this what an expression depends on.
    public var referencedContexts: [String] {
        var names: [String] = []
        root.forEach { node in
            if case .context(let name, _) = node, !names.contains(name.lowercased()) { names.append(name.lowercased()) }
        }
        return names
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

    /// The context named `name`, compared case-insensitively (`GitHub.ref` is `github.ref`).
    func context(named name: String) -> ExpressionValue? {
        if let exact = contexts[name] { return exact }
        let folded = name.lowercased()
        return contexts.first { $0.key.lowercased() == folded }?.value
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
    /// Something the condition depends on did not succeed without having failed (a needed job was
    /// skipped): `success()` is false, `failure()` stays false.
    public var incomplete: Bool

    public init(failed: Bool = false, cancelled: Bool = false, incomplete: Bool = false) {
        self.failed = failed
        self.cancelled = cancelled
        self.incomplete = incomplete
    }

    /// `success()`: everything before succeeded and the run was not cancelled.
    public var isSuccess: Bool { !failed && !cancelled && !incomplete }
}

/// An expression that does not parse or cannot be evaluated.
public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in the user's terms.
    public var message: String
    /// Offset in Unicode scalars into the expression text where the problem is (0-based; messages
    /// say "position N" counting from 1, as GitHub does).
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
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
