import ArgumentParser
import SlipwayRegistry
import SlipwayStore
import Foundation
import Logging
import SlipwayClient
import SlipwayCore
import SlipwayServer

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document on stdout.")
    var json = false

    @Option(name: .long, help: "The Slipway server URL (default: $SLIPWAY_SERVER, else a server announced in the data folder, else in-process).")
    var server: String?

    @Option(name: .long, help: "The bearer token for --server (default: $SLIPWAY_TOKEN).")
    var token: String?

    @Option(name: .long, help: "The data folder for in-process use (default: $SLIPWAY_DATA_DIR or ./.slipway).")
    var dataDir: String?

    /// The configuration with this command's overrides applied.
    func configuration() throws -> SlipwayConfiguration {
        var config = try SlipwayConfiguration.load()
        if let dataDir { config.dataDir = URL(fileURLWithPath: dataDir) }
        return config
    }

    /// The client this invocation talks through: an explicit server, a server announced in the data folder, or the store itself.
    func client() throws -> any SlipwayClient {
        let environment = ProcessInfo.processInfo.environment
        let token = token ?? environment["SLIPWAY_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let url = server ?? environment["SLIPWAY_SERVER"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw GenericError(.invalidArgument, "--server '\(url)' must be an http:// or https:// URL")
            }
            return RemoteClient(baseURL: url, token: token)
        }
        let config = try configuration()
        if let announcement = Self.runningServer(in: config.dataDir) {
            return RemoteClient(baseURL: announcement.url, token: token ?? announcement.token)
        }
        var logger = Logger(label: "slipway")
        logger.logLevel = .warning
        let services = try SlipwayServices.open(config, logger: logger)
        return InProcessClient(services: services, principal: InProcessClient.localPrincipal())
    }

    /// The server announced in a data folder, if its process is still alive.
    static func runningServer(in dataDir: URL) -> SlipwayServer.Announcement? {
        let file = dataDir.appendingPathComponent("server.json")
        guard let data = try? Data(contentsOf: file),
            let announcement = try? SlipwayJSON.decoder().decode(SlipwayServer.Announcement.self, from: data),
            kill(announcement.pid, 0) == 0
        else { return nil }
        return announcement
    }
}
