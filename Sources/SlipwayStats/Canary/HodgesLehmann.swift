import Foundation

/// The Hodges–Lehmann shift estimate with its confidence interval.
public struct HodgesLehmannResult: Sendable, Hashable, Codable {
    /// The median of all pairwise differences b_j − a_i.
    public var estimate: Double
    /// Lower end of the distribution-free confidence interval.
    public var ciLow: Double
    /// Upper end of the distribution-free confidence interval.
    public var ciHigh: Double
}

/// The Hodges–Lehmann estimate of the shift of treatment `b` over control `a`: the median of the
/// n_a·n_b differences b_j − a_i (the mean of the two middle ones when their number is even).
///
/// The interval takes the order statistics k and N + 1 − k of the differences, with
/// N = n_a·n_b and k = ⌊N/2 − z_{1−α/2}·√(n_a n_b (n_a + n_b + 1)/12)⌋ (at least 1), the normal
/// approximation of the U distribution. Runs in O((n_a + n_b) log range) without forming the differences.
/// - Throws: `StatsError` for empty samples or non-finite values.
public func hodgesLehmann(_ a: [Double], _ b: [Double], alpha: Double = 0.05) throws(StatsError) -> HodgesLehmannResult {
    guard !a.isEmpty else { throw .tooFewObservations(what: "sample a", count: 0, minimum: 1) }
    guard !b.isEmpty else { throw .tooFewObservations(what: "sample b", count: 0, minimum: 1) }
    try StatsError.requireFinite(a, "sample a")
    try StatsError.requireFinite(b, "sample b")
    try StatsError.requireProbability(alpha, "alpha")
    let sel = PairwiseDifferences(a: FastSort.sorted(a), b: FastSort.sorted(b))
    let total = a.count * b.count
    let estimate: Double
    if total % 2 == 1 {
        estimate = sel.kth(total / 2 + 1)
    } else {
        estimate = 0.5 * (sel.kth(total / 2) + sel.kth(total / 2 + 1))
    }
    let na = Double(a.count)
    let nb = Double(b.count)
    let z = Normal.isf(alpha / 2)
    var k = Int((Double(total) / 2 - z * (na * nb * (na + nb + 1) / 12).squareRoot()).rounded(.down))
    k = max(1, min(k, total))
    return HodgesLehmannResult(estimate: estimate, ciLow: sel.kth(k), ciHigh: sel.kth(total + 1 - k))
}

/// Selection of the k-th smallest difference b_j − a_i among sorted samples, by bisection on the
/// value with linear-time counting, finished by sorting the few differences left in the bracket.
struct PairwiseDifferences {
    let a: [Double]
    let b: [Double]

    /// Number of pairs with b_j − a_i ≤ v.
    func countAtMost(_ v: Double) -> Int {
        var count = 0
        var p = 0  // first index with b_j − a_p ≤ v
        for bj in b {
            while p < a.count && bj - a[p] > v { p += 1 }
            count += a.count - p
        }
        return count
    }

    /// The k-th smallest difference, 1-based.
    func kth(_ k: Int) -> Double {
        var lo = b[0] - a[a.count - 1]  // the minimum difference
        var hi = b[b.count - 1] - a[0]  // the maximum difference
        if k <= 1 { return lo }
        if countAtMost(lo) >= k { return lo }
        // Invariant: countAtMost(lo) = below < k ≤ above = countAtMost(hi). Steps interpolate the
        // count linearly (fast on smooth data) and fall back to halving when a step gains too little.
        var below = countAtMost(lo)
        var above = a.count * b.count
        let limit = max(2048, (a.count + b.count) / 4)
        var interpolate = true
        for _ in 0..<2000 {
            if above - below <= limit { break }
            var mid: Double
            if interpolate {
                let share = Double(k - below) / Double(above - below)
                let margin = 0.02
                mid = lo + (hi - lo) * min(max(share, margin), 1 - margin)
            } else {
                mid = lo + (hi - lo) / 2
            }
            if mid <= lo || mid >= hi {
                mid = lo + (hi - lo) / 2
                if mid <= lo || mid >= hi { break }
            }
            let c = countAtMost(mid)
            let before = above - below
            if c >= k {
                hi = mid
                above = c
            } else {
                lo = mid
                below = c
            }
            // Interpolate again only while each step removes at least half of the bracket.
            interpolate = (above - below) * 2 <= before
        }
        // Collect the differences in (lo, hi] and pick the (k − below)-th.
        var values: [Double] = []
        var start = 0
        var end = 0
        for bj in b {
            while start < a.count && bj - a[start] > hi { start += 1 }
            if end < start { end = start }
            while end < a.count && bj - a[end] > lo { end += 1 }
            for i in start..<end { values.append(bj - a[i]) }
        }
        values.sort()
        let index = k - below - 1
        if values.isEmpty { return hi }
        return values[min(max(0, index), values.count - 1)]
    }
}
