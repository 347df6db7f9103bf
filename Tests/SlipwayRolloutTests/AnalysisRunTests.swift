import Foundation
import SlipwayRollout
import Testing

@Suite struct AnalysisRunTests {
    static let ok = MeasurementOutcome.value(.number(0.01))
    static let bad = MeasurementOutcome.value(.number(0.5))
    static let unsure = MeasurementOutcome.insufficientSamples("too little traffic")
    static let broken = MeasurementOutcome.error("connection refused")

    /// A run of one metric `m` that succeeds below 0.05.
    func run(_ policy: MeasurementPolicy) throws -> AnalysisRun {
        AnalysisRun(entries: [AnalysisRun.Entry(name: "m", policy: policy, successCondition: try Condition("result < 0.05"))])
    }

    /// Records outcomes one interval apart and returns the run's phase after each.
    func phases(_ run: inout AnalysisRun, _ outcomes: [MeasurementOutcome], metric: String = "m") throws -> [AnalysisPhase] {
        var phases: [AnalysisPhase] = []
        for (i, o) in outcomes.enumerated() {
            try run.record(o, for: metric, at: Double(i) * 60)
            phases.append(run.phase)
        }
        return phases
    }

    @Test func measurementPhases() throws {
        let success = try Condition("result < 0.05")
        let failure = try Condition("result > 0.1")
        func phase(_ o: MeasurementOutcome, _ s: Condition?, _ f: Condition?) -> AnalysisPhase {
            MeasurementEvaluator.evaluate(o, successCondition: s, failureCondition: f).phase
        }
        #expect(phase(.value(.number(1)), nil, nil) == .successful)
        #expect(phase(Self.ok, success, nil) == .successful)
        #expect(phase(Self.bad, success, nil) == .failed)
        #expect(phase(Self.ok, nil, failure) == .successful)
        #expect(phase(Self.bad, nil, failure) == .failed)
        // Both: failure wins, neither is inconclusive.
        #expect(phase(Self.ok, success, failure) == .successful)
        #expect(phase(.value(.number(0.07)), success, failure) == .inconclusive)
        #expect(phase(Self.bad, try Condition("result > 0"), failure) == .failed)
        // A condition that does not fit the value is an error; the guard is inconclusive.
        #expect(phase(.value(.map(["x": .number(1)])), success, nil) == .error)
        #expect(phase(Self.unsure, success, nil) == .inconclusive)
        #expect(phase(Self.broken, success, nil) == .error)
        #expect(phase(.decided(.failed, message: "exit 1"), nil, nil) == .failed)
    }

    @Test func singleMeasurementWithoutInterval() throws {
        var r = try run(MeasurementPolicy())
        #expect(r.due(at: 0) == ["m"])
        #expect(try phases(&r, [Self.ok]) == [.successful])
        #expect(r.due(at: 1000).isEmpty)
        #expect(r["m"]?.count == 1)
    }

    @Test func failureLimit() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(1), count: 5, failureLimit: 2))
        #expect(try phases(&r, [Self.bad, Self.ok, Self.bad, Self.bad]) == [.running, .running, .running, .failed])
        #expect(r["m"]?.failed == 3)
        #expect(r["m"]?.message == "3 failed measurement(s), more than failureLimit 2")
        #expect(r.message?.hasPrefix("metric 'm' failed") == true)
        // A completed run ignores further measurements.
        try r.record(Self.ok, for: "m", at: 999)
        #expect(r["m"]?.measurements.count == 4)
    }

    @Test func countReachedWithFailuresWithinTheLimit() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(1), count: 3, failureLimit: 1))
        #expect(try phases(&r, [Self.bad, Self.ok, Self.ok]) == [.running, .running, .successful])
    }

    @Test func defaultFailureLimitIsZero() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(1), count: 3))
        #expect(try phases(&r, [Self.ok, Self.bad]) == [.running, .failed])
    }

    @Test func inconclusiveLimit() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(1), count: 5, inconclusiveLimit: 1))
        #expect(try phases(&r, [Self.unsure, Self.ok, Self.unsure]) == [.running, .running, .inconclusive])
        #expect(r["m"]?.inconclusive == 2)
    }

    @Test func consecutiveErrorLimitAndErrorsDoNotCount() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(1), count: 3, consecutiveErrorLimit: 2))
        #expect(try phases(&r, [Self.broken, Self.broken, Self.ok, Self.broken, Self.broken]) == Array(repeating: .running, count: 5))
        #expect(r["m"]?.count == 1)
        #expect(r["m"]?.consecutiveError == 2)
        try r.record(Self.broken, for: "m", at: 400)
        #expect(r.phase == .error)
        #expect(r["m"]?.message == "3 errors in a row, more than consecutiveErrorLimit 2")
    }

    @Test func defaultConsecutiveErrorLimitIsFour() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(1)))
        #expect(try phases(&r, Array(repeating: Self.broken, count: 5)) == [.running, .running, .running, .running, .error])
    }

    @Test func failureIsCheckedBeforeInconclusive() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(1), count: 5))
        try r.record(Self.unsure, for: "m", at: 0)
        #expect(r.phase == .inconclusive)
        var s = try run(MeasurementPolicy(interval: .minutes(1), count: 5, inconclusiveLimit: 3))
        #expect(try phases(&s, [Self.unsure, Self.bad]) == [.running, .failed])
    }

    @Test func indefiniteMetricRunsUntilTerminated() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(5)))
        #expect(try phases(&r, Array(repeating: Self.ok, count: 10)) == Array(repeating: .running, count: 10))
        r.terminate()
        #expect(r.phase == .successful)
        #expect(r.isTerminating)
    }

    @Test func oneFailedMetricEndsTheRun() throws {
        var r = AnalysisRun(entries: [
            AnalysisRun.Entry(name: "errors", policy: MeasurementPolicy(interval: .minutes(1)), successCondition: try Condition("result < 0.05")),
            AnalysisRun.Entry(
                name: "latency", policy: MeasurementPolicy(interval: .minutes(1), count: 10), successCondition: try Condition("result < 500")),
        ])
        #expect(Set(r.due(at: 0)) == ["errors", "latency"])
        try r.record(.value(.number(300)), for: "latency", at: 0)
        try r.record(Self.ok, for: "errors", at: 0)
        #expect(r.phase == .running)
        try r.record(.value(.number(900)), for: "latency", at: 60)
        #expect(r.phase == .failed)
        #expect(r["latency"]?.phase == .failed)
        // The other metric stopped and counts as successful; nothing is due any more.
        #expect(r["errors"]?.phase == .successful)
        #expect(r.due(at: 120).isEmpty)
        #expect(r.nextDue() == nil)
    }

    @Test func worstPhaseWins() throws {
        var r = AnalysisRun(entries: [
            AnalysisRun.Entry(name: "a", policy: MeasurementPolicy()),
            AnalysisRun.Entry(name: "b", policy: MeasurementPolicy(), successCondition: try Condition("result < 1")),
        ])
        try r.record(.value(.number(1)), for: "a", at: 0)
        #expect(r.phase == .running)
        try r.record(.value(.map([:])), for: "b", at: 0)  // condition error → Error measurement
        #expect(r["b"]?.phase == .running)
        for t in 1...4 { try r.record(.value(.map([:])), for: "b", at: Double(t) * 10) }
        #expect(r.phase == .error)
    }

    @Test func scheduling() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(5), count: 3, initialDelay: .minutes(2)))
        #expect(r.due(at: 0).isEmpty)
        #expect(r.nextDue() == 120)
        #expect(r.due(at: 120) == ["m"])
        try r.record(Self.ok, for: "m", at: 120)
        #expect(r.nextDue() == 420)
        try r.record(Self.broken, for: "m", at: 420)
        // An error is retried after 10 seconds, not a whole interval.
        #expect(r.nextDue() == 430)
        try r.record(Self.ok, for: "m", at: 430)
        try r.record(Self.ok, for: "m", at: 730)
        #expect(r.phase == .successful)
        #expect(r.nextDue() == nil)
        #expect(throws: RolloutError.self) { try r.record(Self.ok, for: "nope", at: 0) }
    }

    @Test func defaultAnalysisRunStopsAtTheFirstDecision() throws {
        let configuration = DefaultAnalysisConfiguration(count: 4)
        let pass = MeasurementOutcome.decided(.successful, message: "pass")
        let fail = MeasurementOutcome.decided(.failed, message: "fail")
        let unsure = MeasurementOutcome.decided(.inconclusive, message: "unsure")
        var r = AnalysisRun(defaultAnalysis: configuration)
        #expect(try phases(&r, [unsure, unsure, pass], metric: "default") == [.running, .running, .successful])
        r = AnalysisRun(defaultAnalysis: configuration)
        #expect(try phases(&r, [unsure, fail], metric: "default") == [.running, .failed])
        r = AnalysisRun(defaultAnalysis: configuration)
        #expect(try phases(&r, [unsure, unsure, unsure, unsure], metric: "default") == [.running, .running, .running, .inconclusive])
        #expect(r["default"]?.message == "4 measurement(s) taken without 1 successful in a row")
        #expect(r.nextDue() == nil)
    }

    @Test func templatesBecomeEntries() throws {
        let metric = MetricSpec(name: "errors", provider: .builtin(BuiltinMetric(kind: .errorRate)))
        let a = AnalysisTemplate(name: "a", metrics: [metric])
        let b = AnalysisTemplate(name: "b", metrics: [metric, MetricSpec(name: "other", provider: .prometheus(PrometheusProvider(query: "up")))])
        let judged = AnalysisTemplate(
            name: "judged", metrics: [metric], judge: JudgeSpec(policy: MeasurementPolicy(interval: .minutes(10), count: 3)))
        let r = AnalysisRun(templates: [a, b, judged])
        #expect(r.entries.map(\.name) == ["a.errors", "b.errors", "other", "judged"])
        #expect(r.entries[3].policy.count == 3)
        #expect(AnalysisRun(entries: []).phase == .successful)
    }

    @Test func runIsCodable() throws {
        var r = try run(MeasurementPolicy(interval: .minutes(1), count: 3))
        try r.record(Self.ok, for: "m", at: 0)
        let data = try JSONEncoder().encode(r)
        #expect(try JSONDecoder().decode(AnalysisRun.self, from: data) == r)
    }
}
