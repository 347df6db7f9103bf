import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// A real HTTP model server stand-in on 127.0.0.1, port 0: answers every request with JSON naming
/// itself and echoing the path and request id it saw, and counts requests. `delay` makes it slow;
/// `answer`, when given, computes the response body from the request path and body instead.
final class TestBackend: Sendable {
    typealias Answer = @Sendable (_ uri: String, _ body: Data) -> Data

    let name: String
    let port: Int
    private let channel: any Channel
    private let seen = NIOLockedValueBox<[(uri: String, requestId: String?, mirrored: Bool)]>([])

    var requests: [(uri: String, requestId: String?, mirrored: Bool)] { seen.withLockedValue { $0 } }

    init(name: String, delay: TimeAmount = .zero, answer: Answer? = nil) async throws {
        self.name = name
        let box = seen
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(name: name, delay: delay, answer: answer, seen: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    func stop() async { try? await channel.close() }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let name: String
        let delay: TimeAmount
        let answer: Answer?
        let seen: NIOLockedValueBox<[(uri: String, requestId: String?, mirrored: Bool)]>
        var head: HTTPRequestHead?
        var received = ByteBuffer()

        init(name: String, delay: TimeAmount, answer: Answer?, seen: NIOLockedValueBox<[(uri: String, requestId: String?, mirrored: Bool)]>) {
            self.name = name
            self.delay = delay
            self.answer = answer
            self.seen = seen
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                received.clear()
            case .body(var part): received.writeBuffer(&part)
            case .end:
                guard let head else { return }
                let requestId = head.headers.first(name: "X-Request-Id")
                let mirrored = head.headers.first(name: "X-Slipway-Mirrored") != nil
                seen.withLockedValue { $0.append((head.uri, requestId, mirrored)) }
                let object: [String: Any] = ["backend": name, "uri": head.uri, "requestId": requestId ?? ""]
                let body = answer?(head.uri, Data(buffer: received)) ?? (try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
                let reply: @Sendable () -> Void = { [context = NIOLoopBound(context, eventLoop: context.eventLoop), name] in
                    let context = context.value
                    var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(body.count)), ("X-Backend", name)])
                    if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
                    context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
                    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(data: body)))), promise: nil)
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                }
                if delay == .zero { reply() } else { context.eventLoop.scheduleTask(in: delay, reply) }
            }
        }
    }
}
