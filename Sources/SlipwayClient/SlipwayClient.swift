public import Foundation
public import SlipwayCore
public import SlipwayRollout
public import SlipwayRegistry
public import SlipwayStore
public import SlipwayGateway
public import SlipwayServer

/// Everything the CLI asks of Slipway. Two implementations: ``InProcessClient`` on the embedded
/// store in `./.slipway/`, and ``RemoteClient`` over HTTP against a `slipway server`. Both return
/// the same values, so the CLI prints the same output either way.
public protocol SlipwayClient: Sendable {
    /// Where this client works: a data folder or a server URL.
    var location: String { get }

    func whoami() async throws -> Principal

    // Models
    func createModel(_ model: NewModel) async throws -> RegisteredModel
    func model(_ name: String) async throws -> RegisteredModel
    func searchModels(filter: String, orderBy: [String], limit: Int, pageToken: String?) async throws -> Page<RegisteredModel>
    func updateModel(_ name: String, description: String) async throws -> RegisteredModel
    func renameModel(_ name: String, to newName: String) async throws -> RegisteredModel
    func deleteModel(_ name: String) async throws
    func setModelTag(_ name: String, key: String, value: String) async throws
    func deleteModelTag(_ name: String, key: String) async throws

    // Artifacts
    /// Stores a file or a folder (as a manifest) and returns its digest and size.
    func uploadArtifact(at path: URL, progress: TransferProgress?) async throws -> StoredObject
    /// Writes an artifact (a file, or a folder from its manifest) to `destination`, verified.
    func downloadArtifact(_ digest: Digest, to destination: URL, progress: TransferProgress?) async throws

    // Versions
    func createVersion(_ version: NewVersion) async throws -> ModelVersion
    /// A version by number, `latest` or alias.
    func version(_ model: String, _ reference: String) async throws -> ModelVersion
    func searchVersions(filter: String, orderBy: [String], limit: Int, pageToken: String?) async throws -> Page<ModelVersion>
    func deleteVersion(_ model: String, _ version: Int) async throws
    func setVersionTag(_ model: String, _ version: Int, key: String, value: String) async throws
    func deleteVersionTag(_ model: String, _ version: Int, key: String) async throws

    // Aliases
    func setAlias(_ model: String, alias: String, version: Int, reason: String?) async throws -> AliasEvent
    func deleteAlias(_ model: String, alias: String, reason: String?) async throws -> AliasEvent
    func alias(_ model: String, alias: String) async throws -> ModelVersion
    func alias(_ model: String, alias: String, at instant: Date) async throws -> Int?
    func aliasHistory(_ model: String, alias: String?) async throws -> [AliasEvent]

    // Stages
    func approve(_ model: String, _ version: Int, stage: String, comment: String?) async throws -> ModelVersion
    func transitionStage(_ model: String, _ version: Int, to stage: String, archiveExisting: Bool) async throws -> ModelVersion

    // Endpoints and traffic
    func createEndpoint(name: String, description: String, settings: EndpointSettings, initialVariant: String) async throws -> EndpointStatus
    func endpoint(_ name: String) async throws -> EndpointStatus
    func endpoints() async throws -> [Endpoint]
    func deleteEndpoint(_ name: String) async throws
    func deploy(endpoint: String, variant: String, model: String, backend: BackendSpec, replicas: Int) async throws -> EndpointStatus
    func undeploy(endpoint: String, variant: String) async throws -> EndpointStatus
    func setWeights(endpoint: String, weights: [(String, Double)]) async throws -> EndpointStatus
    func switchTraffic(endpoint: String, to variant: String) async throws -> EndpointStatus
    func mirror(endpoint: String, to variant: String, percent: Double) async throws -> EndpointStatus
    func route(endpoint: String, header: String, value: String, to variant: String?) async throws -> EndpointStatus

    // Prediction log
    /// Attaches ground truth (`groundTruth`) and/or an outcome to the logged answer of a request; returns the updated record.
    func feedback(endpoint: String, requestId: String, groundTruth: String?, outcome: Double?) async throws -> PredictionRecord
    /// Attaches up to 1,000 items at once; each is answered on its own (the updated record, or why it was refused).
    func feedback(endpoint: String, items: [FeedbackItem]) async throws -> [FeedbackResult]
    /// One page of an endpoint's prediction log in log order, optionally from an instant on (`limit` 1…10,000).
    func predictions(endpoint: String, since: Date?, limit: Int, pageToken: String?) async throws -> Page<PredictionRecord>

    // Audit and tokens
    func audit(model: String?, limit: Int) async throws -> [AuditEvent]

    // MARK: Datasets
    /// Registers a dataset; the same name and digest again return the first registration.
    func registerDataset(_ dataset: NewDataset) async throws -> Dataset
    /// The dataset of this name and digest, or of this name registered last.
    func dataset(_ name: String, digest: Digest?) async throws -> Dataset
    /// Registered datasets, newest first; of one name when given.
    func datasets(name: String?, limit: Int) async throws -> [Dataset]

    func createToken(name: String, role: Role) async throws -> AccessTokens.Issued

    // MARK: Rollouts

    /// Starts a rollout from its YAML file (`file` names it in diagnostics).
    func startRollout(yaml: String, file: String) async throws -> RolloutStatus
    func rollout(_ name: String) async throws -> RolloutStatus
    func rollouts() async throws -> [RolloutStatus]
    func rolloutHistory(_ name: String) async throws -> [RolloutTransition]
    /// A command: `promote` (with `full`), `abort` (with `reason`), `pause`, `resume` or `retry`.
    func rolloutCommand(_ name: String, _ action: RolloutAction, reason: String?, full: Bool) async throws -> RolloutStatus
}

/// The commands a person gives a running (or degraded) rollout.
public enum RolloutAction: String, Sendable, Codable, CaseIterable {
    case promote, abort, pause, resume, retry, undo
}

/// An endpoint with its current weights and the gateway's live per-variant metrics (empty in-process).
public struct EndpointStatus: Sendable, Codable {
    public var endpoint: Endpoint
    public var weights: [String: Double]
    public var live: [String: VariantMetrics]
    /// The replicas of supervised backends (commands and built-in servers) by variant; nil in-process
    /// and for endpoints without one.
    public var backends: [String: BackendStatus]?

    public init(endpoint: Endpoint, live: [String: VariantMetrics] = [:], backends: [String: BackendStatus]? = nil) {
        self.endpoint = endpoint
        self.weights = endpoint.policy.split.weights
        self.live = live
        self.backends = backends
    }
}

/// Progress of a long transfer: called with the bytes done so far and the total.
public typealias TransferProgress = @Sendable (_ done: Int64, _ total: Int64) -> Void

/// A byte-count callback for one part of a transfer, reporting against the whole.
func scaled(_ progress: TransferProgress?, base: Int64 = 0, total: Int64) -> (@Sendable (Int64) -> Void)? {
    guard let progress else { return nil }
    return { done in progress(base + done, total) }
}
