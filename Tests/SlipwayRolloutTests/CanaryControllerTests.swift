import Foundation
import Logging
import SlipwayCore
import SlipwayRollout
import SlipwayStore
import Testing

/// Canary features beyond weights and pauses: header and mirror routes, background analysis, the
/// Mann–Whitney judge as an analysis step, and `undo` — with the in-memory store, the recording traffic
/// double and a clock the test moves (see RolloutServiceTests).
@Suite struct CanaryControllerTests {
    static let admin = Principal(name: "ana", role: .admin)

    func service(_ store: MemoryRolloutStore, _ traffic: RecordingTraffic, _ clock: TestClock) -> RolloutService {
        RolloutService(store: store, traffic: traffic, logger: Logger(label: "test"), now: { clock.now })
    }

    @Test func headerAndMirrorRoutesAreSetReplacedAndRemovedWhenTheRolloutEnds() async throws {
        let yaml = """
            name: fraud-v2
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy:
              canary:
                steps:
                  - setHeaderRoute: {name: beta, match: [{headerName: X-Beta, headerValue: {exact: "1"}}]}
                  - setMirrorRoute: {name: copy, percentage: 30}
                  - pause: {}
                  - setHeaderRoute: {name: beta, match: [{headerName: X-Beta, headerValue: {exact: "2"}}]}
                  - setMirrorRoute: {name: copy}
                  - setWeight: 50
                  - pause: {}
            """
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let controller = service(store, traffic, TestClock())
        _ = try await controller.start(yaml: yaml, by: Self.admin)
        try await controller.advance("fraud-v2")
        #expect(traffic.calls == ["deploy canary fraud@2", "route X-Beta=1 canary", "mirror canary 30"])
        #expect(try await controller.status("fraud-v2", by: Self.admin).phase == .paused)

        _ = try await controller.resume("fraud-v2", by: Self.admin)
        try await controller.advance("fraud-v2")
        // The same route name replaces its earlier match; a mirror step without a percentage removes the mirror.
        #expect(
            Array(traffic.calls.dropFirst(3)) == ["route X-Beta=1 -", "route X-Beta=2 canary", "mirror canary 0", "weight canary 50"])

        // Aborting takes every route away with the weight.
        let aborted = try await controller.abort("fraud-v2", by: Self.admin)
        #expect(aborted.phase == .degraded)
        #expect(traffic.calls.suffix(2) == ["weight canary 0", "route X-Beta=2 -"])
    }

    @Test func backgroundAnalysisRollsBackDuringAPauseStep() async throws {
        let yaml = """
            name: fraud-v2
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy:
              canary:
                analysis:
                  templates: [{templateName: errors}]
                  startingStep: 1
                steps:
                  - setWeight: 20
                  - pause: {duration: 1h}
                  - setWeight: 50
            ---
            kind: AnalysisTemplate
            metadata: {name: errors}
            spec:
              metrics:
                - name: error-rate
                  interval: 30s
                  failureCondition: result > 0.1
                  provider: {builtin: {metric: error-rate, minSamples: 10}}
            """
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        var controller = service(store, traffic, clock)
        traffic.set(stable: VariantSample(requests: 400, errors: 2), canary: VariantSample(requests: 100, errors: 1))
        _ = try await controller.start(yaml: yaml, by: Self.admin)
        try await controller.advance("fraud-v2")
        var status = try await controller.status("fraud-v2", by: Self.admin)
        #expect(status.step == 1 && status.backgroundAnalysis?.metrics.first?.latest.count == 1)
        #expect(status.backgroundAnalysis?.phase == .running)

        // A restart keeps the background run and its schedule.
        clock.advance(20)
        controller = service(store, traffic, clock)
        try await controller.advance("fraud-v2")
        #expect(try await controller.status("fraud-v2", by: Self.admin).backgroundAnalysis?.metrics.first?.latest.count == 1)

        // 30 s on, during the hour-long pause, the canary's errors climb: rolled back at once.
        clock.advance(10)
        traffic.set(stable: VariantSample(requests: 400, errors: 2), canary: VariantSample(requests: 100, errors: 30))
        try await controller.advance("fraud-v2")
        status = try await controller.status("fraud-v2", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.contains("background analysis failed"), "\(status.reason)")
        #expect(status.rollbackMilliseconds != nil && status.reason.contains("ms after the measurement"))
        #expect(traffic.calls.last == "weight canary 0")
        #expect(status.step == 1)
    }

    static let judged = """
        name: fraud-v2
        endpoint: fraud
        candidate: {model: fraud, version: 2}
        strategy:
          canary:
            steps:
              - setWeight: 20
              - analysis: {templates: [{templateName: judge}]}
              - setWeight: 60
              - pause: {}
        ---
        kind: AnalysisTemplate
        metadata: {name: judge}
        spec:
          judge: {algorithm: mannwhitney, passThreshold: 95, marginalThreshold: 75, interval: 1m, count: 1}
          metrics:
            - name: latency
              provider: {builtin: {metric: latency, minSamples: 50}}
              judge: {direction: increase, critical: true}
            - name: error-rate
              provider: {builtin: {metric: error-rate, minSamples: 50}}
              judge: {direction: increase}
        """

    /// Latencies around `center` ms, spread evenly.
    static func latencies(_ count: Int, around center: Double) -> [Double] {
        (0..<count).map { center + Double($0 % 20) - 10 }
    }

    @Test func theJudgePassesAnEqualCanaryAndFailsASlowerOne() async throws {
        for (canaryCenter, expected) in [(50.0, RolloutPhase.paused), (95.0, RolloutPhase.degraded)] {
            let store = MemoryRolloutStore()
            let traffic = RecordingTraffic()
            let controller = service(store, traffic, TestClock())
            var stable = VariantSample(requests: 400, errors: 4)
            stable.latencyMs = Self.latencies(400, around: 50)
            var canary = VariantSample(requests: 200, errors: 2)
            canary.latencyMs = Self.latencies(200, around: canaryCenter)
            traffic.set(stable: stable, canary: canary)
            _ = try await controller.start(yaml: Self.judged, by: Self.admin)
            try await controller.advance("fraud-v2")
            let status = try await controller.status("fraud-v2", by: Self.admin)
            #expect(status.phase == expected, "canary at \(canaryCenter) ms: \(status.reason)")
            let message = status.analysis?.metrics.first?.latest.last?.message ?? ""
            #expect(message.contains("score"), "\(message)")
        }
    }

    @Test func aJudgeOverMetricsWithoutPerRequestSamplesIsRefused() async throws {
        let controller = service(MemoryRolloutStore(), RecordingTraffic(), TestClock())
        // The parser allows web and prometheus metrics in a judge; the controller has per-request
        // samples for builtin latency and errors only, and says so.
        let yaml = Self.judged.replacingOccurrences(
            of: "provider: {builtin: {metric: error-rate, minSamples: 50}}", with: "provider: {web: {url: \"http://127.0.0.1:9/errors\"}}")
        do {
            _ = try await controller.start(yaml: yaml, by: Self.admin)
            Issue.record("a judge over a web metric started")
        } catch let error as GenericError {
            #expect(error.message.contains("per-request samples"), "\(error.message)")
        }
    }

    @Test func undoSendsTrafficBackAndRestoresTheProductionAlias() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let controller = service(store, traffic, TestClock())
        let yaml = "name: fraud-v2\nendpoint: fraud\ncandidate: {model: fraud, version: 2}\nstrategy:\n  canary:\n    steps:\n      - setWeight: 50\n"
        _ = try await controller.start(yaml: yaml, by: Self.admin)
        // Undo is for finished rollouts only.
        await #expect(throws: GenericError.self) { _ = try await controller.undo("fraud-v2", by: Self.admin) }
        try await controller.advance("fraud-v2")
        #expect(try await controller.status("fraud-v2", by: Self.admin).phase == .healthy)
        // An editor may not change production back.
        await #expect(throws: GenericError.self) { _ = try await controller.undo("fraud-v2", by: Principal(name: "ed", role: .editor)) }
        let undone = try await controller.undo("fraud-v2", reason: "conversion fell", by: Principal(name: "pat", role: .approver))
        #expect(undone.phase == .degraded && undone.reason.contains("conversion fell") && undone.reason.contains("'stable'"))
        // RecordingTraffic resolves the production alias to version 1, the version before the rollout.
        #expect(traffic.calls.suffix(2) == ["switch stable", "alias fraud production 1 rollout fraud-v2 undone by pat"])
        let actions = try await store.rolloutHistory(named: "fraud-v2").map(\.action)
        #expect(actions.last == "rollout.undo")
        // A second undo has nothing left to undo.
        await #expect(throws: GenericError.self) { _ = try await controller.undo("fraud-v2", by: Self.admin) }
    }
}
