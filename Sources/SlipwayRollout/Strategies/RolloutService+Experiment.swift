import Foundation
import SlipwayCore
import SlipwayStore

/// What the controller keeps about a experiment rollout between moves (stored in CanaryState).
public struct ExperimentState: Sendable, Codable, Equatable {
    public init() {}
}

extension RolloutService {
    /// Refuses a experiment spec the controller cannot run.
    static func checkExperiment(_ strategy: ExperimentStrategy, templates: [AnalysisTemplate]) throws {
        throw GenericError(.invalidArgument, "the experiment strategy is not yet supported by the controller; use a canary strategy")
    }

    /// One move of a experiment rollout; `true` when it moved on and may move again at once.
    func advanceExperiment(_ strategy: ExperimentStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState) async throws -> Bool {
        _ = try await fail(
            record, stored, state, reason: "the experiment strategy is not yet supported by the controller", action: "rollout.abort",
            actor: Self.controllerActor)
        return false
    }

    /// Takes the candidate out of traffic when a experiment rollout fails or is aborted.
    func rollBackExperiment(_ strategy: ExperimentStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState) async throws {
        if state.deployed {
            try await traffic.setCandidateWeight(
                endpoint: record.endpoint, stable: state.stableVariant, candidate: stored.spec.candidate.variant, weight: 0)
        }
    }

    /// `rollout promote` of a experiment rollout: passes its current gate; with `full`, completes it at once.
    func promoteExperiment(
        _ strategy: ExperimentStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, full: Bool, by principal: Principal
    ) async throws -> RolloutRecord {
        try await complete(record, stored, &state, actor: principal.name, action: "rollout.promote", reason: "promoted fully by \(principal.name)")
    }
}
