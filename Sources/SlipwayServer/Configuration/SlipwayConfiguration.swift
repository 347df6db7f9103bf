public import Foundation
public import Logging
public import SlipwayRegistry
public import SlipwayGateway
import Yams

/// How a Slipway process is set up. Filled from defaults, then `slipway.yml`, then the
/// environment, then command-line flags (each later source wins).
///
/// `slipway.yml` (in the working directory, or the file named by `SLIPWAY_CONFIG`):
/// ```yaml
/// dataDir: .slipway            # where metadata and artifacts live (SLIPWAY_DATA_DIR)
/// server:
///   host: 127.0.0.1            # address the control plane binds (SLIPWAY_HOST)
///   port: 8420                 # 0 picks a free port (SLIPWAY_PORT)
///   maxBodyBytes: 8388608      # limit for JSON request bodies; artifacts stream and are exempt
/// gateway:
///   host: 127.0.0.1            # address the data plane binds (SLIPWAY_GATEWAY_HOST)
///   port: 8081                 # 0 picks a free port (SLIPWAY_GATEWAY_PORT)
///                              # SLIPWAY_GATEWAY_IO=nio serves client connections with SwiftNIO instead of
///                              # the gateway's own epoll threads (Linux; other systems always use NIO)
/// logLevel: info               # trace, debug, info, notice, warning, error, critical (SLIPWAY_LOG_LEVEL)
/// prometheus:
///   url: http://127.0.0.1:9090 # the Prometheus server of rollout metrics without an address (SLIPWAY_PROMETHEUS_URL)
/// registry:                    # see RegistryPolicy
///   stages: [None, Staging, Production, Archived]
/// ```
public struct SlipwayConfiguration: Sendable {
    /// The data folder: `metadata.sqlite`, `artifacts/`, `server.json`.
    public var dataDir: URL
    /// The address the control plane listens on.
    public var host: String
    /// The port the control plane listens on; 0 picks a free one.
    public var port: Int
    /// The address the data plane (the inference gateway) listens on.
    public var gatewayHost: String
    /// The port of the data plane; 0 picks a free one.
    public var gatewayPort: Int
    /// How the data plane serves client connections (`SLIPWAY_GATEWAY_IO`).
    public var gatewayIO: Gateway.DataPlaneIO = .automatic
    /// The largest JSON request body accepted (413 above it). Artifact uploads stream and are exempt.
    public var maxBodyBytes: Int
    public var logLevel: Logger.Level
    public var policy: RegistryPolicy
    /// The Prometheus server that `prometheus` rollout metrics without an `address` query (`prometheus.url`,
    /// `SLIPWAY_PROMETHEUS_URL`, `--prometheus-url`); nil: such metrics measure as errors.
    public var prometheusURL: String?

    public init(
        dataDir: URL = URL(fileURLWithPath: ".slipway"), host: String = "127.0.0.1", port: Int = 8420,
        maxBodyBytes: Int = 8 << 20, logLevel: Logger.Level = .info, policy: RegistryPolicy = .default,
        gatewayHost: String = "127.0.0.1", gatewayPort: Int = 8081
    ) {
        self.gatewayHost = gatewayHost
        self.gatewayPort = gatewayPort
        self.dataDir = dataDir
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.logLevel = logLevel
        self.policy = policy
    }

    /// Loads the configuration from `slipway.yml` (if present) and the environment.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    ) throws -> SlipwayConfiguration {
        var config = SlipwayConfiguration()
        let file = environment["SLIPWAY_CONFIG"].map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent("slipway.yml")
        if FileManager.default.fileExists(atPath: file.path) {
            try config.apply(file: file)
        } else if environment["SLIPWAY_CONFIG"] != nil {
            throw ConfigurationError("configuration file \(file.path) (from SLIPWAY_CONFIG) does not exist")
        }
        if let dir = environment["SLIPWAY_DATA_DIR"], !dir.isEmpty { config.dataDir = URL(fileURLWithPath: dir) }
        if let host = environment["SLIPWAY_HOST"], !host.isEmpty { config.host = host }
        if let text = environment["SLIPWAY_PORT"], !text.isEmpty {
            guard let port = Int(text), (0...65535).contains(port) else {
                throw ConfigurationError("SLIPWAY_PORT='\(text)' is not a port number (0-65535)")
            }
            config.port = port
        }
        if let host = environment["SLIPWAY_GATEWAY_HOST"], !host.isEmpty { config.gatewayHost = host }
        if let text = environment["SLIPWAY_GATEWAY_PORT"], !text.isEmpty {
            guard let port = Int(text), (0...65535).contains(port) else {
                throw ConfigurationError("SLIPWAY_GATEWAY_PORT='\(text)' is not a port number (0-65535)")
            }
            config.gatewayPort = port
        }
        if let text = environment["SLIPWAY_GATEWAY_IO"], !text.isEmpty {
            guard let io = Gateway.DataPlaneIO(rawValue: text) else {
                throw ConfigurationError("SLIPWAY_GATEWAY_IO='\(text)' is not one of automatic (the gateway's own epoll threads on Linux) or nio")
            }
            config.gatewayIO = io
        }
        if let text = environment["SLIPWAY_PROMETHEUS_URL"], !text.isEmpty {
            guard Self.isHTTPURL(text) else {
                throw ConfigurationError("SLIPWAY_PROMETHEUS_URL='\(text)' is not an http:// or https:// URL such as http://127.0.0.1:9090")
            }
            config.prometheusURL = text
        }
        if let text = environment["SLIPWAY_LOG_LEVEL"], !text.isEmpty {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw ConfigurationError("SLIPWAY_LOG_LEVEL='\(text)' is not one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config.logLevel = level
        }
        return config
    }

    private struct FileContents: Decodable {
        var dataDir: String?
        var server: Server?
        var gateway: Gateway?
        var logLevel: String?
        var registry: RegistryPolicy?
        var prometheus: Prometheus?

        struct Prometheus: Decodable {
            var url: String?
        }

        struct Gateway: Decodable {
            var host: String?
            var port: Int?
        }

        struct Server: Decodable {
            var host: String?
            var port: Int?
            var maxBodyBytes: Int?
        }
    }

    mutating func apply(file: URL) throws {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw ConfigurationError("cannot read \(file.path): \(error.localizedDescription)")
        }
        let contents: FileContents
        do {
            contents = try YAMLDecoder().decode(FileContents.self, from: text)
        } catch let error as DecodingError {
            throw ConfigurationError("\(file.path): \(Self.describe(error))")
        } catch {
            throw ConfigurationError("\(file.path): \(error)")
        }
        if let dir = contents.dataDir {
            dataDir = URL(fileURLWithPath: dir, relativeTo: file.deletingLastPathComponent()).standardizedFileURL
        }
        if let host = contents.server?.host { self.host = host }
        if let port = contents.server?.port {
            guard (0...65535).contains(port) else { throw ConfigurationError("\(file.path): server.port \(port) is not 0-65535") }
            self.port = port
        }
        if let host = contents.gateway?.host { gatewayHost = host }
        if let port = contents.gateway?.port {
            guard (0...65535).contains(port) else { throw ConfigurationError("\(file.path): gateway.port \(port) is not 0-65535") }
            gatewayPort = port
        }
        if let limit = contents.server?.maxBodyBytes {
            guard limit >= 1024 else { throw ConfigurationError("\(file.path): server.maxBodyBytes must be at least 1024") }
            maxBodyBytes = limit
        }
        if let text = contents.logLevel {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw ConfigurationError("\(file.path): logLevel '\(text)' is not a log level")
            }
            logLevel = level
        }
        if let url = contents.prometheus?.url {
            guard Self.isHTTPURL(url) else {
                throw ConfigurationError("\(file.path): prometheus.url '\(url)' is not an http:// or https:// URL such as http://127.0.0.1:9090")
            }
            prometheusURL = url
        }
        if let registry = contents.registry {
            do { try registry.validate() } catch { throw ConfigurationError("\(file.path): \(error.message)") }
            policy = registry
        }
    }

    /// Whether `text` is an absolute http:// or https:// URL with a host.
    public static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URLComponents(string: text), url.scheme == "http" || url.scheme == "https", let host = url.host else { return false }
        return !host.isEmpty
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type) (\(context.debugDescription))"
        case .valueNotFound(let type, let context): return "\(path(context)): missing \(type)"
        case .keyNotFound(let key, let context): return "\(path(context)): missing key '\(key.stringValue)'"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// A configuration problem: the file, the key and what is wrong.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
