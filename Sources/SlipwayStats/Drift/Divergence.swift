import Foundation

/// Divergences between a reference and a current distribution over the same bins.
///
/// Inputs are counts or shares per bin; each vector is first divided by its sum. PSI and KL need
/// every bin to be non-zero, so an empty bin is given the share 1e-4 (the convention Evidently
/// uses); Jensen–Shannon and Wasserstein handle empty bins exactly and use no such floor.
public enum Divergence {
    /// The share given to an empty bin by ``psi(reference:current:)`` and ``kl(reference:current:)``.
    public static let emptyBinShare = 1e-4

    /// Population stability index Σ (ref − cur)·ln(ref/cur), after the empty-bin floor.
    public static func psi(reference: [Double], current: [Double]) throws(StatsError) -> Double {
        let (p, q) = try normalisedPair(reference, current)
        let pf = p.map { $0 == 0 ? emptyBinShare : $0 }
        let qf = q.map { $0 == 0 ? emptyBinShare : $0 }
        var total = 0.0
        for i in pf.indices { total += (pf[i] - qf[i]) * log(pf[i] / qf[i]) }
        return total
    }

    /// Kullback–Leibler divergence KL(reference ‖ current) in nats, after the empty-bin floor and
    /// renormalisation (as `scipy.stats.entropy(reference, current)` on the floored shares).
    public static func kl(reference: [Double], current: [Double]) throws(StatsError) -> Double {
        let (p0, q0) = try normalisedPair(reference, current)
        let p = normalise(p0.map { $0 == 0 ? emptyBinShare : $0 })
        let q = normalise(q0.map { $0 == 0 ? emptyBinShare : $0 })
        var total = 0.0
        for i in p.indices where p[i] > 0 { total += p[i] * log(p[i] / q[i]) }
        return total
    }

    /// The Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m) with m = (p + q)/2, in nats or in the given log base.
    public static func jensenShannonDivergence(reference: [Double], current: [Double], base: Double? = nil) throws(StatsError) -> Double {
        let (p, q) = try normalisedPair(reference, current)
        var total = 0.0
        for i in p.indices {
            let m = 0.5 * (p[i] + q[i])
            if p[i] > 0 { total += p[i] * log(p[i] / m) }
            if q[i] > 0 { total += q[i] * log(q[i] / m) }
        }
        total *= 0.5
        if let base { total /= log(base) }
        return max(0, total)
    }

    /// The Jensen–Shannon distance, the square root of the divergence (as `scipy.spatial.distance.jensenshannon`).
    public static func jensenShannon(reference: [Double], current: [Double], base: Double? = nil) throws(StatsError) -> Double {
        try jensenShannonDivergence(reference: reference, current: current, base: base).squareRoot()
    }

    static func normalise(_ v: [Double]) -> [Double] {
        let s = v.reduce(0, +)
        return v.map { $0 / s }
    }

    static func normalisedPair(_ a: [Double], _ b: [Double]) throws(StatsError) -> ([Double], [Double]) {
        guard a.count == b.count else { throw .lengthMismatch(what: "reference and current bins", first: a.count, second: b.count) }
        guard !a.isEmpty else { throw .tooFewObservations(what: "bins", count: 0, minimum: 1) }
        try StatsError.requireFinite(a, "reference")
        try StatsError.requireFinite(b, "current")
        for v in a where v < 0 { throw .negativeCount(what: "reference bin", value: v) }
        for v in b where v < 0 { throw .negativeCount(what: "current bin", value: v) }
        guard a.reduce(0, +) > 0 else { throw .zeroVariance(what: "reference (all bins are empty)") }
        guard b.reduce(0, +) > 0 else { throw .zeroVariance(what: "current (all bins are empty)") }
        return (normalise(a), normalise(b))
    }
}

/// Population stability index; see ``Divergence/psi(reference:current:)``.
public func psi(reference: [Double], current: [Double]) throws(StatsError) -> Double {
    try Divergence.psi(reference: reference, current: current)
}

/// KL(reference ‖ current); see ``Divergence/kl(reference:current:)``.
public func kl(reference: [Double], current: [Double]) throws(StatsError) -> Double {
    try Divergence.kl(reference: reference, current: current)
}

/// Jensen–Shannon distance; see ``Divergence/jensenShannon(reference:current:base:)``.
public func jensenShannon(reference: [Double], current: [Double], base: Double? = nil) throws(StatsError) -> Double {
    try Divergence.jensenShannon(reference: reference, current: current, base: base)
}

/// The first Wasserstein (earth mover's) distance between two samples, ∫|F_a − F_b| dx
/// (as `scipy.stats.wasserstein_distance`).
/// - Throws: `StatsError` for empty samples or non-finite values.
public func wasserstein(_ a: [Double], _ b: [Double]) throws(StatsError) -> Double {
    guard !a.isEmpty else { throw .tooFewObservations(what: "sample a", count: 0, minimum: 1) }
    guard !b.isEmpty else { throw .tooFewObservations(what: "sample b", count: 0, minimum: 1) }
    try StatsError.requireFinite(a, "sample a")
    try StatsError.requireFinite(b, "sample b")
    let x = FastSort.sorted(a)
    let y = FastSort.sorted(b)
    let na = Double(x.count)
    let nb = Double(y.count)
    var i = 0
    var j = 0
    var total = 0.0
    var previous = min(x[0], y[0])
    while i < x.count || j < y.count {
        let v: Double
        if j >= y.count || (i < x.count && x[i] <= y[j]) { v = x[i] } else { v = y[j] }
        // F_a and F_b are constant on [previous, v).
        total += abs(Double(i) / na - Double(j) / nb) * (v - previous)
        while i < x.count && x[i] <= v { i += 1 }
        while j < y.count && y[j] <= v { j += 1 }
        previous = v
    }
    return total
}

/// Wasserstein-1 distance divided by the reference's population standard deviation (floored at
/// 0.001), as Evidently's `wasserstein` drift test.
public func wassersteinNormed(reference: [Double], current: [Double]) throws(StatsError) -> Double {
    let w = try wasserstein(reference, current)
    let n = Double(reference.count)
    let mean = reference.reduce(0, +) / n
    let sd = (reference.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
    return w / max(sd, 0.001)
}
