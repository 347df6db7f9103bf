public import Foundation
import Logging
public import SlipwayCore
public import SlipwayStore

/// Ground truth or an outcome for one answered request, as a caller posts it.
///
/// In JSON `groundTruth` may be a string or a number (`"churned"`, `1`); it is kept as text, a whole
/// number without a fraction (`1`, not `1.0`), so that it compares with the logged prediction.
public struct FeedbackItem: Sendable, Codable, Equatable {
    /// The `X-Request-Id` the gateway answered with.
    public var requestId: String
    /// The true label.
    public var groundTruth: String?
    /// A numeric outcome: a conversion as 0 or 1, a revenue, a rating.
    public var outcome: Double?

    public init(requestId: String, groundTruth: String? = nil, outcome: Double? = nil) {
        self.requestId = requestId
        self.groundTruth = groundTruth
        self.outcome = outcome
    }

    enum CodingKeys: String, CodingKey {
        case requestId, groundTruth, outcome
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requestId = try container.decode(String.self, forKey: .requestId)
        outcome = try container.decodeIfPresent(Double.self, forKey: .outcome)
        if try !container.contains(.groundTruth) || container.decodeNil(forKey: .groundTruth) {
            groundTruth = nil
        } else if let text = try? container.decode(String.self, forKey: .groundTruth) {
            groundTruth = text
        } else if let number = try? container.decode(Double.self, forKey: .groundTruth) {
            groundTruth = Self.text(number)
        } else {
            throw DecodingError.dataCorruptedError(forKey: .groundTruth, in: container, debugDescription: "must be a string or a number")
        }
    }

    /// A numeric label as text: whole numbers without a fraction (`1`), others in their shortest exact form (`0.25`).
    public static func text(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 9_007_199_254_740_992 { return String(Int64(number)) }
        return "\(number)"
    }
}

/// What became of one item of a feedback batch: the updated record, or why the item was refused.
public struct FeedbackResult: Sendable, Codable, Equatable {
    public var requestId: String
    public var record: PredictionRecord?
    public var error: Failure?

    public struct Failure: Sendable, Codable, Equatable {
        public var code: ErrorKind
        public var message: String

        public init(code: ErrorKind, message: String) {
            self.code = code
            self.message = message
        }
    }

    public init(requestId: String, record: PredictionRecord? = nil, error: Failure? = nil) {
        self.requestId = requestId
        self.record = record
        self.error = error
    }
}

/// The prediction log of an endpoint: feedback coming back for answered requests, and reading the log.
extension EndpointService {
    /// The most items one feedback batch may carry.
    public static let maximumFeedbackBatch = 1_000
    /// The longest ground truth label, in UTF-8 bytes.
    public static let maximumGroundTruthBytes = 4_096
    /// A page of the log is read from the store in chunks of this many records…
    static let predictionsChunk = 500
    /// …until it holds the records asked for or about this many bytes of text (full features can be large).
    static let predictionsPageBytes = 16 << 20

    /// Attaches ground truth and/or an outcome to the answer of a request and returns the updated record.
    ///
    /// - Throws: `permissionDenied` below the editor role; `notFound` for an unknown endpoint or a request
    ///   it has not logged (the gateway logs within a fraction of a second of answering); `invalidArgument`
    ///   for an empty item, a request id that is not 1 to 128 bytes, or a label over 4,096 bytes.
    public func feedback(endpoint: String, _ item: FeedbackItem, by principal: Principal) async throws -> PredictionRecord {
        try principal.require(.editor, for: "posting feedback")
        try Self.validate(item)
        try await requireEndpoint(endpoint)
        return try await attach(endpoint: endpoint, item, by: principal)
    }

    /// Attaches up to ``maximumFeedbackBatch`` items, each on its own: an item that is invalid or names a request
    /// the endpoint has not logged is answered with its error, and the others still count.
    public func feedback(endpoint: String, batch items: [FeedbackItem], by principal: Principal) async throws -> [FeedbackResult] {
        try principal.require(.editor, for: "posting feedback")
        guard (1...Self.maximumFeedbackBatch).contains(items.count) else {
            throw GatewayError(
                .invalidArgument, "a feedback batch carries 1 to \(Self.maximumFeedbackBatch) items, got \(items.count); split it into several")
        }
        try await requireEndpoint(endpoint)
        var results: [FeedbackResult] = []
        results.reserveCapacity(items.count)
        for item in items {
            do {
                try Self.validate(item)
                results.append(FeedbackResult(requestId: item.requestId, record: try await attach(endpoint: endpoint, item, by: principal)))
            } catch let error as any SlipwayError where error.kind == .invalidArgument || error.kind == .notFound {
                results.append(FeedbackResult(requestId: item.requestId, error: .init(code: error.kind, message: error.message)))
            }
        }
        let attached = results.count { $0.record != nil }
        logger.info(
            "feedback received",
            metadata: ["slipway.endpoint": "\(endpoint)", "slipway.attached": "\(attached)", "slipway.refused": "\(items.count - attached)"])
        return results
    }

    /// One page of an endpoint's prediction log in log order, optionally from an instant on.
    ///
    /// A page holds at most `limit` records (1 to 10,000), fewer when their text passes about 16 MiB;
    /// `nextPageToken` is nil on the last page.
    public func predictions(
        endpoint: String, since: Date? = nil, limit: Int, pageToken: String? = nil, by principal: Principal
    ) async throws -> Page<PredictionRecord> {
        try principal.require(.viewer, for: "reading the prediction log")
        guard (1...10_000).contains(limit) else {
            throw GatewayError(.invalidArgument, "the page size must be between 1 and 10000, got \(limit)")
        }
        try await requireEndpoint(endpoint)
        var items: [PredictionRecord] = []
        var token = pageToken
        var bytes = 0
        repeat {
            let chunk = try await store.predictions(
                endpoint: endpoint, since: since, limit: min(Self.predictionsChunk, limit - items.count), pageToken: token)
            items += chunk.items
            bytes += chunk.items.reduce(0) { $0 + Self.estimatedSize($1) }
            token = chunk.nextPageToken
        } while token != nil && items.count < limit && bytes < Self.predictionsPageBytes
        return Page(items: items, nextPageToken: token)
    }

    /// Whether the logged prediction was right: nil unless both the prediction and the ground truth are known.
    /// Labels compare as text, or as numbers when both read as numbers (`1` and `1.0`).
    public static func isCorrect(_ record: PredictionRecord) -> Bool? {
        guard let prediction = record.prediction, let truth = record.feedback?.groundTruth else { return nil }
        if prediction == truth { return true }
        if let a = Double(prediction), let b = Double(truth), a.isFinite, b.isFinite { return a == b }
        return false
    }

    // MARK: Helpers

    private func attach(endpoint: String, _ item: FeedbackItem, by principal: Principal) async throws -> PredictionRecord {
        let record = try await store.attachFeedback(
            endpoint: endpoint, requestId: item.requestId,
            feedback: Feedback(groundTruth: item.groundTruth, outcome: item.outcome, receivedAt: Timestamp.now(), by: principal.name))
        logger.debug(
            "feedback attached",
            metadata: ["slipway.endpoint": "\(endpoint)", "slipway.variant": "\(record.variant)", "slipway.request_id": "\(item.requestId)"])
        return record
    }

    private func requireEndpoint(_ name: String) async throws {
        guard try await store.endpoint(named: name) != nil else { throw Self.notFound(name) }
    }

    static func validate(_ item: FeedbackItem) throws {
        guard !item.requestId.isEmpty, item.requestId.utf8.count <= 128 else {
            throw GatewayError(
                .invalidArgument,
                "requestId must be 1 to 128 bytes, the X-Request-Id the gateway answered with; got \(item.requestId.utf8.count) bytes")
        }
        guard item.groundTruth != nil || item.outcome != nil else {
            throw GatewayError(.invalidArgument, "feedback for '\(item.requestId)' needs groundTruth, outcome or both")
        }
        if let label = item.groundTruth {
            guard !label.isEmpty, label.utf8.count <= maximumGroundTruthBytes, !label.utf8.contains(0) else {
                throw GatewayError(
                    .invalidArgument,
                    "groundTruth for '\(item.requestId)' must be 1 to \(maximumGroundTruthBytes) bytes of text without NUL characters")
            }
        }
        if let outcome = item.outcome, !outcome.isFinite {
            throw GatewayError(.invalidArgument, "outcome for '\(item.requestId)' must be a finite number")
        }
    }

    static func estimatedSize(_ record: PredictionRecord) -> Int {
        256 + (record.features?.utf8.count ?? 0) + (record.prediction?.utf8.count ?? 0) + (record.feedback?.groundTruth?.utf8.count ?? 0)
            + (record.stickyKey?.utf8.count ?? 0) + record.requestId.utf8.count
    }
}

extension LiveMetrics {
    /// Counts the feedback a logged record carries (its outcome, and whether its prediction was right) for the
    /// record's variant. An answer the gateway gave before routing (an unknown variant, a malformed body)
    /// belongs to no variant and is skipped.
    public func recordFeedback(of record: PredictionRecord) {
        guard !record.variant.isEmpty else { return }
        recordFeedback(
            endpoint: record.endpoint, variant: record.variant, outcome: record.feedback?.outcome, correct: EndpointService.isCorrect(record))
    }
}
