import Foundation
import SlipwayRollout
import SlipwayStats
import Testing

@Suite struct CanaryJudgeTests {
    let template = AnalysisTemplate(
        name: "judge",
        metrics: [
            MetricSpec(
                name: "latency", provider: .builtin(BuiltinMetric(kind: .latency)), judge: JudgeMetricOptions(critical: true, allowedIncrease: 0.05)),
            MetricSpec(name: "error-rate", provider: .builtin(BuiltinMetric(kind: .errorRate))),
        ],
        judge: JudgeSpec())

    func sample(requests: Int, errors: Int, medianMs: Double, seed: UInt64) -> VariantSample {
        var g = SeededGenerator(seed: seed)
        return VariantSample(requests: requests, errors: errors, latencyMs: (0..<requests).map { _ in exp(log(medianMs) + 0.4 * g.normal()) })
    }

    @Test func equalVariantsPass() {
        let (outcome, result) = CanaryJudge.measure(
            template, stable: sample(requests: 2000, errors: 20, medianMs: 100, seed: 1),
            canary: sample(requests: 2000, errors: 21, medianMs: 100, seed: 2))
        #expect(result?.verdict == .pass)
        guard case .decided(.successful, let message) = outcome else {
            Issue.record("expected success, got \(outcome)")
            return
        }
        #expect(message.hasPrefix("score 100.0 (pass): latency Pass"))
    }

    @Test func slowerCanaryFailsOnACriticalMetric() {
        let (outcome, result) = CanaryJudge.measure(
            template, stable: sample(requests: 2000, errors: 20, medianMs: 100, seed: 1),
            canary: sample(requests: 2000, errors: 20, medianMs: 130, seed: 2))
        #expect(result?.verdict == .fail)
        #expect(result?.metrics.first?.classification == .high)
        guard case .decided(.failed, _) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
    }

    @Test func moreErrorsAreHigh() {
        let (_, result) = CanaryJudge.measure(
            template, stable: sample(requests: 5000, errors: 50, medianMs: 100, seed: 1),
            canary: sample(requests: 5000, errors: 200, medianMs: 100, seed: 2))
        #expect(result?.metrics.last?.classification == .high)
        #expect(result?.score == 50)
    }

    @Test func tooLittleTrafficIsInconclusive() {
        let (outcome, result) = CanaryJudge.measure(
            template, stable: sample(requests: 2000, errors: 20, medianMs: 100, seed: 1),
            canary: sample(requests: 50, errors: 0, medianMs: 100, seed: 2))
        #expect(result == nil)
        #expect(MeasurementEvaluator.evaluate(outcome, successCondition: nil, failureCondition: nil).phase == .inconclusive)
    }

    @Test func externalSamplesForPrometheusMetrics() {
        let t = AnalysisTemplate(
            name: "p",
            metrics: [
                MetricSpec(name: "cpu", provider: .prometheus(PrometheusProvider(query: "cpu")), judge: JudgeMetricOptions(direction: .increase))
            ],
            judge: JudgeSpec())
        let empty = VariantSample(requests: 0, errors: 0)
        let series = (0..<300).map { Double($0 % 10) }
        let (outcome, _) = CanaryJudge.measure(t, stable: empty, canary: empty, external: ["cpu": (series, series)])
        #expect(MeasurementEvaluator.evaluate(outcome, successCondition: nil, failureCondition: nil).phase == .successful)
        let (missing, _) = CanaryJudge.measure(t, stable: empty, canary: empty)
        #expect(missing == .error("no samples for metric 'cpu'"))
    }
}
