/// A canary: the candidate's share of traffic grows step by step, with pauses and analysis between.
///
/// On failure (a failed analysis, or a manual abort) the candidate's weight returns to 0 and all
/// traffic goes back to the stable variant.
public struct CanaryStrategy: Sendable, Codable, Equatable {
    /// The steps, in order; after the last one the candidate is promoted to 100 %.
    public var steps: [CanaryStep]
    /// The highest weight a step may set (default 100).
    public var maxWeight: Double
    /// Analysis that runs in the background from a given step until the rollout ends.
    public var analysis: BackgroundAnalysis?

    /// Creates a canary strategy.
    public init(steps: [CanaryStep], maxWeight: Double = 100, analysis: BackgroundAnalysis? = nil) {
        self.steps = steps
        self.maxWeight = maxWeight
        self.analysis = analysis
    }
}

/// One canary step; in YAML a one-key mapping such as `- setWeight: 5` or `- pause: {duration: 30m}`.
public enum CanaryStep: Sendable, Codable, Equatable {
    /// Give the candidate this percentage of traffic (0–100).
    case setWeight(Double)
    /// Wait for a duration, or until someone resumes the rollout when there is none.
    case pause(PauseStep)
    /// Run analysis and wait for its verdict (blocking).
    case analysis(AnalysisReference)
    /// Route requests whose header matches to the candidate, whatever the weight.
    case setHeaderRoute(HeaderRouteStep)
    /// Mirror a percentage of traffic to the candidate.
    case setMirrorRoute(MirrorRouteStep)

    private enum CodingKeys: String, CodingKey { case setWeight, pause, analysis, setHeaderRoute, setMirrorRoute }

    /// Encoded as in YAML: `{"setWeight": 5}`, `{"pause": {"duration": "30m"}}`…
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let w = try c.decodeIfPresent(Double.self, forKey: .setWeight) {
            self = .setWeight(w)
        } else if let p = try c.decodeIfPresent(PauseStep.self, forKey: .pause) {
            self = .pause(p)
        } else if let a = try c.decodeIfPresent(AnalysisReference.self, forKey: .analysis) {
            self = .analysis(a)
        } else if let h = try c.decodeIfPresent(HeaderRouteStep.self, forKey: .setHeaderRoute) {
            self = .setHeaderRoute(h)
        } else {
            self = .setMirrorRoute(try c.decode(MirrorRouteStep.self, forKey: .setMirrorRoute))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .setWeight(let w): try c.encode(w, forKey: .setWeight)
        case .pause(let p): try c.encode(p, forKey: .pause)
        case .analysis(let a): try c.encode(a, forKey: .analysis)
        case .setHeaderRoute(let h): try c.encode(h, forKey: .setHeaderRoute)
        case .setMirrorRoute(let m): try c.encode(m, forKey: .setMirrorRoute)
        }
    }
}

/// `pause: {duration: 30m}`, or `pause: {}` to wait for a manual resume.
public struct PauseStep: Sendable, Codable, Equatable {
    /// How long to wait; `nil` waits until the rollout is resumed.
    public var duration: RolloutDuration?

    /// Creates a pause.
    public init(duration: RolloutDuration? = nil) { self.duration = duration }
}

/// Analysis in the background of a canary, from `startingStep` (an index into `steps`) on.
public struct BackgroundAnalysis: Sendable, Codable, Equatable {
    /// The templates and arguments (none: the default analysis).
    public var analysis: AnalysisReference
    /// The index of the step at which the analysis starts (default 0).
    public var startingStep: Int

    /// Creates a background analysis.
    public init(analysis: AnalysisReference, startingStep: Int = 0) {
        self.analysis = analysis
        self.startingStep = startingStep
    }
}

/// `setHeaderRoute`: requests whose header matches go to the candidate. No `match` removes the route.
public struct HeaderRouteStep: Sendable, Codable, Equatable {
    /// The route's name (used to remove it later).
    public var name: String
    /// Header matches; a request matching any of them is routed.
    public var match: [HeaderMatch]

    /// Creates a header route step.
    public init(name: String, match: [HeaderMatch]) {
        self.name = name
        self.match = match
    }
}

/// `headerName: X-Beta, headerValue: {exact: "1"}`.
public struct HeaderMatch: Sendable, Codable, Equatable {
    public var headerName: String
    /// The exact value to match (the gateway matches exact values only).
    public var exact: String

    /// Creates a match.
    public init(headerName: String, exact: String) {
        self.headerName = headerName
        self.exact = exact
    }
}

/// `setMirrorRoute`: mirror a percentage of traffic to the candidate. No `percentage` removes the route.
public struct MirrorRouteStep: Sendable, Codable, Equatable {
    /// The route's name.
    public var name: String
    /// 0–100; `nil` removes the mirror.
    public var percentage: Double?

    /// Creates a mirror step.
    public init(name: String, percentage: Double?) {
        self.name = name
        self.percentage = percentage
    }
}
