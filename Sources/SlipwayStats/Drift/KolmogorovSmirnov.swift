import Foundation

/// The result of a two-sample Kolmogorov–Smirnov test.
public struct KSTestResult: Sendable, Hashable, Codable {
    /// The statistic D = sup |F_a − F_b|.
    public var d: Double
    /// The two-sided p-value.
    public var pValue: Double
    /// `true` when the p-value came from the exact null distribution, `false` for the asymptotic one.
    public var exact: Bool
}

/// Two-sample Kolmogorov–Smirnov test, two-sided, choosing the method as `scipy.stats.ks_2samp`
/// does with `method="auto"`: exact when both samples have at most 10,000 values, otherwise the
/// finite-n Kolmogorov distribution at n = round(n_a·n_b/(n_a + n_b)).
///
/// One-sided alternatives use the exact one-sided distribution up to 10,000 values per sample
/// (scipy also, except that for unequal sizes it falls back to the approximation once its path
/// count overflows) and Hodges' approximation above.
/// - Parameters:
///   - a: the reference sample.
///   - b: the current sample.
///   - alternative: `.twoSided`, or a one-sided alternative in scipy's terms.
/// - Throws: `StatsError` for an empty sample or non-finite values.
public func ksTwoSample(_ a: [Double], _ b: [Double], alternative: KSAlternative = .twoSided) throws(StatsError) -> KSTestResult {
    guard !a.isEmpty else { throw .tooFewObservations(what: "sample a", count: 0, minimum: 1) }
    guard !b.isEmpty else { throw .tooFewObservations(what: "sample b", count: 0, minimum: 1) }
    try StatsError.requireFinite(a, "sample a")
    try StatsError.requireFinite(b, "sample b")
    let (x, y) = FastSort.sortedPair(a, b)
    return ksTwoSampleSorted(x, y, alternative: alternative)
}

/// The alternative of a two-sample KS test, named as in `scipy.stats.ks_2samp(a, b, alternative=…)`.
public enum KSAlternative: String, Sendable, Hashable, Codable {
    /// The distributions differ: D = sup |F_a − F_b|.
    case twoSided = "two-sided"
    /// F_a is below F_b somewhere (a tends to larger values): D = sup (F_b − F_a).
    case less
    /// F_a is above F_b somewhere (a tends to smaller values): D = sup (F_a − F_b).
    case greater
}

/// The two-sample KS test on samples that are already sorted ascending.
public func ksTwoSampleSorted(_ x: [Double], _ y: [Double], alternative: KSAlternative = .twoSided) -> KSTestResult {
    let n1 = x.count
    let n2 = y.count
    // Walk the merged order; at each distinct value compare the two empirical CDFs. The comparison
    // uses the exact integer i·n2 − j·n1; the floating-point D is formed once at the extremes.
    var i = 0
    var j = 0
    var bestPlus = (value: Int64.min, i: 0, j: 0)
    var bestMinus = (value: Int64.min, i: 0, j: 0)
    let m1 = Int64(n1)
    let m2 = Int64(n2)
    x.withUnsafeBufferPointer { xs in
        y.withUnsafeBufferPointer { ys in
            while i < n1 || j < n2 {
                let v: Double
                if j >= n2 || (i < n1 && xs[i] <= ys[j]) { v = xs[i] } else { v = ys[j] }
                while i < n1 && xs[i] <= v { i += 1 }
                while j < n2 && ys[j] <= v { j += 1 }
                let diff = Int64(i) * m2 - Int64(j) * m1
                if diff > bestPlus.value { bestPlus = (diff, i, j) }
                if -diff > bestMinus.value { bestMinus = (-diff, i, j) }
            }
        }
    }
    let maxPlus = max(0, Double(bestPlus.i) / Double(n1) - Double(bestPlus.j) / Double(n2))
    let maxMinus = max(0, Double(bestMinus.j) / Double(n2) - Double(bestMinus.i) / Double(n1))
    var d: Double
    switch alternative {
    case .twoSided: d = max(maxPlus, maxMinus)
    case .greater: d = maxPlus
    case .less: d = maxMinus
    }
    if max(n1, n2) <= 10_000 {
        let g = gcd(n1, n2)
        let lcm = Double(n1 / g) * Double(n2)
        let h = Int((d * lcm).rounded(.toNearestOrEven))
        d = Double(h) / lcm
        if h == 0 { return KSTestResult(d: d, pValue: 1, exact: true) }
        let p: Double
        switch (alternative, n1 == n2) {
        case (.twoSided, true): p = ksProbabilityOutsideSquare(n: n1, h: h)
        case (.twoSided, false): p = ksProbabilityOutsideBand(n1, n2, g: g, h: h)
        case (_, true):
            var product = 1.0
            let nd = Double(n1)
            for j in 0..<h { product *= (nd - Double(j)) / (nd + Double(j) + 1) }
            p = product
        case (_, false): p = ksProbabilityOneSided(n1, n2, g: g, h: h)
        }
        if p >= 0 && p <= 1 { return KSTestResult(d: d, pValue: p, exact: true) }
    }
    let m = Double(max(n1, n2))
    let n = Double(min(n1, n2))
    let en = m * n / (m + n)
    if alternative == .twoSided {
        return KSTestResult(d: d, pValue: KolmogorovDistribution.sf(d, n: Int(en.rounded(.toNearestOrEven))), exact: false)
    }
    // Hodges (1958), eq. 5.3, with m the larger sample.
    let z = en.squareRoot() * d
    let exponent = -2 * z * z - 2 * z * (m + 2 * n) / (m * n * (m + n)).squareRoot() / 3
    return KSTestResult(d: d, pValue: min(1, max(0, exp(exponent))), exact: false)
}

/// P(sup (F_m − F_n) ≥ h/lcm) for samples of sizes m ≥ n without ties, by a lattice-path recursion
/// that carries the share of paths that already crossed (no subtraction, so tiny p keep their digits).
/// By time reversal the same value holds for sup (F_n − F_m), so the roles of the samples do not matter.
func ksProbabilityOneSided(_ a: Int, _ b: Int, g: Int, h: Int) -> Double {
    let m = max(a, b)
    let n = min(a, b)
    let mg = m / g
    let ng = n / g
    // crossed[j]: share of the paths to (i, j) that touched i·ng − j·mg ≥ h (i counts the larger sample).
    var crossed = [Double](repeating: 0, count: n + 1)
    for i in 1...m {
        let id = Double(i)
        // Points with j ≤ (i·ng − h)/mg are across the boundary.
        let limit = i * ng - h
        let lastCrossed = limit < 0 ? -1 : limit / mg
        var left = 0.0
        for j in 0...n {
            let value: Double
            if j <= lastCrossed {
                value = 1
            } else {
                let jd = Double(j)
                value = (id * crossed[j] + jd * left) / (id + jd)
            }
            crossed[j] = value
            left = value
        }
    }
    return crossed[n]
}

func gcd(_ a: Int, _ b: Int) -> Int {
    var x = a
    var y = b
    while y != 0 { (x, y) = (y, x % y) }
    return x
}

/// P(D ≥ h/n) for two samples of equal size n: 2 Σ_{k≥1} (−1)^{k+1} C(2n, n − kh) / C(2n, n).
func ksProbabilityOutsideSquare(n: Int, h: Int) -> Double {
    let nd = Double(n)
    // Nested evaluation from the largest k down keeps the alternating sum stable.
    var total = 0.0
    var k = n / h
    while k >= 0 {
        var ratio = 1.0
        let kh = Double(k * h)
        for jj in 0..<h {
            let j = Double(jj)
            ratio = ratio * (nd - kh - j) / (nd + kh + j + 1)
        }
        total = ratio * (1 - total)
        k -= 1
    }
    return 2 * total
}

/// P(D ≥ h/lcm(m, n)) for two samples of sizes m ≠ n without ties: the share of interleavings that
/// leave the band |i/m − j/n| < h/lcm at some step. The recursion carries the share of paths that
/// already left (points outside the band count 1), so tiny p-values keep their relative precision.
func ksProbabilityOutsideBand(_ a: Int, _ b: Int, g: Int, h: Int) -> Double {
    let m = max(a, b)
    let n = min(a, b)
    let mg = m / g
    let ng = n / g
    // crossed[j], for j in the current window, is the share of paths to (i, j) that left the band.
    var crossed = [Double](repeating: 0, count: n + 1)
    var lowPrev = 0
    var highPrev = min(n, (h - 1) / mg)
    for i in 1...m {
        let low = i * ng - h < 0 ? 0 : (i * ng - h) / mg + 1
        let high = min(n, (i * ng + h - 1) / mg)
        if low > high { return 1 }
        let id = Double(i)
        // The point left of the window, (i, low − 1), is outside the band when it exists.
        var left = 1.0
        for j in low...high {
            let fromBelow = j <= highPrev && j >= lowPrev ? crossed[j] : 1
            let jd = Double(j)
            let value = (id * fromBelow + jd * left) / (id + jd)
            crossed[j] = value
            left = value
        }
        lowPrev = low
        highPrev = high
    }
    return crossed[n]
}
