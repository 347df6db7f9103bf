import Foundation
import SlipwayCore
import SlipwayRollout
import SlipwayStore
import Testing

/// Rolling updates without a server: the plan's arithmetic, then the controller's moves against an in-memory
/// store, a recording traffic double whose replica counts the test sets (as the supervisor would report
/// them), and a clock the test moves.
@Suite struct RollingServiceTests {
    static let admin = RolloutServiceTests.admin

    static func yaml(surge: String = "1", unavailable: String = "0", deadline: Int = 60) -> String {
        """
        name: fraud-roll
        endpoint: fraud
        candidate: {model: fraud, version: 2}
        strategy:
          rolling: {maxSurge: \(surge), maxUnavailable: \(unavailable), progressDeadlineSeconds: \(deadline)}
        """
    }

    // MARK: Plan

    static func plan(_ surge: ReplicaCount, _ unavailable: ReplicaCount, _ desired: Int) -> RollingPlan {
        RollingPlan(strategy: RollingStrategy(maxSurge: surge, maxUnavailable: unavailable), desired: desired)
    }

    @Test func limitsResolveLikeKubernetes() {
        // Surge rounds up, unavailability rounds down.
        var p = Self.plan(.percent(25), .percent(25), 3)
        #expect((p.maxSurge, p.maxUnavailable, p.maxTotal, p.minReady) == (1, 0, 4, 3))
        p = Self.plan(.percent(25), .percent(25), 10)
        #expect((p.maxSurge, p.maxUnavailable) == (3, 2))
        p = Self.plan(.count(1), .count(0), 3)
        #expect((p.maxTotal, p.minReady) == (4, 3))
        p = Self.plan(.count(0), .count(1), 3)
        #expect((p.maxTotal, p.minReady) == (3, 2))
        // Both resolve to 0 (25% of 3 rounds down): one replica may be unavailable, so the update can move.
        p = Self.plan(.percent(0), .percent(25), 3)
        #expect((p.maxSurge, p.maxUnavailable) == (0, 1))
        // More unavailability than replicas is capped at the replicas.
        p = Self.plan(.count(0), .count(7), 2)
        #expect((p.maxUnavailable, p.minReady) == (2, 0))
        p = Self.plan(.percent(100), .count(0), 4)
        #expect(p.maxTotal == 8)
    }

    @Test func movesOfSurgeOneAndNoneUnavailable() {
        let p = Self.plan(.count(1), .count(0), 3)
        typealias S = RollingPlan.Side
        #expect(p.next(stable: S(desired: 3, ready: 3), candidate: S(desired: 0, ready: 0)) == .scaleCandidate(to: 1))
        // The new replica is not ready yet: nothing may move.
        #expect(p.next(stable: S(desired: 3, ready: 3), candidate: S(desired: 1, ready: 0)) == .wait)
        #expect(p.next(stable: S(desired: 3, ready: 3), candidate: S(desired: 1, ready: 1)) == .scaleStable(to: 2))
        // A replica still draining counts against the surge.
        #expect(p.next(stable: S(desired: 2, ready: 2, processes: 3), candidate: S(desired: 1, ready: 1)) == .wait)
        #expect(p.next(stable: S(desired: 2, ready: 2), candidate: S(desired: 1, ready: 1)) == .scaleCandidate(to: 2))
        #expect(p.next(stable: S(desired: 1, ready: 1), candidate: S(desired: 3, ready: 3)) == .scaleStable(to: 0))
        #expect(p.next(stable: S(desired: 0, ready: 0), candidate: S(desired: 3, ready: 2)) == .wait)
        #expect(p.next(stable: S(desired: 0, ready: 0), candidate: S(desired: 3, ready: 3)) == .complete)
        // A stable replica that is not ready goes first: it takes nothing away.
        #expect(p.next(stable: S(desired: 3, ready: 2), candidate: S(desired: 1, ready: 1)) == .scaleStable(to: 2))
        // But not while the candidate's replica is starting too: 3 ready are only reachable with that one.
        #expect(p.next(stable: S(desired: 3, ready: 2), candidate: S(desired: 1, ready: 0)) == .wait)
        // After a restart every replica starts again: nothing is removed, the update waits for them.
        #expect(p.next(stable: S(desired: 2, ready: 0), candidate: S(desired: 2, ready: 0)) == .wait)
        #expect(p.next(stable: S(desired: 2, ready: 1), candidate: S(desired: 2, ready: 2)) == .scaleStable(to: 1))
    }

    @Test func movesOfNoSurgeAndOneUnavailable() {
        let p = Self.plan(.count(0), .count(1), 3)
        typealias S = RollingPlan.Side
        #expect(p.next(stable: S(desired: 3, ready: 3), candidate: S(desired: 0, ready: 0)) == .scaleStable(to: 2))
        #expect(p.next(stable: S(desired: 2, ready: 2, processes: 3), candidate: S(desired: 0, ready: 0)) == .wait)
        #expect(p.next(stable: S(desired: 2, ready: 2), candidate: S(desired: 0, ready: 0)) == .scaleCandidate(to: 1))
        #expect(p.next(stable: S(desired: 2, ready: 2), candidate: S(desired: 1, ready: 0)) == .wait)
        #expect(p.next(stable: S(desired: 2, ready: 2), candidate: S(desired: 1, ready: 1)) == .scaleStable(to: 1))
    }

    /// Runs a whole update where new replicas become ready, and removed ones finish stopping, one round after
    /// each move; checks both limits after every move.
    static func simulate(_ p: RollingPlan) -> (moves: [RollingPlan.Move], completed: Bool, problems: [String]) {
        var stable = RollingPlan.Side(desired: p.desired, ready: p.desired)
        var candidate = RollingPlan.Side(desired: 0, ready: 0)
        var moves: [RollingPlan.Move] = []
        var problems: [String] = []
        for _ in 0..<200 {
            let move = p.next(stable: stable, candidate: candidate)
            switch move {
            case .complete:
                return (moves, true, problems)
            case .wait:
                candidate = RollingPlan.Side(desired: candidate.desired, ready: candidate.desired)
                stable = RollingPlan.Side(desired: stable.desired, ready: stable.ready)
                continue
            case .scaleCandidate(let n):
                candidate = RollingPlan.Side(desired: n, ready: candidate.ready, processes: max(candidate.processes, n))
            case .scaleStable(let n):
                if n == 0 && candidate.desired == 0 {
                    // The controller deploys the whole candidate when nothing may surge and everything may be unavailable.
                    candidate = RollingPlan.Side(desired: p.desired, ready: 0)
                    if p.maxSurge > 0 || p.minReady > 0 { problems.append("removed the stable variant before the candidate existed") }
                }
                stable = RollingPlan.Side(desired: n, ready: min(stable.ready, n), processes: stable.processes)
            }
            moves.append(move)
            let total = stable.processes + candidate.processes
            if total > p.maxTotal && !(p.maxSurge == 0 && p.minReady == 0) { problems.append("\(total) replicas after \(move)") }
            if stable.ready + candidate.ready < p.minReady { problems.append("\(stable.ready + candidate.ready) ready after \(move)") }
        }
        return (moves, false, problems)
    }

    @Test(arguments: [1, 2, 3, 4, 7])
    func everyCombinationCompletesWithinItsLimits(desired: Int) {
        let counts: [ReplicaCount] = [.count(0), .count(1), .count(2), .count(5), .percent(0), .percent(25), .percent(50), .percent(100)]
        for surge in counts {
            for unavailable in counts where !(surge.isZero && unavailable.isZero) {
                let p = Self.plan(surge, unavailable, desired)
                let run = Self.simulate(p)
                #expect(run.completed, "surge \(surge), unavailable \(unavailable) of \(desired) did not complete")
                #expect(run.problems.isEmpty, "surge \(surge), unavailable \(unavailable) of \(desired): \(run.problems)")
                // The candidate ends at the desired count and the stable variant at 0.
                #expect(run.moves.contains(.scaleStable(to: 0)))
            }
        }
    }

    @Test func surgeOfOneReplacesThreeReplicasInSixMoves() {
        let run = Self.simulate(Self.plan(.count(1), .count(0), 3))
        #expect(
            run.moves == [
                .scaleCandidate(to: 1), .scaleStable(to: 2), .scaleCandidate(to: 2), .scaleStable(to: 1), .scaleCandidate(to: 3), .scaleStable(to: 0),
            ])
    }

    // MARK: Controller

    func service(_ store: MemoryRolloutStore, _ traffic: RecordingTraffic, _ clock: TestClock) -> RolloutService {
        RolloutServiceTests().service(store, traffic, clock)
    }

    @Test func replacesEveryReplicaMoveByMoveAcrossRestarts() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        traffic.setReplicas("stable", desired: 3, ready: 3)
        var controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml(), by: Self.admin)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls == ["deploy canary fraud@2"])
        var status = try await controller.status("fraud-roll", by: Self.admin)
        let rolling = try #require(status.rolling)
        #expect((rolling.desired, rolling.maxSurge, rolling.maxUnavailable, rolling.stableModel, rolling.stableVersion) == (3, 1, 0, "fraud", 1))
        #expect((rolling.candidateReplicas, rolling.stableReplicas, rolling.moves) == (1, 3, 1))

        // Not ready yet: nothing moves, not even after a restart.
        traffic.setReplicas("canary", desired: 1, ready: 0, version: 2)
        controller = service(store, traffic, clock)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls.count == 1)

        // Ready: a quarter of the traffic (1 of 4 ready replicas), then a stable replica goes.
        traffic.setReplicas("canary", desired: 1, ready: 1, version: 2)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls.suffix(2) == ["weight canary 25", "scale stable 2"])
        // The supervisor has not applied the change yet: no further move.
        try await controller.advance("fraud-roll")
        #expect(traffic.calls.count == 3)

        traffic.setReplicas("stable", desired: 2, ready: 2)
        controller = service(store, traffic, clock)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls.suffix(2) == ["weight canary 33", "scale canary 2"])
        traffic.setReplicas("canary", desired: 2, ready: 2, version: 2)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls.suffix(2) == ["weight canary 50", "scale stable 1"])
        traffic.setReplicas("stable", desired: 1, ready: 1)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls.suffix(2) == ["weight canary 66", "scale canary 3"])
        status = try await controller.status("fraud-roll", by: Self.admin)
        #expect(status.candidateWeight == 66.67)
        #expect(status.rolling.map { ($0.stableReplicas, $0.stableReady, $0.candidateReplicas, $0.candidateReady) } ?? (0, 0, 0, 0) == (1, 1, 3, 2))

        // The last stable replica goes once all three are ready; the candidate takes all traffic and the alias.
        traffic.setReplicas("canary", desired: 3, ready: 3, version: 2)
        try await controller.advance("fraud-roll")
        #expect(
            Array(traffic.calls.suffix(5)) == [
                "weight canary 75", "switch canary", "remove stable", "switch canary", "alias fraud production 2 promoted by rollout fraud-roll",
            ])
        status = try await controller.status("fraud-roll", by: Self.admin)
        #expect(status.phase == .healthy && status.candidateWeight == 100)
        #expect(status.rolling?.moves == 6 && status.rolling?.stableReplicas == 0)
        let history = try await store.rolloutHistory(named: "fraud-roll").map(\.action)
        #expect(history.filter { $0 == "rollout.scale" }.count == 6)
        #expect(history.first == "rollout.start" && history.last == "rollout.complete")
    }

    @Test func aCandidateThatNeverBecomesReadyRollsBackAtTheDeadline() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        traffic.setReplicas("stable", desired: 2, ready: 2)
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml(deadline: 30), by: Self.admin)
        try await controller.advance("fraud-roll")
        traffic.setReplicas("canary", desired: 1, ready: 0, version: 2)
        clock.advance(29)
        try await controller.advance("fraud-roll")
        #expect(try await controller.status("fraud-roll", by: Self.admin).phase == .progressing)
        clock.advance(2)
        try await controller.advance("fraud-roll")
        let status = try await controller.status("fraud-roll", by: Self.admin)
        #expect(status.phase == .degraded)
        #expect(status.reason.contains("1 candidate replica(s) did not become ready within 30 s (progressDeadlineSeconds)"), "\(status.reason)")
        #expect(Array(traffic.calls.suffix(3)) == ["scale stable 2", "weight canary 0", "remove canary"])
        #expect(status.rolling?.stableReplicas == 2 && status.rolling?.candidateReplicas == 0)
        #expect(!traffic.calls.contains { $0.hasPrefix("alias") || $0.hasPrefix("switch") })

        // A retry plans the update again from the restored stable variant.
        traffic.setReplicas("stable", desired: 2, ready: 2)
        _ = try await controller.retry("fraud-roll", by: Self.admin)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls.last == "deploy canary fraud@2")
    }

    @Test func timePausedByAPersonDoesNotCountTowardsTheDeadline() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        traffic.setReplicas("stable", desired: 2, ready: 2)
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml(deadline: 30), by: Self.admin)
        try await controller.advance("fraud-roll")
        traffic.setReplicas("canary", desired: 1, ready: 0, version: 2)
        _ = try await controller.pause("fraud-roll", by: Self.admin)
        clock.advance(300)
        try await controller.advance("fraud-roll")
        _ = try await controller.resume("fraud-roll", by: Self.admin)
        try await controller.advance("fraud-roll")
        var status = try await controller.status("fraud-roll", by: Self.admin)
        #expect(status.phase == .progressing && status.reason.contains("starts over"), "\(status.reason)")
        clock.advance(20)
        try await controller.advance("fraud-roll")
        #expect(try await controller.status("fraud-roll", by: Self.admin).phase == .progressing)
        // Once resumed, the deadline counts again.
        clock.advance(11)
        try await controller.advance("fraud-roll")
        status = try await controller.status("fraud-roll", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.contains("did not become ready within 30 s"), "\(status.reason)")
    }

    @Test func anAbortAfterTheStableVariantWasRemovedDeploysItAgain() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        traffic.setReplicas("stable", desired: 2, ready: 2)
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml(surge: "0", unavailable: "1"), by: Self.admin)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls == ["scale stable 1"])
        traffic.setReplicas("stable", desired: 1, ready: 1)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls.last == "deploy canary fraud@2")
        traffic.setReplicas("canary", desired: 1, ready: 1, version: 2)
        try await controller.advance("fraud-roll")
        // The last stable replica goes while one candidate replica is ready (one may be unavailable); the second one starts.
        #expect(Array(traffic.calls.suffix(4)) == ["weight canary 50", "switch canary", "remove stable", "scale canary 2"])

        _ = try await controller.abort("fraud-roll", reason: "wrong model", by: Self.admin)
        #expect(Array(traffic.calls.suffix(3)) == ["deploy stable fraud@1", "switch stable", "remove canary"])
        let status = try await controller.status("fraud-roll", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.contains("wrong model"))
    }

    @Test func anEndpointWithoutSupervisedReplicasIsRefusedAtStart() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let controller = service(store, traffic, TestClock())
        do {
            _ = try await controller.start(yaml: Self.yaml(), by: Self.admin)
            Issue.record("a rolling update of an unsupervised variant started")
        } catch let error as GenericError {
            #expect(error.message.contains("stable variant 'stable' of endpoint 'fraud' has no deployment with a builtin or command backend"))
        }
        #expect(traffic.calls.isEmpty)
        #expect(try await store.rollouts(runningOnly: false).isEmpty)

        // A URL candidate is refused the same way.
        traffic.setReplicas("stable", desired: 2, ready: 2)
        let url = Self.yaml().replacingOccurrences(of: "name: fraud-roll", with: "name: fraud-url").replacingOccurrences(
            of: "version: 2}", with: "version: 2, backend: {url: \"http://127.0.0.1:9/\"}}")
        do {
            _ = try await controller.start(yaml: url, by: Self.admin)
            Issue.record("a rolling update to a URL backend started")
        } catch let error as GenericError {
            #expect(error.message.contains("not a URL"), "\(error.message)")
        }
        #expect(try await store.rollouts(runningOnly: false).isEmpty)
    }

    @Test func promoteFullStartsEveryCandidateReplicaAtOnce() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let controller = service(store, traffic, TestClock())
        traffic.setReplicas("stable", desired: 3, ready: 3)
        _ = try await controller.start(yaml: Self.yaml(), by: Self.admin)
        try await controller.advance("fraud-roll")
        await #expect(throws: GenericError.self) { _ = try await controller.promote("fraud-roll", by: Self.admin) }
        let promoted = try await controller.promote("fraud-roll", full: true, by: Self.admin)
        #expect(promoted.rolling?.promoted == true && promoted.phase == .progressing)
        traffic.setReplicas("canary", desired: 1, ready: 0, version: 2)
        try await controller.advance("fraud-roll")
        #expect(traffic.calls.last == "scale canary 3")
    }

    // MARK: Parsing

    @Test func progressDeadlineIsParsedAndHostileValuesAreRefused() throws {
        let parsed = try RolloutParser().parseRollout(Self.yaml(deadline: 45), file: "r.yml").rollout
        guard case .rolling(let strategy) = parsed.strategy else {
            Issue.record("not a rolling strategy")
            return
        }
        #expect(strategy.progressDeadlineSeconds == 45 && strategy.maxSurge == .count(1) && strategy.maxUnavailable == .count(0))
        let plain = try RolloutParser().parseRollout(
            "name: r\nendpoint: e\ncandidate: {model: m, version: 2}\nstrategy:\n  rolling:\n", file: "r.yml"
        ).rollout
        #expect(plain.strategy == .rolling(RollingStrategy()))
        #expect(RollingStrategy().progressDeadlineSeconds == 600)

        for bad in ["0", "-5", "1.5", "abc", "86401", "[1]", "{a: 1}", "null"] {
            let yaml = Self.yaml().replacingOccurrences(of: "progressDeadlineSeconds: 60", with: "progressDeadlineSeconds: \(bad)")
            let problems = diagnostics(yaml)
            #expect(problems.contains { $0.message.contains("progressDeadlineSeconds") }, "\(bad): \(problems.map(\.message))")
        }
        let unknown = diagnostics(Self.yaml().replacingOccurrences(of: "progressDeadlineSeconds: 60", with: "progressDeadline: 60"))
        #expect(!unknown.isEmpty)
        for bad in ["\"150%\"", "\"x%\"", "-1", "\"-5%\""] {
            #expect(!diagnostics(Self.yaml(surge: bad)).isEmpty, "maxSurge \(bad)")
        }
        // A strategy stored before the deadline existed decodes with the default.
        let old = try SlipwayJSON.decoder().decode(RollingStrategy.self, from: Data(#"{"maxSurge": 1, "maxUnavailable": "25%"}"#.utf8))
        #expect(old == RollingStrategy(maxSurge: .count(1), maxUnavailable: .percent(25), progressDeadlineSeconds: 600))
    }
}
