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
    /// Where the ready replicas of supervised backends come from (see ``attach(_:)``).
    private let supervisor = Mutex<BackendSupervisor?>(nil)
    /// Reloads in the order they started (`issued`), the latest one whose table was installed, and the
    /// endpoints of that table.
    private let tickets = Mutex<(issued: Int, installed: Int, endpoints: [Endpoint]?)>((0, 0, nil))

    public init(store: any EndpointStore, logger: Logger, predictions: (any PredictionSink)? = nil, io: Gateway.DataPlaneIO = .automatic) {
        self.store = store
        self.logger = logger
        self.gateway = Gateway(logger: logger, predictions: predictions, io: io)
    }

    /// Routes supervised backends (commands and built-in servers) to the supervisor's ready replicas.
    public func attach(_ supervisor: BackendSupervisor) {
        self.supervisor.withLock { $0 = supervisor }
    }

    /// The supervisor of commands and built-in servers, once attached.
    public var backendSupervisor: BackendSupervisor? { supervisor.withLock { $0 } }

    /// Reads every endpoint and installs the routing table built from them and the supervisor's ready replicas.
    ///
    /// Reloads may overlap (an endpoint change and a replica becoming ready): a reload that started
    /// later read later state, so one that finishes after a later one has been installed is dropped.
    public func reload() async {
        let ticket = tickets.withLock { counters in
            counters.issued += 1
            return counters.issued
        }
        do {
            let endpoints = try await store.endpoints()
            let replicas = backendSupervisor?.readyBackends() ?? [:]
            let table = Self.table(from: endpoints, supervised: replicas)
            let installed = tickets.withLock { counters in
                guard ticket > counters.installed else { return false }
                counters.installed = ticket
                counters.endpoints = endpoints
                gateway.update(table)
                return true
            }
            if installed { reloads.withLock { $0 += 1 } }
        } catch {
            logger.error("cannot reload the routing table; the gateway keeps the previous one", metadata: ["slipway.error": "\(error)"])
        }
    }

    /// Installs a table with the supervisor's current ready replicas at once, from the endpoints of the
    /// installed table (no store read, so a replica that died leaves the table before this returns),
    /// then reloads from the store.
    public func replicasChanged() async {
        let replicas = backendSupervisor?.readyBackends() ?? [:]
        tickets.withLock { counters in
            guard let endpoints = counters.endpoints else { return }
            counters.issued += 1
            counters.installed = counters.issued
            gateway.update(Self.table(from: endpoints, supervised: replicas))
        }
        await reload()
    }

    /// The routing table for a set of endpoints. Deployments whose backend is supervised (a command or
    /// the built-in server) route to their ready replicas; while they have none, requests routed to
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
