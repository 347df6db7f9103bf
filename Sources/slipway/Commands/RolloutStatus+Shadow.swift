import Foundation
import SlipwayRollout

extension RolloutStatus {
    /// Lines `rollout status` prints about a shadow test: the mirror, the deadline and the report of the last
    /// look (none for other strategies).
    func shadowLines() -> [String] {
        guard let shadow else { return [] }
        var lines: [String] = []
        let state = shadow.mirroring ? "mirroring" : shadow.passed ? "passed" : shadow.startedAt == nil ? "waiting for the candidate" : "stopped"
        lines.append("Shadow:    \(state)" + (shadow.deadline.map { ", verdict at \(Output.date($0))" } ?? ""))
        guard let report = shadow.report else { return lines }
        let agreement = report.agreementRate.map { String(format: "%.2f%%", $0 * 100) } ?? "-"
        lines.append(
            "  verdict: \(report.verdict.rawValue); agreement \(agreement) of \(report.compared) compared (needs "
                + String(format: "%.2f%%", report.minAgreement * 100) + ")")
        let p99 = { (x: Double?) in x.map { String(format: "%.1f ms", $0) } ?? "-" }
        lines.append("  latency p99: stable \(p99(report.stableLatencyP99Ms)), candidate \(p99(report.candidateLatencyP99Ms))")
        lines.append(
            "  error rate: stable " + String(format: "%.2f%%", report.stableErrorRate * 100) + " of \(report.stableRequests), candidate "
                + String(format: "%.2f%%", report.candidateErrorRate * 100) + " of \(report.candidateAnswers)")
        if let drift = report.driftStatistic { lines.append("  prediction drift: Jensen–Shannon " + String(format: "%.4f", drift)) }
        for check in report.checks {
            lines.append("  check \(check.name): \(check.verdict.rawValue) — \(check.reason)")
        }
        if let phase = report.analysisPhase { lines.append("  extra analysis: \(phase.rawValue)") }
        return lines
    }
}
