import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore

/// Serves one client connection: parses the request, routes it, forwards it to the chosen variant's
/// backend over this connection's keep-alive upstream, mirrors it if asked, and answers with the
/// routing headers. The HTTP server pipeline's pipelining assistance hands it one request at a time.
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
    /// The request's target and the routing table, read once when its head arrives.
    private var target: Target?
    private var table = GatewayTable()
    private var overLimit = false
    private var upstreams: [GatewayTable.Backend: UpstreamConnection] = [:]
    private var mirrorUpstreams: [GatewayTable.Backend: UpstreamConnection] = [:]
    private var mirrorsInFlight = 0
    /// Spreads this connection's requests over a variant's replicas.
    private var spread = Int.random(in: 0..<1024)
    /// Requests received whose answer is not written yet: while there is one, a quiet client is waiting
    /// for us, not stalling, and the idle timeout leaves the connection open.
    private var unanswered = 0

    init(gateway: Gateway) {
        self.gateway = gateway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = context.channel.allocator.buffer(capacity: 0)
            overLimit = false
            target = Self.target(of: requestHead.uri)
            table = gateway.currentTable
            limit = target.flatMap { table.endpoints[$0.endpoint]?.maxBodyBytes } ?? 8 << 20
        case .body(var part):
            guard !overLimit else { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > limit {
                overLimit = true
                body = nil
            } else {
                body?.writeBuffer(&part)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let requestBody = body
            body = nil
            unanswered += 1
            gateway.beginRequest()
            if overLimit {
                respondError(
                    context, head: requestHead, status: .payloadTooLarge, "the request body is over this endpoint's limit of \(limit) bytes",
                    exchange: exchange(for: requestHead, started: .now()))
            } else {
                handle(context, head: requestHead, body: requestBody)
            }
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

    func channelInactive(context: ChannelHandlerContext) {
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

    static func target(of uri: String) -> Target? {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        let query = uri.count > path.count ? String(uri.dropFirst(path.count)) : ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if parts.count >= 3, parts[0] == "v2", parts[1] == "models" {
            let suffix = parts.count > 3 ? "/" + parts[3...].joined(separator: "/") : ""
            return Target(endpoint: parts[2].removingPercentEncoding ?? parts[2], passThrough: nil, v2Suffix: suffix + query)
        }
        if parts.count >= 2, parts[0] == "endpoints" {
            let rest = "/" + parts[2...].joined(separator: "/") + (path.hasSuffix("/") && parts.count > 2 ? "/" : "")
            return Target(endpoint: parts[1].removingPercentEncoding ?? parts[1], passThrough: rest + query, v2Suffix: "")
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
        /// When the request arrived (read only when a prediction log is installed).
        var arrival: Date?
        var started: NIODeadline
        /// Whether answers are read for their prediction: a V2 inference with a prediction log installed.
        var readsAnswers: Bool
    }

    /// The exchange of a request for a known endpoint; nil for other paths.
    private func exchange(for head: HTTPRequestHead, started: NIODeadline) -> Exchange? {
        guard let target, table.endpoints[target.endpoint] != nil else { return nil }
        let logging = gateway.predictions != nil
        return Exchange(
            requestId: Self.requestId(of: head), endpoint: target.endpoint, arrival: logging ? Date() : nil, started: started,
            readsAnswers: logging && target.passThrough == nil && target.v2Suffix.hasPrefix("/infer"))
    }

    private func handle(_ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?) {
        gateway.counters.bump(\.requests)
        let started = NIODeadline.now()
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if path == "/v2/health/live" || path == "/v2/health/ready" || path == "/v2" {
            respond(context, head: head, status: .ok, headers: [("Content-Type", "application/json")], body: Self.json(["live": true]))
            return
        }
        if path == "/metrics" {
            let weights = table.endpoints.mapValues { $0.routes.split.weights }
            respond(
                context, head: head, status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4")],
                body: Data(gateway.metrics.prometheus(weights: weights).utf8))
            return
        }
        guard let target else {
            respondError(context, head: head, status: .notFound, "no route for \(path); use /v2/models/{endpoint}/infer or /endpoints/{endpoint}/…")
            return
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
        if isInference, let body, !Self.isValidV2Request(head: head, body: body) {
            respondError(
                context, head: head, status: .badRequest, "the body is not a V2 inference request: expected a JSON object with an 'inputs' array",
                exchange: exchange)
            return
        }
        let requestId = exchange.requestId
        let headers = head.headers
        let cookieHeader = headers.first(name: "Cookie")
        let jsonBody = body.map { Data(buffer: $0) }
        let request = EndpointRoutes.Request(
            requestId: requestId, header: { headers.first(name: $0) },
            cookie: { name in Self.cookie(name, in: cookieHeader) },
            jsonField: { name in jsonBody.flatMap { Self.field(name, in: $0) } })
        let decision: EndpointRoutes.Decision
        do {
            decision = try endpoint.routes.route(request)
        } catch {
            respondError(
                context, head: head, status: error.kind == .invalidArgument ? .badRequest : .serviceUnavailable, error.message, exchange: exchange)
            return
        }
        exchange.stickyKey = decision.stickyKey
        if gateway.predictions != nil, isInference, let body {
            exchange.features = Self.features(of: body, head: head, logging: endpoint.featureLogging)
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

    private func upstreamHead(_ head: HTTPRequestHead, target: Target, backend: GatewayTable.Backend, requestId: String) -> HTTPRequestHead {
        let uri = target.passThrough ?? "/v2/models/\(backend.modelName)\(target.v2Suffix)"
        var upstream = HTTPRequestHead(version: .http1_1, method: head.method, uri: uri, headers: head.headers)
        upstream.headers.replaceOrAdd(name: "Host", value: "\(backend.host):\(backend.port)")
        upstream.headers.replaceOrAdd(name: "X-Request-Id", value: requestId)
        upstream.headers.remove(name: "Connection")
        upstream.headers.remove(name: "Keep-Alive")
        upstream.headers.remove(name: "Transfer-Encoding")
        return upstream
    }

    private func forward(
        _ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?, target: Target, variant: String,
        backend: GatewayTable.Backend, exchange: Exchange, comparison: MirrorComparison?, timeout: TimeAmount,
        fallback: (GatewayTable.Backend, String)?
    ) {
        var prepared = upstreamHead(head, target: target, backend: backend, requestId: exchange.requestId)
        prepared.headers.replaceOrAdd(name: "Content-Length", value: String(body?.readableBytes ?? 0))
        let upstream = prepared
        let timeout = min(timeout, gateway.upstreamTimeout)
        connection(to: backend, context: context, pool: \.upstreams)
            .flatMap { connection in connection.exchange(head: upstream, body: body, timeout: timeout) }
            .assumeIsolated()
            .whenComplete { [self] result in
                let micros = Self.micros(since: exchange.started)
                let failure: (HTTPResponseStatus, String)
                switch result {
                case .success(let response):
                    let answer = exchange.readsAnswers ? Self.answer(of: response) : InferenceJSON.Answer()
                    gateway.metrics.record(
                        endpoint: target.endpoint, variant: variant, micros: micros, failed: response.head.status.code >= 500,
                        prediction: answer.prediction)
                    log(exchange, variant: variant, modelVersion: backend.modelVersion, status: Int(response.head.status.code), answer: answer)
                    comparison?.primaryAnswered(answer.prediction)
                    respondUpstream(context, head: head, response: response, variant: variant, backend: backend, requestId: exchange.requestId)
                    return
                case .failure(UpstreamFailure.connectFailed(let reason)):
                    upstreams[backend] = nil
                    if let (stable, stableVariant) = fallback {
                        gateway.counters.bump(\.retries)
                        forward(
                            context, head: head, body: body, target: target, variant: stableVariant, backend: stable, exchange: exchange,
                            comparison: comparison, timeout: timeout, fallback: nil)
                        return
                    }
                    failure = (.serviceUnavailable, "variant '\(variant)' is not reachable: \(reason)")
                case .failure(UpstreamFailure.timedOut):
                    upstreams[backend] = nil
                    failure = (.gatewayTimeout, "variant '\(variant)' did not answer in time")
                case .failure(let error):
                    upstreams[backend] = nil
                    failure = (.badGateway, "variant '\(variant)' failed: \(error)")
                }
                gateway.metrics.record(endpoint: target.endpoint, variant: variant, micros: micros, failed: true)
                comparison?.primaryAnswered(nil)
                respondError(
                    context, head: head, status: failure.0, failure.1, exchange: exchange, variant: variant, modelVersion: backend.modelVersion)
            }
    }

    private func connection(
        to backend: GatewayTable.Backend, context: ChannelHandlerContext,
        pool: ReferenceWritableKeyPath<GatewayHandler, [GatewayTable.Backend: UpstreamConnection]>
    ) -> EventLoopFuture<UpstreamConnection> {
        if let existing = self[keyPath: pool][backend], existing.isUsable, !existing.isBusy {
            return context.eventLoop.makeSucceededFuture(existing)
        }
        return UpstreamConnection.connect(to: backend, on: context.eventLoop)
            .flatMapErrorThrowing { error in throw UpstreamFailure.connectFailed("\(error)") }
            .assumeIsolated()
            .map { [self] connection in
                self[keyPath: pool][backend] = connection
                return connection
            }
            .nonisolated()
    }

    /// Sends a copy of the request to a mirrored variant. Its answer is logged as a `mirror` record under
    /// the primary's request id and compared with the primary answer; it is never returned. The copy
    /// itself carries a fresh request id and `X-Slipway-Mirrored: 1`.
    private func sendMirror(
        _ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?, target: Target, variant: String, backend: GatewayTable.Backend,
        timeout: TimeAmount, exchange: Exchange, comparison: MirrorComparison?
    ) {
        if let busy = mirrorUpstreams[backend], busy.isBusy || mirrorsInFlight >= gateway.mirrorQueueLimit {
            gateway.counters.bump(\.mirrorsDropped)
            return
        }
        mirrorsInFlight += 1
        gateway.counters.bump(\.mirrored)
        gateway.metrics.recordMirror(endpoint: target.endpoint, variant: variant)
        gateway.beginRequest()
        var prepared = upstreamHead(head, target: target, backend: backend, requestId: Self.newRequestId())
        prepared.headers.replaceOrAdd(name: "Content-Length", value: String(body?.readableBytes ?? 0))
        prepared.headers.replaceOrAdd(name: "X-Slipway-Mirrored", value: "1")
        let upstream = prepared
        let timeout = min(timeout, gateway.upstreamTimeout)
        var mirrored = exchange
        mirrored.started = .now()
        connection(to: backend, context: context, pool: \.mirrorUpstreams)
            .flatMap { $0.exchange(head: upstream, body: body, timeout: timeout) }
            .assumeIsolated()
            .whenComplete { [self] result in
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
                    case UpstreamFailure.connectFailed: status = 503
                    case UpstreamFailure.timedOut: status = 504
                    default: status = 502
                    }
                }
                gateway.metrics.recordMirrorAnswer(
                    endpoint: target.endpoint, variant: variant, micros: micros, failed: status >= 500, prediction: answer.prediction)
                log(mirrored, kind: .mirror, variant: variant, modelVersion: backend.modelVersion, status: status, answer: answer)
                comparison?.mirrorAnswered(variant: variant, prediction: answer.prediction)
            }
    }

    // MARK: Prediction log

    /// Hands the record of an answer to the prediction log, if one is installed.
    private func log(
        _ exchange: Exchange, kind: PredictionRecord.Kind = .primary, variant: String, modelVersion: String, status: Int,
        answer: InferenceJSON.Answer = InferenceJSON.Answer()
    ) {
        guard let sink = gateway.predictions else { return }
        sink.record(
            PredictionRecord(
                requestId: exchange.requestId, timestamp: exchange.arrival ?? Date(), endpoint: exchange.endpoint, variant: variant,
                modelVersion: modelVersion, stickyKey: exchange.stickyKey, kind: kind, features: exchange.features, prediction: answer.prediction,
                confidence: answer.confidence, latencyMs: Double(Self.micros(since: exchange.started)) / 1000, status: status))
    }

    /// The features of a V2 inference request as `logging` keeps them: the `inputs` value's JSON text
    /// (`full`) or the SHA-256 of it (`hashed`). With the binary tensor extension only the JSON header is
    /// text: `full` keeps its `inputs`, `hashed` hashes them followed by the binary tensor data.
    static func features(of body: ByteBuffer, head: HTTPRequestHead, logging: FeatureLogging) -> String? {
        guard logging != .off else { return nil }
        let headerLength = head.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init)
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
        let headerLength = response.head.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init)
        return response.body.withUnsafeReadableBytes { bytes in
            if let headerLength, headerLength >= 0, headerLength <= bytes.count {
                return InferenceJSON.answer(in: UnsafeRawBufferPointer(rebasing: bytes[..<headerLength]))
            }
            return InferenceJSON.answer(in: bytes)
        }
    }

    // MARK: Answers

    private func respondUpstream(
        _ context: ChannelHandlerContext, head: HTTPRequestHead, response: UpstreamResponse, variant: String, backend: GatewayTable.Backend,
        requestId: String
    ) {
        var headers = response.head.headers
        headers.remove(name: "Connection")
        headers.remove(name: "Keep-Alive")
        headers.remove(name: "Transfer-Encoding")
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        headers.replaceOrAdd(name: "X-Request-Id", value: requestId)
        headers.replaceOrAdd(name: "X-Slipway-Variant", value: variant)
        headers.replaceOrAdd(name: "X-Slipway-Model-Version", value: backend.modelVersion)
        if response.head.status.code >= 500 { gateway.counters.bump(\.errors) }
        write(context, head: head, status: response.head.status, headers: headers, body: response.body)
    }

    /// Answers with `{"error": message}`; for a known endpoint, logs the answer first (with the variant
    /// and model version when routing got that far, empty otherwise).
    private func respondError(
        _ context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, _ message: String, exchange: Exchange? = nil,
        variant: String = "", modelVersion: String = ""
    ) {
        gateway.counters.bump(\.errors)
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
        fields.replaceOrAdd(name: "Content-Length", value: String(body.count))
        write(context, head: head, status: status, headers: fields, body: buffer)
    }

    /// Writes an answer. While the gateway drains for shutdown every answer closes its connection.
    private func write(_ context: ChannelHandlerContext, head: HTTPRequestHead, status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        var headers = headers
        let keepAlive = head.isKeepAlive && !gateway.isDraining
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        done.assumeIsolated().whenComplete { [self] _ in
            unanswered -= 1
            gateway.endRequest()
            if !keepAlive { context.close(promise: nil) }
        }
    }

    // MARK: Helpers

    static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    /// A cheap check that a body looks like a V2 inference request (a JSON object with `inputs`).
    static func isValidV2Request(head: HTTPRequestHead, body: ByteBuffer) -> Bool {
        let type = head.headers.first(name: "Content-Type") ?? "application/json"
        // The binary tensor extension carries a JSON header of Inference-Header-Content-Length bytes.
        if let length = head.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init) {
            guard length >= 0, length <= body.readableBytes, let bytes = body.getBytes(at: body.readerIndex, length: length) else { return false }
            return (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any]
        }
        guard type.lowercased().contains("json") else { return true }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else { return false }
        return object["inputs"] is [Any]
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

    static func field(_ name: String, in body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        let value = object[name] ?? (object["parameters"] as? [String: Any])?[name]
        switch value {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }

    /// The client's `X-Request-Id` when it is usable (1 to 128 bytes), else a new one.
    static func requestId(of head: HTTPRequestHead) -> String {
        head.headers.first(name: "X-Request-Id").flatMap { $0.isEmpty || $0.utf8.count > 128 ? nil : $0 } ?? newRequestId()
    }

    static func micros(since start: NIODeadline) -> UInt64 {
        UInt64(max((NIODeadline.now() - start).nanoseconds / 1000, 0))
    }

    static func newRequestId() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next(), radix: 16) + String(generator.next() & 0xFFFF, radix: 16)
    }
}
