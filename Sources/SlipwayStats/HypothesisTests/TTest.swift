import Foundation

/// The result of a two-sample t-test of treatment (b) against control (a).
public struct TTestResult: Sendable, Hashable, Codable {
    /// The t statistic, positive when the treatment mean is larger.
    public var t: Double
    /// Degrees of freedom (Welch–Satterthwaite for the unequal-variance test).
    public var df: Double
    /// The p-value for the chosen alternative.
    public var pValue: Double
    /// Lower end of the confidence interval for mean(b) − mean(a).
    public var ciLow: Double
    /// Upper end of the confidence interval for mean(b) − mean(a).
    public var ciHigh: Double
    /// mean(b) − mean(a).
    public var difference: Double
    /// The standard error of the difference.
    public var standardError: Double
}

/// Welch's unequal-variance t-test on summaries (as `scipy.stats.ttest_ind(b, a, equal_var=False)`).
/// - Parameters:
///   - control: summary of sample a.
///   - treatment: summary of sample b.
///   - alpha: 1 − confidence level of the interval.
///   - alternative: the alternative hypothesis (treatment versus control).
/// - Throws: `StatsError.tooFewObservations` below 2 observations per sample, `.zeroVariance` when both variances are 0.
public func welchTTest(
    control: SampleSummary, treatment: SampleSummary, alpha: Double = 0.05, alternative: Alternative = .twoSided
) throws(StatsError) -> TTestResult {
    try validateTwoSamples(control, treatment, alpha)
    let va = control.variance / control.count
    let vb = treatment.variance / treatment.count
    let se2 = va + vb
    guard se2 > 0 else { throw .zeroVariance(what: "both samples") }
    let df = se2 * se2 / (va * va / (control.count - 1) + vb * vb / (treatment.count - 1))
    return tTestResult(difference: treatment.mean - control.mean, se: se2.squareRoot(), df: df, alpha: alpha, alternative: alternative)
}

/// Student's equal-variance t-test on summaries (as `scipy.stats.ttest_ind(b, a)`).
/// - Throws: `StatsError.tooFewObservations` below 2 observations per sample, `.zeroVariance` when the pooled variance is 0.
public func studentTTest(
    control: SampleSummary, treatment: SampleSummary, alpha: Double = 0.05, alternative: Alternative = .twoSided
) throws(StatsError) -> TTestResult {
    try validateTwoSamples(control, treatment, alpha)
    let df = control.count + treatment.count - 2
    let pooled = ((control.count - 1) * control.variance + (treatment.count - 1) * treatment.variance) / df
    let se2 = pooled * (1 / control.count + 1 / treatment.count)
    guard se2 > 0 else { throw .zeroVariance(what: "both samples") }
    return tTestResult(difference: treatment.mean - control.mean, se: se2.squareRoot(), df: df, alpha: alpha, alternative: alternative)
}

/// Welch's t-test on raw values; `b` is the treatment.
public func welchTTest(_ a: [Double], _ b: [Double], alpha: Double = 0.05, alternative: Alternative = .twoSided) throws(StatsError)
    -> TTestResult
{
    try welchTTest(control: SampleSummary(a), treatment: SampleSummary(b), alpha: alpha, alternative: alternative)
}

/// Student's t-test on raw values; `b` is the treatment.
public func studentTTest(_ a: [Double], _ b: [Double], alpha: Double = 0.05, alternative: Alternative = .twoSided) throws(StatsError)
    -> TTestResult
{
    try studentTTest(control: SampleSummary(a), treatment: SampleSummary(b), alpha: alpha, alternative: alternative)
}

func validateTwoSamples(_ a: SampleSummary, _ b: SampleSummary, _ alpha: Double) throws(StatsError) {
    try StatsError.requireProbability(alpha, "alpha")
    for (s, name) in [(a, "control"), (b, "treatment")] {
        try StatsError.requireFinite([s.count, s.mean, s.variance], "\(name) summary")
        guard s.count >= 2 else { throw .tooFewObservations(what: "\(name) sample", count: Int(s.count), minimum: 2) }
        guard s.variance >= 0 else { throw .parameterOutOfRange(name: "\(name) variance", value: s.variance, expected: "≥ 0") }
    }
}

func tTestResult(difference: Double, se: Double, df: Double, alpha: Double, alternative: Alternative) -> TTestResult {
    let dist = StudentT(df: df)
    let t = difference / se
    let p = alternative.pValue(statistic: t, cdf: dist.cdf, sf: dist.sf)
    let low: Double
    let high: Double
    switch alternative {
    case .twoSided:
        let q = dist.isf(alpha / 2)
        low = difference - q * se
        high = difference + q * se
    case .greater:
        low = difference - dist.isf(alpha) * se
        high = .infinity
    case .less:
        low = -.infinity
        high = difference + dist.isf(alpha) * se
    }
    return TTestResult(t: t, df: df, pValue: p, ciLow: low, ciHigh: high, difference: difference, standardError: se)
}
