/// The phase of a measurement, a metric or a whole analysis run, with Argo Rollouts' names.
public enum AnalysisPhase: String, Sendable, Codable, Equatable, CaseIterable, Comparable {
    /// Nothing measured yet.
    case pending = "Pending"
    /// Measuring; not decided.
    case running = "Running"
    /// Passed.
    case successful = "Successful"
    /// Could not decide (conditions neither held, too little traffic, a marginal judge score): a person decides.
    case inconclusive = "Inconclusive"
    /// The provider kept failing to measure.
    case error = "Error"
    /// Failed: the rollout aborts.
    case failed = "Failed"

    /// `true` for Successful, Inconclusive, Error and Failed.
    public var isCompleted: Bool {
        switch self {
        case .pending, .running: false
        default: true
        }
    }

    /// Order by how bad a completed phase is: Successful < Inconclusive < Error < Failed (the run takes the worst).
    public static func < (a: AnalysisPhase, b: AnalysisPhase) -> Bool { a.rank < b.rank }

    private var rank: Int {
        switch self {
        case .pending: 0
        case .running: 1
        case .successful: 2
        case .inconclusive: 3
        case .error: 4
        case .failed: 5
        }
    }
}

/// What a provider returned for one measurement.
public enum MeasurementOutcome: Sendable, Codable, Equatable {
    /// A value for the conditions to judge.
    case value(ConditionValue)
    /// A provider that decides by itself (a job's exit status, the judge's verdict, the default analysis).
    case decided(AnalysisPhase, message: String)
    /// The minimum-sample guard: too little traffic to measure; the measurement is Inconclusive.
    case insufficientSamples(String)
    /// The provider failed (unreachable, bad answer); the measurement is an Error.
    case error(String)
}

/// One measurement of one metric.
public struct Measurement: Sendable, Codable, Equatable {
    /// Its phase.
    public var phase: AnalysisPhase
    /// The value the conditions saw, if any.
    public var value: ConditionValue?
    /// Why (an error, the guard's reason, the judge's summary).
    public var message: String?
    /// When it was taken, in seconds since the run started.
    public var at: Double

    /// Creates a measurement.
    public init(phase: AnalysisPhase, value: ConditionValue? = nil, message: String? = nil, at: Double) {
        self.phase = phase
        self.value = value
        self.message = message
        self.at = at
    }
}
