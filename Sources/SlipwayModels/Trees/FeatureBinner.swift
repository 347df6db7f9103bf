/// Maps each feature's values to at most 255 ordered bins, whose edges are quantiles of the
/// training values (or the midpoints between the distinct values, when there are few of them).
///
/// A value `x` falls in bin `b` when `edges[b-1] < x <= edges[b]`, so a split "bin ≤ b" is the
/// same as the real-valued test `x <= edges[b]` that a stored tree uses.
struct FeatureBinner: Sendable {
    /// Inner bin edges per feature, increasing.
    var edges: [[Double]]

    /// Fits the bin edges.
    ///
    /// - Parameters:
    ///   - rows: the training features.
    ///   - maxBins: at most this many bins per feature (2...255).
    ///   - sampleLimit: the edges of larger data sets come from a random subsample of this size.
    ///   - seed: the seed of that subsample, so binning is deterministic.
    init(rows: [[Double]], maxBins: Int, sampleLimit: Int = 200_000, seed: UInt64) {
        let n = rows.count
        let featureCount = rows.first?.count ?? 0
        var sample = Array(0..<n)
        if n > sampleLimit {
            var generator = SplitMix64(seed: seed)
            sample.shuffle(using: &generator)
            sample = Array(sample.prefix(sampleLimit))
        }
        edges = (0..<featureCount).map { feature in
            var values = sample.map { rows[$0][feature] }
            values.sort()
            var distinct: [Double] = []
            for v in values where distinct.last != v { distinct.append(v) }
            if distinct.count <= maxBins {
                return zip(distinct, distinct.dropFirst()).map { ($0 + $1) / 2 }
            }
            var result: [Double] = []
            let count = values.count
            for i in 1..<maxBins {
                let position = Double(i) * Double(count - 1) / Double(maxBins)
                let lower = Int(position)
                let fraction = position - Double(lower)
                let upper = min(lower + 1, count - 1)
                let edge = values[lower] + (values[upper] - values[lower]) * fraction
                if result.last.map({ edge > $0 }) ?? true { result.append(edge) }
            }
            return result
        }
    }

    /// The bin of a value.
    @inline(__always) func bin(_ value: Double, feature: Int) -> UInt8 {
        let e = edges[feature]
        var low = 0
        var high = e.count
        // The number of edges strictly below the value.
        while low < high {
            let mid = (low + high) / 2
            if e[mid] < value { low = mid + 1 } else { high = mid }
        }
        return UInt8(low)
    }
}

/// A small, fast, seeded generator (SplitMix64), so every run with the same seed is the same.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
