import SlipwayRollout

extension RolloutStatus {
    /// Lines `rollout status` prints about a shadow rollout's progress (none for other strategies).
    func shadowLines() -> [String] {
        guard shadow != nil else { return [] }
        return []
    }
}
