import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SlipwayCore
import Testing

@testable import SlipwayGateway

/// The forwarding path that works on bytes: what the backend receives, every way a backend may frame its
/// answer and malformed answers (on the gateway's own loop and on NIO alike), and request heads it must
/// leave to the full HTTP parser. Real sockets on
/// 127.0.0.1:0, a backend that answers with exactly the bytes it is given.
@Suite(.timeLimit(.minutes(2))) struct GatewayFastPathTests {
    typealias RawClient = GatewaySafetyTests.RawClient

    static let body = #"{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}"#
    static let answer = #"{"model_name":"churn-a","outputs":[{"name":"predict","shape":[1],"datatype":"INT64","data":[1]}]}"#

    static func infer(_ id: String, close: Bool = false, extra: String = "", query: String = "") -> String {
        "POST /v2/models/churn/infer\(query) HTTP/1.1\r\nHost: gateway\r\nX-Request-Id: \(id)\r\n\(extra)" + (close ? "Connection: close\r\n" : "")
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// The answers in a stream of HTTP/1.1 answers, split at their status lines.
    static func answers(_ text: String) -> [String] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0) }
    }

    /// Ways a backend frames a successful answer.
    static let framings: [(String, String)] = [
        (
            "content-length, keep-alive, the gateway's own headers spoofed",
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Slipway-Variant: spoofed\r\nX-Request-Id: spoofed\r\nX-Slipway-Model-Version: spoofed\r\nContent-Length: \(answer.utf8.count)\r\n\r\n\(answer)"
        ),
        (
            "chunked with an extension and a trailer",
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10;x=y\r\n\(answer.prefix(16))\r\n\(String(answer.utf8.count - 16, radix: 16))\r\n\(answer.dropFirst(16))\r\n0\r\nX-Trailer: t\r\n\r\n"
        ),
        ("HTTP/1.0 up to the end of the connection", "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n\(answer)"),
        (
            "an interim 100 Continue first, then connection close",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(answer.utf8.count)\r\n\r\n\(answer)"
        ),
    ]

    @Test(arguments: framings.map(\.0), GatewayConnectionTests.modes)
    func everyFramingOfAnAnswerIsRelayedWithTheGatewaysHeaders(framing: String, io: Gateway.DataPlaneIO) async throws {
        let backend = try await ScriptedBackend(answer: Self.framings.first { $0.0 == framing }!.1)
        let (gateway, port) = try await GatewaySafetyTests.gateway(backendPort: backend.port, idle: .seconds(60), io: io)
        let client = try await RawClient(port: port, sending: Self.infer("one") + Self.infer("two", close: true))
        #expect(await client.closedByPeer())
        let answers = Self.answers(client.text)
        #expect(answers.count == 2, "\(client.text)")
        for (answer, id) in zip(answers, ["one", "two"]) {
            #expect(answer.hasPrefix("200 OK\r\n"), "\(answer)")
            #expect(answer.contains("\r\nX-Request-Id: \(id)\r\n"), "\(answer)")
            #expect(answer.contains("\r\nX-Slipway-Variant: stable\r\n") && answer.contains("\r\nX-Slipway-Model-Version: churn@1\r\n"), "\(answer)")
            #expect(!answer.contains("spoofed") && !answer.contains("Transfer-Encoding") && !answer.contains("Keep-Alive"), "\(answer)")
            #expect(answer.contains("\r\nContent-Length: \(Self.answer.utf8.count)\r\n"), "\(answer)")
            #expect(answer.hasSuffix("\r\n\r\n\(Self.answer)"), "\(answer)")
        }
        #expect(answers.last?.contains("Connection: close") == true)
        #expect(backend.requests.count == 2)
        await gateway.stop()
        await backend.stop()
    }

    @Test func theBackendGetsTheClientsHeadersWithTheRequestLineAndHostRewritten() async throws {
        let backend = try await ScriptedBackend(
            answer: "HTTP/1.1 200 OK\r\nContent-Length: \(Self.answer.utf8.count)\r\n\r\n\(Self.answer)")
        let (gateway, port) = try await GatewaySafetyTests.gateway(backendPort: backend.port, idle: .seconds(60))
        let client = try await RawClient(
            port: port,
            sending: Self.infer("kept-id", extra: "X-Custom: keep me\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\n", query: "?trace=1")
                + "POST /v2/models/churn/infer HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nContent-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)")
        #expect(await client.closedByPeer())
        let requests = backend.requests
        try #require(requests.count == 2, "\(requests)")
        let first = requests[0]
        #expect(first.hasPrefix("POST /v2/models/churn-a/infer?trace=1 HTTP/1.1\r\n"), "\(first)")
        #expect(first.contains("\r\nX-Custom: keep me\r\n"), "\(first)")
        #expect(first.contains("\r\nHost: 127.0.0.1:\(backend.port)\r\n") && !first.contains("Host: gateway"), "\(first)")
        #expect(first.components(separatedBy: "X-Request-Id: ").count == 2 && first.contains("X-Request-Id: kept-id\r\n"), "\(first)")
        #expect(!first.contains("Connection:") && !first.contains("Keep-Alive:"), "\(first)")
        #expect(first.hasSuffix("Content-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"), "\(first)")
        // Without an id of its own, a request gets a new one, sent upstream and returned.
        let second = requests[1]
        let sentId = second.components(separatedBy: "X-Request-Id: ").dropFirst().first?.prefix { $0 != "\r\n" }
        #expect(sentId.map { $0.count > 16 } == true, "\(second)")
        #expect(client.text.contains("X-Request-Id: \(sentId ?? "")\r\n"), "\(client.text)")
        await gateway.stop()
        await backend.stop()
    }

    /// Backend answers that are not usable HTTP.
    static let malformed: [(String, String)] = [
        ("no status line", "SPDY/3 200 OK\r\n\r\n"),
        ("a bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\n{}"),
        ("conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),
        ("a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
        ("a folded header line", "HTTP/1.1 200 OK\r\nX-A: b\r\n folded\r\nContent-Length: 2\r\n\r\n{}"),
        ("closed in the middle of the body", "HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\n{\"outputs\""),
        ("switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"),
    ]

    @Test(arguments: malformed.map(\.0), GatewayConnectionTests.modes)
    func aMalformedAnswerIsA502(kind: String, io: Gateway.DataPlaneIO) async throws {
        let backend = try await ScriptedBackend(answer: Self.malformed.first { $0.0 == kind }!.1, closeAfterAnswer: true)
        let (gateway, port) = try await GatewaySafetyTests.gateway(backendPort: backend.port, idle: .seconds(60), io: io)
        let client = try await RawClient(port: port, sending: Self.infer("bad-\(kind.utf8.count)", close: true))
        #expect(await client.closedByPeer())
        let text = client.text
        #expect(text.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"), "\(text)")
        #expect(text.contains("X-Request-Id: bad-\(kind.utf8.count)\r\n") && text.contains("variant 'stable' failed"), "\(text)")
        #expect(gateway.statistics.errors == 1)
        await gateway.stop()
        await backend.stop()
    }

    /// Request heads the fast path leaves to the full parser, and what the client gets for each.
    static let hostile: [(String, String, String)] = [
        (
            "two different lengths",
            "POST /v2/models/churn/infer HTTP/1.1\r\nHost: g\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}", "400 Bad Request"
        ),
        ("a negative length", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: g\r\nContent-Length: -1\r\n\r\n", "400 Bad Request"),
        ("a blank before the colon", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: g\r\nContent-Length : 2\r\n\r\n{}", "400 Bad Request"),
        (
            "a chunked body", "POST /v2/models/churn/infer HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\n\r\n\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n",
            "200 OK"
        ),
        (
            "a body that is not JSON",
            "POST /v2/models/churn/infer HTTP/1.1\r\nHost: g\r\nContent-Length: 9\r\n\r\n{not json", "400 Bad Request"
        ),
        ("an unknown endpoint", "POST /v2/models/nope/infer HTTP/1.1\r\nHost: g\r\nContent-Length: 2\r\n\r\n{}", "404 Not Found"),
        ("a percent-encoded endpoint", "POST /v2/models/ch%75rn/infer HTTP/1.1\r\nHost: g\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)", "200 OK"),
        ("inference by GET", "GET /v2/models/churn/infer HTTP/1.1\r\nHost: g\r\n\r\n", "405 Method Not Allowed"),
        ("HTTP/1.0", "POST /v2/models/churn/infer HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)", "200 OK"),
    ]

    @Test(arguments: hostile.map(\.0))
    func requestsTheFastPathDoesNotTakeAreAnsweredByTheFullPath(kind: String) async throws {
        let backend = try await ScriptedBackend(
            answer: "HTTP/1.1 200 OK\r\nContent-Length: \(Self.answer.utf8.count)\r\n\r\n\(Self.answer)")
        let (gateway, port) = try await GatewaySafetyTests.gateway(backendPort: backend.port, idle: .seconds(60))
        let (_, bytes, status) = Self.hostile.first { $0.0 == kind }!
        // The same request, then a well-formed one: answered in order when the first leaves the connection usable.
        let client = try await RawClient(port: port, sending: bytes + Self.infer("after", close: true))
        #expect(await client.closedByPeer())
        let text = client.text
        #expect(text.hasPrefix("HTTP/1.1 \(status)\r\n") || text.hasPrefix("HTTP/1.0 \(status)\r\n"), "\(text)")
        if status == "200 OK" {
            #expect(text.contains("X-Request-Id: after\r\n"), "\(text)")
            #expect(backend.requests.count == 2)
            #expect(backend.requests.first?.hasPrefix("POST /v2/models/churn-a/infer HTTP/1.1\r\n") == true, "\(backend.requests)")
        } else {
            #expect(backend.requests.allSatisfy { $0.contains("X-Request-Id: after") }, "\(backend.requests)")
        }
        await gateway.stop()
        await backend.stop()
    }
}

/// A backend that answers every request with the same bytes and keeps the requests it read, as text.
final class ScriptedBackend: Sendable {
    let port: Int
    private let channel: any Channel
    private let seen: NIOLockedValueBox<[String]>

    init(answer: String, closeAfterAnswer: Bool = false) async throws {
        let seen = NIOLockedValueBox<[String]>([])
        self.seen = seen
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(answer: answer, closeAfterAnswer: closeAfterAnswer, seen: seen))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    var requests: [String] { seen.withLockedValue { $0 } }

    func stop() async { try? await channel.close() }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // Unchecked: the buffer is only touched on the channel's event loop.
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answer: String
        let closeAfterAnswer: Bool
        let seen: NIOLockedValueBox<[String]>
        var buffer: [UInt8] = []

        init(answer: String, closeAfterAnswer: Bool, seen: NIOLockedValueBox<[String]>) {
            self.answer = answer
            self.closeAfterAnswer = closeAfterAnswer
            self.seen = seen
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // Bytes, not text: a read may end inside a character, and a body need not be UTF-8 at all.
            buffer += unwrapInboundIn(data).readableBytesView
            // One request: a head, then Content-Length bytes (the gateway always sends one).
            let separator = Array("\r\n\r\n".utf8)
            while let end = buffer.indices.dropLast(3).first(where: { buffer[$0..<$0 + 4].elementsEqual(separator) }).map({ $0 + 4 }) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                let length = head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                let total = end + length
                guard buffer.count >= total else { return }
                let request = String(decoding: buffer[..<total], as: UTF8.self)
                buffer.removeFirst(total)
                seen.withLockedValue { $0.append(request) }
                let closes = closeAfterAnswer || answer.hasPrefix("HTTP/1.0") || answer.contains("Connection: close")
                let written = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)))
                if closes {
                    written.whenComplete { _ in context.close(promise: nil) }
                    return
                }
            }
        }
    }
}
