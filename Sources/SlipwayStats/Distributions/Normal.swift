import Foundation

/// The standard normal distribution N(0, 1), with functions for any mean and standard deviation.
///
/// ```swift
/// let p = Normal.sf(1.96)        // 0.0249978951482204
/// let z = Normal.ppf(0.975)      // 1.959963984540054
/// ```
public enum Normal {
    @usableFromInline static let invSqrt2 = 0.70710678118654752440
    static let invSqrt2Pi = 0.39894228040143267794

    /// The density φ(x).
    public static func pdf(_ x: Double) -> Double { invSqrt2Pi * exp(-0.5 * x * x) }

    /// The cumulative distribution Φ(x) = P(Z ≤ x), accurate in the lower tail down to 1e-300.
    public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x * invSqrt2) }

    /// The survival function 1 − Φ(x) = P(Z > x), accurate in the upper tail.
    public static func sf(_ x: Double) -> Double { 0.5 * erfc(x * invSqrt2) }

    /// The cumulative distribution of N(mean, sd²) at x.
    public static func cdf(_ x: Double, mean: Double, sd: Double) -> Double { cdf((x - mean) / sd) }

    /// The survival function of N(mean, sd²) at x.
    public static func sf(_ x: Double, mean: Double, sd: Double) -> Double { sf((x - mean) / sd) }

    /// The quantile of N(mean, sd²).
    public static func ppf(_ p: Double, mean: Double, sd: Double) -> Double { mean + sd * ppf(p) }

    /// The quantile function Φ⁻¹(p); returns −∞ at 0, +∞ at 1 and NaN outside [0, 1].
    public static func ppf(_ p: Double) -> Double {
        if p.isNaN || p < 0 || p > 1 { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p > 0.5 { return -lowerQuantile(1 - p) }
        return lowerQuantile(p)
    }

    /// Upper quantiles for the significance levels used most, computed once.
    static let commonUpperQuantiles: [(q: Double, x: Double)] = [0.05, 0.025, 0.01, 0.005, 0.1, 0.0005, 0.001].map { ($0, -lowerQuantile($0)) }

    /// The inverse survival function: x such that P(Z > x) = q, accurate for tiny q.
    public static func isf(_ q: Double) -> Double {
        for entry in commonUpperQuantiles where entry.q == q { return entry.x }
        if q.isNaN || q < 0 || q > 1 { return .nan }
        if q == 0 { return .infinity }
        if q == 1 { return -.infinity }
        if q > 0.5 { return lowerQuantile(1 - q) }
        return -lowerQuantile(q)
    }

    /// Φ⁻¹(p) for 0 < p ≤ 0.5: a rational first guess refined by Halley steps on erfc.
    static func lowerQuantile(_ p: Double) -> Double {
        var x: Double
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            x =
                (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q - 2.549732539343734e+00) * q
                    + 4.374664141464968e+00) * q + 2.938163982698783e+00)
                / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q + 3.754408661907416e+00) * q + 1)
        } else {
            let q = p - 0.5
            let r = q * q
            x =
                (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r + 1.383577518672690e+02) * r
                    - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
                / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r + 6.680131188771972e+01) * r
                    - 1.328068155288572e+01) * r + 1)
        }
        for _ in 0..<3 {
            let density = pdf(x)
            if density == 0 || !density.isFinite { break }
            let e = cdf(x) - p
            let u = e / density
            let step = u / (1 + 0.5 * x * u)
            x -= step
            if abs(step) <= 1e-16 * abs(x) { break }
        }
        return x
    }
}
