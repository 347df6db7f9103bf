import Foundation

/// Simulated canaries whose truth is known, run through the default analysis exactly as the
/// controller runs it (``AnalysisRun`` over looks at growing windows) and through a plain
/// threshold check as Argo Rollouts and Flagger users write it (`error rate < 5%`, `p99 < 500 ms`).
///
/// Half the canaries are as good as stable; the other half are worse by a stated amount in one of
/// error rate, latency or prediction distribution. `bench/judge` runs 1,000 of them; the tests run
/// a smaller seeded set.
public struct CanarySimulation: Sendable {
    /// What is wrong with a canary.
    public enum Defect: String, Sendable, Codable, CaseIterable {
        /// As good as stable.
        case none
        /// Error rate higher by ``Truth/errorRateIncrease``.
        case errorRate = "error-rate"
        /// Every latency multiplied by ``Truth/latencyFactor``.
        case latency
        /// Class shares moved from ``Truth/classShares`` to ``Truth/defectiveClassShares``.
        case predictions
    }

    /// The simulated world.
    public struct Truth: Sendable, Codable, Equatable {
        /// The stable error rate of each canary is drawn uniformly from this range.
        public var stableErrorRate: ClosedRange<Double> = 0.005...0.02
        /// A defective canary's error rate is stable's plus this (two percentage points).
        public var errorRateIncrease = 0.02
        /// The stable median latency (log-normal) is drawn uniformly from this range, in ms.
        public var medianLatencyMs: ClosedRange<Double> = 50...150
        /// σ of log latency (p99 ≈ 3.2 × the median).
        public var latencySigma = 0.5
        /// A defective canary's latencies are multiplied by this (+30 %).
        public var latencyFactor = 1.3
        /// The stable prediction distribution over classes.
        public var classShares: [Double] = [0.5, 0.3, 0.2]
        /// A defective canary's distribution (the first class loses 10 points to the last).
        public var defectiveClassShares: [Double] = [0.4, 0.3, 0.3]
        /// The gateway keeps at most this many latencies per variant (a uniform sample).
        public var latencySampleCap = 5000
        /// Stable requests per canary request over the window (a canary at 25 % sees a third of stable's traffic).
        public var stablePerCanary = 3.0

        /// The defaults described in BENCHMARKS.md.
        public init() {}
    }

    /// One simulated canary and what both judges said.
    public struct Outcome: Sendable, Codable, Equatable {
        public var canaryRequests: Int
        public var defect: Defect
        /// The default analysis run's phase: Successful (promote), Failed (roll back) or Inconclusive.
        public var analysis: AnalysisPhase
        /// The plain threshold check's phase.
        public var threshold: AnalysisPhase
        /// The verdict of each default-analysis check at the last look taken.
        public var lastChecks: [String: Verdict]
    }

    /// The world.
    public var truth: Truth
    /// The default analysis as the rollout would configure it.
    public var configuration: DefaultAnalysisConfiguration
    /// Looks per canary: the window grows in this many equal parts and the analysis looks after each.
    public var looks: Int

    /// Creates a simulation.
    public init(truth: Truth = Truth(), configuration: DefaultAnalysisConfiguration = DefaultAnalysisConfiguration(), looks: Int = 4) {
        self.truth = truth
        self.configuration = configuration
        self.looks = looks
    }

    /// The threshold template users write: error rate below 5 % and p99 below 500 ms at every look, no guard.
    public var thresholdTemplate: AnalysisTemplate {
        let policy = MeasurementPolicy(interval: configuration.interval, count: looks)
        // The conditions are constant and known to parse.
        let errors = try! Condition("result < 0.05")
        let latency = try! Condition("result < 500")
        return AnalysisTemplate(
            name: "thresholds",
            metrics: [
                MetricSpec(
                    name: "error-rate", provider: .builtin(BuiltinMetric(kind: .errorRate, minSamples: 0)), successCondition: errors, policy: policy),
                MetricSpec(
                    name: "latency-p99", provider: .builtin(BuiltinMetric(kind: .latency, quantile: .p99, minSamples: 0)), successCondition: latency,
                    policy: policy),
            ])
    }

    /// Simulates `canariesPerLevel` canaries at each traffic level (canary requests over the whole
    /// window), half of them defective, the defects taking turns.
    public func run(seed: UInt64, trafficLevels: [Int], canariesPerLevel: Int) -> [Outcome] {
        var outcomes: [Outcome] = []
        var generator = SeededGenerator(seed: seed)
        let defects: [Defect] = [.errorRate, .latency, .predictions]
        for level in trafficLevels {
            for i in 0..<canariesPerLevel {
                let defect: Defect = i % 2 == 0 ? .none : defects[(i / 2) % defects.count]
                outcomes.append(simulate(canaryRequests: level, defect: defect, generator: &generator))
            }
        }
        return outcomes
    }

    /// One canary: both judges see the same data, look after look.
    public func simulate(canaryRequests: Int, defect: Defect, generator: inout SeededGenerator) -> Outcome {
        let stableRate =
            truth.stableErrorRate.lowerBound + generator.uniform() * (truth.stableErrorRate.upperBound - truth.stableErrorRate.lowerBound)
        let median = truth.medianLatencyMs.lowerBound + generator.uniform() * (truth.medianLatencyMs.upperBound - truth.medianLatencyMs.lowerBound)
        let canaryWorld = World(
            errorRate: stableRate + (defect == .errorRate ? truth.errorRateIncrease : 0),
            medianMs: median * (defect == .latency ? truth.latencyFactor : 1), sigma: truth.latencySigma,
            shares: defect == .predictions ? truth.defectiveClassShares : truth.classShares)
        let stableWorld = World(errorRate: stableRate, medianMs: median, sigma: truth.latencySigma, shares: truth.classShares)
        let stableRequests = Int((Double(canaryRequests) * truth.stablePerCanary).rounded())

        var canary = VariantSample(requests: 0, errors: 0)
        var stable = VariantSample(requests: 0, errors: 0)
        let analysis = DefaultAnalysis(configuration: configuration)
        var configured = configuration
        configured.count = looks
        var analysisRun = AnalysisRun(defaultAnalysis: configured)
        let template = thresholdTemplate
        var thresholdRun = AnalysisRun(template: template)
        var lastChecks: [String: Verdict] = [:]
        for look in 1...looks {
            let now = Double(look - 1) * configuration.interval.seconds
            canaryWorld.serve(canaryRequests * look / looks - canary.requests, into: &canary, cap: truth.latencySampleCap, generator: &generator)
            stableWorld.serve(stableRequests * look / looks - stable.requests, into: &stable, cap: truth.latencySampleCap, generator: &generator)
            if !analysisRun.phase.isCompleted {
                let outcome: MeasurementOutcome
                do throws(RolloutError) {
                    let result = try analysis.evaluate(stable: stable, canary: canary)
                    lastChecks = Dictionary(result.checks.map { ($0.name, $0.verdict) }, uniquingKeysWith: { a, _ in a })
                    outcome = DefaultAnalysis.outcome(of: result)
                } catch {
                    outcome = .error(error.message)
                }
                _ = try? analysisRun.record(outcome, for: DefaultAnalysis.metricName, at: now)
            }
            if !thresholdRun.phase.isCompleted {
                for metric in template.metrics {
                    guard case .builtin(let b) = metric.provider else { continue }
                    _ = try? thresholdRun.record(
                        BuiltinMetricEvaluator.measure(b, stable: stable, canary: canary, defaultMinSamples: 0), for: metric.name, at: now)
                }
            }
        }
        analysisRun.terminate()
        thresholdRun.terminate()
        return Outcome(
            canaryRequests: canaryRequests, defect: defect, analysis: analysisRun.phase, threshold: thresholdRun.phase, lastChecks: lastChecks)
    }

    /// The traffic of one variant.
    struct World {
        var errorRate: Double
        var medianMs: Double
        var sigma: Double
        var shares: [Double]

        func serve(_ count: Int, into sample: inout VariantSample, cap: Int, generator: inout SeededGenerator) {
            guard count > 0 else { return }
            let labels = shares.indices.map { "class-\($0)" }
            let logMedian = log(medianMs)
            for _ in 0..<count {
                sample.requests += 1
                if generator.uniform() < errorRate {
                    sample.errors += 1
                    continue
                }
                // Latencies are kept for the first `cap` answers: a uniform sample, as the requests are independent.
                if sample.latencyMs.count < cap { sample.latencyMs.append(exp(logMedian + sigma * generator.normal())) }
                var u = generator.uniform()
                var k = 0
                while k < shares.count - 1 && u >= shares[k] {
                    u -= shares[k]
                    k += 1
                }
                sample.predictionCounts[labels[k], default: 0] += 1
            }
        }
    }
}

/// Rates of the verdicts of a set of simulated canaries.
public struct JudgeTally: Sendable, Codable, Equatable {
    public var good = 0
    public var bad = 0
    /// Good canaries rolled back.
    public var falseRollbacks = 0
    /// Bad canaries promoted.
    public var falsePromotions = 0
    /// Good canaries promoted.
    public var goodPromoted = 0
    /// Bad canaries rolled back.
    public var badRolledBack = 0
    /// Canaries without a verdict.
    public var inconclusive = 0

    /// Tallies one judge's phases over outcomes.
    public init(_ outcomes: [CanarySimulation.Outcome], judge: KeyPath<CanarySimulation.Outcome, AnalysisPhase>) {
        for o in outcomes {
            let phase = o[keyPath: judge]
            let isGood = o.defect == .none
            if isGood { good += 1 } else { bad += 1 }
            switch phase {
            case .successful: if isGood { goodPromoted += 1 } else { falsePromotions += 1 }
            case .failed, .error: if isGood { falseRollbacks += 1 } else { badRolledBack += 1 }
            default: inconclusive += 1
            }
        }
    }

    /// False promotions as a share of bad canaries.
    public var falsePromotionRate: Double { bad > 0 ? Double(falsePromotions) / Double(bad) : 0 }
    /// False rollbacks as a share of good canaries.
    public var falseRollbackRate: Double { good > 0 ? Double(falseRollbacks) / Double(good) : 0 }
    /// Inconclusive as a share of all canaries.
    public var inconclusiveRate: Double { good + bad > 0 ? Double(inconclusive) / Double(good + bad) : 0 }
}
