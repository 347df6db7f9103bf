public import Foundation

/// What the controller keeps about the current step of a canary, stored with the rollout (its `state`
/// document) so that a restarted server goes on exactly where the last one stopped.
public struct CanaryState: Sendable, Codable, Equatable {
    /// The endpoint's stable variant, resolved when the rollout started.
    public var stableVariant: String
    /// `true` once the candidate variant is deployed.
    public var deployed: Bool
    /// The candidate's weight last applied to the endpoint, in percent.
    public var weight: Double
    /// The deadline of a timed pause step, once the step has started.
    public var pauseUntil: Date?
    /// The inline analysis of the current step, with every measurement so far.
    public var analysis: AnalysisRun?
    /// When that analysis started: measurements are timed from here, also across restarts.
    public var analysisStartedAt: Date?
    /// The last analysis that ended, kept for `rollout status` after its step.
    public var lastAnalysis: AnalysisRun?
    /// `true` while the rollout is paused by a person (`rollout pause`), not by a step.
    public var pausedByUser: Bool
    /// The canary's background analysis, once its starting step was reached.
    public var background: AnalysisRun?
    /// When the background analysis started.
    public var backgroundStartedAt: Date?
    /// Header routes set by `setHeaderRoute` steps, by route name (removed when the rollout ends).
    public var headerRoutes: [String: [HeaderMatch]]?
    /// Mirror shares set by `setMirrorRoute` steps, by route name (removed when the rollout ends).
    public var mirrorRoutes: [String: Double]?
    /// The version the model's `production` alias named when the rollout started (for `rollout undo`).
    public var previousProduction: Int?
    /// Milliseconds from the failing measurement to the routing table without the candidate, at the last rollback.
    public var rollbackMilliseconds: Double?
    /// Blue-green progress (blue-green rollouts only).
    public var blueGreen: BlueGreenState?
    /// Experiment progress (experiments only).
    public var experiment: ExperimentState?
    /// Shadow progress (shadow rollouts only).
    public var shadow: ShadowState?
    /// Rolling-update progress (rolling updates only).
    public var rolling: RollingState?

    /// The state of a rollout that has just started.
    public init(stableVariant: String) {
        self.stableVariant = stableVariant
        self.deployed = false
        self.weight = 0
        self.pauseUntil = nil
        self.analysis = nil
        self.analysisStartedAt = nil
        self.lastAnalysis = nil
        self.pausedByUser = false
    }

    /// Leaves the current step: its deadline and analysis go (the analysis is kept as ``lastAnalysis``).
    public mutating func leaveStep() {
        pauseUntil = nil
        if let analysis { lastAnalysis = analysis }
        analysis = nil
        analysisStartedAt = nil
    }
}

/// A rollout as the store keeps its spec: the spec and the analysis templates it names, resolved when it started.
public struct StoredRolloutSpec: Sendable, Codable, Equatable {
    public var spec: RolloutSpec
    public var templates: [AnalysisTemplate]

    public init(spec: RolloutSpec, templates: [AnalysisTemplate]) {
        self.spec = spec
        self.templates = templates
    }
}
