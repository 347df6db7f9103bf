import Foundation
public import Logging
import NIOCore
public import SlipwayCore
public import SlipwayGateway
public import SlipwayStore
import Synchronization

/// Runs the data plane inside `slipway server`: keeps the gateway's routing table in step with the
/// endpoints in the store and swaps it atomically after every change.
public final class GatewayService: Sendable {
    public let gateway: Gateway
    let store: any EndpointStore
    let logger: Logger
    private let reloads = Mutex(0)

    public init(store: any EndpointStore, logger: Logger, predictions: (any PredictionSink)? = nil) {
        self.store = store
        self.logger = logger
        self.gateway = Gateway(logger: logger, predictions: predictions)
    }

    /// Reads every endpoint and installs the routing table built from them.
    public func reload() async {
        do {
            let table = Self.table(from: try await store.endpoints())
            gateway.update(table)
            reloads.withLock { $0 += 1 }
        } catch {
            logger.error("cannot reload the routing table; the gateway keeps the previous one", metadata: ["slipway.error": "\(error)"])
        }
    }

    /// The routing table for a set of endpoints. Deployments whose backend is not reachable by URL
    /// (supervised commands and built-in servers not yet running) have no backend: requests routed to
    /// them are answered 503, naming the variant.
    ///
    /// - Parameter supervised: the ready replicas of supervised backends (commands and built-in
    ///   servers), by endpoint and variant.
    public static func table(from endpoints: [Endpoint], supervised: [String: [String: [GatewayTable.Backend]]] = [:]) -> GatewayTable {
        var table = GatewayTable()
        for endpoint in endpoints {
            var replicas: [String: [GatewayTable.Backend]] = [:]
            for deployment in endpoint.deployments {
                if let backend = backend(for: deployment) {
                    replicas[deployment.variant] = [backend]
                } else if let ready = supervised[endpoint.name]?[deployment.variant] {
                    replicas[deployment.variant] = ready
                }
            }
            table.endpoints[endpoint.name] = GatewayTable.Endpoint(
                routes: EndpointRoutes(endpoint), replicas: replicas, maxBodyBytes: endpoint.settings.maxBodyBytes,
                stableVariant: endpoint.policy.stableVariant,
                timeout: .nanoseconds(Int64(endpoint.settings.timeoutSeconds * 1e9)),
                featureLogging: endpoint.settings.featureLogging)
        }
        return table
    }

    /// `http://host:port[/v2/models/NAME]` → the backend; the model name defaults to the registered model's.
    static func backend(for deployment: Deployment) -> GatewayTable.Backend? {
        guard case .url(let text, let modelName) = deployment.backend, let url = URL(string: text), let host = url.host else { return nil }
        let parts = url.path.split(separator: "/").map(String.init)
        var name = modelName ?? deployment.model
        if modelName == nil, parts.count >= 3, parts[0] == "v2", parts[1] == "models" { name = parts[2] }
        return GatewayTable.Backend(host: host, port: url.port ?? 80, modelName: name, modelVersion: deployment.modelVersion)
    }
}
