import Foundation
import SlipwayRollout

extension RolloutStatus {
    /// Lines `rollout status` prints about an experiment: the plan, each arm, the effect, the checks, the
    /// segments and the outcome (none for other strategies).
    func experimentLines() -> [String] {
        guard let experiment else { return [] }
        var lines = ["Experiment: planned \(experiment.plannedStableUnits) stable and \(experiment.plannedCandidateUnits) candidate units"]
        guard let report = experiment.report else {
            lines.append("  waiting for the split" + (experiment.startedAt.map { " (started \(Output.date($0)))" } ?? ""))
            return lines
        }
        let value = report.metric == "conversion" ? "conversion" : "mean"
        lines.append(
            "  outcome: \(Self.words(report.outcome)) after \(experiment.looks) looks, \(Self.duration(report.elapsedSeconds)) — \(report.reason)")
        for arm in [report.stable, report.candidate] {
            lines.append("  " + Self.armLine(arm, metric: report.metric, value: value))
        }
        if let lift = report.lift {
            let interval = report.ciLow.flatMap { low in report.ciHigh.map { high in " (\(Self.signed(low)) to \(Self.signed(high)))" } } ?? ""
            let p = report.pValue.map { ", p = \(Self.number($0))" } ?? ""
            lines.append("  lift: \(Self.signed(lift))\(interval)\(p) [\(report.method)]")
        }
        if let chance = report.chanceToWin { lines.append("  chance to win: \(String(format: "%.1f%%", chance * 100))") }
        lines.append("  sample ratio: " + (report.srmPValue.map { "p = \(Self.number($0))" } ?? "not checked yet (fewer than 100 answers per arm)"))
        for check in report.guardrails {
            lines.append("  guardrail \(check.name): \(check.verdict.rawValue) — \(check.reason)")
        }
        if let segmentBy = report.segmentBy {
            lines.append("  segments by \(segmentBy):")
            for segment in report.segments {
                let lift = segment.lift.map { lift in
                    " lift \(Self.signed(lift))"
                        + (segment.ciLow.flatMap { low in segment.ciHigh.map { " (\(Self.signed(low)) to \(Self.signed($0)))" } } ?? "")
                        + (segment.pValue.map { ", p = \(Self.number($0))" } ?? "")
                } ?? " lift -"
                lines.append(
                    "    \(segment.value): \(Self.armLine(segment.stable, metric: report.metric, value: value)); "
                        + "\(Self.armLine(segment.candidate, metric: report.metric, value: value));\(lift)")
            }
        }
        return lines
    }

    static func armLine(_ arm: ExperimentReport.Arm, metric: String, value: String) -> String {
        let planned = arm.plannedUnits > 0 ? "/\(arm.plannedUnits)" : ""
        let shown =
            arm.value.map { metric == "conversion" ? String(format: "%.2f%%", $0 * 100) + " (\(arm.conversions)/\(arm.units))" : number($0) } ?? "-"
        return "\(arm.variant): \(arm.units)\(planned) units, \(arm.requests) requests, \(value) \(shown)"
    }

    static func words(_ outcome: ExperimentReport.Outcome) -> String {
        switch outcome {
        case .running: "running"
        case .promote: "promote the candidate"
        case .keepControl: "keep control"
        case .inconclusive: "inconclusive (control kept)"
        case .halted: "halted"
        }
    }

    static func signed(_ x: Double) -> String { String(format: "%+.2f%%", x * 100) }

    static func number(_ x: Double) -> String { abs(x) < 0.001 && x != 0 ? String(format: "%.2e", x) : String(format: "%.4f", x) }

    static func duration(_ seconds: Double) -> String {
        seconds < 120 ? "\(Int(seconds))s" : seconds < 7_200 ? "\(Int(seconds / 60))m" : String(format: "%.1fh", seconds / 3_600)
    }
}
