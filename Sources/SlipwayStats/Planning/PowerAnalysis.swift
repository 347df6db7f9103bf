import Foundation

/// Power and sample size for comparing two independent groups with a normal approximation,
/// as statsmodels' `NormalIndPower` (effect size as Cohen's h for proportions, Cohen's d for means).
///
/// ```swift
/// let n = try PowerAnalysis.sampleSizeForProportions(baseline: 0.10, minimumDetectableEffect: 0.01)
/// // n.perArm ≈ 14,744.1 (round up: 14,745 units per arm)
/// ```
public enum PowerAnalysis {
    /// A solved sample size.
    public struct SampleSize: Sendable, Hashable, Codable {
        /// The exact solution for the first (control) arm, as statsmodels reports it.
        public var perArmExact: Double
        /// Units needed in the control arm (the exact solution rounded up).
        public var perArm: Double { perArmExact.rounded(.up) }
        /// The standardised effect size used (Cohen's h or d).
        public var effectSize: Double
    }

    /// Cohen's h = 2 asin √p2 − 2 asin √p1.
    public static func cohensH(_ p1: Double, _ p2: Double) -> Double {
        2 * asin(p2.squareRoot()) - 2 * asin(p1.squareRoot())
    }

    /// The power of a two-sample z-test with `n1` units in the first arm and `ratio·n1` in the second.
    public static func power(effectSize d: Double, n1: Double, alpha: Double = 0.05, ratio: Double = 1, alternative: Alternative = .twoSided)
        -> Double
    {
        let shift = d * (n1 * ratio / (1 + ratio)).squareRoot()
        switch alternative {
        case .twoSided:
            let crit = Normal.isf(alpha / 2)
            return Normal.sf(crit - shift) + Normal.cdf(-crit - shift)
        case .greater:
            return Normal.sf(Normal.isf(alpha) - shift)
        case .less:
            return Normal.cdf(-Normal.isf(alpha) - shift)
        }
    }

    /// Solves for the first arm's sample size giving `power` at standardised effect `d`.
    /// - Throws: `StatsError` for alpha or power outside (0, 1), a zero effect, or power ≤ alpha.
    public static func sampleSize(
        effectSize d: Double, alpha: Double = 0.05, power target: Double = 0.8, ratio: Double = 1,
        alternative: Alternative = .twoSided
    ) throws(StatsError) -> SampleSize {
        try StatsError.requireProbability(alpha, "alpha")
        try StatsError.requireProbability(target, "power")
        try StatsError.requireFinite(d, "effect size")
        try StatsError.requirePositive(ratio, "ratio")
        guard d != 0 else { throw .noSolution(reason: "the effect size is 0, so no sample size reaches the power; pass a non-zero effect") }
        if alternative == .greater && d < 0 || alternative == .less && d > 0 {
            throw .noSolution(reason: "the effect points away from the one-sided alternative")
        }
        guard target > alpha else { throw .noSolution(reason: "power must exceed alpha") }
        // Start from the one-tail closed form, then Newton on the exact power curve.
        let zAlpha = alternative == .twoSided ? Normal.isf(alpha / 2) : Normal.isf(alpha)
        let k = ratio / (1 + ratio)
        var s = (zAlpha + Normal.ppf(target)) / abs(d)  // s = √(n1·k)
        for _ in 0..<100 {
            let n1 = s * s / k
            let f = power(effectSize: d, n1: n1, alpha: alpha, ratio: ratio, alternative: alternative) - target
            let ad = abs(d)
            // d power / d s
            var slope = ad * Normal.pdf(zAlpha - ad * s)
            if alternative == .twoSided { slope -= ad * Normal.pdf(-zAlpha - ad * s) }
            let step = f / slope
            s -= step
            if abs(step) <= 1e-15 * s { break }
        }
        return SampleSize(perArmExact: s * s / k, effectSize: d)
    }

    /// Sample size per arm to detect a change of a conversion rate from `baseline`.
    /// - Parameters:
    ///   - baseline: the control conversion rate, in (0, 1).
    ///   - minimumDetectableEffect: the change to detect, absolute (0.01 = one point) or relative (0.1 = 10 %).
    ///   - relative: whether the effect is relative to the baseline.
    public static func sampleSizeForProportions(
        baseline: Double, minimumDetectableEffect mde: Double, relative: Bool = false,
        alpha: Double = 0.05, power: Double = 0.8, ratio: Double = 1, alternative: Alternative = .twoSided
    ) throws(StatsError)
        -> SampleSize
    {
        try StatsError.requireProbability(baseline, "baseline")
        try StatsError.requireFinite(mde, "minimum detectable effect")
        let p2 = relative ? baseline * (1 + mde) : baseline + mde
        guard p2 > 0, p2 < 1 else {
            throw .parameterOutOfRange(name: "baseline + effect", value: p2, expected: "a rate strictly between 0 and 1")
        }
        return try sampleSize(effectSize: cohensH(baseline, p2), alpha: alpha, power: power, ratio: ratio, alternative: alternative)
    }

    /// Sample size per arm to detect a shift `minimumDetectableEffect` of a mean with standard deviation `sd`.
    public static func sampleSizeForMeans(
        standardDeviation sd: Double, minimumDetectableEffect mde: Double, alpha: Double = 0.05,
        power: Double = 0.8, ratio: Double = 1, alternative: Alternative = .twoSided
    ) throws(StatsError) -> SampleSize {
        try StatsError.requirePositive(sd, "standard deviation")
        return try sampleSize(effectSize: mde / sd, alpha: alpha, power: power, ratio: ratio, alternative: alternative)
    }

    /// The smallest standardised effect detectable with `n1` units in the first arm.
    public static func minimumDetectableEffectSize(n1: Double, alpha: Double = 0.05, power target: Double = 0.8, ratio: Double = 1)
        throws(StatsError) -> Double
    {
        try StatsError.requirePositive(n1, "n1")
        try StatsError.requireProbability(alpha, "alpha")
        try StatsError.requireProbability(target, "power")
        let k = (n1 * ratio / (1 + ratio)).squareRoot()
        let zAlpha = Normal.isf(alpha / 2)
        var d = (zAlpha + Normal.ppf(target)) / k
        for _ in 0..<100 {
            let f = power(effectSize: d, n1: n1, alpha: alpha, ratio: ratio) - target
            let slope = k * (Normal.pdf(zAlpha - d * k) - Normal.pdf(-zAlpha - d * k))
            let step = f / slope
            d -= step
            if abs(step) <= 1e-15 * d { break }
        }
        return d
    }

    /// The smallest increase of a conversion rate from `baseline` detectable with `n1` units in the
    /// first arm, as an absolute difference of rates (Cohen's h mapped back through the arcsine).
    /// - Throws: `StatsError` for a baseline outside (0, 1) or when even a rate of 1 is not detectable.
    public static func minimumDetectableEffectForProportions(
        baseline: Double, n1: Double, alpha: Double = 0.05, power: Double = 0.8,
        ratio: Double = 1
    ) throws(StatsError) -> Double {
        try StatsError.requireProbability(baseline, "baseline")
        let h = try minimumDetectableEffectSize(n1: n1, alpha: alpha, power: power, ratio: ratio)
        let angle = asin(baseline.squareRoot()) + h / 2
        guard angle < Double.pi / 2 else {
            throw .noSolution(reason: "no rate up to 1 is detectable with \(n1) units per arm; add units or lower the power")
        }
        let s = sin(angle)
        return s * s - baseline
    }

    /// The smallest shift of a mean with standard deviation `sd` detectable with `n1` units in the first arm.
    public static func minimumDetectableEffectForMeans(
        standardDeviation sd: Double, n1: Double, alpha: Double = 0.05, power: Double = 0.8,
        ratio: Double = 1
    ) throws(StatsError) -> Double {
        try StatsError.requirePositive(sd, "standard deviation")
        return try minimumDetectableEffectSize(n1: n1, alpha: alpha, power: power, ratio: ratio) * sd
    }
}
