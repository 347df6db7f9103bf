import Foundation

/// Special functions behind the distributions: log-gamma, log-beta and the regularised
/// incomplete gamma and beta functions, written to keep full relative accuracy in the tails.
public enum SpecialFunctions {
    /// The natural logarithm of |Γ(x)|.
    public static func logGamma(_ x: Double) -> Double { lgamma(x) }

    /// Stirling's correction δ(x) = ln Γ(x) − [(x − ½) ln x − x + ½ ln 2π], for x ≥ 10.
    static func stirlingCorrection(_ x: Double) -> Double {
        if x < 10 {
            return lgamma(x) - ((x - 0.5) * log(x) - x + 0.5 * log(2 * Double.pi))
        }
        let r = 1 / x
        let r2 = r * r
        // Bernoulli-number series B_{2k} / (2k (2k − 1) x^{2k−1}).
        let c: [Double] = [
            1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188, -691.0 / 360360, 1.0 / 156, -3617.0 / 122400,
        ]
        var sum = 0.0
        for k in stride(from: c.count - 1, through: 0, by: -1) { sum = sum * r2 + c[k] }
        return sum * r
    }

    /// ln(1 + u) − u, accurate for small |u|.
    static func log1pmx(_ u: Double) -> Double {
        if abs(u) < 0.25 {
            // −u²/2 + u³/3 − u⁴/4 + …
            var term = u * u
            var sum = 0.0
            var k = 2.0
            var sign = -1.0
            while k < 80 {
                let t = sign * term / k
                sum += t
                if abs(t) < 1e-17 * abs(sum) { break }
                term *= u
                sign = -sign
                k += 1
            }
            return sum
        }
        return log1p(u) - u
    }

    /// ln(ratio) − u where ratio = 1 + u, taking the logarithm of `ratio` directly when u is not small.
    static func logRatioMinusLinear(ratio: Double, u: Double) -> Double {
        abs(u) < 0.25 ? log1pmx(u) : log(ratio) - u
    }

    /// ln B(a, b), accurate also when one or both arguments are very large.
    public static func logBeta(_ a: Double, _ b: Double) -> Double {
        let lo = min(a, b)
        let hi = max(a, b)
        if hi < 10 {
            return lgamma(lo) + lgamma(hi) - lgamma(lo + hi)
        }
        if lo < 10 {
            // ln Γ(hi) − ln Γ(lo + hi) via Stirling with the large terms cancelled analytically.
            let diff = -(hi - 0.5) * log1p(lo / hi) - lo * log(lo + hi) + lo + stirlingCorrection(hi) - stirlingCorrection(lo + hi)
            return lgamma(lo) + diff
        }
        let s = lo + hi
        let corr = stirlingCorrection(lo) + stirlingCorrection(hi) - stirlingCorrection(s)
        return -0.5 * log(hi) + 0.5 * log(2 * Double.pi) + corr + (lo - 0.5) * log(lo / s) + hi * log1p(-lo / s)
    }

    /// ln[x^a y^b / B(a, b)] with y = 1 − x, computed without cancellation for large a and b.
    static func logBetaPowerTerm(a: Double, b: Double, x: Double, y: Double) -> Double {
        if a < 10 && b < 10 {
            return a * log(x) + b * log(y) - logBeta(a, b)
        }
        let s = a + b
        let x0 = a / s
        let y0 = b / s
        // a ln(x/x0) + b ln(y/y0) = a·log1pmx(Δ/x0) + b·log1pmx(−Δ/y0) with Δ = x − x0 (the linear parts cancel).
        let dx = x >= 0.5 ? -(y - y0) : x - x0
        let deviation = a * logRatioMinusLinear(ratio: x / x0, u: dx / x0) + b * logRatioMinusLinear(ratio: y / y0, u: -dx / y0)
        // a ln x0 + b ln y0 − ln B(a, b)
        let c: Double
        if a >= 10 && b >= 10 {
            c = 0.5 * log(a * b / (2 * Double.pi * s)) + (stirlingCorrection(s) - stirlingCorrection(a) - stirlingCorrection(b))
        } else if a < 10 {
            c = -0.5 * log1p(a / b) + a * log(a) - a + stirlingCorrection(s) - stirlingCorrection(b) - lgamma(a)
        } else {
            c = -0.5 * log1p(b / a) + b * log(b) - b + stirlingCorrection(s) - stirlingCorrection(a) - lgamma(b)
        }
        return deviation + c
    }

    /// ln[x^a e^{−x} / Γ(a)], accurate for large a.
    static func logGammaPowerTerm(a: Double, x: Double) -> Double {
        if a < 10 {
            return a * log(x) - x - lgamma(a)
        }
        return a * logRatioMinusLinear(ratio: x / a, u: (x - a) / a) + 0.5 * log(a / (2 * Double.pi)) - stirlingCorrection(a)
    }

    // MARK: Incomplete gamma

    /// The regularised lower and upper incomplete gamma functions P(a, x) and Q(a, x) = 1 − P(a, x).
    ///
    /// The smaller of the two is computed directly, so both keep relative accuracy in the tails.
    /// - Parameters:
    ///   - a: shape, a > 0.
    ///   - x: argument, x ≥ 0.
    public static func regularizedGamma(a: Double, x: Double) -> (lower: Double, upper: Double) {
        if x.isNaN || a.isNaN || a <= 0 || x < 0 { return (.nan, .nan) }
        if x == 0 { return (0, 1) }
        if x.isInfinite { return (1, 0) }
        let logPrefix = logGammaPowerTerm(a: a, x: x)
        if x < a + 1 {
            // Series: P = x^a e^{-x}/Γ(a+1) Σ x^n / ((a+1)…(a+n)).
            var term = 1.0
            var sum = 1.0
            var ap = a
            for _ in 0..<100_000 {
                ap += 1
                term *= x / ap
                sum += term
                if term < sum * 1e-17 { break }
            }
            let p = exp(logPrefix) * sum / a
            return (p, 1 - p)
        }
        // Continued fraction for Q (modified Lentz).
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        var i = 1.0
        while i < 100_000 {
            let an = -i * (i - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
            i += 1
        }
        let q = exp(logPrefix) * h
        return (1 - q, q)
    }

    // MARK: Incomplete beta

    /// The regularised incomplete beta function I_x(a, b) and its complement 1 − I_x(a, b).
    ///
    /// Pass `y = 1 − x` computed without cancellation when you can (for Student t,
    /// x = ν/(ν + t²) and y = t²/(ν + t²)); the smaller tail is computed directly.
    /// - Parameters:
    ///   - a: first shape, a > 0.
    ///   - b: second shape, b > 0.
    ///   - x: argument in [0, 1].
    ///   - y: 1 − x; defaults to `1 - x`.
    public static func regularizedBeta(a: Double, b: Double, x: Double, y: Double? = nil) -> (lower: Double, upper: Double) {
        let y = y ?? (1 - x)
        if a.isNaN || b.isNaN || x.isNaN || a <= 0 || b <= 0 || x < 0 || x > 1 { return (.nan, .nan) }
        if x == 0 { return (0, 1) }
        if y == 0 { return (1, 0) }
        // The continued fraction converges fast below the mean, so evaluate the smaller tail there.
        let swap = x > (a + 1) / (a + b + 2)
        if swap {
            let r = betaContinuedFraction(a: b, b: a, x: y, y: x)
            return (1 - r, r)
        }
        let r = betaContinuedFraction(a: a, b: b, x: x, y: y)
        return (r, 1 - r)
    }

    /// I_x(a, b) by a continued fraction in the form of DiDonato and Morris (1992), which uses
    /// λ = a − (a + b)x taken from y when x is near 1, so the argument's precision is kept.
    static func betaContinuedFraction(a: Double, b: Double, x: Double, y: Double) -> Double {
        let logFront = logBetaPowerTerm(a: a, b: b, x: x, y: y)
        if logFront < -746 { return 0 }
        let lambda = x > 0.5 ? (a + b) * y - b : a - (a + b) * x
        let c = lambda + 1
        let c0 = b / a
        let c1 = 1 / a + 1
        let yp1 = y + 1
        var n = 0.0
        var p = 1.0
        var s = a + 1
        var an = 0.0
        var bn = 1.0
        var anp1 = 1.0
        var bnp1 = c / c1
        var r = c1 / c
        while n < 1_000_000 {
            n += 1
            let t = n / a
            let w = n * (b - n) * x
            var e = a / s
            let alpha = p * (p + c0) * e * e * (w * x)
            e = (t + 1) / (c1 + t + t)
            let beta = n + w / s + e * (c + n * yp1)
            p = t + 1
            s += 2
            let nextA = alpha * an + beta * anp1
            an = anp1
            anp1 = nextA
            let nextB = alpha * bn + beta * bnp1
            bn = bnp1
            bnp1 = nextB
            let previous = r
            r = anp1 / bnp1
            if abs(r - previous) <= 1e-16 * r { break }
            an /= bnp1
            bn /= bnp1
            anp1 = r
            bnp1 = 1
        }
        return exp(logFront) * r
    }
}
