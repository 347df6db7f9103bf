import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import SlipwayCore
import SlipwayGateway
import SlipwayModels
import SlipwayRegistry
import SlipwayRollout
import SlipwayServer
import SlipwayStats
import SlipwayStore
import SlipwayStoreSQLite

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
        var predictionsLogged: Int
        var feedbackAttached: Int
        var data: DataSummary
    }

    /// Waits until the supervisor has the given number of ready replicas per variant.
    func waitForReplicas(_ supervisor: BackendSupervisor, endpoint: String, _ wanted: [(String, Int)]) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let status = supervisor.status(endpoint: endpoint) ?? [:]
            if wanted.allSatisfy({ status[$0.0]?.readyReplicas == $0.1 }) {
                return wanted.map { variant, _ in
                    let pids = status[variant]?.replicas.compactMap(\.pid).map(String.init).joined(separator: ", ") ?? ""
                    return "\(variant) pid \(pids)"
                }.joined(separator: "; ")
            }
            if let problem = status.values.compactMap(\.problem).first { throw GenericError(.unavailable, "a model server cannot start: \(problem)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw GenericError(.unavailable, "the built-in model servers did not become ready in 120 s; see the logs under runtime/logs in the data folder")
    }

    /// Waits until the prediction log holds `count` records of an endpoint (it writes every 100 ms).
    func waitForLog(_ store: any MetadataStore, endpoint: String, count: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        var logged = 0
        while ContinuousClock.now < deadline {
            logged = 0
            var token: String?
            repeat {
                let page = try await store.predictions(endpoint: endpoint, since: nil, limit: 10_000, pageToken: token)
                logged += page.items.count
                token = page.nextPageToken
            } while token != nil
            if logged >= count { return logged }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw GenericError(.internal, "the prediction log holds \(logged) of \(count) answers after 30 s")
    }

    func deliveryStory(services: SlipwayServices, dataURL: URL, examples: URL, logger: Logger) async throws
        -> (delivery: DeliverySummary, rollouts: [RolloutSummary])
    {
        let registry = services.registry
        let alice = Principal(name: "alice", role: .editor)
        let bob = Principal(name: "bob", role: .approver)
        let data = examples.appendingPathComponent("data/breast-cancer")
        let train = try LabeledData.load(csv: data.appendingPathComponent("train.csv"), target: "target")
        let test = try LabeledData.load(csv: data.appendingPathComponent("test.csv"), target: "target", encoding: train.encoding)

        let (dataSummary, trainingData) = try await dataStory(services: services, dataURL: dataURL, examples: examples)

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
            lineage.trainingData = [trainingData]
            lineage.trainedBy = "alice"
            let version = try await registry.createVersion(
                NewVersion(model: "tumor-classifier", lineage: lineage, artifactDigest: stored.digest), by: alice)
            say("trained \(algorithm.rawValue) on \(train.features.count) rows: held-out accuracy \(String(format: "%.3f", report.accuracy)); registered \(version.reference)")
        }

        // The server's data plane, in process: the prediction log, the gateway, and the supervisor that runs
        // each variant's built-in model server as child processes on free ports.
        let quiet = Logger(label: "slipway.demo.quiet", factory: { _ in SwiftLogNoOpLogHandler() })
        let log = PredictionLog(store: services.metadata, logger: quiet)
        let gateway = GatewayService(store: services.metadata, logger: quiet, predictions: log)
        let supervisor = BackendSupervisor(
            store: services.metadata, artifacts: services.artifacts, configuration: .init(dataDir: dataURL), logger: quiet,
            onChange: { await gateway.replicasChanged() })
        gateway.attach(supervisor)
        services.endpointChanges.add { await gateway.reload() }
        services.endpointChanges.add { supervisor.reconcile() }
        // The rollout controller of `slipway server`, on the same gateway.
        let rollouts = RolloutService.make(services, gateway: gateway)
        let controller = RolloutController(service: rollouts, tick: .milliseconds(100), logger: quiet)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await supervisor.run() }
            group.addTask { try await controller.run() }
            let port = try await gateway.gateway.start(host: "127.0.0.1", port: 0)
            defer { group.cancelAll() }
            let endpoints = services.endpoints
            _ = try await endpoints.create(name: "tumor", initialVariant: "stable", by: alice)
            _ = try await endpoints.deploy(endpoint: "tumor", variant: "stable", model: "tumor-classifier@1", backend: .builtin, replicas: 2, by: alice)
            _ = try await endpoints.deploy(endpoint: "tumor", variant: "canary", model: "tumor-classifier@2", backend: .builtin, replicas: 1, by: alice)
            let replicas = try await waitForReplicas(supervisor, endpoint: "tumor", [("stable", 2), ("canary", 1)])
            say("supervised built-in model servers are ready: \(replicas)")
            _ = try await endpoints.setWeights("tumor", [("stable", 90), ("canary", 10)], by: bob)
            say("endpoint tumor: stable = v1 (logistic, 2 replicas), canary = v2 (gbdt), weights stable=90 canary=10, sticky on X-User-Id")

            let url = "http://127.0.0.1:\(port)/v2/models/tumor/infer"
            func sendAll() async throws -> [(variant: String, correct: Bool, requestId: String, truth: String)] {
                var answers: [(String, Bool, String, String)] = []
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
                        let requestId = response.headers.first(name: "X-Request-Id"),
                        let object = try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any],
                        let outputs = object["outputs"] as? [[String: Any]],
                        let label = (outputs.first { $0["name"] as? String == "label" }?["data"] as? [Any])?.first
                    else { throw GenericError(.internal, "the gateway answered \(response.status.code) for row \(row)") }
                    answers.append((variant, "\(label)" == test.labels[row], requestId, test.labels[row]))
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

            func rate(_ variant: String, _ answers: [(variant: String, correct: Bool, requestId: String, truth: String)]) throws -> Proportion {
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

            // The prediction log holds every answer; the true diagnoses come back later as feedback.
            let answered = first.count + again.count + grown.count
            let logged = try await waitForLog(services.metadata, endpoint: "tumor", count: answered)
            var attached = 0
            for answer in first + again + grown {
                let record = try await endpoints.feedback(
                    endpoint: "tumor", FeedbackItem(requestId: answer.requestId, groundTruth: answer.truth), by: alice)
                gateway.gateway.metrics.recordFeedback(of: record)
                attached += 1
            }
            say("prediction log: \(logged) answers recorded (variant, model version, hashed features, prediction, confidence, latency); ground truth attached to \(attached)")
            if let store = services.metadata as? SQLiteMetadataStore {
                say("  kept in checksummed segment files, appended once per batch: \(store.predictionLogFolder)/")
            }
            let window = gateway.gateway.metrics.window(endpoint: "tumor", seconds: 600)
            for (variant, stats) in window.sorted(by: { $0.key > $1.key }) {
                let classes = stats.predictions.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                say(String(
                    format: "  %@ in the last 10 minutes: predicted {%@}; accuracy from feedback %.3f over %d answers", variant, classes,
                    stats.outcomes.accuracy ?? .nan, stats.outcomes.correct + stats.outcomes.incorrect))
            }
            say("export it: slipway predictions export tumor --format csv --data-dir \(dataURL.path)")

            let rolloutSummaries = try await rolloutStory(
                services: services, service: rollouts, supervisor: supervisor, port: port, train: train, test: test, dataURL: dataURL)
            await gateway.gateway.stop()
            await log.close()
            let delivery = DeliverySummary(
                endpoint: "tumor", requests: first.count + again.count + grown.count, servedBy: servedBy, stickyAcrossRequests: sticky,
                movedWhenCanaryGrew: moved.count, movedOnlyIntoCanary: onlyIntoCanary,
                accuracy: ["stable": control.successes / control.trials, "canary": treatment.successes / treatment.trials], pValue: result.pValue,
                liftAbsolute: result.liftAbsolute, predictionsLogged: logged, feedbackAttached: attached, data: dataSummary)
            return (delivery, rolloutSummaries)
        }
    }
}
