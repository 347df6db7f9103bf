public import Foundation
import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import SlipwayCore
import SlipwayGateway
import SlipwayRegistry
import SlipwayRollout

/// The control-plane server: the native API, the MLflow-compatible API and artifacts, on Hummingbird.
public enum SlipwayServer {
    /// What a running server announces in its data folder (`server.json`, mode 0600) so that the CLI
    /// on the same machine talks to it instead of opening the store itself.
    public struct Announcement: Codable, Sendable {
        public var url: String
        public var pid: Int32
        public var token: String
        public var tokenId: String

        public init(url: String, pid: Int32, token: String, tokenId: String) {
            self.url = url
            self.pid = pid
            self.token = token
            self.tokenId = tokenId
        }
    }

    /// Builds the router with every route and middleware.
    static func router(services: SlipwayServices, gateway: GatewayService? = nil) -> Router<APIContext> {
        routes(services: services, gateway: gateway).router
    }

    /// Builds the router through a ``RouteRecorder``, which also lists every route it registered.
    static func routes(services: SlipwayServices, gateway: GatewayService? = nil) -> RouteRecorder<APIContext> {
        let router = RouteRecorder(Router(context: APIContext.self))
        router.add(middleware: TimingMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AuthMiddleware(tokens: services.tokens, maxBodyBytes: services.configuration.maxBodyBytes))
        router.get("health") { _, _ in emptyResponse() }
        router.get("metrics") { _, _ in
            let table = gateway?.gateway.currentTable ?? GatewayTable()
            let text = gateway?.gateway.metrics.prometheus(weights: table.endpoints.mapValues { $0.routes.split.weights }) ?? ""
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let v1 = router.group("api/v1")
        v1.get("health") { _, _ in emptyResponse() }
        v1.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        RegistryController(registry: services.registry).addRoutes(to: v1)
        ArtifactController(artifacts: services.artifacts).addRoutes(to: v1)
        DataRoutes(artifacts: services.artifacts).addRoutes(to: v1)
        TokenController(tokens: services.tokens).addRoutes(to: v1)
        DatasetController(registry: services.registry).addRoutes(to: v1)
        EndpointController(
            service: services.endpoints, live: { gateway?.gateway.metrics.snapshot(endpoint: $0) ?? [:] },
            onFeedback: { record in gateway?.gateway.metrics.recordFeedback(of: record) },
            backends: { gateway?.backendSupervisor?.status(endpoint: $0) }
        ).addRoutes(to: v1)
        RolloutRoutes(service: RolloutService.make(services, gateway: gateway)).addRoutes(to: v1)
        RunnerRoutes(queue: RunnerQueue()).addRoutes(to: v1)
        MLflowController(registry: services.registry).addRoutes(to: router.group("api/2.0/mlflow"))
        MLflowController(registry: services.registry).addRoutes(to: router.group("ajax-api/2.0/mlflow"))
        return router
    }

    /// Runs the server until SIGTERM or SIGINT, then shuts down gracefully.
    ///
    /// - Parameters:
    ///   - configuration: where the data lives and what to listen on.
    ///   - readyFile: written with `{"api": "http://127.0.0.1:PORT"}` once the server answers.
    ///   - output: called with lines for the operator (the bootstrap admin token, the URL).
    public static func run(
        configuration: SlipwayConfiguration, readyFile: URL?, logger: Logger, output: @escaping @Sendable (String) -> Void
    ) async throws {
        let services = try SlipwayServices.open(configuration, logger: logger)
        if let admin = try await services.tokens.bootstrapAdmin() {
            output("First start: created an admin token. It is shown once and only its hash is stored:\n  \(admin.token)")
        }
        let owner = ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
        let local = try await services.tokens.create(
            name: owner.isEmpty ? "local" : owner, role: .admin, by: Principal(name: "slipway", role: .admin))
        let announcementFile = configuration.dataDir.appendingPathComponent("server.json")
        let predictionLog = PredictionLog(store: services.metadata, logger: logger)
        let gateway = GatewayService(store: services.metadata, logger: logger, predictions: predictionLog, io: configuration.gatewayIO)
        services.endpointChanges.add { await gateway.reload() }
        let supervisor = BackendSupervisor(
            store: services.metadata, artifacts: services.artifacts, configuration: .init(dataDir: configuration.dataDir), logger: logger,
            onChange: { await gateway.replicasChanged() })
        gateway.attach(supervisor)
        services.endpointChanges.add { supervisor.reconcile() }
        await gateway.reload()
        let gatewayPort = try await gateway.gateway.start(host: configuration.gatewayHost, port: configuration.gatewayPort)
        let gatewayHost = configuration.gatewayHost == "0.0.0.0" ? "127.0.0.1" : configuration.gatewayHost
        let gatewayURL = "http://\(gatewayHost):\(gatewayPort)"
        let app = Application(
            router: router(services: services, gateway: gateway),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "slipway"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
                let url = "http://\(host):\(port)"
                do {
                    let announcement = Announcement(url: url, pid: getpid(), token: local.token, tokenId: local.id)
                    try writeAtomically(SlipwayJSON.encoder(pretty: true).encode(announcement), to: announcementFile, mode: 0o600)
                    if let readyFile {
                        try writeAtomically(SlipwayJSON.encoder().encode(["api": url, "gateway": gatewayURL]), to: readyFile, mode: 0o644)
                    }
                } catch {
                    logger.error("cannot write the ready file", metadata: ["slipway.error": "\(error)"])
                }
                output("slipway server listening on \(url), gateway on \(gatewayURL) (data in \(configuration.dataDir.path))")
            },
            logger: logger
        )
        let rollouts = RolloutController(service: RolloutService.make(services, gateway: gateway), logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [supervisor, rollouts, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        defer {
            removeAnnouncement(announcementFile)
        }
        do {
            try await group.run()
        } catch {
            await gateway.gateway.stop()
            await predictionLog.close()
            throw error
        }
        // The gateway first, so that every answer it gave is in the log before the log's last write.
        await gateway.gateway.stop()
        await predictionLog.close()
        try? await services.tokens.revoke(id: local.id, by: Principal(name: "slipway", role: .admin))
    }

    static func removeAnnouncement(_ file: URL) {
        guard let data = try? Data(contentsOf: file),
            let announcement = try? SlipwayJSON.decoder().decode(Announcement.self, from: data),
            announcement.pid == getpid()
        else { return }
        try? FileManager.default.removeItem(at: file)
    }

    /// Writes a file via a temporary sibling and a rename, so readers never see half of it.
    public static func writeAtomically(_ data: Data, to url: URL, mode: Int) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        _ = FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: mode])
        guard FileManager.default.fileExists(atPath: temporary.path) else {
            throw GenericError(.unavailable, "cannot write \(temporary.path)")
        }
        if rename(temporary.path, url.path) != 0 {
            throw GenericError(.unavailable, "cannot move \(temporary.path) to \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}
