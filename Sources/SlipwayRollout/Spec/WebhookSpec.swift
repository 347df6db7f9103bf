/// A webhook of a rollout (`spec.webhooks[]`): a URL that receives a signed JSON event on the changes it asks for.
///
/// ```yaml
/// webhooks:
///   - url: https://hooks.example.com/slipway
///     events: [phase, gate]          # default: phase and gate
///     secretEnv: SLIPWAY_HOOK_SECRET # the server's environment variable holding the HMAC key
/// ```
/// Only the variable's name is part of the spec; the secret itself is read from the server's environment
/// when an event is sent, and never stored, logged or returned by the API.
public struct WebhookSpec: Sendable, Codable, Equatable {
    /// Which changes a webhook is told about.
    public enum Event: String, Sendable, Codable, Equatable, CaseIterable {
        /// The rollout's phase changed (Progressing → Paused, → Healthy, → Degraded…).
        case phase
        /// The rollout stopped at a gate: a transition to Paused (a pause without duration, an inconclusive analysis).
        case gate
        /// A step was done and the rollout moved to the next one.
        case step
        /// Every stored transition except recorded measurements.
        case all
    }

    /// Where events are POSTed (http:// or https://).
    public var url: String
    /// The changes sent (default `phase` and `gate`).
    public var events: [Event]
    /// The name of the server's environment variable that holds the HMAC-SHA256 key; nil sends unsigned events.
    public var secretEnv: String?

    /// The events sent when a webhook names none.
    public static let defaultEvents: [Event] = [.phase, .gate]

    /// Creates a webhook.
    public init(url: String, events: [Event] = WebhookSpec.defaultEvents, secretEnv: String? = nil) {
        self.url = url
        self.events = events
        self.secretEnv = secretEnv
    }

    /// Whether the webhook asked for events of this kind.
    public func wants(_ event: Event) -> Bool { events.contains(.all) || events.contains(event) }
}
