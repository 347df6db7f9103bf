import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

extension MetadataStoreConformance {
    /// Every rollout case, by name; part of ``all``.
    public static let rolloutCases: [(String, Case)] = [
        ("rolloutsRoundTrip", rolloutsRoundTrip),
        ("rolloutUpdatesAreCompareAndSet", rolloutUpdatesAreCompareAndSet),
        ("oneRunningRolloutPerEndpoint", oneRunningRolloutPerEndpoint),
        ("rolloutHistoryAndAudit", rolloutHistoryAndAudit),
        ("finishedRolloutsCanStartAgain", finishedRolloutsCanStartAgain),
    ]

    static func newRollout(_ name: String, endpoint: String = "fraud", version: Int = 2) -> NewRollout {
        NewRollout(
            name: name, endpoint: endpoint, spec: #"{"endpoint":"\#(endpoint)"}"#, candidateModel: "fraud", candidateVersion: version,
            state: #"{"weight":0}"#)
    }

    static func change(_ action: String, _ phase: RolloutPhase, step: Int, reason: String = "", state: String = "{}") -> RolloutChange {
        RolloutChange(action: action, phase: phase, reason: reason, step: step, state: state)
    }

    /// A started rollout reads back as stored, at step 0, Progressing, revision 1; unknown names are nil.
    public static func rolloutsRoundTrip(_ store: any MetadataStore) async throws {
        let started = try await store.startRollout(newRollout("fraud-v2"), actor: alice)
        #expect(started.name == "fraud-v2")
        #expect(started.endpoint == "fraud")
        #expect(started.phase == .progressing)
        #expect(started.step == 0)
        #expect(started.revision == 1)
        #expect(started.state == #"{"weight":0}"#)
        #expect(started.candidateModel == "fraud" && started.candidateVersion == 2)
        #expect(started.createdBy == alice)
        #expect(try await store.rollout(named: "fraud-v2") == started)
        #expect(try await store.rollout(named: "unknown") == nil)
        #expect(try await store.rollouts(runningOnly: false).map(\.name) == ["fraud-v2"])
        let updated = try await store.updateRollout(
            named: "fraud-v2", expectedRevision: 1, change: change("rollout.step", .progressing, step: 1, state: #"{"x":1}"#), actor: alice)
        #expect(updated.step == 1 && updated.revision == 2 && updated.state == #"{"x":1}"#)
        #expect(try await store.rollout(named: "fraud-v2") == updated)
        await expectError(.invalidArgument, containing: ["rollout name"]) {
            _ = try await store.startRollout(newRollout("bad name'; DROP"), actor: alice)
        }
        await expectError(.notFound, containing: ["nope"]) {
            _ = try await store.updateRollout(named: "nope", expectedRevision: 1, change: change("rollout.step", .progressing, step: 1), actor: alice)
        }
    }

    /// An update at a stale revision is refused and changes nothing; of two concurrent updates one wins.
    public static func rolloutUpdatesAreCompareAndSet(_ store: any MetadataStore) async throws {
        _ = try await store.startRollout(newRollout("r"), actor: alice)
        _ = try await store.updateRollout(named: "r", expectedRevision: 1, change: change("rollout.step", .progressing, step: 1), actor: alice)
        await expectError(.failedPrecondition, containing: ["revision 2", "not 1"]) {
            _ = try await store.updateRollout(named: "r", expectedRevision: 1, change: change("rollout.step", .progressing, step: 5), actor: bob)
        }
        #expect(try await store.rollout(named: "r")?.step == 1)
        let results = await withTaskGroup(of: Bool.self) { group in
            for step in 2...6 {
                group.addTask {
                    (try? await store.updateRollout(
                        named: "r", expectedRevision: 2, change: change("rollout.step", .progressing, step: step), actor: alice)) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(try await store.rollout(named: "r")?.revision == 3)
    }

    /// A second running rollout on an endpoint is refused with the running one's name, on start and on retry.
    public static func oneRunningRolloutPerEndpoint(_ store: any MetadataStore) async throws {
        _ = try await store.startRollout(newRollout("first"), actor: alice)
        await expectError(.failedPrecondition, containing: ["'first'", "fraud"]) {
            _ = try await store.startRollout(newRollout("second"), actor: alice)
        }
        #expect(try await store.rollout(named: "second") == nil)
        await expectError(.alreadyExists, containing: ["first"]) {
            _ = try await store.startRollout(newRollout("first"), actor: alice)
        }
        // Another endpoint is independent.
        _ = try await store.startRollout(newRollout("other", endpoint: "churn"), actor: alice)
        // Once the first is over the second may start; retrying the first then is refused naming the second.
        _ = try await store.updateRollout(
            named: "first", expectedRevision: 1, change: change("rollout.abort", .degraded, step: 0, reason: "aborted"), actor: alice)
        _ = try await store.startRollout(newRollout("second"), actor: alice)
        await expectError(.failedPrecondition, containing: ["'second'"]) {
            _ = try await store.updateRollout(
                named: "first", expectedRevision: 2, change: change("rollout.retry", .progressing, step: 0), actor: alice)
        }
        #expect(try await store.rollouts(runningOnly: true).map(\.name) == ["other", "second"])
        #expect(try await store.rollouts(runningOnly: false).map(\.name) == ["first", "other", "second"])
    }

    /// Every transition is in the history (oldest first) and the audit log; recording measurements only in the audit log.
    public static func rolloutHistoryAndAudit(_ store: any MetadataStore) async throws {
        _ = try await store.startRollout(newRollout("r"), actor: alice)
        _ = try await store.updateRollout(named: "r", expectedRevision: 1, change: change("rollout.step", .progressing, step: 1), actor: "controller")
        _ = try await store.updateRollout(
            named: "r", expectedRevision: 2, change: change(RolloutChange.measureAction, .progressing, step: 1, state: #"{"m":1}"#),
            actor: "controller")
        _ = try await store.updateRollout(
            named: "r", expectedRevision: 3, change: change("rollout.pause", .paused, step: 1, reason: "paused by bob"), actor: bob)
        let history = try await store.rolloutHistory(named: "r")
        #expect(history.map(\.action) == ["rollout.start", "rollout.step", "rollout.pause"])
        #expect(history.map(\.step) == [0, 1, 1])
        #expect(history[0].fromPhase == nil && history[0].fromStep == nil)
        #expect(history[2].fromPhase == .progressing && history[2].toPhase == .paused && history[2].actor == bob)
        #expect(history[2].reason == "paused by bob")
        #expect(try await store.rolloutHistory(named: "unknown").isEmpty)
        let audit = try await store.auditEvents(model: nil, limit: 100, beforeId: nil).filter { $0.action.hasPrefix("rollout.") }
        #expect(audit.map(\.action) == ["rollout.pause", RolloutChange.measureAction, "rollout.step", "rollout.start"])
        #expect(audit.allSatisfy { $0.after != nil })
    }

    /// A finished rollout's name can be used again; its history goes on.
    public static func finishedRolloutsCanStartAgain(_ store: any MetadataStore) async throws {
        _ = try await store.startRollout(newRollout("r"), actor: alice)
        _ = try await store.updateRollout(named: "r", expectedRevision: 1, change: change("rollout.complete", .healthy, step: 3), actor: alice)
        let again = try await store.startRollout(newRollout("r", version: 3), actor: bob)
        #expect(again.phase == .progressing && again.step == 0 && again.revision == 1 && again.candidateVersion == 3)
        #expect(try await store.rolloutHistory(named: "r").map(\.action) == ["rollout.start", "rollout.complete", "rollout.start"])
    }
}
