import ArgumentParser
import SlipwayRegistry
import SlipwayStore
import SlipwayClient
import Foundation
import Logging
import SlipwayCore
import SlipwayServer

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the control plane: the registry API, the MLflow-compatible API and artifacts.",
        discussion: """
            The first start on an empty data folder prints an admin token once. The server announces itself \
            in DATA_DIR/server.json (mode 0600) so the CLI on this machine uses it. SIGTERM or SIGINT stops it gracefully.

            On Linux the gateway serves client connections on threads of its own on epoll (one per CPU) and hands \
            every connection that sends a request it does not forward to SwiftNIO; SLIPWAY_GATEWAY_IO=nio serves them \
            all with SwiftNIO.
            """
    )
    @Option(name: .long, help: "The port (0 picks a free one; default 8420 or $SLIPWAY_PORT).") var port: Int?
    @Option(name: .long, help: "The address to bind (default 127.0.0.1).") var host: String?
    @Option(name: .long, help: "The port of the inference gateway (data plane; 0 picks a free one; default 8081 or $SLIPWAY_GATEWAY_PORT).")
    var gatewayPort: Int?
    @Option(name: .long, help: "The data folder (default ./.slipway).") var dataDir: String?
    @Option(name: .long, help: "Write {\"api\": URL} to this file once the server answers.") var readyFile: String?
    @Option(name: .long, help: "The log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String?
    @Option(name: .long, help: "The Prometheus server of rollout metrics that give no address (default $SLIPWAY_PROMETHEUS_URL).")
    var prometheusURL: String?

    func run() async throws {
        var config: SlipwayConfiguration
        do { config = try SlipwayConfiguration.load() } catch {
            Output.fail(json: false, code: "invalid_argument", message: "\(error)")
        }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
            config.port = port
        }
        if let host { config.host = host }
        if let gatewayPort {
            guard (0...65535).contains(gatewayPort) else { throw ValidationError("--gateway-port must be 0-65535") }
            config.gatewayPort = gatewayPort
        }
        if let dataDir { config.dataDir = URL(fileURLWithPath: dataDir) }
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel.lowercased()) else { throw ValidationError("--log-level '\(logLevel)' is not a level") }
            config.logLevel = level
        }
        if let prometheusURL {
            guard SlipwayConfiguration.isHTTPURL(prometheusURL) else {
                throw ValidationError("--prometheus-url '\(prometheusURL)' is not an http:// or https:// URL such as http://127.0.0.1:9090")
            }
            config.prometheusURL = prometheusURL
        }
        let level = config.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "slipway.server")
        do {
            try await SlipwayServer.run(
                configuration: config, readyFile: readyFile.map { URL(fileURLWithPath: $0) }, logger: logger,
                output: { Output.line($0) })
        } catch let error as any SlipwayError {
            Output.fail(json: false, code: error.kind.rawValue, message: error.message)
        }
    }
}
