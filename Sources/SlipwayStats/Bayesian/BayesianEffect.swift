import Foundation

/// A Gaussian prior on the effect.
public struct GaussianPrior: Sendable, Hashable, Codable {
    /// Prior mean of the effect.
    public var mean: Double
    /// Prior variance of the effect, greater than zero.
    public var variance: Double

    /// Creates a proper Gaussian prior.
    public init(mean: Double = 0, variance: Double = 1) {
        self.mean = mean
        self.variance = variance
    }
}

/// The posterior summary of a Bayesian A/B comparison.
public struct BayesianEffectResult: Sendable, Hashable, Codable {
    /// Posterior mean of the effect.
    public var mean: Double
    /// Posterior standard deviation of the effect.
    public var standardDeviation: Double
    /// P(treatment is better), i.e. P(effect > 0), or P(effect < 0) for an inverse metric.
    public var chanceToWin: Double
    /// Lower end of the equal-tailed credible interval.
    public var ciLow: Double
    /// Upper end of the equal-tailed credible interval.
    public var ciHigh: Double
    /// Expected loss of choosing control: E[max(effect, 0)] (swapped for inverse metrics).
    public var riskControl: Double
    /// Expected loss of choosing treatment: E[max(−effect, 0)] (swapped for inverse metrics).
    public var riskTreatment: Double
}

/// GrowthBook's Gaussian effect model (`gbstats` `EffectBayesianABTest`): the frequentist effect
/// estimate and its variance form a Gaussian likelihood, combined with a flat (`prior == nil`)
/// or proper Gaussian prior on the effect.
///
/// ```swift
/// let r = try bayesianEffect(control: .proportion(successes: 100, trials: 1000),
///                            treatment: .proportion(successes: 120, trials: 1000))
/// r.chanceToWin   // ≈ 0.92
/// ```
/// - Parameters:
///   - control: the control arm.
///   - treatment: the treatment arm.
///   - scale: relative (default, as GrowthBook) or absolute effect.
///   - prior: a proper prior on the effect on the same scale, or `nil` for a flat prior.
///   - alpha: 1 − credibility of the interval.
///   - inverse: `true` when lower values of the metric are better.
public func bayesianEffect(
    control: ArmStatistic, treatment: ArmStatistic, scale: EffectScale = .relative, prior: GaussianPrior? = nil,
    alpha: Double = 0.05, inverse: Bool = false
) throws(StatsError) -> BayesianEffectResult {
    try StatsError.requireProbability(alpha, "alpha")
    if let prior {
        try StatsError.requireFinite(prior.mean, "prior mean")
        try StatsError.requirePositive(prior.variance, "prior variance")
    }
    let e = try EffectEstimate(control: control, treatment: treatment, scale: scale)
    var precision = 1 / e.variance
    var mean = e.estimate
    if let prior {
        precision += 1 / prior.variance
        mean = (e.estimate / e.variance + prior.mean / prior.variance) / precision
    }
    let sd = (1 / precision).squareRoot()
    let pPositive = Normal.sf(-mean / sd)
    let pNegative = Normal.cdf(-mean / sd)
    let q = Normal.isf(alpha / 2)
    // E[max(X, 0)] and E[max(−X, 0)] for X ~ N(mean, sd²).
    let z = mean / sd
    let density = sd * Normal.pdf(z)
    let gain = mean * Normal.cdf(z) + density
    let loss = -mean * Normal.sf(z) + density
    return BayesianEffectResult(
        mean: mean, standardDeviation: sd, chanceToWin: inverse ? pNegative : pPositive,
        ciLow: mean - q * sd, ciHigh: mean + q * sd,
        riskControl: inverse ? loss : gain, riskTreatment: inverse ? gain : loss)
}

/// The posterior comparison of two conversion rates with independent Beta posteriors.
public struct BetaBinomialResult: Sendable, Hashable, Codable {
    /// P(rate_treatment > rate_control).
    public var chanceToWin: Double
    /// E[max(rate_treatment − rate_control, 0)]: the expected loss of keeping control.
    public var riskControl: Double
    /// E[max(rate_control − rate_treatment, 0)]: the expected loss of shipping treatment.
    public var riskTreatment: Double
    /// Posterior mean of the control rate.
    public var controlMean: Double
    /// Posterior mean of the treatment rate.
    public var treatmentMean: Double
    /// Equal-tailed credible interval of the control rate.
    public var controlInterval: ClosedRange<Double>
    /// Equal-tailed credible interval of the treatment rate.
    public var treatmentInterval: ClosedRange<Double>
}

/// Beta-binomial comparison of two proportions with a Beta(priorAlpha, priorBeta) prior on each rate.
///
/// P(B > A) uses the exact finite sum (Miller, 2015) over the smaller integer posterior shape when
/// it has at most 100,000 terms, and Gauss–Legendre integration of f_B(x)·F_A(x) otherwise.
/// - Parameters:
///   - alpha: 1 − credibility of the per-arm rate intervals.
/// - Throws: `StatsError` for invalid counts or a non-positive prior.
public func betaBinomialTest(
    control: Proportion, treatment: Proportion, priorAlpha: Double = 1, priorBeta: Double = 1, alpha: Double = 0.05
) throws(StatsError) -> BetaBinomialResult {
    try StatsError.requireProbability(alpha, "alpha")
    try StatsError.requirePositive(priorAlpha, "priorAlpha")
    try StatsError.requirePositive(priorBeta, "priorBeta")
    let aA = priorAlpha + control.successes
    let bA = priorBeta + control.trials - control.successes
    let aB = priorAlpha + treatment.successes
    let bB = priorBeta + treatment.trials - treatment.successes
    let win = probabilityBetaGreater(aB, bB, than: aA, bA)
    // E[max(B − A, 0)] = E[B]·P(B' > A) − E[A]·P(B > A') with B' ~ Beta(aB+1, bB), A' ~ Beta(aA+1, bA).
    let meanA = aA / (aA + bA)
    let meanB = aB / (aB + bB)
    let gainB = meanB * probabilityBetaGreater(aB + 1, bB, than: aA, bA) - meanA * probabilityBetaGreater(aB, bB, than: aA + 1, bA)
    let gainA = meanA * probabilityBetaGreater(aA + 1, bA, than: aB, bB) - meanB * probabilityBetaGreater(aA, bA, than: aB + 1, bB)
    let postA = BetaDistribution(a: aA, b: bA)
    let postB = BetaDistribution(a: aB, b: bB)
    return BetaBinomialResult(
        chanceToWin: win, riskControl: max(0, gainB), riskTreatment: max(0, gainA), controlMean: meanA, treatmentMean: meanB,
        controlInterval: postA.ppf(alpha / 2)...postA.ppf(1 - alpha / 2), treatmentInterval: postB.ppf(alpha / 2)...postB.ppf(1 - alpha / 2))
}

/// P(X > Y) for independent X ~ Beta(a1, b1) and Y ~ Beta(a2, b2).
public func probabilityBetaGreater(_ a1: Double, _ b1: Double, than a2: Double, _ b2: Double) -> Double {
    // Closed form: P(X > Y) = Σ_{i=0}^{a1−1} B(a2 + i, b1 + b2) / ((b1 + i) B(1 + i, b1) B(a2, b2)) when a1 is an integer.
    if a1 == a1.rounded(), a1 <= 100_000 {
        let base = -SpecialFunctions.logBeta(a2, b2)
        var total = 0.0
        var i = 0.0
        while i < a1 {
            let logTerm = SpecialFunctions.logBeta(a2 + i, b1 + b2) - log(b1 + i) - SpecialFunctions.logBeta(1 + i, b1) + base
            total += exp(logTerm)
            i += 1
        }
        return min(1, max(0, total))
    }
    if b2 == b2.rounded(), b2 <= 100_000 {
        // By symmetry X > Y ⇔ 1 − X < 1 − Y, with 1 − X ~ Beta(b1, a1).
        return probabilityBetaGreater(b2, a2, than: b1, a1)
    }
    return integrateBetaGreater(a1, b1, a2, b2)
}

/// ∫ f_X(x) F_Y(x) dx with Gauss–Legendre over ±12 posterior standard deviations of X.
func integrateBetaGreater(_ a1: Double, _ b1: Double, _ a2: Double, _ b2: Double) -> Double {
    let x = BetaDistribution(a: a1, b: b1)
    let y = BetaDistribution(a: a2, b: b2)
    let sd = x.variance.squareRoot()
    let lo = max(0, x.mean - 12 * sd)
    let hi = min(1, x.mean + 12 * sd)
    let panels = 400
    let width = (hi - lo) / Double(panels)
    var total = 0.0
    for k in 0..<panels {
        let left = lo + Double(k) * width
        for (node, weight) in GaussLegendre.nodes16 {
            let t = left + 0.5 * width * (node + 1)
            if t <= 0 || t >= 1 { continue }
            // ln f_X(t) = ln[t^a (1 − t)^b / B(a, b)] − ln t − ln(1 − t), stable for large shapes.
            let logDensity: Double = SpecialFunctions.logBetaPowerTerm(a: a1, b: b1, x: t, y: 1 - t) - log(t) - log1p(-t)
            total += 0.5 * width * weight * exp(logDensity) * y.cdf(t)
        }
    }
    return min(1, max(0, total))
}

enum GaussLegendre {
    /// 16-point Gauss–Legendre nodes and weights on [−1, 1].
    static let nodes16: [(Double, Double)] = {
        let half: [(Double, Double)] = [
            (0.0950125098376374401853193, 0.1894506104550684962853967),
            (0.2816035507792589132304605, 0.1826034150449235888667637),
            (0.4580167776572273863424194, 0.1691565193950025381893121),
            (0.6178762444026437484466718, 0.1495959888165767320815017),
            (0.7554044083550030338951012, 0.1246289712555338720524763),
            (0.8656312023878317438804679, 0.0951585116824927848099251),
            (0.9445750230732325760779884, 0.0622535239386478928628438),
            (0.9894009349916499325961542, 0.0271524594117540948517806),
        ]
        return half.flatMap { [($0.0, $0.1), (-$0.0, $0.1)] }
    }()
}
