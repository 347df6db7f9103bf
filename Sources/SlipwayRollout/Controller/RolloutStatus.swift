public import Foundation
public import SlipwayStore

/// A rollout as `rollout status` and the API show it: where it stands, its spec, the endpoint's weights
/// and each analysis metric's latest measurements and verdicts.
public struct RolloutStatus: Sendable, Codable, Equatable {
    public var name: String
    public var endpoint: String
    public var phase: RolloutPhase
    public var reason: String
    /// The index of the current step, and how many steps there are.
    public var step: Int
    public var stepCount: Int
    /// The current step in YAML's words (`setWeight: 20`, `pause: 30s`, `analysis`), nil once past the last.
    public var currentStep: String?
    public var strategy: String
    public var candidate: String
    public var candidateVariant: String
    public var stableVariant: String
    /// The candidate's weight the controller last applied.
    public var candidateWeight: Double
    /// The endpoint's weights now (percent per variant); empty when they could not be read.
    public var weights: [String: Double]
    /// The deadline of the current timed pause.
    public var pauseUntil: Date?
    /// The analysis of the current step (or the last one that ended).
    public var analysis: AnalysisStatus?
    /// The canary's background analysis, once started.
    public var backgroundAnalysis: AnalysisStatus?
    /// Milliseconds from the failing measurement to the routing table without the candidate, at the last rollback.
    public var rollbackMilliseconds: Double?
    /// Progress of a blue-green rollout.
    public var blueGreen: BlueGreenState?
    /// Progress and report of an experiment.
    public var experiment: ExperimentState?
    /// Progress and report of a shadow test.
    public var shadow: ShadowState?
    /// Progress of a rolling update.
    public var rolling: RollingState?
    public var spec: RolloutSpec
    public var createdAt: Date
    public var updatedAt: Date
    public var createdBy: String
    public var revision: Int

    public init(
        name: String, endpoint: String, phase: RolloutPhase, reason: String, step: Int, stepCount: Int, currentStep: String?, strategy: String,
        candidate: String, candidateVariant: String, stableVariant: String, candidateWeight: Double, weights: [String: Double],
        pauseUntil: Date?, analysis: AnalysisStatus?, spec: RolloutSpec, createdAt: Date, updatedAt: Date, createdBy: String, revision: Int
    ) {
        self.name = name
        self.endpoint = endpoint
        self.phase = phase
        self.reason = reason
        self.step = step
        self.stepCount = stepCount
        self.currentStep = currentStep
        self.strategy = strategy
        self.candidate = candidate
        self.candidateVariant = candidateVariant
        self.stableVariant = stableVariant
        self.candidateWeight = candidateWeight
        self.weights = weights
        self.pauseUntil = pauseUntil
        self.analysis = analysis
        self.spec = spec
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.createdBy = createdBy
        self.revision = revision
    }
}

/// An analysis run as status shows it.
public struct AnalysisStatus: Sendable, Codable, Equatable {
    /// `Running`, `Successful`, `Failed`…
    public var phase: AnalysisPhase
    public var message: String?
    /// `true` for the analysis of the current step, `false` for the last one that ended.
    public var current: Bool
    public var startedAt: Date?
    public var metrics: [MetricStatus]

    public init(phase: AnalysisPhase, message: String?, current: Bool, startedAt: Date?, metrics: [MetricStatus]) {
        self.phase = phase
        self.message = message
        self.current = current
        self.startedAt = startedAt
        self.metrics = metrics
    }
}

/// One metric of an analysis run: its phase, counts and latest measurements.
public struct MetricStatus: Sendable, Codable, Equatable {
    public var name: String
    public var phase: AnalysisPhase
    public var successful: Int
    public var failed: Int
    public var inconclusive: Int
    public var error: Int
    public var message: String?
    /// The last few measurements, oldest first.
    public var latest: [Measurement]

    public init(
        name: String, phase: AnalysisPhase, successful: Int, failed: Int, inconclusive: Int, error: Int, message: String?, latest: [Measurement]
    ) {
        self.name = name
        self.phase = phase
        self.successful = successful
        self.failed = failed
        self.inconclusive = inconclusive
        self.error = error
        self.message = message
        self.latest = latest
    }

    /// The status of one metric of a run, with its last `keep` measurements.
    public init(_ result: AnalysisRun.MetricResult, keep: Int = 5) {
        self.init(
            name: result.name, phase: result.phase, successful: result.successful, failed: result.failed, inconclusive: result.inconclusive,
            error: result.error, message: result.message, latest: Array(result.measurements.suffix(keep)))
    }
}
