import Foundation
public import SlipwayCore

/// Where Slipway keeps its metadata: models, versions, aliases and their history, approvals,
/// tokens and the audit log.
///
/// Every mutating method is one transaction that also appends its ``AuditEvent`` (built with
/// ``AuditEvent/change(action:actor:at:model:version:before:after:)``), so a change and its
/// audit record land together or not at all. Business rules (stage policies, roles) are checked
/// by the registry before it calls the store; the invariants that must hold under concurrency
/// (unique names, version numbering, immutability, referential integrity, compare-and-set of
/// stages) are checked by the store inside the transaction.
///
/// Implementations: `SQLiteMetadataStore` (embedded default) and, later, PostgreSQL. Both must
/// pass the conformance suite in `SlipwayStoreConformance`. Nothing in this protocol is specific
/// to one database.
public protocol MetadataStore: EndpointStore, PredictionStore, RolloutStore, DatasetStore {
    // MARK: Registered models

    /// Creates a model. Throws `alreadyExists` if the name is taken (case-sensitive).
    func createModel(_ model: NewModel, actor: String) async throws -> RegisteredModel
    /// The model with this name, or nil.
    func model(named name: String) async throws -> RegisteredModel?
    /// Replaces the description. Throws `notFound`.
    func updateModel(named name: String, description: String, actor: String) async throws -> RegisteredModel
    /// Renames a model with all its versions, aliases and history. Throws `notFound`, `alreadyExists`.
    func renameModel(from name: String, to newName: String, actor: String) async throws -> RegisteredModel
    /// Deletes a model and its versions. Throws `failedPrecondition` if any version is referenced
    /// by an alias or served by a deployment (remove those first), `notFound` if there is no such model.
    func deleteModel(named name: String, actor: String) async throws
    /// Sets a model tag (insert or replace). Throws `notFound`.
    func setModelTag(model: String, key: String, value: String, actor: String) async throws
    /// Deletes a model tag. Throws `notFound` for an unknown model or key.
    func deleteModelTag(model: String, key: String, actor: String) async throws
    /// Models matching the filter (attributes `name`, `description`, `user_id`, timestamps; `tags.*`).
    func searchModels(_ query: SearchQuery) async throws -> Page<RegisteredModel>

    // MARK: Model versions

    /// Registers the next version of a model (numbered from 1, never reused). Throws `notFound`.
    func createVersion(_ version: NewVersion, actor: String) async throws -> ModelVersion
    /// One version, or nil.
    func version(model: String, version: Int) async throws -> ModelVersion?
    /// Moves a PENDING version to READY (with its artifact) or FAILED. Throws `failedPrecondition`
    /// if the version is not PENDING: a READY version is immutable.
    func finishVersion(model: String, version: Int, outcome: VersionOutcome, actor: String) async throws -> ModelVersion
    /// Replaces a version's description. Throws `notFound`.
    func updateVersion(model: String, version: Int, description: String, actor: String) async throws -> ModelVersion
    /// Moves a version from `expected` stage to `stage` (compare-and-set: throws `failedPrecondition`
    /// if the current stage is not `expected`). With `archiveOthers`, other versions of the model in
    /// `stage` move to `archiveStage` in the same transaction.
    func transitionStage(
        model: String, version: Int, expected: String, stage: String, archiveOthers: Bool, archiveStage: String, actor: String
    ) async throws -> ModelVersion
    /// Deletes a version. Throws `failedPrecondition` naming the aliases that point at it or the
    /// endpoints and variants that serve it.
    func deleteVersion(model: String, version: Int, actor: String) async throws
    /// Sets a version tag. If `immutable`, an existing tag with the same key and another value is an
    /// `failedPrecondition` error (setting the same value again is a no-op).
    func setVersionTag(model: String, version: Int, key: String, value: String, immutable: Bool, actor: String) async throws
    /// Deletes a version tag. Throws `failedPrecondition` if `immutable`, `notFound` for an unknown key.
    func deleteVersionTag(model: String, version: Int, key: String, immutable: Bool, actor: String) async throws
    /// Versions matching the filter (all attributes, `tags.*`, `params.*`, `metrics.*`), ordered and paged.
    func searchVersions(_ query: SearchQuery) async throws -> Page<ModelVersion>
    /// The newest version in each stage of each named model (MLflow's "latest versions"), lowest version first,
    /// keyed by model name, read in one go for all the models; unknown models and models without versions have no entry.
    func latestVersionsPerStage(models: [String]) async throws -> [String: [ModelVersion]]

    // MARK: Aliases

    /// Points an alias at a version and appends to its history. If `immutable`, moving an alias that
    /// already points elsewhere throws `failedPrecondition`. Throws `notFound` for an unknown version.
    func setAlias(model: String, alias: String, version: Int, immutable: Bool, reason: String?, actor: String) async throws -> AliasEvent
    /// Removes an alias and appends to its history. Throws `notFound`, or `failedPrecondition` if `immutable`.
    func deleteAlias(model: String, alias: String, immutable: Bool, reason: String?, actor: String) async throws -> AliasEvent
    /// The history of one alias (or all aliases of the model when nil), oldest first.
    func aliasHistory(model: String, alias: String?) async throws -> [AliasEvent]

    // MARK: Approvals

    /// Records an approval of a version for a stage. Throws `notFound`; approving twice is a no-op.
    func addApproval(_ approval: Approval) async throws
    /// Approvals of a version, oldest first.
    func approvals(model: String, version: Int) async throws -> [Approval]

    // MARK: Audit

    /// Audit events, newest first, optionally for one model, before an event id (for paging).
    func auditEvents(model: String?, limit: Int, beforeId: Int64?) async throws -> [AuditEvent]

    // MARK: Tokens

    /// Stores a token record (its secret is never stored, only a hash).
    func createToken(_ token: TokenRecord, actor: String) async throws
    /// The unrevoked token with this secret hash, or nil.
    func token(secretHash: String) async throws -> TokenRecord?
    /// All tokens, including revoked ones.
    func tokens() async throws -> [TokenRecord]
    /// Revokes a token by id. Throws `notFound`.
    func revokeToken(id: String, actor: String) async throws
}

/// What a new model carries.
public struct NewModel: Sendable, Codable, Equatable {
    public var name: String
    public var description: String
    public var tags: [String: String]

    public init(name: String, description: String = "", tags: [String: String] = [:]) {
        self.name = name
        self.description = description
        self.tags = tags
    }
}

/// What a new version carries. Its number is assigned by the store.
public struct NewVersion: Sendable, Codable, Equatable {
    public var model: String
    public var source: String
    public var runId: String?
    public var description: String
    public var tags: [String: String]
    public var lineage: Lineage
    /// The initial status: PENDING while an artifact is still uploading, READY when it is already stored.
    public var status: VersionStatus
    public var artifactDigest: Digest?
    public var artifactSize: Int64?

    public init(
        model: String, source: String = "", runId: String? = nil, description: String = "", tags: [String: String] = [:],
        lineage: Lineage = Lineage(), status: VersionStatus = .pending, artifactDigest: Digest? = nil, artifactSize: Int64? = nil
    ) {
        self.model = model
        self.source = source
        self.runId = runId
        self.description = description
        self.tags = tags
        self.lineage = lineage
        self.status = status
        self.artifactDigest = artifactDigest
        self.artifactSize = artifactSize
    }
}

/// How a PENDING version ends.
public enum VersionOutcome: Sendable, Equatable {
    case ready(digest: Digest, size: Int64)
    case failed(message: String)
}

/// A filtered, ordered, paged search.
public struct SearchQuery: Sendable, Equatable {
    public var filter: SearchFilter
    public var order: [SearchOrder]
    /// At most this many results (1…10,000).
    public var limit: Int
    /// An opaque token from a previous ``Page``.
    public var pageToken: String?

    public init(filter: SearchFilter = SearchFilter(), order: [SearchOrder] = [], limit: Int = 100, pageToken: String? = nil) {
        self.filter = filter
        self.order = order
        self.limit = limit
        self.pageToken = pageToken
    }
}

/// One page of results and the token for the next, nil on the last page.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextPageToken: String?

    public init(items: [Item], nextPageToken: String?) {
        self.items = items
        self.nextPageToken = nextPageToken
    }
}

extension Page: Equatable where Item: Equatable {}
extension Page: Encodable where Item: Encodable {}
extension Page: Decodable where Item: Decodable {}
