import Foundation
import SlipwayCore
import SlipwayStore

/// What the controller keeps about a rolling rollout between moves (stored in CanaryState).
public struct RollingState: Sendable, Codable, Equatable {
    public init() {}
}

extension RolloutService {
    /// Refuses a rolling spec the controller cannot run.
    static func checkRolling(_ strategy: RollingStrategy, templates: [AnalysisTemplate]) throws {
        throw GenericError(.invalidArgument, "the rolling strategy is not yet supported by the controller; use a canary strategy")
    }

    /// One move of a rolling rollout; `true` when it moved on and may move again at once.
    func advanceRolling(_ strategy: RollingStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState) async throws -> Bool {
        _ = try await fail(
            record, stored, state, reason: "the rolling strategy is not yet supported by the controller", action: "rollout.abort",
            actor: Self.controllerActor)
        return false
    }

    /// Takes the candidate out of traffic when a rolling rollout fails or is aborted.
    func rollBackRolling(_ strategy: RollingStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState) async throws {
        if state.deployed {
            try await traffic.setCandidateWeight(
                endpoint: record.endpoint, stable: state.stableVariant, candidate: stored.spec.candidate.variant, weight: 0)
        }
    }

    /// `rollout promote` of a rolling rollout: passes its current gate; with `full`, completes it at once.
    func promoteRolling(
        _ strategy: RollingStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, full: Bool, by principal: Principal
    ) async throws -> RolloutRecord {
        try await complete(record, stored, &state, actor: principal.name, action: "rollout.promote", reason: "promoted fully by \(principal.name)")
    }
}
