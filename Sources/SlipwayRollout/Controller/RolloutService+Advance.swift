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
        if try await deployCandidate(record, stored, &state) { return true }
        guard record.step < canary.steps.count else {
            _ = try await complete(
                record, stored, &state, actor: Self.controllerActor, action: "rollout.complete",
                reason: "every step done; the candidate serves all traffic")
            return false
        }
        let now = self.now()
        var record = record
        if let background = canary.analysis, record.step >= background.startingStep {
            guard try await backgroundAnalysis(background, &record, stored, &state, now: now) else { return false }
        }
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
        case .setHeaderRoute(let route):
            if !route.match.isEmpty, !(await traffic.isReady(endpoint: record.endpoint, variant: candidate.variant)) { return false }
            var routes = state.headerRoutes ?? [:]
            // A route of the same name replaces the earlier one; no match removes it.
            for old in routes[route.name] ?? [] where !route.match.contains(old) {
                try await traffic.setHeaderRoute(endpoint: record.endpoint, header: old.headerName, value: old.exact, variant: nil)
            }
            for match in route.match {
                try await traffic.setHeaderRoute(endpoint: record.endpoint, header: match.headerName, value: match.exact, variant: candidate.variant)
            }
            routes[route.name] = route.match.isEmpty ? nil : route.match
            state.headerRoutes = routes.isEmpty ? nil : routes
            state.leaveStep()
            let what = route.match.map { "\($0.headerName): \($0.exact)" }.joined(separator: ", ")
            _ = try await save(
                record, state, action: "rollout.step", phase: .progressing,
                reason: route.match.isEmpty ? "header route '\(route.name)' removed" : "requests with \(what) go to the candidate",
                step: record.step + 1, actor: Self.controllerActor)
            return true
        case .setMirrorRoute(let mirror):
            let percent = mirror.percentage ?? 0
            if percent > 0, !(await traffic.isReady(endpoint: record.endpoint, variant: candidate.variant)) { return false }
            var mirrors = state.mirrorRoutes ?? [:]
            mirrors[mirror.name] = percent > 0 ? percent : nil
            // The gateway keeps one mirror per variant: the largest share any named route asks for.
            try await traffic.setMirror(endpoint: record.endpoint, variant: candidate.variant, percent: mirrors.values.max() ?? 0)
            state.mirrorRoutes = mirrors.isEmpty ? nil : mirrors
            state.leaveStep()
            _ = try await save(
                record, state, action: "rollout.step", phase: .progressing,
                reason: percent > 0
                    ? "\(percent.formatted(.number))% of traffic mirrored to the candidate" : "mirror route '\(mirror.name)' removed",
                step: record.step + 1, actor: Self.controllerActor)
            return true
        }
    }

    /// The canary's background analysis: started at its step, measured whenever due, until the rollout
    /// ends. Returns `false` when it stopped the rollout (failed: rolled back; inconclusive: paused).
    private func backgroundAnalysis(
        _ background: BackgroundAnalysis, _ record: inout RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, now: Date
    ) async throws -> Bool {
        if state.background == nil {
            state.background = try Self.run(for: background.analysis, stored)
            state.backgroundStartedAt = now
            record = try await save(
                record, state, action: "rollout.analysis", phase: .progressing,
                reason: "background analysis started at step \(record.step)", step: record.step, actor: Self.controllerActor)
        }
        guard var run = state.background, let started = state.backgroundStartedAt, !run.phase.isCompleted else { return true }
        let elapsed = max(0, now.timeIntervalSince(started))
        let due = run.due(at: elapsed)
        guard !due.isEmpty else { return true }
        let (stable, candidate) = windowSamples(record, stored, state, elapsed: elapsed, reference: background.analysis)
        var measuredAt = ContinuousClock.now
        for name in due {
            let outcome = await measure(name, reference: background.analysis, stored: stored, stable: stable, canary: candidate)
            measuredAt = ContinuousClock.now
            try run.record(outcome, for: name, at: elapsed)
        }
        state.background = run
        switch run.phase {
        case .failed, .error:
            record = try await fail(
                record, stored, state, reason: "background analysis \(run.phase.rawValue.lowercased()): \(run.message ?? "")",
                action: "rollout.abort", actor: Self.controllerActor, measuredAt: measuredAt)
            return false
        case .inconclusive:
            record = try await save(
                record, state, action: "rollout.pause", phase: .paused,
                reason: "background analysis inconclusive (\(run.message ?? "no decision")); promote to go on or abort", step: record.step,
                actor: Self.controllerActor)
            return false
        case .pending, .running, .successful:
            record = try await save(
                record, state, action: RolloutChange.measureAction, phase: .progressing, reason: record.reason, step: record.step,
                actor: Self.controllerActor)
            return true
        }
    }

    /// Both variants' samples for an analysis that has run `elapsed` seconds: the gateway's window since
    /// it started, never less than the two newest 10-second buckets (the newest alone may have only just begun).
    func windowSamples(
        _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: CanaryState, elapsed: Double, reference: AnalysisReference
    ) -> (stable: VariantSample, candidate: VariantSample) {
        let judged = reference.templates.contains { ref in stored.templates.first { $0.name == ref.templateName }?.judge != nil }
        let seconds = max(20, Int(elapsed.rounded(.up)) + 10)
        let samples = traffic.samples(endpoint: record.endpoint, seconds: seconds)
        var stable = Self.sample(samples[state.stableVariant])
        var candidate = Self.sample(samples[stored.spec.candidate.variant])
        if judged {
            let latencies = traffic.latencySamples(endpoint: record.endpoint, seconds: seconds)
            stable.latencyMs = latencies[state.stableVariant] ?? []
            candidate.latencyMs = latencies[stored.spec.candidate.variant] ?? []
        }
        return (stable, candidate)
    }

    /// Deploys the candidate as its variant unless it is deployed already (and records that).
    /// - Returns: `true` when it deployed now: the rollout moved and may move again at once.
    func deployCandidate(_ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState) async throws -> Bool {
        guard !state.deployed else { return false }
        let candidate = stored.spec.candidate
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
        var measuredAt = ContinuousClock.now
        if !due.isEmpty {
            let (stable, candidate) = windowSamples(record, stored, state, elapsed: elapsed, reference: reference)
            for name in due {
                let outcome = await measure(name, reference: reference, stored: stored, stable: stable, canary: candidate)
                measuredAt = ContinuousClock.now
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
                action: "rollout.abort", actor: Self.controllerActor, measuredAt: due.isEmpty ? nil : measuredAt)
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
        // The templates with the step's arguments filled in (as they were when it started, if one no longer resolves).
        let templates = reference.templates.compactMap { ref in
            stored.templates.first { $0.name == ref.templateName }.map { (try? $0.resolved(with: reference.args)) ?? $0 }
        }
        return await measure(
            name, templates: templates, usesDefaultAnalysis: reference.usesDefaultAnalysis, stored: stored, stable: stable, canary: canary)
    }

    /// One measurement of a metric of a run over `templates` (already given their arguments), or of the default analysis.
    func measure(
        _ name: String, templates: [AnalysisTemplate], usesDefaultAnalysis: Bool, stored: StoredRolloutSpec, stable: VariantSample,
        canary: VariantSample
    ) async -> MeasurementOutcome {
        if usesDefaultAnalysis {
            return DefaultAnalysis(configuration: stored.spec.defaultAnalysis).measure(stable: stable, canary: canary)
        }
        if let judged = templates.first(where: { $0.judge != nil && $0.name == name }) {
            return CanaryJudge.measure(judged, stable: stable, canary: canary, defaultMinSamples: stored.spec.defaultAnalysis.minSamples).outcome
        }
        var counts: [String: Int] = [:]
        for t in templates where t.judge == nil { for m in t.metrics { counts[m.name, default: 0] += 1 } }
        for t in templates where t.judge == nil {
            for m in t.metrics where (counts[m.name, default: 0] > 1 ? "\(t.name).\(m.name)" : m.name) == name {
                guard case .builtin(let metric) = m.provider else { return await providers.measure(m.provider, metric: name) }
                return BuiltinMetricEvaluator.measure(
                    metric, stable: stable, canary: canary, defaultMinSamples: stored.spec.defaultAnalysis.minSamples)
            }
        }
        return .error("metric '\(name)' is not in the analysis's templates")
    }

    /// A variant's sample, or an empty one when the gateway has not seen the variant.
    static func sample(_ sample: VariantSample?) -> VariantSample {
        sample ?? VariantSample(requests: 0, errors: 0)
    }

    // MARK: Outcomes

    /// The candidate loses its traffic (one change of the routing table), then the rollout is recorded Degraded.
    /// - Parameter measuredAt: when the failing measurement was taken; the time from it to the new routing
    ///   table is recorded with the rollout (`rollbackMilliseconds`) and in its reason.
    func fail(
        _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: CanaryState, reason: String, action: String, actor: String,
        measuredAt: ContinuousClock.Instant? = nil
    ) async throws -> RolloutRecord {
        var state = state
        var reason = reason
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
        if let measuredAt {
            let elapsed = ContinuousClock.now - measuredAt
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            state.rollbackMilliseconds = milliseconds
            reason += " (traffic back on the stable variant \(fixed(milliseconds, 1)) ms after the measurement)"
        }
        try await removeRoutes(record, stored, &state)
        state.weight = 0
        state.analysis?.terminate()
        state.background?.terminate()
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
        try await removeRoutes(record, stored, &state)
        state.background?.terminate()
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

    /// Removes the header routes and mirrors the rollout's steps set up.
    func removeRoutes(_ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState) async throws {
        for match in (state.headerRoutes ?? [:]).values.flatMap({ $0 }) {
            try await traffic.setHeaderRoute(endpoint: record.endpoint, header: match.headerName, value: match.exact, variant: nil)
        }
        if state.mirrorRoutes != nil {
            try await traffic.setMirror(endpoint: record.endpoint, variant: stored.spec.candidate.variant, percent: 0)
        }
        state.headerRoutes = nil
        state.mirrorRoutes = nil
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
