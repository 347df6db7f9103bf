import Foundation
import SlipwayRollout
import SlipwayStats
import Testing

@Suite struct ExperimentAnalysisTests {
    let spec = ExperimentStrategy(guardrails: [.errorRate], mde: 0.1, relative: true, baseline: 0.1)

    func arm(requests: Int, errors: Int = 0, conversions: Int, trials: Int) -> VariantSample {
        VariantSample(requests: requests, errors: errors, outcome: OutcomeSummary(conversions: conversions, trials: trials))
    }

    @Test func sampleSizeFromThePlan() throws {
        let n = try spec.sampleSize()
        // statsmodels NormalIndPower for Cohen's h(0.10, 0.11), alpha 0.05, power 0.8: 14,744.1 per arm.
        #expect(n.stable == 14_745)
        #expect(n.candidate == 14_745)
        var uneven = spec
        uneven.weight = 20
        let m = try uneven.sampleSize()
        #expect(m.candidate < m.stable)
    }

    @Test func fixedHorizonWaitsForThePlannedSample() throws {
        let analysis = ExperimentAnalysis(strategy: spec)
        let early = try analysis.evaluate(
            stable: arm(requests: 5000, conversions: 500, trials: 5000), candidate: arm(requests: 5000, conversions: 700, trials: 5000))
        #expect(early.decision == .continue)
        #expect(early.primary == nil)
        let done = try analysis.evaluate(
            stable: arm(requests: 15_000, conversions: 1500, trials: 15_000), candidate: arm(requests: 15_000, conversions: 1700, trials: 15_000))
        #expect(done.decision == .promote)
        #expect(done.verdict == .pass)
        let flat = try analysis.evaluate(
            stable: arm(requests: 15_000, conversions: 1500, trials: 15_000), candidate: arm(requests: 15_000, conversions: 1510, trials: 15_000))
        #expect(flat.decision == .keepStable)
        #expect(flat.reason.hasPrefix("no difference detectable at the planned sample size"))
    }

    @Test func sequentialDecidesEarly() throws {
        var s = spec
        s.decision = .sequential
        let r = try ExperimentAnalysis(strategy: s).evaluate(
            stable: arm(requests: 5000, conversions: 500, trials: 5000), candidate: arm(requests: 5000, conversions: 800, trials: 5000))
        #expect(r.decision == .promote)
        let worse = try ExperimentAnalysis(strategy: s).evaluate(
            stable: arm(requests: 5000, conversions: 800, trials: 5000), candidate: arm(requests: 5000, conversions: 500, trials: 5000))
        #expect(worse.decision == .keepStable)
    }

    @Test func sampleRatioMismatchHalts() throws {
        let r = try ExperimentAnalysis(strategy: spec).evaluate(
            stable: arm(requests: 10_000, conversions: 1000, trials: 10_000), candidate: arm(requests: 9_000, conversions: 900, trials: 9_000))
        #expect(r.decision == .halt)
        #expect(r.srm?.isMismatch == true)
        #expect(r.reason.hasPrefix("sample ratio mismatch: 10000 stable and 9000 candidate requests for a 50/50 split"))
    }

    @Test func failingGuardrailKeepsStable() throws {
        let r = try ExperimentAnalysis(strategy: spec).evaluate(
            stable: arm(requests: 10_000, errors: 100, conversions: 1000, trials: 10_000),
            candidate: arm(requests: 10_000, errors: 600, conversions: 1400, trials: 10_000))
        #expect(r.decision == .keepStable)
        #expect(r.reason.hasPrefix("guardrail error-rate failed"))
    }

    @Test func maxDuration() throws {
        var s = spec
        s.maxDuration = .hours(24)
        let r = try ExperimentAnalysis(strategy: s).evaluate(
            stable: arm(requests: 500, conversions: 50, trials: 500), candidate: arm(requests: 500, conversions: 50, trials: 500), elapsed: .hours(25)
        )
        #expect(r.decision == .keepStable)
        #expect(r.reason.hasPrefix("maxDuration 1d reached"))
    }
}

@Suite struct ShadowAnalysisTests {
    let shadow = ShadowAnalysis(strategy: ShadowStrategy(percentage: 20, minAgreement: 0.95))
    let stable = VariantSample(requests: 40_000, errors: 400)
    let candidate = VariantSample(requests: 8_000, errors: 80)

    @Test func agreementDecides() throws {
        let good = try shadow.evaluate(stable: stable, shadow: candidate, agreed: 7_900, compared: 8_000)
        #expect(good.checks.first?.name == "agreement")
        #expect(good.checks.first?.verdict == .pass)
        let bad = try shadow.evaluate(stable: stable, shadow: candidate, agreed: 7_000, compared: 8_000)
        #expect(bad.verdict == .fail)
        #expect(bad.checks.first?.reason.hasPrefix("87.50% of 8000 answers agree") == true)
        let close = try shadow.evaluate(stable: stable, shadow: candidate, agreed: 7_610, compared: 8_000)
        #expect(close.checks.first?.verdict == .inconclusive)
        let few = try shadow.evaluate(stable: stable, shadow: candidate, agreed: 100, compared: 100)
        #expect(few.checks.first?.verdict == .inconclusive)
        #expect(throws: RolloutError.self) { try shadow.evaluate(stable: stable, shadow: candidate, agreed: 9, compared: 8) }
    }

    @Test func clopperPearsonBounds() throws {
        let r = try shadow.evaluate(stable: stable, shadow: candidate, agreed: 8_000, compared: 8_000)
        let check = try #require(r.checks.first)
        #expect(check.numbers["ciHigh"] == 1)
        // All agree: the lower bound is (α/2)^(1/n).
        #expect(abs(try #require(check.numbers["ciLow"]) - pow(0.005, 1.0 / 8000)) < 1e-9)
    }
}
