import Foundation

/// Histogram bin edges chosen from data, matching `numpy.histogram_bin_edges` and `numpy.quantile`.
public enum Binning: Sendable, Hashable {
    /// ⌈log₂ n + 1⌉ equal-width bins.
    case sturges
    /// Doane's rule: Sturges corrected for skewness.
    case doane
    /// A fixed number of equal-width bins.
    case equalWidth(Int)
    /// Bins holding equal shares of the data (edges at quantiles, linear interpolation).
    case quantiles(Int)

    /// The bin edges for `data`.
    /// - Throws: `StatsError` for empty or non-finite data or a non-positive bin count.
    public func edges(for data: [Double]) throws(StatsError) -> [Double] {
        guard !data.isEmpty else { throw .tooFewObservations(what: "data to bin", count: 0, minimum: 1) }
        try StatsError.requireFinite(data, "data to bin")
        var lo = data.min()!
        var hi = data.max()!
        if lo == hi {
            lo -= 0.5
            hi += 0.5
        }
        let n = Double(data.count)
        switch self {
        case .sturges:
            let width = (hi - lo) / (log2(n) + 1)
            return Binning.linspace(lo, hi, Int(((hi - lo) / width).rounded(.up)))
        case .doane:
            var width = 0.0
            if data.count > 2 {
                let sg1 = (6 * (n - 2) / ((n + 1) * (n + 3))).squareRoot()
                let mean = data.reduce(0, +) / n
                let sigma = (data.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
                if sigma > 0 {
                    var g1 = 0.0
                    for x in data {
                        let t = (x - mean) / sigma
                        g1 += t * t * t
                    }
                    g1 /= n
                    width = (hi - lo) * (1 / (1 + log2(n) + log2(1 + abs(g1) / sg1)))
                }
            }
            let bins = width > 0 ? Int(((hi - lo) / width).rounded(.up)) : 1
            return Binning.linspace(lo, hi, bins)
        case .equalWidth(let k):
            guard k >= 1 else { throw .parameterOutOfRange(name: "bins", value: Double(k), expected: "at least 1") }
            return Binning.linspace(lo, hi, k)
        case .quantiles(let k):
            guard k >= 1 else { throw .parameterOutOfRange(name: "bins", value: Double(k), expected: "at least 1") }
            let sorted = data.sorted()
            let qs = Binning.linspace(0, 1, k)
            return qs.map { Binning.quantile(sorted: sorted, $0) }
        }
    }

    /// `numpy.linspace(lo, hi, bins + 1)`.
    static func linspace(_ lo: Double, _ hi: Double, _ bins: Int) -> [Double] {
        let step = (hi - lo) / Double(bins)
        var e = (0...bins).map { lo + Double($0) * step }
        e[bins] = hi
        return e
    }

    /// The q-quantile of sorted data with linear interpolation (numpy's default method).
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        let t = position - Double(below)
        let a = sorted[below]
        let b = sorted[above]
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
    }

    /// Counts of `data` per bin of `edges`; the last bin includes its right edge (as `numpy.histogram`).
    public static func counts(_ data: [Double], edges: [Double]) throws(StatsError) -> [Double] {
        var h = try HistogramAccumulator(edges: edges)
        h.add(contentsOf: data)
        return h.counts
    }
}

extension Divergence {
    /// Shares per bin of a reference and a current sample over common edges, ready for PSI, KL or
    /// Jensen–Shannon. The edges come from both samples together (as Evidently bins numerical columns).
    /// - Throws: `StatsError` for empty or non-finite samples.
    public static func binnedShares(reference: [Double], current: [Double], binning: Binning = .sturges) throws(StatsError)
        -> (edges: [Double], reference: [Double], current: [Double])
    {
        guard !reference.isEmpty else { throw .tooFewObservations(what: "reference", count: 0, minimum: 1) }
        guard !current.isEmpty else { throw .tooFewObservations(what: "current", count: 0, minimum: 1) }
        let edges = try binning.edges(for: reference + current)
        let r = try Binning.counts(reference, edges: edges)
        let c = try Binning.counts(current, edges: edges)
        return (edges, r.map { $0 / Double(reference.count) }, c.map { $0 / Double(current.count) })
    }
}
