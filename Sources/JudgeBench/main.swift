// The judge benchmark: simulated canaries with known truth, judged by the default analysis and by
// plain thresholds. bench/judge/run.sh builds this in release mode and writes its tables to BENCHMARKS.md.
//
// Usage: JudgeBench [--seed N] [--per-level N] [--levels 50,200,1000,5000,20000] [--looks N]
import Foundation
import SlipwayRollout

var seed: UInt64 = 20_240_601
var perLevel = 200
var levels = [50, 200, 1000, 5000, 20000]
var looks = 4
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst() else {
        FileHandle.standardError.write(Data("\(flag) needs a value\n".utf8))
        exit(2)
    }
    switch flag {
    case "--seed": seed = UInt64(value) ?? seed
    case "--per-level": perLevel = Int(value) ?? perLevel
    case "--levels": levels = value.split(separator: ",").compactMap { Int($0) }
    case "--looks": looks = Int(value) ?? looks
    default:
        FileHandle.standardError.write(Data("unknown flag \(flag)\n".utf8))
        exit(2)
    }
}

let simulation = CanarySimulation(looks: looks)
let started = Date()
let outcomes = simulation.run(seed: seed, trafficLevels: levels, canariesPerLevel: perLevel)
let seconds = Date().timeIntervalSince(started)

func pct(_ n: Int, _ of: Int) -> String { of == 0 ? "–" : String(format: "%.1f%%", 100 * Double(n) / Double(of)) }
func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }

let judges: [(String, KeyPath<CanarySimulation.Outcome, AnalysisPhase>)] = [
    ("default analysis", \.analysis), ("thresholds (error rate < 5%, p99 < 500 ms)", \.threshold),
]
let truth = simulation.truth
let c = simulation.configuration
print(
    "\(outcomes.count) simulated canaries (seed \(seed)), \(perLevel) per traffic level, \(looks) looks each; "
        + "simulated in \(String(format: "%.1f", seconds)) s."
)
print(
    "Good canaries equal stable; bad ones (every other canary, taking turns) have error rate +\(Int(truth.errorRateIncrease * 100)) points "
        + "(stable 0.5–2%), latency ×\(truth.latencyFactor) (stable median 50–150 ms, p99 ≈ 3.2 × median), or the first of three classes "
        + "losing \(Int(((truth.classShares[0] - truth.defectiveClassShares[0]) * 100).rounded())) points of share. "
        + "Stable serves \(Int(truth.stablePerCanary))× the canary's requests. Default analysis: minSamples \(c.minSamples), error-rate margin "
        + "max(\(c.errorRate.margin * 100) points, \(Int(c.errorRate.relativeMargin * 100))% of stable), "
        + "latency margin +\(Int(c.latency.margin * 100))%, "
        + "class-share margin \(Int(c.predictionDrift.shareMargin * 100)) points.")
print("")
print(row(["judge", "false promotions (bad promoted)", "false rollbacks (good rolled back)", "inconclusive"]))
print(row(["---", "---:", "---:", "---:"]))
for (name, path) in judges {
    let t = JudgeTally(outcomes, judge: path)
    print(
        row([
            name, "\(t.falsePromotions)/\(t.bad) (\(pct(t.falsePromotions, t.bad)))",
            "\(t.falseRollbacks)/\(t.good) (\(pct(t.falseRollbacks, t.good)))",
            "\(t.inconclusive)/\(t.good + t.bad) (\(pct(t.inconclusive, t.good + t.bad)))",
        ]))
}
print("")
print(
    row([
        "canary requests", "judge", "good: promoted", "good: rolled back", "good: inconclusive", "bad: rolled back", "bad: promoted",
        "bad: inconclusive",
    ]))
print(row(["---:", "---", "---:", "---:", "---:", "---:", "---:", "---:"]))
for level in levels {
    let at = outcomes.filter { $0.canaryRequests == level }
    for (name, path) in judges {
        let t = JudgeTally(at, judge: path)
        let goodInconclusive = at.filter { $0.defect == .none && !$0[keyPath: path].isDecided }.count
        let badInconclusive = t.inconclusive - goodInconclusive
        print(
            row([
                level.formatted(), name.components(separatedBy: " (").first!, pct(t.goodPromoted, t.good), pct(t.falseRollbacks, t.good),
                pct(goodInconclusive, t.good), pct(t.badRolledBack, t.bad), pct(t.falsePromotions, t.bad), pct(badInconclusive, t.bad),
            ]))
    }
}
print("")
print(row(["defect", "judge", "rolled back", "promoted", "inconclusive"]))
print(row(["---", "---", "---:", "---:", "---:"]))
for defect in CanarySimulation.Defect.allCases where defect != .none {
    let with = outcomes.filter { $0.defect == defect }
    for (name, path) in judges {
        let t = JudgeTally(with, judge: path)
        print(
            row([
                defect.rawValue, name.components(separatedBy: " (").first!, pct(t.badRolledBack, t.bad), pct(t.falsePromotions, t.bad),
                pct(t.inconclusive, t.bad),
            ]))
    }
}

print("")
print("Good canaries left Inconclusive by the default analysis, by the checks that were not yet decided at the last look:")
print("")
print(row(["canary requests", "inconclusive good canaries", "traffic guard", "error rate", "latency", "prediction drift"]))
print(row(["---:", "---:", "---:", "---:", "---:", "---:"]))
for level in levels {
    let undecided = outcomes.filter { $0.canaryRequests == level && $0.defect == .none && $0.analysis == .inconclusive }
    func count(_ check: String) -> String { "\(undecided.filter { $0.lastChecks[check] == .inconclusive }.count)" }
    print(row([level.formatted(), "\(undecided.count)", count("traffic"), count("error-rate"), count("latency"), count("prediction-drift")]))
}

extension AnalysisPhase {
    var isDecided: Bool { self == .successful || self == .failed || self == .error }
}
