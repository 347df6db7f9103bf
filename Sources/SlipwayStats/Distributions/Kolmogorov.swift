import Foundation

/// The distribution of the two-sided one-sample Kolmogorov–Smirnov statistic Dₙ for finite n,
/// following the method selection of Simard and L'Ecuyer (2011) as scipy's `kstwo` does:
/// exact Ruben–Gambino forms at the extremes, the Durbin matrix (Marsaglia–Tsang–Wang) for small
/// n·d², the one-sided Smirnov sum in the upper tail, and the Pelz–Good expansion for large n.
public enum KolmogorovDistribution {
    /// P(Dₙ > d).
    public static func sf(_ d: Double, n: Int) -> Double {
        let nd = Double(n)
        if d.isNaN || n <= 0 { return .nan }
        if d >= 1 { return 0 }
        if d <= 0 { return 1 }
        let t = nd * d
        if t <= 1 {
            if t <= 0.5 { return 1 }
            return clip(1 - rubenGambinoLow(n: n, t: t))
        }
        if t >= nd - 1 { return clip(2 * pow(1 - d, nd)) }
        if d >= 0.5 { return clip(2 * smirnovSF(n: n, d: d)) }
        let nx2 = t * d
        if n <= 140 {
            if nx2 <= 4 { return clip(1 - durbinMatrixCDF(n: n, d: d)) }
            return clip(2 * smirnovSF(n: n, d: d))
        }
        if nx2 >= 370 { return 0 }
        if nx2 >= 2.2 { return clip(2 * smirnovSF(n: n, d: d)) }
        let cdf: Double
        if nx2 >= 18 {
            cdf = 1
        } else if n <= 100_000 && nd * pow(d, 1.5) <= 1.4 {
            cdf = durbinMatrixCDF(n: n, d: d)
        } else {
            cdf = pelzGoodCDF(n: n, d: d)
        }
        return clip(1 - cdf)
    }

    /// P(Dₙ ≤ d).
    public static func cdf(_ d: Double, n: Int) -> Double { 1 - sf(d, n: n) }

    static func clip(_ p: Double) -> Double { min(1, max(0, p)) }

    /// n!/nⁿ (2t − 1)ⁿ, the exact CDF for ½ < n·d ≤ 1.
    static func rubenGambinoLow(n: Int, t: Double) -> Double {
        let nd = Double(n)
        if n <= 140 {
            var p = 1.0
            for i in 1...n { p *= Double(i) / nd * (2 * t - 1) }
            return p
        }
        let logFactorialOverPower = lgamma(nd + 1) - nd * log(nd)
        return exp(logFactorialOverPower + nd * log(2 * t - 1))
    }

    /// The exact one-sided tail P(Dₙ⁺ ≥ d) by the Birnbaum–Tingey sum
    /// d Σⱼ C(n, j) (1 − d − j/n)^{n−j} (d + j/n)^{j−1}.
    public static func smirnovSF(n: Int, d: Double) -> Double {
        let nd = Double(n)
        if d <= 0 { return 1 }
        if d >= 1 { return 0 }
        let last = Int((nd * (1 - d)).rounded(.down))
        // ln C(n, j) is accumulated with Neumaier compensation: the running value grows to ~n while each
        // increment is O(1), so plain summation would lose about 1e-9 relative over 10⁵ steps.
        var logChoose = 0.0
        var logChooseCompensation = 0.0
        var total = 0.0
        var peak = -Double.infinity
        for j in 0...last {
            let jd = Double(j)
            if j > 0 {
                let increment = log((nd - jd + 1) / jd)
                let t = logChoose + increment
                if abs(logChoose) >= abs(increment) {
                    logChooseCompensation += (logChoose - t) + increment
                } else {
                    logChooseCompensation += (increment - t) + logChoose
                }
                logChoose = t
            }
            let a = 1 - d - jd / nd
            let b = d + jd / nd
            var logTerm = (logChoose + logChooseCompensation) + (jd - 1) * log(b)
            if nd - jd > 0 {
                if a <= 0 { continue }
                logTerm += (nd - jd) * log(a)
            }
            let term = exp(logTerm)
            total += term
            if logTerm > peak { peak = logTerm }
            if logTerm < peak - 40 && j > 10 { break }
        }
        return d * total
    }

    /// P(Dₙ ≤ d) by the Durbin matrix method as arranged by Marsaglia, Tsang and Wang (2003).
    static func durbinMatrixCDF(n: Int, d: Double) -> Double {
        let nd = Double(n)
        let k = Int((nd * d).rounded(.down)) + 1
        let m = 2 * k - 1
        let h = Double(k) - nd * d
        var matrix = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            for j in 0..<m where i - j + 1 >= 0 { matrix[i * m + j] = 1 }
        }
        for i in 0..<m {
            matrix[i * m] -= pow(h, Double(i + 1))
            matrix[(m - 1) * m + i] -= pow(h, Double(m - i))
        }
        if 2 * h - 1 > 0 { matrix[(m - 1) * m] += pow(2 * h - 1, Double(m)) }
        for i in 0..<m {
            for j in 0..<m where i - j + 1 > 0 {
                var f = 1.0
                for g in stride(from: 1, through: i - j + 1, by: 1) { f *= Double(g) }
                matrix[i * m + j] /= f
            }
        }
        let (Q, exponent) = matrixPower(matrix, m: m, power: n)
        var s = Q[(k - 1) * m + (k - 1)]
        var e = exponent
        for i in 1...n {
            s = s * Double(i) / nd
            if s < 1e-140 {
                s *= 1e140
                e -= 140 * log2(10.0)
            }
        }
        return s * pow(2, e)
    }

    /// Aⁿ with a separate base-2 exponent to avoid overflow.
    static func matrixPower(_ a: [Double], m: Int, power: Int) -> ([Double], Double) {
        if power == 1 { return (a, 0) }
        var (half, e) = matrixPower(a, m: m, power: power / 2)
        var result = multiply(half, half, m: m)
        e *= 2
        if power % 2 == 1 { result = multiply(result, a, m: m) }
        let center = result[(m / 2) * m + m / 2]
        if center > 1e140 {
            let scale = (log2(center)).rounded(.down)
            let factor = pow(2, -scale)
            for i in result.indices { result[i] *= factor }
            e += scale
        }
        half = []
        return (result, e)
    }

    static func multiply(_ a: [Double], _ b: [Double], m: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * m)
        for i in 0..<m {
            for k in 0..<m {
                let aik = a[i * m + k]
                if aik == 0 { continue }
                for j in 0..<m { c[i * m + j] += aik * b[k * m + j] }
            }
        }
        return c
    }

    /// The Pelz–Good (1976) expansion of P(Dₙ ≤ d) to order n^{−3/2}.
    static func pelzGoodCDF(n: Int, d: Double) -> Double {
        let nd = Double(n)
        let z = nd.squareRoot() * d
        let z2 = z * z
        let z4 = z2 * z2
        let z6 = z4 * z2
        let pi2 = Double.pi * Double.pi
        let pi4 = pi2 * pi2
        let pi6 = pi4 * pi2
        let sqrt2pi = (2 * Double.pi).squareRoot()
        let logQ = -pi2 / (8 * z2)
        if logQ < -708 { return 0 }
        let maxK = Int((16 * z / Double.pi).rounded(.up))
        // Sums over odd m = 2k − 1 of polynomial(m) · exp(−m²π²/(8z²)).
        var k0 = 0.0
        var k1 = 0.0
        var k2 = 0.0
        var k3 = 0.0
        for k in 1...max(1, maxK) {
            let m = Double(2 * k - 1)
            let m2 = m * m
            let m4 = m2 * m2
            let m6 = m4 * m2
            let w = exp(-m2 * pi2 / (8 * z2))
            k0 += w
            k1 += w * (pi2 * m2 / 4 - z2)
            k2 += w * ((6 * z6 + 2 * z4) + (2 * z4 - 5 * z2) * pi2 / 4 * m2 + pi4 * (1 - 2 * z2) / 16 * m4)
            k3 +=
                w
                * ((-30 * z6 - 90 * z6 * z2) + pi2 * (135 * z4 - 96 * z6) / 4 * m2 + pi4 * (-60 * z2 + 212 * z4) / 16 * m4
                    + pi6 * (5 - 30 * z2) / 64 * m6)
        }
        k0 *= sqrt2pi / z
        k1 *= sqrt2pi / (6 * z4)
        k2 *= sqrt2pi / (72 * z6 * z)
        k3 *= sqrt2pi / (6480 * z6 * z4)
        // Sums over all integers k of k² exp(−k²π²/(2z²)) terms.
        var extra2 = 0.0
        var extra3 = 0.0
        for k in 1...max(1, maxK) {
            let kd = Double(k)
            let w = exp(-kd * kd * pi2 / (2 * z2))
            extra2 += kd * kd * w
            extra3 += (3 * z2 - pi2 * kd * kd) * kd * kd * w
        }
        k2 += extra2 * pi2 * sqrt2pi / (-36 * z2 * z)
        k3 += extra3 * pi2 * sqrt2pi / (216 * z6)
        return k0 + k1 / nd.squareRoot() + k2 / nd + k3 / (nd * nd.squareRoot())
    }
}
