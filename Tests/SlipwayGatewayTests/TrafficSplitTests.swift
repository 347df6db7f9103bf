import Foundation
import Testing

import SlipwayCore
@testable import SlipwayGateway

@Suite struct TrafficSplitTests {
    static let users = (0..<20_000).map { "user-\($0)" }

    func assignment(_ split: TrafficSplit) -> [String] {
        Self.users.map { split.variant(forKey: $0, seed: "churn") }
    }

    @Test func weightsAreHonouredWithinSamplingError() throws {
        let split = try TrafficSplit(weights: [("stable", 90), ("canary", 10)])
        #expect(split.weights == ["stable": 90, "canary": 10])
        let share = Double(assignment(split).filter { $0 == "canary" }.count) / Double(Self.users.count)
        // 20,000 users, p = 0.1: the standard error is about 0.002.
        #expect(abs(share - 0.10) < 0.01)
    }

    @Test func theSameKeyAlwaysLandsOnTheSameVariant() throws {
        let split = try TrafficSplit(weights: [("a", 33.33), ("b", 33.33), ("c", 33.34)])
        #expect(assignment(split) == assignment(split))
        let copy = try JSONDecoder().decode(TrafficSplit.self, from: JSONEncoder().encode(split))
        #expect(copy == split && assignment(copy) == assignment(split))
    }

    @Test func growingACanaryMovesOnlyUsersIntoIt() throws {
        var split = try TrafficSplit(weights: [("stable", 95), ("canary", 5)])
        var previous = assignment(split)
        for step in [25.0, 50, 100] {
            let moved = try split.apply([("stable", 100 - step), ("canary", step)])
            let now = assignment(split)
            for (before, after) in zip(previous, now) where before != after {
                #expect(before == "stable" && after == "canary")
            }
            #expect(zip(previous, now).allSatisfy { $0 == "canary" ? $1 == "canary" : true })
            #expect(moved > 0)
            previous = now
        }
        #expect(split.weights == ["canary": 100])
        // Rolling back sends every user back to stable.
        try split.apply([("stable", 100), ("canary", 0)])
        #expect(assignment(split).allSatisfy { $0 == "stable" })
    }

    @Test func threeWayChangesMoveTheMinimum() throws {
        var split = try TrafficSplit(weights: [("a", 50), ("b", 30), ("c", 20)])
        let before = assignment(split)
        let moved = try split.apply([("a", 40), ("b", 30), ("c", 30)])
        #expect(moved == 1000)
        let after = assignment(split)
        let changed = zip(before, after).filter { $0 != $1 }
        #expect(changed.allSatisfy { $0.0 == "a" && $0.1 == "c" })
        #expect(split.weights == ["a": 40, "b": 30, "c": 30])
        // A new variant takes only what the others give up.
        let before2 = after
        try split.apply([("a", 40), ("b", 20), ("c", 30), ("d", 10)])
        let after2 = assignment(split)
        #expect(zip(before2, after2).filter { $0 != $1 }.allSatisfy { $0.0 == "b" && $0.1 == "d" })
    }

    @Test func randomWeightChangesKeepEveryInvariant() throws {
        var generator = SplitMix(seed: 42)
        var split = TrafficSplit(allTo: "v0")
        func owners(_ split: TrafficSplit) -> [String] { (0..<TrafficSplit.bucketCount).map { split.variant(forBucket: $0) } }
        var previous = owners(split)
        for _ in 0..<200 {
            let count = Int(generator.next() % 4) + 1
            var remaining = 10_000
            var weights: [(String, Double)] = []
            for i in 0..<count {
                let share = i == count - 1 ? remaining : Int(generator.next() % UInt64(remaining + 1))
                weights.append(("v\(Int(generator.next() % 6))\(i)", Double(share) / 100))
                remaining -= share
            }
            guard Set(weights.map(\.0)).count == weights.count else { continue }
            let oldWeights = split.weights
            let moved = try split.apply(weights)
            let now = owners(split)
            for (name, weight) in weights { #expect(abs((split.weights[name] ?? 0) - weight) < 0.011) }
            // The buckets that moved are exactly what the weight changes require.
            var required = 0.0
            for name in Set(oldWeights.keys).union(weights.map(\.0)) {
                let new = weights.first { $0.0 == name }?.1 ?? 0
                required += max((oldWeights[name] ?? 0) - new, 0)
            }
            #expect(abs(Double(moved) - required * 100) <= 2)
            #expect(zip(previous, now).filter { $0 != $1 }.count == moved)
            // Buckets only ever move off a shrinking variant onto a growing one.
            for (before, after) in zip(previous, now) where before != after {
                let newBefore = weights.first { $0.0 == before }?.1 ?? 0
                #expect((oldWeights[before] ?? 0) > newBefore)
            }
            previous = now
        }
    }

    @Test(arguments: [
        [("a", 50.0), ("b", 40.0)], [("a", 101.0), ("b", -1.0)], [("a", 50.0), ("a", 50.0)], [], [("", 100.0)], [("a", .nan), ("b", 100.0)],
        [("a", 33.333), ("b", 66.667)],
    ])
    func badWeightsAreRefusedAndChangeNothing(_ weights: [(String, Double)]) throws {
        var split = try TrafficSplit(weights: [("stable", 90), ("canary", 10)])
        let before = split
        #expect(throws: GenericError.self) { try split.apply(weights) }
        #expect(split == before)
    }

    @Test func hostileStoredTablesAreRejected() {
        for json in [
            #"{"variants":["a"],"ranges":[[0,5000,0]]}"#, #"{"variants":["a"],"ranges":[[0,10000,1]]}"#,
            #"{"variants":[],"ranges":[]}"#, #"{"variants":["a"],"ranges":[[5000,10000,0],[0,5000,0]]}"#,
            #"{"variants":["a"],"ranges":[[0,10001,0]]}"#, #"{"variants":["a"],"ranges":[[0]]}"#,
        ] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(TrafficSplit.self, from: Data(json.utf8)) }
        }
    }

    @Test func bucketsMatchGrowthBooksV2Hash() {
        // hash v2 = fnv1a32(String(fnv1a32(seed + value))) % 10000 / 10000
        for key in ["user-1", "abc", "", "ünï"] {
            let bucket = TrafficSplit.bucket(key: key, seed: "exp")
            #expect((0..<TrafficSplit.bucketCount).contains(bucket))
        }
        #expect(TrafficSplit.bucket(key: "1", seed: "") == TrafficSplit.bucket(key: "", seed: "1"))
    }
}

@Suite struct EndpointRoutesTests {
    func routes(mirrors: [EndpointRoutes.MirrorRule] = []) throws -> EndpointRoutes {
        EndpointRoutes(
            endpoint: "churn", split: try TrafficSplit(weights: [("stable", 80), ("canary", 20)]),
            headerRoutes: [.init(header: "X-Group", value: "internal", variant: "canary")], mirrors: mirrors,
            deployed: ["stable", "canary", "shadow"])
    }

    func request(_ headers: [String: String], id: String = "req-1") -> EndpointRoutes.Request {
        let lowered = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
        return .init(requestId: id, header: { lowered[$0.lowercased()] })
    }

    @Test func precedencePinThenHeaderRouteThenStickySplit() throws {
        let table = try routes()
        let pinned = try table.route(request(["X-Slipway-Variant": "stable", "X-Group": "internal", "X-User-Id": "u1"]))
        #expect(pinned.variant == "stable" && pinned.reason == .pinned)
        let routed = try table.route(request(["X-Group": "internal", "X-User-Id": "u1"]))
        #expect(routed.variant == "canary" && routed.reason == .headerRoute)
        let sticky = try table.route(request(["X-User-Id": "u1"]))
        #expect(sticky.reason == .sticky && sticky.stickyKey == "u1")
        for id in 0..<50 { #expect(try table.route(request(["X-User-Id": "u1"], id: "r\(id)")).variant == sticky.variant) }
        let unkeyed = try table.route(request([:], id: "abc"))
        #expect(unkeyed.reason == .unkeyed && unkeyed.stickyKey == nil)
    }

    @Test func pinningAnUnknownVariantIsAClientError() throws {
        do {
            _ = try routes().route(request(["X-Slipway-Variant": "nope"]))
            Issue.record("expected an error")
        } catch let error as GatewayError {
            #expect(error.kind == .invalidArgument && error.message.contains("canary, shadow, stable"))
        }
    }

    @Test func mirroringSamplesTheRequestedShare() throws {
        let table = try routes(mirrors: [.init(variant: "shadow", percent: 30)])
        var mirrored = 0
        for id in 0..<10_000 where try table.route(request(["X-User-Id": "u\(id)"], id: "req-\(id)")).mirrors == ["shadow"] { mirrored += 1 }
        #expect(abs(Double(mirrored) / 10_000 - 0.30) < 0.02)
        let all = try routes(mirrors: [.init(variant: "shadow", percent: 100), .init(variant: "canary", percent: 100)])
        let decision = try all.route(request(["X-Slipway-Variant": "canary"]))
        #expect(decision.mirrors == ["shadow"])
    }

    @Test func validationNamesWhatIsMissing() throws {
        var table = try routes()
        table.deployed = ["stable"]
        #expect(throws: GatewayError.self) { try table.validate() }
        table.deployed = ["stable", "canary"]
        table.mirrors = [.init(variant: "canary", percent: 120)]
        #expect(throws: GatewayError.self) { try table.validate() }
        table.mirrors = []
        try table.validate()
    }
}

/// A small deterministic generator for property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
