import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// A real HTTP server on 127.0.0.1, port 0, that answers under `/api/v1/` the way a Slipway server does, and
/// the ways one should not:
///
/// - `echo`: `200` with JSON naming the method, the raw URI, the `Authorization` and `Content-Type` headers and the body
/// - `empty`: `204 No Content`
/// - `missing`, `conflict`, `denied`, `no-token`, `unknown-code`: `404`, `409`, `403`, `401`, `409` with an error body
/// - `broken`: `500` with an HTML body holding a terminal escape; `blank`: `502` with no body
/// - `huge`: `200` with 3 MiB of JSON; `huge-error`: `500` with 3 MiB that is not JSON
/// - `malformed`: `200` with truncated JSON; `wrong-shape`: `200` with JSON of another shape
/// - `bytes`: `200` with 100 000 raw bytes; `silent`: never answers
final class TestAPIServer: Sendable {
    let port: Int
    private let channel: any Channel

    var url: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw TestServerError.noPort }
        self.port = port
    }

    /// Stops listening (connections already open finish on their own).
    func stop() { channel.close(promise: nil) }

    /// A port on 127.0.0.1 that nothing listens on: bound by the system, then closed.
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw TestServerError.noPort }
        try await channel.close()
        return port
    }

    enum TestServerError: Error { case noPort }

    static let bytes = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        var head: HTTPRequestHead?
        var received = ByteBuffer()

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                received.clear()
            case .body(var part): received.writeBuffer(&part)
            case .end:
                guard let head else { return }
                let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
                // No answer at all: the request waits until the client gives up.
                guard let (status, contentType, body) = Self.answer(path: path, head: head, body: received) else { return }
                var headers = HTTPHeaders()
                if status != .noContent {
                    headers.add(name: "Content-Type", value: contentType)
                    headers.add(name: "Content-Length", value: String(body.count))
                }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
                if !body.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(data: body)))), promise: nil) }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }

        static func error(_ code: String, _ message: String) -> Data {
            Data("{\"error\":{\"code\":\"\(code)\",\"message\":\"\(message)\"}}".utf8)
        }

        static func answer(path: String, head: HTTPRequestHead, body: ByteBuffer) -> (HTTPResponseStatus, String, Data)? {
            let json = "application/json"
            switch path {
            case "/api/v1/echo":
                let object: [String: String] = [
                    "method": head.method.rawValue, "uri": head.uri, "authorization": head.headers.first(name: "Authorization") ?? "",
                    "contentType": head.headers.first(name: "Content-Type") ?? "", "body": String(buffer: body),
                ]
                return (.ok, json, (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
            case "/api/v1/empty": return (.noContent, json, Data())
            case "/api/v1/missing": return (.notFound, json, error("not_found", "model 'ghost' does not exist"))
            case "/api/v1/conflict": return (.conflict, json, error("already_exists", "model 'fraud' already exists"))
            case "/api/v1/unknown-code": return (.conflict, json, error("some_future_code", "a newer server said no"))
            case "/api/v1/denied": return (.forbidden, json, error("permission_denied", "this call needs the editor role"))
            case "/api/v1/no-token":
                return (.unauthorized, json, error("unauthenticated", "this call needs a bearer token: pass --token or set SLIPWAY_TOKEN"))
            case "/api/v1/broken": return (.internalServerError, "text/html", Data("<html>\u{1B}[31mupstream\tfell over</html>".utf8))
            case "/api/v1/blank": return (.badGateway, "text/plain", Data())
            case "/api/v1/huge": return (.ok, json, Data(("[" + String(repeating: "1,", count: 3 << 19) + "1]").utf8))
            case "/api/v1/huge-error": return (.internalServerError, "text/plain", Data(repeating: UInt8(ascii: "x"), count: 3 << 20))
            case "/api/v1/malformed": return (.ok, json, Data("{\"name\": \"fr".utf8))
            case "/api/v1/wrong-shape": return (.ok, json, Data("{\"name\": 5}".utf8))
            case "/api/v1/bytes": return (.ok, "application/octet-stream", TestAPIServer.bytes)
            case "/api/v1/silent": return nil
            default: return (.notFound, json, error("not_found", "no route for \(head.method.rawValue) \(path)"))
            }
        }
    }
}
