import SlipwayRollout

extension RolloutStatus {
    /// Lines `rollout status` prints about a blueGreen rollout's progress (none for other strategies).
    func blueGreenLines() -> [String] {
        guard blueGreen != nil else { return [] }
        return []
    }
}
