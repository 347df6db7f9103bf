import Foundation

/// The statistic of one experiment arm for a metric, in the form GrowthBook's `gbstats` uses:
/// sample size, (possibly adjusted) mean, variance per unit and the unadjusted mean that relative
/// effects divide by.
public struct ArmStatistic: Sendable, Hashable, Codable {
    /// Number of units.
    public var count: Double
    /// The mean used for the effect (CUPED-adjusted when built by ``cuped(control:treatment:)``).
    public var mean: Double
    /// Per-unit variance of the metric (delta-method variance for ratios).
    public var variance: Double
    /// The raw mean, used as the denominator of relative effects.
    public var unadjustedMean: Double

    /// Creates an arm statistic from its parts.
    public init(count: Double, mean: Double, variance: Double, unadjustedMean: Double? = nil) {
        self.count = count
        self.mean = mean
        self.variance = variance
        self.unadjustedMean = unadjustedMean ?? mean
    }

    /// A mean metric from running sums.
    public static func mean(_ sums: MomentAccumulator) -> ArmStatistic {
        let s = sums.summary
        return ArmStatistic(count: s.count, mean: s.mean, variance: s.variance)
    }

    /// A conversion metric: mean = successes/trials, variance = p(1 − p).
    public static func proportion(successes: Double, trials: Double) -> ArmStatistic {
        let s = SampleSummary(successes: successes, trials: trials)
        return ArmStatistic(count: s.count, mean: s.mean, variance: s.variance)
    }

    /// A ratio metric Σnumerator / Σdenominator with delta-method variance.
    ///
    /// `pairs.y` is the numerator and `pairs.x` the denominator, per unit.
    public static func ratio(_ pairs: PairAccumulator) -> ArmStatistic {
        let n = pairs.count
        let m = pairs.y.summary
        let d = pairs.x.summary
        let mean = pairs.x.sum == 0 ? 0 : pairs.y.sum / pairs.x.sum
        var variance = 0.0
        if d.mean != 0 && n > 1 {
            let cov = pairs.covariance
            variance =
                m.variance / (d.mean * d.mean) - 2 * cov * m.mean / (d.mean * d.mean * d.mean)
                + m.mean * m.mean * d.variance / (d.mean * d.mean * d.mean * d.mean)
        }
        return ArmStatistic(count: n, mean: mean, variance: variance)
    }

    /// CUPED: regression adjustment of a post-period metric (`y`) on a pre-period covariate (`x`),
    /// with θ = Cov(post, pre)/Var(pre) pooled over both arms.
    ///
    /// When the pooled pre- or post-period variance is 0, θ is 0 and the unadjusted statistics are returned.
    /// - Returns: the adjusted control and treatment statistics and θ.
    public static func cuped(control: PairAccumulator, treatment: PairAccumulator) -> (control: ArmStatistic, treatment: ArmStatistic, theta: Double)
    {
        var joint = control
        joint.merge(treatment)
        let preVariance = joint.x.summary.variance
        let postVariance = joint.y.summary.variance
        let theta = (preVariance == 0 || postVariance == 0) ? 0 : joint.covariance / preVariance
        func adjusted(_ p: PairAccumulator) -> ArmStatistic {
            let post = p.y.summary
            let pre = p.x.summary
            if theta == 0 { return ArmStatistic(count: post.count, mean: post.mean, variance: post.variance) }
            let variance = p.count > 1 ? post.variance + theta * theta * pre.variance - 2 * theta * p.covariance : 0
            return ArmStatistic(count: post.count, mean: post.mean - theta * pre.mean, variance: variance, unadjustedMean: post.mean)
        }
        return (adjusted(control), adjusted(treatment), theta)
    }
}

/// Whether an effect is reported as treatment − control or relative to the control mean.
public enum EffectScale: String, Sendable, Hashable, Codable {
    /// mean(treatment) − mean(control).
    case absolute
    /// (mean(treatment) − mean(control)) / mean(control), with delta-method variance.
    case relative
}

/// The point estimate and variance of an effect between two arms.
public struct EffectEstimate: Sendable, Hashable, Codable {
    /// The estimated effect on the chosen scale.
    public var estimate: Double
    /// Its variance (delta method for the relative scale).
    public var variance: Double
    /// Welch–Satterthwaite degrees of freedom of the two arms.
    public var df: Double
    /// √variance.
    public var standardError: Double { variance.squareRoot() }

    /// Estimates the effect of `treatment` against `control` as GrowthBook does.
    /// - Throws: `StatsError` when an arm has fewer than 2 units, a non-positive variance, or
    ///   (relative scale) a control mean of 0.
    public init(control: ArmStatistic, treatment: ArmStatistic, scale: EffectScale) throws(StatsError) {
        for (s, name) in [(control, "control"), (treatment, "treatment")] {
            try StatsError.requireFinite([s.count, s.mean, s.variance, s.unadjustedMean], "\(name) statistic")
            guard s.count >= 2 else { throw .tooFewObservations(what: "\(name) arm", count: Int(s.count), minimum: 2) }
            guard s.variance > 0 else { throw .zeroVariance(what: "\(name) arm") }
        }
        let a = control
        let b = treatment
        switch scale {
        case .absolute:
            estimate = b.mean - a.mean
            variance = b.variance / b.count + a.variance / a.count
        case .relative:
            guard a.mean != 0, a.unadjustedMean != 0 else {
                throw .noSolution(reason: "the control mean is 0, so a relative effect is undefined; use the absolute scale")
            }
            let m = a.unadjustedMean
            estimate = (b.mean - a.mean) / m
            variance = b.variance / (m * m * b.count) + a.variance * b.unadjustedMean * b.unadjustedMean / (m * m * m * m * a.count)
        }
        let va = a.variance / a.count
        let vb = b.variance / b.count
        df = (va + vb) * (va + vb) / (vb * vb / (b.count - 1) + va * va / (a.count - 1))
    }
}

/// A frequentist effect with its confidence interval and p-value.
public struct FrequentistEffectResult: Sendable, Hashable, Codable {
    /// The estimated effect.
    public var estimate: Double
    /// Lower end of the confidence interval (−∞ for a one-sided `.less` test).
    public var ciLow: Double
    /// Upper end of the confidence interval (+∞ for a one-sided `.greater` test).
    public var ciHigh: Double
    /// The p-value.
    public var pValue: Double
    /// The standard error of the estimate.
    public var standardError: Double
    /// Degrees of freedom used for the t reference distribution.
    public var df: Double
}

/// GrowthBook's frequentist t-test on absolute or relative lift (`gbstats` `TwoSidedTTest`,
/// `OneSidedTreatmentGreaterTTest`, `OneSidedTreatmentLesserTTest`).
/// - Parameters:
///   - control: the control arm.
///   - treatment: the treatment arm.
///   - scale: absolute or relative effect.
///   - alpha: 1 − confidence level.
///   - alternative: two-sided or one-sided.
///   - nullValue: the effect under the null hypothesis (0 by default).
public func frequentistEffect(
    control: ArmStatistic, treatment: ArmStatistic, scale: EffectScale = .relative, alpha: Double = 0.05,
    alternative: Alternative = .twoSided, nullValue: Double = 0
) throws(StatsError) -> FrequentistEffectResult {
    try StatsError.requireProbability(alpha, "alpha")
    let e = try EffectEstimate(control: control, treatment: treatment, scale: scale)
    let se = e.standardError
    let t = StudentT(df: e.df)
    let stat = (e.estimate - nullValue) / se
    let p = alternative.pValue(statistic: stat, cdf: t.cdf, sf: t.sf)
    let low: Double
    let high: Double
    switch alternative {
    case .twoSided:
        let w = t.isf(alpha / 2) * se
        low = e.estimate - w
        high = e.estimate + w
    case .greater:
        low = e.estimate - t.isf(alpha) * se
        high = .infinity
    case .less:
        low = -.infinity
        high = e.estimate + t.isf(alpha) * se
    }
    return FrequentistEffectResult(estimate: e.estimate, ciLow: low, ciHigh: high, pValue: p, standardError: se, df: e.df)
}

/// An always-valid two-sided test: the asymptotic confidence sequence of Waudby-Smith et al.
/// (2023) that GrowthBook's `SequentialTwoSidedTTest` uses, so results may be checked at any time.
/// - Parameters:
///   - tuning: the tuning parameter (the sample size at which the sequence is tightest), default 5,000.
public func sequentialEffect(
    control: ArmStatistic, treatment: ArmStatistic, scale: EffectScale = .relative, alpha: Double = 0.05,
    tuning: Double = 5000, nullValue: Double = 0
) throws(StatsError) -> FrequentistEffectResult {
    try StatsError.requireProbability(alpha, "alpha")
    try StatsError.requirePositive(tuning, "tuning")
    let e = try EffectEstimate(control: control, treatment: treatment, scale: scale)
    let n = control.count + treatment.count
    let logAlpha = log(alpha)
    let rho2 = (-2 * logAlpha + log(-2 * logAlpha + 1)) / tuning
    let s2 = e.variance * n
    let nr2p1 = n * rho2 + 1
    let halfWidth = s2.squareRoot() * ((2 * nr2p1) * log(nr2p1.squareRoot() / alpha) / (n * n * rho2)).squareRoot()
    let st2 = (e.estimate - nullValue) * (e.estimate - nullValue) * n / e.variance
    let logE = rho2 * st2 / (2 * nr2p1) - 0.5 * log(nr2p1)
    let p = min(1, exp(-logE))
    return FrequentistEffectResult(
        estimate: e.estimate, ciLow: e.estimate - halfWidth, ciHigh: e.estimate + halfWidth, pValue: p, standardError: e.standardError,
        df: e.df)
}
