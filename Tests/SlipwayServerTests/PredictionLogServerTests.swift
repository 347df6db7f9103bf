import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ServiceLifecycle
import SlipwayCore
import SlipwayModels
import SlipwayServer
import SlipwayStore
import SlipwayStoreSQLite
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The prediction log of a real `slipway server` child process in front of a real built-in model server.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct PredictionLogServerTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/data/breast-cancer")

    /// Trains a small classifier and serves it on 127.0.0.1:0 for the length of `body`.
    func withModelServer(_ body: @Sendable (String, [[Double]]) async throws -> Void) async throws {
        let data = try LabeledData.load(csv: Self.examples.appendingPathComponent("train.csv"), target: "target")
        let model = try ModelTrainer.train(.logistic, on: data)
        let rows = try LabeledData.load(
            csv: Self.examples.appendingPathComponent("test.csv"), target: "target", encoding: FeatureEncoding(columns: model.document.inputColumns)
        ).features
        let (urls, continuation) = AsyncStream.makeStream(of: String.self)
        var logger = Logger(label: "test.model-server")
        logger.logLevel = .warning
        let app = BuiltinModelServer.application(
            model: model, configuration: .init(name: "cancer", host: "127.0.0.1", port: 0, version: "1"), logger: logger
        ) { url in
            continuation.yield(url)
        }
        let group = ServiceGroup(services: [app], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = urls.makeAsyncIterator()
            guard let url = await iterator.next() else { throw CancellationError() }
            do {
                try await body(url, rows)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// The gateway URL the server wrote into its ready file.
    static func gatewayURL(of server: ServerProcess) throws -> String {
        let files = try FileManager.default.contentsOfDirectory(at: server.folder, includingPropertiesForKeys: nil)
        for file in files where file.lastPathComponent.hasPrefix("ready-") {
            if let object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: String], let gateway = object["gateway"] {
                return gateway
            }
        }
        throw TestFailure("the ready file names no gateway")
    }

    static func inputs(_ row: [Double]) -> String {
        #"[{"name":"features","shape":[1,\#(row.count)],"datatype":"FP64","data":[\#(row.map { "\($0)" }.joined(separator: ","))]}]"#
    }

    struct Answered: Sendable {
        var status: Int
        var row: Int
        var modelVersion: String?
    }

    /// One inference through the gateway. The client keeps retrying a refused connection until `timeout`,
    /// so the load after a shutdown uses a short one.
    static func infer(_ gateway: String, row: [Double], user: String, timeout: TimeAmount = .seconds(30)) async throws -> (String?, Int, String?) {
        var request = HTTPClientRequest(url: gateway + "/v2/models/cancer-api/infer")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-User-Id", value: user)
        request.body = .bytes(ByteBuffer(string: #"{"inputs":\#(inputs(row))}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        _ = try await response.body.collect(upTo: 1 << 20)
        return (response.headers.first(name: "X-Request-Id"), Int(response.status.code), response.headers.first(name: "X-Slipway-Model-Version"))
    }

    /// Registers `cancer@1`, creates endpoint `cancer-api` (full feature logging) serving it from `modelURL`, and returns
    /// the gateway's URL.
    static func deployCancer(on server: ServerProcess, modelURL: String) async throws -> String {
        let admin = server.adminToken
        #expect(try await server.call(.POST, "/api/v1/models", token: admin, json: #"{"name": "cancer"}"#).status == 201)
        #expect(
            try await server.call(
                .POST, "/api/v1/models/cancer/versions", token: admin, json: #"{"description": "logistic", "source": "file:///models/cancer"}"#
            ).status == 201)
        let created = try await server.call(.POST, "/api/v1/endpoints", token: admin, json: #"{"name": "cancer-api", "featureLogging": "full"}"#)
        #expect(created.status == 201, "\(created.text)")
        let deployed = try await server.call(
            .PUT, "/api/v1/endpoints/cancer-api/deployments/stable", token: admin,
            json: #"{"model": "cancer@1", "backend": {"kind": "url", "url": "\#(modelURL)/v2/models/cancer"}}"#)
        #expect(deployed.status == 200, "\(deployed.text)")
        return try gatewayURL(of: server)
    }

    /// Every record of `cancer-api` in the store, by request id, checking that no request is logged twice.
    static func logged(in store: SQLiteMetadataStore) async throws -> [String: PredictionRecord] {
        var logged: [String: PredictionRecord] = [:]
        var token: String?
        repeat {
            let page = try await store.predictions(endpoint: "cancer-api", since: nil, limit: 1_000, pageToken: token)
            for record in page.items {
                #expect(logged[record.requestId] == nil, "request \(record.requestId) is logged twice")
                logged[record.requestId] = record
            }
            token = page.nextPageToken
        } while token != nil
        return logged
    }

    @Test func killingTheServerKeepsEveryWrittenRecordAndTheLogOpensWhole() async throws {
        try await withModelServer { modelURL, rows in
            let server = try await ServerProcess(label: "prediction-log-kill")
            defer { server.cleanUp() }
            let gateway = try await Self.deployCancer(on: server, modelURL: modelURL)
            let path = server.dataDir.appendingPathComponent("metadata.sqlite").path

            // Some answers, then wait (reading the running server's log from this process) until the log has them all.
            var first: Set<String> = []
            for i in 0..<100 {
                let (id, status, _) = try await Self.infer(gateway, row: rows[i % rows.count], user: "early-\(i)")
                #expect(status == 200)
                if let id { first.insert(id) }
            }
            let reader = try SQLiteMetadataStore(path: path)
            let deadline = ContinuousClock.now + .seconds(90)
            var seen = try await Self.logged(in: reader)
            while !first.isSubset(of: seen.keys), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                seen = try await Self.logged(in: reader)
            }
            #expect(first.isSubset(of: seen.keys), "\(first.subtracting(seen.keys).count) of 100 answered requests never reached the log")

            // Load from four clients; SIGKILL while requests are in flight and the log is writing.
            let pid = server.process.processIdentifier
            let answered = NIOLockedValueBox<Set<String>>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        for i in 0..<5_000 {
                            guard
                                let (id, _, _) = try? await Self.infer(
                                    gateway, row: rows[(worker * 31 + i) % rows.count], user: "late-\(worker)-\(i)", timeout: .seconds(3))
                            else { return }
                            guard let id else { continue }
                            if answered.withLockedValue({ $0.insert(id); return $0.count }) == 300 { kill(pid, SIGKILL) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await server.stop() == SIGKILL, "the server was killed, not stopped")

            // The log opens whole: every record written before the kill is there once, and nothing it holds was made up.
            let store = try SQLiteMetadataStore(path: path)
            let logged = try await Self.logged(in: store)
            #expect(first.isSubset(of: logged.keys))
            // Requests in flight at the kill (at most one per client) may be logged without their answer reaching the client.
            let late = answered.withLockedValue { $0 }
            #expect(logged.count <= first.count + late.count + 4, "the log holds requests nobody sent")
            for record in logged.values {
                #expect(record.endpoint == "cancer-api" && record.variant == "stable" && record.modelVersion == "cancer@1")
                #expect(record.features?.hasPrefix(#"[{"name":"features""#) == true, "a record reads back whole")
            }
            // And it takes new records after the ones that survived.
            let extra = PredictionRecord(
                requestId: "after-the-kill", timestamp: Timestamp.now(), endpoint: "cancer-api", variant: "stable", modelVersion: "cancer@1",
                latencyMs: 1, status: 200)
            try await store.appendPredictions([extra])
            #expect(try await Self.logged(in: store)["after-the-kill"] == extra)
        }
    }

    @Test func everyRequestAnsweredBeforeAGracefulShutdownIsInTheLog() async throws {
        try await withModelServer { modelURL, rows in
            let server = try await ServerProcess(label: "prediction-log")
            defer { server.cleanUp() }
            let admin = server.adminToken
            let gateway = try await Self.deployCancer(on: server, modelURL: modelURL)

            let answered = NIOLockedValueBox<[String: Answered]>([:])
            // A few requests one after the other, then the live metrics as the API shows them.
            for i in 0..<10 {
                let (id, status, version) = try await Self.infer(gateway, row: rows[i % rows.count], user: "warm-\(i)")
                #expect(status == 200)
                if let id { answered.withLockedValue { $0[id] = Answered(status: status, row: i % rows.count, modelVersion: version) } }
            }
            let status = try await server.call(.GET, "/api/v1/endpoints/cancer-api", token: admin)
            #expect(status.status == 200)
            let document = try OpenAPI()
            let shown = try JSONDecoder().decode(JSONValue.self, from: status.body)
            let problems = document.violations(of: shown, against: .object(["$ref": .string("#/components/schemas/EndpointStatus")]))
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
            let live = try #require(shown["live"]?["stable"])
            #expect(live["requests"]?.number == 10)
            #expect(live["predictions"]?.object?.values.compactMap(\.number).reduce(0, +) == 10)
            #expect(live["window"]?["requests"]?.number == 10 && live["window"]?["seconds"]?.number == 60)

            // Load from four clients; SIGTERM once 200 answers are in, while requests are still in flight.
            let pid = server.process.processIdentifier
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        for i in 0..<5_000 {
                            let row = (worker * 31 + i) % rows.count
                            guard
                                let (id, status, version) = try? await Self.infer(
                                    gateway, row: rows[row], user: "user-\(worker)-\(i)", timeout: .seconds(3))
                            else { return }
                            guard let id else { continue }
                            let count = answered.withLockedValue { answered in
                                answered[id] = Answered(status: status, row: row, modelVersion: version)
                                return answered.count
                            }
                            if count == 210 { kill(pid, SIGTERM) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await server.stop() == 0)

            let sent = answered.withLockedValue { $0 }
            #expect(sent.count >= 210)
            let store = try SQLiteMetadataStore(path: server.dataDir.appendingPathComponent("metadata.sqlite").path)
            let logged = try await Self.logged(in: store)
            let missing = sent.keys.filter { logged[$0] == nil }
            #expect(missing.isEmpty, "\(missing.count) of \(sent.count) answered requests are not in the log")
            for (id, answer) in sent {
                guard let record = logged[id] else { continue }
                #expect(record.status == answer.status && record.kind == .primary && record.variant == "stable")
                #expect(record.modelVersion == answer.modelVersion && record.modelVersion == "cancer@1")
                #expect(record.features == Self.inputs(rows[answer.row]))
                if answer.status == 200 {
                    #expect(record.prediction == "0" || record.prediction == "1")
                    #expect((0.5...1).contains(record.confidence ?? -1))
                }
            }
        }
    }
}
