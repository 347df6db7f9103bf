/// Blue-green: the candidate runs beside the stable variant with no user traffic (reachable by the
/// pin header as a preview), is checked, then takes all traffic at once.
public struct BlueGreenStrategy: Sendable, Codable, Equatable {
    /// Switch as soon as the preview is ready and pre-promotion analysis passed (default true);
    /// otherwise wait for a manual promote.
    public var autoPromotionEnabled: Bool
    /// With auto-promotion, wait this many seconds after the preview is ready before switching.
    public var autoPromotionSeconds: Int?
    /// Analysis of the preview before the switch; a failure aborts.
    public var prePromotionAnalysis: AnalysisReference?
    /// Analysis after the switch; a failure switches back.
    public var postPromotionAnalysis: AnalysisReference?
    /// Seconds the old stable variant keeps running after the switch, for a quick switch back (default 30).
    public var scaleDownDelaySeconds: Int

    /// Creates a blue-green strategy.
    public init(
        autoPromotionEnabled: Bool = true, autoPromotionSeconds: Int? = nil, prePromotionAnalysis: AnalysisReference? = nil,
        postPromotionAnalysis: AnalysisReference? = nil, scaleDownDelaySeconds: Int = 30
    ) {
        self.autoPromotionEnabled = autoPromotionEnabled
        self.autoPromotionSeconds = autoPromotionSeconds
        self.prePromotionAnalysis = prePromotionAnalysis
        self.postPromotionAnalysis = postPromotionAnalysis
        self.scaleDownDelaySeconds = scaleDownDelaySeconds
    }
}

/// Shadow: a share of live traffic is copied to the candidate; its answers are compared with the
/// stable variant's and never returned to clients.
public struct ShadowStrategy: Sendable, Codable, Equatable {
    /// The share of requests mirrored, 0–100.
    public var percentage: Double
    /// How long to mirror before the verdict (`nil`: until stopped).
    public var duration: RolloutDuration?
    /// The lowest acceptable share of mirrored requests whose answers agree with the stable variant's (default 0.95).
    public var minAgreement: Double
    /// Numeric answers agree when they differ by at most this much (default 0: equal).
    public var tolerance: Double
    /// Extra analysis templates (the built-in checks of agreement, latency, errors and prediction drift always run).
    public var analysis: AnalysisReference?
    /// Promote the candidate to all traffic after a passing shadow (default false: stop and report).
    public var promote: Bool

    /// Creates a shadow strategy.
    public init(
        percentage: Double, duration: RolloutDuration? = nil, minAgreement: Double = 0.95, tolerance: Double = 0,
        analysis: AnalysisReference? = nil, promote: Bool = false
    ) {
        self.percentage = percentage
        self.duration = duration
        self.minAgreement = minAgreement
        self.tolerance = tolerance
        self.analysis = analysis
        self.promote = promote
    }
}

/// Rolling update: replicas of the stable deployment are replaced by candidate replicas a few at a time.
public struct RollingStrategy: Sendable, Codable, Equatable {
    /// How many replicas above the desired count may exist during the update (default 25%).
    public var maxSurge: ReplicaCount
    /// How many replicas below the desired count may be unavailable (default 25%).
    public var maxUnavailable: ReplicaCount
    /// Seconds the update may go without progress (a move, or a candidate replica becoming ready) before it
    /// fails and rolls back (default 600).
    public var progressDeadlineSeconds: Int

    /// Creates a rolling strategy; `maxSurge` and `maxUnavailable` must not both be zero.
    public init(maxSurge: ReplicaCount = .percent(25), maxUnavailable: ReplicaCount = .percent(25), progressDeadlineSeconds: Int = 600) {
        self.maxSurge = maxSurge
        self.maxUnavailable = maxUnavailable
        self.progressDeadlineSeconds = progressDeadlineSeconds
    }

    private enum CodingKeys: String, CodingKey {
        case maxSurge, maxUnavailable, progressDeadlineSeconds
    }

    /// Decodes a stored strategy; one stored before `progressDeadlineSeconds` existed gets the default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxSurge = try c.decode(ReplicaCount.self, forKey: .maxSurge)
        maxUnavailable = try c.decode(ReplicaCount.self, forKey: .maxUnavailable)
        progressDeadlineSeconds = try c.decodeIfPresent(Int.self, forKey: .progressDeadlineSeconds) ?? 600
    }
}

/// A number of replicas or a percentage of the desired count (`2` or `"25%"`), as in Kubernetes.
public enum ReplicaCount: Sendable, Codable, Equatable, CustomStringConvertible {
    case count(Int)
    case percent(Double)

    /// Resolves against a desired replica count: percentages of surge round up, of unavailability round down.
    public func resolve(replicas: Int, roundUp: Bool) -> Int {
        switch self {
        case .count(let n): return n
        case .percent(let p):
            let exact = Double(replicas) * p / 100
            return Int(roundUp ? exact.rounded(.up) : exact.rounded(.down))
        }
    }

    /// `true` for `0` and `0%`.
    public var isZero: Bool {
        switch self {
        case .count(let n): n == 0
        case .percent(let p): p == 0
        }
    }

    public var description: String {
        switch self {
        case .count(let n): "\(n)"
        case .percent(let p): "\(ConditionValue.format(p))%"
        }
    }

    /// Encoded as a number or a `"25%"` string.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            self = .count(n)
            return
        }
        let text = try c.decode(String.self)
        guard text.hasSuffix("%"), let p = Double(text.dropLast()) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(text)' is neither a replica count nor a percentage")
        }
        self = .percent(p)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .count(let n): try c.encode(n)
        case .percent: try c.encode(description)
        }
    }
}
