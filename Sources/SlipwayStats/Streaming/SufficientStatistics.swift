/// Running sums of one metric: count, Σx and Σx². Mergeable, so gateways can aggregate online
/// and combine shards; every test in this module can start from them.
public struct MomentAccumulator: Sendable, Hashable, Codable {
    /// Number of observations.
    public private(set) var count: Double = 0
    /// Σx.
    public private(set) var sum: Double = 0
    /// Σx².
    public private(set) var sumOfSquares: Double = 0

    /// An empty accumulator.
    public init() {}

    /// An accumulator holding precomputed sums.
    public init(count: Double, sum: Double, sumOfSquares: Double) {
        self.count = count
        self.sum = sum
        self.sumOfSquares = sumOfSquares
    }

    /// Adds one observation.
    public mutating func add(_ x: Double) {
        count += 1
        sum += x
        sumOfSquares += x * x
    }

    /// Adds every value of a sequence.
    public mutating func add<S: Sequence>(contentsOf values: S) where S.Element == Double {
        for v in values { add(v) }
    }

    /// Combines another accumulator into this one (order does not matter).
    public mutating func merge(_ other: MomentAccumulator) {
        count += other.count
        sum += other.sum
        sumOfSquares += other.sumOfSquares
    }

    /// The two accumulators combined.
    public func merging(_ other: MomentAccumulator) -> MomentAccumulator {
        var copy = self
        copy.merge(other)
        return copy
    }

    /// Mean and (n − 1) variance computed as GrowthBook does from the sums.
    public var summary: SampleSummary { SampleSummary(count: count, sum: sum, sumOfSquares: sumOfSquares) }
}

/// Running sums of a pair of metrics (x, y): counts, Σx, Σy, Σx², Σy² and Σxy.
///
/// Use it for CUPED (x = pre-period covariate, y = post-period metric) and for ratio metrics
/// (x = denominator, y = numerator).
public struct PairAccumulator: Sendable, Hashable, Codable {
    /// Running sums of x.
    public private(set) var x = MomentAccumulator()
    /// Running sums of y.
    public private(set) var y = MomentAccumulator()
    /// Σxy.
    public private(set) var sumOfProducts: Double = 0

    /// An empty accumulator.
    public init() {}

    /// An accumulator holding precomputed sums.
    public init(x: MomentAccumulator, y: MomentAccumulator, sumOfProducts: Double) {
        self.x = x
        self.y = y
        self.sumOfProducts = sumOfProducts
    }

    /// Number of pairs.
    public var count: Double { x.count }

    /// Adds one pair.
    public mutating func add(x xValue: Double, y yValue: Double) {
        x.add(xValue)
        y.add(yValue)
        sumOfProducts += xValue * yValue
    }

    /// Combines another accumulator into this one.
    public mutating func merge(_ other: PairAccumulator) {
        x.merge(other.x)
        y.merge(other.y)
        sumOfProducts += other.sumOfProducts
    }

    /// The sample covariance (Σxy − ΣxΣy/n)/(n − 1), 0 when fewer than two pairs.
    public var covariance: Double {
        count > 1 ? (sumOfProducts - x.sum * y.sum / count) / (count - 1) : 0
    }
}

/// Counts of observations per bin over fixed edges (the last bin includes its right edge, as numpy).
/// Mergeable when the edges agree.
public struct HistogramAccumulator: Sendable, Hashable, Codable {
    /// Bin edges, strictly increasing; there are `edges.count − 1` bins.
    public let edges: [Double]
    /// Counts per bin.
    public private(set) var counts: [Double]
    /// Observations outside [first edge, last edge].
    public private(set) var outOfRange: Double = 0

    /// Creates an empty histogram.
    /// - Throws: `StatsError.parameterOutOfRange` unless there are at least two strictly increasing finite edges.
    public init(edges: [Double]) throws(StatsError) {
        guard edges.count >= 2 else { throw .tooFewObservations(what: "histogram edges", count: edges.count, minimum: 2) }
        try StatsError.requireFinite(edges, "histogram edges")
        for i in 1..<edges.count where !(edges[i] > edges[i - 1]) {
            throw .parameterOutOfRange(name: "edges[\(i)]", value: edges[i], expected: "strictly increasing edges")
        }
        self.edges = edges
        self.counts = Array(repeating: 0, count: edges.count - 1)
    }

    /// Adds one observation.
    public mutating func add(_ value: Double) {
        guard let first = edges.first, let last = edges.last, value >= first, value <= last, !value.isNaN else {
            outOfRange += 1
            return
        }
        if value == last {
            counts[counts.count - 1] += 1
            return
        }
        // Binary search for the bin with edges[i] ≤ value < edges[i + 1].
        var lo = 0
        var hi = edges.count - 1
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if edges[mid] <= value { lo = mid } else { hi = mid }
        }
        counts[lo] += 1
    }

    /// Adds every value of a sequence.
    public mutating func add<S: Sequence>(contentsOf values: S) where S.Element == Double {
        for v in values { add(v) }
    }

    /// Combines another histogram with the same edges.
    /// - Throws: `StatsError.lengthMismatch` when the edges differ.
    public mutating func merge(_ other: HistogramAccumulator) throws(StatsError) {
        guard other.edges == edges else { throw .lengthMismatch(what: "histogram edges differ", first: edges.count, second: other.edges.count) }
        for i in counts.indices { counts[i] += other.counts[i] }
        outOfRange += other.outOfRange
    }

    /// Share of in-range observations per bin.
    public var proportions: [Double] {
        let total = counts.reduce(0, +)
        return total > 0 ? counts.map { $0 / total } : counts
    }
}

/// The mergeable running sums a gateway keeps per arm and metric, under one name.
///
/// ```swift
/// var control = SufficientStatistics.Moments()
/// control.add(0.42)
/// let merged = control.merging(otherShard)
/// let result = try welchTTest(control: merged.summary, treatment: treatmentSums.summary)
/// ```
public enum SufficientStatistics {
    /// n, Σx, Σx² of one metric.
    public typealias Moments = MomentAccumulator
    /// n, Σx, Σy, Σx², Σy², Σxy of a pair of metrics (CUPED, ratios).
    public typealias Pairs = PairAccumulator
    /// Counts over fixed bin edges (drift metrics).
    public typealias Histogram = HistogramAccumulator
}
