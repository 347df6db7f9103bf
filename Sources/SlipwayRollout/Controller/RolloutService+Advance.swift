import Foundation
import Logging
import SlipwayCore
import SlipwayStore

extension RolloutService {
    /// Moves one running rollout as far as it can go now: deploys the candidate, applies weights, starts and
    /// ends pauses, takes due analysis measurements, completes or rolls back. Returns at the first step
    /// that has to wait. Safe to call at any time and after a restart: it works from the stored step and state.
    public func advance(_ name: String) async throws {
        try await RolloutLock.shared.run {
            // A handful of steps per call: setWeight steps follow each other at once.
            for _ in 0..<32 {
                guard try await advanceOnce(name) else { return }
            }
        }
    }

    /// Names of the running rollouts.
    public func running() async throws -> [String] {
        try await store.rollouts(runningOnly: true).map(\.name)
    }

    /// One move; `true` when the rollout moved on and may move again at once.
    private func advanceOnce(_ name: String) async throws -> Bool {
        var (record, stored, state) = try await load(name)
        guard record.phase == .progressing else { return false }
        switch stored.spec.strategy {
        case .canary(let canary): return try await advanceCanary(canary, record, stored, &state)
        case .blueGreen(let strategy): return try await advanceBlueGreen(strategy, record, stored, &state)
        case .experiment(let strategy): return try await advanceExperiment(strategy, record, stored, &state)
        case .shadow(let strategy): return try await advanceShadow(strategy, record, stored, &state)
        case .rolling(let strategy): return try await advanceRolling(strategy, record, stored, &state)
        }
    }

    /// One move of a canary.
    private func advanceCanary(_ canary: CanaryStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState)
        async throws -> Bool
    {
        let candidate = stored.spec.candidate
        if !state.deployed {
            try await traffic.deploy(
                endpoint: record.endpoint, variant: candidate.variant, model: record.candidateModel, version: record.candidateVersion,
                backend: candidate.backend, replicas: candidate.replicas)
            state.deployed = true
            _ = try await save(
                record, state, action: "rollout.deploy", phase: .progressing,
                reason: "deployed \(record.candidateModel)@\(record.candidateVersion) as variant '\(candidate.variant)'", step: record.step,
                actor: Self.controllerActor)
            return true
        }
        guard record.step < canary.steps.count else {
            _ = try await complete(
                record, stored, &state, actor: Self.controllerActor, action: "rollout.complete",
                reason: "every step done; the candidate serves all traffic")
            return false
        }
        let now = self.now()
        switch canary.steps[record.step] {
        case .setWeight(let weight):
            if state.weight != weight {
                // The candidate's first traffic waits until its backend answers.
                if weight > 0, !(await traffic.isReady(endpoint: record.endpoint, variant: candidate.variant)) { return false }
                try await traffic.setCandidateWeight(
                    endpoint: record.endpoint, stable: state.stableVariant, candidate: candidate.variant, weight: weight)
                state.weight = weight
            }
            state.leaveStep()
            _ = try await save(
                record, state, action: "rollout.step", phase: .progressing, reason: "candidate weight \(weight.formatted(.number))%",
                step: record.step + 1,
                actor: Self.controllerActor)
            return true
        case .pause(let pause):
            guard let duration = pause.duration else {
                _ = try await save(
                    record, state, action: "rollout.pause", phase: .paused,
                    reason: "step \(record.step): paused until an approver promotes or resumes the rollout", step: record.step,
                    actor: Self.controllerActor)
                return false
            }
            guard let until = state.pauseUntil else {
                state.pauseUntil = now.addingTimeInterval(duration.seconds)
                _ = try await save(
                    record, state, action: "rollout.wait", phase: .progressing,
                    reason: "step \(record.step): pausing \(duration) until \(Timestamp.format(state.pauseUntil!))", step: record.step,
                    actor: Self.controllerActor)
                return false
            }
            guard now >= until else { return false }
            state.leaveStep()
            _ = try await save(
                record, state, action: "rollout.step", phase: .progressing, reason: "pause of \(duration) over", step: record.step + 1,
                actor: Self.controllerActor)
            return true
        case .analysis(let reference):
            return try await analyse(reference, record, stored, &state, now: now)
        case .setHeaderRoute, .setMirrorRoute:
            _ = try await fail(
                record, stored, state,
                reason: "step \(record.step) (\(Self.describe(canary.steps[record.step]))) is not yet supported by the controller",
                action: "rollout.abort", actor: Self.controllerActor)
            return false
        }
    }

    /// An inline analysis step: start the run, take the measurements that are due, act on its phase.
    func analyse(
        _ reference: AnalysisReference, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, now: Date
    ) async throws -> Bool {
        var record = record
        if state.analysis == nil {
            state.analysis = try Self.run(for: reference, stored)
            state.analysisStartedAt = now
            record = try await save(
                record, state, action: "rollout.analysis", phase: .progressing, reason: "step \(record.step): analysis started", step: record.step,
                actor: Self.controllerActor)
        }
        guard var run = state.analysis, let started = state.analysisStartedAt else { return false }
        let elapsed = max(0, now.timeIntervalSince(started))
        let due = run.due(at: elapsed)
        if !due.isEmpty {
            // The gateway's window since the analysis started (whole 10-second buckets, at least one).
            let samples = traffic.samples(endpoint: record.endpoint, seconds: max(10, Int(elapsed.rounded(.up))))
            let candidate = Self.sample(samples[stored.spec.candidate.variant])
            let stable = Self.sample(samples[state.stableVariant])
            for name in due {
                let outcome = await measure(name, reference: reference, stored: stored, stable: stable, canary: candidate)
                try run.record(outcome, for: name, at: elapsed)
            }
            state.analysis = run
        }
        switch run.phase {
        case .pending, .running:
            if !due.isEmpty {
                _ = try await save(
                    record, state, action: RolloutChange.measureAction, phase: .progressing, reason: record.reason, step: record.step,
                    actor: Self.controllerActor)
            }
            return false
        case .successful:
            state.leaveStep()
            _ = try await save(
                record, state, action: "rollout.step", phase: .progressing, reason: "step \(record.step): analysis successful", step: record.step + 1,
                actor: Self.controllerActor)
            return true
        case .inconclusive:
            _ = try await save(
                record, state, action: "rollout.pause", phase: .paused,
                reason: "step \(record.step): analysis inconclusive (\(run.message ?? "no decision")); promote to go on or abort",
                step: record.step, actor: Self.controllerActor)
            return false
        case .failed, .error:
            _ = try await fail(
                record, stored, state, reason: "step \(record.step): analysis \(run.phase.rawValue.lowercased()): \(run.message ?? "")",
                action: "rollout.abort", actor: Self.controllerActor)
            return false
        }
    }

    /// The analysis run of a step: the default analysis, or the metrics of its templates with the step's arguments.
    static func run(for reference: AnalysisReference, _ stored: StoredRolloutSpec) throws -> AnalysisRun {
        if reference.usesDefaultAnalysis { return AnalysisRun(defaultAnalysis: stored.spec.defaultAnalysis) }
        var templates: [AnalysisTemplate] = []
        for name in reference.templates.map(\.templateName) {
            guard let template = stored.templates.first(where: { $0.name == name }) else {
                throw GenericError(.failedPrecondition, "analysis template '\(name)' is not part of the stored rollout")
            }
            templates.append(try template.resolved(with: reference.args))
        }
        return AnalysisRun(templates: templates)
    }

    /// One measurement of a metric of the step's run, from the gateway's window.
    func measure(
        _ name: String, reference: AnalysisReference, stored: StoredRolloutSpec, stable: VariantSample, canary: VariantSample
    ) async -> MeasurementOutcome {
        if reference.usesDefaultAnalysis {
            return DefaultAnalysis(configuration: stored.spec.defaultAnalysis).measure(stable: stable, canary: canary)
        }
        let templates = reference.templates.compactMap { ref in stored.templates.first { $0.name == ref.templateName } }
        var counts: [String: Int] = [:]
        for t in templates { for m in t.metrics { counts[m.name, default: 0] += 1 } }
        for t in templates {
            for m in t.metrics where (counts[m.name, default: 0] > 1 ? "\(t.name).\(m.name)" : m.name) == name {
                guard case .builtin(let metric) = m.provider else {
                    return await providers.measure(m.provider, metric: name)
                }
                return BuiltinMetricEvaluator.measure(
                    metric, stable: stable, canary: canary, defaultMinSamples: stored.spec.defaultAnalysis.minSamples)
            }
        }
        return .error("metric '\(name)' is not in the step's templates")
    }

    /// A variant's sample, or an empty one when the gateway has not seen the variant.
    static func sample(_ sample: VariantSample?) -> VariantSample {
        sample ?? VariantSample(requests: 0, errors: 0)
    }

    // MARK: Outcomes

    /// The candidate loses its traffic (one change of the routing table), then the rollout is recorded Degraded.
    func fail(_ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: CanaryState, reason: String, action: String, actor: String) async throws
        -> RolloutRecord
    {
        var state = state
        switch stored.spec.strategy {
        case .canary, .experiment:
            if state.deployed {
                try await traffic.setCandidateWeight(
                    endpoint: record.endpoint, stable: state.stableVariant, candidate: stored.spec.candidate.variant, weight: 0)
            }
        case .blueGreen(let strategy): try await rollBackBlueGreen(strategy, record, stored, &state)
        case .shadow(let strategy): try await rollBackShadow(strategy, record, stored, &state)
        case .rolling(let strategy): try await rollBackRolling(strategy, record, stored, &state)
        }
        state.weight = 0
        state.analysis?.terminate()
        state.leaveStep()
        state.pausedByUser = false
        logger.warning("rollout rolled back", metadata: ["slipway.rollout": "\(record.name)", "slipway.reason": "\(reason)"])
        return try await save(record, state, action: action, phase: .degraded, reason: reason, step: record.step, actor: actor)
    }

    /// All traffic to the candidate (which becomes the endpoint's stable variant), the model's `production`
    /// alias to the candidate version, and the rollout Healthy.
    func complete(_ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, actor: String, action: String, reason: String)
        async throws -> RolloutRecord
    {
        let candidate = stored.spec.candidate
        if !state.deployed {
            try await traffic.deploy(
                endpoint: record.endpoint, variant: candidate.variant, model: record.candidateModel, version: record.candidateVersion,
                backend: candidate.backend, replicas: candidate.replicas)
            state.deployed = true
        }
        try await traffic.switchTo(endpoint: record.endpoint, variant: candidate.variant)
        state.weight = 100
        try await traffic.promoteAlias(model: record.candidateModel, version: record.candidateVersion, reason: "promoted by rollout \(record.name)")
        state.analysis?.terminate()
        state.leaveStep()
        state.pausedByUser = false
        logger.info(
            "rollout completed",
            metadata: ["slipway.rollout": "\(record.name)", "slipway.model": "\(record.candidateModel)@\(record.candidateVersion)"])
        return try await save(record, state, action: action, phase: .healthy, reason: reason, step: Self.steps(stored).count, actor: actor)
    }

    // MARK: Store

    func load(_ name: String) async throws -> (RolloutRecord, StoredRolloutSpec, CanaryState) {
        let record = try await require(name)
        return (record, try Self.decode(StoredRolloutSpec.self, record.spec), try Self.decode(CanaryState.self, record.state))
    }

    func save(
        _ record: RolloutRecord, _ state: CanaryState, action: String, phase: RolloutPhase, reason: String, step: Int, actor: String
    ) async throws -> RolloutRecord {
        let updated = try await store.updateRollout(
            named: record.name, expectedRevision: record.revision,
            change: RolloutChange(action: action, phase: phase, reason: reason, step: step, state: try Self.encode(state)), actor: actor)
        await notifier.rolloutChanged(from: record, to: updated, action: action)
        return updated
    }

    static func steps(_ stored: StoredRolloutSpec) -> [CanaryStep] {
        if case .canary(let canary) = stored.spec.strategy { return canary.steps }
        return []
    }
}
