import Foundation
import Logging
import SlipwayCore
import SlipwayRollout
import SlipwayStats
import SlipwayStore
import Testing

extension RolloutStrategy {
    /// The sample-size plan of an experiment.
    var experimentPlan: (stable: Int, candidate: Int)? {
        guard case .experiment(let strategy) = self else { return nil }
        return try? strategy.sampleSize()
    }
}

/// A/B experiments run by the controller without a server: the in-memory store, the recording traffic double
/// (whose prediction-log counts the test sets) and a clock the test moves.
@Suite struct ExperimentServiceTests {
    static let admin = Principal(name: "ana", role: .admin)

    static func yaml(_ extra: String = "", decision: String = "fixed-horizon") -> String {
        """
        name: fraud-ab
        endpoint: fraud
        candidate: {model: fraud, version: 2}
        strategy:
          experiment:
            weight: 50
            primary: {metric: conversion}
            guardrails: [error-rate]
            mde: 0.5
            baseline: 0.1
            decision: \(decision)
        \(extra)
        """
    }

    static let strategy = ExperimentStrategy(guardrails: [.errorRate], mde: 0.5, baseline: 0.1)

    func service(_ store: MemoryRolloutStore, _ traffic: RecordingTraffic, _ clock: TestClock) -> RolloutService {
        RolloutService(store: store, traffic: traffic, logger: Logger(label: "test"), now: { clock.now })
    }

    /// Counts of one arm: `units` outcomes of which `conversions` converted, out of `requests` answers.
    static func arm(requests: Int, errors: Int = 0, units: Int, conversions: Int) -> ArmCounts {
        var values = MomentAccumulator()
        values.add(contentsOf: Array(repeating: 1.0, count: conversions) + Array(repeating: 0.0, count: units - conversions))
        return ArmCounts(requests: requests, errors: errors, outcome: OutcomeSummary(conversions: conversions, trials: units, values: values))
    }

    /// Starts the experiment and advances it to its split.
    func started(_ yaml: String = Self.yaml()) async throws -> (MemoryRolloutStore, RecordingTraffic, TestClock, RolloutService) {
        let store = MemoryRolloutStore()
        let traffic = RecordingTraffic()
        let clock = TestClock()
        let controller = service(store, traffic, clock)
        _ = try await controller.start(yaml: yaml, by: Self.admin)
        try await controller.advance("fraud-ab")
        #expect(traffic.calls == ["deploy canary fraud@2", "weight canary 50"])
        return (store, traffic, clock, controller)
    }

    @Test func theSplitIsPlannedAndAWinningCandidateIsPromotedWithTheNumbersOfSlipwayStats() async throws {
        let (_, traffic, clock, controller) = try await started()
        let plan = try Self.strategy.sampleSize()
        var status = try await controller.status("fraud-ab", by: Self.admin)
        #expect(status.phase == .progressing && status.candidateWeight == 50)
        #expect(status.experiment?.plannedStableUnits == plan.stable && status.experiment?.plannedCandidateUnits == plan.candidate)
        #expect(status.experiment?.startedAt == clock.now)

        // Half the sample: the test goes on and the report shows interim numbers.
        traffic.set(
            counts: ExperimentCounts(variants: [
                "stable": Self.arm(requests: 300, units: plan.stable / 2, conversions: plan.stable / 20),
                "canary": Self.arm(requests: 300, units: plan.candidate / 2, conversions: plan.candidate / 12),
            ]))
        try await controller.advance("fraud-ab")
        status = try await controller.status("fraud-ab", by: Self.admin)
        #expect(status.phase == .progressing)
        #expect(status.experiment?.report?.outcome == .running && status.experiment?.report?.method == "interim")
        #expect(status.experiment?.looks == 1)

        // The next look waits its interval of controller time.
        try await controller.advance("fraud-ab")
        #expect(traffic.countReads.count == 1)
        clock.advance(5)

        // The planned sample with a clear lift: promoted, with SlipwayStats' numbers for the same counts.
        let stable = Self.arm(requests: plan.stable + 40, units: plan.stable, conversions: plan.stable / 10)
        let candidate = Self.arm(requests: plan.candidate + 40, units: plan.candidate, conversions: plan.candidate / 6)
        traffic.set(counts: ExperimentCounts(variants: ["stable": stable, "canary": candidate]))
        try await controller.advance("fraud-ab")
        status = try await controller.status("fraud-ab", by: Self.admin)
        #expect(status.phase == .healthy && status.reason.contains("experiment won"))
        #expect(traffic.calls.suffix(2) == ["switch canary", "alias fraud production 2 promoted by rollout fraud-ab"])
        #expect(traffic.countReads.allSatisfy { $0 == clock.now.addingTimeInterval(-5) })
        let report = try #require(status.experiment?.report)
        let expected = try frequentistEffect(
            control: .proportion(successes: Double(plan.stable / 10), trials: Double(plan.stable)),
            treatment: .proportion(successes: Double(plan.candidate / 6), trials: Double(plan.candidate)), scale: .relative, alpha: 0.05)
        #expect(report.outcome == .promote && report.decision == .promote && report.method == "fixed-horizon")
        #expect(report.lift == expected.estimate && report.ciLow == expected.ciLow && report.ciHigh == expected.ciHigh)
        #expect(report.pValue == expected.pValue)
        let bayes = try betaBinomialTest(
            control: Proportion(successes: Double(plan.stable / 10), trials: Double(plan.stable)),
            treatment: Proportion(successes: Double(plan.candidate / 6), trials: Double(plan.candidate)))
        #expect(report.chanceToWin == bayes.chanceToWin)
        #expect(report.srmPValue != nil && report.stable.units == plan.stable && report.candidate.conversions == plan.candidate / 6)
    }

    @Test func aSequentialTestDecidesBeforeThePlannedSample() async throws {
        let (_, traffic, _, controller) = try await started(Self.yaml(decision: "sequential"))
        let plan = try #require(try RolloutParser().parseRollout(Self.yaml(decision: "sequential")).rollout.strategy.experimentPlan)
        let units = plan.stable - 1
        traffic.set(
            counts: ExperimentCounts(variants: [
                "stable": Self.arm(requests: units, units: units, conversions: units / 10),
                "canary": Self.arm(requests: units, units: units, conversions: units / 3),
            ]))
        try await controller.advance("fraud-ab")
        let status = try await controller.status("fraud-ab", by: Self.admin)
        let report = try #require(status.experiment?.report)
        #expect(status.phase == .healthy && report.method == "sequential" && report.outcome == .promote, "\(status.reason) \(report)")
        let expected = try sequentialEffect(
            control: .proportion(successes: Double(units / 10), trials: Double(units)),
            treatment: .proportion(successes: Double(units / 3), trials: Double(units)), scale: .relative, alpha: 0.05)
        #expect(report.lift == expected.estimate && report.ciLow == expected.ciLow && report.ciHigh == expected.ciHigh)
    }

    @Test func anOutcomeMeanWhereLowerIsBetterKeepsAHigherCandidateOut() async throws {
        let yaml = """
            name: fraud-ab
            endpoint: fraud
            candidate: {model: fraud, version: 2}
            strategy:
              experiment:
                primary: {metric: outcome-mean, direction: decrease}
                guardrails: []
                mde: 0.2
                baseline: 10
                standardDeviation: 4
            """
        let (_, traffic, _, controller) = try await started(yaml)
        func arm(_ mean: Double, _ n: Int) -> ArmCounts {
            var values = MomentAccumulator()
            for i in 0..<n { values.add(mean + (i % 2 == 0 ? 3 : -3)) }
            return ArmCounts(requests: n, errors: 0, outcome: OutcomeSummary(values: values))
        }
        let plan = try #require(try RolloutParser().parseRollout(yaml).rollout.strategy.experimentPlan)
        traffic.set(counts: ExperimentCounts(variants: ["stable": arm(10, plan.stable), "canary": arm(13, plan.candidate)]))
        try await controller.advance("fraud-ab")
        let status = try await controller.status("fraud-ab", by: Self.admin)
        let report = try #require(status.experiment?.report)
        #expect(status.phase == .degraded && status.reason.hasPrefix("kept stable: the candidate is worse"))
        #expect(report.metric == "outcome-mean" && abs((report.stable.value ?? 0) - 10) < 0.1 && abs((report.candidate.value ?? 0) - 13) < 0.1)
        #expect(report.stable.units == plan.stable && report.candidate.units == plan.candidate)
        #expect((report.chanceToWin ?? 1) < 0.01)
    }

    @Test func aSampleRatioMismatchHaltsTheTest() async throws {
        let (_, traffic, _, controller) = try await started()
        traffic.set(
            counts: ExperimentCounts(variants: [
                "stable": Self.arm(requests: 1_000, units: 100, conversions: 10),
                "canary": Self.arm(requests: 1_300, units: 100, conversions: 12),
            ]))
        try await controller.advance("fraud-ab")
        let status = try await controller.status("fraud-ab", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.hasPrefix("experiment halted: sample ratio mismatch: 1000 stable and 1300 candidate"))
        #expect(traffic.calls.last == "weight canary 0" && status.candidateWeight == 0)
        let report = try #require(status.experiment?.report)
        #expect(report.outcome == .halted && (report.srmPValue ?? 1) < 0.001)
    }

    @Test func aFailedGuardrailKeepsStable() async throws {
        let (_, traffic, _, controller) = try await started()
        traffic.set(
            counts: ExperimentCounts(variants: [
                "stable": Self.arm(requests: 2_000, errors: 2, units: 50, conversions: 5),
                "canary": Self.arm(requests: 2_000, errors: 300, units: 50, conversions: 9),
            ]))
        try await controller.advance("fraud-ab")
        let status = try await controller.status("fraud-ab", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.hasPrefix("kept stable: guardrail error-rate failed"))
        #expect(traffic.calls.last == "weight canary 0")
        #expect(!traffic.calls.contains { $0.hasPrefix("alias") })
        #expect(status.experiment?.report?.outcome == .keepControl)
        #expect(status.experiment?.report?.guardrails.first?.verdict == .fail)
    }

    @Test func aWorseCandidateKeepsControlAndTimeRunningOutIsInconclusive() async throws {
        let (_, traffic, _, controller) = try await started()
        let plan = try Self.strategy.sampleSize()
        traffic.set(
            counts: ExperimentCounts(variants: [
                "stable": Self.arm(requests: plan.stable, units: plan.stable, conversions: plan.stable / 5),
                "canary": Self.arm(requests: plan.candidate, units: plan.candidate, conversions: plan.candidate / 20),
            ]))
        try await controller.advance("fraud-ab")
        var status = try await controller.status("fraud-ab", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.hasPrefix("kept stable: the candidate is worse"))
        #expect(status.experiment?.report?.outcome == .keepControl)

        let (_, late, clock, timed) = try await started(Self.yaml("    maxDuration: 1m"))
        late.set(
            counts: ExperimentCounts(variants: [
                "stable": Self.arm(requests: 120, units: 20, conversions: 2), "canary": Self.arm(requests: 118, units: 20, conversions: 3),
            ]))
        try await timed.advance("fraud-ab")
        #expect(try await timed.status("fraud-ab", by: Self.admin).phase == .progressing)
        clock.advance(61)
        try await timed.advance("fraud-ab")
        status = try await timed.status("fraud-ab", by: Self.admin)
        #expect(status.phase == .degraded && status.reason.hasPrefix("kept stable: inconclusive"))
        #expect(status.experiment?.report?.outcome == .inconclusive && late.calls.last == "weight canary 0")
    }

    @Test func aRestartMidTestKeepsThePlanTheStartAndTheLookSchedule() async throws {
        let (store, traffic, clock, first) = try await started()
        let startedAt = clock.now
        traffic.set(
            counts: ExperimentCounts(variants: [
                "stable": Self.arm(requests: 150, units: 40, conversions: 4), "canary": Self.arm(requests: 150, units: 40, conversions: 6),
            ]))
        try await first.advance("fraud-ab")
        clock.advance(3)

        // A new controller on the same store (as after kill -9): nothing is deployed or split again, and the
        // look taken 3 s ago is not repeated before its interval.
        let second = service(store, traffic, clock)
        try await second.advance("fraud-ab")
        #expect(traffic.calls == ["deploy canary fraud@2", "weight canary 50"])
        #expect(traffic.countReads.count == 1)
        clock.advance(2)
        try await second.advance("fraud-ab")
        #expect(traffic.countReads == [startedAt, startedAt])
        let status = try await second.status("fraud-ab", by: Self.admin)
        #expect(status.experiment?.looks == 2 && status.experiment?.startedAt == startedAt)
        #expect(status.experiment?.report?.stable.units == 40)

        // An abort takes the candidate out of traffic; the report stays.
        let aborted = try await second.abort("fraud-ab", by: Self.admin)
        #expect(aborted.phase == .degraded && traffic.calls.last == "weight canary 0" && aborted.experiment?.report != nil)
    }

    @Test func segmentsAreReportedPerValueOfTheConfiguredInput() async throws {
        let (_, traffic, _, controller) = try await started(Self.yaml("    segmentBy: country"))
        var counts = ExperimentCounts()
        for i in 0..<400 {
            let country = i % 2 == 0 ? "fr" : "de"
            let variant = i % 4 < 2 ? "stable" : "canary"
            let features = #"[{"name":"country","shape":[1],"datatype":"BYTES","data":["\#(country)"]}]"#
            let record = PredictionRecord(
                requestId: "r\(i)", timestamp: Date(), endpoint: "fraud", variant: variant, modelVersion: "fraud@1", features: features,
                latencyMs: 1, status: 200, feedback: Feedback(outcome: i % 5 == 0 ? 1 : 0, receivedAt: Date(), by: "ana"))
            counts.add(record, segmentBy: "country")
        }
        #expect(counts.segments.keys.sorted() == ["de", "fr"])
        traffic.set(counts: counts)
        try await controller.advance("fraud-ab")
        let report = try #require(try await controller.status("fraud-ab", by: Self.admin).experiment?.report)
        #expect(report.segmentBy == "country" && report.segments.map(\.value) == ["de", "fr"])
        #expect(report.segments.allSatisfy { $0.stable.units == 100 && $0.candidate.units == 100 })
    }

    @Test(arguments: [
        (nil, "(none)"), ("", "(none)"), ("not json", "(none)"), ("[1,2", "(none)"), ("deadbeef", "(none)"),
        (#"[{"name":"age","data":[[42]]}]"#, "42"), (#"[{"name":"age","data":[1.5]}]"#, "1.5"), (#"{"age":"x"}"#, "x"),
        (#"[{"name":"other","data":[1]}]"#, "(none)"), (#"[{"name":"age","data":[]}]"#, "(none)"), (#"[{"name":"age","data":{"a":1}}]"#, "(none)"),
    ] as [(String?, String)])
    func segmentValuesOfHostileFeatures(_ features: String?, _ expected: String) {
        #expect(ExperimentCounts.segment(of: features, input: "age") == expected)
    }

    @Test func manySegmentValuesAreCappedAndMirroredRecordsAreNotCounted() {
        var counts = ExperimentCounts()
        for i in 0..<50 {
            counts.add(
                PredictionRecord(
                    requestId: "r\(i)", timestamp: Date(), endpoint: "fraud", variant: "stable", modelVersion: "fraud@1",
                    features: #"[{"name":"id","data":[\#(i)]}]"#, latencyMs: 1, status: i == 0 ? 503 : 200), segmentBy: "id")
        }
        counts.add(
            PredictionRecord(
                requestId: "m", timestamp: Date(), endpoint: "fraud", variant: "canary", modelVersion: "fraud@2", kind: .mirror, latencyMs: 1,
                status: 200), segmentBy: "id")
        #expect(counts.segments.count == ExperimentCounts.segmentLimit + 1)
        #expect(counts.segments[ExperimentCounts.otherSegment]?["stable"]?.requests == 50 - ExperimentCounts.segmentLimit)
        #expect(counts.variants["stable"]?.requests == 50 && counts.variants["stable"]?.errors == 1 && counts.variants["canary"] == nil)
    }

    @Test(arguments: [
        "    segmentBy: ''", "    segmentBy: [a, b]", "    segmentBy: {a: 1}", "    segmentBy: \"a\\nb\"",
        "    segmentBy: " + String(repeating: "x", count: 200), "    segmentby: country",
    ])
    func malformedSegmentByIsRefusedWithNothingStarted(_ line: String) async throws {
        let store = MemoryRolloutStore()
        let controller = service(store, RecordingTraffic(), TestClock())
        do {
            _ = try await controller.start(yaml: Self.yaml(line), by: Self.admin)
            Issue.record("started with \(line)")
        } catch let error as RolloutError {
            #expect(error.code == .invalidSpec && !error.diagnostics.isEmpty)
        }
        #expect(try await store.rollouts(runningOnly: false).isEmpty)
    }

    @Test func anImpossiblePlanIsRefusedAtStart() async throws {
        let controller = service(MemoryRolloutStore(), RecordingTraffic(), TestClock())
        let spec = try RolloutParser().parseRollout(Self.yaml()).rollout
        var impossible = spec
        impossible.strategy = .experiment(ExperimentStrategy(mde: 20, baseline: 0.1))
        await #expect(throws: GenericError.self) { _ = try await controller.start(spec: impossible, templates: [], by: Self.admin) }
    }
}
