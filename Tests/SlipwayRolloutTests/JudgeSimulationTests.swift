import SlipwayRollout
import Testing

/// A seeded, smaller version of bench/judge: the default analysis must rarely promote a bad canary,
/// rarely roll back a good one, and give no verdict when traffic is too low.
@Suite struct JudgeSimulationTests {
    @Test func defaultAnalysisMeetsTheTargets() {
        let simulation = CanarySimulation(looks: 4)
        let outcomes = simulation.run(seed: 42, trafficLevels: [50, 2000, 8000], canariesPerLevel: 40)
        #expect(outcomes.count == 120)
        let all = JudgeTally(outcomes, judge: \.analysis)
        #expect(all.good == 60 && all.bad == 60)
        #expect(all.falsePromotionRate < 0.01)
        #expect(all.falseRollbackRate < 0.02)
        // Very low traffic: no verdict at all.
        let low = outcomes.filter { $0.canaryRequests == 50 }
        #expect(low.allSatisfy { $0.analysis == .inconclusive })
        // With enough traffic most bad canaries are caught and good ones promoted.
        let high = JudgeTally(outcomes.filter { $0.canaryRequests == 8000 }, judge: \.analysis)
        #expect(high.badRolledBack >= 18)
        #expect(high.goodPromoted >= 12)
        // Plain thresholds promote most bad canaries and decide even on 50 requests.
        let thresholds = JudgeTally(outcomes, judge: \.threshold)
        #expect(thresholds.falsePromotionRate > 0.5)
        #expect(thresholds.inconclusive == 0)
    }

    @Test func simulationIsReproducible() {
        let simulation = CanarySimulation(looks: 2)
        #expect(
            simulation.run(seed: 9, trafficLevels: [400], canariesPerLevel: 6) == simulation.run(seed: 9, trafficLevels: [400], canariesPerLevel: 6))
    }
}
