public import SlipwayCore
import Logging
import SlipwayStore

extension RolloutService {
    /// Skips the current step (a pause, a gate, an analysis); with `full`, sends all traffic to the candidate
    /// at once and completes the rollout. Needs the approver role.
    public func promote(_ name: String, full: Bool = false, by principal: Principal) async throws -> RolloutStatus {
        try principal.require(.approver, for: "promoting a rollout")
        return try await RolloutLock.shared.run {
            var (record, stored, state) = try await load(name)
            guard record.phase.isRunning else { throw notRunning(record) }
            switch stored.spec.strategy {
            case .canary: break
            case .blueGreen(let strategy):
                return try await status(of: try await promoteBlueGreen(strategy, record, stored, &state, full: full, by: principal))
            case .experiment(let strategy):
                return try await status(of: try await promoteExperiment(strategy, record, stored, &state, full: full, by: principal))
            case .shadow(let strategy):
                return try await status(of: try await promoteShadow(strategy, record, stored, &state, full: full, by: principal))
            case .rolling(let strategy):
                return try await status(of: try await promoteRolling(strategy, record, stored, &state, full: full, by: principal))
            }
            let steps = Self.steps(stored)
            if full {
                record = try await complete(
                    record, stored, &state, actor: principal.name, action: "rollout.promote", reason: "promoted fully by \(principal.name)")
            } else {
                let skipped = record.step < steps.count ? Self.describe(steps[record.step]) : "the end"
                state.analysis?.terminate()
                state.leaveStep()
                state.pausedByUser = false
                record = try await save(
                    record, state, action: "rollout.promote", phase: .progressing, reason: "\(skipped) skipped by \(principal.name)",
                    step: record.step + 1,
                    actor: principal.name)
            }
            return try await status(of: record)
        }
    }

    /// Stops a running rollout: the candidate's weight goes to 0 at once and the rollout is Degraded.
    public func abort(_ name: String, reason: String? = nil, by principal: Principal) async throws -> RolloutStatus {
        try principal.require(.editor, for: "aborting a rollout")
        return try await RolloutLock.shared.run {
            let (record, stored, state) = try await load(name)
            guard record.phase.isRunning else { throw notRunning(record) }
            let why = "aborted by \(principal.name)" + (reason.map { ": \($0)" } ?? "")
            return try await status(of: try await fail(record, stored, state, reason: why, action: "rollout.abort", actor: principal.name))
        }
    }

    /// Pauses a progressing rollout where it is until someone resumes it.
    public func pause(_ name: String, by principal: Principal) async throws -> RolloutStatus {
        try principal.require(.editor, for: "pausing a rollout")
        return try await RolloutLock.shared.run {
            var (record, _, state) = try await load(name)
            guard record.phase == .progressing else {
                throw GenericError(
                    .failedPrecondition, "rollout '\(name)' is \(record.phase.rawValue), not Progressing; only a progressing rollout can be paused")
            }
            state.pausedByUser = true
            record = try await save(
                record, state, action: "rollout.pause", phase: .paused, reason: "paused by \(principal.name)", step: record.step,
                actor: principal.name)
            return try await status(of: record)
        }
    }

    /// Resumes a paused rollout. A pause that a person made goes on at the same step; a gate (a pause step
    /// without duration, an inconclusive analysis) moves to the next step and needs the approver role.
    public func resume(_ name: String, by principal: Principal) async throws -> RolloutStatus {
        try principal.require(.editor, for: "resuming a rollout")
        let record = try await require(name)
        let state = try Self.decode(CanaryState.self, record.state)
        if record.phase == .paused, !state.pausedByUser { return try await promote(name, by: principal) }
        return try await RolloutLock.shared.run {
            var (record, _, state) = try await load(name)
            guard record.phase == .paused else {
                throw GenericError(.failedPrecondition, "rollout '\(name)' is \(record.phase.rawValue), not Paused; there is nothing to resume")
            }
            state.pausedByUser = false
            record = try await save(
                record, state, action: "rollout.resume", phase: .progressing, reason: "resumed by \(principal.name)", step: record.step,
                actor: principal.name)
            return try await status(of: record)
        }
    }

    /// Starts a Degraded rollout again from step 0 (the candidate stays deployed, at weight 0).
    public func retry(_ name: String, by principal: Principal) async throws -> RolloutStatus {
        try principal.require(.editor, for: "retrying a rollout")
        return try await RolloutLock.shared.run {
            var (record, _, state) = try await load(name)
            guard record.phase == .degraded else {
                throw GenericError(.failedPrecondition, "rollout '\(name)' is \(record.phase.rawValue); only a Degraded rollout can be retried")
            }
            var fresh = CanaryState(stableVariant: state.stableVariant)
            fresh.deployed = state.deployed
            fresh.weight = state.weight
            state = fresh
            record = try await save(
                record, state, action: "rollout.retry", phase: .progressing, reason: "retried by \(principal.name)", step: 0, actor: principal.name)
            return try await status(of: record)
        }
    }

    /// Undoes a completed rollout: all traffic back to the variant that was stable before it (which must
    /// still be deployed) and the model's `production` alias back to the version it named before. The rollout
    /// is then Degraded. Needs the approver role, as any change of production does.
    public func undo(_ name: String, reason: String? = nil, by principal: Principal) async throws -> RolloutStatus {
        try principal.require(.approver, for: "undoing a rollout")
        return try await RolloutLock.shared.run {
            var (record, stored, state) = try await load(name)
            guard record.phase == .healthy else {
                throw GenericError(
                    .failedPrecondition,
                    "rollout '\(name)' is \(record.phase.rawValue); only a completed (Healthy) rollout can be undone"
                        + (record.phase.isRunning ? " — use `slipway rollout abort` to stop a running one" : ""))
            }
            let candidate = stored.spec.candidate.variant
            let previous = state.stableVariant
            let endpoint = try await traffic.endpointState(record.endpoint)
            guard endpoint.stableVariant == candidate else {
                throw GenericError(
                    .failedPrecondition,
                    "endpoint '\(record.endpoint)' has moved on since rollout '\(name)': its stable variant is now '\(endpoint.stableVariant)', not '\(candidate)'"
                )
            }
            do {
                try await traffic.switchTo(endpoint: record.endpoint, variant: previous)
            } catch {
                throw GenericError(
                    .failedPrecondition,
                    "cannot send traffic back to variant '\(previous)' of '\(record.endpoint)' (\(error)); deploy it again with `slipway deploy` and switch with `slipway traffic switch`"
                )
            }
            var restored = "traffic back on variant '\(previous)'"
            if let version = state.previousProduction, version != record.candidateVersion {
                try await traffic.promoteAlias(
                    model: record.candidateModel, version: version, reason: "rollout \(name) undone by \(principal.name)")
                restored += ", production alias back on version \(version)"
            }
            state.weight = 0
            let why = "undone by \(principal.name)" + (reason.map { ": \($0)" } ?? "") + "; " + restored
            logger.warning("rollout undone", metadata: ["slipway.rollout": "\(name)", "slipway.reason": "\(why)"])
            record = try await save(record, state, action: "rollout.undo", phase: .degraded, reason: why, step: record.step, actor: principal.name)
            return try await status(of: record)
        }
    }

    func notRunning(_ record: RolloutRecord) -> GenericError {
        GenericError(
            .failedPrecondition,
            "rollout '\(record.name)' is \(record.phase.rawValue) and no longer running" + (record.reason.isEmpty ? "" : " (\(record.reason))"))
    }
}
