public import Foundation

/// A job handed to a remote runner (`slipway runner`): everything the runner needs to run the job's steps as the run's
/// own process would, and nothing else. It carries the job's secrets, so the control plane gives it only to the runner
/// that takes the job, and never shows it.
public struct RemoteJob: Codable, Sendable, Equatable {
    public var runID: String
    public var runNumber: Int
    /// The job's key in the run (its id, or the leg name of a matrix job).
    public var key: String
    /// The display name.
    public var name: String
    public var jobId: String
    /// The workflow file, relative to the project, and its text (the runner parses it again).
    public var workflowFile: String
    public var workflowSource: String
    public var event: String
    /// The dispatch inputs as given, and the typed `inputs` context as JSON.
    public var inputs: [String: String]
    public var inputsContext: String
    /// The values of `secrets` the job may see (the run's, plus its environment's once approved).
    public var secrets: [String: String]
    public var vars: [String: String]
    public var git: GitSnapshot
    public var actor: String
    public var verbose: Bool
    public var cancelGraceMilliseconds: Int64
    /// The `needs`, `strategy` and `matrix` contexts as JSON.
    public var needs: String
    public var strategy: String
    public var matrix: String
    /// The rendered workflow and job `env:`, in order.
    public var env: [EnvPair]
    public var timeoutMinutes: Double
    public var environment: String?
    /// The digest (on the server's artifact store) of a tar archive of the project's files, extracted as the workspace.
    public var workspace: String?
    /// The run's artifacts so far (their objects are on the server's artifact store).
    public var artifacts: [ArtifactIndex]

    /// One `env:` entry.
    public struct EnvPair: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }
}

/// What a remote runner answers when the job is over.
public struct RemoteJobResult: Codable, Sendable, Equatable {
    public var conclusion: Conclusion
    public var outcome: Conclusion
    public var outputs: [String: String]
    public var error: String?
    /// The runner's name and labels.
    public var runner: String
    public var steps: [StepRecord]
    public var summary: String
    public var annotations: [Annotation]
    /// Artifacts the job uploaded (their objects are on the server's artifact store).
    public var artifacts: [ArtifactIndex]

    public init(
        conclusion: Conclusion, outcome: Conclusion, outputs: [String: String], error: String?, runner: String, steps: [StepRecord] = [],
        summary: String = "", annotations: [Annotation] = [], artifacts: [ArtifactIndex] = []
    ) {
        self.conclusion = conclusion
        self.outcome = outcome
        self.outputs = outputs
        self.error = error
        self.runner = runner
        self.steps = steps
        self.summary = summary
        self.annotations = annotations
        self.artifacts = artifacts
    }
}

/// One line a remote runner streams while a job runs: a line of its live output, or text appended to a step's log.
public struct RemoteEvent: Codable, Sendable, Equatable {
    /// A line of live output (`job | …`, `job / step | …`), already masked.
    public var console: String?
    /// A step log's path relative to the run folder, and the text appended to it.
    public var log: String?
    public var text: String?

    public init(console: String) {
        self.console = console
        self.log = nil
        self.text = nil
    }

    public init(log: String, text: String) {
        self.console = nil
        self.log = log
        self.text = text
    }
}

/// The facts of ``GitInfo`` that travel with a remote job.
public struct GitSnapshot: Codable, Sendable, Equatable {
    public var sha: String?
    public var parentSHA: String?
    public var branch: String?
    public var tag: String?
    public var repository: String?
    public var commitMessage: String?
    public var commitTimestamp: String?
    public var authorName: String?
    public var authorEmail: String?

    public init(_ info: GitInfo) {
        sha = info.sha
        parentSHA = info.parentSHA
        branch = info.branch
        tag = info.tag
        repository = info.repository
        commitMessage = info.commitMessage
        commitTimestamp = info.commitTimestamp
        authorName = info.authorName
        authorEmail = info.authorEmail
    }

    public var info: GitInfo {
        var info = GitInfo()
        info.sha = sha
        info.parentSHA = parentSHA
        info.branch = branch
        info.tag = tag
        info.repository = repository
        info.commitMessage = commitMessage
        info.commitTimestamp = commitTimestamp
        info.authorName = authorName
        info.authorEmail = authorEmail
        return info
    }
}

/// A remote runner as the control plane lists it.
public struct RemoteRunnerInfo: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var labels: [String]
    /// `idle`, `busy` or `offline` (not heard from lately).
    public var state: String
    public var ephemeral: Bool

    public init(id: String, name: String, labels: [String], state: String, ephemeral: Bool) {
        self.id = id
        self.name = name
        self.labels = labels
        self.state = state
        self.ephemeral = ephemeral
    }

    /// Whether it has every label asked for (case-insensitive).
    public func accepts(_ requested: [String]) -> Bool {
        let own = Set(labels.map { $0.lowercased() })
        return requested.allSatisfy { own.contains($0.lowercased()) }
    }
}

/// What a dispatcher reports while a remote job waits and runs.
public enum RemoteJobUpdate: Sendable {
    /// The job waits; the reason says for what (`waiting for a runner with labels [gpu] …`).
    case waiting(String)
    /// A runner took it.
    case started(runner: String)
    /// A line streamed by the runner.
    case event(RemoteEvent)
}

/// Sends jobs to remote runners through a control plane (`slipway run --server URL`).
public protocol JobDispatcher: Sendable {
    /// Runs `job` on a remote runner that has all of `labels`, waiting until one is free; returns its result.
    /// Cancelling (`isCancelled` turning true) asks the runner to stop the job; the result then says cancelled.
    func run(_ job: RemoteJob, labels: [String], update: @escaping @Sendable (RemoteJobUpdate) async -> Void, isCancelled: @escaping @Sendable () -> Bool)
        async throws -> RemoteJobResult
}
