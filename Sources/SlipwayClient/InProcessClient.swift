public import Foundation
public import SlipwayCore
public import SlipwayRegistry
public import SlipwayServer
public import SlipwayStore
public import SlipwayGateway
public import SlipwayRollout

/// Works directly on a data folder, as the local OS user with the admin role.
public struct InProcessClient: SlipwayClient {
    public let services: SlipwayServices
    public let principal: Principal

    public init(services: SlipwayServices, principal: Principal) {
        self.services = services
        self.principal = principal
    }

    /// The principal of the local OS user.
    public static func localPrincipal() -> Principal {
        let name = ProcessInfo.processInfo.environment["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? NSUserName()
        return Principal(name: name.isEmpty ? "local" : name, role: .admin)
    }

    public var location: String { services.configuration.dataDir.path }
    var registry: Registry { services.registry }

    public func whoami() async throws -> Principal { principal }

    public func createModel(_ model: NewModel) async throws -> RegisteredModel { try await registry.createModel(model, by: principal) }
    public func model(_ name: String) async throws -> RegisteredModel { try await registry.model(name, by: principal) }
    public func searchModels(filter: String, orderBy: [String], limit: Int, pageToken: String?) async throws -> Page<RegisteredModel> {
        try await registry.searchModels(filter: filter, orderBy: orderBy, limit: limit, pageToken: pageToken, by: principal)
    }
    public func updateModel(_ name: String, description: String) async throws -> RegisteredModel {
        try await registry.updateModel(name, description: description, by: principal)
    }
    public func renameModel(_ name: String, to newName: String) async throws -> RegisteredModel {
        try await registry.renameModel(name, to: newName, by: principal)
    }
    public func deleteModel(_ name: String) async throws { try await registry.deleteModel(name, by: principal) }
    public func setModelTag(_ name: String, key: String, value: String) async throws {
        try await registry.setModelTag(name, key: key, value: value, by: principal)
    }
    public func deleteModelTag(_ name: String, key: String) async throws { try await registry.deleteModelTag(name, key: key, by: principal) }

    public func uploadArtifact(at path: URL, progress: TransferProgress?) async throws -> StoredObject {
        try principal.require(.editor, for: "uploading artifacts")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw GenericError(.invalidArgument, "\(path.path) does not exist")
        }
        if isDirectory.boolValue {
            let total = ArtifactFiles.totalSize(of: path)
            return try await services.artifacts.putDirectory(at: path, progress: scaled(progress, total: total)).object
        }
        let total = (try? FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int64) ?? 0
        return try await services.artifacts.putFile(at: path, progress: scaled(progress, total: total))
    }

    public func downloadArtifact(_ digest: Digest, to destination: URL, progress: TransferProgress?) async throws {
        try principal.require(.viewer, for: "downloading artifacts")
        let total: Int64
        if let manifest = try await services.artifacts.manifest(digest) { total = manifest.totalSize } else {
            total = try await services.artifacts.size(of: digest)
        }
        try await services.artifacts.materialize(digest, to: destination, progress: scaled(progress, total: total))
    }

    public func createVersion(_ version: NewVersion) async throws -> ModelVersion { try await registry.createVersion(version, by: principal) }
    public func version(_ model: String, _ reference: String) async throws -> ModelVersion {
        try await registry.resolve(model, reference, by: principal)
    }
    public func searchVersions(filter: String, orderBy: [String], limit: Int, pageToken: String?) async throws -> Page<ModelVersion> {
        try await registry.searchVersions(filter: filter, orderBy: orderBy, limit: limit, pageToken: pageToken, by: principal)
    }
    public func deleteVersion(_ model: String, _ version: Int) async throws { try await registry.deleteVersion(model, version, by: principal) }
    public func setVersionTag(_ model: String, _ version: Int, key: String, value: String) async throws {
        try await registry.setVersionTag(model, version, key: key, value: value, by: principal)
    }
    public func deleteVersionTag(_ model: String, _ version: Int, key: String) async throws {
        try await registry.deleteVersionTag(model, version, key: key, by: principal)
    }

    public func setAlias(_ model: String, alias: String, version: Int, reason: String?) async throws -> AliasEvent {
        try await registry.setAlias(model, alias: alias, version: version, reason: reason, by: principal)
    }
    public func deleteAlias(_ model: String, alias: String, reason: String?) async throws -> AliasEvent {
        try await registry.deleteAlias(model, alias: alias, reason: reason, by: principal)
    }
    public func alias(_ model: String, alias: String) async throws -> ModelVersion { try await registry.alias(model, alias: alias, by: principal) }
    public func alias(_ model: String, alias: String, at instant: Date) async throws -> Int? {
        try await registry.alias(model, alias: alias, at: instant, by: principal)
    }
    public func aliasHistory(_ model: String, alias: String?) async throws -> [AliasEvent] {
        try await registry.aliasHistory(model, alias: alias, by: principal)
    }

    public func approve(_ model: String, _ version: Int, stage: String, comment: String?) async throws -> ModelVersion {
        try await registry.approve(model, version, stage: stage, comment: comment, by: principal)
    }
    public func transitionStage(_ model: String, _ version: Int, to stage: String, archiveExisting: Bool) async throws -> ModelVersion {
        try await registry.transitionStage(model, version, to: stage, archiveExisting: archiveExisting, by: principal)
    }

    var endpointService: EndpointService { services.endpoints }

    public func createEndpoint(name: String, description: String, settings: EndpointSettings, initialVariant: String) async throws -> EndpointStatus {
        EndpointStatus(
            endpoint: try await endpointService.create(
                name: name, description: description, settings: settings, initialVariant: initialVariant, by: principal))
    }
    public func endpoint(_ name: String) async throws -> EndpointStatus {
        EndpointStatus(endpoint: try await endpointService.endpoint(name, by: principal))
    }
    public func endpoints() async throws -> [Endpoint] { try await endpointService.list(by: principal) }
    public func deleteEndpoint(_ name: String) async throws { try await endpointService.delete(name, by: principal) }
    public func deploy(endpoint: String, variant: String, model: String, backend: BackendSpec, replicas: Int) async throws -> EndpointStatus {
        EndpointStatus(
            endpoint: try await endpointService.deploy(
                endpoint: endpoint, variant: variant, model: model, backend: backend, replicas: replicas, by: principal))
    }
    public func undeploy(endpoint: String, variant: String) async throws -> EndpointStatus {
        EndpointStatus(endpoint: try await endpointService.undeploy(endpoint: endpoint, variant: variant, by: principal))
    }
    public func setWeights(endpoint: String, weights: [(String, Double)]) async throws -> EndpointStatus {
        EndpointStatus(endpoint: try await endpointService.setWeights(endpoint, weights, by: principal))
    }
    public func switchTraffic(endpoint: String, to variant: String) async throws -> EndpointStatus {
        EndpointStatus(endpoint: try await endpointService.switchTo(endpoint, variant: variant, by: principal))
    }
    public func mirror(endpoint: String, to variant: String, percent: Double) async throws -> EndpointStatus {
        EndpointStatus(endpoint: try await endpointService.mirror(endpoint, to: variant, percent: percent, by: principal))
    }
    public func route(endpoint: String, header: String, value: String, to variant: String?) async throws -> EndpointStatus {
        EndpointStatus(endpoint: try await endpointService.route(endpoint, header: header, value: value, to: variant, by: principal))
    }

    public func feedback(endpoint: String, requestId: String, groundTruth: String?, outcome: Double?) async throws -> PredictionRecord {
        try await endpointService.feedback(
            endpoint: endpoint, FeedbackItem(requestId: requestId, groundTruth: groundTruth, outcome: outcome), by: principal)
    }
    public func feedback(endpoint: String, items: [FeedbackItem]) async throws -> [FeedbackResult] {
        try await endpointService.feedback(endpoint: endpoint, batch: items, by: principal)
    }
    public func predictions(endpoint: String, since: Date?, limit: Int, pageToken: String?) async throws -> Page<PredictionRecord> {
        try await endpointService.predictions(endpoint: endpoint, since: since, limit: limit, pageToken: pageToken, by: principal)
    }

    public func audit(model: String?, limit: Int) async throws -> [AuditEvent] {
        try await registry.audit(model: model, limit: limit, by: principal)
    }
    public func createToken(name: String, role: Role) async throws -> AccessTokens.Issued {
        try await services.tokens.create(name: name, role: role, by: principal)
    }
}

/// File-system helpers shared by the clients.
enum ArtifactFiles {
    /// The total size of the regular files under a folder.
    static func totalSize(of folder: URL) -> Int64 {
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else {
            return 0
        }
        var total: Int64 = 0
        for case let url as URL in enumerator {
            if let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), values.isRegularFile == true {
                total += Int64(values.fileSize ?? 0)
            }
        }
        return total
    }
}

// MARK: Rollouts

extension InProcessClient {
    /// Rollouts on the data folder directly. Without a server nothing advances them: a started rollout
    /// waits, stored, until `slipway server` runs its controller. Commands act at once (abort moves traffic).
    var rolloutService: RolloutService { RolloutService.make(services, gateway: nil) }

    public func startRollout(yaml: String, file: String) async throws -> RolloutStatus {
        try await rolloutService.start(yaml: yaml, file: file, by: principal)
    }
    public func registerDataset(_ dataset: NewDataset) async throws -> Dataset {
        try await registry.registerDataset(dataset, by: principal).dataset
    }
    public func dataset(_ name: String, digest: Digest?) async throws -> Dataset { try await registry.dataset(name, digest: digest, by: principal) }
    public func datasets(name: String?, limit: Int) async throws -> [Dataset] { try await registry.datasets(named: name, limit: limit, by: principal) }

    public func rollout(_ name: String) async throws -> RolloutStatus { try await rolloutService.status(name, by: principal) }
    public func rollouts() async throws -> [RolloutStatus] { try await rolloutService.list(by: principal) }
    public func rolloutHistory(_ name: String) async throws -> [RolloutTransition] { try await rolloutService.history(name, by: principal) }
    public func rolloutCommand(_ name: String, _ action: RolloutAction, reason: String?, full: Bool) async throws -> RolloutStatus {
        let service = rolloutService
        let status: RolloutStatus
        switch action {
        case .promote: status = try await service.promote(name, full: full, by: principal)
        case .abort: status = try await service.abort(name, reason: reason, by: principal)
        case .pause: status = try await service.pause(name, by: principal)
        case .resume: status = try await service.resume(name, by: principal)
        case .retry: status = try await service.retry(name, by: principal)
        case .undo: status = try await service.undo(name, reason: reason, by: principal)
        }
        // This process may exit right after the command: the webhooks of its change go out first.
        await service.waitForNotifications()
        return status
    }
}
