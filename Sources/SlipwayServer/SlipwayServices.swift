import Foundation
public import Logging
import SlipwayCore
public import SlipwayRegistry
public import SlipwayGateway
public import SlipwayStore
import SlipwayStoreSQLite
import Synchronization

/// The services of one Slipway data folder, wired together: the stores, the registry and the tokens.
/// The server and the in-process CLI both open a data folder through this one type.
public struct SlipwayServices: Sendable {
    public let configuration: SlipwayConfiguration
    public let metadata: any MetadataStore
    public let artifacts: any ArtifactStore
    public let registry: Registry
    public let tokens: AccessTokens
    public let endpoints: EndpointService
    /// Told about every endpoint change; the server hangs the gateway's table reload on it.
    public let endpointChanges: ChangeHub
    public let logger: Logger

    /// Opens (creating if needed) the data folder of a configuration.
    public static func open(_ configuration: SlipwayConfiguration, logger: Logger) throws -> SlipwayServices {
        let dir = configuration.dataDir
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw GenericError(.unavailable, "cannot create the data folder \(dir.path): \(error.localizedDescription)")
        }
        let metadata = try SQLiteMetadataStore(path: dir.appendingPathComponent("metadata.sqlite").path)
        let artifacts = try LocalArtifactStore(root: dir.appendingPathComponent("artifacts"))
        return SlipwayServices(configuration: configuration, metadata: metadata, artifacts: artifacts, logger: logger)
    }

    public init(configuration: SlipwayConfiguration, metadata: any MetadataStore, artifacts: any ArtifactStore, logger: Logger) {
        self.configuration = configuration
        self.metadata = metadata
        self.artifacts = artifacts
        self.logger = logger
        self.registry = Registry(store: metadata, artifacts: artifacts, policy: configuration.policy, logger: logger)
        self.tokens = AccessTokens(store: metadata)
        let hub = ChangeHub()
        self.endpointChanges = hub
        self.endpoints = EndpointService(store: metadata, logger: logger, onChange: { _ in await hub.notify() })
    }
}

/// A list of async callbacks run after a change, in the order they were added.
public final class ChangeHub: Sendable {
    private let listeners = Mutex<[@Sendable () async -> Void]>([])

    public init() {}

    public func add(_ listener: @escaping @Sendable () async -> Void) {
        listeners.withLock { $0.append(listener) }
    }

    func notify() async {
        for listener in listeners.withLock({ $0 }) { await listener() }
    }
}
