import Foundation
import NIOCore
import Testing

@testable import SlipwayGateway

/// How client connections are carried, on both ways of serving them (the gateway's own `epoll` threads,
/// which hand connections they do not serve to NIO, and NIO alone): connections that mix forwarded and
/// handed-over requests, answers larger than a socket buffer, keep-alive connections a backend closed
/// while idle, and many connections at once. Real sockets on 127.0.0.1:0.
@Suite(.timeLimit(.minutes(2))) struct GatewayConnectionTests {
    typealias RawClient = GatewaySafetyTests.RawClient
    static let modes: [Gateway.DataPlaneIO] = [.automatic, .nio]

    static func okAnswer(_ body: String) -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    @Test(arguments: modes)
    func forwardedAndHandedOverRequestsShareAConnectionInOrder(io: Gateway.DataPlaneIO) async throws {
        let backend = try await ScriptedBackend(answer: Self.okAnswer(GatewayFastPathTests.answer))
        let (gateway, port) = try await GatewaySafetyTests.gateway(backendPort: backend.port, idle: .seconds(60), io: io)
        let health = "GET /v2/health/ready HTTP/1.1\r\nHost: gateway\r\n\r\n"
        let client = try await RawClient(
            port: port, sending: GatewayFastPathTests.infer("one") + health + GatewayFastPathTests.infer("two") + health
                + GatewayFastPathTests.infer("three", close: true))
        #expect(await client.closedByPeer())
        let answers = GatewayFastPathTests.answers(client.text)
        #expect(answers.count == 5, "\(client.text)")
        for (index, id) in [(0, "one"), (2, "two"), (4, "three")] where index < answers.count {
            #expect(answers[index].hasPrefix("200 OK\r\n") && answers[index].contains("\r\nX-Request-Id: \(id)\r\n"), "\(answers[index])")
            #expect(answers[index].hasSuffix(GatewayFastPathTests.answer), "\(answers[index])")
        }
        for index in [1, 3] where index < answers.count {
            #expect(answers[index].hasPrefix("200 OK\r\n") && !answers[index].contains("X-Slipway-Variant"), "\(answers[index])")
        }
        #expect(backend.requests.count == 3)
        #expect(gateway.localAddress?.port == port)
        await gateway.stop()
        #expect(gateway.localAddress == nil)
        await backend.stop()
    }

    @Test(arguments: modes)
    func answersLargerThanASocketBufferArriveWholeAndInOrder(io: Gateway.DataPlaneIO) async throws {
        // 6 MiB of JSON: more than loopback's socket buffers take at once, so the gateway writes in parts.
        let big = #"{"model_name":"churn-a","outputs":[{"name":"blob","shape":[1],"datatype":"BYTES","data":[""#
            + String(repeating: "x", count: 6 << 20) + #""]}]}"#
        let backend = try await ScriptedBackend(answer: Self.okAnswer(big))
        let (gateway, port) = try await GatewaySafetyTests.gateway(backendPort: backend.port, idle: .seconds(60), io: io)
        let client = try await RawClient(
            port: port, sending: GatewayFastPathTests.infer("first") + GatewayFastPathTests.infer("second", close: true))
        #expect(await client.closedByPeer(within: .seconds(60)))
        let answers = GatewayFastPathTests.answers(client.text)
        #expect(answers.count == 2)
        for (answer, id) in zip(answers, ["first", "second"]) {
            #expect(answer.contains("\r\nX-Request-Id: \(id)\r\n"))
            #expect(answer.contains("\r\nContent-Length: \(big.utf8.count)\r\n"))
            #expect(answer.hasSuffix("\r\n\r\n" + big), "an answer of \(answer.utf8.count) bytes is not the backend's")
        }
        await gateway.stop()
        await backend.stop()
    }

    @Test(arguments: modes)
    func aKeepAliveConnectionTheBackendClosedWhileIdleIsNotUsedAgain(io: Gateway.DataPlaneIO) async throws {
        // The backend says nothing about closing, then closes each connection after its answer.
        let backend = try await ScriptedBackend(answer: Self.okAnswer(GatewayFastPathTests.answer), closeAfterAnswer: true)
        let (gateway, port) = try await GatewaySafetyTests.gateway(backendPort: backend.port, idle: .seconds(60), io: io)
        for round in 0..<6 {
            let client = try await RawClient(port: port, sending: GatewayFastPathTests.infer("r\(round)", close: true))
            #expect(await client.closedByPeer())
            #expect(client.text.hasPrefix("HTTP/1.1 200 OK\r\n") && client.text.contains("X-Request-Id: r\(round)\r\n"), "round \(round): \(client.text)")
            // Time for the backend's close to reach the gateway before the next request.
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(backend.requests.count == 6)
        await gateway.stop()
        await backend.stop()
    }

    @Test(arguments: modes)
    func manyConnectionsAtOnceAreAllAnsweredAndStoppingClosesThem(io: Gateway.DataPlaneIO) async throws {
        let backend = try await ScriptedBackend(answer: Self.okAnswer(GatewayFastPathTests.answer))
        let (gateway, port) = try await GatewaySafetyTests.gateway(backendPort: backend.port, idle: .seconds(60), io: io)
        let clients = try await withThrowingTaskGroup(of: RawClient.self) { group in
            for connection in 0..<100 {
                group.addTask {
                    // Four requests pipelined, the connection left open after them.
                    let requests = (0..<4).map { GatewayFastPathTests.infer("c\(connection)-\($0)") }.joined()
                    return try await RawClient(port: port, sending: requests)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // Every connection gets its four answers, in order.
        let deadline = ContinuousClock.now + .seconds(60)
        while clients.contains(where: { GatewayFastPathTests.answers($0.text).count < 4 }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        for client in clients {
            let answers = GatewayFastPathTests.answers(client.text)
            #expect(answers.count == 4, "\(client.text.prefix(300))")
            let ids = answers.compactMap { answer in
                answer.components(separatedBy: "\r\n").first { $0.hasPrefix("X-Request-Id: ") }.map { String($0.dropFirst(14)) }
            }
            #expect(ids.count == 4 && ids.allSatisfy { $0.hasSuffix("-\(ids.firstIndex(of: $0)!)") }, "\(ids)")
        }
        #expect(backend.requests.count == 400)
        #expect(gateway.statistics.requests == 400)
        // Stopping closes the keep-alive connections left open.
        await gateway.stop(gracePeriod: .seconds(5))
        for client in clients { #expect(await client.closedByPeer(within: .seconds(10))) }
        await backend.stop()
    }

    /// Corrupts a valid request: flipped, inserted or deleted bytes, a cut, or a duplicated part.
    static func mutate(_ bytes: [UInt8], using generator: inout some RandomNumberGenerator) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<5, using: &generator) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &generator)
            case 1: bytes.insert(contentsOf: [13, 10, 58, 32, 0, 255, 37].shuffled(using: &generator).prefix(3), at: at)
            case 2: bytes.remove(at: at)
            case 3: bytes = Array(bytes[..<at])
            default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 40)], at: at)
            }
        }
        return bytes
    }

    @Test(arguments: modes)
    func corruptedRequestsGetAnAnswerOrAClosedConnectionAndTheGatewayKeepsServing(io: Gateway.DataPlaneIO) async throws {
        let backend = try await ScriptedBackend(answer: Self.okAnswer(GatewayFastPathTests.answer))
        let (gateway, port) = try await GatewaySafetyTests.gateway(backendPort: backend.port, idle: .milliseconds(300), io: io)
        let valid = Array((GatewayFastPathTests.infer("fuzz") + GatewayFastPathTests.infer("fuzz-2", close: true)).utf8)
        var generator = SystemRandomNumberGenerator()
        let inputs = (0..<240).map { _ in Self.mutate(valid, using: &generator) }
        for batch in stride(from: 0, to: inputs.count, by: 60) {
            let clients = try await withThrowingTaskGroup(of: (Int, RawClient).self) { group in
                for index in batch..<min(batch + 60, inputs.count) {
                    let text = String(decoding: inputs[index], as: UTF8.self)
                    group.addTask { (index, try await RawClient(port: port, sending: text)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (index, client) in clients {
                let input = String(decoding: inputs[index], as: UTF8.self).debugDescription
                #expect(await client.closedByPeer(within: .seconds(30)), "the gateway kept a connection open after \(input)")
                let text = client.text
                #expect(text.isEmpty || text.hasPrefix("HTTP/1.1 ") || text.hasPrefix("HTTP/1.0 "), "\(input) got \(text.prefix(200).debugDescription)")
                #expect(!text.contains(" 500 "), "\(input) got \(text.prefix(300).debugDescription)")
            }
        }
        // Still serving, with nothing left in flight.
        let after = try await RawClient(port: port, sending: GatewayFastPathTests.infer("after", close: true))
        #expect(await after.closedByPeer())
        #expect(after.text.hasPrefix("HTTP/1.1 200 OK\r\n") && after.text.contains("X-Request-Id: after\r\n"), "\(after.text)")
        await gateway.stop(gracePeriod: .seconds(5))
        await backend.stop()
    }
}
