import NIOCore
import NIOHTTP1
import NIOPosix

/// A keep-alive HTTP/1.1 connection to one backend, on the event loop of the client connection that
/// owns it. One exchange at a time (HTTP/1.1 without pipelining).
final class UpstreamConnection: @unchecked Sendable {
    // Safe to pass between futures: the references never change, and the handler's mutable state
    // is only touched on the connection's own event loop, where every exchange runs.
    let channel: any Channel
    let handler: UpstreamHandler

    init(channel: any Channel, handler: UpstreamHandler) {
        self.channel = channel
        self.handler = handler
    }

    var isBusy: Bool { handler.pending != nil }
    var isUsable: Bool { channel.isActive && !handler.closing }

    /// Connects to a backend on an event loop.
    static func connect(to backend: GatewayTable.Backend, on eventLoop: any EventLoop) -> EventLoopFuture<UpstreamConnection> {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                }
            }
            .connect(host: backend.host, port: backend.port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
                return UpstreamConnection(channel: channel, handler: handler)
            }
    }

    /// Sends one request and returns its whole response.
    func exchange(head: HTTPRequestHead, body: ByteBuffer?, timeout: TimeAmount) -> EventLoopFuture<UpstreamResponse> {
        handler.send(on: channel.eventLoop, head: head, body: body, timeout: timeout)
    }
}

/// A backend's answer, collected.
struct UpstreamResponse {
    var head: HTTPResponseHead
    var body: ByteBuffer
}

/// Why an exchange with a backend failed.
enum UpstreamFailure: Error {
    /// The connection could not be made: nothing was sent, so a retry elsewhere is safe.
    case connectFailed(String)
    /// The connection broke or answered garbage after the request went out.
    case broken(String)
    case timedOut
}

final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    fileprivate(set) var pending: EventLoopPromise<UpstreamResponse>?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?
    private var timeout: Scheduled<Void>?
    fileprivate(set) var closing = false

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func send(
        on eventLoop: any EventLoop, head request: HTTPRequestHead, body requestBody: ByteBuffer?, timeout: TimeAmount
    ) -> EventLoopFuture<UpstreamResponse> {
        guard let context, pending == nil, !closing else {
            return eventLoop.makeFailedFuture(UpstreamFailure.broken("connection not usable"))
        }
        let promise = context.eventLoop.makePromise(of: UpstreamResponse.self)
        pending = promise
        head = nil
        body = nil
        self.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            fail(UpstreamFailure.timedOut)
            self.context?.close(promise: nil)
        }
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        if let requestBody, requestBody.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(requestBody))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
            body = context.channel.allocator.buffer(capacity: 0)
            if !responseHead.isKeepAlive { closing = true }
        case .body(var part):
            body?.writeBuffer(&part)
        case .end:
            guard let promise = pending, let head else { return }
            pending = nil
            timeout?.cancel()
            timeout = nil
            promise.succeed(UpstreamResponse(head: head, body: body ?? context.channel.allocator.buffer(capacity: 0)))
            self.head = nil
            self.body = nil
            if closing { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        fail(UpstreamFailure.broken("the backend closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closing = true
        fail(UpstreamFailure.broken("\(error)"))
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        timeout?.cancel()
        timeout = nil
        if let promise = pending {
            pending = nil
            promise.fail(error)
        }
    }
}
