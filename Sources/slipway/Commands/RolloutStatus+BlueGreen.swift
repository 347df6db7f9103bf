import SlipwayRollout
import SlipwayStore

extension RolloutStatus {
    /// Lines `rollout status` prints about a blueGreen rollout's progress (none for other strategies):
    /// the stage, whether the preview is ready and where to reach it, and the deadline of the current wait.
    func blueGreenLines() -> [String] {
        guard let bg = blueGreen else { return [] }
        let preview = bg.previewVariant
        let old = bg.previousStable
        var lines: [String] = []
        let stage: String
        switch bg.stage {
        case .preview:
            stage = "deploying the preview '\(preview)' and waiting for it to be ready"
        case .prePromotionAnalysis:
            stage = "pre-promotion analysis of the preview '\(preview)'"
        case .promotion:
            if bg.awaitingPromotion || (phase == .paused && bg.promoteAt == nil) {
                stage = "waiting for an approver to promote (`slipway rollout promote \(name)`)"
            } else if let at = bg.promoteAt {
                stage = "waiting for promotion until \(Output.date(at))"
            } else {
                stage = "switching to the preview '\(preview)'"
            }
        case .postPromotionAnalysis:
            stage =
                "post-promotion analysis; all traffic on '\(preview)', '\(old)' standing by for a switch back"
        case .scaleDownDelay:
            stage =
                "all traffic on '\(preview)'; '\(old)' standing by, scale-down at "
                + (bg.scaleDownAt.map { Output.date($0) } ?? "the next look")
        case .completed:
            stage =
                "completed: '\(preview)' serves all traffic"
                + (bg.previousRemoved ? ", '\(old)' removed" : "")
        case .aborted:
            stage =
                "stopped before the switch: the preview '\(preview)' never had traffic, production stayed on '\(old)'"
        case .switchedBack:
            stage =
                "switched back: all traffic on '\(old)'"
                + (bg.switchedBackAt.map { " since \(Output.date($0))" } ?? "")
        }
        lines.append("Blue-green: \(stage)")
        let ready = bg.previewReadyAt.map { "ready since \(Output.date($0))" } ?? "not ready yet"
        lines.append(
            "Preview:   '\(preview)' \(ready)"
                + (bg.previewURL.map { " — \($0) with X-Slipway-Variant: \(preview)" } ?? ""))
        if let switched = bg.switchedAt {
            lines.append("Switched:  \(Output.date(switched)) from '\(old)' to '\(preview)'")
        }
        return lines
    }
}
