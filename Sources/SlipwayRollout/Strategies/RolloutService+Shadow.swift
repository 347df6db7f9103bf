public import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// What the controller keeps about a shadow test (stored in CanaryState, so that a restarted controller keeps
/// the same deadline and the report).
public struct ShadowState: Sendable, Codable, Equatable {
    /// When the mirror was set up.
    public var startedAt: Date?
    /// When the verdict is taken (`startedAt` + `duration`); nil for a shadow without a duration, judged at every look.
    public var deadline: Date?
    /// When the controller last looked at the comparison.
    public var lastLookAt: Date?
    /// `true` while the mirror is set (from its start to the verdict or an abort).
    public var mirroring: Bool
    /// `true` once the shadow passed and waits at its gate for `rollout promote`.
    public var passed: Bool
    /// The report of the last look (the verdict's once taken).
    public var report: ShadowReport?

    /// The state of a shadow whose mirror is not set yet.
    public init() {
        self.startedAt = nil
        self.deadline = nil
        self.lastLookAt = nil
        self.mirroring = false
        self.passed = false
        self.report = nil
    }
}

/// A shadow test's report: how the candidate's answers to mirrored requests compare with the stable variant's.
public struct ShadowReport: Sendable, Codable, Equatable {
    /// Mirrored requests whose two answers were compared, and how many agreed.
    public var compared: Int
    public var agreed: Int
    /// agreed / compared (nil before any comparison).
    public var agreementRate: Double?
    /// The lowest agreement accepted.
    public var minAgreement: Double
    /// Answers: the stable variant's to users, the candidate's to mirrored copies.
    public var stableRequests: Int
    public var candidateAnswers: Int
    public var stableLatencyP99Ms: Double?
    public var candidateLatencyP99Ms: Double?
    public var stableErrorRate: Double
    public var candidateErrorRate: Double
    /// The prediction distributions' Jensen–Shannon distance, when the drift check could compute it.
    public var driftStatistic: Double?
    /// Each check (agreement, error-rate, latency, prediction-drift), with its verdict and numbers.
    public var checks: [DefaultAnalysisCheck]
    /// The phase of the extra analysis templates, when the spec names some.
    public var analysisPhase: AnalysisPhase?
    /// The overall verdict of the last look.
    public var verdict: Verdict
    /// The seconds of traffic the look covered.
    public var windowSeconds: Int
}

/// One variant's answers to mirrored copies, as the gateway counted them: the sample the shadow is judged on.
public struct MirrorSample: Sendable, Codable, Equatable {
    /// The answers (requests = copies answered; errors, latency and predictions of those answers).
    public var sample: VariantSample
    /// Copies whose prediction was compared with the answer users got.
    public var compared: Int
    /// Of those, the ones that agreed.
    public var agreed: Int

    /// Creates a mirror sample.
    public init(sample: VariantSample, compared: Int, agreed: Int) {
        self.sample = sample
        self.compared = compared
        self.agreed = agreed
    }
}

extension RolloutService {
    /// Seconds between two looks at a shadow.
    static let shadowLookSeconds: TimeInterval = 5

    /// Refuses a shadow the controller cannot run: extra analysis templates it does not support.
    static func checkShadow(_ strategy: ShadowStrategy, templates: [AnalysisTemplate]) throws {
        if let analysis = strategy.analysis, !analysis.usesDefaultAnalysis {
            try checkAnalysis(analysis, templates: templates, place: "shadow.analysis")
        }
    }

    /// One move of a shadow: deploy, wait for readiness, mirror, take the extra analysis's measurements, and at
    /// the deadline judge the comparison. `true` when it may move again at once.
    func advanceShadow(_ strategy: ShadowStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState)
        async throws -> Bool
    {
        let candidate = stored.spec.candidate
        if try await deployCandidate(record, stored, &state) { return true }
        let now = self.now()
        guard var shadow = state.shadow, shadow.mirroring, let startedAt = shadow.startedAt else {
            guard state.shadow?.passed != true else { return false }
            guard await traffic.isReady(endpoint: record.endpoint, variant: candidate.variant) else { return false }
            try await traffic.setMirror(endpoint: record.endpoint, variant: candidate.variant, percent: strategy.percentage)
            var shadow = ShadowState()
            shadow.startedAt = now
            shadow.deadline = strategy.duration.map { now.addingTimeInterval($0.seconds) }
            shadow.mirroring = true
            state.shadow = shadow
            if let analysis = strategy.analysis {
                state.analysis = try Self.run(for: analysis, stored)
                state.analysisStartedAt = now
            }
            let until = shadow.deadline.map { " until \(Timestamp.format($0))" } ?? ""
            _ = try await save(
                record, state, action: "rollout.step", phase: .progressing,
                reason: "mirroring \(ConditionValue.format(strategy.percentage))% of requests to '\(candidate.variant)'\(until)", step: record.step,
                actor: Self.controllerActor)
            return false
        }
        let elapsed = max(0, now.timeIntervalSince(startedAt))
        let atDeadline = shadow.deadline.map { now >= $0 } ?? false
        let seconds = max(10, min(600, Int(elapsed.rounded(.up))))
        let samples = traffic.samples(endpoint: record.endpoint, seconds: seconds)
        var stable = Self.sample(samples[state.stableVariant])
        let mirror = traffic.mirrorSamples(endpoint: record.endpoint, seconds: seconds)[candidate.variant]
        let shadowSample = mirror?.sample ?? VariantSample(requests: 0, errors: 0)
        // The gateway keeps latency quantiles of mirrored answers, not samples: both sides are compared alike.
        if shadowSample.latencyMs.isEmpty { stable.latencyMs = [] }

        // The extra analysis measures on its own schedule, the candidate's mirrored answers standing for the canary.
        var measured = false
        if let reference = strategy.analysis, var run = state.analysis, let analysisStart = state.analysisStartedAt {
            let since = max(0, now.timeIntervalSince(analysisStart))
            let due = run.due(at: since)
            for name in due {
                let outcome = await measure(name, reference: reference, stored: stored, stable: stable, canary: shadowSample)
                try run.record(outcome, for: name, at: since)
            }
            measured = !due.isEmpty
            state.analysis = run
            if run.phase == .failed || run.phase == .error {
                // The mirror goes with the rollback (``rollBackShadow``).
                shadow.report = try Self.shadowReport(strategy, stored, stable: stable, mirror: mirror, seconds: seconds, analysis: run.phase)
                state.shadow = shadow
                _ = try await fail(
                    record, stored, state, reason: "shadow failed: analysis \(run.phase.rawValue.lowercased()): \(run.message ?? "")",
                    action: "rollout.abort", actor: Self.controllerActor)
                return false
            }
        }

        let lookDue = shadow.lastLookAt.map { now.timeIntervalSince($0) >= Self.shadowLookSeconds } ?? true
        guard lookDue || atDeadline else {
            if measured {
                state.shadow = shadow
                _ = try await save(
                    record, state, action: RolloutChange.measureAction, phase: .progressing, reason: record.reason, step: record.step,
                    actor: Self.controllerActor)
            }
            return false
        }
        var report = try Self.shadowReport(strategy, stored, stable: stable, mirror: mirror, seconds: seconds, analysis: state.analysis?.phase)
        shadow.lastLookAt = now
        // With a duration the verdict waits for the deadline; without one, the first clear verdict ends the shadow.
        let extraDone = state.analysis.map { $0.phase.isCompleted } ?? true
        let decide = atDeadline || (shadow.deadline == nil && report.verdict != .inconclusive && extraDone)
        guard decide else {
            shadow.report = report
            state.shadow = shadow
            _ = try await save(
                record, state, action: RolloutChange.measureAction, phase: .progressing, reason: record.reason, step: record.step,
                actor: Self.controllerActor)
            return false
        }

        // The verdict: the mirror stops either way.
        try await traffic.setMirror(endpoint: record.endpoint, variant: candidate.variant, percent: 0)
        shadow.mirroring = false
        if var run = state.analysis {
            run.terminate()
            state.analysis = run
            report.analysisPhase = run.phase
            if run.phase != .successful && report.verdict == .pass { report.verdict = .inconclusive }
        }
        shadow.report = report
        let summary = Self.summary(report)
        switch report.verdict {
        case .pass:
            shadow.passed = true
            state.shadow = shadow
            if strategy.promote {
                _ = try await complete(
                    record, stored, &state, actor: Self.controllerActor, action: "rollout.complete", reason: "shadow passed (\(summary)); candidate promoted")
            } else {
                state.leaveStep()
                _ = try await save(
                    record, state, action: "rollout.pause", phase: .paused,
                    reason: "shadow passed (\(summary)); promote to switch traffic to the candidate", step: record.step, actor: Self.controllerActor)
            }
        case .fail, .inconclusive:
            state.shadow = shadow
            let failed = report.checks.filter { $0.verdict == .fail }.map { "\($0.name): \($0.reason)" }
            let why =
                report.verdict == .fail
                ? "shadow failed: " + (failed.isEmpty ? "analysis \(report.analysisPhase?.rawValue.lowercased() ?? "failed")" : failed.joined(separator: "; "))
                : "shadow inconclusive at its deadline (\(summary)); mirror more traffic or for longer"
            _ = try await fail(record, stored, state, reason: why, action: "rollout.abort", actor: Self.controllerActor)
        }
        return false
    }

    /// The built-in checks of one look at the mirror comparison.
    static func shadowReport(
        _ strategy: ShadowStrategy, _ stored: StoredRolloutSpec, stable: VariantSample, mirror: MirrorSample?, seconds: Int,
        analysis: AnalysisPhase?
    ) throws -> ShadowReport {
        let shadowSample = mirror?.sample ?? VariantSample(requests: 0, errors: 0)
        let compared = mirror?.compared ?? 0
        let agreed = min(mirror?.agreed ?? 0, compared)
        let result: DefaultAnalysisResult
        do throws(RolloutError) {
            result = try ShadowAnalysis(strategy: strategy, configuration: stored.spec.defaultAnalysis).evaluate(
                stable: stable, shadow: shadowSample, agreed: agreed, compared: compared)
        } catch {
            throw GenericError(.failedPrecondition, "the shadow could not be analysed: \(error.message)")
        }
        let drift = result.checks.first { $0.name == "prediction-drift" }?.numbers["js"]
        return ShadowReport(
            compared: compared, agreed: agreed, agreementRate: compared > 0 ? Double(agreed) / Double(compared) : nil,
            minAgreement: strategy.minAgreement, stableRequests: stable.requests, candidateAnswers: shadowSample.requests,
            stableLatencyP99Ms: stable.latencyQuantiles?.p99, candidateLatencyP99Ms: shadowSample.latencyQuantiles?.p99,
            stableErrorRate: stable.errorRate, candidateErrorRate: shadowSample.errorRate, driftStatistic: drift, checks: result.checks,
            analysisPhase: analysis, verdict: result.verdict, windowSeconds: seconds)
    }

    /// The report in a few words, for the rollout's reason.
    static func summary(_ report: ShadowReport) -> String {
        let agreement = report.agreementRate.map { "agreement \(percent($0)) of \(report.compared)" } ?? "no answers compared"
        return "\(agreement), checks " + report.checks.map { "\($0.name) \($0.verdict.rawValue)" }.joined(separator: ", ")
    }

    /// Removes the mirror when a shadow fails or is aborted (the candidate never had users' traffic).
    func rollBackShadow(_ strategy: ShadowStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState) async throws {
        // Unless the verdict removed it already (a mirror set up just before a crash is removed too).
        if state.deployed && state.shadow?.mirroring != false {
            try await traffic.setMirror(endpoint: record.endpoint, variant: stored.spec.candidate.variant, percent: 0)
        }
        if var shadow = state.shadow {
            shadow.mirroring = false
            state.shadow = shadow
        }
    }

    /// `rollout promote` of a shadow: at its gate (or before the verdict, overriding it) switches all traffic to
    /// the candidate, moves the `production` alias and completes the rollout.
    func promoteShadow(
        _ strategy: ShadowStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, full: Bool,
        by principal: Principal
    ) async throws -> RolloutRecord {
        if var shadow = state.shadow, shadow.mirroring {
            try await traffic.setMirror(endpoint: record.endpoint, variant: stored.spec.candidate.variant, percent: 0)
            shadow.mirroring = false
            state.shadow = shadow
        }
        let passed = state.shadow?.passed == true
        return try await complete(
            record, stored, &state, actor: principal.name, action: "rollout.promote",
            reason: passed ? "shadow passed; promoted by \(principal.name)" : "promoted by \(principal.name) before the shadow's verdict")
    }
}
