public import Foundation

/// The messages of the runner protocol (`/api/v1/runners`, `/api/v1/pipeline-jobs`), shared by the server and by
/// `slipway run --server` and `slipway runner`.
public enum RunnerWire {
    /// A registered runner.
    public struct Runner: Codable, Sendable {
        public var id: String
        public var name: String
        public var labels: [String]
        public var ephemeral: Bool
        /// `idle`, `busy` or `offline`.
        public var state: String
        /// The job it runs, if any.
        public var job: String?
        public var registeredAt: Date
        public var lastSeenAt: Date
        /// How many jobs it has taken.
        public var jobsTaken: Int
    }

    /// A job as the run that submitted it sees it (never its payload).
    public struct JobStatus: Codable, Sendable {
        public var id: String
        public var name: String
        public var run: String
        public var labels: [String]
        /// `queued`, `running`, `completed` or `cancelled`.
        public var state: String
        public var runner: String?
        /// Why a queued job waits.
        public var waitingReason: String?
        public var cancelRequested: Bool
        public var createdAt: Date
        public var startedAt: Date?
        public var finishedAt: Date?
        /// The streamed lines from `after` on, and the index to ask from next.
        public var lines: [String]
        public var next: Int
        /// The runner's result (JSON text) once completed.
        public var result: String?
        /// Why the job ended without a result from its runner (runner lost, cancelled while queued).
        public var error: String?
    }

    /// What a runner gets when it takes a job.
    public struct Assignment: Codable, Sendable {
        public var id: String
        public var name: String
        /// The job (a JSON object, as text), with its secrets: given only to this runner.
        public var payload: String
    }

    /// `POST runners`.
    public struct RegisterRunner: Codable, Sendable {
        public var name: String
        public var labels: [String]
        public var ephemeral: Bool?
        public init(name: String, labels: [String], ephemeral: Bool) {
            self.name = name
            self.labels = labels
            self.ephemeral = ephemeral
        }
    }

    /// `GET runners`.
    public struct RunnerList: Codable, Sendable {
        public var runners: [Runner]
    }

    /// `POST runners/{id}/next` when there is a job.
    public struct NextJob: Codable, Sendable {
        public var job: Assignment
    }

    /// `POST pipeline-jobs`.
    public struct SubmitJob: Codable, Sendable {
        public var name: String
        public var run: String
        public var labels: [String]
        /// The job, a JSON object as text.
        public var payload: String
        public init(name: String, run: String, labels: [String], payload: String) {
            self.name = name
            self.run = run
            self.labels = labels
            self.payload = payload
        }
    }

    /// `POST pipeline-jobs/{id}/lines`.
    public struct AppendLines: Codable, Sendable {
        public var runner: String
        public var lines: [String]
        public init(runner: String, lines: [String]) {
            self.runner = runner
            self.lines = lines
        }
    }

    /// The answer to `POST pipeline-jobs/{id}/lines`: whether the job was cancelled.
    public struct AppendAnswer: Codable, Sendable {
        public var cancelled: Bool
    }

    /// `POST pipeline-jobs/{id}/result`.
    public struct CompleteJob: Codable, Sendable {
        public var runner: String
        /// The result, a JSON object as text.
        public var result: String
        public init(runner: String, result: String) {
            self.runner = runner
            self.result = result
        }
    }
}
