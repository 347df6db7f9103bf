import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import SlipwayRollout
import SlipwayStore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Blue-green rollouts end to end: a real `slipway server` child, several clients sending inference
/// requests through its gateway for the whole test, and not one of them may fail — not at the switch,
/// not at the switch back, not when the old variant is removed.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct BlueGreenRolloutTests {
    /// What the load clients saw.
    final class Load: Sendable {
        private let state = Mutex<
            (ok: Int, failed: Int, failures: [String], versions: [String: Int], stop: Bool, pin: Bool)
        >(
            (0, 0, [], [:], false, false))

        var ok: Int { state.withLock { $0.ok } }
        var failed: Int { state.withLock { $0.failed } }
        var failures: [String] { state.withLock { $0.failures } }
        var isStopped: Bool { state.withLock { $0.stop } }
        /// Answers per `X-Slipway-Model-Version`.
        func answers(fromVersion version: String) -> Int {
            state.withLock { $0.versions[version, default: 0] }
        }
        func stop() { state.withLock { $0.stop = true } }
        /// `true` once the pinned client may send (its variant exists and is ready).
        var isPinning: Bool { state.withLock { $0.pin } }
        func startPinning() { state.withLock { $0.pin = true } }

        func record(_ status: Int, version: String?, detail: String) {
            state.withLock { s in
                if status == 200 {
                    s.ok += 1
                    s.versions[version ?? "-", default: 0] += 1
                } else {
                    s.failed += 1
                    if s.failures.count < 20 { s.failures.append(detail) }
                }
            }
        }
    }

    /// One inference request through the gateway, optionally pinned to a variant.
    static func infer(_ gateway: String, body: String, pin: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: gateway + "/v2/models/tumor/infer")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let pin { request.headers.add(name: "X-Slipway-Variant", value: pin) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Reply(
            status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    /// Runs `clients` concurrent clients (and, with `pin`, one more pinned to that variant once the body calls
    /// ``Load/startPinning()``) until `body` returns; every non-200 answer and every connection error counts as a failure.
    static func underLoad<T: Sendable>(
        _ server: ServerProcess, clients: Int = 4, pin: String? = nil,
        _ body: @escaping @Sendable (Load) async throws -> T
    ) async throws -> (T, Load) {
        let gateway = try server.gatewayURL()
        let request = try SupervisorTests.inferenceBody(rows: 1)
        let load = Load()
        let pins: [String?] = Array(repeating: nil, count: clients) + (pin.map { [$0] } ?? [])
        let result = try await withThrowingTaskGroup(of: T?.self) { group in
            for pinned in pins {
                group.addTask {
                    while !load.isStopped {
                        if pinned != nil, !load.isPinning {
                            try await Task.sleep(for: .milliseconds(20))
                            continue
                        }
                        do {
                            let reply = try await infer(gateway, body: request, pin: pinned)
                            load.record(
                                reply.status, version: reply.headers.first(name: "X-Slipway-Model-Version"),
                                detail: "\(reply.status) \(reply.text.prefix(200))")
                        } catch {
                            load.record(0, version: nil, detail: "connection error: \(error)")
                        }
                    }
                    return nil
                }
            }
            group.addTask {
                defer { load.stop() }
                return try await body(load)
            }
            var result: T?
            for try await value in group { if let value { result = value } }
            return try #require(result)
        }
        return (result, load)
    }

    /// Waits until the clients got `count` more answers than now (so traffic provably flowed in between).
    static func moreAnswers(_ load: Load, _ count: Int = 40, version: String? = nil) async throws {
        let start = version.map { load.answers(fromVersion: $0) } ?? load.ok
        let held = try await waitUntil(seconds: 60) {
            (version.map { load.answers(fromVersion: $0) } ?? load.ok) >= start + count
        }
        if !held {
            throw TestFailure(
                "the load clients got no answers\(version.map { " from version \($0)" } ?? ""); failures: \(load.failures)"
            )
        }
    }

    static let templates = """
        ---
        kind: AnalysisTemplate
        metadata: {name: preview-errors}
        spec:
          metrics:
            - name: preview-error-rate
              interval: 1s
              count: 2
              inconclusiveLimit: 30
              successCondition: result <= 0.01
              provider: {builtin: {metric: error-rate, minSamples: 5}}
        ---
        kind: AnalysisTemplate
        metadata: {name: live-errors}
        spec:
          metrics:
            - name: live-error-rate
              interval: 1s
              count: 2
              inconclusiveLimit: 30
              successCondition: result <= 0.01
              provider: {builtin: {metric: error-rate, minSamples: 5}}
        """

    @Test func switchUnderLoadFailsNoRequestAndMovesTheProductionAlias() async throws {
        let server = try await RolloutTests.prepare("bluegreen-switch")
        defer { server.cleanUp() }
        let yaml =
            """
            kind: Rollout
            metadata: {name: tumor-bg}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: builtin, variant: green}
              strategy:
                blueGreen:
                  autoPromotionEnabled: false
                  prePromotionAnalysis: {templates: [{templateName: preview-errors}]}
                  postPromotionAnalysis: {templates: [{templateName: live-errors}]}
                  scaleDownDelaySeconds: 3
            """ + "\n" + Self.templates
        let gateway = try server.gatewayURL()
        let (final, load) = try await Self.underLoad(server, pin: "green") { load in
            try await Self.moreAnswers(load)
            let started = try await RolloutTests.start(server, yaml)
            #expect(started.status == 201, "\(started.text)")
            // Once the preview is ready, one client checks it with pinned requests (the analysis's data).
            let ready = try await RolloutTests.waitFor(server, "tumor-bg", "preview ready") {
                $0.blueGreen?.previewReadyAt != nil || !$0.phase.isRunning
            }
            // On a busy machine the controller may already be past the analysis when this look comes.
            #expect([.prePromotionAnalysis, .promotion].contains(ready.blueGreen?.stage), "\(ready.reason)")
            #expect(try await RolloutTests.weights(server) == ["stable": 100])
            load.startPinning()
            // Then the rollout waits at the gate for an approver.
            let gate = try await RolloutTests.waitFor(server, "tumor-bg", "at the promotion gate") {
                $0.phase == .paused || !$0.phase.isRunning
            }
            #expect(gate.phase == .paused && gate.blueGreen?.stage == .promotion, "\(gate.reason)")
            #expect(gate.reason.contains("waiting for an approver"), "\(gate.reason)")
            #expect(gate.blueGreen?.previewReadyAt != nil)
            #expect(gate.blueGreen?.previousStable == "stable")
            #expect(gate.analysis?.phase == .successful)
            #expect(try await RolloutTests.weights(server) == ["stable": 100])
            #expect(try await RolloutTests.production(server) == nil)
            // The preview answers at the address the analyses get, with the pin header, as version 2.
            let previewURL = try #require(gate.blueGreen?.previewURL)
            #expect(previewURL == gateway + "/v2/models/tumor")
            let pinned = try await Self.infer(
                gateway, body: try SupervisorTests.inferenceBody(rows: 1), pin: "green")
            #expect(
                pinned.status == 200 && pinned.headers.first(name: "X-Slipway-Model-Version") == "cancer@2")
            // `rollout status` tells where the rollout stands and where the preview answers.
            let shown = try await runCLI(
                ["rollout", "status", "tumor-bg", "--data-dir", server.dataDir.path], in: server.folder)
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(
                shown.stdout.contains("Blue-green: waiting for an approver to promote"), "\(shown.stdout)")
            #expect(
                shown.stdout.contains("Preview:   'green' ready since")
                    && shown.stdout.contains(previewURL), "\(shown.stdout)")
            // Traffic keeps flowing while the rollout waits at the gate.
            try await Self.moreAnswers(load)

            let promoted = try await server.call(
                .POST, "/api/v1/rollouts/tumor-bg/promote", token: RolloutTests.token(server))
            #expect(promoted.status == 200, "\(promoted.text)")
            // The switch happened before the answer: one change, all traffic on the candidate.
            #expect(try await RolloutTests.weights(server) == ["green": 100])
            try await Self.moreAnswers(load, version: "cancer@2")
            return try await RolloutTests.waitFor(server, "tumor-bg", "Healthy") { !$0.phase.isRunning }
        }
        #expect(
            load.failed == 0,
            "\(load.failed) failed requests out of \(load.ok + load.failed): \(load.failures)")
        #expect(load.ok > 100, "only \(load.ok) answers")
        #expect(final.phase == .healthy, "\(final.reason)")
        #expect(final.blueGreen?.stage == .completed && final.blueGreen?.previousRemoved == true)
        #expect(final.reason.contains("removed the old variant 'stable'"), "\(final.reason)")
        #expect(try await RolloutTests.weights(server) == ["green": 100])
        #expect(try await RolloutTests.production(server) == 2)
        // The old variant's deployment is gone.
        let endpoint = try await server.call(
            .GET, "/api/v1/endpoints/tumor", token: RolloutTests.token(server))
        let deployments =
            ((endpoint.object["endpoint"] as? [String: Any])?["deployments"] as? [[String: Any]])?
            .compactMap { $0["variant"] as? String }
        #expect(deployments == ["green"], "\(endpoint.text)")
        let history = try await RolloutTests.history(server, "tumor-bg")
        let actions = history.map(\.action)
        #expect(
            actions.filter { $0 != "rollout.analysis" } == [
                "rollout.start", "rollout.deploy", "rollout.preview", "rollout.pause", "rollout.switch",
                "rollout.complete",
            ],
            "\(history.map { "\($0.action): \($0.reason)" })")
        let switched = try #require(history.first { $0.action == "rollout.switch" })
        #expect(
            switched.reason.contains("promoted by")
                && switched.reason.contains("from 'stable' to 'green'"), "\(switched.reason)")
        #expect(
            history.contains {
                $0.reason.contains("pre-promotion analysis of the preview 'green' successful")
            })
        #expect(history.contains { $0.reason.contains("post-promotion analysis successful") })
    }

    @Test func abortAfterTheSwitchSwitchesBackUnderLoadWithoutAFailedRequest() async throws {
        let server = try await RolloutTests.prepare("bluegreen-back")
        defer { server.cleanUp() }
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-bg}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: builtin, variant: green}
              strategy:
                blueGreen:
                  autoPromotionSeconds: 1
                  scaleDownDelaySeconds: 600
            """
        let (final, load) = try await Self.underLoad(server) { load in
            try await Self.moreAnswers(load)
            let started = try await RolloutTests.start(server, yaml)
            #expect(started.status == 201, "\(started.text)")
            let switched = try await RolloutTests.waitFor(server, "tumor-bg", "switched") {
                $0.blueGreen?.stage == .scaleDownDelay || !$0.phase.isRunning
            }
            #expect(switched.phase == .progressing, "\(switched.reason)")
            #expect(switched.blueGreen?.scaleDownAt != nil && switched.blueGreen?.switchedAt != nil)
            #expect(try await RolloutTests.weights(server) == ["green": 100])
            try await Self.moreAnswers(load, version: "cancer@2")

            let aborted = try await server.call(
                .POST, "/api/v1/rollouts/tumor-bg/abort", token: RolloutTests.token(server),
                json: #"{"reason": "latency complaints"}"#)
            #expect(aborted.status == 200, "\(aborted.text)")
            // Back on the old variant before the answer, in one change.
            #expect(try await RolloutTests.weights(server) == ["stable": 100])
            try await Self.moreAnswers(load, version: "cancer@1")
            return try await RolloutTests.status(server, "tumor-bg")
        }
        #expect(
            load.failed == 0,
            "\(load.failed) failed requests out of \(load.ok + load.failed): \(load.failures)")
        #expect(load.ok >= 120, "only \(load.ok) answers")
        #expect(
            load.answers(fromVersion: "cancer@2") >= 40 && load.answers(fromVersion: "cancer@1") >= 40)
        #expect(
            final.phase == .degraded && final.reason.contains("latency complaints"), "\(final.reason)")
        #expect(final.blueGreen?.stage == .switchedBack && final.blueGreen?.switchedBackAt != nil)
        #expect(try await RolloutTests.weights(server) == ["stable": 100])
        #expect(try await RolloutTests.production(server) == nil)
        let history = try await RolloutTests.history(server, "tumor-bg")
        #expect(
            history.contains {
                $0.action == "rollout.wait" && $0.reason.contains("autoPromotionSeconds: 1")
            })
        #expect(
            history.contains {
                $0.action == "rollout.switch" && $0.reason.contains("promoted automatically")
            })
        #expect(history.last?.action == "rollout.abort")
        // The candidate stays deployed (at no traffic) and the old variant was never removed.
        let endpoint = try await server.call(
            .GET, "/api/v1/endpoints/tumor", token: RolloutTests.token(server))
        let deployments =
            ((endpoint.object["endpoint"] as? [String: Any])?["deployments"] as? [[String: Any]])?
            .compactMap { $0["variant"] as? String }.sorted()
        #expect(deployments == ["green", "stable"], "\(endpoint.text)")
    }

    @Test func killedServerKeepsTheScaleDownDeadline() async throws {
        let first = try await RolloutTests.prepare("bluegreen-kill")
        defer { first.cleanUp() }
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-bg}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: builtin, variant: green}
              strategy:
                blueGreen:
                  scaleDownDelaySeconds: 8
            """
        let started = try await RolloutTests.start(first, yaml)
        #expect(started.status == 201, "\(started.text)")
        let waiting = try await RolloutTests.waitFor(first, "tumor-bg", "in the scale-down delay") {
            $0.blueGreen?.stage == .scaleDownDelay || !$0.phase.isRunning
        }
        let deadline = try #require(waiting.blueGreen?.scaleDownAt)
        #expect(try await RolloutTests.weights(first) == ["green": 100])
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        let second = try await ServerProcess(label: "bluegreen-kill", folder: first.folder)
        defer { second.cleanUp() }
        let resumed = try await RolloutTests.status(second, "tumor-bg")
        // Still waiting with the stored deadline, unless the restart took longer than the delay.
        if resumed.phase.isRunning {
            #expect(resumed.blueGreen?.stage == .scaleDownDelay && resumed.blueGreen?.scaleDownAt == deadline)
        }
        let final = try await RolloutTests.waitFor(second, "tumor-bg", "Healthy") { !$0.phase.isRunning }
        #expect(final.phase == .healthy, "\(final.reason)")
        #expect(try await RolloutTests.weights(second) == ["green": 100])
        #expect(try await RolloutTests.production(second) == 2)
        let history = try await RolloutTests.history(second, "tumor-bg")
        #expect(history.filter { $0.action == "rollout.switch" }.count == 1, "\(history.map { "\($0.action): \($0.reason)" })")
        #expect(history.filter { $0.action == "rollout.deploy" }.count == 1)
        // The old variant was removed at the stored deadline, not at a new one set after the restart.
        let completed = try #require(history.last { $0.action == "rollout.complete" })
        #expect(completed.at >= deadline.addingTimeInterval(-0.001))
    }
}
