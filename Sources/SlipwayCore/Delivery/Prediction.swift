public import Foundation

/// One request the gateway answered, as the prediction log keeps it.
public struct PredictionRecord: Sendable, Codable, Equatable {
    /// The request id (`X-Request-Id`), unique per endpoint.
    public var requestId: String
    public var timestamp: Date
    public var endpoint: String
    public var variant: String
    /// `model@version` of the variant that answered.
    public var modelVersion: String
    /// The request's sticky key, if it had one.
    public var stickyKey: String?
    /// Whether this is the answer users got or a mirrored copy (compared, never returned).
    public var kind: Kind
    /// The features as the endpoint's ``FeatureLogging`` keeps them: nil (off), a SHA-256 of the
    /// request's inputs (hashed) or the inputs' JSON (full).
    public var features: String?
    /// What the model predicted: the first output's first value as text (a class label or a number), if readable.
    public var prediction: String?
    /// The probability of the predicted class, if the answer carried one.
    public var confidence: Double?
    public var latencyMs: Double
    /// The HTTP status of the answer.
    public var status: Int
    /// Ground truth or an outcome attached later with feedback.
    public var feedback: Feedback?

    public enum Kind: String, Sendable, Codable, CaseIterable {
        case primary, mirror
    }

    public init(
        requestId: String, timestamp: Date, endpoint: String, variant: String, modelVersion: String, stickyKey: String? = nil,
        kind: Kind = .primary, features: String? = nil, prediction: String? = nil, confidence: Double? = nil, latencyMs: Double,
        status: Int, feedback: Feedback? = nil
    ) {
        self.requestId = requestId
        self.timestamp = timestamp
        self.endpoint = endpoint
        self.variant = variant
        self.modelVersion = modelVersion
        self.stickyKey = stickyKey
        self.kind = kind
        self.features = features
        self.prediction = prediction
        self.confidence = confidence
        self.latencyMs = latencyMs
        self.status = status
        self.feedback = feedback
    }
}

/// Ground truth or an outcome for a request, posted after the fact
/// (`POST /api/v1/endpoints/{endpoint}/feedback`).
public struct Feedback: Sendable, Codable, Equatable {
    /// The true label, as text (compared with the prediction).
    public var groundTruth: String?
    /// A numeric outcome (a conversion as 0/1, a revenue, a rating).
    public var outcome: Double?
    public var receivedAt: Date
    public var by: String

    public init(groundTruth: String? = nil, outcome: Double? = nil, receivedAt: Date, by: String) {
        self.groundTruth = groundTruth
        self.outcome = outcome
        self.receivedAt = receivedAt
        self.by = by
    }
}
