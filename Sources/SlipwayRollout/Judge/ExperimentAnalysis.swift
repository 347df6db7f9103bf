public import SlipwayStats

/// The decision of an A/B test (``ExperimentStrategy``) from the data so far: the sample-ratio check
/// first (a mismatch halts the test), then the guardrails (a failing one keeps the stable variant),
/// then the primary metric — once, at the planned sample size, with a fixed-horizon test, or at any
/// look with an always-valid confidence sequence.
public struct ExperimentAnalysis: Sendable {
    /// What to do.
    public enum Decision: String, Sendable, Codable, Equatable {
        /// Keep the split and collect more data.
        case `continue` = "Continue"
        /// The candidate is better on the primary metric: promote it.
        case promote = "Promote"
        /// The candidate is not better (worse, no detectable difference, a failed guardrail, out of time): keep stable.
        case keepStable = "KeepStable"
        /// The split is broken (sample-ratio mismatch): stop, and trust no result until the cause is fixed.
        case halt = "Halt"
    }

    /// One look at an experiment.
    public struct Result: Sendable, Codable, Equatable {
        public var decision: Decision
        /// One sentence with the numbers.
        public var reason: String
        /// The sample-ratio check (nil while an arm has fewer than 100 requests).
        public var srm: SRMResult?
        /// The relative effect of the candidate on the primary metric, with its interval.
        public var primary: FrequentistEffectResult?
        /// Units (outcomes) so far and planned, per arm.
        public var stableUnits: Int
        public var candidateUnits: Int
        public var plannedStableUnits: Int
        public var plannedCandidateUnits: Int
        /// The guardrail checks.
        public var guardrails: [DefaultAnalysisCheck]

        /// The decision as a measurement verdict: Promote passes, Keep-stable fails, the rest are inconclusive.
        public var verdict: Verdict {
            switch decision {
            case .promote: .pass
            case .keepStable: .fail
            case .continue, .halt: .inconclusive
            }
        }
    }

    /// The experiment.
    public var strategy: ExperimentStrategy
    /// Margins and levels of the guardrail checks.
    public var configuration: DefaultAnalysisConfiguration

    /// Creates the analysis.
    public init(strategy: ExperimentStrategy, configuration: DefaultAnalysisConfiguration = DefaultAnalysisConfiguration()) {
        self.strategy = strategy
        self.configuration = configuration
    }

    /// Looks at the experiment.
    /// - Parameters:
    ///   - stable, candidate: each arm's data since the experiment started.
    ///   - elapsed: time since it started, for `maxDuration`.
    /// - Throws: `RolloutError.invalidInput` for inconsistent data or a plan without solution.
    public func evaluate(stable: VariantSample, candidate: VariantSample, elapsed: RolloutDuration = RolloutDuration(seconds: 0)) throws(RolloutError)
        -> Result
    {
        try stable.validate("stable")
        try candidate.validate("candidate")
        let plan = try strategy.sampleSize()
        let conversion = strategy.primary.metric != .outcomeMean
        let stableUnits = conversion ? stable.outcome?.trials ?? 0 : Int(stable.outcome?.values.count ?? 0)
        let candidateUnits = conversion ? candidate.outcome?.trials ?? 0 : Int(candidate.outcome?.values.count ?? 0)
        var result = Result(
            decision: .continue, reason: "", srm: nil, primary: nil, stableUnits: stableUnits, candidateUnits: candidateUnits,
            plannedStableUnits: plan.stable, plannedCandidateUnits: plan.candidate, guardrails: [])
        let progress = "\(stableUnits)/\(plan.stable) stable and \(candidateUnits)/\(plan.candidate) candidate units"

        // 1. Sample ratio: a broken split invalidates everything else.
        if stable.requests >= 100 && candidate.requests >= 100 {
            let w = strategy.weight / 100
            do throws(StatsError) {
                let srm = try srmCheck(
                    counts: [Double(stable.requests), Double(candidate.requests)], weights: [1 - w, w], threshold: strategy.srmThreshold)
                result.srm = srm
                if srm.isMismatch {
                    result.decision = .halt
                    result.reason =
                        "sample ratio mismatch: \(stable.requests) stable and \(candidate.requests) candidate requests for a "
                        + "\(ConditionValue.format(100 - strategy.weight))/\(ConditionValue.format(strategy.weight)) split "
                        + "(p = \(scientific(srm.pValue))); "
                        + "find why the split is off before trusting any result"
                    return result
                }
            } catch {
                throw RolloutError(.invalidInput, "the sample-ratio check failed: \(error.description)")
            }
        }

        // 2. Guardrails, with the default analysis's checks and margins.
        if stable.requests >= configuration.minSamples && candidate.requests >= configuration.minSamples {
            let analysis = DefaultAnalysis(configuration: configuration)
            do throws(StatsFailure) {
                for guardrail in strategy.guardrails {
                    let check: DefaultAnalysisCheck?
                    switch guardrail {
                    case .errorRate: check = try analysis.errorRateCheck(stable, candidate)
                    case .latency: check = try analysis.latencyCheck(stable, candidate)
                    case .predictionDrift: check = try analysis.predictionDriftCheck(stable, candidate)
                    default: check = nil
                    }
                    if let check { result.guardrails.append(check) }
                }
            } catch {
                throw RolloutError(.invalidInput, "the guardrail could not compute \(error.check): \(error.message)")
            }
            if let failed = result.guardrails.first(where: { $0.verdict == .fail }) {
                result.decision = .keepStable
                result.reason = "guardrail \(failed.name) failed: \(failed.reason)"
                return result
            }
        }

        // 3. The primary metric.
        let s: ArmStatistic
        let c: ArmStatistic
        if conversion {
            s = .proportion(successes: Double(stable.outcome?.conversions ?? 0), trials: Double(stableUnits))
            c = .proportion(successes: Double(candidate.outcome?.conversions ?? 0), trials: Double(candidateUnits))
        } else {
            s = .mean(stable.outcome?.values ?? MomentAccumulator())
            c = .mean(candidate.outcome?.values ?? MomentAccumulator())
        }
        let reached = stableUnits >= plan.stable && candidateUnits >= plan.candidate
        let outOfTime = strategy.maxDuration.map { elapsed >= $0 } ?? false
        let effect: FrequentistEffectResult?
        do throws(StatsError) {
            switch strategy.decision {
            case .fixedHorizon:
                effect = reached ? try frequentistEffect(control: s, treatment: c, scale: .relative, alpha: strategy.alpha) : nil
            case .sequential:
                effect =
                    stableUnits >= 2 && candidateUnits >= 2
                    ? try sequentialEffect(control: s, treatment: c, scale: .relative, alpha: strategy.alpha) : nil
            }
        } catch {
            effect = nil
        }
        result.primary = effect
        let metric = conversion ? "conversion" : "outcome mean"
        if let effect {
            let lift = "\(metric) lift \(signedPercent(effect.estimate)) (\(signedPercent(effect.ciLow)) to \(signedPercent(effect.ciHigh)))"
            let better = strategy.primary.direction == .increase ? effect.ciLow > 0 : effect.ciHigh < 0
            let worse = strategy.primary.direction == .increase ? effect.ciHigh < 0 : effect.ciLow > 0
            if better {
                result.decision = .promote
                result.reason = "the candidate is better: \(lift), \(progress)"
                return result
            }
            if worse {
                result.decision = .keepStable
                result.reason = "the candidate is worse: \(lift), \(progress)"
                return result
            }
            if reached {
                result.decision = .keepStable
                result.reason = "no difference detectable at the planned sample size: \(lift), \(progress)"
                return result
            }
        }
        if outOfTime {
            result.decision = .keepStable
            result.reason = "maxDuration \(strategy.maxDuration!) reached before a decision: \(progress)"
            return result
        }
        result.decision = .continue
        result.reason = "collecting data: \(progress)"
        return result
    }
}
