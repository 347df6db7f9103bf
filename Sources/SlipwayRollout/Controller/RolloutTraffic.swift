public import Foundation
public import SlipwayCore

/// What the rollout controller needs of the gateway's control plane and of the registry, as a small
/// protocol so that `SlipwayRollout` stays free of the gateway: the server implements it on top of
/// `EndpointService`, `Registry` and the gateway's windowed metrics.
public protocol RolloutTraffic: Sendable {
    /// The endpoint's recorded stable variant and its current weights (percent per variant).
    /// Throws when the endpoint does not exist.
    func endpointState(_ endpoint: String) async throws -> (stableVariant: String, weights: [String: Double])
    /// The version a candidate reference names now (a number, or an alias resolved at start).
    func resolveVersion(model: String, reference: ModelReference) async throws -> Int
    /// Deploys a model version as a variant of the endpoint (replacing what the variant served).
    func deploy(endpoint: String, variant: String, model: String, version: Int, backend: BackendSpec, replicas: Int) async throws
    /// Whether a variant can take traffic: a supervised backend (builtin, command) has a ready replica;
    /// a URL backend, or a process without a supervisor, is taken as ready.
    func isReady(endpoint: String, variant: String) async -> Bool
    /// Gives the candidate `weight` percent and the stable variant the rest, in one change of the routing table.
    func setCandidateWeight(endpoint: String, stable: String, candidate: String, weight: Double) async throws
    /// Sends all traffic to the candidate and records it as the endpoint's stable variant.
    func switchTo(endpoint: String, variant: String) async throws
    /// Points the model's `production` alias at the promoted version, with a reason for its history.
    func promoteAlias(model: String, version: Int, reason: String) async throws
    /// What each variant did during the last `seconds` (empty when no gateway runs in this process).
    func samples(endpoint: String, seconds: Int) -> [String: VariantSample]
    /// Each variant's per-request latencies in milliseconds during the last `seconds`, for the judge.
    func latencySamples(endpoint: String, seconds: Int) -> [String: [Double]]
    /// Mirrors `percent` of the endpoint's traffic to a variant (0 removes the mirror).
    func setMirror(endpoint: String, variant: String, percent: Double) async throws
    /// Routes requests whose `header` has `value` to a variant; nil removes the route.
    func setHeaderRoute(endpoint: String, header: String, value: String, variant: String?) async throws
    /// Removes a variant's deployment from the endpoint (its supervised backend stops).
    func removeVariant(endpoint: String, variant: String) async throws

    // MARK: Rolling updates

    /// A variant's supervised replicas: what its deployment asks for, how many are in the routing table and
    /// how many processes run. Nil when the variant has no deployment, or a URL backend (replicas that
    /// Slipway does not run).
    func replicas(endpoint: String, variant: String) async throws -> VariantReplicas?
    /// Changes how many replicas a variant's deployment asks for, keeping its model version and backend:
    /// replicas are added or removed, the others keep running. Throws when the variant has no deployment.
    func scale(endpoint: String, variant: String, replicas: Int) async throws

    // MARK: Experiments and shadows

    /// Each variant's answers logged since `since` (the prediction log: every primary answer, with the
    /// feedback posted for it so far) and, when `segmentBy` names a request input, the same per segment.
    /// Throws when the endpoint does not exist or the log cannot be read.
    func experimentCounts(endpoint: String, since: Date, segmentBy: String?) async throws -> ExperimentCounts
    /// Each variant's answers to mirrored copies during the last `seconds`, with how many were compared with
    /// the answer users got and how many agreed (empty when no gateway runs in this process).
    func mirrorSamples(endpoint: String, seconds: Int) -> [String: MirrorSample]

    // MARK: Blue-green

    /// The base URL of this process's gateway (`http://127.0.0.1:PORT`), nil when no gateway runs here.
    /// Blue-green analyses reach the preview through it, pinned with the `X-Slipway-Variant` header.
    func gatewayURL() -> String?
}
