public import Foundation
import Logging
public import SlipwayCore
import SlipwayStats
import SlipwayStore

/// What the controller keeps about an experiment between looks (stored in CanaryState, so that a restarted
/// controller goes on with the same plan, the same start and the same look schedule).
public struct ExperimentState: Sendable, Codable, Equatable {
    /// Units (answers with an outcome) the stable arm needs, planned from `mde`, `alpha` and `power` at the start.
    public var plannedStableUnits: Int
    /// Units the candidate arm needs.
    public var plannedCandidateUnits: Int
    /// When the split was applied: the experiment's data is counted from here.
    public var startedAt: Date?
    /// When the controller last looked at the data.
    public var lastLookAt: Date?
    /// How many looks were taken.
    public var looks: Int
    /// The report of the last look (the final report once the experiment ended).
    public var report: ExperimentReport?

    /// The state of an experiment whose plan was just made.
    public init(plannedStableUnits: Int, plannedCandidateUnits: Int) {
        self.plannedStableUnits = plannedStableUnits
        self.plannedCandidateUnits = plannedCandidateUnits
        self.startedAt = nil
        self.lastLookAt = nil
        self.looks = 0
        self.report = nil
    }
}

/// An experiment's report: each arm's numbers, the effect on the primary metric, the checks and the outcome.
/// `rollout status` prints it and the API returns it with the rollout.
public struct ExperimentReport: Sendable, Codable, Equatable {
    /// Where the experiment stands.
    public enum Outcome: String, Sendable, Codable, Equatable, CaseIterable {
        /// Still collecting data.
        case running
        /// The candidate won: it was promoted.
        case promote
        /// The candidate did not win (worse, no detectable difference, or a failed guardrail): control stays.
        case keepControl = "keep-control"
        /// No decision by `maxDuration`: control stays.
        case inconclusive
        /// The split was broken (sample-ratio mismatch): the test stopped without a result.
        case halted
    }

    /// One arm's numbers.
    public struct Arm: Sendable, Codable, Equatable {
        public var variant: String
        /// Answers logged since the experiment started.
        public var requests: Int
        /// Of those, failed answers.
        public var errors: Int
        /// Answers with an outcome (the sample of the primary metric).
        public var units: Int
        /// Units the plan asks for (0 for segments).
        public var plannedUnits: Int
        /// Units whose outcome was a conversion (above 0), for the conversion metric.
        public var conversions: Int
        /// The conversion rate, or the outcome mean; nil without units.
        public var value: Double?

        /// Creates an arm's line.
        public init(variant: String, requests: Int, errors: Int, units: Int, plannedUnits: Int, conversions: Int, value: Double?) {
            self.variant = variant
            self.requests = requests
            self.errors = errors
            self.units = units
            self.plannedUnits = plannedUnits
            self.conversions = conversions
            self.value = value
        }
    }

    /// The primary metric's effect within one segment.
    public struct Segment: Sendable, Codable, Equatable {
        /// The value of the segmenting input (`other` for values past the 20 most frequent, `(none)` when absent).
        public var value: String
        /// The stable arm within the segment.
        public var stable: Arm
        /// The candidate arm within the segment.
        public var candidate: Arm
        /// The relative lift with its interval (fixed-horizon, at the experiment's alpha) and p-value; nil with too few units.
        public var lift: Double?
        public var ciLow: Double?
        public var ciHigh: Double?
        public var pValue: Double?

        /// Creates a segment's line.
        public init(value: String, stable: Arm, candidate: Arm, lift: Double?, ciLow: Double?, ciHigh: Double?, pValue: Double?) {
            self.value = value
            self.stable = stable
            self.candidate = candidate
            self.lift = lift
            self.ciLow = ciLow
            self.ciHigh = ciHigh
            self.pValue = pValue
        }
    }

    /// `conversion` or `outcome-mean`.
    public var metric: String
    /// `fixed-horizon` or `sequential`: how the effect's interval was computed. `interim` while a fixed-horizon
    /// test has not reached its planned sample (the numbers are shown, no decision is taken on them).
    public var method: String
    /// The stable arm (control).
    public var stable: Arm
    /// The candidate arm (treatment).
    public var candidate: Arm
    /// The candidate's relative lift on the primary metric, its interval and p-value.
    public var lift: Double?
    public var ciLow: Double?
    public var ciHigh: Double?
    public var pValue: Double?
    /// The Bayesian chance that the candidate is better (Beta-binomial for conversions, Gaussian for means).
    public var chanceToWin: Double?
    /// The sample-ratio check's p-value (nil while an arm has fewer than 100 answers).
    public var srmPValue: Double?
    /// The guardrail checks of the last look.
    public var guardrails: [DefaultAnalysisCheck]
    /// The request input the segments are split by, when configured.
    public var segmentBy: String?
    /// The primary metric per segment.
    public var segments: [Segment]
    /// The analysis's decision at the last look.
    public var decision: ExperimentAnalysis.Decision
    /// Where the experiment stands.
    public var outcome: Outcome
    /// One sentence with the numbers.
    public var reason: String
    /// Seconds since the split was applied, at the last look.
    public var elapsedSeconds: Double
}

/// One variant's logged answers and the outcomes posted for them, as the experiment counts them.
public struct ArmCounts: Sendable, Codable, Equatable {
    /// Answers users got.
    public var requests: Int
    /// Failed answers (status 500 and above, or none).
    public var errors: Int
    /// The outcomes posted as feedback: every outcome is a trial, one above 0 a conversion, and its value is summed.
    public var outcome: OutcomeSummary

    /// Empty counts.
    public init(requests: Int = 0, errors: Int = 0, outcome: OutcomeSummary = OutcomeSummary()) {
        self.requests = requests
        self.errors = errors
        self.outcome = outcome
    }

    /// Counts one answer and its outcome, if one was posted.
    public mutating func add(status: Int, outcome value: Double?) {
        requests += 1
        if status >= 500 || status == 0 { errors += 1 }
        if let value, value.isFinite {
            outcome.trials += 1
            if value > 0 { outcome.conversions += 1 }
            outcome.values.add(value)
        }
    }
}

/// The prediction log of an experiment, counted per variant (and per segment): what
/// ``RolloutTraffic/experimentCounts(endpoint:since:segmentBy:)`` returns.
public struct ExperimentCounts: Sendable, Codable, Equatable {
    /// The most segments kept; answers of rarer values are counted under ``otherSegment``.
    public static let segmentLimit = 20
    /// The segment of answers whose value is not among the first ``segmentLimit`` values seen.
    public static let otherSegment = "other"
    /// The segment of answers whose logged features lack the input (or were not logged in full).
    public static let missingSegment = "(none)"

    /// Counts per variant.
    public var variants: [String: ArmCounts]
    /// Counts per segment value, then per variant.
    public var segments: [String: [String: ArmCounts]]

    /// Counts from the variants (and segments) given.
    public init(variants: [String: ArmCounts] = [:], segments: [String: [String: ArmCounts]] = [:]) {
        self.variants = variants
        self.segments = segments
    }

    /// Counts one logged record: primary answers only (mirrored copies never reached a user).
    public mutating func add(_ record: PredictionRecord, segmentBy: String?) {
        guard record.kind == .primary, !record.variant.isEmpty else { return }
        variants[record.variant, default: ArmCounts()].add(status: record.status, outcome: record.feedback?.outcome)
        guard let segmentBy else { return }
        var value = Self.segment(of: record.features, input: segmentBy)
        if segments[value] == nil && segments.count >= Self.segmentLimit { value = Self.otherSegment }
        segments[value, default: [:]][record.variant, default: ArmCounts()].add(status: record.status, outcome: record.feedback?.outcome)
    }

    /// The value of a request input in logged features (the `inputs` of a V2 request as JSON, kept by
    /// `featureLogging: full`): the first element of the tensor named `input`, as text. ``missingSegment``
    /// when the features are not there, are hashed, or do not hold the input.
    public static func segment(of features: String?, input: String) -> String {
        guard let features, features.first == "[" || features.first == "{",
            let parsed = try? JSONSerialization.jsonObject(with: Data(features.utf8), options: [.fragmentsAllowed])
        else { return missingSegment }
        var data: Any?
        if let tensors = parsed as? [Any] {
            data = tensors.lazy.compactMap { $0 as? [String: Any] }.first { ($0["name"] as? String) == input }?["data"]
        } else if let object = parsed as? [String: Any] {
            data = object[input]
        }
        // The first scalar of a (possibly nested) data array.
        while let array = data as? [Any] { data = array.first }
        switch data {
        case let text as String: return text.isEmpty ? missingSegment : String(text.prefix(100))
        case let number as NSNumber:
            let value = number.doubleValue
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        default: return missingSegment
        }
    }
}

extension RolloutService {
    /// Seconds between two looks at an experiment's data: every 5 seconds at first, then a twentieth of the time
    /// it has run (at most every 5 minutes), so that re-reading a long experiment's log stays cheap.
    static func experimentLookInterval(elapsed: TimeInterval) -> TimeInterval {
        min(300, max(5, elapsed / 20))
    }

    /// Refuses an experiment the controller cannot run: one whose sample size has no solution.
    static func checkExperiment(_ strategy: ExperimentStrategy, templates: [AnalysisTemplate]) throws {
        do throws(RolloutError) {
            _ = try strategy.sampleSize()
        } catch {
            throw GenericError(.invalidArgument, "\(error.message); change mde, baseline, alpha or power")
        }
    }

    /// One move of an experiment: deploy, wait for readiness, apply the split (planning the sample), then look
    /// at the data every few seconds and act on the analysis's decision. `true` when it may move again at once.
    func advanceExperiment(_ strategy: ExperimentStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState)
        async throws -> Bool
    {
        let candidate = stored.spec.candidate
        if try await deployCandidate(record, stored, &state) { return true }
        let now = self.now()
        guard var experiment = state.experiment, let startedAt = experiment.startedAt else {
            // The split starts once the candidate answers.
            guard await traffic.isReady(endpoint: record.endpoint, variant: candidate.variant) else { return false }
            let plan = try Self.plan(strategy)
            try await traffic.setCandidateWeight(
                endpoint: record.endpoint, stable: state.stableVariant, candidate: candidate.variant, weight: strategy.weight)
            state.weight = strategy.weight
            var experiment = ExperimentState(plannedStableUnits: plan.stable, plannedCandidateUnits: plan.candidate)
            experiment.startedAt = now
            state.experiment = experiment
            _ = try await save(
                record, state, action: "rollout.step", phase: .progressing,
                reason:
                    "experiment started: candidate weight \(ConditionValue.format(strategy.weight))%; planned \(plan.stable) stable and "
                    + "\(plan.candidate) candidate units",
                step: record.step, actor: Self.controllerActor)
            return false
        }
        let elapsed = max(0, now.timeIntervalSince(startedAt))
        if let last = experiment.lastLookAt, now.timeIntervalSince(last) < Self.experimentLookInterval(elapsed: elapsed) { return false }

        // The data since the experiment started: counts from the prediction log, health from the gateway's window.
        let counts = try await traffic.experimentCounts(endpoint: record.endpoint, since: startedAt, segmentBy: strategy.segmentBy)
        let window = traffic.samples(endpoint: record.endpoint, seconds: max(10, min(600, Int(elapsed.rounded(.up)))))
        let stable = Self.armSample(counts.variants[state.stableVariant], window[state.stableVariant])
        let treatment = Self.armSample(counts.variants[candidate.variant], window[candidate.variant])
        let analysis = ExperimentAnalysis(strategy: strategy, configuration: stored.spec.defaultAnalysis)
        let result: ExperimentAnalysis.Result
        do throws(RolloutError) {
            result = try analysis.evaluate(stable: stable, candidate: treatment, elapsed: RolloutDuration(seconds: elapsed))
        } catch {
            _ = try await fail(
                record, stored, state, reason: "the experiment could not be analysed: \(error.message)", action: "rollout.abort",
                actor: Self.controllerActor)
            return false
        }
        var report = Self.report(
            strategy, result, counts: counts, stableVariant: state.stableVariant, candidateVariant: candidate.variant, plan: experiment,
            elapsed: elapsed)
        experiment.lastLookAt = now
        experiment.looks += 1

        switch result.decision {
        case .continue:
            report.outcome = .running
            experiment.report = report
            state.experiment = experiment
            _ = try await save(
                record, state, action: RolloutChange.measureAction, phase: .progressing, reason: record.reason, step: record.step,
                actor: Self.controllerActor)
            return false
        case .promote:
            report.outcome = .promote
            experiment.report = report
            state.experiment = experiment
            _ = try await complete(
                record, stored, &state, actor: Self.controllerActor, action: "rollout.complete",
                reason: "experiment won, candidate promoted: \(result.reason)")
            return false
        case .halt:
            report.outcome = .halted
            experiment.report = report
            state.experiment = experiment
            _ = try await fail(
                record, stored, state, reason: "experiment halted: \(result.reason)", action: "rollout.abort", actor: Self.controllerActor)
            return false
        case .keepStable:
            let decided = result.primary != nil && !result.reason.hasPrefix("maxDuration")
            let guardrail = result.guardrails.contains { $0.verdict == .fail }
            report.outcome = decided || guardrail ? .keepControl : .inconclusive
            experiment.report = report
            state.experiment = experiment
            let why = report.outcome == .inconclusive ? "inconclusive: \(result.reason)" : result.reason
            _ = try await fail(record, stored, state, reason: "kept stable: \(why)", action: "rollout.abort", actor: Self.controllerActor)
            return false
        }
    }

    /// The sample-size plan, as a controller error.
    static func plan(_ strategy: ExperimentStrategy) throws -> (stable: Int, candidate: Int) {
        do throws(RolloutError) {
            return try strategy.sampleSize()
        } catch {
            throw GenericError(.invalidArgument, "\(error.message); change mde, baseline, alpha or power")
        }
    }

    /// One arm's sample: requests, errors and outcomes from the log's counts; latency and predictions from the window.
    static func armSample(_ counts: ArmCounts?, _ window: VariantSample?) -> VariantSample {
        var sample = window ?? VariantSample(requests: 0, errors: 0)
        let counts = counts ?? ArmCounts()
        sample.requests = counts.requests
        sample.errors = counts.errors
        sample.outcome = counts.outcome
        return sample
    }

    /// The report of one look.
    static func report(
        _ strategy: ExperimentStrategy, _ result: ExperimentAnalysis.Result, counts: ExperimentCounts, stableVariant: String,
        candidateVariant: String, plan: ExperimentState, elapsed: TimeInterval
    ) -> ExperimentReport {
        let conversion = strategy.primary.metric != .outcomeMean
        let stableCounts = counts.variants[stableVariant] ?? ArmCounts()
        let candidateCounts = counts.variants[candidateVariant] ?? ArmCounts()
        var effect = result.primary
        var method = strategy.decision.rawValue
        if effect == nil {
            // Shown while a fixed-horizon test collects data; no decision is taken on it.
            effect = try? frequentistEffect(
                control: arm(stableCounts, conversion), treatment: arm(candidateCounts, conversion), scale: .relative, alpha: strategy.alpha)
            method = "interim"
        }
        var report = ExperimentReport(
            metric: conversion ? "conversion" : "outcome-mean", method: method,
            stable: line(stableVariant, stableCounts, planned: plan.plannedStableUnits, conversion),
            candidate: line(candidateVariant, candidateCounts, planned: plan.plannedCandidateUnits, conversion), lift: effect?.estimate,
            ciLow: effect?.ciLow, ciHigh: effect?.ciHigh, pValue: effect?.pValue,
            chanceToWin: chanceToWin(stableCounts, candidateCounts, conversion: conversion, decrease: strategy.primary.direction == .decrease),
            srmPValue: result.srm?.pValue, guardrails: result.guardrails, segmentBy: strategy.segmentBy, segments: [],
            decision: result.decision, outcome: .running, reason: result.reason, elapsedSeconds: elapsed)
        if strategy.segmentBy != nil {
            report.segments = counts.segments.keys.sorted().map { value in
                let s = counts.segments[value]?[stableVariant] ?? ArmCounts()
                let c = counts.segments[value]?[candidateVariant] ?? ArmCounts()
                let e = try? frequentistEffect(control: arm(s, conversion), treatment: arm(c, conversion), scale: .relative, alpha: strategy.alpha)
                return ExperimentReport.Segment(
                    value: value, stable: line(stableVariant, s, planned: 0, conversion), candidate: line(candidateVariant, c, planned: 0, conversion),
                    lift: e?.estimate, ciLow: e?.ciLow, ciHigh: e?.ciHigh, pValue: e?.pValue)
            }
        }
        return report
    }

    static func arm(_ counts: ArmCounts, _ conversion: Bool) -> ArmStatistic {
        conversion
            ? .proportion(successes: Double(counts.outcome.conversions), trials: Double(counts.outcome.trials)) : .mean(counts.outcome.values)
    }

    static func line(_ variant: String, _ counts: ArmCounts, planned: Int, _ conversion: Bool) -> ExperimentReport.Arm {
        let units = conversion ? counts.outcome.trials : Int(counts.outcome.values.count)
        let value: Double? =
            units == 0 ? nil : conversion ? Double(counts.outcome.conversions) / Double(units) : counts.outcome.values.sum / Double(units)
        return ExperimentReport.Arm(
            variant: variant, requests: counts.requests, errors: counts.errors, units: units, plannedUnits: planned,
            conversions: counts.outcome.conversions, value: value)
    }

    /// The Bayesian chance that the candidate is better: Beta-binomial with a uniform prior for conversions,
    /// the Gaussian effect model with a flat prior for means.
    static func chanceToWin(_ stable: ArmCounts, _ candidate: ArmCounts, conversion: Bool, decrease: Bool) -> Double? {
        if conversion {
            guard stable.outcome.trials > 0, candidate.outcome.trials > 0,
                let control = try? Proportion(successes: Double(stable.outcome.conversions), trials: Double(stable.outcome.trials)),
                let treatment = try? Proportion(successes: Double(candidate.outcome.conversions), trials: Double(candidate.outcome.trials)),
                let r = try? betaBinomialTest(control: control, treatment: treatment)
            else { return nil }
            return decrease ? 1 - r.chanceToWin : r.chanceToWin
        }
        return (try? bayesianEffect(control: .mean(stable.outcome.values), treatment: .mean(candidate.outcome.values), inverse: decrease))?
            .chanceToWin
    }

    /// Takes the candidate out of traffic when an experiment fails or is aborted (``fail`` sets its weight to 0 itself).
    func rollBackExperiment(_ strategy: ExperimentStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState)
        async throws
    {
        if state.deployed {
            try await traffic.setCandidateWeight(
                endpoint: record.endpoint, stable: state.stableVariant, candidate: stored.spec.candidate.variant, weight: 0)
        }
    }

    /// `rollout promote` of an experiment: ends it at once in the candidate's favour (all traffic and the
    /// `production` alias), whatever the data says so far; the last report is kept.
    func promoteExperiment(
        _ strategy: ExperimentStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, full: Bool,
        by principal: Principal
    ) async throws -> RolloutRecord {
        if var experiment = state.experiment, var report = experiment.report {
            report.outcome = .promote
            report.reason = "promoted by \(principal.name) before the analysis decided: " + report.reason
            experiment.report = report
            state.experiment = experiment
        }
        return try await complete(
            record, stored, &state, actor: principal.name, action: "rollout.promote", reason: "experiment ended by \(principal.name): candidate promoted")
    }
}
