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

    var isBusy: Bool { handler.isBusy }
    var isUsable: Bool { channel.isActive && !handler.closing }

    /// Connects to a backend on an event loop.
    static func connect(to backend: GatewayTable.Backend, on eventLoop: any EventLoop) -> EventLoopFuture<UpstreamConnection> {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.maxMessagesPerRead, value: 4)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Every request the gateway sends carries its own Content-Length and headers that came
                    // through a parser, so the encoder neither adds framing headers nor validates them again.
                    var encoding = HTTPRequestEncoder.Configuration()
                    encoding.automaticallySetFramingHeaders = false
                    try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder(configuration: encoding))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                }
            }
            .connect(host: backend.host, port: backend.port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
                return UpstreamConnection(channel: channel, handler: handler)
            }
    }

    /// Sends one request; `completion` is called once, on the connection's event loop, with the whole
    /// response or the reason there is none.
    func exchange(
        head: HTTPRequestHead, body: ByteBuffer?, timeout: TimeAmount, completion: @escaping (Result<UpstreamResponse, UpstreamFailure>) -> Void
    ) {
        handler.send(head: head, body: body, timeout: timeout, completion: completion)
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

/// Runs the exchanges of one upstream connection and calls each one's completion directly (no futures
/// on the way). One timer per connection covers every exchange: it is scheduled for the first exchange's
/// deadline and, when it fires while a later exchange is pending, re-armed for that exchange's deadline,
/// so back-to-back requests neither schedule nor cancel anything.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var completion: ((Result<UpstreamResponse, UpstreamFailure>) -> Void)?
    private var head: HTTPResponseHead?
    private var body: ByteBuffer?
    /// When the pending exchange times out.
    private var deadline = NIODeadline.distantFuture
    private var timer: Scheduled<Void>?
    private var timerDeadline = NIODeadline.distantFuture
    fileprivate(set) var closing = false

    var isBusy: Bool { completion != nil }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func send(
        head request: HTTPRequestHead, body requestBody: ByteBuffer?, timeout: TimeAmount,
        completion: @escaping (Result<UpstreamResponse, UpstreamFailure>) -> Void
    ) {
        guard let context, self.completion == nil, !closing else {
            completion(.failure(.broken("connection not usable")))
            return
        }
        self.completion = completion
        head = nil
        body = nil
        deadline = .now() + timeout
        if timer == nil || deadline < timerDeadline { arm(context) }
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        if let requestBody, requestBody.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(requestBody))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerDeadline = .distantFuture
            guard completion != nil, let context = self.context else { return }
            if NIODeadline.now() >= deadline {
                closing = true
                finish(.failure(.timedOut))
                context.close(promise: nil)
            } else {
                arm(context)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
            if !responseHead.isKeepAlive { closing = true }
        case .body(var part):
            if body == nil {
                body = part
            } else {
                body?.writeBuffer(&part)
            }
        case .end:
            guard completion != nil, let head else { return }
            let response = UpstreamResponse(head: head, body: body ?? context.channel.allocator.buffer(capacity: 0))
            self.head = nil
            self.body = nil
            if closing { context.close(promise: nil) }
            finish(.success(response))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        timer?.cancel()
        timer = nil
        finish(.failure(.broken("the backend closed the connection")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closing = true
        finish(.failure(.broken("\(error)")))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<UpstreamResponse, UpstreamFailure>) {
        guard let completion else { return }
        self.completion = nil
        deadline = .distantFuture
        completion(result)
    }
}
