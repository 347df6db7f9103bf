public import Foundation

/// How a run, a job or a step ended, with GitHub's names.
public enum Conclusion: String, Codable, Sendable, Equatable {
    case success, failure, cancelled, skipped
}

/// Where a job or a run is in its life.
public enum RunState: String, Codable, Sendable, Equatable {
    /// Not started: waiting for its needs, a concurrency group or a free runner (see the waiting reason).
    case waiting
    /// Running.
    case inProgress = "in_progress"
    /// Ended; the conclusion says how.
    case completed
}

/// A message raised by `::error`, `::warning` or `::notice` (or by Slipway itself about a job or step).
public struct Annotation: Codable, Sendable, Equatable {
    /// `error`, `warning` or `notice`.
    public var level: String
    public var message: String
    public var title: String?
    public var file: String?
    public var line: Int?
    public var column: Int?
    /// The job (leg name) and step that raised it.
    public var job: String?
    public var step: String?

    public init(
        level: String, message: String, title: String? = nil, file: String? = nil, line: Int? = nil, column: Int? = nil, job: String? = nil,
        step: String? = nil
    ) {
        self.level = level
        self.message = message
        self.title = title
        self.file = file
        self.line = line
        self.column = column
        self.job = job
        self.step = step
    }
}

/// One step of a job as it ran.
public struct StepRecord: Codable, Sendable, Equatable {
    /// 1-based position in the job.
    public var number: Int
    public var id: String?
    public var name: String
    /// The result before `continue-on-error` (`steps.<id>.outcome`).
    public var outcome: Conclusion?
    /// The result after `continue-on-error` (`steps.<id>.conclusion`).
    public var conclusion: Conclusion?
    public var outputs: [String: String]
    /// The step's log file, relative to the run's folder (nil for a step that did not run).
    public var log: String?
    /// Why the step failed, when Slipway knows (masked).
    public var error: String?
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(number: Int, id: String?, name: String) {
        self.number = number
        self.id = id
        self.name = name
        self.outputs = [:]
    }
}

/// One job (or one leg of a matrix job) of a run.
public struct JobRecord: Codable, Sendable, Equatable {
    /// The key in the run's result: the job id, or the leg name for a matrix leg (`test (3.11, linux)`).
    public var key: String
    /// The job's id under `jobs:`.
    public var jobId: String
    /// The name shown (`name:` rendered, or the key).
    public var name: String
    /// The matrix leg's values as JSON, or nil.
    public var matrix: String?
    public var state: RunState
    /// Why a waiting job waits ("waiting for needs: build, test", "waiting for a free runner").
    public var waitingReason: String?
    public var conclusion: Conclusion?
    /// The result before `continue-on-error`.
    public var outcome: Conclusion?
    public var outputs: [String: String]
    /// Whether the job's result came from the cache instead of running.
    public var cached: Bool
    /// The run whose result this job took instead of running (`slipway runs rerun --failed`); nil when it ran.
    /// Absent from records written before reruns existed.
    public var reusedFrom: String?
    /// `environment:` name, when the job has one.
    public var environment: String?
    /// The runner that ran it.
    public var runner: String?
    /// Why the job failed or was skipped, when it is not a step's failure (masked).
    public var error: String?
    /// The steps' `GITHUB_STEP_SUMMARY` contents, joined (masked).
    public var summary: String
    public var steps: [StepRecord]
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(key: String, jobId: String, name: String) {
        self.key = key
        self.jobId = jobId
        self.name = name
        self.state = .waiting
        self.outputs = [:]
        self.cached = false
        self.summary = ""
        self.steps = []
    }
}

/// A run of one workflow: what `slipway runs show` prints, stored as JSON by a `RunStore`.
public struct RunRecord: Codable, Sendable, Equatable {
    public var id: String
    /// The workflow file relative to the project.
    public var workflow: String
    /// The workflow's `name:` or its file.
    public var workflowName: String
    /// Per-workflow run counter (`github.run_number`).
    public var runNumber: Int
    public var event: String
    /// Dispatch inputs as given (masked).
    public var inputs: [String: String]
    public var sha: String
    public var ref: String
    public var state: RunState
    public var conclusion: Conclusion?
    /// The `slipway run` process, so that another run can cancel it (`cancel-in-progress`).
    public var pid: Int32
    public var jobs: [JobRecord]
    public var annotations: [Annotation]
    /// Why the run could not start or failed as a whole (masked).
    public var error: String?
    /// The run this one reruns (`slipway runs rerun`); nil for a run started by `slipway run`.
    /// Absent from records written before reruns existed.
    public var rerunOf: String?
    public var startedAt: Date
    public var finishedAt: Date?

    public init(
        id: String, workflow: String, workflowName: String, runNumber: Int, event: String, sha: String, ref: String, pid: Int32, startedAt: Date
    ) {
        self.id = id
        self.workflow = workflow
        self.workflowName = workflowName
        self.runNumber = runNumber
        self.event = event
        self.inputs = [:]
        self.sha = sha
        self.ref = ref
        self.state = .waiting
        self.pid = pid
        self.jobs = []
        self.annotations = []
        self.startedAt = startedAt
    }

    /// The job record under `key`.
    public func job(_ key: String) -> JobRecord? { jobs.first { $0.key == key } }
}

/// The document `slipway run --json` prints: `{"id", "conclusion", "jobs": {KEY: {"conclusion", "outputs", "cached"}}}`.
public struct RunSummary: Codable, Sendable, Equatable {
    public struct JobSummary: Codable, Sendable, Equatable {
        public var conclusion: Conclusion
        public var outputs: [String: String]
        public var cached: Bool
    }

    public var id: String
    public var conclusion: Conclusion
    public var jobs: [String: JobSummary]

    /// The summary of a finished run.
    public init(_ record: RunRecord) {
        id = record.id
        conclusion = record.conclusion ?? .cancelled
        var jobs: [String: JobSummary] = [:]
        for job in record.jobs {
            jobs[job.key] = JobSummary(conclusion: job.conclusion ?? .cancelled, outputs: job.outputs, cached: job.cached)
        }
        self.jobs = jobs
    }
}
