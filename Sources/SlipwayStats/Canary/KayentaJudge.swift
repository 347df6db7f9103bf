import Foundation

/// A canary judge in the style of Netflix Kayenta: every metric is classified by a Mann–Whitney
/// comparison of canary against baseline, the classifications are combined into a weighted score,
/// and the score is compared with pass and marginal thresholds.
///
/// ```swift
/// let judge = KayentaJudge(metrics: [
///     .init(name: "latency_p99", direction: .increase, critical: true),
///     .init(name: "error_rate", direction: .increase, allowedIncrease: 0.05),
/// ])
/// let verdict = try judge.judge(["latency_p99": (baseline: b1, canary: c1), "error_rate": (baseline: b2, canary: c2)])
/// ```
public struct KayentaJudge: Sendable, Hashable {
    /// Which change of a metric counts as a failure.
    public enum Direction: String, Sendable, Hashable, Codable {
        /// Only an increase fails (latency, errors).
        case increase
        /// Only a decrease fails (throughput, conversions).
        case decrease
        /// A change either way fails.
        case either
    }

    /// How one metric came out.
    public enum Classification: String, Sendable, Hashable, Codable {
        /// No significant change in the failing direction, or within tolerance.
        case pass = "Pass"
        /// Canary is significantly higher.
        case high = "High"
        /// Canary is significantly lower.
        case low = "Low"
        /// A sample was empty, so nothing could be concluded.
        case noData = "NoData"
    }

    /// The overall verdict.
    public enum Verdict: String, Sendable, Hashable, Codable {
        /// Score at or above the pass threshold and no critical metric failed.
        case pass
        /// Score between the marginal and pass thresholds.
        case marginal
        /// Score below the marginal threshold, or a critical metric failed.
        case fail
    }

    /// Configuration of one metric.
    public struct Metric: Sendable, Hashable, Codable {
        /// The metric name, the key of the samples passed to ``KayentaJudge/judge(_:)``.
        public var name: String
        /// Which change fails.
        public var direction: Direction
        /// A failing critical metric fails the whole canary.
        public var critical: Bool
        /// Weight in the score.
        public var weight: Double
        /// Tolerated relative increase of the canary mean over the baseline mean (0.05 = 5 %).
        public var allowedIncrease: Double
        /// Tolerated relative decrease of the canary mean below the baseline mean.
        public var allowedDecrease: Double
        /// A relative increase beyond this fails the canary outright, like a critical metric (nil: no limit).
        public var criticalIncrease: Double?
        /// A relative decrease beyond this fails the canary outright (nil: no limit).
        public var criticalDecrease: Double?

        /// Creates a metric configuration.
        public init(
            name: String, direction: Direction = .either, critical: Bool = false, weight: Double = 1, allowedIncrease: Double = 0,
            allowedDecrease: Double = 0, criticalIncrease: Double? = nil, criticalDecrease: Double? = nil
        ) {
            self.name = name
            self.direction = direction
            self.critical = critical
            self.weight = weight
            self.allowedIncrease = allowedIncrease
            self.allowedDecrease = allowedDecrease
            self.criticalIncrease = criticalIncrease
            self.criticalDecrease = criticalDecrease
        }
    }

    /// The judgement of one metric.
    public struct MetricResult: Sendable, Hashable, Codable {
        /// The metric name.
        public var name: String
        /// Its classification.
        public var classification: Classification
        /// Mann–Whitney two-sided p-value (nil without data).
        public var pValue: Double?
        /// Hodges–Lehmann shift of canary over baseline and its interval (nil without data).
        public var shift: HodgesLehmannResult?
        /// mean(canary)/mean(baseline) − 1 (nil without data or with a zero baseline mean).
        public var relativeEffect: Double?
        /// `true` when this metric alone fails the canary.
        public var failsCanary: Bool
    }

    /// The judgement of the whole canary.
    public struct Result: Sendable, Hashable, Codable {
        /// Weighted share of passing metrics, 0–100, over metrics with data.
        public var score: Double
        /// The verdict.
        public var verdict: Verdict
        /// Per-metric results, in configuration order.
        public var metrics: [MetricResult]
    }

    /// The metrics to judge.
    public var metrics: [Metric]
    /// 1 − confidence level of the Mann–Whitney interval (default 0.05, i.e. 95 %).
    public var alpha: Double
    /// Minimum score for `.pass` (default 95).
    public var passThreshold: Double
    /// Minimum score for `.marginal` (default 75).
    public var marginalThreshold: Double

    /// Creates a judge.
    public init(metrics: [Metric], alpha: Double = 0.05, passThreshold: Double = 95, marginalThreshold: Double = 75) {
        self.metrics = metrics
        self.alpha = alpha
        self.passThreshold = passThreshold
        self.marginalThreshold = marginalThreshold
    }

    /// Judges the canary from per-metric samples.
    /// - Throws: `StatsError` for invalid thresholds, weights or non-finite samples.
    public func judge(_ samples: [String: (baseline: [Double], canary: [Double])]) throws(StatsError) -> Result {
        try StatsError.requireProbability(alpha, "alpha")
        guard marginalThreshold <= passThreshold else {
            throw .parameterOutOfRange(name: "marginalThreshold", value: marginalThreshold, expected: "≤ passThreshold (\(passThreshold))")
        }
        var results: [MetricResult] = []
        var passedWeight = 0.0
        var totalWeight = 0.0
        var criticalFailure = false
        for metric in metrics {
            guard metric.weight >= 0, metric.weight.isFinite else {
                throw .parameterOutOfRange(name: "weight of \(metric.name)", value: metric.weight, expected: "a finite weight ≥ 0")
            }
            let result = try classify(metric, samples[metric.name])
            results.append(result)
            if result.classification == .noData { continue }
            totalWeight += metric.weight
            if result.classification == .pass { passedWeight += metric.weight }
            if result.failsCanary { criticalFailure = true }
        }
        let score = totalWeight > 0 ? 100 * passedWeight / totalWeight : 0
        let verdict: Verdict
        if criticalFailure || totalWeight == 0 {
            verdict = .fail
        } else if score >= passThreshold {
            verdict = .pass
        } else if score >= marginalThreshold {
            verdict = .marginal
        } else {
            verdict = .fail
        }
        return Result(score: score, verdict: verdict, metrics: results)
    }

    func classify(_ metric: Metric, _ data: (baseline: [Double], canary: [Double])?) throws(StatsError) -> MetricResult {
        guard let data, !data.baseline.isEmpty, !data.canary.isEmpty else {
            return MetricResult(name: metric.name, classification: .noData, pValue: nil, shift: nil, relativeEffect: nil, failsCanary: false)
        }
        let test = try mannWhitneyU(data.baseline, data.canary)
        let shift = try hodgesLehmann(data.baseline, data.canary, alpha: alpha)
        let baseMean = data.baseline.reduce(0, +) / Double(data.baseline.count)
        let canaryMean = data.canary.reduce(0, +) / Double(data.canary.count)
        let effect: Double? = baseMean != 0 ? canaryMean / baseMean - 1 : nil
        var classification: Classification = .pass
        if test.pValue < alpha {
            if shift.ciLow > 0 || (shift.ciLow == 0 && shift.estimate > 0) {
                classification = .high
            } else if shift.ciHigh < 0 || (shift.ciHigh == 0 && shift.estimate < 0) {
                classification = .low
            } else if canaryMean != baseMean {
                classification = canaryMean > baseMean ? .high : .low
            }
        }
        // Only the failing direction counts, and changes within tolerance pass.
        if classification == .high && metric.direction == .decrease { classification = .pass }
        if classification == .low && metric.direction == .increase { classification = .pass }
        if classification == .high, let e = effect, e <= metric.allowedIncrease { classification = .pass }
        if classification == .low, let e = effect, -e <= metric.allowedDecrease { classification = .pass }
        var fails = metric.critical && (classification == .high || classification == .low)
        if let e = effect, classification == .high, let limit = metric.criticalIncrease, e > limit { fails = true }
        if let e = effect, classification == .low, let limit = metric.criticalDecrease, -e > limit { fails = true }
        return MetricResult(
            name: metric.name, classification: classification, pValue: test.pValue, shift: shift, relativeEffect: effect, failsCanary: fails)
    }
}
