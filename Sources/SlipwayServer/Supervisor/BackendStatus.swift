public import Foundation

/// What the supervisor runs for one variant of an endpoint whose backend is a command or the built-in
/// model server: the replicas, whether they serve, and how their restarts go. Shown in the endpoint
/// status under `backends`, by variant.
public struct BackendStatus: Sendable, Codable, Equatable {
    /// `command` or `builtin`.
    public var kind: String
    /// The shell command (for `command` backends).
    public var command: String?
    /// The deployed `model@version`.
    public var modelVersion: String
    /// How many replicas the deployment asks for.
    public var desiredReplicas: Int
    /// How many replicas are in the gateway's routing table now.
    public var readyReplicas: Int
    /// The `model@version` the gateway routes to; during a redeploy the previous one until the new replicas are ready.
    public var servingModelVersion: String?
    /// Where the version's artifact is materialised (`$MODEL_DIR`).
    public var modelDir: String?
    /// Why no replica can start, if so (for example a version without a stored artifact).
    public var problem: String?
    /// Every replica process, including those of a version being replaced or stopped.
    public var replicas: [ReplicaStatus]

    public init(
        kind: String, command: String? = nil, modelVersion: String, desiredReplicas: Int, readyReplicas: Int, servingModelVersion: String? = nil,
        modelDir: String? = nil, problem: String? = nil, replicas: [ReplicaStatus] = []
    ) {
        self.kind = kind
        self.command = command
        self.modelVersion = modelVersion
        self.desiredReplicas = desiredReplicas
        self.readyReplicas = readyReplicas
        self.servingModelVersion = servingModelVersion
        self.modelDir = modelDir
        self.problem = problem
        self.replicas = replicas
    }
}

/// One supervised model-server process.
public struct ReplicaStatus: Sendable, Codable, Equatable {
    /// Where a replica is in its life.
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Waiting for its model folder, for its first start or for the end of a restart back-off.
        case waiting
        /// Started; not answering `GET /v2/health/ready` yet.
        case starting
        /// Answering readiness checks.
        case ready
        /// Out of the routing table, finishing the requests it already has before it is stopped.
        case draining
        /// Sent SIGTERM (SIGKILL after the grace period).
        case stopping
    }

    /// The replica's index within its deployment (0 ..< replicas).
    public var slot: Int
    /// The `model@version` this process serves.
    public var modelVersion: String
    public var state: State
    /// Whether it answers readiness checks (`state` is `ready`).
    public var ready: Bool
    /// Whether the gateway routes requests to it (ready, and of the version the variant serves).
    public var serving: Bool
    /// The process id (also its process group), while it runs.
    public var pid: Int32?
    /// The port it listens on (`$PORT`), while it runs.
    public var port: Int?
    /// How often it was started again after it exited or stopped answering.
    public var restarts: Int
    /// When the current process started.
    public var startedAt: Date?
    /// How the previous process ended.
    public var lastExit: ReplicaExit?
    /// The delay before the pending restart (0.5 s doubling up to 30 s; reset after a minute up).
    public var backoffSeconds: Double?
    /// When the pending restart happens.
    public var nextRestartAt: Date?
    /// The file its stdout and stderr go to.
    public var logFile: String

    public init(
        slot: Int, modelVersion: String, state: State, serving: Bool, pid: Int32? = nil, port: Int? = nil, restarts: Int = 0,
        startedAt: Date? = nil, lastExit: ReplicaExit? = nil, backoffSeconds: Double? = nil, nextRestartAt: Date? = nil, logFile: String
    ) {
        self.slot = slot
        self.modelVersion = modelVersion
        self.state = state
        self.ready = state == .ready
        self.serving = serving
        self.pid = pid
        self.port = port
        self.restarts = restarts
        self.startedAt = startedAt
        self.lastExit = lastExit
        self.backoffSeconds = backoffSeconds
        self.nextRestartAt = nextRestartAt
        self.logFile = logFile
    }
}

/// How a replica process ended.
public struct ReplicaExit: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The exit status, when it exited.
    public var code: Int32?
    /// The signal, when a signal ended it.
    public var signal: Int32?
    /// Why it ended, in words: `exited with status 3`, `killed by signal 9`, `did not answer readiness checks`.
    public var reason: String
    public var at: Date

    public init(code: Int32? = nil, signal: Int32? = nil, reason: String, at: Date) {
        self.code = code
        self.signal = signal
        self.reason = reason
        self.at = at
    }

    public var description: String { reason }
}
