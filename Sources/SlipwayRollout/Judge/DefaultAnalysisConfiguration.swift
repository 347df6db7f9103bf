/// Settings of the built-in analysis (`spec.defaultAnalysis`); the defaults are the ones the judge
/// benchmark (`bench/judge`) validates.
public struct DefaultAnalysisConfiguration: Sendable, Codable, Equatable {
    /// Time between looks (default 1m).
    public var interval: RolloutDuration
    /// Looks before the analysis gives up as Inconclusive (default 30).
    public var count: Int
    /// The minimum-sample guard: fewer requests than this in either variant make a look Inconclusive (default 200).
    public var minSamples: Int
    /// The error-rate check.
    public var errorRate: ErrorRateCheck
    /// The latency check.
    public var latency: LatencyCheck
    /// The prediction-distribution check.
    public var predictionDrift: PredictionDriftCheck
    /// The outcome check (when outcomes are reported).
    public var outcome: OutcomeCheck
    /// The sample size (both variants together) at which the confidence sequences are tightest (default 5,000).
    public var sequentialTuning: Double

    /// Creates a configuration with the validated defaults.
    public init(
        interval: RolloutDuration = .minutes(1), count: Int = 30, minSamples: Int = 200, errorRate: ErrorRateCheck = ErrorRateCheck(),
        latency: LatencyCheck = LatencyCheck(), predictionDrift: PredictionDriftCheck = PredictionDriftCheck(),
        outcome: OutcomeCheck = OutcomeCheck(), sequentialTuning: Double = 5000
    ) {
        self.interval = interval
        self.count = count
        self.minSamples = minSamples
        self.errorRate = errorRate
        self.latency = latency
        self.predictionDrift = predictionDrift
        self.outcome = outcome
        self.sequentialTuning = sequentialTuning
    }

    /// The measurement policy of a default-analysis run: a look every `interval`; the first look that
    /// decides ends it (Failed at once, Successful at the first pass), `count` inconclusive looks end it Inconclusive.
    public var policy: MeasurementPolicy {
        MeasurementPolicy(
            interval: interval, count: count, failureLimit: 0, inconclusiveLimit: count, consecutiveErrorLimit: 4, consecutiveSuccessLimit: 1)
    }
}

/// The error-rate check: canary minus stable error rate, with an always-valid confidence sequence.
public struct ErrorRateCheck: Sendable, Codable, Equatable {
    public var enabled: Bool
    /// Tolerated increase in absolute terms (default 0.005, half a percentage point).
    public var margin: Double
    /// Tolerated increase relative to the stable rate (default 0.5, i.e. +50 %); the larger of the two applies.
    public var relativeMargin: Double
    /// 1 − coverage of the confidence sequence (default 0.01).
    public var alpha: Double

    /// Creates the check.
    public init(enabled: Bool = true, margin: Double = 0.005, relativeMargin: Double = 0.5, alpha: Double = 0.01) {
        self.enabled = enabled
        self.margin = margin
        self.relativeMargin = relativeMargin
        self.alpha = alpha
    }
}

/// The latency check: Mann–Whitney and the Hodges–Lehmann shift of log latencies (a ratio of latencies).
public struct LatencyCheck: Sendable, Codable, Equatable {
    public var enabled: Bool
    /// Tolerated slow-down relative to the stable variant (default 0.10, +10 %).
    public var margin: Double
    /// Tolerated slow-down in milliseconds (default 5); the larger of the two applies.
    public var marginMs: Double
    /// 1 − confidence of the interval and the test's level (default 0.002).
    public var alpha: Double

    /// Creates the check.
    public init(enabled: Bool = true, margin: Double = 0.10, marginMs: Double = 5, alpha: Double = 0.002) {
        self.enabled = enabled
        self.margin = margin
        self.marginMs = marginMs
        self.alpha = alpha
    }
}

/// The prediction-distribution check: chi-square and Jensen–Shannon for drift, per-class confidence
/// sequences for equivalence.
public struct PredictionDriftCheck: Sendable, Codable, Equatable {
    public var enabled: Bool
    /// Largest tolerated change of any class's share, absolute (default 0.05, five points).
    public var shareMargin: Double
    /// Jensen–Shannon distance (natural log) from which a significant difference fails (default 0.05).
    public var threshold: Double
    /// Level of the chi-square test, and of the confidence sequences split over the classes (default 0.002).
    public var alpha: Double

    /// Creates the check.
    public init(enabled: Bool = true, shareMargin: Double = 0.05, threshold: Double = 0.05, alpha: Double = 0.002) {
        self.enabled = enabled
        self.shareMargin = shareMargin
        self.threshold = threshold
        self.alpha = alpha
    }
}

/// The outcome check: conversion rate or outcome mean, relative lift with a confidence sequence.
public struct OutcomeCheck: Sendable, Codable, Equatable {
    public var enabled: Bool
    /// Tolerated relative loss (default 0.05, 5 %).
    public var margin: Double
    /// Which way is better (default increase).
    public var direction: ExperimentStrategy.Direction
    /// 1 − coverage of the confidence sequence (default 0.01).
    public var alpha: Double

    /// Creates the check.
    public init(enabled: Bool = true, margin: Double = 0.05, direction: ExperimentStrategy.Direction = .increase, alpha: Double = 0.01) {
        self.enabled = enabled
        self.margin = margin
        self.direction = direction
        self.alpha = alpha
    }
}
