import SlipwayRollout

extension RolloutStatus {
    /// Lines `rollout status` prints about a experiment rollout's progress (none for other strategies).
    func experimentLines() -> [String] {
        guard experiment != nil else { return [] }
        return []
    }
}
