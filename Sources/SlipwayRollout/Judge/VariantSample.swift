public import SlipwayStats

/// What the gateway saw of one variant over an analysis window — a plain value, so analysis does
/// not depend on the gateway.
public struct VariantSample: Sendable, Codable, Equatable {
    /// Requests answered.
    public var requests: Int
    /// Requests that failed (5xx, timeouts, connection errors).
    public var errors: Int
    /// Latencies in milliseconds: all of them, or a uniform sample (a few thousand are plenty).
    public var latencyMs: [Double]
    /// Latency quantiles from the gateway's histogram, used by `latency` metrics when there are no samples.
    public var latencyQuantiles: LatencyQuantiles?
    /// Predictions per class label (or per bin of a numeric prediction).
    public var predictionCounts: [String: Int]
    /// Numeric predictions (a uniform sample), for the Kolmogorov–Smirnov drift method.
    public var predictionValues: [Double]
    /// Outcomes reported as feedback (conversions, a numeric outcome).
    public var outcome: OutcomeSummary?

    /// Creates a sample.
    public init(
        requests: Int, errors: Int, latencyMs: [Double] = [], latencyQuantiles: LatencyQuantiles? = nil,
        predictionCounts: [String: Int] = [:], predictionValues: [Double] = [], outcome: OutcomeSummary? = nil
    ) {
        self.requests = requests
        self.errors = errors
        self.latencyMs = latencyMs
        self.latencyQuantiles = latencyQuantiles
        self.predictionCounts = predictionCounts
        self.predictionValues = predictionValues
        self.outcome = outcome
    }

    /// errors / requests (0 without requests).
    public var errorRate: Double { requests > 0 ? Double(errors) / Double(requests) : 0 }

    /// Total predictions counted.
    public var predictionTotal: Int { predictionCounts.values.reduce(0, +) }

    /// Checks the counts are consistent.
    /// - Throws: `RolloutError.invalidInput` for negative counts, more errors than requests, or non-finite latencies.
    public func validate(_ name: String) throws(RolloutError) {
        guard requests >= 0, errors >= 0 else {
            throw RolloutError(.invalidInput, "\(name): requests (\(requests)) and errors (\(errors)) must not be negative")
        }
        guard errors <= requests else {
            throw RolloutError(.invalidInput, "\(name): \(errors) errors out of \(requests) requests; errors cannot exceed requests")
        }
        guard latencyMs.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw RolloutError(.invalidInput, "\(name): latencies must be finite and not negative")
        }
        guard predictionCounts.values.allSatisfy({ $0 >= 0 }) else {
            throw RolloutError(.invalidInput, "\(name): prediction counts must not be negative")
        }
        if let outcome {
            guard outcome.trials >= 0, outcome.conversions >= 0, outcome.conversions <= outcome.trials else {
                throw RolloutError(
                    .invalidInput, "\(name): outcome conversions (\(outcome.conversions)) must be between 0 and trials (\(outcome.trials))")
            }
        }
    }
}

/// Latency quantiles in milliseconds.
public struct LatencyQuantiles: Sendable, Codable, Equatable {
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var mean: Double?

    /// Creates quantiles.
    public init(p50: Double, p95: Double, p99: Double, mean: Double? = nil) {
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.mean = mean
    }
}

/// Outcomes reported for a variant's predictions.
public struct OutcomeSummary: Sendable, Codable, Equatable {
    /// Predictions whose outcome was reported as a success (a click, a purchase, a correct label).
    public var conversions: Int
    /// Predictions with a reported success/failure outcome.
    public var trials: Int
    /// Running sums of a numeric outcome (revenue, error of a regression).
    public var values: MomentAccumulator

    /// Creates a summary.
    public init(conversions: Int = 0, trials: Int = 0, values: MomentAccumulator = MomentAccumulator()) {
        self.conversions = conversions
        self.trials = trials
        self.values = values
    }
}
