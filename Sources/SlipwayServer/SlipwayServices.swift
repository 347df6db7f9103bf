import Foundation
public import Logging
import SlipwayCore
public import SlipwayRegistry
public import SlipwayStore
import SlipwayStoreSQLite

/// The services of one Slipway data folder, wired together: the stores, the registry and the tokens.
/// The server and the in-process CLI both open a data folder through this one type.
public struct SlipwayServices: Sendable {
    public let configuration: SlipwayConfiguration
    public let metadata: any MetadataStore
    public let artifacts: any ArtifactStore
    public let registry: Registry
    public let tokens: AccessTokens
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
    }
}
