import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import SlipwayGateway
import SlipwayModels
import SlipwayRegistry
import SlipwayRollout
import SlipwayServer
import SlipwayStore
import Synchronization

/// The rollout part of the demo: the rollout controller runs in process next to the supervisor; a retrained
/// model goes through a canary to 100% and takes the `production` alias, and a broken one (trained on
/// flipped diagnoses) is rolled back by the default analysis while traffic flows through the gateway.
extension DemoCommand {
    struct RolloutSummary: Encodable {
        var name: String
        var endpoint: String
        var candidate: String
        var phase: String
        var reason: String
        /// The analysis look that decided (its verdict and numbers).
        var decidedBy: String?
        var candidateWeight: Double
        var weights: [String: Double]
        var production: Int?
        var aliasMoved: Bool
        var requests: Int
        var seconds: Double
        var changes: [String]
    }

    /// A rollout spec with short steps and a default analysis that looks every second with wider margins, so
    /// that a few seconds of the demo's traffic decide (a production rollout looks every minute, pauses between
    /// steps and keeps the default margins: 0.5 points of error rate, 5 points of any class's share).
    static func demoRolloutSpec(name: String, endpoint: String, version: Int, variant: String) -> String {
        """
        apiVersion: slipway.dev/v1alpha1
        kind: Rollout
        metadata:
          name: \(name)
        spec:
          endpoint: \(endpoint)
          candidate:
            model: tumor-classifier
            version: \(version)
            backend: builtin
            variant: \(variant)
          strategy:
            canary:
              steps:
                - setWeight: 20
                - analysis: default
                - setWeight: 50
                - analysis: default
          defaultAnalysis:
            interval: 1s
            count: 60
            minSamples: 200
            sequentialTuning: 2000
            errorRate: {margin: 0.01}
            predictionDrift: {shareMargin: 0.1}
        """
    }

    /// Trains the two candidates and runs both rollouts on endpoint `tumor-rollout` (the controller runs next to the supervisor).
    func rolloutStory(
        services: SlipwayServices, service: RolloutService, supervisor: BackendSupervisor, port: Int, train: LabeledData, test: LabeledData,
        dataURL: URL
    ) async throws -> [RolloutSummary] {
        let registry = services.registry
        let alice = Principal(name: "alice", role: .editor)
        let bob = Principal(name: "bob", role: .approver)
        say("\n== Rollouts: the controller moves traffic and judges each candidate against stable")

        // Two more versions: the same algorithm with stronger regularisation, and a model trained on flipped diagnoses.
        var flipped = train
        flipped.labels = train.labels.map { $0 == "0" ? "1" : "0" }
        var candidates: [Int] = []
        for (data, parameters, note) in [(train, ["C": "0.5"], "retrained with C=0.5"), (flipped, [:], "trained on flipped diagnoses")] {
            let model = try ModelTrainer.train(.logistic, on: data, parameters: parameters)
            let report = try model.evaluate(test)
            let dir = dataURL.appendingPathComponent("models/tumor-v\(3 + candidates.count)")
            try model.save(to: dir)
            let stored = try await services.artifacts.putDirectory(at: dir).object
            var lineage = Lineage(parameters: ["algorithm": "logistic"].merging(parameters) { $1 }, metrics: ["accuracy": report.accuracy])
            lineage.trainingData = [DatasetReference(uri: "examples/data/breast-cancer/train.csv", rows: Int64(data.features.count))]
            lineage.trainedBy = "alice"
            let version = try await registry.createVersion(
                NewVersion(model: "tumor-classifier", lineage: lineage, artifactDigest: stored.digest), by: alice)
            candidates.append(version.version)
            say("\(note): held-out accuracy \(String(format: "%.3f", report.accuracy)); registered \(version.reference)")
        }

        let endpoint = "tumor-rollout"
        _ = try await services.endpoints.create(name: endpoint, initialVariant: "stable", by: alice)
        _ = try await services.endpoints.deploy(
            endpoint: endpoint, variant: "stable", model: "tumor-classifier@1", backend: .builtin, replicas: 1, by: alice)
        _ = try await waitForReplicas(supervisor, endpoint: endpoint, [("stable", 1)])
        try await registry.setAlias("tumor-classifier", alias: "production", version: 1, reason: "serves endpoint \(endpoint)", by: bob)
        say("endpoint \(endpoint): stable = tumor-classifier@1 (logistic); production -> 1")

        let bodies = try test.features.map { features in
            let body: [String: Any] = ["inputs": [["name": "features", "shape": [1, features.count], "datatype": "FP64", "data": features]]]
            return ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))
        }
        let url = "http://127.0.0.1:\(port)/v2/models/\(endpoint)/infer"
        var summaries: [RolloutSummary] = []
        for (name, version, variant) in [("tumor-v\(candidates[0])", candidates[0], "canary"), ("tumor-v\(candidates[1])", candidates[1], "broken")] {
            let yaml = Self.demoRolloutSpec(name: name, endpoint: endpoint, version: version, variant: variant)
            let before = try await registry.alias("tumor-classifier", alias: "production", by: alice).version
            let started = try await service.start(yaml: yaml, file: "\(name).yml", by: alice)
            say("\nalice started rollout \(name): tumor-classifier@\(version) as variant '\(variant)' against '\(started.stableVariant)'")
            say(
                "  setWeight 20 -> analysis: default -> setWeight 50 -> analysis: default -> 100%; "
                    + "the analysis looks every second once each variant has 200 requests (demo margins: 1 point of errors, 10 of class share)")
            let (final, changes, requests, seconds) = try await watch(service, name, url: url, bodies: bodies)
            let after = try await registry.alias("tumor-classifier", alias: "production", by: alice).version
            if final.phase == .healthy {
                say("rollout \(name) is Healthy: \(Self.weights(final.weights)); production moved \(before) -> \(after)")
            } else {
                say("rollout \(name) is \(final.phase.rawValue): \(final.reason)")
                if let look = final.analysis?.metrics.first?.latest.last?.message { say("  why: \(look)") }
                say(
                    "  the candidate's weight is \(final.candidateWeight.formatted(.number))% (\(Self.weights(final.weights))); "
                        + "production stays at \(after)")
            }
            say(String(format: "  %d requests from distinct patients in %.1f s", requests, seconds))
            summaries.append(
                RolloutSummary(
                    name: name, endpoint: endpoint, candidate: final.candidate, phase: final.phase.rawValue, reason: final.reason,
                    decidedBy: final.analysis?.metrics.first?.latest.last?.message,
                    candidateWeight: final.candidateWeight, weights: final.weights, production: after, aliasMoved: after != before,
                    requests: requests, seconds: seconds, changes: changes))
        }
        summaries += try await shadowAndBlueGreen(
            services: services, service: service, url: url, bodies: bodies, train: train, test: test, dataURL: dataURL, endpoint: endpoint)
        let history = try await registry.aliasHistory("tumor-classifier", alias: "production", by: alice)
        say("\nHistory of tumor-classifier@production:")
        if !json { AliasCommand.printHistory(history) }
        return summaries
    }

    /// A shadow test of the gradient-boosted model (v2) against production, stopped at its gate by bob, then a
    /// blue-green switch to a model retrained with C=2 that auto-promotes and takes production.
    func shadowAndBlueGreen(
        services: SlipwayServices, service: RolloutService, url: String, bodies: [ByteBuffer], train: LabeledData, test: LabeledData,
        dataURL: URL, endpoint: String
    ) async throws -> [RolloutSummary] {
        let registry = services.registry
        let alice = Principal(name: "alice", role: .editor)
        let bob = Principal(name: "bob", role: .approver)
        var summaries: [RolloutSummary] = []

        let shadowYAML = """
            name: tumor-shadow
            endpoint: \(endpoint)
            candidate: {model: tumor-classifier, version: 2, backend: builtin, variant: shadow}
            strategy:
              shadow: {percentage: 100, duration: 3s, minAgreement: 0.9}
            defaultAnalysis:
              minSamples: 100
              errorRate: {margin: 0.01}
              predictionDrift: {shareMargin: 0.1}
            """
        _ = try await service.start(yaml: shadowYAML, file: "tumor-shadow.yml", by: alice)
        say("\nalice started shadow test tumor-shadow: every request is copied to tumor-classifier@2 (gbdt) for 3 s; its answers are compared, never returned")
        let shadow = try await watch(service, "tumor-shadow", url: url, bodies: bodies, stopAtGate: true)
        if let report = shadow.status.shadow?.report {
            say(
                String(
                    format: "  shadow report: %@ — %d of %d mirrored answers agree (%.1f%%, minimum %.0f%%); p99 latency %.1f ms vs %.1f ms; errors %.2f%% vs %.2f%%",
                    report.verdict.rawValue, report.agreed, report.compared, (report.agreementRate ?? 0) * 100, report.minAgreement * 100,
                    report.candidateLatencyP99Ms ?? 0, report.stableLatencyP99Ms ?? 0, report.candidateErrorRate * 100, report.stableErrorRate * 100))
        }
        var stopped = shadow.status
        if stopped.phase == .paused {
            stopped = try await service.abort("tumor-shadow", reason: "gbdt disagrees on too many patients to replace the logistic model", by: bob)
            say("bob stopped it at the gate: \(stopped.reason); the mirror is gone (\(Self.weights(stopped.weights)))")
        } else {
            say("rollout tumor-shadow is \(stopped.phase.rawValue): \(stopped.reason); the mirror is gone (\(Self.weights(stopped.weights)))")
        }
        summaries.append(Self.summary(stopped, production: try await registry.alias("tumor-classifier", alias: "production", by: alice).version, aliasMoved: false, requests: shadow.requests, seconds: shadow.seconds, changes: shadow.changes))

        // Blue-green: a retrained model as a preview with no traffic, then one atomic switch.
        let model = try ModelTrainer.train(.logistic, on: train, parameters: ["C": "2"])
        let accuracy = try model.evaluate(test).accuracy
        let dir = dataURL.appendingPathComponent("models/tumor-blue-green")
        try model.save(to: dir)
        let stored = try await services.artifacts.putDirectory(at: dir).object
        var lineage = Lineage(parameters: ["algorithm": "logistic", "C": "2"], metrics: ["accuracy": accuracy])
        lineage.trainedBy = "alice"
        let version = try await registry.createVersion(NewVersion(model: "tumor-classifier", lineage: lineage, artifactDigest: stored.digest), by: alice)
        let before = try await registry.alias("tumor-classifier", alias: "production", by: alice).version
        let blueGreenYAML = """
            name: tumor-blue-green
            endpoint: \(endpoint)
            candidate: {model: tumor-classifier, version: \(version.version), backend: builtin, variant: green}
            strategy:
              blueGreen: {autoPromotionSeconds: 1, scaleDownDelaySeconds: 2}
            """
        _ = try await service.start(yaml: blueGreenYAML, file: "tumor-blue-green.yml", by: alice)
        say(
            String(format: "\nalice started blue-green rollout tumor-blue-green: %@ (C=2, held-out accuracy %.3f) as preview 'green'; ", version.reference, accuracy)
                + "one switch after 1 s, the old side kept 2 s for an instant switch back")
        let blueGreen = try await watch(service, "tumor-blue-green", url: url, bodies: bodies)
        let after = try await registry.alias("tumor-classifier", alias: "production", by: alice).version
        say("rollout tumor-blue-green is \(blueGreen.status.phase.rawValue): \(Self.weights(blueGreen.status.weights)); production moved \(before) -> \(after)")
        say(String(format: "  %d requests in %.1f s through the switch", blueGreen.requests, blueGreen.seconds))
        summaries.append(Self.summary(blueGreen.status, production: after, aliasMoved: after != before, requests: blueGreen.requests, seconds: blueGreen.seconds, changes: blueGreen.changes))
        return summaries
    }

    static func summary(_ status: RolloutStatus, production: Int?, aliasMoved: Bool, requests: Int, seconds: Double, changes: [String]) -> RolloutSummary {
        RolloutSummary(
            name: status.name, endpoint: status.endpoint, candidate: status.candidate, phase: status.phase.rawValue, reason: status.reason,
            decidedBy: status.analysis?.metrics.first?.latest.last?.message, candidateWeight: status.candidateWeight, weights: status.weights,
            production: production, aliasMoved: aliasMoved, requests: requests, seconds: seconds, changes: changes)
    }

    /// Sends the held-out rows through the gateway from distinct users until the rollout ends, and prints
    /// each change of its phase, step, weights or analysis as it happens.
    /// With `stopAtGate`, a rollout that pauses at a gate ends the watch (otherwise a pause is an error).
    func watch(_ service: RolloutService, _ name: String, url: String, bodies: [ByteBuffer], stopAtGate: Bool = false) async throws
        -> (status: RolloutStatus, changes: [String], requests: Int, seconds: Double)
    {
        let viewer = Principal(name: "alice", role: .editor)
        let sent = Counter()
        let done = Counter()
        let json = self.json
        let say: @Sendable (String) -> Void = { if !json { Output.line($0) } }
        let started = ContinuousClock.now
        func elapsed() -> Double {
            let d = started.duration(to: .now)
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        return try await withThrowingTaskGroup(of: (RolloutStatus, [String])?.self) { group in
            for sender in 0..<6 {
                group.addTask {
                    var k = sender
                    while done.value == 0 {
                        let row = k % bodies.count
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "X-User-Id", value: "patient-\(row)-\(k / bodies.count)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(bodies[row])
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        sent.add()
                        k += 6
                    }
                    return nil
                }
            }
            group.addTask {
                defer { done.add() }
                var changes: [String] = []
                var seen: Set<Int64> = []
                var lastWeights = ""
                var lastLook = ""
                let deadline = ContinuousClock.now + .seconds(60)
                while true {
                    let status = try await service.status(name, by: viewer)
                    // Every transition the controller recorded, also those of one pass that went through several steps.
                    for transition in try await service.history(name, by: viewer) where !seen.contains(transition.id) {
                        seen.insert(transition.id)
                        let step = status.stepCount > 0 ? ", step \(transition.step)/\(status.stepCount)" : ""
                        let line = "\(transition.toPhase.rawValue)\(step): \(transition.reason)"
                        changes.append(line)
                        say(String(format: "  %5.1fs  ", transition.at.timeIntervalSince(status.createdAt)) + line)
                    }
                    let weights = Self.weights(status.weights)
                    if weights != lastWeights {
                        say(String(format: "  %5.1fs    ", elapsed()) + "weights: " + weights)
                        lastWeights = weights
                    }
                    if let look = status.analysis?.metrics.first?.latest.last, let message = look.message, message != lastLook {
                        let label = status.analysis?.current == true ? "analysis look: " : "the look that decided: "
                        say(String(format: "  %5.1fs    ", elapsed()) + label + message)
                        lastLook = message
                    }
                    if !status.phase.isRunning || status.phase == .paused { return (status, changes) }
                    guard ContinuousClock.now < deadline else {
                        throw GenericError(
                            .unavailable,
                            "rollout \(name) did not finish within 60 s; it is \(status.phase.rawValue) at step \(status.step): \(status.reason)")
                    }
                    try await Task.sleep(for: .milliseconds(150))
                }
            }
            var result: (RolloutStatus, [String])?
            for try await value in group { if let value { result = value } }
            guard let (status, changes) = result else { throw GenericError(.internal, "rollout \(name) ended without a status") }
            if status.phase == .paused, !stopAtGate {
                throw GenericError(.unavailable, "rollout \(name) paused: \(status.reason)")
            }
            return (status, changes, sent.value, elapsed())
        }
    }

    static func weights(_ weights: [String: Double]) -> String {
        weights.isEmpty ? "no weights" : weights.sorted { $0.key > $1.key }.map { "\($0.key)=\($0.value.formatted(.number))%" }.joined(separator: " ")
    }
}

/// A count shared by the demo's traffic senders and its watcher.
private final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}
