import Foundation

/// Student's t distribution with `df` degrees of freedom (any real df > 0).
///
/// ```swift
/// let t = StudentT(df: 9.5)
/// let p = 2 * t.sf(2.1)
/// let crit = t.ppf(0.975)
/// ```
public struct StudentT: Sendable, Hashable {
    /// Degrees of freedom, greater than zero (may be non-integer, or infinite for the normal limit).
    public let df: Double

    /// Creates the distribution; `df` must be positive.
    public init(df: Double) { self.df = df }

    /// The density at t.
    public func pdf(_ t: Double) -> Double {
        if df.isInfinite || df > 1e15 { return Normal.pdf(t) }
        let logNorm = -0.5 * log(df) - SpecialFunctions.logBeta(0.5 * df, 0.5)
        return exp(logNorm - 0.5 * (df + 1) * log1p(t * t / df))
    }

    /// The tail probability P(T ≤ −|t|), computed directly.
    func lowerTail(_ absT: Double) -> Double {
        if absT == 0 { return 0.5 }
        let x: Double
        let y: Double
        if absT > 1e150 {
            x = (df / absT) / absT
            y = 1
        } else {
            let t2 = absT * absT
            x = df / (df + t2)
            y = t2 / (df + t2)
        }
        return 0.5 * SpecialFunctions.regularizedBeta(a: 0.5 * df, b: 0.5, x: x, y: y).lower
    }

    /// The cumulative distribution P(T ≤ t).
    public func cdf(_ t: Double) -> Double {
        if t.isNaN || df.isNaN || df <= 0 { return .nan }
        if df.isInfinite || df > 1e15 { return Normal.cdf(t) }
        if t.isInfinite { return t < 0 ? 0 : 1 }
        let tail = lowerTail(abs(t))
        return t < 0 ? tail : 1 - tail
    }

    /// The survival function P(T > t), accurate in the upper tail.
    public func sf(_ t: Double) -> Double {
        if t.isNaN { return .nan }
        return cdf(-t)
    }

    /// The quantile function: t such that P(T ≤ t) = p.
    public func ppf(_ p: Double) -> Double {
        if p.isNaN || df.isNaN || df <= 0 || p < 0 || p > 1 { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if df.isInfinite || df > 1e15 { return Normal.ppf(p) }
        if p == 0.5 { return 0 }
        let q = p < 0.5 ? p : 1 - p
        let magnitude = tailQuantile(q)
        return p < 0.5 ? -magnitude : magnitude
    }

    /// The inverse survival function: t such that P(T > t) = q, accurate for tiny q.
    public func isf(_ q: Double) -> Double { -ppf(q) }

    /// Returns s ≥ 0 with P(T ≤ −s) = q for 0 < q < 0.5.
    func tailQuantile(_ q: Double) -> Double {
        if df == 1 { return 1 / tan(Double.pi * q) }
        if df == 2 {
            // P(T ≤ −s) = ½(1 − s/√(2 + s²))  ⇒  s = (1 − 2q)·√(2 / (4q(1 − q))).
            let a = 1 - 2 * q
            return a * (2 / (4 * q * (1 - q))).squareRoot()
        }
        // Starting point: Cornish–Fisher expansion or the power-law tail, whichever is larger.
        let z = -Normal.ppf(q)
        let nu = df
        var guess = z + (z * z * z + z) / (4 * nu) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * nu * nu)
        let logK =
            SpecialFunctions.logGamma(0.5 * (nu + 1)) - SpecialFunctions.logGamma(0.5 * nu) - 0.5 * log(Double.pi)
            + 0.5 * (nu - 1) * log(nu) - log(nu)
        let tailGuess = exp((logK - log(q)) / nu)
        if tailGuess.isFinite && tailGuess > guess { guess = tailGuess }
        if !guess.isFinite || guess <= 0 { guess = 1 }

        // Bracket, then safeguarded Newton on log P(T ≤ −s).
        var lo = 0.0
        var hi = guess
        while lowerTail(hi) > q {
            lo = hi
            hi *= 2
            if !hi.isFinite { return .infinity }
        }
        var s = guess
        let logQ = log(q)
        for _ in 0..<200 {
            let f = lowerTail(s)
            if f > q { lo = max(lo, s) } else { hi = min(hi, s) }
            let g = log(f) - logQ
            // d/ds log P(T ≤ −s) = −pdf(s)/P(T ≤ −s)
            let dg = -pdf(s) / f
            var next = s - g / dg
            if !(next > lo && next < hi) || !next.isFinite { next = 0.5 * (lo + hi) }
            if abs(next - s) <= 2e-16 * abs(next) {
                s = next
                break
            }
            s = next
            if hi - lo <= 4e-16 * hi { break }
        }
        return s
    }
}
