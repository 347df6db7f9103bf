import Foundation
import NIOCore
import NIOHTTP1
import SlipwayCore

/// The gateway's forwarding path for the common request, in front of the full HTTP pipeline of a client
/// connection: it reads the bytes the client sends and handles `POST /v2/models/{endpoint}/infer` over
/// HTTP/1.1 with a `Content-Length` body itself, without building request or response heads.
///
/// For such a request it parses the request line and the headers routing needs straight from the bytes,
/// checks the body, routes it, sends the client's header lines upstream with the request line rewritten to
/// the backend's model and `Host`, `X-Request-Id` and `Content-Length` set, and relays the backend's answer
/// as it came, with the gateway's headers (`X-Request-Id`, `X-Slipway-Variant`, `X-Slipway-Model-Version`)
/// after the status line and the framing and hop-by-hop lines replaced. Metrics and the prediction log get
/// the same records the full path gives them.
///
/// Every other request (other paths and methods, HTTP/1.0, bodies that are not valid V2 requests or are
/// over the limit, compressed bodies, endpoints with mirroring, requests routing cannot place, a backend
/// that cannot be reached) is handed, byte for byte, to the full path (``GatewayHandler``), which answers
/// it as it always has; the fast path resumes once that answer is written, so pipelined requests are
/// answered in order. Input whose framing it cannot tell (chunked bodies, upgrades, bytes that are not
/// plain HTTP/1.1) goes to the full path for the rest of the connection.
final class GatewayFastPath: ChannelInboundHandler, RawUpstreamOwner {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let gateway: Gateway
    private var context: ChannelHandlerContext?
    /// Bytes received and not handled yet; the request being answered is at its start.
    private var input = ByteBuffer()

    private enum State {
        /// Reading the next request.
        case ready
        /// A request is with its backend.
        case forwarding
        /// A request was handed to the full path and that many of its bytes are still to come.
        case handingOver(Int)
        /// A request handed to the full path waits for its answer.
        case withFullPath
        /// The full path has the connection for good.
        case passThrough
        case closed
    }

    private var state = State.ready
    private var upstreams: [(backend: GatewayTable.Backend, connection: RawUpstreamConnection)] = []
    private var metricSlots = MetricSlots()
    /// The routing table as this connection's requests use it.
    private var routing = RoutingCache()
    /// Spreads this connection's requests over a variant's replicas.
    private var spread = Int.random(in: 0..<1024)
    /// New request ids: time-ordered, with this connection's random part and a counter.
    private var requestIds = RequestIds()
    /// The request with its backend.
    private var current = FastExchange()

    /// The most bytes held for requests pipelined behind the one being answered; a client that sends more
    /// without reading its answers is disconnected.
    static let inputLimit = 32 << 20
    /// The largest request (head and body) forwarded here; larger ones go to the full path.
    static let bodyLimit = 1 << 20
    /// The longest request head read here; longer ones go to the full path (which refuses them).
    static let headLimit = 80 << 10

    init(gateway: Gateway) {
        self.gateway = gateway
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: Input

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        switch state {
        case .passThrough:
            context.fireChannelRead(data)
            return
        case .closed:
            return
        case .handingOver(let remaining):
            if part.readableBytes <= remaining {
                let count = part.readableBytes
                state = count == remaining ? .withFullPath : .handingOver(remaining - count)
                context.fireChannelRead(data)
                return
            }
            let head = part.readSlice(length: remaining) ?? ByteBuffer()
            state = .withFullPath
            input = part
            context.fireChannelRead(wrapInboundOut(head))
            return
        case .ready, .forwarding, .withFullPath:
            input.append(&part)
        }
        if case .ready = state {
            process(context)
        } else if input.readableBytes > Self.inputLimit {
            state = .closed
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    /// While a request is with its backend a quiet client is waiting for its answer, not idle.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, case .forwarding = state { return }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .forwarding = state { gateway.endRequest() }
        state = .closed
        for (_, connection) in upstreams { connection.channel.close(promise: nil) }
        upstreams = []
        context.fireChannelInactive()
    }

    /// Called by the full path when the answer to the request handed to it is written.
    func fullPathAnswered() {
        guard case .withFullPath = state, let context else { return }
        state = .ready
        context.eventLoop.assumeIsolated().execute { [self] in
            guard case .ready = state, let context = self.context else { return }
            process(context)
        }
    }

    /// What to do with the request at the start of `input`.
    enum Step {
        /// Wait for more bytes.
        case wait
        /// Give everything to the full path from here on.
        case passThrough
        /// Give this many bytes (the whole request) to the full path.
        case handOver(Int)
        /// Forward it here.
        case forward(Request)
    }

    /// Where the parts of an inference request lie in `input`.
    struct Request {
        var length: Int
        var headEnd: Int
        var endpoint: Range<Int>
        var query: Range<Int>
        var requestId: Range<Int>?
        var inferenceHeaderLength: Int?
        var checksJSON: Bool
        var keepAlive: Bool
    }

    /// Handles the requests waiting in `input`, one at a time.
    private func process(_ context: ChannelHandlerContext) {
        while case .ready = state, input.readableBytes > 0 {
            let step = input.withUnsafeReadableBytes { Self.classify($0) }
            switch step {
            case .wait:
                if input.readableBytes > Self.inputLimit {
                    state = .closed
                    context.close(promise: nil)
                }
                return
            case .passThrough:
                state = .passThrough
                let rest = input
                input = ByteBuffer()
                context.fireChannelRead(wrapInboundOut(rest))
                return
            case .handOver(let length):
                handOver(context, length)
            case .forward(let request):
                guard input.readableBytes >= request.length else {
                    // A large body streams through the full path rather than being held here.
                    if request.length > Self.bodyLimit { handOver(context, request.length) }
                    return
                }
                if !forward(context, request) { handOver(context, request.length) }
            }
        }
    }

    /// Gives the request at the start of `input` to the full path.
    private func handOver(_ context: ChannelHandlerContext, _ length: Int) {
        let available = min(length, input.readableBytes)
        let bytes = input.readSlice(length: available) ?? ByteBuffer()
        state = available == length ? .withFullPath : .handingOver(length - available)
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    /// Reads the head at the start of `bytes`.
    static func classify(_ bytes: UnsafeRawBufferPointer) -> Step {
        var bareLF = false
        guard let headEnd = RawHTTP.headEnd(bytes, bareLF: &bareLF) else {
            return bareLF || bytes.count > headLimit ? .passThrough : .wait
        }
        guard headEnd <= headLimit, let lineEnd = RawHTTP.memchrIndex(bytes, UInt8(ascii: "\n"), from: 0) else { return .passThrough }
        // The request line: method, target and version, one space apart.
        let line = 0..<(lineEnd - 1)
        guard let methodEnd = RawHTTP.memchrIndex(UnsafeRawBufferPointer(rebasing: bytes[line]), UInt8(ascii: " "), from: 0), methodEnd > 0
        else { return .passThrough }
        let targetStart = methodEnd + 1
        var targetEnd = targetStart
        while targetEnd < line.upperBound, bytes[targetEnd] > 0x20, bytes[targetEnd] != 0x7F { targetEnd += 1 }
        guard targetEnd > targetStart, targetEnd + 9 == line.upperBound, bytes[targetEnd] == UInt8(ascii: " "),
            RawHTTP.equals(bytes, (targetEnd + 1)..<(targetEnd + 8), "http/1.")
        else { return .passThrough }
        let minor = bytes[targetEnd + 8]
        guard minor == UInt8(ascii: "1") || minor == UInt8(ascii: "0") else { return .passThrough }
        for index in 0..<methodEnd where !RawHTTP.isToken(bytes[index]) { return .passThrough }

        var length: Int?
        var unusualFraming = false
        var fullPathOnly = minor != UInt8(ascii: "1")
        var keepAlive = true
        var requestId: Range<Int>?
        var inferenceHeaderLength: Int?
        var checksJSON = true
        let well = RawHTTP.forEachField(bytes, (lineEnd + 1)..<headEnd) { name, value, _ in
            switch name.count {
            case 6:
                if RawHTTP.equals(bytes, name, "expect") { fullPathOnly = true }
            case 7:
                if RawHTTP.equals(bytes, name, "upgrade") { unusualFraming = true }
            case 10:
                if RawHTTP.equals(bytes, name, "connection") {
                    if RawHTTP.listContains(bytes, value, "close") { keepAlive = false }
                    if RawHTTP.listContains(bytes, value, "upgrade") { unusualFraming = true }
                }
            case 12:
                if RawHTTP.equals(bytes, name, "x-request-id") {
                    if requestId == nil { requestId = value }
                } else if RawHTTP.equals(bytes, name, "content-type") {
                    if !value.isEmpty, !GatewayHandler.mentionsJSON(RawHTTP.text(bytes, value)) { checksJSON = false }
                }
            case 14:
                if RawHTTP.equals(bytes, name, "content-length") {
                    let parsed = RawHTTP.decimal(bytes, value)
                    if parsed == nil || length != nil { unusualFraming = true }
                    length = parsed
                }
            case 16:
                if RawHTTP.equals(bytes, name, "content-encoding"), !value.isEmpty, !RawHTTP.equals(bytes, value, "identity") {
                    fullPathOnly = true
                }
            case 17:
                if RawHTTP.equals(bytes, name, "transfer-encoding") { unusualFraming = true }
            case 31:
                if RawHTTP.equals(bytes, name, "inference-header-content-length") {
                    if inferenceHeaderLength != nil { fullPathOnly = true }
                    inferenceHeaderLength = RawHTTP.decimal(bytes, value)
                    if inferenceHeaderLength == nil { fullPathOnly = true }
                }
            default: break
            }
            return true
        }
        guard well, !unusualFraming else { return .passThrough }
        let total = headEnd + (length ?? 0)
        guard !fullPathOnly, let length, length > 0, RawHTTP.equals(bytes, 0..<methodEnd, "post") else { return .handOver(total) }
        // The target: /v2/models/{endpoint}/infer, then an optional query.
        let prefix: StaticString = "/v2/models/"
        let prefixEnd = targetStart + prefix.utf8CodeUnitCount
        guard prefixEnd < targetEnd, RawHTTP.equals(bytes, targetStart..<prefixEnd, prefix) else { return .handOver(total) }
        var nameEnd = prefixEnd
        while nameEnd < targetEnd, bytes[nameEnd] != UInt8(ascii: "/"), bytes[nameEnd] != UInt8(ascii: "?"), bytes[nameEnd] != UInt8(ascii: "%") {
            nameEnd += 1
        }
        let suffix: StaticString = "/infer"
        let suffixEnd = nameEnd + suffix.utf8CodeUnitCount
        guard nameEnd > prefixEnd, suffixEnd <= targetEnd, RawHTTP.equals(bytes, nameEnd..<suffixEnd, suffix),
            suffixEnd == targetEnd || bytes[suffixEnd] == UInt8(ascii: "?")
        else { return .handOver(total) }
        return .forward(
            Request(
                length: total, headEnd: headEnd, endpoint: prefixEnd..<nameEnd, query: suffixEnd..<targetEnd, requestId: requestId,
                inferenceHeaderLength: inferenceHeaderLength, checksJSON: checksJSON, keepAlive: keepAlive))
    }

    // MARK: Forwarding

    /// Routes and sends a whole inference request; false when the full path should answer it instead.
    private func forward(_ context: ChannelHandlerContext, _ request: Request) -> Bool {
        var upstreamRequest = context.channel.allocator.buffer(capacity: 0)
        guard
            let prepared = FastExchange.prepare(
                gateway, input: input, request: request, routing: &routing, requestIds: &requestIds, spread: &spread, into: &upstreamRequest),
            let backend = prepared.exchange.backend
        else { return false }
        current = prepared.exchange
        let timeout = prepared.timeout
        state = .forwarding
        gateway.beginRequest()
        if let index = upstreams.firstIndex(where: { $0.backend == backend }) {
            let connection = upstreams[index].connection
            if connection.isUsable, !connection.isBusy, connection.handler.send(upstreamRequest, timeout: timeout, owner: self) { return true }
            upstreams.remove(at: index)
            connection.channel.close(promise: nil)
        }
        RawUpstreamConnection.connect(to: backend, on: context.eventLoop)
            .assumeIsolated()
            .whenComplete { [self] result in
                guard case .forwarding = state, let context = self.context else {
                    if case .success(let channel) = result { channel.close(promise: nil) }
                    return
                }
                if case .success(let channel) = result, let handler = try? channel.pipeline.syncOperations.handler(type: RawUpstreamHandler.self) {
                    let connection = RawUpstreamConnection(channel: channel, handler: handler)
                    upstreams.append((backend, connection))
                    if handler.send(upstreamRequest, timeout: timeout, owner: self) { return }
                }
                // Nothing was sent: the full path answers, connecting (and retrying on the stable variant) itself.
                gateway.endRequest()
                state = .ready
                handOver(context, current.length)
                process(context)
            }
        return true
    }

    // MARK: Answers

    func upstreamAnswered(_ upstream: RawUpstreamHandler) {
        guard case .forwarding = state, let context else { return }
        var out = context.channel.allocator.buffer(capacity: 0)
        let keepAlive = current.answered(gateway, upstream.answer, slots: &metricSlots, into: &out)
        finish(context, out, keepAlive: keepAlive)
    }

    func upstreamFailed(_ upstream: RawUpstreamHandler, timedOut: Bool, reason: String) {
        guard case .forwarding = state, let context else { return }
        upstreams.removeAll { $0.connection.handler === upstream }
        var out = context.channel.allocator.buffer(capacity: 0)
        let keepAlive = current.failed(gateway, timedOut: timedOut, reason: reason, slots: &metricSlots, into: &out)
        finish(context, out, keepAlive: keepAlive)
    }

    /// Writes an answer and moves on to the next request (or closes the connection after the answer).
    private func finish(_ context: ChannelHandlerContext, _ answer: ByteBuffer, keepAlive: Bool) {
        input.moveReaderIndex(forwardBy: min(current.length, input.readableBytes))
        current.unhashedFeatures = nil
        current.features = nil
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
            gateway.endRequest()
            state = .ready
            process(context)
        } else {
            state = .closed
            context.writeAndFlush(wrapOutboundOut(answer)).assumeIsolated().whenComplete { [gateway] _ in
                gateway.endRequest()
                context.close(promise: nil)
            }
        }
    }
}
