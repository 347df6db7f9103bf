public import Foundation
public import SlipwayCore

/// The prediction log: what every model answered for whom, and the feedback that came back.
///
/// Appends come in batches from the gateway (one transaction per batch, no audit event per
/// prediction: the log is the record). Feedback attaches to the primary record of a request id.
public protocol PredictionStore: Sendable {
    /// Appends a batch in one transaction. A record whose (endpoint, request id, kind, variant) is
    /// already logged is skipped, so a batch retried after a failure is not logged twice.
    func appendPredictions(_ records: [PredictionRecord]) async throws
    /// Attaches feedback to the primary record of a request and returns the updated record.
    /// Throws `notFound` if the endpoint has no such request; replaces earlier feedback.
    func attachFeedback(endpoint: String, requestId: String, feedback: Feedback) async throws -> PredictionRecord
    /// Records of an endpoint in log order, optionally since a time, after a page token, at most `limit` (1…10,000).
    func predictions(endpoint: String, since: Date?, limit: Int, pageToken: String?) async throws -> Page<PredictionRecord>
}

/// A prediction store that can append on the calling thread. The gateway's prediction log writes from a thread
/// of its own and uses this when the store offers it, which spares each batch two hand-offs between threads.
public protocol SynchronousPredictionAppending: PredictionStore {
    /// ``PredictionStore/appendPredictions(_:)`` on the calling thread; may block it for the write.
    func appendPredictionsNow(_ records: [PredictionRecord]) throws
}
