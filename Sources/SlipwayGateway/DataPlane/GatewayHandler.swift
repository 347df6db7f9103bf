import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore

/// Serves one client connection: parses the request, routes it, forwards it to the chosen variant's
/// backend over this connection's keep-alive upstream, mirrors it if asked, and answers with the
/// routing headers. Requests a client pipelines are answered one at a time, in order.
///
/// With a prediction log installed, every request for a known endpoint becomes a ``PredictionRecord``
/// handed to the log before its answer is written (so an answer a client got is never missing from the
/// log), and the answers of V2 inference requests are read for their prediction (``InferenceJSON``).
final class GatewayHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let gateway: Gateway
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var limit = 8 << 20
    /// The request's route and target and the routing table, read once when its head arrives.
    private var route = Route.live
    private var target: Target?
    private var table = GatewayTable()
    private var overLimit = false
    private var upstreams: [GatewayTable.Backend: UpstreamConnection] = [:]
    private var mirrorUpstreams: [GatewayTable.Backend: UpstreamConnection] = [:]
    private var mirrorsInFlight = 0
    /// Spreads this connection's requests over a variant's replicas.
    private var spread = Int.random(in: 0..<1024)
    /// New request ids: time-ordered, with this connection's random part and a counter.
    private var requestIds = RequestIds()
    private var metricSlots: [LiveMetrics.Slot] = []
    /// Whether a request is being answered; requests pipelined behind it wait in `waiting`. (The gateway
    /// orders pipelined requests itself rather than with NIO's pipelining handler, which stops and restarts
    /// reading around every request: two `epoll_ctl` calls each.)
    private var answering = false
    private var waiting = CircularBuffer<Received>()
    /// Set when the client sent bytes that are not HTTP: the requests before them are answered, then the
    /// connection closes.
    private var inputFailed = false
    /// Requests received whose answer is not written yet: while there is one, a quiet client is waiting
    /// for us, not stalling, and the idle timeout leaves the connection open.
    private var unanswered = 0

    /// The fast path in front of this handler, told when a request it handed over has its answer written.
    weak var fastPath: GatewayFastPath?

    init(gateway: Gateway) {
        self.gateway = gateway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
            overLimit = false
            route = Self.route(of: requestHead.uri)
            table = gateway.currentTable
            if case .target(let target) = route {
                self.target = target
                limit = table.endpoints[target.endpoint]?.maxBodyBytes ?? 8 << 20
            } else {
                self.target = nil
                limit = 8 << 20
            }
        case .body(var part):
            guard !overLimit else { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > limit {
                overLimit = true
                body = nil
            } else if body == nil {
                body = part
            } else {
                body?.writeBuffer(&part)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let request = Received(
                head: requestHead, body: body ?? context.channel.allocator.buffer(capacity: 0), route: route, target: target, table: table,
                limit: limit, overLimit: overLimit)
            body = nil
            if answering, waiting.count >= Self.pipelineLimit {
                context.close(promise: nil)
                return
            }
            unanswered += 1
            gateway.beginRequest()
            if answering {
                // A pipelined request: answered in order, after the ones before it.
                waiting.append(request)
            } else {
                start(context, request)
            }
        }
    }

    /// A request received whole, with what was read of it when its head arrived.
    struct Received {
        var head: HTTPRequestHead
        var body: ByteBuffer
        var route: Route
        var target: Target?
        var table: GatewayTable
        var limit: Int
        var overLimit: Bool
    }

    /// The most pipelined requests a connection may have waiting behind the one being answered; a client
    /// that sends more without reading its answers is disconnected.
    static let pipelineLimit = 32

    /// Answers one request; the next waiting one starts once its answer is written.
    private func start(_ context: ChannelHandlerContext, _ request: Received) {
        answering = true
        route = request.route
        target = request.target
        table = request.table
        limit = request.limit
        if request.overLimit {
            respondError(
                context, head: request.head, status: .payloadTooLarge, "the request body is over this endpoint's limit of \(request.limit) bytes",
                exchange: exchange(for: request.head, started: .now()))
        } else {
            handle(context, head: request.head, body: request.body)
        }
    }

    /// Closes a connection that sent nothing for the gateway's idle timeout unless it waits for an answer:
    /// an idle keep-alive connection, or a client that stalled in the middle of a request head or body.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            if unanswered == 0 { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A request the parser cannot read: answered 400 and the connection closed, after the answers to the
    /// requests received before it (NIO's error handler would answer ahead of them).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.close(promise: nil)
            return
        }
        guard !inputFailed else { return }
        inputFailed = true
        if !answering {
            writeBadRequest(context).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Writes and flushes an empty 400 answer that closes the connection.
    private func writeBadRequest(_ context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
        return context.writeAndFlush(wrapOutboundOut(.end(nil)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        for _ in waiting {
            unanswered -= 1
            gateway.endRequest()
        }
        waiting.removeAll()
        for connection in upstreams.values { connection.channel.close(promise: nil) }
        for connection in mirrorUpstreams.values { connection.channel.close(promise: nil) }
        upstreams = [:]
        mirrorUpstreams = [:]
        context.fireChannelInactive()
    }

    // MARK: Routing

    /// What a path asks for.
    struct Target {
        var endpoint: String
        /// The path to send upstream, or nil to rewrite a V2 path to the backend's model name.
        var passThrough: String?
        /// The V2 path after `/v2/models/{endpoint}` (e.g. `/infer`, `/ready`, ``).
        var v2Suffix: String
    }

    /// What a request's path asks for, read once when its head arrives.
    enum Route {
        case live, ready, serverMetadata, metrics
        case target(Target)
        /// No route; the path without its query.
        case unknown(Substring)
    }

    static func route(of uri: String) -> Route {
        let utf8 = uri.utf8
        let queryStart = utf8.firstIndex(of: UInt8(ascii: "?")) ?? utf8.endIndex
        let path = uri[..<queryStart]
        switch path {
        case "/v2/health/live": return .live
        case "/v2/health/ready": return .ready
        case "/v2": return .serverMetadata
        case "/metrics": return .metrics
        default: break
        }
        if let target = target(of: uri) { return .target(target) }
        return .unknown(path)
    }

    /// The target of a V2 model path or an `/endpoints/{endpoint}/…` path, read in one scan of its bytes;
    /// the endpoint's name is percent-decoded only when it holds a `%`.
    static func target(of uri: String) -> Target? {
        let utf8 = uri.utf8
        let queryStart = utf8.firstIndex(of: UInt8(ascii: "?")) ?? utf8.endIndex
        let path = uri[..<queryStart]
        let query = uri[queryStart...]
        let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        func text(_ part: Substring.UTF8View) -> Substring { Substring(part) }
        func name(_ part: Substring.UTF8View) -> String {
            let raw = Substring(part)
            guard part.contains(UInt8(ascii: "%")) else { return String(raw) }
            return raw.removingPercentEncoding ?? String(raw)
        }
        if parts.count >= 3, text(parts[0]) == "v2", text(parts[1]) == "models" {
            var suffix = ""
            if parts.count > 3 {
                // From the first byte of the fourth part to the end of the path, with empty parts removed.
                for part in parts[3...] {
                    suffix += "/"
                    suffix += text(part)
                }
            }
            suffix += query
            return Target(endpoint: name(parts[2]), passThrough: nil, v2Suffix: suffix)
        }
        if parts.count >= 2, text(parts[0]) == "endpoints" {
            var rest = ""
            for part in parts.dropFirst(2) {
                rest += "/"
                rest += text(part)
            }
            if rest.isEmpty { rest = "/" } else if path.utf8.last == UInt8(ascii: "/") { rest += "/" }
            rest += query
            return Target(endpoint: name(parts[1]), passThrough: rest, v2Suffix: "")
        }
        return nil
    }

    /// What the prediction log needs to know about one request for a known endpoint, gathered as it is routed.
    struct Exchange {
        var requestId: String
        var endpoint: String
        var stickyKey: String?
        /// The request's features as the endpoint's feature logging keeps them.
        var features: String?
        /// The bytes the features are the SHA-256 of, when the prediction log is to hash them.
        var unhashedFeatures: [UInt8]?
        /// When the request arrived (read only when a prediction log is installed).
        var arrival: Date?
        var started: NIODeadline
        /// Whether answers are read for their prediction: a V2 inference with a prediction log installed.
        var readsAnswers: Bool
        /// Whether the answer is a prediction to log: not for a model readiness probe (`/v2/models/{e}/ready`).
        var isPrediction = true
    }

    /// The exchange of a request for a known endpoint; nil for other paths.
    private func exchange(for head: HTTPRequestHead, started: NIODeadline) -> Exchange? {
        guard let target, table.endpoints[target.endpoint] != nil else { return nil }
        let logging = gateway.predictions != nil
        return Exchange(
            requestId: requestId(of: head), endpoint: target.endpoint, arrival: logging ? Date() : nil, started: started,
            readsAnswers: logging && target.passThrough == nil && target.v2Suffix.hasPrefix("/infer"),
            isPrediction: !Self.isReadinessProbe(target))
    }

    /// Whether a target is a model readiness probe (`/v2/models/{endpoint}/ready`, with or without a query):
    /// answered like any request, but not a prediction.
    static func isReadinessProbe(_ target: Target) -> Bool {
        guard target.passThrough == nil else { return false }
        let suffix = target.v2Suffix
        return suffix == "/ready" || suffix.hasPrefix("/ready?")
    }

    private func handle(_ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?) {
        gateway.counters.bump(.requests)
        let started = NIODeadline.now()
        let target: Target
        switch route {
        case .live:
            respond(context, head: head, status: .ok, headers: [("Content-Type", "application/json")], body: Self.json(["live": true]))
            return
        case .ready:
            let ready = gateway.isReady
            respond(
                context, head: head, status: ready ? .ok : .serviceUnavailable, headers: [("Content-Type", "application/json")],
                body: Self.json(["ready": ready]))
            return
        case .serverMetadata:
            respond(
                context, head: head, status: .ok, headers: [("Content-Type", "application/json")],
                body: Self.json(["name": "slipway", "version": Gateway.version, "extensions": [String]()]))
            return
        case .metrics:
            let weights = table.endpoints.mapValues { $0.routes.split.weights }
            respond(
                context, head: head, status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4")],
                body: Data(gateway.metrics.prometheus(weights: weights).utf8))
            return
        case .unknown(let path):
            respondError(context, head: head, status: .notFound, "no route for \(path); use /v2/models/{endpoint}/infer or /endpoints/{endpoint}/…")
            return
        case .target(let found):
            target = found
        }
        guard let endpoint = table.endpoints[target.endpoint], var exchange = exchange(for: head, started: started) else {
            respondError(context, head: head, status: .notFound, "endpoint '\(target.endpoint)' does not exist")
            return
        }
        let isInference = target.passThrough == nil && target.v2Suffix.hasPrefix("/infer")
        if isInference, head.method != .POST {
            respondError(context, head: head, status: .methodNotAllowed, "inference takes POST", exchange: exchange)
            return
        }
        // A compressed body (Content-Encoding gzip or deflate) is passed through as it is: neither checked
        // nor read for a sticky field or features.
        let readable = Self.isIdentityEncoded(head.headers)
        let stickyField: String?
        if case .jsonField(let name) = endpoint.routes.stickyKey { stickyField = name } else { stickyField = nil }
        var jsonSticky: String?
        if isInference, readable, let body {
            let check = Self.checkV2Request(head: head, body: body, stickyField: stickyField)
            guard check.isValid else {
                respondError(
                    context, head: head, status: .badRequest,
                    "the body is not a V2 inference request: expected a JSON object with an 'inputs' array", exchange: exchange)
                return
            }
            jsonSticky = check.stickyValue
        } else if let stickyField, readable, let body {
            jsonSticky = Self.field(stickyField, in: body)
        }
        let requestId = exchange.requestId
        let headers = head.headers
        let sticky = jsonSticky
        let decision: EndpointRoutes.Decision
        do {
            decision = try endpoint.routes.route(
                EndpointRoutes.Request(
                    requestId: requestId, header: { headers.first(name: $0) },
                    cookie: { name in Self.cookie(name, in: headers.first(name: "Cookie")) }, jsonField: { _ in sticky }))
        } catch {
            respondError(
                context, head: head, status: error.kind == .invalidArgument ? .badRequest : .serviceUnavailable, error.message, exchange: exchange)
            return
        }
        exchange.stickyKey = decision.stickyKey
        if gateway.predictions != nil, isInference, readable, let body {
            // The prediction log hashes features on its writer, from a copy of the bytes, when they are small.
            if endpoint.featureLogging == .hashed, gateway.predictionLog != nil, let bytes = Self.hashedFeatureBytes(of: body, head: head) {
                exchange.unhashedFeatures = bytes
            } else {
                exchange.features = Self.features(of: body, head: head, logging: endpoint.featureLogging)
            }
        }
        spread &+= 1
        guard let backend = endpoint.backend(decision.variant, spread: spread) else {
            gateway.metrics.record(endpoint: target.endpoint, variant: decision.variant, micros: Self.micros(since: started), failed: true)
            respondError(
                context, head: head, status: .serviceUnavailable, "variant '\(decision.variant)' of '\(target.endpoint)' has no ready backend",
                exchange: exchange, variant: decision.variant)
            return
        }
        let comparison =
            exchange.readsAnswers && !decision.mirrors.isEmpty ? MirrorComparison(endpoint: target.endpoint, metrics: gateway.metrics) : nil
        for mirror in decision.mirrors {
            if let mirrorBackend = endpoint.backend(mirror, spread: spread) {
                sendMirror(
                    context, head: head, body: body, target: target, variant: mirror, backend: mirrorBackend, timeout: endpoint.timeout,
                    exchange: exchange, comparison: comparison)
            }
        }
        forward(
            context, head: head, body: body, target: target, variant: decision.variant, backend: backend, exchange: exchange,
            comparison: comparison, timeout: endpoint.timeout,
            fallback: endpoint.stableVariant.flatMap { stable in
                stable == decision.variant ? nil : endpoint.backend(stable, spread: spread).map { ($0, stable) }
            })
    }

    /// The request head sent upstream, built in one pass over the client's headers: hop-by-hop and framing
    /// headers are dropped, `Host`, `X-Request-Id` and `Content-Length` set.
    private func upstreamHead(
        _ head: HTTPRequestHead, target: Target, backend: GatewayTable.Backend, requestId: String, bodyLength: Int, mirrored: Bool = false
    ) -> HTTPRequestHead {
        let uri = target.passThrough ?? "/v2/models/\(backend.modelName)\(target.v2Suffix)"
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 4)
        for (name, value) in head.headers where !Self.isReplacedUpstream(name) && !(mirrored && name.caseInsensitiveEquals("x-slipway-mirrored")) {
            headers.add(name: name, value: value)
        }
        headers.add(name: "Host", value: backend.hostHeader)
        headers.add(name: "X-Request-Id", value: requestId)
        headers.add(name: "Content-Length", value: String(bodyLength))
        if mirrored { headers.add(name: "X-Slipway-Mirrored", value: "1") }
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: uri, headers: headers)
    }

    /// Headers of a client request the gateway drops or sets itself before sending it upstream.
    static func isReplacedUpstream(_ name: String) -> Bool {
        switch name.utf8.count {
        case 4: return name.caseInsensitiveEquals("host")
        case 10: return name.caseInsensitiveEquals("connection") || name.caseInsensitiveEquals("keep-alive")
        case 12: return name.caseInsensitiveEquals("x-request-id")
        case 14: return name.caseInsensitiveEquals("content-length")
        case 17: return name.caseInsensitiveEquals("transfer-encoding")
        default: return false
        }
    }

    /// Headers of an upstream answer the gateway drops or sets itself before answering the client.
    static func isReplacedDownstream(_ name: String) -> Bool {
        switch name.utf8.count {
        case 10: return name.caseInsensitiveEquals("connection") || name.caseInsensitiveEquals("keep-alive")
        case 12: return name.caseInsensitiveEquals("x-request-id")
        case 14: return name.caseInsensitiveEquals("content-length")
        case 17: return name.caseInsensitiveEquals("transfer-encoding") || name.caseInsensitiveEquals("x-slipway-variant")
        case 23: return name.caseInsensitiveEquals("x-slipway-model-version")
        default: return false
        }
    }

    /// Whether a request's body is sent as it is (no `Content-Encoding`, or `identity`).
    static func isIdentityEncoded(_ headers: HTTPHeaders) -> Bool {
        guard let encoding = headers.first(name: "Content-Encoding") else { return true }
        let trimmed = encoding.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty || trimmed.caseInsensitiveEquals("identity")
    }

    private func forward(
        _ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?, target: Target, variant: String,
        backend: GatewayTable.Backend, exchange: Exchange, comparison: MirrorComparison?, timeout: TimeAmount,
        fallback: (GatewayTable.Backend, String)?
    ) {
        let upstream = upstreamHead(head, target: target, backend: backend, requestId: exchange.requestId, bodyLength: body?.readableBytes ?? 0)
        let timeout = min(timeout, gateway.upstreamTimeout)
        withConnection(to: backend, context: context, mirror: false) { [self] made in
            guard case .success(let connection) = made else {
                if case .failure(let failure) = made {
                    answered(
                        context, .failure(failure), head: head, body: body, target: target, variant: variant, backend: backend, exchange: exchange,
                        comparison: comparison, timeout: timeout, fallback: fallback)
                }
                return
            }
            connection.exchange(head: upstream, body: body, timeout: timeout) { [self] result in
                answered(
                    context, result, head: head, body: body, target: target, variant: variant, backend: backend, exchange: exchange,
                    comparison: comparison, timeout: timeout, fallback: fallback)
            }
        }
    }

    private func answered(
        _ context: ChannelHandlerContext, _ result: Result<UpstreamResponse, UpstreamFailure>, head: HTTPRequestHead, body: ByteBuffer?,
        target: Target, variant: String, backend: GatewayTable.Backend, exchange: Exchange, comparison: MirrorComparison?, timeout: TimeAmount,
        fallback: (GatewayTable.Backend, String)?
    ) {
        let micros = Self.micros(since: exchange.started)
        let failure: (HTTPResponseStatus, String)
        switch result {
        case .success(let response):
            let answer = exchange.readsAnswers ? Self.answer(of: response) : InferenceJSON.Answer()
            gateway.metrics.record(
                metricsSlot(target.endpoint, variant), micros: micros, failed: response.head.status.code >= 500, prediction: answer.prediction)
            log(exchange, variant: variant, modelVersion: backend.modelVersion, status: Int(response.head.status.code), answer: answer)
            comparison?.primaryAnswered(answer.prediction)
            respondUpstream(context, head: head, response: response, variant: variant, backend: backend, requestId: exchange.requestId)
            return
        case .failure(.connectFailed(let reason)):
            upstreams[backend] = nil
            if let (stable, stableVariant) = fallback {
                gateway.counters.bump(.retries)
                forward(
                    context, head: head, body: body, target: target, variant: stableVariant, backend: stable, exchange: exchange,
                    comparison: comparison, timeout: timeout, fallback: nil)
                return
            }
            failure = (.serviceUnavailable, "variant '\(variant)' is not reachable: \(reason)")
        case .failure(.timedOut):
            upstreams[backend] = nil
            failure = (.gatewayTimeout, "variant '\(variant)' did not answer in time")
        case .failure(let error):
            upstreams[backend] = nil
            failure = (.badGateway, "variant '\(variant)' failed: \(error)")
        }
        gateway.metrics.record(metricsSlot(target.endpoint, variant), micros: micros, failed: true)
        comparison?.primaryAnswered(nil)
        respondError(context, head: head, status: failure.0, failure.1, exchange: exchange, variant: variant, modelVersion: backend.modelVersion)
    }

    /// The metrics slot of an endpoint's variant, from this connection's few recent ones when it is there
    /// (comparing names that share storage is a pointer comparison, no hashing).
    private func metricsSlot(_ endpoint: String, _ variant: String) -> LiveMetrics.Slot {
        for slot in metricSlots where slot.variant == variant && slot.endpoint == endpoint { return slot }
        let slot = gateway.metrics.slot(endpoint: endpoint, variant: variant)
        if metricSlots.count >= 8 { metricSlots.removeFirst() }
        metricSlots.append(slot)
        return slot
    }

    /// Calls `body` with this connection's idle upstream connection to `backend` (connecting first when
    /// there is none), or with why a connection cannot be made.
    private func withConnection(
        to backend: GatewayTable.Backend, context: ChannelHandlerContext, mirror: Bool,
        _ body: @escaping (Result<UpstreamConnection, UpstreamFailure>) -> Void
    ) {
        if let existing = mirror ? mirrorUpstreams[backend] : upstreams[backend], existing.isUsable, !existing.isBusy {
            body(.success(existing))
            return
        }
        UpstreamConnection.connect(to: backend, on: context.eventLoop)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let connection):
                    if mirror { mirrorUpstreams[backend] = connection } else { upstreams[backend] = connection }
                    body(.success(connection))
                case .failure(let error):
                    body(.failure(.connectFailed("\(error)")))
                }
            }
    }

    /// Sends a copy of the request to a mirrored variant. Its answer is logged as a `mirror` record under
    /// the primary's request id and compared with the primary answer; it is never returned. The copy
    /// itself carries a fresh request id and `X-Slipway-Mirrored: 1`.
    private func sendMirror(
        _ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?, target: Target, variant: String, backend: GatewayTable.Backend,
        timeout: TimeAmount, exchange: Exchange, comparison: MirrorComparison?
    ) {
        if let busy = mirrorUpstreams[backend], busy.isBusy || mirrorsInFlight >= gateway.mirrorQueueLimit {
            gateway.counters.bump(.mirrorsDropped)
            return
        }
        mirrorsInFlight += 1
        gateway.counters.bump(.mirrored)
        gateway.metrics.recordMirror(endpoint: target.endpoint, variant: variant)
        gateway.beginRequest()
        let upstream = upstreamHead(
            head, target: target, backend: backend, requestId: newRequestId(), bodyLength: body?.readableBytes ?? 0, mirrored: true)
        let timeout = min(timeout, gateway.upstreamTimeout)
        var mirrored = exchange
        mirrored.started = .now()
        let done: (Result<UpstreamResponse, UpstreamFailure>) -> Void = { [self] result in
            mirrorsInFlight -= 1
            defer { gateway.endRequest() }
            let micros = Self.micros(since: mirrored.started)
            let status: Int
            var answer = InferenceJSON.Answer()
            switch result {
            case .success(let response):
                status = Int(response.head.status.code)
                if mirrored.readsAnswers { answer = Self.answer(of: response) }
            case .failure(let error):
                mirrorUpstreams[backend] = nil
                switch error {
                case .connectFailed: status = 503
                case .timedOut: status = 504
                case .broken: status = 502
                }
            }
            gateway.metrics.recordMirrorAnswer(
                endpoint: target.endpoint, variant: variant, micros: micros, failed: status >= 500, prediction: answer.prediction)
            log(mirrored, kind: .mirror, variant: variant, modelVersion: backend.modelVersion, status: status, answer: answer)
            comparison?.mirrorAnswered(variant: variant, prediction: answer.prediction)
        }
        withConnection(to: backend, context: context, mirror: true) { made in
            switch made {
            case .success(let connection): connection.exchange(head: upstream, body: body, timeout: timeout, completion: done)
            case .failure(let failure): done(.failure(failure))
            }
        }
    }

    // MARK: Prediction log

    /// Hands the record of an answer to the prediction log, if one is installed.
    private func log(
        _ exchange: Exchange, kind: PredictionRecord.Kind = .primary, variant: String, modelVersion: String, status: Int,
        answer: InferenceJSON.Answer = InferenceJSON.Answer()
    ) {
        guard let sink = gateway.predictions, exchange.isPrediction else { return }
        let record = PredictionRecord(
                requestId: exchange.requestId, timestamp: exchange.arrival ?? Date(), endpoint: exchange.endpoint, variant: variant,
                modelVersion: modelVersion, stickyKey: exchange.stickyKey, kind: kind, features: exchange.features, prediction: answer.prediction,
                confidence: answer.confidence, latencyMs: Double(Self.micros(since: exchange.started)) / 1000, status: status)
        if let bytes = exchange.unhashedFeatures, let log = gateway.predictionLog {
            log.record(record, hashing: bytes)
        } else {
            sink.record(record)
        }
    }

    /// The bytes whose SHA-256 are a request's `hashed` features (its `inputs` JSON, then any binary tensor
    /// data), when there are at most 64 KiB of them; nil otherwise.
    static func hashedFeatureBytes(of body: ByteBuffer, head: HTTPRequestHead) -> [UInt8]? {
        hashedFeatureBytes(of: body, inferenceHeaderLength: head.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init))
    }

    /// The bytes whose SHA-256 are a request's `hashed` features, given its `Inference-Header-Content-Length`.
    static func hashedFeatureBytes(of body: ByteBuffer, inferenceHeaderLength headerLength: Int?) -> [UInt8]? {
        body.withUnsafeReadableBytes { bytes -> [UInt8]? in
            var json = bytes
            var binary = UnsafeRawBufferPointer(rebasing: bytes[bytes.count...])
            if let headerLength, headerLength >= 0, headerLength <= bytes.count {
                json = UnsafeRawBufferPointer(rebasing: bytes[..<headerLength])
                binary = UnsafeRawBufferPointer(rebasing: bytes[headerLength...])
            }
            guard let range = InferenceJSON.inputsRange(in: json), range.count + binary.count <= 64 << 10 else { return nil }
            var copy = [UInt8]()
            copy.reserveCapacity(range.count + binary.count)
            copy.append(contentsOf: UnsafeRawBufferPointer(rebasing: json[range]))
            copy.append(contentsOf: binary)
            return copy
        }
    }

    /// The features of a V2 inference request as `logging` keeps them: the `inputs` value's JSON text
    /// (`full`) or the SHA-256 of it (`hashed`). With the binary tensor extension only the JSON header is
    /// text: `full` keeps its `inputs`, `hashed` hashes them followed by the binary tensor data.
    static func features(of body: ByteBuffer, head: HTTPRequestHead, logging: FeatureLogging) -> String? {
        guard logging != .off else { return nil }
        return features(
            of: body, inferenceHeaderLength: head.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init), logging: logging)
    }

    /// The features of a V2 inference request as `logging` keeps them, given its `Inference-Header-Content-Length`.
    static func features(of body: ByteBuffer, inferenceHeaderLength headerLength: Int?, logging: FeatureLogging) -> String? {
        guard logging != .off else { return nil }
        return body.withUnsafeReadableBytes { bytes -> String? in
            var json = bytes
            var binary = UnsafeRawBufferPointer(rebasing: bytes[bytes.count...])
            if let headerLength, headerLength >= 0, headerLength <= bytes.count {
                json = UnsafeRawBufferPointer(rebasing: bytes[..<headerLength])
                binary = UnsafeRawBufferPointer(rebasing: bytes[headerLength...])
            }
            guard let range = InferenceJSON.inputsRange(in: json) else { return nil }
            let inputs = UnsafeRawBufferPointer(rebasing: json[range])
            switch logging {
            case .off:
                return nil
            case .full:
                return String(decoding: inputs, as: UTF8.self)
            case .hashed:
                var hasher = DigestHasher()
                hasher.update(bytes: inputs)
                if !binary.isEmpty { hasher.update(bytes: binary) }
                return hasher.finalize().hex
            }
        }
    }

    /// The prediction and confidence of a successful V2 inference answer (from its JSON header when it
    /// uses the binary tensor extension).
    static func answer(of response: UpstreamResponse) -> InferenceJSON.Answer {
        guard (200..<300).contains(response.head.status.code) else { return InferenceJSON.Answer() }
        return answer(
            of: response.body, inferenceHeaderLength: response.head.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init))
    }

    /// The prediction and confidence of a successful V2 inference answer's body, given its
    /// `Inference-Header-Content-Length`.
    static func answer(of body: ByteBuffer, inferenceHeaderLength headerLength: Int?) -> InferenceJSON.Answer {
        body.withUnsafeReadableBytes { bytes in
            if let headerLength, headerLength >= 0, headerLength <= bytes.count {
                return InferenceJSON.answer(in: UnsafeRawBufferPointer(rebasing: bytes[..<headerLength]))
            }
            return InferenceJSON.answer(in: bytes)
        }
    }

    // MARK: Answers

    /// Answers with the backend's answer: its headers as they are, but for hop-by-hop and framing headers
    /// and the gateway's own, which are set in one pass.
    private func respondUpstream(
        _ context: ChannelHandlerContext, head: HTTPRequestHead, response: UpstreamResponse, variant: String, backend: GatewayTable.Backend,
        requestId: String
    ) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(response.head.headers.count + 5)
        for (name, value) in response.head.headers where !Self.isReplacedDownstream(name) {
            headers.add(name: name, value: value)
        }
        headers.add(name: "Content-Length", value: String(response.body.readableBytes))
        headers.add(name: "X-Request-Id", value: requestId)
        headers.add(name: "X-Slipway-Variant", value: variant)
        headers.add(name: "X-Slipway-Model-Version", value: backend.modelVersion)
        if response.head.status.code >= 500 { gateway.counters.bump(.errors) }
        write(context, head: head, status: response.head.status, headers: headers, body: response.body)
    }

    /// Answers with `{"error": message}`; for a known endpoint, logs the answer first (with the variant
    /// and model version when routing got that far, empty otherwise).
    private func respondError(
        _ context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, _ message: String, exchange: Exchange? = nil,
        variant: String = "", modelVersion: String = ""
    ) {
        gateway.counters.bump(.errors)
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let exchange {
            headers.append(("X-Request-Id", exchange.requestId))
            log(exchange, variant: variant, modelVersion: modelVersion, status: Int(status.code))
        }
        respond(context, head: head, status: status, headers: headers, body: Self.json(["error": message]))
    }

    private func respond(_ context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, headers: [(String, String)], body: Data) {
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        var fields = HTTPHeaders(headers)
        fields.add(name: "Content-Length", value: String(body.count))
        write(context, head: head, status: status, headers: fields, body: buffer)
    }

    /// Writes an answer (head, body and end, flushed once). While the gateway drains for shutdown every
    /// answer closes its connection.
    private func write(_ context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        var headers = headers
        let keepAlive = head.isKeepAlive && !gateway.isDraining && !(inputFailed && waiting.isEmpty)
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let done: EventLoopFuture<Void>
        if inputFailed && waiting.isEmpty {
            // The last answer before bytes that are not HTTP: the 400 for those follows it.
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            done = writeBadRequest(context)
        } else {
            done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        }
        done.assumeIsolated().whenComplete { [self] _ in
            unanswered -= 1
            gateway.endRequest()
            if !keepAlive { context.close(promise: nil) }
        }
        answering = false
        guard keepAlive else {
            // The connection closes after this answer: the requests pipelined behind it are not answered.
            for _ in waiting {
                unanswered -= 1
                gateway.endRequest()
            }
            waiting.removeAll()
            return
        }
        if let next = waiting.popFirst() {
            answering = true
            context.eventLoop.assumeIsolated().execute { [self] in start(context, next) }
        } else {
            fastPath?.fullPathAnswered()
        }
    }

    // MARK: Helpers

    static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    /// Checks that a body is a V2 inference request (a JSON object with an `inputs` array; with the binary
    /// tensor extension, its JSON header of `Inference-Header-Content-Length` bytes) and reads the sticky
    /// JSON field, if one is asked for, in the same pass. A body whose type is not JSON is not checked.
    static func checkV2Request(head: HTTPRequestHead, body: ByteBuffer, stickyField: String? = nil) -> JSONSyntax.V2Request {
        if let length = head.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init) {
            guard length >= 0, length <= body.readableBytes else { return JSONSyntax.V2Request(isValid: false) }
            return body.withUnsafeReadableBytes { bytes in
                JSONSyntax.v2Request(UnsafeRawBufferPointer(rebasing: bytes[..<length]), stickyField: stickyField)
            }
        }
        if let type = head.headers.first(name: "Content-Type"), !Self.mentionsJSON(type) {
            return JSONSyntax.V2Request(isValid: true, stickyValue: nil)
        }
        return body.withUnsafeReadableBytes { JSONSyntax.v2Request($0, stickyField: stickyField) }
    }

    /// Whether a content type names JSON (`application/json`, `application/vnd.x+json`…), ignoring case.
    static func mentionsJSON(_ type: String) -> Bool {
        var type = type
        return type.withUTF8 { bytes in
            guard bytes.count >= 4 else { return false }
            for start in 0...(bytes.count - 4)
            where bytes[start] | 0x20 == UInt8(ascii: "j") && bytes[start + 1] | 0x20 == UInt8(ascii: "s")
                && bytes[start + 2] | 0x20 == UInt8(ascii: "o") && bytes[start + 3] | 0x20 == UInt8(ascii: "n")
            {
                return true
            }
            return false
        }
    }

    /// Whether a body looks like a V2 inference request (see ``checkV2Request(head:body:stickyField:)``).
    static func isValidV2Request(head: HTTPRequestHead, body: ByteBuffer) -> Bool {
        checkV2Request(head: head, body: body).isValid
    }

    static func cookie(_ name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// A field of a JSON object body (at its top level, else in its `parameters` object) as text.
    static func field(_ name: String, in body: ByteBuffer) -> String? {
        body.withUnsafeReadableBytes { bytes in
            let document = JSONSyntax.v2Request(bytes, stickyField: name)
            return document.isObject ? document.stickyValue : nil
        }
    }

    /// The client's `X-Request-Id` when it is usable (1 to 128 bytes), else a new one.
    private func requestId(of head: HTTPRequestHead) -> String {
        head.headers.first(name: "X-Request-Id").flatMap { $0.isEmpty || $0.utf8.count > 128 ? nil : $0 } ?? newRequestId()
    }

    static func micros(since start: NIODeadline) -> UInt64 {
        UInt64(max((NIODeadline.now() - start).nanoseconds / 1000, 0))
    }

    /// A new request id (see ``RequestIds``).
    private func newRequestId() -> String {
        requestIds.next()
    }
}

extension String {
    /// Whether this string equals `lowercase` (ASCII, given in lower case) ignoring ASCII case.
    func caseInsensitiveEquals(_ lowercase: String) -> Bool {
        guard utf8.count == lowercase.utf8.count else { return false }
        var mine = self
        var other = lowercase
        return mine.withUTF8 { a in
            other.withUTF8 { b in
                for index in 0..<a.count {
                    let byte = a[index]
                    let folded = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
                    if folded != b[index] { return false }
                }
                return true
            }
        }
    }
}
