import Foundation

/// The result of a Mann–Whitney U test of treatment (b) against control (a).
public struct MannWhitneyResult: Sendable, Hashable, Codable {
    /// U of the treatment sample: the number of pairs (a_i, b_j) with b_j > a_i, ties counting ½
    /// (what `scipy.stats.mannwhitneyu(b, a)` reports as its statistic).
    public var u: Double
    /// The p-value for the chosen alternative.
    public var pValue: Double
    /// `true` when the exact null distribution was used (a sample of at most 8 values and no ties).
    public var exact: Bool
    /// The standardised statistic of the normal approximation (0 when exact).
    public var z: Double
}

/// Mann–Whitney U test, choosing the method as `scipy.stats.mannwhitneyu(b, a, method="auto")`:
/// exact when either sample has at most 8 values and there are no ties, otherwise the normal
/// approximation with tie correction and a continuity correction of ½.
/// - Parameters:
///   - a: control sample.
///   - b: treatment sample.
///   - alternative: `.greater` means treatment tends to be larger.
/// - Throws: `StatsError` for empty samples or non-finite values.
public func mannWhitneyU(_ a: [Double], _ b: [Double], alternative: Alternative = .twoSided) throws(StatsError) -> MannWhitneyResult {
    guard !a.isEmpty else { throw .tooFewObservations(what: "sample a", count: 0, minimum: 1) }
    guard !b.isEmpty else { throw .tooFewObservations(what: "sample b", count: 0, minimum: 1) }
    try StatsError.requireFinite(a, "sample a")
    try StatsError.requireFinite(b, "sample b")
    let sa = FastSort.sorted(a)
    let sb = FastSort.sorted(b)
    let n1 = Double(b.count)
    let n2 = Double(a.count)
    // Rank sum of b by merging the sorted samples, with average ranks for ties.
    var i = 0
    var j = 0
    var rankSumB = 0.0
    var tieTerm = 0.0
    var hasTies = false
    var position = 0.0
    while i < sa.count || j < sb.count {
        let v: Double
        if j >= sb.count || (i < sa.count && sa[i] < sb[j]) { v = sa[i] } else { v = sb[j] }
        var ca = 0
        var cb = 0
        while i < sa.count && sa[i] == v {
            i += 1
            ca += 1
        }
        while j < sb.count && sb[j] == v {
            j += 1
            cb += 1
        }
        let t = Double(ca + cb)
        let averageRank = position + (t + 1) / 2
        rankSumB += Double(cb) * averageRank
        position += t
        if t > 1 {
            hasTies = true
            tieTerm += t * t * t - t
        }
    }
    let u1 = rankSumB - n1 * (n1 + 1) / 2
    let u2 = n1 * n2 - u1
    let uForP: Double
    let factor: Double
    switch alternative {
    case .greater: (uForP, factor) = (u1, 1)
    case .less: (uForP, factor) = (u2, 1)
    case .twoSided: (uForP, factor) = (max(u1, u2), 2)
    }
    let useExact = !(n1 > 8 && n2 > 8) && !hasTies
    if useExact {
        let p = MannWhitneyExact(n1: Int(n1), n2: Int(n2)).sf(Int(uForP))
        return MannWhitneyResult(u: u1, pValue: min(1, max(0, p * factor)), exact: true, z: 0)
    }
    let n = n1 + n2
    let mu = n1 * n2 / 2
    let s = (n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))).squareRoot()
    guard s > 0 else { throw .zeroVariance(what: "pooled samples (all values tied)") }
    let z = (uForP - mu - 0.5) / s
    let p = Normal.cdf(-z) * factor
    return MannWhitneyResult(u: u1, pValue: min(1, max(0, p)), exact: false, z: z)
}

/// The exact null distribution of U for samples of sizes n1 and n2 without ties: the coefficients
/// of the Gaussian binomial [n1 + n2 choose n1]_q, normalised by C(n1 + n2, n1).
public struct MannWhitneyExact: Sendable {
    /// P(U = u) for u = 0 … n1·n2.
    public let pmf: [Double]

    /// Builds the distribution in O(min(n1, n2)² · max(n1, n2)) operations.
    public init(n1: Int, n2: Int) {
        let small = min(n1, n2)
        let large = max(n1, n2)
        let degree = small * large
        var c = [Double](repeating: 0, count: degree + 1)
        c[0] = 1
        var currentDegree = 0
        for i in stride(from: 1, through: small, by: 1) {
            // Multiply by (1 − q^{large + i}), then divide by (1 − q^i).
            let shift = large + i
            let newDegree = currentDegree + large
            if shift <= newDegree {
                for k in stride(from: newDegree, through: shift, by: -1) where k - shift <= currentDegree { c[k] -= c[k - shift] }
            }
            for k in stride(from: i, through: newDegree, by: 1) { c[k] += c[k - i] }
            currentDegree = newDegree
        }
        var logTotal = lgamma(Double(n1 + n2 + 1)) - lgamma(Double(n1 + 1)) - lgamma(Double(n2 + 1))
        if small == 0 { logTotal = 0 }
        let total = exp(logTotal)
        pmf = c.map { max(0, $0) / total }
    }

    /// P(U ≥ u), summing the shorter tail.
    public func sf(_ u: Int) -> Double {
        let maxU = pmf.count - 1
        if u <= 0 { return 1 }
        if u > maxU { return 0 }
        let complement = maxU - u
        if u >= complement {
            // P(U ≥ u) = P(U ≤ n1·n2 − u) by symmetry.
            var s = 0.0
            for k in 0...complement { s += pmf[k] }
            return s
        }
        var s = 0.0
        for k in 0..<u { s += pmf[k] }
        return 1 - s
    }
}
