import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ServiceLifecycle
import SlipwayModels
import SlipwayServer
import Testing

/// The Open Inference Protocol server for built-in models, started for real on 127.0.0.1 with port 0.
@Suite(.endToEnd) struct BuiltinModelServerTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/data/breast-cancer")

    struct Answer {
        var status: Int
        var json: Any?
        var body: Data

        /// The probabilities output, read with JSONDecoder, which parses doubles exactly.
        func probabilities() throws -> [Double]? {
            struct Body: Decodable {
                struct Output: Decodable {
                    var name: String
                    var data: [Double]?

                    enum CodingKeys: String, CodingKey { case name, data }

                    init(from decoder: any Decoder) throws {
                        let container = try decoder.container(keyedBy: CodingKeys.self)
                        name = try container.decode(String.self, forKey: .name)
                        data = try? container.decode([Double].self, forKey: .data)
                    }
                }
                var outputs: [Output]
            }
            return try JSONDecoder().decode(Body.self, from: body).outputs.first { $0.name == "probabilities" }?.data
        }
    }

    /// Trains a small model, serves it, runs `body` with the base URL, then shuts the server down gracefully.
    func withServer(_ body: @Sendable (String, BuiltinModel, HTTPClient) async throws -> Void) async throws {
        let data = try LabeledData.load(csv: Self.examples.appendingPathComponent("train.csv"), target: "target")
        let model = try ModelTrainer.train(.logistic, on: data)
        let (urls, continuation) = AsyncStream.makeStream(of: String.self)
        let app = BuiltinModelServer.application(
            model: model, configuration: .init(name: "cancer", host: "127.0.0.1", port: 0, version: "7", maxBodyBytes: 1 << 20),
            logger: Logger(label: "test.model-server")
        ) { url in
            continuation.yield(url)
        }
        let group = ServiceGroup(services: [app], logger: Logger(label: "test.model-server"))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = urls.makeAsyncIterator()
            guard let url = await iterator.next() else { throw CancellationError() }
            do {
                try await body(url, model, client)
            } catch {
                await group.triggerGracefulShutdown()
                try await client.shutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await client.shutdown()
            try await tasks.waitForAll()
        }
    }

    static func request(_ client: HTTPClient, _ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let data = Data(buffer: bytes)
        return Answer(status: Int(response.status.code), json: try? JSONSerialization.jsonObject(with: data), body: data)
    }

    @Test(.timeLimit(.minutes(20)))
    func healthMetadataAndInference() async throws {
        try await withServer { base, model, client in
            #expect(try await Self.request(client, .GET, base + "/v2/health/live").status == 200)
            #expect(try await Self.request(client, .GET, base + "/v2/health/ready").status == 200)
            #expect(try await Self.request(client, .GET, base + "/v2/models/cancer/ready").status == 200)

            let metadata = try await Self.request(client, .GET, base + "/v2/models/cancer")
            #expect(metadata.status == 200)
            let object = try #require(metadata.json as? [String: Any])
            #expect(object["name"] as? String == "cancer")
            #expect(object["versions"] as? [String] == ["7"])
            #expect(object["platform"] as? String == "slipway")
            let inputs = try #require(object["inputs"] as? [[String: Any]])
            #expect(inputs.first?["shape"] as? [Int] == [-1, 30])
            #expect(inputs.first?["datatype"] as? String == "FP64")

            let test = try LabeledData.load(
                csv: Self.examples.appendingPathComponent("test.csv"), target: "target",
                encoding: FeatureEncoding(columns: model.document.inputColumns))
            let rows = Array(test.features.prefix(5))
            let expected = try model.predict(features: rows)
            let flat = rows.joined().map { "\($0)" }.joined(separator: ",")
            let answer = try await Self.request(
                client, .POST, base + "/v2/models/cancer/infer",
                body: #"{"id": "abc", "inputs": [{"name": "input-0", "shape": [5, 30], "datatype": "FP64", "data": [\#(flat)]}]}"#)
            #expect(answer.status == 200)
            let response = try #require(answer.json as? [String: Any])
            #expect(response["model_name"] as? String == "cancer")
            #expect(response["model_version"] as? String == "7")
            #expect(response["id"] as? String == "abc")
            let outputs = try #require(response["outputs"] as? [[String: Any]])
            #expect(outputs.map { $0["name"] as? String } == ["label", "probabilities"])
            #expect(outputs[0]["data"] as? [Int] == expected.map { Int($0.label)! })
            #expect(outputs[1]["shape"] as? [Int] == [5, 2])
            #expect(try answer.probabilities() == expected.flatMap(\.probabilities))

            // One tensor per named feature, shape [N].
            let perFeature = model.featureNames.enumerated().map { j, name in
                #"{"name": "\#(name)", "shape": [5], "datatype": "FP64", "data": [\#(rows.map { "\($0[j])" }.joined(separator: ","))]}"#
            }.joined(separator: ",")
            let named = try await Self.request(client, .POST, base + "/v2/models/cancer/versions/7/infer", body: #"{"inputs": [\#(perFeature)]}"#)
            #expect(named.status == 200)
            #expect(try named.probabilities() == expected.flatMap(\.probabilities))
        }
    }

    @Test(.timeLimit(.minutes(20)))
    func badRequestsGetV2Errors() async throws {
        try await withServer { base, _, client in
            let infer = base + "/v2/models/cancer/infer"
            let cases: [(String, String?, Int)] = [
                (infer, "{not json", 400),
                (infer, #"{"inputs": [{"name": "f", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}"#, 400),
                (infer, #"{"inputs": [{"name": "f", "shape": [2, 30], "datatype": "FP64", "data": [1]}]}"#, 400),
                (infer, #"{"inputs": "nope"}"#, 400),
                (base + "/v2/models/other/infer", #"{"inputs": []}"#, 404),
                (base + "/v2/models/cancer/versions/8/infer", #"{"inputs": []}"#, 404),
                (infer, "[" + String(repeating: " ", count: 2 << 20) + "]", 413),
            ]
            for (url, body, status) in cases {
                let answer = try await Self.request(client, .POST, url, body: body)
                #expect(answer.status == status, "\(url) \(body?.prefix(60) ?? "")")
                let message = (answer.json as? [String: Any])?["error"] as? String
                #expect(message?.isEmpty == false, "\(url) has no {\"error\"} body")
            }
            let unknown = try await Self.request(client, .GET, base + "/v2/models/other")
            #expect(unknown.status == 404)
            #expect(((unknown.json as? [String: Any])?["error"] as? String)?.contains("'cancer'") == true)
            let noRoute = try await Self.request(client, .GET, base + "/v3/nothing")
            #expect(noRoute.status == 404)
            #expect((noRoute.json as? [String: Any])?["error"] != nil)
        }
    }

    @Test(.timeLimit(.minutes(20)))
    func runWritesTheReadyFileAndStopsOnCancellation() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-serve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try LabeledData.load(csv: Self.examples.appendingPathComponent("train.csv"), target: "target")
        let model = try ModelTrainer.train(.gbdt, on: data, parameters: ["max_iter": "10"])
        let modelDir = directory.appendingPathComponent("cancer-gbdt")
        try model.save(to: modelDir)
        let readyFile = directory.appendingPathComponent("ready.json")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let server = Task {
            // Cancelling (rather than SIGTERM, which `slipway serve-model` tests) makes the server log errors; keep them quiet.
            var logger = Logger(label: "test.model-server")
            logger.logLevel = .critical
            try await BuiltinModelServer.run(modelDir: modelDir, port: 0, readyFile: readyFile, logger: logger)
        }
        var url: String?
        // Generous: on a busy two-core machine the server task can wait a long time for a thread.
        let deadline = ContinuousClock.now + .seconds(120)
        while url == nil && ContinuousClock.now < deadline {
            if let bytes = try? Data(contentsOf: readyFile), let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: String] {
                url = object["url"]
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(url?.hasPrefix("http://127.0.0.1:") == true)
        if let base = url {
            let metadata = try? await Self.request(client, .GET, base + "/v2/models/cancer-gbdt")
            #expect((metadata?.json as? [String: Any])?["name"] as? String == "cancer-gbdt")
        }
        server.cancel()
        _ = await server.result
        try await client.shutdown()
    }
}
