import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

import SlipwayCore
@testable import SlipwayGateway

/// The data plane end to end: a real gateway on 127.0.0.1:0 in front of real HTTP backends.
@Suite(.timeLimit(.minutes(3))) struct GatewayProxyTests {
    struct Setup {
        let gateway: Gateway
        let port: Int
        let stable: TestBackend
        let canary: TestBackend
        let shadow: TestBackend

        var base: String { "http://127.0.0.1:\(port)" }

        func stop() async {
            await gateway.stop()
            await stable.stop()
            await canary.stop()
            await shadow.stop()
        }
    }

    static func table(
        stable: TestBackend, canary: TestBackend, shadow: TestBackend, weights: [(String, Double)] = [("stable", 80), ("canary", 20)],
        mirrors: [EndpointRoutes.MirrorRule] = [], canaryPort: Int? = nil, maxBody: Int = 1 << 20
    ) throws -> GatewayTable {
        let routes = EndpointRoutes(
            endpoint: "churn", split: try TrafficSplit(weights: weights), headerRoutes: [.init(header: "X-Group", value: "internal", variant: "canary")],
            mirrors: mirrors, deployed: ["stable", "canary", "shadow"])
        let backends: [String: GatewayTable.Backend] = [
            "stable": .init(host: "127.0.0.1", port: stable.port, modelName: "churn-a", modelVersion: "churn@1"),
            "canary": .init(host: "127.0.0.1", port: canaryPort ?? canary.port, modelName: "churn-b", modelVersion: "churn@2"),
            "shadow": .init(host: "127.0.0.1", port: shadow.port, modelName: "churn-c", modelVersion: "churn@3"),
        ]
        return GatewayTable(endpoints: ["churn": .init(routes: routes, backends: backends, maxBodyBytes: maxBody, stableVariant: "stable")])
    }

    static func start(shadowDelay: TimeAmount = .zero) async throws -> Setup {
        let stable = try await TestBackend(name: "stable")
        let canary = try await TestBackend(name: "canary")
        let shadow = try await TestBackend(name: "shadow", delay: shadowDelay)
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .critical
        let gateway = Gateway(table: try table(stable: stable, canary: canary, shadow: shadow), logger: logger)
        let port = try await gateway.start(host: "127.0.0.1", port: 0)
        return Setup(gateway: gateway, port: port, stable: stable, canary: canary, shadow: shadow)
    }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var json: [String: Any]
    }

    static let inferBody = #"{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[1.0,2.0]}]}"#

    static func send(_ url: String, method: HTTPMethod = .POST, body: String? = inferBody, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] ?? [:]
        return Reply(status: Int(response.status.code), headers: response.headers, json: json)
    }

    @Test func routesStickilyAndRewritesToTheBackendsModel() async throws {
        let setup = try await Self.start()
        var seen: [String: String] = [:]
        for user in 0..<60 {
            let reply = try await Self.send(setup.base + "/v2/models/churn/infer", headers: [("X-User-Id", "user-\(user)")])
            #expect(reply.status == 200)
            let variant = try #require(reply.headers.first(name: "X-Slipway-Variant"))
            let expected = setup.gateway.currentTable.endpoints["churn"]!.routes.split.variant(forKey: "user-\(user)", seed: "churn")
            #expect(variant == expected)
            #expect(reply.json["backend"] as? String == variant)
            #expect(reply.json["uri"] as? String == (variant == "stable" ? "/v2/models/churn-a/infer" : "/v2/models/churn-b/infer"))
            #expect(reply.headers.first(name: "X-Slipway-Model-Version") == (variant == "stable" ? "churn@1" : "churn@2"))
            let requestId = try #require(reply.headers.first(name: "X-Request-Id"))
            #expect(reply.json["requestId"] as? String == requestId)
            seen["user-\(user)"] = variant
        }
        #expect(Set(seen.values) == ["stable", "canary"])
        for (user, variant) in seen.prefix(10) {
            let again = try await Self.send(setup.base + "/v2/models/churn/infer", headers: [("X-User-Id", user)])
            #expect(again.headers.first(name: "X-Slipway-Variant") == variant)
        }
        let pinned = try await Self.send(setup.base + "/v2/models/churn/infer", headers: [("X-Slipway-Variant", "shadow"), ("X-Request-Id", "abc")])
        #expect(pinned.headers.first(name: "X-Slipway-Variant") == "shadow" && pinned.headers.first(name: "X-Request-Id") == "abc")
        let internal_ = try await Self.send(setup.base + "/v2/models/churn/infer", headers: [("X-Group", "internal")])
        #expect(internal_.headers.first(name: "X-Slipway-Variant") == "canary")
        let passThrough = try await Self.send(setup.base + "/endpoints/churn/custom/path?x=1", method: .GET, body: nil, headers: [("X-Slipway-Variant", "stable")])
        #expect(passThrough.json["uri"] as? String == "/custom/path?x=1")
        let metadata = try await Self.send(setup.base + "/v2/models/churn", method: .GET, body: nil, headers: [("X-Slipway-Variant", "canary")])
        #expect(metadata.json["uri"] as? String == "/v2/models/churn-b")
        await setup.stop()
    }

    @Test func badRequestsGetV2Errors() async throws {
        let setup = try await Self.start()
        let cases: [(String, HTTPMethod, String?, [(String, String)], Int)] = [
            ("/v2/models/nope/infer", .POST, Self.inferBody, [], 404),
            ("/v2/models/churn/infer", .POST, "{not json", [], 400),
            ("/v2/models/churn/infer", .POST, #"{"outputs":[]}"#, [], 400),
            ("/v2/models/churn/infer", .GET, nil, [], 405),
            ("/v2/models/churn/infer", .POST, Self.inferBody, [("X-Slipway-Variant", "blue")], 400),
            ("/somewhere/else", .GET, nil, [], 404),
            ("/v2/models/churn/infer", .POST, #"{"inputs":[],"pad":""# + String(repeating: "x", count: 1 << 20) + #""}"#, [], 413),
        ]
        for (path, method, body, headers, status) in cases {
            let reply = try await Self.send(setup.base + path, method: method, body: body, headers: headers)
            #expect(reply.status == status, "\(method) \(path)")
            #expect((reply.json["error"] as? String)?.isEmpty == false, "\(method) \(path)")
        }
        #expect(try await Self.send(setup.base + "/v2/health/ready", method: .GET, body: nil).status == 200)
        // Nothing bad reached a backend.
        #expect(setup.stable.requests.isEmpty && setup.canary.requests.isEmpty)
        await setup.stop()
    }

    @Test func aFailedConnectionIsRetriedOnStable() async throws {
        let setup = try await Self.start()
        // Point the canary at a port where nothing listens.
        let closed = try await TestBackend(name: "gone")
        let deadPort = closed.port
        await closed.stop()
        setup.gateway.update(try Self.table(stable: setup.stable, canary: setup.canary, shadow: setup.shadow, canaryPort: deadPort))
        let reply = try await Self.send(setup.base + "/v2/models/churn/infer", headers: [("X-Slipway-Variant", "canary")])
        #expect(reply.status == 200 && reply.headers.first(name: "X-Slipway-Variant") == "stable")
        #expect(setup.gateway.statistics.retries == 1)
        await setup.stop()
    }

    /// The shadow holds every mirrored request for an hour; a primary answer that waited for its mirror would
    /// not come back within the client's 30 s timeout (`send` would throw). The suite runs beside hundreds of other
    /// tests that may starve it for a minute or two, so the time limit is only a backstop.
    @Test(.timeLimit(.minutes(5))) func mirroringNeverDelaysThePrimary() async throws {
        let setup = try await Self.start(shadowDelay: .seconds(3600))
        setup.gateway.update(
            try Self.table(stable: setup.stable, canary: setup.canary, shadow: setup.shadow, weights: [("stable", 100)], mirrors: [.init(variant: "shadow", percent: 100)]))
        for i in 0..<5 {
            let reply = try await Self.send(setup.base + "/v2/models/churn/infer", headers: [("X-User-Id", "u\(i)")])
            #expect(reply.status == 200 && reply.headers.first(name: "X-Slipway-Variant") == "stable")
        }
        let stats = setup.gateway.statistics
        #expect(stats.mirrored + stats.mirrorsDropped == 5 && stats.mirrored >= 1)
        let deadline = ContinuousClock.now + .seconds(10)
        while setup.shadow.requests.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(setup.shadow.requests.allSatisfy(\.mirrored) && !setup.shadow.requests.isEmpty)
        // No mirrored answer has come back, yet every primary answer has. A mirror that a starved test outlived
        // ends at the endpoint's 30 s timeout as a 504, counted as an error: only a successful answer would show
        // that the shadow answered.
        let mirror = setup.gateway.metrics.window(endpoint: "churn", seconds: 600)["shadow"]?.mirror
        #expect((mirror?.answers ?? 0) - (mirror?.errors ?? 0) == 0)
        await setup.gateway.stop(gracePeriod: .zero)
        await setup.stop()
    }

    @Test func swappingTheTableUnderLoadDropsNothing() async throws {
        let setup = try await Self.start()
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var failed = 0
                    for i in 0..<60 {
                        let reply = try await Self.send(setup.base + "/v2/models/churn/infer", headers: [("X-User-Id", "w\(worker)-\(i)")])
                        if reply.status != 200 { failed += 1 }
                    }
                    return failed
                }
            }
            group.addTask {
                for step in 0..<100 {
                    let canary = Double(step % 2 == 0 ? 10 : 90)
                    setup.gateway.update(
                        try Self.table(stable: setup.stable, canary: setup.canary, shadow: setup.shadow, weights: [("stable", 100 - canary), ("canary", canary)]))
                    try await Task.sleep(for: .milliseconds(5))
                }
                return 0
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
        #expect(setup.gateway.statistics.errors == 0)
        await setup.stop()
    }

    /// An endpoint routed by a sticky header alone (no header routes) is routed from what the gateway prepared
    /// per table: every answer names the variant ``EndpointRoutes/route(_:)`` gives the same request, with the
    /// header in any case, pinned, with an empty pin or key, and after the table changes under it.
    @Test(arguments: [Gateway.DataPlaneIO.automatic, .nio]) func stickyHeaderRoutingAgreesWithTheRoutes(io: Gateway.DataPlaneIO) async throws {
        let stable = try await TestBackend(name: "stable")
        let canary = try await TestBackend(name: "canary")
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .critical
        func table(_ weights: [(String, Double)]) throws -> GatewayTable {
            // "retired" has buckets in the split's history but no deployment: the full path answers for it.
            let routes = EndpointRoutes(endpoint: "churn", split: try TrafficSplit(weights: weights), deployed: ["stable", "canary"])
            let backends: [String: GatewayTable.Backend] = [
                "stable": .init(host: "127.0.0.1", port: stable.port, modelName: "churn-a", modelVersion: "churn@1"),
                "canary": .init(host: "127.0.0.1", port: canary.port, modelName: "churn-b", modelVersion: "churn@2"),
            ]
            return GatewayTable(endpoints: ["churn": .init(routes: routes, backends: backends), "other": .init(routes: routes, backends: backends)])
        }
        let gateway = Gateway(table: try table([("stable", 70), ("canary", 30)]), logger: logger, io: io)
        let port = try await gateway.start(host: "127.0.0.1", port: 0)
        let url = "http://127.0.0.1:\(port)/v2/models/churn/infer"
        func check(_ round: Int) async throws -> Set<String> {
            let routes = try #require(gateway.currentTable.endpoints["churn"]).routes
            var seen: Set<String> = []
            for user in 0..<60 {
                let id = "round\(round)-\(user)"
                var headers: [(String, String)] = [("X-Request-Id", id)]
                switch user % 6 {
                case 0: headers.append(("x-user-id", "user-\(user)"))
                case 1: headers.append(("X-USER-ID", "user-\(user)"))
                case 2: headers += [("X-User-Id", "user-\(user)"), ("X-Slipway-Variant", "canary")]
                case 3: headers += [("X-Slipway-Variant", ""), ("X-User-Id", "user-\(user)")]
                case 4: headers.append(("X-User-Id", ""))
                default: break
                }
                let reply = try await Self.send(url, headers: headers)
                let sent = headers
                let lookup: @Sendable (String) -> String? = { name in sent.first { $0.0.lowercased() == name.lowercased() }?.1 }
                let expected = try routes.route(EndpointRoutes.Request(requestId: id, header: lookup))
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "X-Slipway-Variant") == expected.variant, "user \(user): \(headers)")
                #expect(reply.headers.first(name: "X-Request-Id") == id)
                seen.insert(expected.variant)
            }
            return seen
        }
        #expect(try await check(0) == ["stable", "canary"])
        gateway.update(try table([("stable", 100), ("canary", 0)]))
        let pinnedOnly = try await check(1)
        #expect(pinnedOnly == ["stable", "canary"])
        #expect(canary.requests.count >= 10)
        gateway.update(try table([("stable", 10), ("canary", 40), ("retired", 50)]))
        // A request whose bucket belongs to the undeployed variant is answered 503 by the full path, as before.
        var unavailable = 0
        for user in 0..<40 {
            let reply = try await Self.send(url, headers: [("X-User-Id", "user-\(user)")])
            if reply.status == 503 { unavailable += 1 } else { #expect(reply.status == 200) }
        }
        #expect(unavailable > 5)
        await gateway.stop()
        await stable.stop()
        await canary.stop()
    }

    @Test func aCompressedBodyIsPassedThroughUnread() async throws {
        let setup = try await Self.start()
        // Bytes that are not JSON, as a gzip body would be: forwarded as they are, not answered 400.
        var request = HTTPClientRequest(url: setup.base + "/v2/models/churn/infer")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Content-Encoding", value: "gzip")
        request.headers.add(name: "X-Slipway-Variant", value: "stable")
        request.body = .bytes(ByteBuffer(bytes: [0x1F, 0x8B, 0x08, 0x00, 0x7B, 0x22, 0xFF, 0x00]))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        #expect(response.status == .ok)
        #expect(setup.stable.requests.count == 1)
        // Identity is the same as no encoding: the body is checked.
        let identity = try await Self.send(setup.base + "/v2/models/churn/infer", body: "{not json", headers: [("Content-Encoding", "identity")])
        #expect(identity.status == 400)
        await setup.stop()
    }

    @Test func answersV2ServerMetadataAndReadiness() async throws {
        let stable = try await TestBackend(name: "stable")
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .critical
        let gateway = Gateway(logger: logger)
        let port = try await gateway.start(host: "127.0.0.1", port: 0)
        let base = "http://127.0.0.1:\(port)"
        let metadata = try await Self.send(base + "/v2", method: .GET, body: nil)
        #expect(metadata.status == 200)
        #expect(metadata.json["name"] as? String == "slipway")
        #expect((metadata.json["version"] as? String)?.isEmpty == false)
        #expect((metadata.json["extensions"] as? [Any])?.isEmpty == true)
        #expect(try await Self.send(base + "/v2/health/live", method: .GET, body: nil).status == 200)
        #expect(try await Self.send(base + "/v2/health/ready", method: .GET, body: nil).status == 503)
        #expect(!gateway.isReady)
        gateway.update(try Self.table(stable: stable, canary: stable, shadow: stable))
        #expect(gateway.isReady)
        #expect(try await Self.send(base + "/v2/health/ready", method: .GET, body: nil).status == 200)
        await gateway.stop()
        await stable.stop()
    }

    @Test func aJSONFieldIsTheStickyKey() async throws {
        let setup = try await Self.start()
        var table = setup.gateway.currentTable
        table.endpoints["churn"]?.routes.stickyKey = .jsonField("user")
        setup.gateway.update(table)
        let split = table.endpoints["churn"]!.routes.split
        var variants: Set<String> = []
        for user in 0..<40 {
            for body in [
                #"{"user":"u-\#(user)","inputs":[]}"#, #"{"inputs":[],"parameters":{"user":"u-\#(user)"}}"#,
            ] {
                let reply = try await Self.send(setup.base + "/v2/models/churn/infer", body: body)
                #expect(reply.status == 200)
                let variant = reply.headers.first(name: "X-Slipway-Variant")
                #expect(variant == split.variant(forKey: "u-\(user)", seed: "churn"), "\(body)")
                variants.insert(variant ?? "")
            }
        }
        #expect(variants == ["stable", "canary"])
        await setup.stop()
    }
}
