import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import SlipwayStore
import SlipwayStoreSQLite
import Testing

@testable import SlipwayGateway

/// The prediction log end to end: a real gateway in front of real backends that answer like classifiers,
/// logging into a real SQLite store on a temporary file.
@Suite(.timeLimit(.minutes(3))) struct PredictionLogTests {
    /// A binary classifier stand-in: for an input `x` (the first value of the first input) it answers
    /// `high` when `x >= threshold`, else `low`, with the probabilities `[1 - x, x]`.
    static func classifier(threshold: Double) -> TestBackend.Answer {
        { _, body in
            let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
            let x = ((object?["inputs"] as? [[String: Any]])?.first?["data"] as? [Any])?.first as? Double ?? 0
            let label = expectedLabel(x, threshold: threshold)
            return Data(
                #"{"model_name":"m","outputs":[{"name":"label","shape":[1],"datatype":"BYTES","data":["\#(label)"]},{"name":"probabilities","shape":[1,2],"datatype":"FP64","data":[\#(1 - x),\#(x)]}]}"#
                    .utf8)
        }
    }

    static func expectedLabel(_ x: Double, threshold: Double) -> String { x >= threshold ? "high" : "low" }
    static let thresholds = ["stable": 0.5, "canary": 0.3]
    static let versions = ["stable": "churn@1", "canary": "churn@2"]

    static func inputs(_ x: Double) -> String { #"[{"name":"x","shape":[1,1],"datatype":"FP64","data":[\#(x)]}]"# }
    static func body(_ x: Double) -> String { #"{"inputs":\#(inputs(x)),"parameters":{"note":"{[not inputs]}"}}"# }

    struct Fixture {
        let gateway: Gateway
        let log: PredictionLog
        let store: SQLiteMetadataStore
        let folder: URL
        let stable: TestBackend
        let canary: TestBackend
        let port: Int

        var base: String { "http://127.0.0.1:\(port)" }

        /// Stops the gateway, then closes the log: everything answered is in the store afterwards.
        func stop() async {
            await gateway.stop()
            await log.close()
            await stable.stop()
            await canary.stop()
        }

        func removeFolder() { try? FileManager.default.removeItem(at: folder) }

        func logged() async throws -> [PredictionRecord] {
            try await store.predictions(endpoint: "churn", since: nil, limit: 10_000, pageToken: nil).items
        }
    }

    static func start(
        logging: FeatureLogging = .hashed, weights: [(String, Double)] = [("stable", 50), ("canary", 50)],
        mirrors: [EndpointRoutes.MirrorRule] = []
    ) async throws -> Fixture {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-predictions-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try SQLiteMetadataStore(path: folder.appendingPathComponent("metadata.sqlite").path)
        var logger = Logger(label: "prediction-log-test")
        logger.logLevel = .critical
        let log = PredictionLog(store: store, logger: logger)
        let stable = try await TestBackend(name: "stable", answer: classifier(threshold: thresholds["stable"]!))
        let canary = try await TestBackend(name: "canary", answer: classifier(threshold: thresholds["canary"]!))
        let routes = EndpointRoutes(
            endpoint: "churn", split: try TrafficSplit(weights: weights), mirrors: mirrors, deployed: ["stable", "canary", "ghost"])
        let replicas: [String: [GatewayTable.Backend]] = [
            "stable": [.init(host: "127.0.0.1", port: stable.port, modelName: "churn-a", modelVersion: versions["stable"]!)],
            "canary": [.init(host: "127.0.0.1", port: canary.port, modelName: "churn-b", modelVersion: versions["canary"]!)],
        ]
        let table = GatewayTable(endpoints: ["churn": .init(routes: routes, replicas: replicas, stableVariant: "stable", featureLogging: logging)])
        let gateway = Gateway(table: table, logger: logger, predictions: log)
        let port = try await gateway.start(host: "127.0.0.1", port: 0)
        return Fixture(gateway: gateway, log: log, store: store, folder: folder, stable: stable, canary: canary, port: port)
    }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
    }

    static func send(
        _ url: String, method: HTTPMethod = .POST, body: ByteBuffer?, contentType: String = "application/json", headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(body)
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers)
    }

    static func expectedFeatures(_ text: String, extra: [UInt8] = [], logging: FeatureLogging) -> String? {
        switch logging {
        case .off: nil
        case .full: text
        case .hashed: Digest(of: Array(text.utf8) + extra).hex
        }
    }

    @Test(arguments: FeatureLogging.allCases)
    func everyAnsweredRequestIsLogged(logging: FeatureLogging) async throws {
        let fixture = try await Self.start(logging: logging)
        defer { fixture.removeFolder() }
        let url = fixture.base + "/v2/models/churn/infer"

        // Inferences split between stable and canary by user.
        var inferences: [String: (x: Double, user: String, variant: String)] = [:]
        var idsInOrder: [String] = []
        for i in 0..<40 {
            let x = (Double(i) + 0.5) / 40
            let reply = try await Self.send(url, body: ByteBuffer(string: Self.body(x)), headers: [("X-User-Id", "user-\(i)")])
            #expect(reply.status == 200)
            let id = try #require(reply.headers.first(name: "X-Request-Id"))
            inferences[id] = (x, "user-\(i)", try #require(reply.headers.first(name: "X-Slipway-Variant")))
            idsInOrder.append(id)
        }
        // Ids the gateway makes start with the time, so they sort in arrival order (the log's request index grows at its end).
        #expect(idsInOrder.allSatisfy { $0.utf8.count == 28 && UInt64($0.prefix(12), radix: 16) != nil }, "\(idsInOrder)")
        #expect(idsInOrder.map { $0.prefix(12) } == idsInOrder.map { $0.prefix(12) }.sorted(), "\(idsInOrder)")
        #expect(Set(inferences.values.map(\.variant)) == ["stable", "canary"])

        // A request with Triton's binary tensor extension: only its JSON header is text.
        let header = #"{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP64","parameters":{"binary_data_size":8}}]}"#
        let tensor: [UInt8] = [0, 0, 0, 0, 0, 0, 0xF0, 0x3F]
        var binaryBody = ByteBuffer(string: header)
        binaryBody.writeBytes(tensor)
        let binary = try await Self.send(
            url, body: binaryBody, contentType: "application/octet-stream",
            headers: [("Inference-Header-Content-Length", String(header.utf8.count)), ("X-Slipway-Variant", "stable"), ("X-Request-Id", "binary-1")])
        #expect(binary.status == 200)

        // Answers the gateway gives itself for a known endpoint, one it gives for an unknown one, and a pass-through.
        let refused: [(String, HTTPMethod, String?, [(String, String)], Int, String)] = [
            ("/v2/models/churn/infer", .GET, nil, [("X-Request-Id", "get-1")], 405, ""),
            ("/v2/models/churn/infer", .POST, #"{"outputs":[]}"#, [("X-Request-Id", "bad-1")], 400, ""),
            ("/v2/models/churn/infer", .POST, Self.body(0.9), [("X-Request-Id", "blue-1"), ("X-Slipway-Variant", "blue")], 400, ""),
            ("/v2/models/churn/infer", .POST, Self.body(0.9), [("X-Request-Id", "ghost-1"), ("X-Slipway-Variant", "ghost")], 503, "ghost"),
            ("/v2/models/nope/infer", .POST, Self.body(0.9), [("X-Request-Id", "nope-1")], 404, ""),
            ("/endpoints/churn/custom?x=1", .GET, nil, [("X-Request-Id", "pass-1"), ("X-Slipway-Variant", "canary")], 200, "canary"),
        ]
        for (path, method, body, headers, status, _) in refused {
            let reply = try await Self.send(fixture.base + path, method: method, body: body.map { ByteBuffer(string: $0) }, headers: headers)
            #expect(reply.status == status, "\(method) \(path)")
        }

        await fixture.stop()
        let records = try await fixture.logged()
        let byId = Dictionary(grouping: records, by: \.requestId)
        #expect(records.count == inferences.count + 1 + refused.count - 1)
        #expect(records.allSatisfy { $0.kind == .primary && $0.endpoint == "churn" && $0.latencyMs >= 0 })

        for (id, sent) in inferences {
            let record = try #require(byId[id]?.first, "request \(id) is not in the log")
            #expect(record.variant == sent.variant)
            #expect(record.modelVersion == Self.versions[sent.variant])
            #expect(record.stickyKey == sent.user)
            #expect(record.status == 200)
            #expect(record.prediction == Self.expectedLabel(sent.x, threshold: Self.thresholds[sent.variant]!))
            let confidence = try #require(record.confidence)
            #expect(abs(confidence - max(sent.x, 1 - sent.x)) < 1e-9)
            #expect(record.features == Self.expectedFeatures(Self.inputs(sent.x), logging: logging))
        }

        let binaryRecord = try #require(byId["binary-1"]?.first)
        #expect(binaryRecord.variant == "stable" && binaryRecord.status == 200 && binaryRecord.prediction == "low")
        let headerInputs = #"[{"name":"x","shape":[1,1],"datatype":"FP64","parameters":{"binary_data_size":8}}]"#
        #expect(binaryRecord.features == Self.expectedFeatures(headerInputs, extra: tensor, logging: logging))

        for (_, _, _, headers, status, variant) in refused {
            let id = headers[0].1
            if status == 404 {
                #expect(byId[id] == nil, "an unknown endpoint's request was logged")
                continue
            }
            let record = try #require(byId[id]?.first, "request \(id) is not in the log")
            #expect(record.status == status && record.variant == variant && record.prediction == nil && record.confidence == nil, "\(id)")
            // Features are read once a request is routed: the ghost variant's request got that far.
            #expect(record.features == (id == "ghost-1" ? Self.expectedFeatures(Self.inputs(0.9), logging: logging) : nil), "\(id)")
        }
        #expect(byId["pass-1"]?.first?.modelVersion == "churn@2")
    }

    @Test func healthAndReadinessProbesAreAnsweredButNotLoggedAsPredictions() async throws {
        let fixture = try await Self.start()
        defer { fixture.removeFolder() }
        let probes = ["/v2/health/live", "/v2/health/ready", "/v2/models/churn/ready", "/v2/models/churn/ready?verbose=1"]
        for (index, path) in probes.enumerated() {
            let reply = try await Self.send(fixture.base + path, method: .GET, body: nil, headers: [("X-Request-Id", "probe-\(index)")])
            #expect(reply.status == 200, "\(path)")
        }
        // An inference after the probes is logged, so the log was written when the probes' records would have been.
        let reply = try await Self.send(
            fixture.base + "/v2/models/churn/infer", body: ByteBuffer(string: Self.body(0.7)), headers: [("X-Request-Id", "infer-1")])
        #expect(reply.status == 200)
        await fixture.stop()
        let records = try await fixture.logged()
        #expect(records.map(\.requestId) == ["infer-1"], "\(records.map(\.requestId))")
    }

    @Test func mirroredAnswersAreLoggedUnderThePrimarysRequestIdAndCompared() async throws {
        let fixture = try await Self.start(weights: [("stable", 100)], mirrors: [.init(variant: "canary", percent: 100)])
        defer { fixture.removeFolder() }
        var sent: [String: Double] = [:]
        for i in 0..<20 {
            let x = (Double(i) + 0.5) / 20
            let reply = try await Self.send(fixture.base + "/v2/models/churn/infer", body: ByteBuffer(string: Self.body(x)))
            #expect(reply.status == 200 && reply.headers.first(name: "X-Slipway-Variant") == "stable")
            sent[try #require(reply.headers.first(name: "X-Request-Id"))] = x
            // One copy at a time: wait until the mirrored answer is back so that none is dropped.
            let deadline = ContinuousClock.now + .seconds(10)
            while (fixture.gateway.metrics.window(endpoint: "churn", seconds: 60)["canary"]?.mirror?.answers ?? 0) < i + 1,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        #expect(fixture.gateway.statistics.mirrorsDropped == 0)

        // Labels differ where 0.3 <= x < 0.5.
        let disagreements = sent.values.filter { Self.expectedLabel($0, threshold: 0.3) != Self.expectedLabel($0, threshold: 0.5) }.count
        #expect(disagreements == 4)
        let window = try #require(fixture.gateway.metrics.window(endpoint: "churn", seconds: 60)["canary"])
        let mirror = try #require(window.mirror)
        #expect(window.requests == 0)
        #expect(mirror.sent == 20 && mirror.answers == 20 && mirror.errors == 0)
        #expect(mirror.compared == 20 && mirror.agreed == 20 - disagreements)
        #expect(mirror.agreementRate == Double(20 - disagreements) / 20)
        #expect(mirror.predictions.values.reduce(0, +) == 20)

        // The copies went out with their own request ids, marked as mirrored.
        #expect(fixture.canary.requests.count == 20 && fixture.canary.requests.allSatisfy(\.mirrored))
        #expect(Set(fixture.canary.requests.compactMap(\.requestId)).isDisjoint(with: sent.keys))

        await fixture.stop()
        let records = try await fixture.logged()
        let mirrored = records.filter { $0.kind == .mirror }
        let primary = records.filter { $0.kind == .primary }
        #expect(primary.count == 20 && mirrored.count == 20)
        for record in mirrored {
            let x = try #require(sent[record.requestId], "a mirror record has a request id no client got")
            #expect(record.variant == "canary" && record.modelVersion == "churn@2" && record.status == 200)
            #expect(record.prediction == Self.expectedLabel(x, threshold: 0.3))
            let twin = try #require(primary.first { $0.requestId == record.requestId })
            #expect(twin.variant == "stable" && twin.prediction == Self.expectedLabel(x, threshold: 0.5))
            #expect(record.features == twin.features && record.features != nil)
        }
    }

    @Test func windowedMetricsCountPredictionsPerClass() async throws {
        let fixture = try await Self.start(weights: [("stable", 100)])
        defer { fixture.removeFolder() }
        var expected: [String: Int] = [:]
        let firstSent = ContinuousClock.now
        for i in 0..<30 {
            let x = (Double(i) + 0.5) / 30
            #expect(try await Self.send(fixture.base + "/v2/models/churn/infer", body: ByteBuffer(string: Self.body(x))).status == 200)
            expected[Self.expectedLabel(x, threshold: 0.5), default: 0] += 1
        }
        #expect(expected == ["low": 15, "high": 15])
        let window = try #require(fixture.gateway.metrics.window(endpoint: "churn", seconds: 300)["stable"])
        #expect(window.seconds == 300 && window.requests == 30 && window.errors == 0 && window.errorRate == 0)
        #expect(window.predictions == expected)
        #expect(window.latencyP50Ms > 0 && window.latencyP50Ms <= window.latencyP99Ms)
        #expect(window.mirror == nil)

        let totals = try #require(fixture.gateway.metrics.snapshot(endpoint: "churn")["stable"])
        #expect(totals.requests == 30 && totals.predictions == expected)
        #expect(totals.window?.seconds == 60)
        // The snapshot's window is the last minute: it holds every answer unless a starved test took nearly that long
        // to send them, and then it holds no more than were sent.
        if ContinuousClock.now - firstSent < .seconds(50) {
            #expect(totals.window?.predictions == expected)
        } else {
            let counted = totals.window?.predictions ?? [:]
            #expect(counted.allSatisfy { label, count in count <= expected[label, default: 0] })
        }

        fixture.gateway.metrics.recordFeedback(endpoint: "churn", variant: "stable", outcome: 1, correct: true)
        fixture.gateway.metrics.recordFeedback(endpoint: "churn", variant: "stable", outcome: 0, correct: false)
        fixture.gateway.metrics.recordFeedback(endpoint: "churn", variant: "stable", outcome: nil, correct: true)
        let outcomes = try #require(fixture.gateway.metrics.window(endpoint: "churn", seconds: 60)["stable"]?.outcomes)
        #expect(outcomes == OutcomeStatistics(count: 2, sum: 1, sumOfSquares: 1, correct: 2, incorrect: 1))
        #expect(outcomes.mean == 0.5 && outcomes.accuracy == 2.0 / 3)
        let after = try #require(fixture.gateway.metrics.snapshot(endpoint: "churn")["stable"])
        #expect(after.outcomeCount == 2 && after.outcomeMean == 0.5)

        let text = fixture.gateway.metrics.prometheus(weights: [:])
        #expect(text.contains(#"slipway_predictions_total{endpoint="churn",variant="stable",prediction="high"} 15"#))
        #expect(text.contains(#"slipway_predictions_total{endpoint="churn",variant="stable",prediction="low"} 15"#))
        #expect(text.contains("slipway_prediction_log_dropped_total 0"))
        #expect(text.contains(#"slipway_requests_total{endpoint="churn",variant="stable"} 30"#))
        await fixture.stop()
    }

    @Test func closeFlushesEverythingAndAFullBufferDrops() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-predictions-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteMetadataStore(path: folder.appendingPathComponent("metadata.sqlite").path)
        let logger = Logger(label: "prediction-log-test")

        // Batches of 1,000 every hour: only close() writes the last 500.
        let log = PredictionLog(store: store, logger: logger, batchSize: 1_000, interval: .seconds(3600))
        for i in 0..<2_500 { log.record(Self.record(i)) }
        await log.close()
        #expect(log.dropped == 0 && log.pending == 0)
        let page = try await store.predictions(endpoint: "churn", since: nil, limit: 10_000, pageToken: nil)
        #expect(page.items.map(\.requestId) == (0..<2_500).map { "r\($0)" })
        log.record(Self.record(9_999))
        #expect(log.dropped == 1)

        // A buffer of 100 that nothing drains keeps the first 100 and counts the rest.
        let small = PredictionLog(store: store, logger: logger, capacity: 100, batchSize: 1_000, interval: .seconds(3600))
        for i in 3_000..<3_150 { small.record(Self.record(i)) }
        #expect(small.dropped == 50 && small.pending == 100)
        await small.close()
        let all = try await store.predictions(endpoint: "churn", since: nil, limit: 10_000, pageToken: nil).items
        #expect(all.count == 2_600 && all.suffix(100).map(\.requestId) == (3_000..<3_100).map { "r\($0)" })
    }

    /// The niceness of a thread of this process (field 19 of its `stat`), or nil when it is gone.
    static func niceness(ofThread task: String) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    /// The ids of this process's threads with a name.
    static func threads(named name: String) -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == name
        }
    }

    @Test func theWriterRunsBelowTheThreadsThatAnswerRequests() async throws {
        try await Self.withFailingStore(failures: 0) { store, logger in
            let before = Set(Self.threads(named: "slipway-predlog"))
            let log = PredictionLog(store: store, logger: logger, batchSize: 10, interval: .milliseconds(10))
            // The writer names itself and sets its niceness as it starts; other tests' writers may start meanwhile.
            var writers: [String] = []
            for _ in 0..<200 where writers.isEmpty {
                try await Task.sleep(for: .milliseconds(10))
                writers = Self.threads(named: "slipway-predlog").filter { !before.contains($0) }
            }
            let process = try #require(Self.niceness(ofThread: String(getpid())))
            let expected = min(19, process + Int(PredictionLog.writerNiceness))
            #expect(!writers.isEmpty, "no thread named slipway-predlog started")
            for writer in writers {
                // A writer that has named itself but not yet lowered itself is seen again a moment later.
                var nice = Self.niceness(ofThread: writer)
                for _ in 0..<100 where nice != nil && nice != expected {
                    try await Task.sleep(for: .milliseconds(10))
                    nice = Self.niceness(ofThread: writer)
                }
                #expect(nice == nil || nice == expected, "writer \(writer) runs at \(nice.map(String.init) ?? "?"), the process at \(process)")
            }
            for i in 0..<20 { log.record(Self.record(i)) }
            await log.close()
            #expect(try await store.predictions(endpoint: "churn", since: nil, limit: 100, pageToken: nil).items.count == 20)
        }
    }

    /// Runs `body` with a real store in a folder of its own whose first `failures` appends fail, and a quiet logger.
    static func withFailingStore(failures: Int, _ body: (FailingFirst, Logger) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-predictions-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = FailingFirst(failures: failures, store: try SQLiteMetadataStore(path: folder.appendingPathComponent("metadata.sqlite").path))
        var logger = Logger(label: "prediction-log-test")
        logger.logLevel = .critical
        try await body(store, logger)
    }

    @Test func aFailingStoreKeepsTheBatchAndRetries() async throws {
        try await Self.withFailingStore(failures: 3) { store, logger in
            let log = PredictionLog(store: store, logger: logger, batchSize: 10, interval: .milliseconds(10))
            for i in 0..<35 { log.record(Self.record(i)) }
            await log.close()
            #expect(store.attempts > 3 && log.dropped == 0)
            let logged = try await store.predictions(endpoint: "churn", since: nil, limit: 100, pageToken: nil).items
            #expect(Set(logged.map(\.requestId)) == Set((0..<35).map { "r\($0)" }) && logged.count == 35)
        }
    }

    /// Features hashed by the writer stay with their own record when a backlog is written in several batches
    /// and a failed batch goes back in front of what came after it.
    @Test func hashedFeaturesStayWithTheirRecordsThroughBacklogsAndRetries() async throws {
        try await Self.withFailingStore(failures: 4) { store, logger in
            let log = PredictionLog(store: store, logger: logger, batchSize: 7, interval: .milliseconds(5))
            func bytes(_ i: Int) -> [UInt8] { Array("{\"inputs\":[\(i)]}".utf8) }
            // Every third record's features are hashed by the writer; the others carry none or their own text.
            for i in 0..<200 {
                var record = Self.record(i)
                if i % 3 == 0 {
                    log.record(record, hashing: bytes(i))
                } else {
                    if i % 3 == 1 { record.features = "plain-\(i)" }
                    log.record(record)
                }
                if i % 40 == 0 { try await Task.sleep(for: .milliseconds(15)) }
            }
            await log.close()
            #expect(store.attempts > 4 && log.dropped == 0)
            let logged = try await store.predictions(endpoint: "churn", since: nil, limit: 1_000, pageToken: nil).items
            #expect(logged.count == 200)
            for record in logged {
                let i = try #require(Int(record.requestId.dropFirst()))
                switch i % 3 {
                case 0:
                    var hasher = DigestHasher()
                    bytes(i).withUnsafeBytes { hasher.update(bytes: $0) }
                    #expect(record.features == hasher.finalize().hex, "record \(i)")
                case 1: #expect(record.features == "plain-\(i)")
                default: #expect(record.features == nil)
                }
            }
        }
    }

    static func record(_ i: Int) -> PredictionRecord {
        PredictionRecord(
            requestId: "r\(i)", timestamp: Date(), endpoint: "churn", variant: "stable", modelVersion: "churn@1", prediction: "low", latencyMs: 1,
            status: 200)
    }
}

/// A real store whose first appends fail, as a database that is briefly unavailable would.
final class FailingFirst: PredictionStore {
    let failures: Int
    let store: SQLiteMetadataStore
    private let count = NIOLockedValueBox(0)

    init(failures: Int, store: SQLiteMetadataStore) {
        self.failures = failures
        self.store = store
    }

    var attempts: Int { count.withLockedValue { $0 } }

    func appendPredictions(_ records: [PredictionRecord]) async throws {
        let attempt = count.withLockedValue { count in
            count += 1
            return count
        }
        if attempt <= failures { throw StoreError(.unavailable, "the database is locked") }
        try await store.appendPredictions(records)
    }

    func attachFeedback(endpoint: String, requestId: String, feedback: Feedback) async throws -> PredictionRecord {
        try await store.attachFeedback(endpoint: endpoint, requestId: requestId, feedback: feedback)
    }

    func predictions(endpoint: String, since: Date?, limit: Int, pageToken: String?) async throws -> Page<PredictionRecord> {
        try await store.predictions(endpoint: endpoint, since: since, limit: limit, pageToken: pageToken)
    }
}
