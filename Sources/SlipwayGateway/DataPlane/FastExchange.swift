import Foundation
import NIOCore
import NIOHTTP1
import SlipwayCore

/// One inference request on a fast path (``GatewayFastPath`` on NIO, ``EpollGateway`` on Linux) from its
/// bytes to its answer's: routing it, the bytes sent upstream, the bytes answered, and the records that
/// metrics and the prediction log get. The two paths differ only in how bytes move.
struct FastExchange {
    /// The request's bytes (head and body) at the start of the connection's input.
    var length = 0
    var requestId = ""
    var endpoint = ""
    var variant = ""
    var backend: GatewayTable.Backend?
    var started = NIODeadline.distantPast
    var arrival: Date?
    var stickyKey: String?
    var features: String?
    var unhashedFeatures: [UInt8]?
    var logs = false
    var keepAlive = true

    /// What ``prepare(_:input:request:requestIds:spread:into:)`` decided.
    struct Prepared {
        var exchange: FastExchange
        /// How long the backend may take.
        var timeout: TimeAmount
    }

    /// Routes the request at the start of `input` (whole, as ``GatewayFastPath/classify(_:)`` found it) and
    /// builds what goes upstream; nil when the full path should answer it instead (an unknown endpoint, one
    /// with mirroring, a body over the endpoint's limit or not a valid V2 request, routing that cannot place
    /// it, a variant with no backend). The request as the backend gets it is appended to `out`.
    static func prepare(
        _ gateway: Gateway, input: ByteBuffer, request: GatewayFastPath.Request, routing: inout RoutingCache, requestIds: inout RequestIds,
        spread: inout Int, into out: inout ByteBuffer
    ) -> Prepared? {
        let start = input.readerIndex
        guard let head = input.getSlice(at: start, length: request.headEnd),
            let body = input.getSlice(at: start + request.headEnd, length: request.length - request.headEnd)
        else { return nil }
        let started = NIODeadline.now()
        guard let entry = head.withUnsafeReadableBytes({ routing.entry(gateway, named: UnsafeRawBufferPointer(rebasing: $0[request.endpoint])) })
        else { return nil }
        let name = entry.name
        let endpoint = entry.endpoint
        guard endpoint.routes.mirrors.isEmpty, body.readableBytes <= endpoint.maxBodyBytes else { return nil }
        // The body: a V2 inference request (its JSON header with the binary extension), read for a sticky
        // field in the same pass.
        let stickyField: String?
        if case .jsonField(let field) = endpoint.routes.stickyKey { stickyField = field } else { stickyField = nil }
        var jsonSticky: String?
        if let headerLength = request.inferenceHeaderLength {
            guard headerLength <= body.readableBytes else { return nil }
            let check = body.withUnsafeReadableBytes { JSONSyntax.v2Request(UnsafeRawBufferPointer(rebasing: $0[..<headerLength]), stickyField: stickyField) }
            guard check.isValid else { return nil }
            jsonSticky = check.stickyValue
        } else if request.checksJSON {
            let check = body.withUnsafeReadableBytes { JSONSyntax.v2Request($0, stickyField: stickyField) }
            guard check.isValid else { return nil }
            jsonSticky = check.stickyValue
        } else if let stickyField {
            jsonSticky = GatewayHandler.field(stickyField, in: body)
        }
        let requestId: String
        if let range = request.requestId, !range.isEmpty, range.count <= 128 {
            requestId = head.withUnsafeReadableBytes { RawHTTP.text($0, range) }
        } else {
            requestId = requestIds.next()
        }
        let lines = head.withUnsafeReadableBytes { bytes in
            (RawHTTP.memchrIndex(bytes, UInt8(ascii: "\n"), from: 0) ?? 0) + 1
        }
        guard let decision = route(entry, head: head, lines: lines, requestId: requestId, jsonSticky: jsonSticky, spread: &spread) else { return nil }
        let backend = decision.backend
        let logs = gateway.predictions != nil
        var features: String?
        var unhashed: [UInt8]?
        if logs {
            if endpoint.featureLogging == .hashed, gateway.predictionLog != nil,
                let bytes = GatewayHandler.hashedFeatureBytes(of: body, inferenceHeaderLength: request.inferenceHeaderLength)
            {
                unhashed = bytes
            } else {
                features = GatewayHandler.features(of: body, inferenceHeaderLength: request.inferenceHeaderLength, logging: endpoint.featureLogging)
            }
        }
        upstreamBytes(&out, head: head, firstLine: lines, request: request, body: body, backend: backend, requestId: requestId)
        let exchange = FastExchange(
            length: request.length, requestId: requestId, endpoint: name, variant: decision.variant, backend: backend, started: started,
            arrival: logs ? Date() : nil, stickyKey: decision.stickyKey, features: features, unhashedFeatures: unhashed, logs: logs,
            keepAlive: request.keepAlive)
        return Prepared(exchange: exchange, timeout: min(endpoint.timeout, gateway.upstreamTimeout))
    }

    /// Where routing sent a request.
    private struct Routed {
        var variant: String
        var stickyKey: String?
        var backend: GatewayTable.Backend
    }

    /// Routes a request as ``EndpointRoutes/route(_:)`` does. For the common policy (see ``RoutingCache/Entry``)
    /// it reads the two headers in one pass and takes the backend by the bucket owner's position; a pinned
    /// request, and every other policy, goes through ``EndpointRoutes/route(_:)`` itself. Nil when the full
    /// path should answer (routing fails, or the variant has no ready backend).
    private static func route(
        _ entry: RoutingCache.Entry, head: ByteBuffer, lines: Int, requestId: String, jsonSticky: String?, spread: inout Int
    ) -> Routed? {
        let routes = entry.endpoint.routes
        if let headers = entry.headers {
            var pin: Range<Int>?
            var sticky: Range<Int>?
            let (pinned, key) = head.withUnsafeReadableBytes { bytes -> (Bool, String?) in
                RawHTTP.forEachField(bytes, lines..<bytes.count) { name, value, _ in
                    if pin == nil, RawHTTP.equals(bytes, name, lowercased: headers.pin) { pin = value }
                    if sticky == nil, RawHTTP.equals(bytes, name, lowercased: headers.sticky) { sticky = value }
                    return pin == nil || sticky == nil
                }
                let key = sticky.flatMap { $0.isEmpty ? nil : RawHTTP.text(bytes, $0) }
                return (pin.map { !$0.isEmpty } ?? false, key)
            }
            if !pinned {
                let bucket = TrafficSplit.bucket(key: key ?? requestId, seed: routes.seed)
                let index = routes.split.variantIndex(forBucket: bucket)
                guard index < entry.variants.count, let target = entry.variants[index] else { return nil }
                spread &+= 1
                return Routed(variant: target.name, stickyKey: key, backend: target.backends[(spread & Int.max) % target.backends.count])
            }
        }
        let decision: EndpointRoutes.Decision
        do {
            decision = try routes.route(
                EndpointRoutes.Request(
                    requestId: requestId, header: { name in Self.field(name, in: head, from: lines) },
                    cookie: { name in GatewayHandler.cookie(name, in: Self.field("Cookie", in: head, from: lines)) },
                    jsonField: { _ in jsonSticky }))
        } catch {
            return nil
        }
        spread &+= 1
        guard let backend = entry.endpoint.backend(decision.variant, spread: spread) else { return nil }
        return Routed(variant: decision.variant, stickyKey: decision.stickyKey, backend: backend)
    }

    /// The request sent upstream: the client's header lines but for the ones the gateway sets, after a request
    /// line with the backend's model, then `Host`, `X-Request-Id`, `Content-Length` and the body; `first` is where the
    /// head's header lines start.
    private static func upstreamBytes(
        _ out: inout ByteBuffer, head: ByteBuffer, firstLine first: Int, request: GatewayFastPath.Request, body: ByteBuffer,
        backend: GatewayTable.Backend, requestId: String
    ) {
        let bound = request.length + backend.modelName.utf8.count + backend.host.utf8.count + requestId.utf8.count + 128
        out.writeParts(upTo: bound) { out in
            out.put("POST /v2/models/")
            out.put(backend.modelName)
            out.put("/infer")
            head.withUnsafeReadableBytes { bytes in
                out.put(UnsafeRawBufferPointer(rebasing: bytes[request.query]))
                out.put(" HTTP/1.1\r\n")
                var runStart = first
                RawHTTP.forEachField(bytes, first..<request.headEnd) { name, _, line in
                    let replaced: Bool
                    switch name.count {
                    case 4: replaced = RawHTTP.equals(bytes, name, "host")
                    case 10: replaced = RawHTTP.equals(bytes, name, "connection") || RawHTTP.equals(bytes, name, "keep-alive")
                    case 12: replaced = RawHTTP.equals(bytes, name, "x-request-id")
                    case 14: replaced = RawHTTP.equals(bytes, name, "content-length")
                    default: replaced = false
                    }
                    if replaced {
                        if runStart < line.lowerBound { out.put(UnsafeRawBufferPointer(rebasing: bytes[runStart..<line.lowerBound])) }
                        runStart = line.upperBound
                    }
                    return true
                }
                let linesEnd = request.headEnd - 2
                if runStart < linesEnd { out.put(UnsafeRawBufferPointer(rebasing: bytes[runStart..<linesEnd])) }
            }
            out.put("Host: ")
            out.put(backend.host)
            out.put(":")
            out.put(decimal: backend.port)
            out.put("\r\nX-Request-Id: ")
            out.put(requestId)
            out.put("\r\nContent-Length: ")
            out.put(decimal: body.readableBytes)
            out.put("\r\n\r\n")
            out.put(body)
        }
    }

    /// The first value of a header in a request head, from its first header line on.
    static func field(_ name: String, in head: ByteBuffer, from first: Int) -> String? {
        head.withUnsafeReadableBytes { bytes in
            var found: String?
            RawHTTP.forEachField(bytes, first..<bytes.count) { field, value, _ in
                guard RawHTTP.equals(bytes, field, name: name) else { return true }
                found = RawHTTP.text(bytes, value)
                return false
            }
            return found
        }
    }

    /// Records the backend's answer (metrics, counters, prediction log), appends the bytes for the client to
    /// `out` and returns whether the connection stays open after them.
    ///
    /// `lane` is the calling thread's lane of the prediction log, if it has one.
    func answered(
        _ gateway: Gateway, _ upstream: RawAnswerReader, slots: inout MetricSlots, lane: PredictionLog.Lane? = nil, into out: inout ByteBuffer
    ) -> Bool {
        let micros = GatewayHandler.micros(since: started)
        let status = upstream.status
        let answer =
            logs && (200..<300).contains(status)
            ? GatewayHandler.answer(of: upstream.body, inferenceHeaderLength: upstream.inferenceHeaderLength) : InferenceJSON.Answer()
        gateway.metrics.record(slots.slot(gateway, endpoint, variant), micros: micros, failed: status >= 500, prediction: answer.prediction)
        log(gateway, status: status, answer: answer, micros: micros, lane: lane)
        gateway.counters.bump(.requests)
        if status >= 500 { gateway.counters.bump(.errors) }
        let keepAlive = self.keepAlive && !gateway.isDraining
        let modelVersion = backend?.modelVersion ?? ""
        let bound = upstream.head.readableBytes + upstream.body.readableBytes + requestId.utf8.count + variant.utf8.count + modelVersion.utf8.count + 160
        out.writeParts(upTo: bound) { out in
            out.put("HTTP/1.1 ")
            upstream.head.withUnsafeReadableBytes { bytes in
                out.put(UnsafeRawBufferPointer(rebasing: bytes[..<upstream.statusEnd]))
                out.put("\r\nX-Request-Id: ")
                out.put(requestId)
                out.put("\r\nX-Slipway-Variant: ")
                out.put(variant)
                out.put("\r\nX-Slipway-Model-Version: ")
                out.put(modelVersion)
                out.put("\r\n")
                var runStart = upstream.statusEnd + 2
                for range in upstream.dropped {
                    if runStart < range.lowerBound { out.put(UnsafeRawBufferPointer(rebasing: bytes[runStart..<range.lowerBound])) }
                    runStart = range.upperBound
                }
                if runStart < bytes.count { out.put(UnsafeRawBufferPointer(rebasing: bytes[runStart...])) }
            }
            out.put("Content-Length: ")
            out.put(decimal: upstream.body.readableBytes)
            out.put(keepAlive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n")
            out.put(upstream.body)
        }
        return keepAlive
    }

    /// Records an exchange that failed after the request went out, appends the client's answer (502, or 504
    /// when the backend took too long) to `out` and returns whether the connection stays open after it.
    func failed(
        _ gateway: Gateway, timedOut: Bool, reason: String, slots: inout MetricSlots, lane: PredictionLog.Lane? = nil, into out: inout ByteBuffer
    ) -> Bool {
        let micros = GatewayHandler.micros(since: started)
        let status: HTTPResponseStatus = timedOut ? .gatewayTimeout : .badGateway
        let message = timedOut ? "variant '\(variant)' did not answer in time" : "variant '\(variant)' failed: \(UpstreamFailure.broken(reason))"
        gateway.metrics.record(slots.slot(gateway, endpoint, variant), micros: micros, failed: true)
        log(gateway, status: Int(status.code), answer: InferenceJSON.Answer(), micros: micros, lane: lane)
        gateway.counters.bump(.requests)
        gateway.counters.bump(.errors)
        let keepAlive = self.keepAlive && !gateway.isDraining
        let body = GatewayHandler.json(["error": message])
        out.reserveCapacity(minimumWritableBytes: body.count + 160)
        out.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Type: application/json\r\nX-Request-Id: ")
        out.writeString(requestId)
        out.writeStatic("\r\nContent-Length: ")
        out.writeString(String(body.count))
        out.writeStatic(keepAlive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n")
        out.writeBytes(body)
        return keepAlive
    }

    /// Hands the record of the answer to the prediction log, if one is installed: through `lane` when the
    /// calling thread has one.
    private func log(_ gateway: Gateway, status: Int, answer: InferenceJSON.Answer, micros: UInt64, lane: PredictionLog.Lane?) {
        guard let sink = gateway.predictions else { return }
        let record = PredictionRecord(
            requestId: requestId, timestamp: arrival ?? Date(), endpoint: endpoint, variant: variant, modelVersion: backend?.modelVersion ?? "",
            stickyKey: stickyKey, kind: .primary, features: features, prediction: answer.prediction, confidence: answer.confidence,
            latencyMs: Double(micros) / 1000, status: status)
        if let lane, let log = gateway.predictionLog {
            log.record(record, hashing: unhashedFeatures, in: lane)
        } else if let bytes = unhashedFeatures, let log = gateway.predictionLog {
            log.record(record, hashing: bytes)
        } else {
            sink.record(record)
        }
    }
}

/// A connection's few recent metrics slots, so most requests find theirs without the shared table's lock.
struct MetricSlots {
    private var slots: [LiveMetrics.Slot] = []

    mutating func slot(_ gateway: Gateway, _ endpoint: String, _ variant: String) -> LiveMetrics.Slot {
        for slot in slots where slot.variant == variant && slot.endpoint == endpoint { return slot }
        let slot = gateway.metrics.slot(endpoint: endpoint, variant: variant)
        if slots.count >= 8 { slots.removeFirst() }
        slots.append(slot)
        return slot
    }
}
