import Foundation
import Logging
import SlipwayCore
import SlipwayRollout
import SlipwayStore
import Synchronization
import Testing

/// The controller's decisions without a server: an in-memory store, a recording traffic double and a
/// clock the test moves. A "restart" is a new service on the same store.
@Suite struct RolloutServiceTests {
    static let admin = Principal(name: "ana", role: .admin)

    static let yaml = """
        name: fraud-v2
        endpoint: fraud
        candidate: {model: fraud, version: 2}
        strategy:
          canary:
            steps:
              - setWeight: 20
              - pause: {duration: 10s}
              - analysis: {templates: [{templateName: errors}]}
              - setWeight: 50
        ---
        kind: AnalysisTemplate
        metadata: {name: errors}
        spec:
          metrics:
            - name: error-rate
              interval: 5s
              count: 3
              failureCondition: result > 0.1
              provider: {builtin: {metric: error-rate, minSamples: 10}}
        """

    func service(_ store: MemoryRolloutStore, _ traffic: RecordingTraffic, _ clock: TestClock) -> RolloutService {
        RolloutService(store: store, traffic: traffic, logger: Logger(label: "test"), now: { clock.now })
    }

    @Test func pausesKeepTheirDeadlineAcrossARestartAndAFailedAnalysisRollsBack() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        var controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml, by: Self.admin)
        try await controller.advance("fraud-v2")
        #expect(traffic.calls == ["deploy canary fraud@2", "weight canary 20"])
        var status = try await controller.status("fraud-v2", by: Self.admin)
        #expect(status.step == 1 && status.pauseUntil == clock.now.addingTimeInterval(10))

        // A restart in the middle of the pause: nothing is applied again, the deadline stays.
        clock.advance(4)
        controller = service(store, traffic, clock)
        try await controller.advance("fraud-v2")
        #expect(traffic.calls.count == 2)
        status = try await controller.status("fraud-v2", by: Self.admin)
        #expect(status.step == 1 && status.pauseUntil == clock.now.addingTimeInterval(6))

        // The pause ends; the analysis measures at once, then every 5 s.
        clock.advance(6)
        traffic.set(stable: VariantSample(requests: 400, errors: 2), canary: VariantSample(requests: 100, errors: 1))
        try await controller.advance("fraud-v2")
        status = try await controller.status("fraud-v2", by: Self.admin)
        #expect(status.step == 2 && status.analysis?.metrics.first?.latest.count == 1)

        // Restarted again: the analysis keeps its measurement and its schedule.
        clock.advance(2)
        controller = service(store, traffic, clock)
        try await controller.advance("fraud-v2")
        #expect(try await controller.status("fraud-v2", by: Self.admin).analysis?.metrics.first?.latest.count == 1)

        // The next measurement fails: the candidate's weight goes to 0, the rollout is Degraded.
        clock.advance(3)
        traffic.set(stable: VariantSample(requests: 400, errors: 2), canary: VariantSample(requests: 100, errors: 30))
        try await controller.advance("fraud-v2")
        status = try await controller.status("fraud-v2", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.contains("analysis failed"))
        #expect(traffic.calls.last == "weight canary 0")
        #expect(!traffic.calls.contains { $0.hasPrefix("alias") })
        let steps = try await store.rolloutHistory(named: "fraud-v2").filter { $0.action == "rollout.step" }.map(\.step)
        #expect(steps == [1, 2])
    }

    @Test func gatesNeedAnApproverAndPromotionMovesTheAlias() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        let controller = service(store, traffic, clock)
        let gated = Self.yaml.replacingOccurrences(of: "pause: {duration: 10s}", with: "pause: {}")
        _ = try await controller.start(yaml: gated, by: Self.admin)
        try await controller.advance("fraud-v2")
        #expect(try await controller.status("fraud-v2", by: Self.admin).phase == .paused)
        await #expect(throws: GenericError.self) {
            _ = try await controller.promote("fraud-v2", by: Principal(name: "ed", role: .editor))
        }
        _ = try await controller.promote("fraud-v2", full: true, by: Principal(name: "pat", role: .approver))
        let status = try await controller.status("fraud-v2", by: Self.admin)
        #expect(status.phase == .healthy && status.candidateWeight == 100)
        #expect(traffic.calls.suffix(2) == ["switch canary", "alias fraud production 2 promoted by rollout fraud-v2"])
        // A second start of a finished rollout's name is allowed; of a running one on the endpoint, refused.
        _ = try await controller.start(
            yaml: gated.replacingOccurrences(of: "fraud-v2", with: "fraud-v3").replacingOccurrences(
                of: "version: 2", with: "version: 2, variant: next"), by: Self.admin)
        await #expect(throws: (any Error).self) {
            _ = try await controller.start(
                yaml: gated.replacingOccurrences(of: "fraud-v2", with: "fraud-v4").replacingOccurrences(
                    of: "version: 2", with: "version: 2, variant: other"), by: Self.admin)
        }
    }

}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let value = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Records what the controller did to traffic, and serves the samples the test sets.
final class RecordingTraffic: RolloutTraffic {
    private let state = Mutex<(calls: [String], samples: [String: VariantSample], stable: String)>(([], [:], "stable"))
    var calls: [String] { state.withLock { $0.calls } }

    // Replica worlds are kept by object identity; a later double at the same address must not see them.
    deinit { replicaWorlds.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(self)) } }

    func set(stable: VariantSample, canary: VariantSample) { state.withLock { $0.samples = ["stable": stable, "canary": canary] } }
    private func record(_ call: String) { state.withLock { $0.calls.append(call) } }

    func endpointState(_ endpoint: String) async throws -> (stableVariant: String, weights: [String: Double]) {
        guard endpoint == "fraud" else { throw GenericError(.notFound, "no endpoint \(endpoint)") }
        return (state.withLock { $0.stable }, [:])
    }
    func resolveVersion(model: String, reference: ModelReference) async throws -> Int {
        if case .version(let v) = reference { return v }
        return 1
    }
    func deploy(endpoint: String, variant: String, model: String, version: Int, backend: BackendSpec, replicas: Int) async throws {
        record("deploy \(variant) \(model)@\(version)")
    }
    func isReady(endpoint: String, variant: String) async -> Bool { true }
    func setCandidateWeight(endpoint: String, stable: String, candidate: String, weight: Double) async throws {
        record("weight \(candidate) \(Int(weight))")
    }
    func switchTo(endpoint: String, variant: String) async throws {
        record("switch \(variant)")
        state.withLock { $0.stable = variant }
    }
    func promoteAlias(model: String, version: Int, reason: String) async throws { record("alias \(model) production \(version) \(reason)") }
    func samples(endpoint: String, seconds: Int) -> [String: VariantSample] { state.withLock { $0.samples } }
    func setMirror(endpoint: String, variant: String, percent: Double) async throws { record("mirror \(variant) \(Int(percent))") }
    func setHeaderRoute(endpoint: String, header: String, value: String, variant: String?) async throws {
        record("route \(header)=\(value) \(variant ?? "-")")
    }
    func removeVariant(endpoint: String, variant: String) async throws { record("remove \(variant)") }
    func gatewayURL() -> String? { "http://127.0.0.1:8081" }
    func latencySamples(endpoint: String, seconds: Int) -> [String: [Double]] {
        state.withLock { $0.samples.mapValues(\.latencyMs) }
    }

    // MARK: Experiments and shadows

    private let logged = Mutex<(counts: ExperimentCounts, mirrors: [String: MirrorSample], since: [Date])>((ExperimentCounts(), [:], []))
    /// The prediction log's counts the next looks read.
    func set(counts: ExperimentCounts) { logged.withLock { $0.counts = counts } }
    /// The mirrored answers the next looks read.
    func set(mirrors: [String: MirrorSample]) { logged.withLock { $0.mirrors = mirrors } }
    /// The `since` of every read of the log.
    var countReads: [Date] { logged.withLock { $0.since } }
    func experimentCounts(endpoint: String, since: Date, segmentBy: String?) async throws -> ExperimentCounts {
        logged.withLock {
            $0.since.append(since)
            return $0.counts
        }
    }
    func mirrorSamples(endpoint: String, seconds: Int) -> [String: MirrorSample] { logged.withLock { $0.mirrors } }
}

/// The rollout store's rules, in memory (the SQLite store passes the same in the conformance suite).
actor MemoryRolloutStore: RolloutStore {
    private var records: [String: RolloutRecord] = [:]
    private var history: [RolloutTransition] = []

    func startRollout(_ new: NewRollout, actor: String) async throws -> RolloutRecord {
        if let existing = records[new.name], existing.phase.isRunning { throw GenericError(.alreadyExists, "rollout '\(new.name)' is running") }
        if let running = records.values.first(where: { $0.endpoint == new.endpoint && $0.phase.isRunning }) {
            throw GenericError(.failedPrecondition, "endpoint '\(new.endpoint)' already has a running rollout, '\(running.name)'")
        }
        let now = Date()
        let record = RolloutRecord(
            name: new.name, endpoint: new.endpoint, spec: new.spec, phase: .progressing, reason: new.reason, step: 0, state: new.state,
            candidateModel: new.candidateModel, candidateVersion: new.candidateVersion, createdAt: now, updatedAt: now, createdBy: actor, revision: 1)
        records[new.name] = record
        append(record, from: nil, action: "rollout.start", actor: actor)
        return record
    }

    func rollout(named name: String) async throws -> RolloutRecord? { records[name] }

    func rollouts(runningOnly: Bool) async throws -> [RolloutRecord] {
        records.values.filter { !runningOnly || $0.phase.isRunning }.sorted { $0.name < $1.name }
    }

    func updateRollout(named name: String, expectedRevision: Int, change: RolloutChange, actor: String) async throws -> RolloutRecord {
        guard let before = records[name] else { throw GenericError(.notFound, "no rollout \(name)") }
        guard before.revision == expectedRevision else { throw GenericError(.failedPrecondition, "revision") }
        var after = before
        after.phase = change.phase
        after.reason = change.reason
        after.step = change.step
        after.state = change.state
        after.revision += 1
        records[name] = after
        if change.action != RolloutChange.measureAction { append(after, from: before, action: change.action, actor: actor) }
        return after
    }

    func rolloutHistory(named name: String) async throws -> [RolloutTransition] { history.filter { $0.rollout == name } }

    private func append(_ record: RolloutRecord, from: RolloutRecord?, action: String, actor: String) {
        history.append(
            RolloutTransition(
                id: Int64(history.count + 1), rollout: record.name, at: Date(), actor: actor, action: action, fromPhase: from?.phase,
                toPhase: record.phase, fromStep: from?.step, step: record.step, reason: record.reason))
    }
}

// MARK: Rolling updates

/// The replicas a test lets the supervisor report, per traffic double and variant.
private let replicaWorlds = Mutex<[ObjectIdentifier: [String: VariantReplicas]]>([:])

extension RecordingTraffic {
    /// What the supervisor reports for a variant from now on (settled: it applied the last change).
    func setReplicas(_ variant: String, desired: Int, ready: Int, processes: Int? = nil, model: String = "fraud", version: Int = 1) {
        replicaWorlds.withLock {
            $0[ObjectIdentifier(self), default: [:]][variant] = VariantReplicas(
                model: model, version: version, backend: .builtin, desired: desired, ready: ready, processes: processes ?? desired)
        }
    }

    /// The variant's replicas as set by the test; a variant deployed but not yet set is reported unsettled,
    /// one removed since it was last deployed has none.
    func replicas(endpoint: String, variant: String) async throws -> VariantReplicas? {
        let calls = self.calls
        let deployed = calls.lastIndex { $0.hasPrefix("deploy \(variant) ") }
        let removed = calls.lastIndex { $0 == "remove \(variant)" }
        if let removed, deployed.map({ $0 < removed }) ?? true { return nil }
        if let known = replicaWorlds.withLock({ $0[ObjectIdentifier(self)]?[variant] }) { return known }
        guard deployed != nil else { return nil }
        return VariantReplicas(model: "fraud", version: 2, backend: .builtin, desired: 0, ready: 0, processes: 0, settled: false)
    }

    /// Records the call; the supervisor has not applied it until the test sets the variant's replicas again.
    func scale(endpoint: String, variant: String, replicas: Int) async throws {
        record("scale \(variant) \(replicas)")
        replicaWorlds.withLock { $0[ObjectIdentifier(self)]?[variant]?.settled = false }
    }
}
