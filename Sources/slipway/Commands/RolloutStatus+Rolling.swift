import SlipwayRollout

extension RolloutStatus {
    /// Lines `rollout status` prints about a rolling rollout's progress (none for other strategies): the
    /// replicas of the old (stable) and new (candidate) variants, ready of desired, and the update's limits.
    func rollingLines() -> [String] {
        guard let rolling else { return [] }
        let old = rolling.stableReplicas == 0 ? "removed" : "\(rolling.stableReady)/\(rolling.stableReplicas) ready"
        let new = "\(rolling.candidateReady)/\(rolling.candidateReplicas) ready"
        let surge = rolling.promoted ? rolling.desired : rolling.maxSurge
        let limits = "at most \(rolling.desired + surge) replicas, at least \(max(rolling.desired - rolling.maxUnavailable, 0)) ready"
        return [
            "Replicas:  old \(stableVariant) \(old), new \(candidateVariant) \(new) (of \(rolling.desired))",
            "Limits:    maxSurge \(rolling.maxSurge), maxUnavailable \(rolling.maxUnavailable): \(limits)" + (rolling.promoted ? " (promoted)" : ""),
        ]
    }
}
