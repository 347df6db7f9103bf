import Foundation

/// Inversion of a continuous distribution function by bracketing and Brent's method.
enum QuantileSolver {
    /// Returns x in [lower, upper] with tail(x) = target, where `tail` is monotone on the interval.
    /// Solving on the smaller tail keeps relative precision for targets near 0.
    static func solve(target: Double, lower: Double, upper: Double, tail: (Double) -> Double) -> Double {
        var a = lower
        var b = upper
        var fa = tail(a) - target
        var fb = tail(b) - target
        if fa == 0 { return a }
        if fb == 0 { return b }
        if fa.sign == fb.sign { return fabs(fa) < fabs(fb) ? a : b }
        var c = a
        var fc = fa
        var d = b - a
        var e = d
        for _ in 0..<300 {
            if fb.sign == fc.sign {
                c = a
                fc = fa
                d = b - a
                e = d
            }
            if fabs(fc) < fabs(fb) {
                a = b
                b = c
                c = a
                fa = fb
                fb = fc
                fc = fa
            }
            let tolerance = 2 * Double.ulpOfOne * fabs(b) + Double.leastNormalMagnitude
            let m = 0.5 * (c - b)
            if fabs(m) <= tolerance || fb == 0 { return b }
            if fabs(e) >= tolerance && fabs(fa) > fabs(fb) {
                // Inverse quadratic interpolation, or the secant step when only two points differ.
                let s = fb / fa
                var p: Double
                var q: Double
                if a == c {
                    p = 2 * m * s
                    q = 1 - s
                } else {
                    let qq = fa / fc
                    let r = fb / fc
                    p = s * (2 * m * qq * (qq - r) - (b - a) * (r - 1))
                    q = (qq - 1) * (r - 1) * (s - 1)
                }
                if p > 0 { q = -q } else { p = -p }
                if 2 * p < min(3 * m * q - fabs(tolerance * q), fabs(e * q)) {
                    e = d
                    d = p / q
                } else {
                    d = m
                    e = m
                }
            } else {
                d = m
                e = m
            }
            a = b
            fa = fb
            b += fabs(d) > tolerance ? d : (m > 0 ? tolerance : -tolerance)
            fb = tail(b) - target
        }
        return b
    }
}

extension ChiSquare {
    /// The quantile function: x with P(X ≤ x) = p.
    public func ppf(_ p: Double) -> Double {
        if p.isNaN || p < 0 || p > 1 || !(df > 0) { return .nan }
        if p == 0 { return 0 }
        if p == 1 { return .infinity }
        return p <= 0.5 ? quantile(lowerTail: p) : isf(1 - p)
    }

    /// The inverse survival function: x with P(X > x) = q, accurate for tiny q.
    public func isf(_ q: Double) -> Double {
        if q.isNaN || q < 0 || q > 1 || !(df > 0) { return .nan }
        if q == 0 { return .infinity }
        if q == 1 { return 0 }
        if q > 0.5 { return quantile(lowerTail: 1 - q) }
        var hi = max(1, df)
        while sf(hi) > q { hi *= 2 }
        // sf is decreasing; solve −sf(x) = −q.
        return QuantileSolver.solve(target: -q, lower: 0, upper: hi) { x in -sf(x) }
    }

    func quantile(lowerTail p: Double) -> Double {
        var hi = max(1, df)
        while cdf(hi) < p { hi *= 2 }
        return QuantileSolver.solve(target: p, lower: 0, upper: hi) { x in cdf(x) }
    }
}

extension BetaDistribution {
    /// The quantile function: x with I_x(a, b) = p.
    public func ppf(_ p: Double) -> Double {
        if p.isNaN || p < 0 || p > 1 || !(a > 0) || !(b > 0) { return .nan }
        if p == 0 { return 0 }
        if p == 1 { return 1 }
        if p <= 0.5 {
            return QuantileSolver.solve(target: p, lower: 0, upper: 1) { x in cdf(x) }
        }
        return QuantileSolver.solve(target: -(1 - p), lower: 0, upper: 1) { x in -sf(x) }
    }
}

extension GammaDistribution {
    /// The quantile function: x with P(shape, x/scale) = p.
    public func ppf(_ p: Double) -> Double {
        if p.isNaN || p < 0 || p > 1 || !(shape > 0) || !(scale > 0) { return .nan }
        if p == 0 { return 0 }
        if p == 1 { return .infinity }
        var hi = max(1, shape) * scale
        if p <= 0.5 {
            while cdf(hi) < p { hi *= 2 }
            return QuantileSolver.solve(target: p, lower: 0, upper: hi) { x in cdf(x) }
        }
        while sf(hi) > 1 - p { hi *= 2 }
        return QuantileSolver.solve(target: -(1 - p), lower: 0, upper: hi) { x in -sf(x) }
    }
}
