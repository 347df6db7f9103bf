import SlipwayStats

/// An A/B test: a fixed split between the stable variant and the candidate, kept until the primary
/// metric is decided, with guardrails that stop the test early and a sample-ratio check that halts it.
public struct ExperimentStrategy: Sendable, Codable, Equatable {
    /// How decisions are taken.
    public enum Decision: String, Sendable, Codable, Equatable, CaseIterable {
        /// Look once, when both arms reached the planned sample size (a classic fixed-horizon test).
        case fixedHorizon = "fixed-horizon"
        /// Look at any time with an always-valid confidence sequence; stop as soon as it decides.
        case sequential
    }

    /// The primary metric: what the test is meant to improve.
    public struct PrimaryMetric: Sendable, Codable, Equatable {
        /// `conversion` (outcome successes over trials) or `outcome-mean` (mean of a numeric outcome).
        public var metric: BuiltinMetric.Kind
        /// Which change counts as an improvement (default `increase`).
        public var direction: Direction

        /// Creates a primary metric.
        public init(metric: BuiltinMetric.Kind = .conversion, direction: Direction = .increase) {
            self.metric = metric
            self.direction = direction
        }
    }

    /// Which way is better.
    public enum Direction: String, Sendable, Codable, Equatable, CaseIterable {
        case increase, decrease
    }

    /// The candidate's share of traffic in percent (default 50; the stable variant gets the rest).
    public var weight: Double
    /// The primary metric.
    public var primary: PrimaryMetric
    /// Metrics that must not get worse, checked like the default analysis with its margins:
    /// `error-rate`, `latency`, `prediction-drift`.
    public var guardrails: [BuiltinMetric.Kind]
    /// The minimum detectable effect the test is sized for.
    public var mde: Double
    /// Whether `mde` is relative to the baseline (default true: 0.05 = 5 %).
    public var relative: Bool
    /// The expected baseline: a conversion rate, or the mean of the outcome.
    public var baseline: Double
    /// For `outcome-mean`: the outcome's standard deviation, for the sample size.
    public var standardDeviation: Double?
    /// False-positive rate of the primary decision (default 0.05).
    public var alpha: Double
    /// Power at the minimum detectable effect (default 0.8).
    public var power: Double
    /// Fixed-horizon or sequential decisions (default fixed-horizon).
    public var decision: Decision
    /// Halt when the sample-ratio-mismatch test's p-value falls below this (default 0.001).
    public var srmThreshold: Double
    /// Stop undecided after this long (`nil`: no limit).
    public var maxDuration: RolloutDuration?
    /// The request input the report splits the primary metric by (the name of a V2 input tensor, read from
    /// the prediction log, so the endpoint needs `featureLogging: full`); `nil`: no segments.
    public var segmentBy: String?

    /// Creates an experiment.
    public init(
        weight: Double = 50, primary: PrimaryMetric = PrimaryMetric(), guardrails: [BuiltinMetric.Kind] = [.errorRate, .latency],
        mde: Double, relative: Bool = true, baseline: Double, standardDeviation: Double? = nil, alpha: Double = 0.05, power: Double = 0.8,
        decision: Decision = .fixedHorizon, srmThreshold: Double = 0.001, maxDuration: RolloutDuration? = nil, segmentBy: String? = nil
    ) {
        self.weight = weight
        self.primary = primary
        self.guardrails = guardrails
        self.mde = mde
        self.relative = relative
        self.baseline = baseline
        self.standardDeviation = standardDeviation
        self.alpha = alpha
        self.power = power
        self.decision = decision
        self.srmThreshold = srmThreshold
        self.maxDuration = maxDuration
        self.segmentBy = segmentBy
    }

    /// Units needed in the stable arm and in the candidate arm to detect `mde` with `power` at `alpha`
    /// (two-sided), for the configured split.
    /// - Throws: `RolloutError.invalidInput` when the plan has no solution (say, a baseline rate plus effect above 1).
    public func sampleSize() throws(RolloutError) -> (stable: Int, candidate: Int) {
        let ratio = weight / (100 - weight)
        do throws(StatsError) {
            let n: PowerAnalysis.SampleSize
            switch primary.metric {
            case .outcomeMean:
                let shift = relative ? mde * abs(baseline) : mde
                n = try PowerAnalysis.sampleSizeForMeans(
                    standardDeviation: standardDeviation ?? 1, minimumDetectableEffect: shift, alpha: alpha, power: power, ratio: ratio)
            default:
                n = try PowerAnalysis.sampleSizeForProportions(
                    baseline: baseline, minimumDetectableEffect: mde, relative: relative, alpha: alpha, power: power, ratio: ratio)
            }
            let stable = Int(n.perArm)
            return (stable, Int((n.perArmExact * ratio).rounded(.up)))
        } catch {
            throw RolloutError(.invalidInput, "the experiment's sample size has no solution: \(error)")
        }
    }
}
