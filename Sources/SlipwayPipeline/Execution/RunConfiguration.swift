public import Foundation

/// Everything a run needs besides the workflow: where, for which event, with which inputs and secrets, on which runners.
public struct RunConfiguration: Sendable {
    /// The project folder (where `.github/workflows` is); the default workspace.
    public var project: URL
    /// The data folder (`.slipway`): runs, logs, concurrency locks, `vars.yml`.
    public var dataDir: URL
    /// `push` or `workflow_dispatch`.
    public var event: String
    /// `--input name=value` pairs (typed against the workflow's dispatch inputs).
    public var inputs: [String: String]
    /// `secrets.NAME` values; every one is masked.
    public var secrets: [String: String]
    /// `vars.NAME` values; nil reads `<dataDir>/vars.yml` (a simple `name: value` map) when present.
    public var vars: [String: String]?
    /// Jobs the local runner runs at once; nil is the number of cores.
    public var parallelism: Int?
    /// Labels added to the local runner's detected ones.
    public var extraLabels: [String]
    /// Runners to use instead of the local one.
    public var runners: [any PipelineRunner]?
    /// Time between SIGINT and SIGKILL when a step is cancelled (GitHub: 7.5 s).
    public var cancelGrace: Duration
    /// Show `::debug::` lines (also on with the secret or variable `ACTIONS_STEP_DEBUG=true`).
    public var verbose: Bool
    /// The built-in actions `uses:` may name.
    public var actions: ActionRegistry
    /// Called before each job starts (cache lookups, approvals).
    public var hooks: [any JobStartHook]
    /// The environment steps inherit from (filtered to a safe base).
    public var baseEnvironment: [String: String]
    /// The repository facts; nil reads them with git from `project`.
    public var git: GitInfo?
    /// `github.actor`; nil is the OS user.
    public var actor: String?
    /// The secrets of a deployment environment, read when a job that names it may start (after its
    /// approval); they add to and override `secrets` for that job only.
    public var environmentSecrets: (@Sendable (String) throws -> [String: String])?
    /// Remote runners (`slipway run --server URL`): a job whose `runs-on` labels no local runner has goes to them, and
    /// waits, visibly, until one that has all of them is free. Nil: such a job fails at once.
    public var dispatcher: (any JobDispatcher)?
    /// Run every job on remote runners, none on this machine (`slipway run --remote-only`); needs `dispatcher`.
    public var remoteOnly = false

    public init(
        project: URL, dataDir: URL, event: String = "push", inputs: [String: String] = [:], secrets: [String: String] = [:],
        vars: [String: String]? = nil, parallelism: Int? = nil, extraLabels: [String] = [], runners: [any PipelineRunner]? = nil,
        cancelGrace: Duration = .milliseconds(7500), verbose: Bool = false, actions: ActionRegistry = .standard, hooks: [any JobStartHook] = [],
        baseEnvironment: [String: String] = ProcessInfo.processInfo.environment, git: GitInfo? = nil, actor: String? = nil
    ) {
        self.project = project
        self.dataDir = dataDir
        self.event = event
        self.inputs = inputs
        self.secrets = secrets
        self.vars = vars
        self.parallelism = parallelism
        self.extraLabels = extraLabels
        self.runners = runners
        self.cancelGrace = cancelGrace
        self.verbose = verbose
        self.actions = actions
        self.hooks = hooks
        self.baseEnvironment = baseEnvironment
        self.git = git
        self.actor = actor
    }
}

extension RunConfiguration {
    /// A configuration with Slipway's standard parts, as `slipway run` assembles them; callers set what their options
    /// change (parallelism, labels, cancel grace, debug lines) on the result.
    ///
    /// It holds:
    /// - the secrets: the stored ones (`slipway secret set`) overridden by `secrets`, and, for a job that names a
    ///   deployment environment, that environment's own stored secrets (those that differ from the repository's);
    /// - the hooks: approvals of protected environments first, then the job cache;
    /// - every built-in action, run with `executable` and storing artifacts in `dataDir`;
    /// - the steps' environment: `environment` with the folder of `executable` first on `PATH`, so that a workflow's
    ///   `slipway …` commands run this very program;
    /// - the remote runners of `dispatcher`, if any.
    ///
    /// ```swift
    /// let configuration = try RunConfiguration.standard(project: project, dataDir: project.appendingPathComponent(".slipway"),
    ///     executable: executable)
    /// let record = try await WorkflowExecution(workflow: workflow, configuration: configuration,
    ///     store: FileRunStore(dataDir: configuration.dataDir)).run()
    /// ```
    ///
    /// - Parameters:
    ///   - project: the project folder (where `.github/workflows` is).
    ///   - dataDir: the data folder, absolute.
    ///   - event: `push` or `workflow_dispatch`.
    ///   - inputs: the dispatch inputs, as given.
    ///   - secrets: secrets given for this run (from the environment); they override stored ones of the same name.
    ///   - secretStore: the stored secrets; nil opens the data folder's store when it has one (a `secrets` folder) or when
    ///     `environment` sets `SLIPWAY_MASTER_KEY`, and uses none otherwise.
    ///   - executable: the `slipway` program that built-in actions and the steps' `slipway` commands run.
    ///   - environment: the environment the steps inherit from (also where `SLIPWAY_MASTER_KEY` is read).
    ///   - cache: false (`--no-cache`): neither look up nor store cached job results.
    ///   - force: jobs (ids or leg names) that run even when their cached result matches.
    ///   - approvalPollInterval: how often a job waiting for an approval reads the approval file.
    ///   - dispatcher: the remote runners that take jobs whose labels no local runner has; nil: such jobs fail at once.
    ///   - remoteOnly: run every job on `dispatcher`'s runners, none locally (ignored without a dispatcher).
    ///   - actor: `github.actor`; nil is the OS user.
    /// - Throws: when the secret store cannot be opened (a wrong master key, a key file readable by others) or the job
    ///   cache cannot be created in `dataDir`.
    public static func standard(
        project: URL, dataDir: URL, event: String = "push", inputs: [String: String] = [:], secrets: [String: String] = [:],
        secretStore: SecretStore? = nil, executable: URL, environment: [String: String] = ProcessInfo.processInfo.environment,
        cache: Bool = true, force: Set<String> = [], approvalPollInterval: Duration = .milliseconds(250),
        dispatcher: (any JobDispatcher)? = nil, remoteOnly: Bool = false, actor: String? = nil
    ) throws -> RunConfiguration {
        var store = secretStore
        if store == nil,
            FileManager.default.fileExists(atPath: dataDir.appendingPathComponent("secrets").path) || environment["SLIPWAY_MASTER_KEY"] != nil
        {
            store = try SecretStore.open(dataDir: dataDir, environment: environment)
        }
        let storedSecrets = store
        let allSecrets = try storedSecrets.map { try $0.values().merging(secrets) { _, given in given } } ?? secrets
        let hooks: [any JobStartHook] = [
            ApprovalHook(dataDir: dataDir, pollInterval: approvalPollInterval), try JobCacheHook(dataDir: dataDir, enabled: cache, force: force),
        ]
        var baseEnvironment = environment
        let tools = executable.deletingLastPathComponent().path
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        if path.split(separator: ":", omittingEmptySubsequences: false).first.map(String.init) != tools {
            baseEnvironment["PATH"] = tools + ":" + path
        }
        var configuration = RunConfiguration(
            project: project, dataDir: dataDir, event: event, inputs: inputs, secrets: allSecrets,
            actions: .slipway(executable: executable, dataDir: dataDir), hooks: hooks, baseEnvironment: baseEnvironment, actor: actor)
        configuration.environmentSecrets = { name in
            guard let storedSecrets else { return [:] }
            let repository = try storedSecrets.values()
            return try storedSecrets.values(environment: name).filter { repository[$0.key] != $0.value }
        }
        if let dispatcher {
            configuration.dispatcher = dispatcher
            configuration.remoteOnly = remoteOnly
        }
        return configuration
    }
}

/// What a hook sees of a job that is about to start.
public struct JobStartContext: Sendable {
    public var runID: String
    /// The job's key in the run (id or leg name).
    public var key: String
    public var job: Job
    public var matrix: ExpressionObject
    /// `environment:` name, rendered.
    public var environment: String?
    /// The job's rendered `env:`.
    public var env: [String: String]
    /// The names (never the values) of the secrets.
    public var secretNames: [String]
    /// The workflow file, relative to the project.
    public var workflowFile: String
    /// The `needs` context of the job (results and outputs of the jobs it needs).
    public var needs: ExpressionValue
    /// The run's dispatch inputs, as given.
    public var inputs: [String: String]
    /// The folder the job works in.
    public var workspace: URL
    /// Who started the run (`github.actor`).
    public var actor: String
    /// The branch the run is for, if known.
    public var branch: String?
    /// Writes a line to the job's live output.
    public var log: @Sendable (String) -> Void
    /// Whether the run or the job was cancelled (for hooks that wait).
    public var isCancelled: @Sendable () -> Bool

    public init(
        runID: String, key: String, job: Job, matrix: ExpressionObject, environment: String?, env: [String: String], secretNames: [String],
        workflowFile: String = "", needs: ExpressionValue = .null, inputs: [String: String] = [:],
        workspace: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath), actor: String = "", branch: String? = nil,
        log: @escaping @Sendable (String) -> Void = { _ in }, isCancelled: @escaping @Sendable () -> Bool = { false }
    ) {
        self.runID = runID
        self.key = key
        self.job = job
        self.matrix = matrix
        self.environment = environment
        self.env = env
        self.secretNames = secretNames
        self.workflowFile = workflowFile
        self.needs = needs
        self.inputs = inputs
        self.workspace = workspace
        self.actor = actor
        self.branch = branch
        self.log = log
        self.isCancelled = isCancelled
    }
}

/// What a hook decides.
public enum JobStartDecision: Sendable {
    /// Run the job.
    case run
    /// Do not run it: take this result (a cache hit: conclusion success, outputs restored, `cached` true).
    case finished(conclusion: Conclusion, outputs: [String: String], cached: Bool)
}

/// Something that runs before a job starts: a cache lookup, an approval wait.
public protocol JobStartHook: Sendable {
    /// Decides whether the job runs; throwing fails the job with the error's message.
    func beforeStart(_ job: JobStartContext) async throws -> JobStartDecision
    /// Called when a job that this hook let run has finished (to store a cache entry, for example).
    /// `secretValues` are the values the job could see, so that nothing holding one is kept.
    func afterFinish(_ job: JobStartContext, conclusion: Conclusion, outputs: [String: String], secretValues: [String]) async
}

extension JobStartHook {
    public func afterFinish(_ job: JobStartContext, conclusion: Conclusion, outputs: [String: String], secretValues: [String]) async {}
}

/// A workflow that cannot run as written (found before anything runs).
public struct PlanError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { problems.joined(separator: "\n") }
    public init(_ problems: [String]) { self.problems = problems }
}
