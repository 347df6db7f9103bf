public import SlipwayStats

/// A reusable analysis: metrics measured at intervals, each judged by conditions and limits, or
/// together by the Mann–Whitney judge when `judge` is set.
public struct AnalysisTemplate: Sendable, Codable, Equatable {
    /// `metadata.name`, referred to by `templateName`.
    public var name: String
    /// Arguments substituted into provider fields as `{{args.name}}`; a default value makes one optional.
    public var args: [TemplateArgument]
    /// The metrics.
    public var metrics: [MetricSpec]
    /// When set, the metrics are compared canary against stable by the judge and its verdict is the measurement.
    public var judge: JudgeSpec?

    /// Creates a template.
    public init(name: String, args: [TemplateArgument] = [], metrics: [MetricSpec], judge: JudgeSpec? = nil) {
        self.name = name
        self.args = args
        self.metrics = metrics
        self.judge = judge
    }

    /// The template with `{{args.name}}` replaced in every provider field.
    /// - Parameter values: argument values from the rollout; they override the template's defaults.
    /// - Throws: `RolloutError.invalidSpec` naming the arguments that have no value.
    public func resolved(with values: [AnalysisArgument]) throws(RolloutError) -> AnalysisTemplate {
        var bindings: [String: String] = [:]
        for a in args { if let v = a.value { bindings[a.name] = v } }
        for v in values { bindings[v.name] = v.value }
        let missing = args.filter { bindings[$0.name] == nil }.map(\.name)
        guard missing.isEmpty else {
            throw RolloutError(.invalidSpec, "template '\(name)' needs a value for argument(s) \(missing.joined(separator: ", "))")
        }
        var copy = self
        copy.metrics = metrics.map { metric in
            var m = metric
            m.provider = metric.provider.substituting(bindings)
            return m
        }
        return copy
    }
}

/// A template argument, `{{args.name}}` in provider fields.
public struct TemplateArgument: Sendable, Codable, Equatable {
    public var name: String
    /// The default value (`nil`: the rollout must give one).
    public var value: String?

    /// Creates an argument.
    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// One metric of a template.
public struct MetricSpec: Sendable, Codable, Equatable {
    /// The metric's name, unique in its template.
    public var name: String
    /// Where measurements come from.
    public var provider: MetricProvider
    /// A measurement is Successful when this holds (see ``MeasurementEvaluator`` for how it combines with the failure condition).
    public var successCondition: Condition?
    /// A measurement is Failed when this holds.
    public var failureCondition: Condition?
    /// When and how often to measure, and the limits that end the metric.
    public var policy: MeasurementPolicy
    /// How the judge treats the metric when the template has a `judge`.
    public var judge: JudgeMetricOptions?

    /// Creates a metric.
    public init(
        name: String, provider: MetricProvider, successCondition: Condition? = nil, failureCondition: Condition? = nil,
        policy: MeasurementPolicy = MeasurementPolicy(), judge: JudgeMetricOptions? = nil
    ) {
        self.name = name
        self.provider = provider
        self.successCondition = successCondition
        self.failureCondition = failureCondition
        self.policy = policy
        self.judge = judge
    }
}

/// When to measure and when a metric ends, with Argo Rollouts' meaning for each field.
public struct MeasurementPolicy: Sendable, Codable, Equatable {
    /// Time between measurements (`nil`: measure once, unless `count` asks for more).
    public var interval: RolloutDuration?
    /// How many measurements to take; `nil` or 0 means once without an interval and without end with one.
    public var count: Int?
    /// Wait this long after the run starts before the first measurement.
    public var initialDelay: RolloutDuration?
    /// The metric fails when more than this many measurements failed (default 0).
    public var failureLimit: Int
    /// The metric is inconclusive when more than this many measurements were inconclusive (default 0).
    public var inconclusiveLimit: Int
    /// The metric errors when more than this many measurements in a row errored (default 4).
    public var consecutiveErrorLimit: Int
    /// When above 0, the metric succeeds as soon as this many measurements in a row succeeded; reaching
    /// `count` without that makes it inconclusive (default 0: off).
    public var consecutiveSuccessLimit: Int

    /// Creates a policy with Argo's defaults.
    public init(
        interval: RolloutDuration? = nil, count: Int? = nil, initialDelay: RolloutDuration? = nil, failureLimit: Int = 0,
        inconclusiveLimit: Int = 0, consecutiveErrorLimit: Int = 4, consecutiveSuccessLimit: Int = 0
    ) {
        self.interval = interval
        self.count = count
        self.initialDelay = initialDelay
        self.failureLimit = failureLimit
        self.inconclusiveLimit = inconclusiveLimit
        self.consecutiveErrorLimit = consecutiveErrorLimit
        self.consecutiveSuccessLimit = consecutiveSuccessLimit
    }

    /// The number of measurements after which the metric completes: `count` when above 0, 1 when
    /// there is no interval, otherwise `nil` (it runs until the run is terminated).
    public var effectiveCount: Int? {
        if let count, count > 0 { return count }
        return interval == nil ? 1 : nil
    }
}

/// The Mann–Whitney judge of a template (Kayenta-style): each metric's canary samples are compared
/// with the stable variant's, the classifications make a score, and the score the verdict.
public struct JudgeSpec: Sendable, Codable, Equatable {
    /// The comparison.
    public enum Algorithm: String, Sendable, Codable, Equatable, CaseIterable {
        case mannWhitney = "mannwhitney"
    }

    public var algorithm: Algorithm
    /// Minimum score for a Successful measurement (default 95).
    public var passThreshold: Double
    /// Minimum score for an Inconclusive one; below it the measurement fails (default 75).
    public var marginalThreshold: Double
    /// 1 − confidence of each comparison (default 0.05).
    public var alpha: Double
    /// When and how often the judge runs, and its limits.
    public var policy: MeasurementPolicy

    /// Creates a judge.
    public init(
        algorithm: Algorithm = .mannWhitney, passThreshold: Double = 95, marginalThreshold: Double = 75, alpha: Double = 0.05,
        policy: MeasurementPolicy = MeasurementPolicy()
    ) {
        self.algorithm = algorithm
        self.passThreshold = passThreshold
        self.marginalThreshold = marginalThreshold
        self.alpha = alpha
        self.policy = policy
    }
}

/// How the judge treats one metric.
public struct JudgeMetricOptions: Sendable, Codable, Equatable {
    /// Which change fails (`nil`: `increase` for error rate and latency, `either` otherwise).
    public var direction: KayentaJudge.Direction?
    /// A failing critical metric fails the measurement whatever the score.
    public var critical: Bool
    /// Weight in the score (default 1).
    public var weight: Double
    /// Tolerated relative increase of the canary mean (0.1 = 10 %).
    public var allowedIncrease: Double
    /// Tolerated relative decrease.
    public var allowedDecrease: Double
    /// A relative increase beyond this fails outright.
    public var criticalIncrease: Double?
    /// A relative decrease beyond this fails outright.
    public var criticalDecrease: Double?

    /// Creates options.
    public init(
        direction: KayentaJudge.Direction? = nil, critical: Bool = false, weight: Double = 1, allowedIncrease: Double = 0,
        allowedDecrease: Double = 0, criticalIncrease: Double? = nil, criticalDecrease: Double? = nil
    ) {
        self.direction = direction
        self.critical = critical
        self.weight = weight
        self.allowedIncrease = allowedIncrease
        self.allowedDecrease = allowedDecrease
        self.criticalIncrease = criticalIncrease
        self.criticalDecrease = criticalDecrease
    }
}
