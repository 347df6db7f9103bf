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
    /// Mirrors `percent` of the endpoint's traffic to a variant (0 removes the mirror).
    func setMirror(endpoint: String, variant: String, percent: Double) async throws
    /// Routes requests whose `header` has `value` to a variant; nil removes the route.
    func setHeaderRoute(endpoint: String, header: String, value: String, variant: String?) async throws
    /// Removes a variant's deployment from the endpoint (its supervised backend stops).
    func removeVariant(endpoint: String, variant: String) async throws

    // MARK: Rolling updates
}
