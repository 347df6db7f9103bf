import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import SlipwayCore
import SlipwayGateway
import SlipwayModels
import SlipwayRegistry
import SlipwayServer
import SlipwayStats
import SlipwayStore

/// The delivery half of the demo: train two built-in models, register them, serve each with the
/// built-in model server, put the gateway in front, split traffic with sticky users, grow the canary,
/// and judge the two variants with a two-proportion test on real held-out answers.
extension DemoCommand {
    struct DeliverySummary: Encodable {
        var endpoint: String
        var requests: Int
        var servedBy: [String: Int]
        var stickyAcrossRequests: Bool
        var movedWhenCanaryGrew: Int
        var movedOnlyIntoCanary: Bool
        var accuracy: [String: Double]
        var pValue: Double
        var liftAbsolute: Double
    }

    func deliveryStory(services: SlipwayServices, dataURL: URL, examples: URL, logger: Logger) async throws -> DeliverySummary {
        let registry = services.registry
        let alice = Principal(name: "alice", role: .editor)
        let bob = Principal(name: "bob", role: .approver)
        let data = examples.appendingPathComponent("data/breast-cancer")
        let train = try LabeledData.load(csv: data.appendingPathComponent("train.csv"), target: "target")
        let test = try LabeledData.load(csv: data.appendingPathComponent("test.csv"), target: "target", encoding: train.encoding)

        say("\n== Delivery: two built-in models behind the gateway")
        _ = try await registry.createModel(NewModel(name: "tumor-classifier", description: "Breast cancer (Wisconsin) diagnosis"), by: alice)
        var modelDirs: [URL] = []
        for (index, algorithm) in [Algorithm.logistic, .gbdt].enumerated() {
            let model = try ModelTrainer.train(algorithm, on: train)
            let report = try model.evaluate(test)
            let dir = dataURL.appendingPathComponent("models/tumor-v\(index + 1)")
            try model.save(to: dir)
            modelDirs.append(dir)
            let stored = try await services.artifacts.putDirectory(at: dir).object
            var lineage = Lineage(parameters: ["algorithm": algorithm.rawValue], metrics: ["accuracy": report.accuracy])
            lineage.trainingData = [DatasetReference(uri: "examples/data/breast-cancer/train.csv", rows: Int64(train.features.count))]
            lineage.trainedBy = "alice"
            let version = try await registry.createVersion(
                NewVersion(model: "tumor-classifier", lineage: lineage, artifactDigest: stored.digest), by: alice)
            say("trained \(algorithm.rawValue) on \(train.features.count) rows: held-out accuracy \(String(format: "%.3f", report.accuracy)); registered \(version.reference)")
        }

        // Serve each version with the built-in V2 model server, and run the gateway, all on free ports.
        let quiet = Logger(label: "slipway.demo.quiet", factory: { _ in SwiftLogNoOpLogHandler() })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            var backends: [String] = []
            for (index, dir) in modelDirs.enumerated() {
                let (urls, continuation) = AsyncStream.makeStream(of: String.self)
                let model = try BuiltinModel.load(from: dir)
                let app = BuiltinModelServer.application(
                    model: model, configuration: .init(name: "tumor-v\(index + 1)", port: 0, version: String(index + 1)), logger: quiet
                ) { url in continuation.yield(url) }
                group.addTask { try await app.runService(gracefulShutdownSignals: []) }
                var iterator = urls.makeAsyncIterator()
                guard let url = await iterator.next() else { throw GenericError(.unavailable, "a model server did not start") }
                backends.append(url)
            }
            let gateway = GatewayService(store: services.metadata, logger: quiet)
            services.endpointChanges.add { await gateway.reload() }
            let port = try await gateway.gateway.start(host: "127.0.0.1", port: 0)
            defer { group.cancelAll() }
            let endpoints = services.endpoints
            _ = try await endpoints.create(name: "tumor", initialVariant: "stable", by: alice)
            _ = try await endpoints.deploy(
                endpoint: "tumor", variant: "stable", model: "tumor-classifier@1", backend: .url(backends[0] + "/v2/models/tumor-v1", modelName: nil),
                by: alice)
            _ = try await endpoints.deploy(
                endpoint: "tumor", variant: "canary", model: "tumor-classifier@2", backend: .url(backends[1] + "/v2/models/tumor-v2", modelName: nil),
                by: alice)
            _ = try await endpoints.setWeights("tumor", [("stable", 90), ("canary", 10)], by: bob)
            say("endpoint tumor: stable = v1 (logistic), canary = v2 (gbdt), weights stable=90 canary=10, sticky on X-User-Id")

            let url = "http://127.0.0.1:\(port)/v2/models/tumor/infer"
            func sendAll() async throws -> [(variant: String, correct: Bool)] {
                var answers: [(String, Bool)] = []
                for (row, features) in test.features.enumerated() {
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers.add(name: "X-User-Id", value: "patient-\(row)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    let body: [String: Any] = ["inputs": [["name": "features", "shape": [1, features.count], "datatype": "FP64", "data": features]]]
                    request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                    let buffer = try await response.body.collect(upTo: 1 << 20)
                    guard response.status == .ok, let variant = response.headers.first(name: "X-Slipway-Variant"),
                        let object = try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any],
                        let outputs = object["outputs"] as? [[String: Any]],
                        let label = (outputs.first { $0["name"] as? String == "label" }?["data"] as? [Any])?.first
                    else { throw GenericError(.internal, "the gateway answered \(response.status.code) for row \(row)") }
                    answers.append((variant, "\(label)" == test.labels[row]))
                }
                return answers
            }
            let first = try await sendAll()
            let again = try await sendAll()
            let sticky = zip(first, again).allSatisfy { $0.variant == $1.variant }
            var servedBy: [String: Int] = [:]
            for answer in first { servedBy[answer.variant, default: 0] += 1 }
            say("\(first.count) patients sent through the gateway: \(servedBy.sorted { $0.key > $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); every patient kept their variant on a second pass: \(sticky)")

            _ = try await endpoints.setWeights("tumor", [("stable", 50), ("canary", 50)], by: bob)
            let grown = try await sendAll()
            let moved = zip(first, grown).filter { $0.variant != $1.variant }
            let onlyIntoCanary = moved.allSatisfy { $0.variant == "stable" && $1.variant == "canary" }
            say("canary grown to 50%: \(moved.count) patients moved, all of them from stable into canary: \(onlyIntoCanary)")

            func rate(_ variant: String, _ answers: [(variant: String, correct: Bool)]) throws -> Proportion {
                let mine = answers.filter { $0.variant == variant }
                return try Proportion(successes: Double(mine.filter(\.correct).count), trials: Double(mine.count))
            }
            let pooled = first + grown
            let control = try rate("stable", pooled)
            let treatment = try rate("canary", pooled)
            let result = try twoProportionZTest(control: control, treatment: treatment)
            say(String(
                format: "correct diagnoses: stable %.3f (n=%.0f), canary %.3f (n=%.0f); lift %+.3f, two-proportion z-test p = %.3f",
                control.successes / control.trials, control.trials, treatment.successes / treatment.trials, treatment.trials,
                result.liftAbsolute, result.pValue))
            let live = gateway.gateway.metrics.snapshot(endpoint: "tumor")
            for (variant, metrics) in live.sorted(by: { $0.key > $1.key }) {
                say(String(format: "  %@: %d requests, %d errors, p50 %.2f ms, p99 %.2f ms", variant, metrics.requests, metrics.errors, metrics.latencyP50Ms, metrics.latencyP99Ms))
            }
            await gateway.gateway.stop()
            return DeliverySummary(
                endpoint: "tumor", requests: first.count + again.count + grown.count, servedBy: servedBy, stickyAcrossRequests: sticky,
                movedWhenCanaryGrew: moved.count, movedOnlyIntoCanary: onlyIntoCanary,
                accuracy: ["stable": control.successes / control.trials, "canary": treatment.successes / treatment.trials], pValue: result.pValue,
                liftAbsolute: result.liftAbsolute)
        }
    }
}
