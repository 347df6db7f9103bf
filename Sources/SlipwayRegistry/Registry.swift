public import Foundation
public import SlipwayCore
public import SlipwayStore
public import Logging

/// The model registry: models, versions with lineage, aliases with history, stages under policy,
/// approvals, tags and the audit log.
///
/// Every operation takes the ``Principal`` who performs it, checks the role it needs and the
/// policy, and calls the store, which applies the change and its audit record in one transaction.
/// The HTTP API, the MLflow-compatible API and the in-process CLI all call this one type.
public struct Registry: Sendable {
    public let store: any MetadataStore
    public let artifacts: any ArtifactStore
    public let policy: RegistryPolicy
    let logger: Logger

    public init(store: any MetadataStore, artifacts: any ArtifactStore, policy: RegistryPolicy = .default, logger: Logger) {
        self.store = store
        self.artifacts = artifacts
        self.policy = policy
        self.logger = logger
    }

    // MARK: Models

    /// Registers a new model.
    public func createModel(_ model: NewModel, by principal: Principal) async throws -> RegisteredModel {
        try principal.require(.editor, for: "creating a model")
        try Names.validateModelName(model.name)
        try Self.validateTags(model.tags)
        try Names.validateValue(model.description, what: "description")
        let created = try await store.createModel(model, actor: principal.name)
        logger.info("model created", metadata: ["slipway.model": "\(model.name)", "slipway.actor": "\(principal.name)"])
        return created
    }

    public func model(_ name: String, by principal: Principal) async throws -> RegisteredModel {
        try principal.require(.viewer, for: "reading a model")
        guard let model = try await store.model(named: name) else { throw StoreError.modelNotFound(name) }
        return model
    }

    public func updateModel(_ name: String, description: String, by principal: Principal) async throws -> RegisteredModel {
        try principal.require(.editor, for: "updating a model")
        try Names.validateValue(description, what: "description")
        return try await store.updateModel(named: name, description: description, actor: principal.name)
    }

    public func renameModel(_ name: String, to newName: String, by principal: Principal) async throws -> RegisteredModel {
        try principal.require(.editor, for: "renaming a model")
        try Names.validateModelName(newName)
        return try await store.renameModel(from: name, to: newName, actor: principal.name)
    }

    /// Deletes a model and all its versions; refused while aliases point at any of them.
    public func deleteModel(_ name: String, by principal: Principal) async throws {
        try principal.require(.admin, for: "deleting a model")
        try await store.deleteModel(named: name, actor: principal.name)
    }

    public func setModelTag(_ name: String, key: String, value: String, by principal: Principal) async throws {
        try principal.require(.editor, for: "tagging a model")
        try Names.validateKey(key)
        try Names.validateValue(value)
        try await store.setModelTag(model: name, key: key, value: value, actor: principal.name)
    }

    public func deleteModelTag(_ name: String, key: String, by principal: Principal) async throws {
        try principal.require(.editor, for: "removing a model tag")
        try await store.deleteModelTag(model: name, key: key, actor: principal.name)
    }

    /// Models matching an MLflow-style filter (`name LIKE 'fraud%' AND tags.team = 'risk'`).
    public func searchModels(
        filter: String, orderBy: [String] = [], limit: Int = 100, pageToken: String? = nil, by principal: Principal
    ) async throws -> Page<RegisteredModel> {
        try principal.require(.viewer, for: "searching models")
        let query = try Self.query(filter: filter, orderBy: orderBy, limit: limit, pageToken: pageToken)
        for clause in query.filter.clauses {
            switch clause.key {
            case .metric, .param:
                throw RegistryError(.invalidArgument, "models have no metrics or params; search versions for '\(clause.key)'")
            case .attribute(let attribute) where ![.name, .description, .userId, .creationTimestamp, .lastUpdatedTimestamp].contains(attribute):
                throw RegistryError(
                    .invalidArgument,
                    "models cannot be filtered by '\(attribute.rawValue)'; use name, description, user_id, creation_timestamp, last_updated_timestamp or tags.<key>"
                )
            default: break
            }
        }
        return try await store.searchModels(query)
    }

    // MARK: Versions

    /// Registers a version. With `artifact`, the object must already be in the artifact store and the
    /// version is READY at once; without it the version is PENDING until ``finishVersion``.
    public func createVersion(_ draft: NewVersion, by principal: Principal) async throws -> ModelVersion {
        try principal.require(.editor, for: "registering a model version")
        try Self.validateTags(draft.tags)
        for (key, value) in draft.lineage.parameters {
            try Names.validateKey(key, what: "parameter name")
            try Names.validateValue(value, what: "parameter value")
        }
        for (key, value) in draft.lineage.metrics {
            try Names.validateKey(key, what: "metric name")
            guard value.isFinite else { throw RegistryError(.invalidArgument, "metric '\(key)' is \(value); metrics must be finite numbers") }
        }
        try Names.validateValue(draft.source, what: "source")
        var draft = draft
        if let digest = draft.artifactDigest {
            guard try await artifacts.contains(digest) else {
                throw RegistryError(.failedPrecondition, "artifact \(digest) is not in the artifact store; upload it first")
            }
            let size: Int64
            if let manifest = try await artifacts.manifest(digest) {
                size = manifest.totalSize
            } else {
                size = try await artifacts.size(of: digest)
            }
            draft.artifactSize = size
            draft.status = .ready
            if draft.source.isEmpty { draft.source = "slipway-artifacts:/\(digest)" }
        } else if !draft.source.isEmpty, draft.status == .pending {
            // A version that only names an external source (as MLflow clients register them) has
            // nothing left to upload: it is ready as it is.
            draft.status = .ready
        }
        let version = try await store.createVersion(draft, actor: principal.name)
        logger.info(
            "model version registered",
            metadata: ["slipway.model": "\(version.model)", "slipway.version": "\(version.version)", "slipway.actor": "\(principal.name)"]
        )
        return version
    }

    /// Completes a PENDING version with its uploaded artifact, or marks it FAILED.
    public func finishVersion(_ model: String, _ version: Int, outcome: VersionOutcome, by principal: Principal) async throws -> ModelVersion {
        try principal.require(.editor, for: "completing a model version")
        if case .ready(let digest, _) = outcome, try await !artifacts.contains(digest) {
            throw RegistryError(.failedPrecondition, "artifact \(digest) is not in the artifact store; upload it first")
        }
        return try await store.finishVersion(model: model, version: version, outcome: outcome, actor: principal.name)
    }

    public func version(_ model: String, _ version: Int, by principal: Principal) async throws -> ModelVersion {
        try principal.require(.viewer, for: "reading a model version")
        guard let found = try await store.version(model: model, version: version) else {
            if try await store.model(named: model) == nil { throw StoreError.modelNotFound(model) }
            throw StoreError.versionNotFound(model, version)
        }
        return found
    }

    /// Resolves `3`, `v3`, `latest` or an alias name to a version.
    public func resolve(_ model: String, _ reference: String, by principal: Principal) async throws -> ModelVersion {
        try principal.require(.viewer, for: "reading a model version")
        let text = reference.hasPrefix("v") && Int(reference.dropFirst()) != nil ? String(reference.dropFirst()) : reference
        if let number = Int(text) { return try await version(model, number, by: principal) }
        let found = try await self.model(model, by: principal)
        if reference.lowercased() == "latest" {
            guard let latest = found.latestVersion else { throw RegistryError(.notFound, "model '\(model)' has no versions yet") }
            return try await version(model, latest, by: principal)
        }
        guard let number = found.aliases[reference] else { throw StoreError.aliasNotFound(model, reference) }
        return try await version(model, number, by: principal)
    }

    public func updateVersion(_ model: String, _ version: Int, description: String, by principal: Principal) async throws -> ModelVersion {
        try principal.require(.editor, for: "updating a model version")
        try Names.validateValue(description, what: "description")
        return try await store.updateVersion(model: model, version: version, description: description, actor: principal.name)
    }

    /// Deletes a version; refused while an alias (or a deployment) points at it.
    public func deleteVersion(_ model: String, _ version: Int, by principal: Principal) async throws {
        try principal.require(.editor, for: "deleting a model version")
        try await store.deleteVersion(model: model, version: version, actor: principal.name)
    }

    public func setVersionTag(_ model: String, _ version: Int, key: String, value: String, by principal: Principal) async throws {
        try principal.require(.editor, for: "tagging a model version")
        try Names.validateKey(key)
        try Names.validateValue(value)
        try await store.setVersionTag(
            model: model, version: version, key: key, value: value, immutable: policy.isImmutable(key), actor: principal.name)
    }

    public func deleteVersionTag(_ model: String, _ version: Int, key: String, by principal: Principal) async throws {
        try principal.require(.editor, for: "removing a model version tag")
        try await store.deleteVersionTag(model: model, version: version, key: key, immutable: policy.isImmutable(key), actor: principal.name)
    }

    /// Versions matching an MLflow-style filter extended with `metrics.<k>` and `params.<k>`.
    public func searchVersions(
        filter: String, orderBy: [String] = [], limit: Int = 100, pageToken: String? = nil, by principal: Principal
    ) async throws -> Page<ModelVersion> {
        try principal.require(.viewer, for: "searching model versions")
        let query = try Self.query(filter: filter, orderBy: orderBy, limit: limit, pageToken: pageToken)
        return try await store.searchVersions(query)
    }

    /// The newest version in each stage of each named model (MLflow's "latest versions"), lowest version first,
    /// keyed by model name, read in one store call for all of them; unknown models and models without versions have no entry.
    public func latestVersionsPerStage(_ models: [String], by principal: Principal) async throws -> [String: [ModelVersion]] {
        try principal.require(.viewer, for: "reading the latest model versions")
        return try await store.latestVersionsPerStage(models: models)
    }

    // MARK: Aliases

    /// Points an alias at a version. Aliases matching ``RegistryPolicy/immutableTags`` can be set once.
    @discardableResult
    public func setAlias(_ model: String, alias: String, version: Int, reason: String?, by principal: Principal) async throws -> AliasEvent {
        try principal.require(.editor, for: "moving an alias")
        if !policy.isImmutable(alias) { try Names.validateAlias(alias) }
        let target = try await self.version(model, version, by: principal)
        guard target.status == .ready else {
            throw RegistryError(.failedPrecondition, "\(target.reference) is \(target.status.rawValue); only READY versions can take an alias")
        }
        let event = try await store.setAlias(
            model: model, alias: alias, version: version, immutable: policy.isImmutable(alias), reason: reason, actor: principal.name)
        logger.info(
            "alias moved",
            metadata: [
                "slipway.model": "\(model)", "slipway.alias": "\(alias)", "slipway.version": "\(version)", "slipway.actor": "\(principal.name)",
            ]
        )
        return event
    }

    @discardableResult
    public func deleteAlias(_ model: String, alias: String, reason: String?, by principal: Principal) async throws -> AliasEvent {
        try principal.require(.editor, for: "deleting an alias")
        return try await store.deleteAlias(model: model, alias: alias, immutable: policy.isImmutable(alias), reason: reason, actor: principal.name)
    }

    /// The version an alias points at now.
    public func alias(_ model: String, alias: String, by principal: Principal) async throws -> ModelVersion {
        let found = try await self.model(model, by: principal)
        guard let number = found.aliases[alias] else { throw StoreError.aliasNotFound(model, alias) }
        return try await version(model, number, by: principal)
    }

    /// The version an alias pointed at at an instant ("what served when"), or nil if it pointed nowhere.
    public func alias(_ model: String, alias: String, at instant: Date, by principal: Principal) async throws -> Int? {
        let history = try await aliasHistory(model, alias: alias, by: principal)
        guard !history.isEmpty else { throw StoreError.aliasNotFound(model, alias) }
        return history.last { $0.at <= instant }?.toVersion
    }

    public func aliasHistory(_ model: String, alias: String?, by principal: Principal) async throws -> [AliasEvent] {
        try principal.require(.viewer, for: "reading alias history")
        _ = try await self.model(model, by: principal)
        return try await store.aliasHistory(model: model, alias: alias)
    }

    // MARK: Stages

    /// Records an approval of a version for a stage. The registrant cannot approve their own version.
    public func approve(_ model: String, _ version: Int, stage: String, comment: String?, by principal: Principal) async throws -> ModelVersion {
        try principal.require(.approver, for: "approving a model version")
        guard let canonical = policy.stage(named: stage) else {
            throw RegistryError(.invalidArgument, "unknown stage '\(stage)'; the stages are \(policy.stages.joined(separator: ", "))")
        }
        let target = try await self.version(model, version, by: principal)
        guard target.createdBy != principal.name else {
            throw RegistryError(
                .failedPrecondition, "\(principal.name) registered \(target.reference) and cannot approve it; another approver must")
        }
        try await store.addApproval(
            Approval(model: model, version: version, stage: canonical, approver: principal.name, comment: comment, at: Timestamp.now()))
        return try await self.version(model, version, by: principal)
    }

    public func approvals(_ model: String, _ version: Int, by principal: Principal) async throws -> [Approval] {
        try principal.require(.viewer, for: "reading approvals")
        _ = try await self.version(model, version, by: principal)
        return try await store.approvals(model: model, version: version)
    }

    /// Moves a version to a stage if the policy's rule for that stage holds; otherwise throws
    /// `failedPrecondition` naming the rule that failed.
    public func transitionStage(
        _ model: String, _ version: Int, to stage: String, archiveExisting: Bool = false, by principal: Principal
    ) async throws -> ModelVersion {
        try principal.require(.editor, for: "changing a version's stage")
        guard let target = policy.stage(named: stage) else {
            throw RegistryError(.invalidArgument, "unknown stage '\(stage)'; the stages are \(policy.stages.joined(separator: ", "))")
        }
        let current = try await self.version(model, version, by: principal)
        guard current.status == .ready else {
            throw RegistryError(.failedPrecondition, "\(current.reference) is \(current.status.rawValue); only READY versions change stage")
        }
        if current.stage == target { return current }
        for rule in policy.transitions where rule.to.caseInsensitiveCompare(target) == .orderedSame {
            try await check(rule, current)
        }
        let moved = try await store.transitionStage(
            model: model, version: version, expected: current.stage, stage: target, archiveOthers: archiveExisting,
            archiveStage: policy.archiveStage, actor: principal.name)
        logger.info(
            "stage changed",
            metadata: ["slipway.model": "\(model)", "slipway.version": "\(version)", "slipway.stage": "\(target)", "slipway.actor": "\(principal.name)"]
        )
        return moved
    }

    private func check(_ rule: StageRule, _ version: ModelVersion) async throws {
        if let from = rule.from, !from.contains(where: { $0.caseInsensitiveCompare(version.stage) == .orderedSame }) {
            throw RegistryError(
                .failedPrecondition,
                "rule for \(rule.to) failed: a version must come from \(from.joined(separator: " or ")); \(version.reference) is in \(version.stage)")
        }
        if rule.approvals > 0 {
            let approvers = Set(
                try await store.approvals(model: version.model, version: version.version)
                    .filter { $0.stage.caseInsensitiveCompare(rule.to) == .orderedSame && $0.approver != version.createdBy }
                    .map(\.approver))
            if approvers.count < rule.approvals {
                throw RegistryError(
                    .failedPrecondition,
                    "rule for \(rule.to) failed: it needs \(rule.approvals) approval(s) by someone other than \(version.createdBy), who registered \(version.reference); it has \(approvers.count). An approver runs `slipway stage approve \(version.model) \(version.version) --stage \(rule.to)`"
                )
            }
        }
        for condition in rule.conditions {
            let filter = try SearchFilterParser.parse(condition)
            if filter.firstFailingClause(for: version) != nil {
                throw RegistryError(
                    .failedPrecondition, "rule for \(rule.to) failed: condition '\(condition)' does not hold for \(version.reference)")
            }
        }
    }

    // MARK: Audit

    public func audit(model: String?, limit: Int = 100, beforeId: Int64? = nil, by principal: Principal) async throws -> [AuditEvent] {
        try principal.require(.viewer, for: "reading the audit log")
        guard (1...10_000).contains(limit) else { throw RegistryError(.invalidArgument, "limit must be between 1 and 10000, got \(limit)") }
        return try await store.auditEvents(model: model, limit: limit, beforeId: beforeId)
    }

    // MARK: Datasets

    /// Registers a dataset (idempotent by name and digest); returns it and whether this call stored it.
    public func registerDataset(_ dataset: NewDataset, by principal: Principal) async throws -> (dataset: Dataset, created: Bool) {
        try principal.require(.editor, for: "registering a dataset")
        return try await store.registerDataset(dataset, actor: principal.name)
    }

    /// The dataset of this name and digest, or of this name registered last.
    public func dataset(_ name: String, digest: Digest?, by principal: Principal) async throws -> Dataset {
        try principal.require(.viewer, for: "reading datasets")
        guard let found = try await store.dataset(named: name, digest: digest) else {
            throw RegistryError(
                .notFound,
                "dataset '\(name)'" + (digest.map { " with digest \($0)" } ?? "")
                    + " is not registered; register it with `slipway datasets register \(name).slipway`")
        }
        return found
    }

    /// Registered datasets, newest first.
    public func datasets(named name: String?, limit: Int = 100, by principal: Principal) async throws -> [Dataset] {
        try principal.require(.viewer, for: "listing datasets")
        return try await store.datasets(named: name, limit: limit)
    }

    // MARK: Helpers

    static func validateTags(_ tags: [String: String]) throws {
        for (key, value) in tags {
            try Names.validateKey(key)
            try Names.validateValue(value)
        }
    }

    static func query(filter: String, orderBy: [String], limit: Int, pageToken: String?) throws -> SearchQuery {
        guard (1...10_000).contains(limit) else {
            throw RegistryError(.invalidArgument, "max_results must be between 1 and 10000, got \(limit)")
        }
        let parsed: SearchFilter
        let order: [SearchOrder]
        do {
            parsed = try SearchFilterParser.parse(filter)
            order = try SearchFilterParser.parseOrder(orderBy)
        } catch {
            throw RegistryError(.invalidArgument, "invalid search: \(error)")
        }
        return SearchQuery(filter: parsed, order: order, limit: limit, pageToken: pageToken)
    }
}
