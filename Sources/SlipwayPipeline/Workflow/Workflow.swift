/// A position in a workflow file (1-based line and column).
public struct SourceLocation: Sendable, Equatable, Hashable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// A parsed workflow file, with GitHub Actions' meaning. Text fields that may hold `${{ }}`
/// expressions are kept as written and evaluated by the executor where GitHub evaluates them.
public struct Workflow: Sendable {
    /// The file's path relative to the project root, e.g. `.github/workflows/ml.yml`.
    public var file: String
    /// `name:`, or nil (GitHub then shows the file path).
    public var name: String?
    /// `run-name:`, unevaluated.
    public var runName: String?
    /// `on:`.
    public var triggers: WorkflowTriggers
    /// Workflow-level `env:` (values unevaluated), in file order.
    public var env: [(name: String, value: String)]
    /// Workflow-level `defaults.run`.
    public var defaults: RunDefaults
    /// Workflow-level `concurrency:`.
    public var concurrency: ConcurrencySpec?
    /// The jobs in file order.
    public var jobs: [Job]
    /// The file's text as parsed (sent to remote runners, which parse it again); empty for a workflow built in code.
    public var source: String = ""

    public init(
        file: String, name: String? = nil, runName: String? = nil, triggers: WorkflowTriggers = WorkflowTriggers(),
        env: [(name: String, value: String)] = [], defaults: RunDefaults = RunDefaults(), concurrency: ConcurrencySpec? = nil,
        jobs: [Job] = []
    ) {
        self.file = file
        self.name = name
        self.runName = runName
        self.triggers = triggers
        self.env = env
        self.defaults = defaults
        self.concurrency = concurrency
        self.jobs = jobs
    }

    /// The job with this id, if any.
    public func job(_ id: String) -> Job? { jobs.first { $0.id == id } }
}

/// `on:`: the events a workflow runs for. Events Slipway does not trigger itself
/// (`pull_request`, `schedule`, …) are kept by name so that a workflow using them still parses.
public struct WorkflowTriggers: Sendable {
    /// `on: push` with its filters, or nil.
    public var push: PushTrigger?
    /// `on: workflow_dispatch` with its inputs, or nil.
    public var workflowDispatch: DispatchTrigger?
    /// Other event names listed under `on:`.
    public var otherEvents: [String]

    public init(push: PushTrigger? = nil, workflowDispatch: DispatchTrigger? = nil, otherEvents: [String] = []) {
        self.push = push
        self.workflowDispatch = workflowDispatch
        self.otherEvents = otherEvents
    }
}

/// `on.push`: glob filters (GitHub's filter pattern syntax: `*`, `**`, `?`, `+`, `[]`, `!` negation).
public struct PushTrigger: Sendable, Equatable {
    public var branches: [String]?
    public var branchesIgnore: [String]?
    public var tags: [String]?
    public var tagsIgnore: [String]?
    public var paths: [String]?
    public var pathsIgnore: [String]?

    public init(
        branches: [String]? = nil, branchesIgnore: [String]? = nil, tags: [String]? = nil, tagsIgnore: [String]? = nil,
        paths: [String]? = nil, pathsIgnore: [String]? = nil
    ) {
        self.branches = branches
        self.branchesIgnore = branchesIgnore
        self.tags = tags
        self.tagsIgnore = tagsIgnore
        self.paths = paths
        self.pathsIgnore = pathsIgnore
    }
}

/// `on.workflow_dispatch`.
public struct DispatchTrigger: Sendable, Equatable {
    public var inputs: [DispatchInput]

    public init(inputs: [DispatchInput] = []) { self.inputs = inputs }
}

/// One `workflow_dispatch` input.
public struct DispatchInput: Sendable, Equatable {
    /// `string`, `boolean`, `number`, `choice` or `environment`.
    public enum Kind: String, Sendable, Equatable { case string, boolean, number, choice, environment }

    public var name: String
    public var description: String?
    public var required: Bool
    /// The default as written (converted to the input's type when the run starts).
    public var defaultValue: String?
    public var kind: Kind
    /// The choices of a `choice` input.
    public var options: [String]

    public init(name: String, description: String? = nil, required: Bool = false, defaultValue: String? = nil, kind: Kind = .string, options: [String] = []) {
        self.name = name
        self.description = description
        self.required = required
        self.defaultValue = defaultValue
        self.kind = kind
        self.options = options
    }
}

/// `defaults.run`.
public struct RunDefaults: Sendable, Equatable {
    public var shell: String?
    public var workingDirectory: String?

    public init(shell: String? = nil, workingDirectory: String? = nil) {
        self.shell = shell
        self.workingDirectory = workingDirectory
    }
}

/// `concurrency:` (a group name, unevaluated, and whether to cancel what runs in the group).
public struct ConcurrencySpec: Sendable, Equatable {
    public var group: String
    public var cancelInProgress: Bool
    /// `cancel-in-progress:` when it is a `${{ }}` expression (e.g. `${{ github.ref != 'refs/heads/main' }}`),
    /// unevaluated; `cancelInProgress` is then false until the expression is evaluated.
    public var cancelInProgressExpression: String?

    public init(group: String, cancelInProgress: Bool = false, cancelInProgressExpression: String? = nil) {
        self.group = group
        self.cancelInProgress = cancelInProgress
        self.cancelInProgressExpression = cancelInProgressExpression
    }
}

/// One job of a workflow.
public struct Job: Sendable {
    /// The key under `jobs:`.
    public var id: String
    /// `name:` (may hold expressions, e.g. matrix values), or nil.
    public var name: String?
    /// `needs:` job ids, in the order written.
    public var needs: [String]
    /// `if:` as written, or nil (then `success()`).
    public var condition: String?
    /// `runs-on:` labels as written (a single label, a list, or the `labels` of `{group, labels}`;
    /// Slipway has no runner groups, so `group` is accepted and not used; labels may hold expressions).
    public var runsOn: [String]
    /// `environment:` name (may hold an expression) and optional URL.
    public var environment: EnvironmentRef?
    /// Job-level `env:`, in file order.
    public var env: [(name: String, value: String)]
    /// Job-level `defaults.run`.
    public var defaults: RunDefaults
    /// `outputs:` name → expression text, in file order.
    public var outputs: [(name: String, value: String)]
    /// `strategy:`, or nil.
    public var strategy: Strategy?
    /// Job-level `concurrency:`.
    public var concurrency: ConcurrencySpec?
    /// `timeout-minutes:` as written (a number or an expression); GitHub's default is 360.
    public var timeoutMinutes: String?
    /// `continue-on-error:` as written (`true`/`false` or an expression).
    public var continueOnError: String?
    /// The steps, in order.
    public var steps: [Step]
    /// Slipway's `cache:` on a job (a key GitHub ignores), or nil.
    public var cache: JobCache?
    /// Where the job's key is in the file.
    public var location: SourceLocation

    public init(
        id: String, name: String? = nil, needs: [String] = [], condition: String? = nil, runsOn: [String] = [],
        environment: EnvironmentRef? = nil, env: [(name: String, value: String)] = [], defaults: RunDefaults = RunDefaults(),
        outputs: [(name: String, value: String)] = [], strategy: Strategy? = nil, concurrency: ConcurrencySpec? = nil,
        timeoutMinutes: String? = nil, continueOnError: String? = nil, steps: [Step] = [], cache: JobCache? = nil,
        location: SourceLocation = SourceLocation(line: 1, column: 1)
    ) {
        self.id = id
        self.name = name
        self.needs = needs
        self.condition = condition
        self.runsOn = runsOn
        self.environment = environment
        self.env = env
        self.defaults = defaults
        self.outputs = outputs
        self.strategy = strategy
        self.concurrency = concurrency
        self.timeoutMinutes = timeoutMinutes
        self.continueOnError = continueOnError
        self.steps = steps
        self.cache = cache
        self.location = location
    }
}

/// `environment:` of a job.
public struct EnvironmentRef: Sendable, Equatable {
    public var name: String
    public var url: String?

    public init(name: String, url: String? = nil) {
        self.name = name
        self.url = url
    }
}

/// `strategy:` of a job.
public struct Strategy: Sendable {
    /// The matrix: dimensions in file order (values are YAML converted to expression values), or
    /// a single expression that produces the whole matrix object (`matrix: ${{ fromJSON(…) }}`).
    public var matrix: MatrixSpec
    /// `fail-fast:` (default true).
    public var failFast: Bool
    /// `max-parallel:`, or nil for no limit.
    public var maxParallel: Int?

    public init(matrix: MatrixSpec, failFast: Bool = true, maxParallel: Int? = nil) {
        self.matrix = matrix
        self.failFast = failFast
        self.maxParallel = maxParallel
    }
}

/// `strategy.matrix`.
public enum MatrixSpec: Sendable {
    /// Dimensions (name → values; a value may itself be an expression string), `include` and `exclude`.
    case literal(dimensions: [(name: String, values: [ExpressionValue])], include: [ExpressionObject], exclude: [ExpressionObject])
    /// The whole matrix is one expression, evaluated when the job is about to run.
    case expression(String)
}

/// One step of a job.
public struct Step: Sendable {
    public var id: String?
    public var name: String?
    public var condition: String?
    /// `run:` script, or nil for a `uses:` step.
    public var run: String?
    /// `uses:` reference (e.g. `actions/checkout@v4`, `slipway/train`), or nil.
    public var uses: String?
    /// `with:` inputs (values unevaluated), in file order.
    public var with: [(name: String, value: String)]
    public var env: [(name: String, value: String)]
    public var shell: String?
    public var workingDirectory: String?
    public var continueOnError: String?
    public var timeoutMinutes: String?
    public var location: SourceLocation

    public init(
        id: String? = nil, name: String? = nil, condition: String? = nil, run: String? = nil, uses: String? = nil,
        with: [(name: String, value: String)] = [], env: [(name: String, value: String)] = [], shell: String? = nil,
        workingDirectory: String? = nil, continueOnError: String? = nil, timeoutMinutes: String? = nil,
        location: SourceLocation = SourceLocation(line: 1, column: 1)
    ) {
        self.id = id
        self.name = name
        self.condition = condition
        self.run = run
        self.uses = uses
        self.with = with
        self.env = env
        self.shell = shell
        self.workingDirectory = workingDirectory
        self.continueOnError = continueOnError
        self.timeoutMinutes = timeoutMinutes
        self.location = location
    }
}

/// Slipway's job cache: `cache: {inputs: [globs], outputs: [paths]}`.
public struct JobCache: Sendable, Equatable {
    public var inputs: [String]
    public var outputs: [String]

    public init(inputs: [String] = [], outputs: [String] = []) {
        self.inputs = inputs
        self.outputs = outputs
    }
}
