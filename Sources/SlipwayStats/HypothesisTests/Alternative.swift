/// The alternative hypothesis of a test, always phrased as treatment versus control.
public enum Alternative: String, Sendable, Hashable, Codable, CaseIterable {
    /// Treatment differs from control in either direction.
    case twoSided = "two-sided"
    /// Treatment is greater than control.
    case greater
    /// Treatment is less than control.
    case less
}

/// Descriptive statistics of one sample: size, mean and unbiased (n − 1) variance.
public struct SampleSummary: Sendable, Hashable, Codable {
    /// Number of observations.
    public var count: Double
    /// Arithmetic mean.
    public var mean: Double
    /// Sample variance with n − 1 in the denominator (0 when count < 2).
    public var variance: Double

    /// Creates a summary from its three numbers.
    public init(count: Double, mean: Double, variance: Double) {
        self.count = count
        self.mean = mean
        self.variance = variance
    }

    /// Summarises raw values with a two-pass mean and variance.
    /// - Throws: `StatsError.nonFiniteValue` for NaN or infinite values.
    public init(_ values: [Double]) throws(StatsError) {
        try StatsError.requireFinite(values, "sample")
        let n = Double(values.count)
        let mean = values.isEmpty ? 0 : values.reduce(0, +) / n
        var ss = 0.0
        var comp = 0.0
        for v in values {
            let d = v - mean
            ss += d * d
            comp += d
        }
        let variance = values.count < 2 ? 0 : (ss - comp * comp / n) / (n - 1)
        self.init(count: n, mean: mean, variance: variance)
    }

    /// Summarises running sums the way GrowthBook does: mean = Σx/n, variance = (Σx² − (Σx)²/n)/(n − 1).
    public init(count: Double, sum: Double, sumOfSquares: Double) {
        let mean = count > 0 ? sum / count : 0
        let variance = count > 1 ? (sumOfSquares - sum * sum / count) / (count - 1) : 0
        self.init(count: count, mean: mean, variance: variance)
    }

    /// Summarises a conversion count: mean = successes/trials and the Bernoulli variance p(1 − p).
    public init(successes: Double, trials: Double) {
        let p = trials > 0 ? successes / trials : 0
        self.init(count: trials, mean: p, variance: p * (1 - p))
    }

    /// The standard error of the mean, √(variance / count).
    public var standardError: Double { (variance / count).squareRoot() }
}

extension Alternative {
    /// The p-value of a statistic with the given tail functions.
    func pValue(statistic: Double, cdf: (Double) -> Double, sf: (Double) -> Double) -> Double {
        switch self {
        case .twoSided: return min(1, 2 * sf(abs(statistic)))
        case .greater: return sf(statistic)
        case .less: return cdf(statistic)
        }
    }
}
