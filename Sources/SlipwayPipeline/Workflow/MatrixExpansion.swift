/// Expands `strategy.matrix` into the job's legs, with GitHub's rules for `include` and `exclude`.
public enum MatrixExpansion {
    /// The combinations of a matrix, in GitHub's order: the cartesian product of the dimensions
    /// (first dimension varying slowest), minus `exclude` matches, then `include` entries merged
    /// into matching combinations or appended. A matrix given as an expression is evaluated in
    /// `context` first. An empty result is an error (a matrix that expands to nothing).
    public static func legs(of spec: MatrixSpec, in context: ExpressionContext) throws(ExpressionError) -> [ExpressionObject] {
        throw ExpressionError(message: "matrix expansion is not available yet", offset: 0)
    }

    /// The name GitHub gives a leg: `test (3.11, linux)` — the job's name or id followed by the
    /// leg's values in dimension order (objects as JSON), or the job name alone for no matrix.
    public static func legName(job: String, leg: ExpressionObject) -> String {
        leg.entries.isEmpty ? job : job
    }
}

/// Whether a workflow runs for an event.
public struct TriggerEvent: Sendable, Equatable {
    /// `push` or `workflow_dispatch` (others are accepted by name).
    public var name: String
    /// The branch pushed (`main`), or nil for a tag push.
    public var branch: String?
    /// The tag pushed, or nil.
    public var tag: String?
    /// Paths changed by the push, relative to the repository root (from `git diff`); nil when unknown
    /// (path filters then match, as GitHub does for a first push).
    public var changedPaths: [String]?

    public init(name: String, branch: String? = nil, tag: String? = nil, changedPaths: [String]? = nil) {
        self.name = name
        self.branch = branch
        self.tag = tag
        self.changedPaths = changedPaths
    }
}

extension WorkflowTriggers {
    /// Whether the workflow runs for `event`, applying branch, tag and path filters with GitHub's
    /// pattern syntax and its rules for positive and negative (`!`) patterns.
    public func matches(_ event: TriggerEvent) -> Bool {
        switch event.name {
        case "push": push != nil
        case "workflow_dispatch": workflowDispatch != nil
        default: otherEvents.contains(event.name)
        }
    }
}
