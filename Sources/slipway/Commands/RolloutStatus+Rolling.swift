import SlipwayRollout

extension RolloutStatus {
    /// Lines `rollout status` prints about a rolling rollout's progress (none for other strategies).
    func rollingLines() -> [String] {
        guard rolling != nil else { return [] }
        return []
    }
}
