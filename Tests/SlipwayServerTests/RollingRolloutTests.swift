import Foundation
import NIOCore
import NIOHTTP1
import SlipwayCore
import SlipwayRollout
import SlipwayStore
import Synchronization
import Testing

@testable import SlipwayServer

#if canImport(Glibc)
    import Glibc
#endif

/// Rolling updates end to end: a real `slipway server` child runs the built-in replicas of both versions,
/// clients call its gateway the whole time, and the endpoint's status is polled for the update's limits.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct RollingRolloutTests {
    /// A server with model `cancer` (versions 1 and 2), endpoint `tumor` serving `cancer@1` on `replicas`
    /// built-in replicas as its stable variant.
    static func prepare(_ label: String, replicas: Int) async throws -> ServerProcess {
        let server = try await ServerProcess(label: label)
        let cli = SupervisorTests.CLI(server: server)
        try await cli.trainAndRegister(model: "cancer", versions: 2)
        try await cli.run(["endpoints", "create", "tumor"])
        try await cli.run(["deploy", "tumor", "--variant", "stable", "--model", "cancer@1", "--builtin", "--replicas", String(replicas)])
        _ = try await waitForBackend(server, "tumor", "stable", seconds: 90) { $0.readyReplicas == replicas }
        return server
    }

    /// The supervised backends of endpoint `tumor`, by variant.
    static func backends(_ server: ServerProcess) async throws -> [String: BackendStatus] {
        struct View: Decodable { var backends: [String: BackendStatus]? }
        let reply = try await server.call(.GET, "/api/v1/endpoints/tumor", token: server.adminToken)
        guard reply.status == 200 else { throw TestFailure("GET endpoint: \(reply.status) \(reply.text)") }
        return try SlipwayJSON.decoder().decode(View.self, from: reply.body).backends ?? [:]
    }

    /// What the clients and the status poller saw.
    final class Observations: Sendable {
        let stop = Atomic<Bool>(false)
        let outcomes = Mutex<[String]>([])
        /// The most replica processes and the fewest ready replicas of both variants together, with the status that showed them.
        let extremes = Mutex<(most: Int, fewest: Int, mostSeen: String, fewestSeen: String, polls: Int)>((0, Int.max, "", "", 0))
    }

    @Test func threeReplicasAreReplacedOneAtATimeWithoutAFailedRequest() async throws {
        let server = try await Self.prepare("rolling-good", replicas: 3)
        defer { server.cleanUp() }
        let gateway = try server.gatewayURL()
        let body = try SupervisorTests.inferenceBody(rows: 1)
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-roll}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: builtin}
              strategy:
                rolling: {maxSurge: 1, maxUnavailable: 0, progressDeadlineSeconds: 120}
            """
        let seen = Observations()
        let final = try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    while !seen.stop.load(ordering: .acquiring) {
                        let outcome: String
                        do {
                            let answer = try await post(gateway + "/v2/models/tumor/infer", body: body)
                            outcome =
                                answer.status == 200
                                ? answer.headers.first(name: "X-Slipway-Model-Version") ?? "?"
                                : "\(answer.status) \(String(decoding: answer.body, as: UTF8.self))"
                        } catch {
                            outcome = "error \(error)"
                        }
                        seen.outcomes.withLock { $0.append(outcome) }
                    }
                }
            }
            group.addTask {
                while !seen.stop.load(ordering: .acquiring) {
                    let backends = try await Self.backends(server)
                    let processes = backends.values.reduce(0) { $0 + $1.replicas.count }
                    let ready = backends.values.reduce(0) { $0 + $1.readyReplicas }
                    let shown = backends.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.replicas.map { "\($0.modelVersion) \($0.state)" })" }
                        .joined(separator: "; ")
                    seen.extremes.withLock {
                        if processes > $0.most { ($0.most, $0.mostSeen) = (processes, shown) }
                        if ready < $0.fewest { ($0.fewest, $0.fewestSeen) = (ready, shown) }
                        $0.polls += 1
                    }
                    try await Task.sleep(for: .milliseconds(40))
                }
            }
            defer { seen.stop.store(true, ordering: .releasing) }
            try await waitUntil { seen.outcomes.withLock { $0.count } >= 10 }
            let started = try await RolloutTests.start(server, yaml)
            #expect(started.status == 201, "\(started.text)")
            let final = try await RolloutTests.waitFor(server, "tumor-roll", seconds: 150, "Healthy") { !$0.phase.isRunning }
            // The old replicas finish draining and stopping, still watched.
            _ = try await waitUntil { try await Self.backends(server)["stable"] == nil }
            let count = seen.outcomes.withLock { $0.count }
            try await waitUntil { seen.outcomes.withLock { $0.count } >= count + 10 }
            seen.stop.store(true, ordering: .releasing)
            try await group.waitForAll()
            return final
        }
        #expect(final.phase == .healthy, "\(final.reason)")

        let outcomes = seen.outcomes.withLock { $0 }
        let failures = outcomes.filter { $0 != "cancer@1" && $0 != "cancer@2" }
        #expect(failures.isEmpty, "\(failures.count) of \(outcomes.count) requests failed: \(Set(failures))")
        #expect(outcomes.first == "cancer@1" && outcomes.last == "cancer@2")
        #expect(outcomes.contains("cancer@1") && outcomes.contains("cancer@2"))

        let extremes = seen.extremes.withLock { $0 }
        // Under load one status call can take seconds; what matters is that the poller watched the whole update.
        // The surge check below proves a poll landed mid-update; this one that it kept polling, one per move or more.
        #expect(extremes.polls >= 6, "only \(extremes.polls) status polls")
        #expect(extremes.most <= 4, "\(extremes.most) replicas at once: \(extremes.mostSeen)")
        #expect(extremes.most == 4, "the surge was never used: \(extremes.mostSeen)")
        #expect(extremes.fewest >= 3, "only \(extremes.fewest) ready: \(extremes.fewestSeen)")

        // The end: three ready replicas of version 2 take all traffic, the old deployment is gone, the alias moved.
        let backends = try await Self.backends(server)
        let candidate = try #require(backends["canary"])
        #expect(candidate.readyReplicas == 3 && candidate.desiredReplicas == 3 && candidate.servingModelVersion == "cancer@2")
        #expect(candidate.replicas.allSatisfy { $0.modelVersion == "cancer@2" && $0.serving && $0.restarts == 0 })
        #expect(backends["stable"] == nil)
        #expect(try await RolloutTests.weights(server) == ["canary": 100])
        #expect(try await RolloutTests.production(server) == 2)
        #expect(final.rolling?.moves == 6 && final.rolling?.candidateReady == 3 && final.rolling?.stableReplicas == 0)
        let history = try await RolloutTests.history(server, "tumor-roll")
        let scales = history.filter { $0.action == "rollout.scale" }.map(\.reason)
        #expect(scales.count == 6, "\(scales)")
        #expect(scales.first?.contains("scaled to 1 of 3") == true && scales.last?.contains("removed") == true, "\(scales)")
        #expect(history.last?.action == "rollout.complete")

        // `rollout status` shows the replica counts.
        let printed = try await SupervisorTests.CLI(server: server).run(["rollout", "status", "tumor-roll"])
        #expect(printed.contains("Replicas:  old stable removed, new canary 3/3 ready (of 3)"), "\(printed)")
        #expect(await server.stop() == 0)
    }

    @Test func aCandidateThatNeverBecomesReadyRollsBack() async throws {
        let server = try await Self.prepare("rolling-stuck", replicas: 2)
        defer { server.cleanUp() }
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-stuck}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: {command: "exec sleep 600"}}
              strategy:
                rolling: {maxSurge: 1, maxUnavailable: 0, progressDeadlineSeconds: 3}
            """
        let final = try await RolloutTests.withTraffic(server) {
            let started = try await RolloutTests.start(server, yaml)
            #expect(started.status == 201, "\(started.text)")
            // The candidate's replica starts but never answers.
            let stuck = try await waitForBackend(server, "tumor", "canary") { $0.replicas.contains { $0.pid != nil } }
            #expect(stuck.readyReplicas == 0 && stuck.kind == "command")
            return try await RolloutTests.waitFor(server, "tumor-stuck", seconds: 60, "Degraded") { !$0.phase.isRunning }
        }
        #expect(final.phase == .degraded)
        #expect(final.reason.contains("did not become ready within 3 s (progressDeadlineSeconds)"), "\(final.reason)")
        #expect(try await RolloutTests.weights(server) == ["stable": 100])
        #expect(try await RolloutTests.production(server) == nil)
        // The candidate's deployment and process are gone; the stable variant keeps its two replicas.
        #expect(try await waitUntil { try await Self.backends(server)["canary"] == nil })
        let backends = try await Self.backends(server)
        #expect(backends["stable"]?.readyReplicas == 2 && backends["stable"]?.desiredReplicas == 2)
        let endpoint = try await server.call(.GET, "/api/v1/endpoints/tumor", token: server.adminToken)
        #expect(!endpoint.text.contains("sleep 600"), "\(endpoint.text)")
        let history = try await RolloutTests.history(server, "tumor-stuck")
        #expect(history.last?.action == "rollout.abort" && history.last?.actor == RolloutService.controllerActor)
        #expect(await server.stop() == 0)
    }

    @Test func aKilledServerResumesTheUpdateWhereItWas() async throws {
        let first = try await Self.prepare("rolling-kill", replicas: 3)
        defer { first.cleanUp() }
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-roll}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: builtin}
              strategy:
                rolling: {maxSurge: 1, maxUnavailable: 0}
            """
        let started = try await RolloutTests.start(first, yaml)
        #expect(started.status == 201, "\(started.text)")
        let midway = try await RolloutTests.waitFor(first, "tumor-roll", seconds: 90, "two moves") { ($0.rolling?.moves ?? 0) >= 2 }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        let moves = try #require(midway.rolling?.moves)

        let second = try await ServerProcess(label: "rolling-kill", folder: first.folder)
        defer { second.cleanUp() }
        let resumed = try await RolloutTests.status(second, "tumor-roll")
        #expect(resumed.phase == .progressing && (resumed.rolling?.moves ?? 0) >= moves)
        let final = try await RolloutTests.waitFor(second, "tumor-roll", seconds: 150, "Healthy") { !$0.phase.isRunning }
        #expect(final.phase == .healthy, "\(final.reason)")
        // Every move was made once: none repeated or skipped across the restart.
        let history = try await RolloutTests.history(second, "tumor-roll")
        let scales = history.filter { $0.action == "rollout.scale" }.map(\.reason)
        #expect(scales.count == 6 && Set(scales).count == 6, "\(scales)")
        #expect(history.filter { $0.action == "rollout.plan" }.count == 1)
        let token = RolloutTests.token(second)
        struct View: Decodable { var backends: [String: BackendStatus]? }
        let reply = try await second.call(.GET, "/api/v1/endpoints/tumor", token: token)
        let backends = try SlipwayJSON.decoder().decode(View.self, from: reply.body).backends ?? [:]
        #expect(backends["canary"]?.desiredReplicas == 3 && backends["canary"]?.servingModelVersion == "cancer@2")
        #expect(try await RolloutTests.weights(second) == ["canary": 100])
        #expect(try await RolloutTests.production(second) == 2)
    }

    @Test func aURLBackendIsRefused() async throws {
        let server = try await ServerProcess(label: "rolling-url")
        defer { server.cleanUp() }
        let cli = SupervisorTests.CLI(server: server)
        try await cli.trainAndRegister(model: "cancer", versions: 2)
        try await cli.run(["endpoints", "create", "tumor"])
        try await cli.run(["deploy", "tumor", "--variant", "stable", "--model", "cancer@1", "--backend", "http://127.0.0.1:9"])
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-url}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: builtin}
              strategy:
                rolling: {maxSurge: 1, maxUnavailable: 0}
            """
        let started = try await RolloutTests.start(server, yaml)
        if started.status == 201 {
            let final = try await RolloutTests.waitFor(server, "tumor-url", seconds: 30, "Degraded") { !$0.phase.isRunning }
            #expect(final.phase == .degraded && final.reason.contains("no deployment with a builtin or command backend"), "\(final.reason)")
        } else {
            #expect(started.status == 409 || started.status == 400, "\(started.text)")
            #expect(started.text.contains("no deployment with a builtin or command backend"), "\(started.text)")
        }
        #expect(try await RolloutTests.weights(server) == ["stable": 100])
        // Hostile specs are refused with the place of the mistake, and nothing starts.
        for bad in ["progressDeadlineSeconds: 0", "maxSurge: \"200%\"", "maxSurge: 0, maxUnavailable: 0", "replicas: 3"] {
            let text = yaml.replacingOccurrences(of: "name: tumor-url", with: "name: tumor-bad").replacingOccurrences(
                of: "maxSurge: 1, maxUnavailable: 0", with: bad)
            let reply = try await RolloutTests.start(server, text)
            #expect(reply.status == 400, "\(bad): \(reply.status) \(reply.text)")
        }
        let missing = try await server.call(.GET, "/api/v1/rollouts/tumor-bad", token: server.adminToken)
        #expect(missing.status == 404)
        #expect(await server.stop() == 0)
    }
}

/// What rolling updates need of the supervisor: a change of the replica count alone never restarts a replica.
@Suite(.endToEnd) struct RollingScaleTests {
    @Test func scalingKeepsTheOtherReplicasAndRemovesOnesThatAreNotReadyFirst() {
        let base = SupervisorStateMachineTests()
        var machine = SupervisorStateMachine()
        var pids: Int32 = 0
        let spec = base.spec(version: 1)
        machine.reconcile([base.key: DesiredBackend(spec: spec, replicas: 2)], now: base.start)
        _ = base.tick(&machine, at: .zero, pids: &pids)
        _ = base.tick(&machine, at: .milliseconds(100), pids: &pids)
        base.makeReady(&machine, at: .milliseconds(200))
        #expect(machine.servingBackends()["churn-api"]?["stable"]?.map(\.port) == [10001, 10002])

        // Up to 3: one replica starts, the two others are neither signalled nor replaced.
        machine.reconcile([base.key: DesiredBackend(spec: spec, replicas: 3)], now: base.start + .seconds(1))
        var actions = base.tick(&machine, at: .seconds(1), pids: &pids)
        #expect(base.signals(actions).isEmpty)
        #expect(machine.livePIDs.sorted() == [1, 2, 3])
        #expect(machine.allReplicas.map(\.slot).sorted() == [0, 1, 2])
        #expect(machine.servingBackends()["churn-api"]?["stable"]?.map(\.port) == [10001, 10002])

        // Down to 2 while the new replica is still starting: it goes, the ready ones stay.
        machine.reconcile([base.key: DesiredBackend(spec: spec, replicas: 2)], now: base.start + .seconds(2))
        actions = base.tick(&machine, at: .seconds(2), pids: &pids)
        #expect(base.signals(actions) == ["3:\(SIGTERM)"])
        #expect(machine.servingBackends()["churn-api"]?["stable"]?.map(\.port) == [10001, 10002])
        machine.exited(pid: 3, exit: ProcessExit(waitStatus: 15), now: base.start + .seconds(2))

        // Slot 0 exits and waits for its restart; scaling down to 1 takes it, not the ready slot 1.
        machine.exited(pid: 1, exit: ProcessExit(waitStatus: 9), now: base.start + .seconds(3))
        machine.reconcile([base.key: DesiredBackend(spec: spec, replicas: 1)], now: base.start + .seconds(3))
        #expect(machine.allReplicas.map(\.slot) == [1] && machine.livePIDs == [2])
        // Up to 2 again: the new replica takes the free slot 0.
        machine.reconcile([base.key: DesiredBackend(spec: spec, replicas: 2)], now: base.start + .seconds(4))
        actions = base.tick(&machine, at: .seconds(4), pids: &pids)
        #expect(base.signals(actions).isEmpty)
        #expect(machine.allReplicas.map(\.slot).sorted() == [0, 1] && machine.livePIDs.sorted() == [2, 4])
    }
}
