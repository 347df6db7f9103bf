import Foundation
import Logging
import SlipwayCore
import SlipwayRollout
import SlipwayStore
import Testing

/// Shadow tests run by the controller without a server: the in-memory store, the recording traffic double
/// (whose mirror comparison the test sets) and a clock the test moves.
@Suite struct ShadowServiceTests {
    static let admin = Principal(name: "ana", role: .admin)

    /// A 20% shadow for one minute; `analysis` (a flow mapping) goes under `shadow`, `tail` after the rollout.
    static func yaml(promote: Bool = false, analysis: String? = nil, tail: String = "") -> String {
        """
        name: fraud-shadow
        endpoint: fraud
        candidate: {model: fraud, version: 2}
        strategy:
          shadow:
            percentage: 20
            duration: 1m
            minAgreement: 0.9
            promote: \(promote)
        \(analysis.map { "    analysis: \($0)" } ?? "")
        defaultAnalysis: {minSamples: 50}
        """ + tail
    }

    func service(_ store: MemoryRolloutStore, _ traffic: RecordingTraffic, _ clock: TestClock) -> RolloutService {
        RolloutService(store: store, traffic: traffic, logger: Logger(label: "test"), now: { clock.now })
    }

    static let predictions = ["0": 12_000, "1": 8_000]

    /// The stable variant's answers and the candidate's answers to mirrored copies (20,000 each), `agreed` of
    /// 1000 compared agreeing.
    static func comparison(_ traffic: RecordingTraffic, agreed: Int, candidatePredictions: [String: Int] = predictions) {
        let stable = VariantSample(
            requests: 20_000, errors: 0, latencyQuantiles: LatencyQuantiles(p50: 2, p95: 4, p99: 6), predictionCounts: predictions)
        traffic.set(stable: stable, canary: VariantSample(requests: 0, errors: 0))
        let mirror = VariantSample(
            requests: 20_000, errors: 0, latencyQuantiles: LatencyQuantiles(p50: 2, p95: 4, p99: 7), predictionCounts: candidatePredictions)
        traffic.set(mirrors: ["canary": MirrorSample(sample: mirror, compared: 1_000, agreed: agreed)])
    }

    func started(_ yaml: String = Self.yaml()) async throws -> (MemoryRolloutStore, RecordingTraffic, TestClock, RolloutService) {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: yaml, by: Self.admin)
        try await controller.advance("fraud-shadow")
        #expect(traffic.calls == ["deploy canary fraud@2", "mirror canary 20"])
        return (store, traffic, clock, controller)
    }

    @Test func aPassingShadowWaitsAtItsGateAndPromoteCompletesIt() async throws {
        let (store, traffic, clock, first) = try await started()
        var status = try await first.status("fraud-shadow", by: Self.admin)
        #expect(status.shadow?.mirroring == true && status.shadow?.deadline == clock.now.addingTimeInterval(60))
        #expect(status.candidateWeight == 0)

        // Looks before the deadline report, but do not decide; a restart keeps the deadline.
        Self.comparison(traffic, agreed: 1_000)
        clock.advance(30)
        let controller = service(store, traffic, clock)
        try await controller.advance("fraud-shadow")
        status = try await controller.status("fraud-shadow", by: Self.admin)
        #expect(status.phase == .progressing && status.shadow?.report?.compared == 1_000)
        #expect(status.shadow?.deadline == clock.now.addingTimeInterval(30))
        #expect(traffic.calls.count == 2)

        clock.advance(31)
        try await controller.advance("fraud-shadow")
        status = try await controller.status("fraud-shadow", by: Self.admin)
        #expect(status.phase == .paused && status.reason.contains("promote to switch traffic to the candidate"))
        #expect(traffic.calls.last == "mirror canary 0")
        let report = try #require(status.shadow?.report)
        #expect(report.verdict == .pass && report.agreementRate == 1 && report.candidateLatencyP99Ms == 7 && report.stableLatencyP99Ms == 6)
        #expect(report.checks.first?.name == "agreement" && report.driftStatistic != nil)

        // The controller leaves the gate alone; promote switches traffic and moves the alias.
        try await controller.advance("fraud-shadow")
        #expect(try await controller.status("fraud-shadow", by: Self.admin).phase == .paused)
        status = try await controller.promote("fraud-shadow", by: Self.admin)
        #expect(status.phase == .healthy && status.shadow?.report?.verdict == .pass)
        #expect(traffic.calls.suffix(2) == ["switch canary", "alias fraud production 2 promoted by rollout fraud-shadow"])
    }

    @Test func lowAgreementFailsTheShadowAndRemovesTheMirror() async throws {
        let (_, traffic, clock, controller) = try await started()
        Self.comparison(traffic, agreed: 700)
        clock.advance(61)
        try await controller.advance("fraud-shadow")
        let status = try await controller.status("fraud-shadow", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.hasPrefix("shadow failed: agreement"))
        #expect(traffic.calls.last == "mirror canary 0" && !traffic.calls.contains("switch canary"))
        #expect(status.shadow?.report?.verdict == .fail && status.shadow?.report?.agreed == 700 && status.shadow?.mirroring == false)
    }

    @Test func tooLittleMirroredTrafficIsInconclusiveAtTheDeadline() async throws {
        let (_, traffic, clock, controller) = try await started()
        traffic.set(mirrors: ["canary": MirrorSample(sample: VariantSample(requests: 3, errors: 0), compared: 3, agreed: 3)])
        clock.advance(61)
        try await controller.advance("fraud-shadow")
        let status = try await controller.status("fraud-shadow", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.hasPrefix("shadow inconclusive"))
        #expect(traffic.calls.last == "mirror canary 0")
    }

    @Test func promoteTrueCompletesAPassingShadowAtOnce() async throws {
        let (_, traffic, clock, controller) = try await started(Self.yaml(promote: true))
        Self.comparison(traffic, agreed: 995)
        clock.advance(60)
        try await controller.advance("fraud-shadow")
        let status = try await controller.status("fraud-shadow", by: Self.admin)
        #expect(status.phase == .healthy && status.reason.contains("shadow passed"))
        #expect(traffic.calls == ["deploy canary fraud@2", "mirror canary 20", "mirror canary 0", "switch canary", "alias fraud production 2 promoted by rollout fraud-shadow"])
    }

    @Test func abortRemovesTheMirror() async throws {
        let (_, traffic, _, controller) = try await started()
        let status = try await controller.abort("fraud-shadow", reason: "enough", by: Self.admin)
        #expect(status.phase == .degraded && traffic.calls.last == "mirror canary 0" && status.shadow?.mirroring == false)
    }

    @Test func aFailingExtraAnalysisEndsTheShadowEarly() async throws {
        let template = """
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
        let (_, traffic, clock, controller) = try await started(Self.yaml(analysis: "{templates: [{templateName: errors}]}", tail: "\n" + template))
        var status = try await controller.status("fraud-shadow", by: Self.admin)
        #expect(status.analysis?.current == true)
        traffic.set(mirrors: ["canary": MirrorSample(sample: VariantSample(requests: 100, errors: 40), compared: 60, agreed: 60)])
        clock.advance(1)
        try await controller.advance("fraud-shadow")
        status = try await controller.status("fraud-shadow", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.hasPrefix("shadow failed: analysis failed"))
        #expect(traffic.calls.last == "mirror canary 0")
    }

    @Test func aShadowNamingAnUndefinedTemplateIsRefused() async throws {
        let controller = service(MemoryRolloutStore(), RecordingTraffic(), TestClock())
        let error = await #expect(throws: (any Error).self) {
            _ = try await controller.start(yaml: Self.yaml(analysis: "{templates: [{templateName: nowhere}]}"), by: Self.admin)
        }
        #expect("\(String(describing: error))".contains("nowhere"))
    }
}
