import Foundation
import SlipwayRollout
import SlipwayStats
import Testing

/// Builds deterministic variant samples.
struct SampleMaker {
    var generator = SeededGenerator(seed: 7)

    mutating func sample(
        requests: Int, errorRate: Double, medianMs: Double = 100, sigma: Double = 0.5, latencySamples: Int = 3000,
        shares: [Double] = [0.5, 0.3, 0.2]
    ) -> VariantSample {
        let errors = Int((Double(requests) * errorRate).rounded())
        let latencies = (0..<min(latencySamples, requests - errors)).map { _ in exp(log(medianMs) + sigma * generator.normal()) }
        var counts: [String: Int] = [:]
        var assigned = 0
        for (i, share) in shares.enumerated() {
            let n = i == shares.count - 1 ? (requests - errors) - assigned : Int((Double(requests - errors) * share).rounded())
            counts["class-\(i)"] = n
            assigned += n
        }
        return VariantSample(requests: requests, errors: errors, latencyMs: latencies, predictionCounts: counts)
    }
}

@Suite struct DefaultAnalysisTests {
    let analysis = DefaultAnalysis()

    @Test func clearlyGoodCanaryPasses() throws {
        var make = SampleMaker()
        let stable = make.sample(requests: 60_000, errorRate: 0.01)
        let canary = make.sample(requests: 20_000, errorRate: 0.01)
        let result = try analysis.evaluate(stable: stable, canary: canary)
        #expect(result.verdict == .pass, "\(result.summary)")
        #expect(result.checks.map(\.name) == ["error-rate", "latency", "prediction-drift"])
        #expect(result.checks.allSatisfy { $0.verdict == .pass })
        let errorRate = try #require(result.checks.first)
        #expect(errorRate.numbers["canaryRate"] == 0.01)
        #expect(try #require(errorRate.numbers["ciHigh"]) < 0.005)
        #expect(result.summary.hasPrefix("Pass — error-rate: canary 1.00% vs stable 1.00%"))
        // As a measurement of a default-analysis run.
        #expect(analysis.measure(stable: stable, canary: canary) == DefaultAnalysis.outcome(of: result))
        guard case .decided(.successful, _) = analysis.measure(stable: stable, canary: canary) else {
            Issue.record("expected a successful measurement")
            return
        }
    }

    @Test func higherErrorRateFails() throws {
        var make = SampleMaker()
        let result = try analysis.evaluate(
            stable: make.sample(requests: 30_000, errorRate: 0.01), canary: make.sample(requests: 10_000, errorRate: 0.04))
        #expect(result.verdict == .fail)
        let check = try #require(result.checks.first { $0.name == "error-rate" })
        #expect(check.verdict == .fail)
        #expect(check.reason.contains("canary 4.00% vs stable 1.00%"))
        #expect(try #require(check.numbers["ciLow"]) > 0)
    }

    @Test func slowerCanaryFails() throws {
        var make = SampleMaker()
        let result = try analysis.evaluate(
            stable: make.sample(requests: 3000, errorRate: 0.01), canary: make.sample(requests: 1000, errorRate: 0.01, medianMs: 150))
        #expect(result.verdict == .fail)
        let check = try #require(result.checks.first { $0.name == "latency" })
        #expect(check.verdict == .fail)
        #expect(abs(try #require(check.numbers["ratio"]) - 1.5) < 0.1)
    }

    @Test func movedPredictionsFail() throws {
        var make = SampleMaker()
        let result = try analysis.evaluate(
            stable: make.sample(requests: 9000, errorRate: 0.01), canary: make.sample(requests: 3000, errorRate: 0.01, shares: [0.3, 0.3, 0.4]))
        #expect(result.verdict == .fail)
        let check = try #require(result.checks.first { $0.name == "prediction-drift" })
        #expect(check.verdict == .fail)
        #expect(try #require(check.numbers["js"]) > 0.05)
        #expect(try #require(check.numbers["pValue"]) < 1e-10)
    }

    @Test func tooLittleTrafficIsInconclusive() throws {
        var make = SampleMaker()
        // Even a canary failing every other request: 120 requests are below the guard.
        let result = try analysis.evaluate(stable: make.sample(requests: 5000, errorRate: 0.01), canary: make.sample(requests: 120, errorRate: 0.5))
        #expect(result.verdict == .inconclusive)
        #expect(result.checks.map(\.name) == ["traffic"])
        #expect(result.summary == "Inconclusive — traffic: too little traffic to decide: canary 120, stable 5000 requests; each needs at least 200")
    }

    @Test func moderateTrafficCannotProveTheErrorRate() throws {
        var make = SampleMaker()
        let result = try analysis.evaluate(stable: make.sample(requests: 1500, errorRate: 0.01), canary: make.sample(requests: 500, errorRate: 0.01))
        #expect(result.verdict == .inconclusive)
        let check = try #require(result.checks.first { $0.name == "error-rate" })
        #expect(check.verdict == .inconclusive)
        #expect(try #require(check.numbers["requestsNeeded"]) > 500)
    }

    @Test func checksWithoutDataAreLeftOut() throws {
        let stable = VariantSample(requests: 50_000, errors: 500)
        let canary = VariantSample(requests: 50_000, errors: 480)
        let result = try analysis.evaluate(stable: stable, canary: canary)
        #expect(result.checks.map(\.name) == ["error-rate"])
        #expect(result.verdict == .pass)
        // No errors at all in either variant still gives an answer.
        let clean = try analysis.evaluate(stable: VariantSample(requests: 40_000, errors: 0), canary: VariantSample(requests: 20_000, errors: 0))
        #expect(clean.verdict == .pass)
    }

    @Test func outcomesAreChecked() throws {
        var stable = VariantSample(requests: 500_000, errors: 0)
        var canary = VariantSample(requests: 500_000, errors: 0)
        stable.outcome = OutcomeSummary(conversions: 60_000, trials: 500_000)
        canary.outcome = OutcomeSummary(conversions: 50_000, trials: 500_000)
        let result = try analysis.evaluate(stable: stable, canary: canary)
        let check = try #require(result.checks.first { $0.name == "outcome" })
        #expect(check.verdict == .fail)
        #expect(result.verdict == .fail)
        canary.outcome = OutcomeSummary(conversions: 60_500, trials: 500_000)
        #expect(try analysis.evaluate(stable: stable, canary: canary).verdict == .pass)
        // Where lower is better, fewer conversions pass.
        var lowerIsBetter = DefaultAnalysisConfiguration()
        lowerIsBetter.outcome.direction = .decrease
        canary.outcome = OutcomeSummary(conversions: 50_000, trials: 500_000)
        #expect(try DefaultAnalysis(configuration: lowerIsBetter).evaluate(stable: stable, canary: canary).verdict == .pass)
    }

    @Test func inconsistentInputIsRejected() {
        #expect(throws: RolloutError.self) {
            try analysis.evaluate(stable: VariantSample(requests: 10, errors: 11), canary: VariantSample(requests: 10, errors: 0))
        }
        guard
            case .error(let message) = analysis.measure(stable: VariantSample(requests: -1, errors: 0), canary: VariantSample(requests: 1, errors: 0))
        else {
            Issue.record("expected an error measurement")
            return
        }
        #expect(message.contains("must not be negative"))
    }

    @Test func resultIsCodable() throws {
        var make = SampleMaker()
        let result = try analysis.evaluate(stable: make.sample(requests: 3000, errorRate: 0.01), canary: make.sample(requests: 1000, errorRate: 0.02))
        let data = try JSONEncoder().encode(result)
        #expect(try JSONDecoder().decode(DefaultAnalysisResult.self, from: data) == result)
    }
}
