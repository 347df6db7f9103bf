import Foundation
import SlipwayRollout
import Testing

@Suite struct BuiltinMetricTests {
    let stable = VariantSample(
        requests: 1000, errors: 10, latencyMs: (1...100).map(Double.init), predictionCounts: ["a": 500, "b": 490])
    let canary = VariantSample(
        requests: 400, errors: 12, latencyMs: (1...100).map { Double($0) * 2 }, predictionCounts: ["a": 300, "b": 88])

    func value(_ o: MeasurementOutcome) -> ConditionValue? {
        if case .value(let v) = o { return v }
        return nil
    }

    @Test func errorRateWithBothSides() throws {
        let o = BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .errorRate), stable: stable, canary: canary)
        let v = try #require(value(o))
        #expect(v.numberValue == 0.03)
        #expect(
            try Condition("result == 0.03 && result.stable == 0.01 && abs(result.delta - 0.02) < 1e-12 && abs(result.ratio - 3) < 1e-12")
                .evaluate(result: v))
        #expect(try Condition("result.canaryRequests == 400 && result.stableRequests == 1000").evaluate(result: v))
        let stableSide = try #require(
            value(BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .errorRate, variant: .stable), stable: stable, canary: canary)))
        #expect(stableSide.numberValue == 0.01)
    }

    @Test func minimumSampleGuard() {
        let o = BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .errorRate, minSamples: 500), stable: stable, canary: canary)
        #expect(o == .insufficientSamples("too little traffic: 400 requests to the canary variant, fewer than minSamples 500"))
        #expect(MeasurementEvaluator.evaluate(o, successCondition: nil, failureCondition: nil).phase == .inconclusive)
        // The other variant is guarded too when it has some traffic…
        let tinyStable = VariantSample(requests: 50, errors: 0)
        #expect(
            BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .errorRate), stable: tinyStable, canary: canary)
                == .insufficientSamples("too little traffic: 50 requests to the stable variant, fewer than minSamples 200"))
        // …and left out of the comparison when it has none.
        let alone = value(BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .errorRate), stable: VariantSample(requests: 0, errors: 0), canary: canary))
        #expect(alone?.numberValue == 0.03)
        #expect(throws: RolloutError.self) { try Condition("result.delta < 0.01").evaluate(result: alone ?? .null) }
        // Request counts are never guarded.
        let count = BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .requestCount, minSamples: 500), stable: stable, canary: canary)
        #expect(value(count)?.numberValue == 400)
    }

    @Test func latencyQuantiles() throws {
        let p50 = try #require(value(BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .latency, quantile: .p50), stable: stable, canary: canary)))
        #expect(p50.numberValue == 101)
        #expect(try Condition("result.stable == 50.5 && result.ratio == 2").evaluate(result: p50))
        let p99 = try #require(value(BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .latency), stable: stable, canary: canary)))
        #expect(abs(try #require(p99.numberValue) - 198.02) < 1e-9)
        // Without samples, the histogram's quantiles are used.
        let fromHistogram = VariantSample(requests: 1000, errors: 0, latencyQuantiles: LatencyQuantiles(p50: 10, p95: 40, p99: 90))
        let h = try #require(
            value(BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .latency, quantile: .p95), stable: fromHistogram, canary: fromHistogram)))
        #expect(h.numberValue == 40)
    }

    @Test func predictionDrift() throws {
        let js = try #require(value(BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .predictionDrift), stable: stable, canary: canary)))
        #expect(try #require(js.numberValue) > 0.1)
        #expect(try Condition("result.pValue < 0.001 && result.psi > 0.1").evaluate(result: js))
        let tooFew = BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .predictionDrift, minSamples: 1000), stable: stable, canary: canary)
        guard case .insufficientSamples = tooFew else {
            Issue.record("expected the guard")
            return
        }
        var a = stable
        var b = canary
        a.predictionValues = (0..<300).map { Double($0) }
        b.predictionValues = (0..<300).map { Double($0) + 150 }
        let ks = try #require(value(BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .predictionDrift, method: .ks), stable: a, canary: b)))
        #expect(ks.numberValue == 0.5)
    }

    @Test func outcomes() throws {
        var a = stable
        var b = canary
        a.outcome = OutcomeSummary(conversions: 100, trials: 1000)
        b.outcome = OutcomeSummary(conversions: 90, trials: 600)
        let conversion = try #require(value(BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .conversion), stable: a, canary: b)))
        #expect(conversion.numberValue == 0.15)
        let guarded = BuiltinMetricEvaluator.measure(BuiltinMetric(kind: .outcomeMean), stable: a, canary: b)
        guard case .insufficientSamples = guarded else {
            Issue.record("expected the guard: no numeric outcomes")
            return
        }
    }
}
