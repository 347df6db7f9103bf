public import Foundation
public import Hummingbird
public import Logging
import NIOCore
import NIOFoundationCompat
import ServiceLifecycle
import SlipwayCore
public import SlipwayModels
import UnixSignals

/// Serves one built-in model over the Open Inference Protocol (KServe V2) REST API:
///
/// - `GET /v2/health/live`, `GET /v2/health/ready`
/// - `GET /v2/models/{name}` (metadata), `GET /v2/models/{name}/ready`
/// - `POST /v2/models/{name}/infer`
///
/// and the same model routes under `/v2/models/{name}/versions/{version}`. Errors answer with
/// `{"error": "…"}`: 400 for malformed requests, 404 for another model name, 413 for a body over the limit.
public enum BuiltinModelServer {
    /// Where and how to serve.
    public struct Configuration: Sendable {
        /// The address to bind.
        public var host = "127.0.0.1"
        /// The port; 0 picks a free one.
        public var port = 8080
        /// The model name in URLs and metadata.
        public var name: String
        /// The version reported in metadata and responses.
        public var version = "1"
        /// The largest request body accepted, in bytes.
        public var maxBodyBytes = 64 << 20

        public init(name: String, host: String = "127.0.0.1", port: Int = 8080, version: String = "1", maxBodyBytes: Int = 64 << 20) {
            self.name = name
            self.host = host
            self.port = port
            self.version = version
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// Loads the model in `modelDir` and serves it until SIGTERM or SIGINT, then shuts down gracefully.
    ///
    /// - Parameters:
    ///   - modelDir: a directory holding `slipway-model.json`.
    ///   - host: the address to bind.
    ///   - port: the port; 0 picks a free one.
    ///   - name: the model name in URLs; the directory's name when nil.
    ///   - version: the version reported in metadata.
    ///   - readyFile: written with `{"url": "http://HOST:PORT"}` once the server listens.
    ///   - onListening: called with the URL once the server listens.
    /// - Throws: ``ModelError`` when the model cannot be loaded.
    public static func run(
        modelDir: URL, host: String = "127.0.0.1", port: Int, name: String? = nil, version: String = "1", readyFile: URL? = nil, logger: Logger,
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws {
        let model = try BuiltinModel.load(from: modelDir)
        let modelName = name ?? modelDir.standardizedFileURL.lastPathComponent
        let configuration = Configuration(name: modelName, host: host, port: port, version: version)
        let app = application(model: model, configuration: configuration, logger: logger) { url in
            if let readyFile {
                do {
                    try writeAtomically(SlipwayJSON.encoder().encode(["url": url]), to: readyFile)
                } catch {
                    logger.error("cannot write the ready file", metadata: ["slipway.file": "\(readyFile.path)", "slipway.error": "\(error)"])
                }
            }
            logger.info("serving model", metadata: ["slipway.model": "\(modelName)", "slipway.url": "\(url)"])
            onListening(url)
        }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The HTTP application for a model, to run as a `Service` (for example in a `ServiceGroup`).
    ///
    /// - Parameter onListening: called with `http://HOST:PORT` once the server listens.
    public static func application(
        model: BuiltinModel, configuration: Configuration, logger: Logger, onListening: @escaping @Sendable (String) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let handler = InferenceHandler(model: model, name: configuration.name, version: configuration.version)
        return Application(
            router: router(handler: handler, maxBodyBytes: configuration.maxBodyBytes),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "slipway-model"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let host = configuration.host == "0.0.0.0" || configuration.host == "::" ? "127.0.0.1" : configuration.host
                await onListening("http://\(host.contains(":") ? "[\(host)]" : host):\(port)")
            },
            logger: logger
        )
    }

    /// The routes of the Open Inference Protocol for one model.
    static func router(handler: InferenceHandler, maxBodyBytes: Int) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: InferenceErrorMiddleware())
        router.get("v2") { _, _ in
            json(ServerMetadata(name: "slipway", version: "0.1.0", extensions: []))
        }
        router.get("v2/health/live") { _, _ in json(Health(live: true)) }
        router.get("v2/health/ready") { _, _ in json(Health(ready: true)) }
        let model = router.group("v2/models/:name")
        let versioned = router.group("v2/models/:name/versions/:version")
        for group in [model, versioned] {
            group.get { _, context in
                try check(context, handler)
                return json(handler.metadata())
            }
            group.get("ready") { _, context in
                try check(context, handler)
                return json(Health(name: handler.name, ready: true))
            }
            group.post("infer") { request, context in
                try check(context, handler)
                let body = try await request.body.collect(upTo: maxBodyBytes)
                let answer = try handler.infer(Data(buffer: body, byteTransferStrategy: .noCopy))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
            }
        }
        return router
    }

    /// Refuses a model name (or version) this server does not serve.
    private static func check(_ context: BasicRequestContext, _ handler: InferenceHandler) throws {
        let name = try context.parameters.require("name")
        guard name == handler.name else {
            throw HTTPError(.notFound, message: "model '\(name)' is not served here; this server serves '\(handler.name)'")
        }
        if let version = context.parameters.get("version"), version != handler.version {
            throw HTTPError(.notFound, message: "model '\(name)' has no version '\(version)'; this server serves version '\(handler.version)'")
        }
    }

    struct Health: Codable {
        var name: String?
        var live: Bool?
        var ready: Bool?
    }

    struct ServerMetadata: Codable {
        var name: String
        var version: String
        var extensions: [String]
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? SlipwayJSON.encoder().encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Writes a file via a temporary sibling and a rename, so a reader never sees half of it.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try data.write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ModelError.io("cannot move \(temporary.path) to \(url.path): \(reason)")
        }
    }
}

/// Turns every failure into the Open Inference Protocol error body `{"error": "…"}`.
struct InferenceErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let status: HTTPResponse.Status
            let message: String
            switch error {
            case let error as ModelError:
                status = error.kind == .invalidArgument ? .badRequest : .internalServerError
                message = error.message
            case is NIOTooManyBytesError:
                status = .contentTooLarge
                message = "the request body is over the server's limit"
            case let error as HTTPError:
                status = error.status
                message =
                    error.body
                    ?? (error.status == .notFound ? "no route for \(request.method.rawValue) \(request.uri.path)" : error.status.reasonPhrase)
            default:
                context.logger.error("request failed", metadata: ["slipway.path": "\(request.uri.path)", "slipway.error": "\(error)"])
                status = .internalServerError
                message = "internal error; the server log has the details"
            }
            return BuiltinModelServer.json(InferenceErrorBody(error: message), status: status)
        }
    }
}
