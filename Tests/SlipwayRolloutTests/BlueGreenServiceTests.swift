import Foundation
import Logging
import SlipwayCore
import SlipwayStore
import Testing

@testable import SlipwayRollout

/// The blue-green controller's decisions without a server: the in-memory store, the recording traffic
/// double and a clock the test moves. A "restart" is a new service on the same store.
@Suite struct BlueGreenServiceTests {
    static let admin = Principal(name: "ana", role: .admin)
    static let approver = Principal(name: "pat", role: .approver)
    static let editor = Principal(name: "ed", role: .editor)

    /// A blue-green rollout of `fraud@2` as variant `canary`, with both analyses (error rate at most 10%).
    static func yaml(_ strategy: String, preCount: Int = 1, postDelay: String = "0s") -> String {
        """
        name: fraud-bg
        endpoint: fraud
        candidate: {model: fraud, version: 2}
        strategy:
          blueGreen:
        \(strategy.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        ---
        kind: AnalysisTemplate
        metadata: {name: preview-errors}
        spec:
          metrics:
            - name: preview-error-rate
              interval: 5s
              count: \(preCount)
              failureCondition: result > 0.1
              provider: {builtin: {metric: error-rate, minSamples: 10}}
        ---
        kind: AnalysisTemplate
        metadata: {name: live-errors}
        spec:
          metrics:
            - name: live-error-rate
              initialDelay: \(postDelay)
              failureCondition: result > 0.1
              provider: {builtin: {metric: error-rate, minSamples: 10}}
        """
    }

    static let analyses = """
        prePromotionAnalysis: {templates: [{templateName: preview-errors}]}
        postPromotionAnalysis: {templates: [{templateName: live-errors}]}
        """

    static let good = VariantSample(requests: 100, errors: 1)
    static let bad = VariantSample(requests: 100, errors: 40)

    func service(_ store: MemoryRolloutStore, _ traffic: RecordingTraffic, _ clock: TestClock)
        -> RolloutService
    {
        RolloutService(
            store: store, traffic: traffic, logger: Logger(label: "test"), now: { clock.now })
    }

    func reasons(_ store: MemoryRolloutStore) async throws -> [String] {
        try await store.rolloutHistory(named: "fraud-bg").map { "\($0.action): \($0.reason)" }
    }

    @Test func autoPromotionSwitchesAfterItsWaitAndScalesDownAfterTheDelayAcrossRestarts()
        async throws
    {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        traffic.set(stable: Self.good, canary: Self.good)
        var controller = service(store, traffic, clock)
        let spec = Self.yaml("autoPromotionSeconds: 60\nscaleDownDelaySeconds: 120\n" + Self.analyses)
        _ = try await controller.start(yaml: spec, by: Self.admin)
        let started = clock.now
        try await controller.advance("fraud-bg")
        // Deployed as the preview with no traffic, checked, and waiting for its auto-promotion deadline.
        #expect(traffic.calls == ["deploy canary fraud@2"])
        var status = try await controller.status("fraud-bg", by: Self.admin)
        #expect(status.phase == .progressing && status.blueGreen?.stage == .promotion)
        #expect(status.blueGreen?.promoteAt == started.addingTimeInterval(60))
        #expect(
            status.blueGreen?.previewReadyAt == started && status.blueGreen?.previousStable == "stable")
        #expect(status.blueGreen?.previewURL == "http://127.0.0.1:8081/v2/models/fraud")
        #expect(status.analysis?.phase == .successful && status.analysis?.current == false)

        // A restart in the middle of the wait keeps the deadline and applies nothing.
        clock.advance(30)
        controller = service(store, traffic, clock)
        try await controller.advance("fraud-bg")
        #expect(traffic.calls == ["deploy canary fraud@2"])
        #expect(
            try await controller.status("fraud-bg", by: Self.admin).blueGreen?.promoteAt
                == started.addingTimeInterval(60))

        // The deadline passes: one switch; the post-promotion analysis passes; the scale-down deadline is set.
        clock.advance(30)
        try await controller.advance("fraud-bg")
        #expect(traffic.calls == ["deploy canary fraud@2", "switch canary"])
        status = try await controller.status("fraud-bg", by: Self.admin)
        #expect(status.blueGreen?.stage == .scaleDownDelay && status.blueGreen?.switchedAt == clock.now)
        #expect(status.blueGreen?.scaleDownAt == clock.now.addingTimeInterval(120))
        #expect(status.candidateWeight == 100 && status.phase == .progressing)
        let scaleDownAt = try #require(status.blueGreen?.scaleDownAt)

        // Restarted during the scale-down delay: the old variant keeps running until the stored deadline.
        clock.advance(119)
        controller = service(store, traffic, clock)
        try await controller.advance("fraud-bg")
        #expect(traffic.calls.count == 2)
        #expect(
            try await controller.status("fraud-bg", by: Self.admin).blueGreen?.scaleDownAt == scaleDownAt)

        clock.advance(1)
        try await controller.advance("fraud-bg")
        #expect(
            traffic.calls == [
                "deploy canary fraud@2", "switch canary", "remove stable",
                "alias fraud production 2 promoted by rollout fraud-bg",
            ])
        status = try await controller.status("fraud-bg", by: Self.admin)
        #expect(
            status.phase == .healthy && status.blueGreen?.stage == .completed
                && status.blueGreen?.previousRemoved == true)
        let history = try await reasons(store)
        #expect(
            history.contains {
                $0.hasPrefix("rollout.deploy: deployed fraud@2 as the preview variant 'canary'")
            }, "\(history)")
        #expect(
            history.contains(
                "rollout.analysis: pre-promotion analysis of the preview 'canary' successful"), "\(history)"
        )
        #expect(
            history.contains {
                $0.hasPrefix("rollout.wait: preview 'canary' is ready; all traffic switches to it at")
            }, "\(history)")
        #expect(
            history.contains {
                $0.hasPrefix(
                    "rollout.switch: promoted automatically: switched all traffic from 'stable' to 'canary'")
            }, "\(history)")
        #expect(
            history.last?.hasPrefix(
                "rollout.complete: scale-down delay of 2m over: removed the old variant 'stable'") == true,
            "\(history)")
    }

    @Test func manualGateWaitsForAnApproverAndAbortDuringTheDelaySwitchesBack() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        var controller = service(store, traffic, clock)
        _ = try await controller.start(
            yaml: Self.yaml("autoPromotionEnabled: false\nscaleDownDelaySeconds: 600"), by: Self.admin)
        try await controller.advance("fraud-bg")
        var status = try await controller.status("fraud-bg", by: Self.admin)
        #expect(
            status.phase == .paused && status.blueGreen?.stage == .promotion
                && status.blueGreen?.awaitingPromotion == true)
        #expect(status.reason.contains("waiting for an approver"), "\(status.reason)")
        // Time does not open the gate, nor does a restart.
        clock.advance(3600)
        controller = service(store, traffic, clock)
        try await controller.advance("fraud-bg")
        #expect(traffic.calls == ["deploy canary fraud@2"])
        await #expect(throws: GenericError.self) {
            _ = try await controller.promote("fraud-bg", by: Self.editor)
        }

        status = try await controller.promote("fraud-bg", by: Self.approver)
        #expect(traffic.calls == ["deploy canary fraud@2", "switch canary"])
        #expect(status.phase == .progressing && status.blueGreen?.stage == .scaleDownDelay)
        #expect(status.blueGreen?.scaleDownAt == clock.now.addingTimeInterval(600))
        #expect(
            status.reason.hasPrefix("promoted by pat: switched all traffic from 'stable' to 'canary'"),
            "\(status.reason)")

        clock.advance(300)
        try await controller.advance("fraud-bg")
        status = try await controller.abort("fraud-bg", reason: "support tickets", by: Self.editor)
        #expect(traffic.calls == ["deploy canary fraud@2", "switch canary", "switch stable"])
        #expect(
            status.phase == .degraded && status.blueGreen?.stage == .switchedBack
                && status.blueGreen?.switchedBackAt == clock.now)
        #expect(status.reason.contains("support tickets"))
        #expect(!traffic.calls.contains { $0.hasPrefix("alias") || $0.hasPrefix("remove") })
        // Nothing more happens after the abort, whatever the time.
        clock.advance(600)
        try await controller.advance("fraud-bg")
        #expect(traffic.calls.count == 3)
    }

    @Test func failedPrePromotionAnalysisAbortsWithoutTouchingTraffic() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        traffic.set(stable: Self.good, canary: Self.bad)
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml(Self.analyses), by: Self.admin)
        try await controller.advance("fraud-bg")
        let status = try await controller.status("fraud-bg", by: Self.admin)
        #expect(status.phase == .degraded && status.blueGreen?.stage == .aborted)
        #expect(status.reason.contains("pre-promotion analysis failed"), "\(status.reason)")
        #expect(
            status.reason.contains(
                "the preview 'canary' never got traffic and production stays on 'stable'"),
            "\(status.reason)")
        #expect(traffic.calls == ["deploy canary fraud@2"])
        // A retry checks the preview again (still deployed) and, with a good preview, switches.
        traffic.set(stable: Self.good, canary: Self.good)
        _ = try await controller.retry("fraud-bg", by: Self.editor)
        try await controller.advance("fraud-bg")
        #expect(traffic.calls == ["deploy canary fraud@2", "switch canary"])
    }

    @Test func failedPostPromotionAnalysisSwitchesBackAtOnce() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        traffic.set(stable: Self.good, canary: Self.good)
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml(Self.analyses, postDelay: "10s"), by: Self.admin)
        try await controller.advance("fraud-bg")
        var status = try await controller.status("fraud-bg", by: Self.admin)
        #expect(
            status.blueGreen?.stage == .postPromotionAnalysis
                && traffic.calls == ["deploy canary fraud@2", "switch canary"])

        // Real traffic on the candidate goes bad: the first measurement fails and traffic goes back in one change.
        clock.advance(10)
        traffic.set(stable: VariantSample(requests: 0, errors: 0), canary: Self.bad)
        try await controller.advance("fraud-bg")
        status = try await controller.status("fraud-bg", by: Self.admin)
        #expect(traffic.calls == ["deploy canary fraud@2", "switch canary", "switch stable"])
        #expect(
            status.phase == .degraded && status.blueGreen?.stage == .switchedBack
                && status.candidateWeight == 0)
        #expect(status.reason.contains("post-promotion analysis failed"), "\(status.reason)")
        #expect(status.reason.contains("all traffic switched back to 'stable'"), "\(status.reason)")
        #expect(!traffic.calls.contains { $0.hasPrefix("alias") })
    }

    @Test func abortDuringThePostPromotionAnalysisSwitchesBack() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        traffic.set(stable: Self.good, canary: Self.good)
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml(Self.analyses, postDelay: "1h"), by: Self.admin)
        try await controller.advance("fraud-bg")
        #expect(try await controller.status("fraud-bg", by: Self.admin).blueGreen?.stage == .postPromotionAnalysis)
        let status = try await controller.abort("fraud-bg", by: Self.editor)
        #expect(traffic.calls == ["deploy canary fraud@2", "switch canary", "switch stable"])
        #expect(status.phase == .degraded && status.blueGreen?.stage == .switchedBack)
        #expect(status.analysis?.phase == .successful && status.analysis?.current == false)
    }

    @Test func aSwitchAppliedButNotRecordedBeforeACrashIsStillUndoneByAnAbort() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml("autoPromotionSeconds: 60"), by: Self.admin)
        try await controller.advance("fraud-bg")
        #expect(try await controller.status("fraud-bg", by: Self.admin).blueGreen?.stage == .promotion)
        // The controller switched and the process died before it recorded the switch.
        try await traffic.switchTo(endpoint: "fraud", variant: "canary")
        let status = try await service(store, traffic, clock).abort("fraud-bg", by: Self.editor)
        #expect(traffic.calls == ["deploy canary fraud@2", "switch canary", "switch stable"])
        #expect(status.blueGreen?.stage == .switchedBack)
        // Without such a switch, an abort before the switch changes no traffic.
        let other = MemoryRolloutStore()
        let untouched = RecordingTraffic()
        let second = service(other, untouched, clock)
        _ = try await second.start(yaml: Self.yaml("autoPromotionSeconds: 60"), by: Self.admin)
        try await second.advance("fraud-bg")
        #expect(try await second.abort("fraud-bg", by: Self.editor).blueGreen?.stage == .aborted)
        #expect(untouched.calls == ["deploy canary fraud@2"])
    }

    @Test func promotePassesOneGateAtATime() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        // Too little traffic for a verdict: the pre-promotion analysis keeps running.
        traffic.set(
            stable: VariantSample(requests: 2, errors: 0), canary: VariantSample(requests: 2, errors: 0))
        let controller = service(store, traffic, clock)
        let spec = Self.yaml(
            "autoPromotionSeconds: 600\nscaleDownDelaySeconds: 600\n" + Self.analyses, preCount: 30,
            postDelay: "1h")
        _ = try await controller.start(yaml: spec, by: Self.admin)
        try await controller.advance("fraud-bg")
        #expect(
            try await controller.status("fraud-bg", by: Self.admin).blueGreen?.stage
                == .prePromotionAnalysis)

        var status = try await controller.promote("fraud-bg", by: Self.approver)
        #expect(
            status.blueGreen?.stage == .promotion
                && status.reason == "pre-promotion analysis skipped by pat")
        try await controller.advance("fraud-bg")
        #expect(
            try await controller.status("fraud-bg", by: Self.admin).blueGreen?.promoteAt
                == clock.now.addingTimeInterval(600))
        status = try await controller.promote("fraud-bg", by: Self.approver)
        #expect(
            status.blueGreen?.stage == .postPromotionAnalysis && traffic.calls.last == "switch canary")
        try await controller.advance("fraud-bg")
        status = try await controller.promote("fraud-bg", by: Self.approver)
        #expect(
            status.blueGreen?.stage == .scaleDownDelay
                && status.reason.hasPrefix("post-promotion analysis skipped by pat"))
        status = try await controller.promote("fraud-bg", by: Self.approver)
        #expect(status.phase == .healthy && status.blueGreen?.stage == .completed)
        #expect(
            traffic.calls == [
                "deploy canary fraud@2", "switch canary", "remove stable",
                "alias fraud production 2 promoted by rollout fraud-bg",
            ])
        #expect(status.reason.hasPrefix("scale-down delay skipped by pat"), "\(status.reason)")
    }

    @Test func fullPromotionOfThePreviewSwitchesRemovesAndCompletes() async throws {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: Self.yaml("autoPromotionEnabled: false"), by: Self.admin)
        // Before the preview is deployed there is no gate to pass.
        await #expect(throws: GenericError.self) {
            _ = try await controller.promote("fraud-bg", by: Self.approver)
        }
        let status = try await controller.promote("fraud-bg", full: true, by: Self.approver)
        #expect(status.phase == .healthy && status.blueGreen?.previousRemoved == true)
        #expect(
            traffic.calls == [
                "deploy canary fraud@2", "switch canary", "remove stable",
                "alias fraud production 2 promoted by rollout fraud-bg",
            ])
        #expect(status.reason.hasPrefix("promoted fully by pat"))
    }

    @Test func analysesGetThePreviewsAddressAsArguments() throws {
        var state = BlueGreenState(previewVariant: "green", previousStable: "blue")
        let arguments = RolloutService.previewArguments(
            endpoint: "fraud", state: state, gatewayURL: "http://127.0.0.1:9000")
        #expect(
            arguments == [
                AnalysisArgument(name: "endpoint", value: "fraud"),
                AnalysisArgument(name: "preview-variant", value: "green"),
                AnalysisArgument(name: "gateway-url", value: "http://127.0.0.1:9000"),
                AnalysisArgument(name: "preview-url", value: "http://127.0.0.1:9000/v2/models/fraud"),
            ])
        // Without a gateway only the names are given; the address stored at readiness is used when there is one.
        #expect(
            RolloutService.previewArguments(endpoint: "fraud", state: state, gatewayURL: nil).map(\.name)
                == ["endpoint", "preview-variant"])
        state.gatewayURL = "http://10.0.0.2:8081"
        #expect(
            RolloutService.previewArguments(endpoint: "fraud", state: state, gatewayURL: nil).last?.value
                == "http://10.0.0.2:8081/v2/models/fraud")

        let template = AnalysisTemplate(
            name: "smoke",
            args: [
                TemplateArgument(name: "preview-url", value: "unset"),
                TemplateArgument(name: "preview-variant", value: "unset"),
            ],
            metrics: [
                MetricSpec(
                    name: "ready",
                    provider: .web(
                        WebProvider(
                            url: "{{args.preview-url}}/ready",
                            headers: ["X-Slipway-Variant": "{{args.preview-variant}}"])))
            ])
        let spec = RolloutSpec(
            name: "fraud-bg", endpoint: "fraud",
            candidate: CandidateSpec(model: "fraud", reference: .version(2), variant: "green"),
            strategy: .blueGreen(BlueGreenStrategy()))
        let stored = StoredRolloutSpec(spec: spec, templates: [template])
        let reference = AnalysisReference(
            templates: [TemplateReference(templateName: "smoke")], args: [])
        let resolved = try RolloutService.resolvedTemplates(reference, stored, arguments: arguments)
        guard case .web(let web) = resolved.first?.metrics.first?.provider else {
            Issue.record("expected a web metric")
            return
        }
        #expect(web.url == "http://127.0.0.1:9000/v2/models/fraud/ready")
        #expect(web.headers == ["X-Slipway-Variant": "green"])
        // The rollout's own arguments win over the controller's.
        let overridden = AnalysisReference(
            templates: [TemplateReference(templateName: "smoke")],
            args: [AnalysisArgument(name: "preview-url", value: "http://x")])
        guard
            case .web(let web2) = try RolloutService.resolvedTemplates(
                overridden, stored, arguments: arguments
            ).first?.metrics.first?.provider
        else {
            Issue.record("expected a web metric")
            return
        }
        #expect(web2.url == "http://x/ready")
    }

    @Test func specsNamingUndefinedTemplatesAreRefused() async throws {
        let controller = service(MemoryRolloutStore(), RecordingTraffic(), TestClock())
        let spec = RolloutSpec(
            name: "fraud-bg", endpoint: "fraud",
            candidate: CandidateSpec(model: "fraud", reference: .version(2)),
            strategy: .blueGreen(
                BlueGreenStrategy(
                    postPromotionAnalysis: AnalysisReference(
                        templates: [TemplateReference(templateName: "nope")], args: []))))
        do {
            _ = try await controller.start(spec: spec, templates: [], by: Self.admin)
            Issue.record("the rollout started")
        } catch let error as GenericError {
            #expect(
                error.message
                    == "postPromotionAnalysis names analysis template 'nope', which the spec does not define")
        }
        #expect(try await controller.list(by: Self.admin).isEmpty)
    }
}
