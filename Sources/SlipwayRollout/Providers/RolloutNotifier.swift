public import SlipwayStore

/// Tells a rollout's webhooks about its phase changes and gates.
public struct RolloutNotifier: Sendable {
    /// Creates a notifier.
    public init() {}

    /// Called after every stored transition of a rollout, with the record before and after it.
    func rolloutChanged(from previous: RolloutRecord, to updated: RolloutRecord, action: String) async {}
}
