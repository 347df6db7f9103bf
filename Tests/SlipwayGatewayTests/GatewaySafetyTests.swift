import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import SlipwayCore
import SlipwayStore
import SlipwayStoreSQLite
import Testing

@testable import SlipwayGateway

/// Slow clients and hung backends, with real sockets against a real gateway on 127.0.0.1:0.
@Suite(.timeLimit(.minutes(3))) struct GatewaySafetyTests {
    static let idleTimeout = TimeAmount.milliseconds(200)

    static func gateway(
        backendPort: Int, timeout: TimeAmount = .seconds(30), predictions: (any PredictionSink)? = nil, idle: TimeAmount = idleTimeout,
        io: Gateway.DataPlaneIO = .automatic
    ) async throws -> (Gateway, Int) {
        let routes = EndpointRoutes(endpoint: "churn", split: try TrafficSplit(weights: [("stable", 100)]), deployed: ["stable"])
        let backend = GatewayTable.Backend(host: "127.0.0.1", port: backendPort, modelName: "churn-a", modelVersion: "churn@1")
        let table = GatewayTable(endpoints: ["churn": .init(routes: routes, backends: ["stable": backend], stableVariant: "stable", timeout: timeout)]
        )
        var logger = Logger(label: "gateway-safety-test")
        logger.logLevel = .critical
        let gateway = Gateway(table: table, logger: logger, predictions: predictions, idleTimeout: idle, io: io)
        return (gateway, try await gateway.start(host: "127.0.0.1", port: 0))
    }

    /// Sends `request` (which asks for a new connection) and returns the answer with its body. The gateway closes a
    /// connection that sent nothing for 200 ms, and a busy machine can hold the test process that long between
    /// connecting and sending: when the connection was closed and `reached` shows that the request never got to the
    /// backend, it is sent again. A request the backend saw is never repeated.
    static func execute(_ request: HTTPClientRequest, reached: () -> Int) async throws -> (HTTPClientResponse, String) {
        var attempt = 0
        while true {
            attempt += 1
            let before = reached()
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                return (response, String(buffer: try await response.body.collect(upTo: 1 << 20)))
            } catch let error as HTTPClientError where error == .remoteConnectionClosed && reached() == before && attempt < 5 {
                continue
            }
        }
    }

    /// A raw TCP client that sends exactly the bytes it is given and collects what comes back.
    final class RawClient: Sendable {
        let channel: any Channel
        private let received: NIOLockedValueBox<ByteBuffer>

        init(port: Int, sending bytes: String) async throws {
            let received = NIOLockedValueBox(ByteBuffer())
            self.received = received
            // The bytes go out as soon as the connection is up, not when this task is next scheduled: on a
            // busy machine that could come after the gateway's short idle timeout.
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Collector(received: received, sending: ByteBuffer(string: bytes)))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        }

        var text: String { received.withLockedValue { String(buffer: $0) } }

        /// Whether the other side closed the connection within `limit`; if not, closes it and returns false.
        func closedByPeer(within limit: Duration = .seconds(20)) async -> Bool {
            let channel = channel
            let closed = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    _ = try? await channel.closeFuture.get()
                    return true
                }
                group.addTask {
                    try? await Task.sleep(for: limit)
                    return false
                }
                let first = await group.next()!
                if !first { channel.close(promise: nil) }
                group.cancelAll()
                await group.waitForAll()
                return first
            }
            return closed
        }

        final class Collector: ChannelInboundHandler, Sendable {
            typealias InboundIn = ByteBuffer
            typealias OutboundOut = ByteBuffer
            let received: NIOLockedValueBox<ByteBuffer>
            let sending: ByteBuffer

            init(received: NIOLockedValueBox<ByteBuffer>, sending: ByteBuffer) {
                self.received = received
                self.sending = sending
            }

            func channelActive(context: ChannelHandlerContext) {
                if sending.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(sending), promise: nil) }
                context.fireChannelActive()
            }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                var bytes = unwrapInboundIn(data)
                received.withLockedValue { _ = $0.writeBuffer(&bytes) }
            }
        }
    }

    /// A backend that accepts connections, reads requests and never answers; it counts connections opened and closed.
    final class HungBackend: Sendable {
        let port: Int
        private let channel: any Channel
        private let counts: NIOLockedValueBox<(opened: Int, closed: Int, bytes: Int)>

        init() async throws {
            let counts = NIOLockedValueBox((opened: 0, closed: 0, bytes: 0))
            self.counts = counts
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Silent(counts: counts)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            port = channel.localAddress!.port!
        }

        var opened: Int { counts.withLockedValue { $0.opened } }
        var closed: Int { counts.withLockedValue { $0.closed } }
        var bytesRead: Int { counts.withLockedValue { $0.bytes } }

        func stop() async { try? await channel.close() }

        final class Silent: ChannelInboundHandler, Sendable {
            typealias InboundIn = ByteBuffer
            let counts: NIOLockedValueBox<(opened: Int, closed: Int, bytes: Int)>

            init(counts: NIOLockedValueBox<(opened: Int, closed: Int, bytes: Int)>) { self.counts = counts }

            func channelActive(context: ChannelHandlerContext) { counts.withLockedValue { $0.opened += 1 } }
            func channelInactive(context: ChannelHandlerContext) { counts.withLockedValue { $0.closed += 1 } }
            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                let bytes = unwrapInboundIn(data).readableBytes
                counts.withLockedValue { $0.bytes += bytes }
            }
        }
    }

    /// Ways a client can leave a connection hanging.
    static let stalls: [(String, String)] = [
        ("nothing sent", ""),
        ("half a request head", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: gateway\r\nContent-Le"),
        ("a head and half its body", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100\r\n\r\n{\"inputs\":[{\"na"),
    ]

    @Test(arguments: stalls.map(\.0), GatewayConnectionTests.modes)
    func aStalledClientIsDisconnected(stall: String, io: Gateway.DataPlaneIO) async throws {
        let backend = try await TestBackend(name: "stable")
        let (gateway, port) = try await Self.gateway(backendPort: backend.port, io: io)
        let payload = Self.stalls.first { $0.0 == stall }!.1
        let client = try await RawClient(port: port, sending: payload)
        #expect(await client.closedByPeer(), "the gateway kept a connection that sent \(stall)")
        #expect(client.text.isEmpty, "got an answer to an incomplete request: \(client.text)")
        #expect(backend.requests.isEmpty)
        await gateway.stop()
        await backend.stop()
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterItsAnswer() async throws {
        let backend = try await TestBackend(name: "stable")
        let (gateway, port) = try await Self.gateway(backendPort: backend.port)
        let body = #"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}"#
        let request = "POST /v2/models/churn/infer HTTP/1.1\r\nHost: gateway\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        var client = try await RawClient(port: port, sending: request)
        var closed = await client.closedByPeer()
        // The gateway rightly closes a connection that sent nothing for the idle timeout (200 ms here), and a test
        // process held up that long between connecting and sending looks exactly like that. Such a try is made again;
        // one whose request reached the backend never is, so a gateway that closed a waiting client still fails.
        for _ in 0..<4 where closed && client.text.isEmpty && backend.requests.isEmpty {
            client = try await RawClient(port: port, sending: request)
            closed = await client.closedByPeer()
        }
        #expect(closed)
        #expect(client.text.hasPrefix("HTTP/1.1 200 OK\r\n") && client.text.contains("X-Slipway-Variant: stable"), "\(client.text)")
        await gateway.stop()
        await backend.stop()
    }

    @Test(arguments: GatewayConnectionTests.modes)
    func aHungBackendIsAnswered504AndItsConnectionClosed(io: Gateway.DataPlaneIO) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-safety-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteMetadataStore(path: folder.appendingPathComponent("metadata.sqlite").path)
        let log = PredictionLog(store: store, logger: Logger(label: "gateway-safety-test"))
        let backend = try await HungBackend()
        // The backend timeout is longer than the client idle timeout: a client waiting for an answer is not idle.
        let (gateway, port) = try await Self.gateway(backendPort: backend.port, timeout: .milliseconds(600), predictions: log, io: io)

        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v2/models/churn/infer")
        request.method = .POST
        request.headers.add(name: "X-Request-Id", value: "hung-1")
        // A new connection per request: the gateway closes idle ones after 200 ms, possibly just as a client reuses one.
        request.headers.add(name: "Connection", value: "close")
        request.body = .bytes(ByteBuffer(string: #"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}"#))
        let (response, text) = try await Self.execute(request) { backend.opened }
        #expect(response.status == .gatewayTimeout)
        #expect(text.contains("did not answer in time"))
        #expect(response.headers.first(name: "X-Request-Id") == "hung-1")

        // The backend got the request, and then its connection was closed.
        #expect(backend.opened == 1 && backend.bytesRead > 0)
        let deadline = ContinuousClock.now + .seconds(10)
        while backend.closed < 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(backend.closed == 1)

        // The next request opens a fresh upstream connection and times out the same way.
        request.headers.replaceOrAdd(name: "X-Request-Id", value: "hung-2")
        #expect(try await Self.execute(request) { backend.opened }.0.status == .gatewayTimeout)
        #expect(backend.opened == 2)

        await gateway.stop()
        await log.close()
        let records = try await store.predictions(endpoint: "churn", since: nil, limit: 100, pageToken: nil).items
        #expect(records.map(\.requestId) == ["hung-1", "hung-2"])
        #expect(records.allSatisfy { $0.status == 504 && $0.variant == "stable" && $0.modelVersion == "churn@1" && $0.prediction == nil })
        #expect(gateway.metrics.snapshot(endpoint: "churn")["stable"]?.errors == 2)
        await backend.stop()
    }

    @Test func manyStalledClientsDoNotStopOthersFromBeingServed() async throws {
        let backend = try await TestBackend(name: "stable")
        let (gateway, port) = try await Self.gateway(backendPort: backend.port)
        var stalled: [RawClient] = []
        for i in 0..<300 { stalled.append(try await RawClient(port: port, sending: Self.stalls[i % Self.stalls.count].1)) }

        let body = #"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}"#
        for _ in 0..<20 {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v2/models/churn/infer")
            request.method = .POST
            request.headers.add(name: "Connection", value: "close")
            request.body = .bytes(ByteBuffer(string: body))
            #expect(try await Self.execute(request) { backend.requests.count }.0.status == .ok)
        }
        #expect(backend.requests.count == 20)

        var kept = 0
        for client in stalled where !(await client.closedByPeer()) { kept += 1 }
        #expect(kept == 0, "\(kept) stalled connections are still open")
        await gateway.stop()
        await backend.stop()
    }

    /// The status lines of the answers in a stream of HTTP/1.1 answers (bodies here never contain "HTTP/1.1 ").
    static func statuses(_ text: String) -> [String] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix { $0 != "\r\n" && $0 != "\r" }) }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let backend = try await TestBackend(name: "stable", delay: .milliseconds(50))
        let (gateway, port) = try await Self.gateway(backendPort: backend.port, idle: .seconds(60))
        let body = #"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}"#
        func infer(_ id: String, close: Bool = false) -> String {
            "POST /v2/models/churn/infer HTTP/1.1\r\nHost: gateway\r\nX-Request-Id: \(id)\r\n" + (close ? "Connection: close\r\n" : "")
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        let client = try await RawClient(
            port: port, sending: infer("first") + "GET /v2/health/live HTTP/1.1\r\nHost: gateway\r\n\r\n" + infer("second")
                + "POST /v2/models/churn/infer HTTP/1.1\r\nHost: gateway\r\nContent-Length: 9\r\n\r\n{not json" + infer("last", close: true))
        #expect(await client.closedByPeer())
        let text = client.text
        #expect(Self.statuses(text) == ["200 OK", "200 OK", "200 OK", "400 Bad Request", "200 OK"], "\(text)")
        let order = ["first", "second", "last"].map { text.range(of: "\"requestId\":\"\($0)\"")?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order[0]! < order[1]! && order[1]! < order[2]!, "\(text)")
        #expect(backend.requests.map(\.requestId) == ["first", "second", "last"])
        await gateway.stop()
        await backend.stop()
    }

    @Test func bytesThatAreNotHTTPAreAnswered400AfterTheRequestsBeforeThem() async throws {
        let backend = try await TestBackend(name: "stable", delay: .milliseconds(50))
        let (gateway, port) = try await Self.gateway(backendPort: backend.port, idle: .seconds(60))
        let body = #"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}"#
        let infer = "POST /v2/models/churn/infer HTTP/1.1\r\nHost: gateway\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let client = try await RawClient(port: port, sending: infer + "NOT HTTP AT ALL\r\n\r\n")
        #expect(await client.closedByPeer())
        #expect(Self.statuses(client.text) == ["200 OK", "400 Bad Request"], "\(client.text)")
        let alone = try await RawClient(port: port, sending: "NOT HTTP AT ALL\r\n\r\n")
        #expect(await alone.closedByPeer())
        #expect(alone.text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(alone.text)")
        await gateway.stop()
        await backend.stop()
    }

    @Test func stoppingLetsRequestsInFlightFinishThenClosesConnections() async throws {
        // The backend takes 90 s, so that stop() begins while the request is in flight even when a busy machine
        // keeps this task from running for tens of seconds; the grace period outlasts it.
        let backend = try await TestBackend(name: "stable", delay: .seconds(90))
        // A long idle timeout: the connection is closed by stop(), not for being idle; the backend timeout outlasts the backend.
        let (gateway, port) = try await Self.gateway(backendPort: backend.port, timeout: .seconds(150), idle: .seconds(60))
        let body = #"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}"#
        let client = try await RawClient(
            port: port, sending: "POST /v2/models/churn/infer HTTP/1.1\r\nHost: gateway\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        // Stop once the request reached the backend, before the backend answers.
        let deadline = ContinuousClock.now + .seconds(10)
        while backend.requests.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        await gateway.stop(gracePeriod: .seconds(120))
        #expect(await client.closedByPeer())
        #expect(client.text.hasPrefix("HTTP/1.1 200 OK\r\n") && client.text.contains("Connection: close"), "\(client.text)")
        await backend.stop()
    }
}
