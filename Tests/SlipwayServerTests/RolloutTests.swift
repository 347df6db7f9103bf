import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import SlipwayRollout
import SlipwayServer
import SlipwayStore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Canary rollouts end to end: a real `slipway server` child with built-in (and command) backends, traffic
/// sent through its gateway, the controller moving weights, judging, rolling back and surviving `kill -9`.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct RolloutTests {
    /// A server with model `cancer` (versions 1 and 2, the same training), endpoint `tumor` serving
    /// `cancer@1` on a built-in backend as its stable variant.
    static func prepare(_ label: String) async throws -> ServerProcess {
        let server = try await ServerProcess(label: label)
        let cli = SupervisorTests.CLI(server: server)
        try await cli.trainAndRegister(model: "cancer", versions: 2)
        try await cli.run(["endpoints", "create", "tumor"])
        try await cli.run(["deploy", "tumor", "--variant", "stable", "--model", "cancer@1", "--builtin"])
        _ = try await waitForBackend(server, "tumor", "stable") { $0.readyReplicas == 1 }
        return server
    }

    /// Sends requests through the gateway, one after the other, until `body` returns.
    static func withTraffic<T: Sendable>(_ server: ServerProcess, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let gateway = try server.gatewayURL()
        let request = try SupervisorTests.inferenceBody(rows: 1)
        let stop = StopFlag()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                while !stop.isSet {
                    _ = try? await post(gateway + "/v2/models/tumor/infer", body: request)
                }
                return nil
            }
            group.addTask {
                defer { stop.set() }
                return try await body()
            }
            var result: T?
            for try await value in group { if let value { result = value } }
            return try #require(result)
        }
    }

    /// The admin token of the server's first start, or the local owner's token it announced (a restarted
    /// server prints no admin token).
    static func token(_ server: ServerProcess) -> String {
        if !server.adminToken.isEmpty { return server.adminToken }
        let file = server.dataDir.appendingPathComponent("server.json")
        guard let data = try? Data(contentsOf: file), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return "" }
        return object["token"] as? String ?? ""
    }

    static func start(_ server: ServerProcess, _ yaml: String) async throws -> Reply {
        try await server.call(
            .POST, "/api/v1/rollouts?file=canary.yml", token: Self.token(server), body: ByteBuffer(string: yaml),
            headers: [("Content-Type", "application/yaml")])
    }

    static func status(_ server: ServerProcess, _ name: String) async throws -> RolloutStatus {
        let reply = try await server.call(.GET, "/api/v1/rollouts/\(name)", token: Self.token(server))
        guard reply.status == 200 else { throw TestFailure("GET rollout \(name): \(reply.status) \(reply.text)") }
        return try SlipwayJSON.decoder().decode(RolloutStatus.self, from: reply.body)
    }

    static func history(_ server: ServerProcess, _ name: String) async throws -> [RolloutTransition] {
        struct History: Decodable { var history: [RolloutTransition] }
        let reply = try await server.call(.GET, "/api/v1/rollouts/\(name)/history", token: Self.token(server))
        return try SlipwayJSON.decoder().decode(History.self, from: reply.body).history
    }

    /// Polls until the rollout satisfies `condition`; returns its last status.
    @discardableResult
    static func waitFor(
        _ server: ServerProcess, _ name: String, seconds: Double = 120, _ what: String, _ condition: @escaping (RolloutStatus) -> Bool
    ) async throws -> RolloutStatus {
        var last: RolloutStatus?
        let held = try await waitUntil(seconds: seconds) {
            last = try await status(server, name)
            return last.map(condition) ?? false
        }
        guard held, let last else { throw TestFailure("rollout \(name) never reached: \(what); last: \(String(describing: last))") }
        return last
    }

    static func weights(_ server: ServerProcess) async throws -> [String: Double] {
        struct View: Decodable { var weights: [String: Double] }
        let reply = try await server.call(.GET, "/api/v1/endpoints/tumor", token: Self.token(server))
        return try SlipwayJSON.decoder().decode(View.self, from: reply.body).weights
    }

    static func production(_ server: ServerProcess) async throws -> Int? {
        let reply = try await server.call(.GET, "/api/v1/models/cancer", token: Self.token(server))
        let model = reply.object["model"] as? [String: Any] ?? reply.object
        return (model["aliases"] as? [String: Any])?["production"] as? Int
    }

    static let errorTemplate = """
        ---
        kind: AnalysisTemplate
        metadata: {name: errors}
        spec:
          metrics:
            - name: error-rate
              interval: 1s
              count: 2
              inconclusiveLimit: 30
              successCondition: result <= 0.05
              failureCondition: result > 0.1
              provider: {builtin: {metric: error-rate, minSamples: 5}}
        """

    @Test func goodCanaryIsPromotedThroughEveryStepAndMovesTheProductionAlias() async throws {
        let server = try await Self.prepare("rollout-good")
        defer { server.cleanUp() }
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-v2}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: builtin}
              strategy:
                canary:
                  steps:
                    - setHeaderRoute: {name: testers, match: [{headerName: X-Tester, headerValue: {exact: "yes"}}]}
                    - setWeight: 20
                    - pause: {duration: 1s}
                    - analysis: {templates: [{templateName: errors}]}
                    - setWeight: 50
            """ + "\n" + Self.errorTemplate
        try await SupervisorTests.CLI(server: server).run(["alias", "set", "cancer", "production", "1"])
        let final = try await Self.withTraffic(server) {
            let started = try await Self.start(server, yaml)
            #expect(started.status == 201, "\(started.text)")
            // A second rollout on the endpoint is refused, naming the running one.
            let second = try await Self.start(server, yaml.replacingOccurrences(of: "name: tumor-v2", with: "name: tumor-again"))
            #expect(second.status == 409 && second.text.contains("tumor-v2"), "\(second.text)")
            // While the canary has little or no weight, a tester's header already reaches it.
            try await Self.waitFor(server, "tumor-v2", "the header route") { $0.step >= 1 }
            var request = HTTPClientRequest(url: try server.gatewayURL() + "/v2/models/tumor/infer")
            request.method = .POST
            request.headers.add(name: "X-Tester", value: "yes")
            request.body = .bytes(ByteBuffer(string: try SupervisorTests.inferenceBody(rows: 1)))
            let routed = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            _ = try await routed.body.collect(upTo: 1 << 20)
            #expect(routed.status == .ok && routed.headers.first(name: "X-Slipway-Variant") == "canary")
            return try await Self.waitFor(server, "tumor-v2", "Healthy") { $0.phase == .healthy || $0.phase == .degraded }
        }
        #expect(final.phase == .healthy, "\(final.reason)")
        #expect(final.weights == ["canary": 100])
        #expect(final.analysis?.phase == .successful)
        #expect(final.analysis?.metrics.first?.latest.isEmpty == false)
        #expect(try await Self.production(server) == 2)
        let history = try await Self.history(server, "tumor-v2")
        let steps = history.filter { $0.action == "rollout.step" }.map(\.step)
        #expect(steps == [1, 2, 3, 4, 5], "\(history.map { "\($0.action) \($0.step)" })")
        #expect(history.last?.action == "rollout.complete" && history.last?.toPhase == .healthy)
        // The alias history says why it moved.
        let aliases = try await server.call(.GET, "/api/v1/models/cancer/aliases/production/history", token: Self.token(server))
        if aliases.status == 200 { #expect(aliases.text.contains("promoted by rollout tumor-v2")) }
        // The header route went with the rollout.
        let endpoint = try await server.call(.GET, "/api/v1/endpoints/tumor", token: Self.token(server))
        #expect(!endpoint.text.contains("X-Tester"), "\(endpoint.text)")

        // Undo: traffic back on the earlier stable variant, the production alias back on version 1.
        let undone = try await server.call(.POST, "/api/v1/rollouts/tumor-v2/undo", token: Self.token(server), json: #"{"reason": "second thoughts"}"#)
        #expect(undone.status == 200, "\(undone.text)")
        #expect(try await Self.weights(server) == ["stable": 100])
        #expect(try await Self.production(server) == 1)
        #expect(try await Self.status(server, "tumor-v2").phase == .degraded)
        let again = try await server.call(.POST, "/api/v1/rollouts/tumor-v2/undo", token: Self.token(server))
        #expect(again.status == 409 || again.status == 400, "\(again.text)")
    }

    @Test func failingCanaryIsRolledBackAutomatically() async throws {
        let server = try await Self.prepare("rollout-bad")
        defer { server.cleanUp() }
        let script = try Self.writeFlakyServer(in: server.folder)
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-flaky}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: {command: "exec python3 \(script.path)"}}
              strategy:
                canary:
                  steps:
                    - setWeight: 30
                    - analysis: {templates: [{templateName: errors}]}
                    - setWeight: 100
            """ + "\n" + Self.errorTemplate.replacingOccurrences(of: "count: 2", with: "count: 60")
        let final = try await Self.withTraffic(server) {
            let started = try await Self.start(server, yaml)
            #expect(started.status == 201, "\(started.text)")
            return try await Self.waitFor(server, "tumor-flaky", "Degraded") { !$0.phase.isRunning }
        }
        #expect(final.phase == .degraded)
        #expect(final.reason.contains("analysis failed"), "\(final.reason)")
        #expect(final.candidateWeight == 0)
        #expect(try await Self.weights(server) == ["stable": 100])
        #expect(try await Self.production(server) == nil)
        let history = try await Self.history(server, "tumor-flaky")
        #expect(history.last?.action == "rollout.abort" && history.last?.actor == RolloutService.controllerActor)
    }

    /// A V2 server that answers correctly but `delay` seconds late, or (with `alternate`) predicts 0 and 1 in turn.
    static func writeOddServer(in folder: URL, name: String, delay: Double = 0, alternate: Bool = false) throws -> URL {
        let script = folder.appendingPathComponent(name)
        try """
        import http.server, json, os, threading, time

        port = int(os.environ["PORT"])
        count = [0]
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.answer({"ready": True})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    count[0] += 1
                    n = count[0]
                time.sleep(\(delay))
                label = n % 2 if \(alternate ? "True" : "False") else 1
                self.answer({"model_name": "cancer", "outputs": [{"name": "label", "shape": [1], "datatype": "INT64", "data": [label]}]})

        http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
        """.write(to: script, atomically: true, encoding: .utf8)
        return script
    }

    /// Runs a canary of a command backend under traffic until it ends.
    static func runCanary(_ server: ServerProcess, name: String, script: URL, template: String) async throws -> RolloutStatus {
        let yaml = """
            kind: Rollout
            metadata: {name: \(name)}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: {command: "exec python3 \(script.path)"}}
              strategy:
                canary:
                  steps:
                    - setWeight: 50
                    - analysis: {templates: [{templateName: check}]}
                    - setWeight: 100
            ---
            kind: AnalysisTemplate
            metadata: {name: check}
            spec:
              metrics:
            \(template)
            """
        return try await Self.withTraffic(server) {
            let started = try await Self.start(server, yaml)
            #expect(started.status == 201, "\(started.text)")
            return try await Self.waitFor(server, name, "Degraded") { !$0.phase.isRunning }
        }
    }

    @Test func aCanary200MillisecondsSlowerIsRolledBack() async throws {
        let server = try await Self.prepare("rollout-slow")
        defer { server.cleanUp() }
        let script = try Self.writeOddServer(in: server.folder, name: "slow_server.py", delay: 0.2)
        let final = try await Self.runCanary(
            server, name: "tumor-slow", script: script,
            template: """
                    - name: latency-p50
                      interval: 1s
                      count: 60
                      inconclusiveLimit: 60
                      failureCondition: result > 150
                      provider: {builtin: {metric: latency, quantile: p50, minSamples: 5}}
                """)
        #expect(final.phase == .degraded && final.reason.contains("analysis failed"), "\(final.reason)")
        #expect(final.reason.contains("latency-p50"), "\(final.reason)")
        #expect(try await Self.weights(server) == ["stable": 100])
        #expect(try await Self.production(server) == nil)
    }

    @Test func aCanaryWithShiftedPredictionsIsRolledBack() async throws {
        let server = try await Self.prepare("rollout-shifted")
        defer { server.cleanUp() }
        // The stable model answers the test's one patient with the same class every time; this one says 0, 1, 0, 1…
        let script = try Self.writeOddServer(in: server.folder, name: "shifted_server.py", alternate: true)
        let final = try await Self.runCanary(
            server, name: "tumor-shifted", script: script,
            template: """
                    - name: drift
                      interval: 1s
                      count: 60
                      inconclusiveLimit: 60
                      failureCondition: result > 0.1
                      provider: {builtin: {metric: prediction-drift, method: js, minSamples: 20}}
                """)
        #expect(final.phase == .degraded && final.reason.contains("analysis failed"), "\(final.reason)")
        #expect(try await Self.weights(server) == ["stable": 100])
        #expect(try await Self.production(server) == nil)
    }

    @Test func killedServerResumesTheRolloutWhereItWas() async throws {
        let first = try await Self.prepare("rollout-kill")
        defer { first.cleanUp() }
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-v2}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: builtin}
              strategy:
                canary:
                  steps:
                    - setWeight: 20
                    - pause: {duration: 8s}
                    - setWeight: 50
                    - pause: {duration: 1s}
            """
        let started = try await Self.start(first, yaml)
        #expect(started.status == 201, "\(started.text)")
        let paused = try await Self.waitFor(first, "tumor-v2", "in the pause") { $0.step == 1 && $0.pauseUntil != nil }
        let deadline = try #require(paused.pauseUntil)
        #expect(try await Self.weights(first) == ["stable": 80, "canary": 20])
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        let second = try await ServerProcess(label: "rollout-kill", folder: first.folder)
        defer { second.cleanUp() }
        let resumed = try await Self.status(second, "tumor-v2")
        // Still in the pause with its deadline, unless the restart took longer than the pause.
        #expect(resumed.step >= 1)
        if resumed.step == 1 { #expect(resumed.pauseUntil == deadline && resumed.phase == .progressing) }
        let final = try await Self.waitFor(second, "tumor-v2", "Healthy") { !$0.phase.isRunning }
        #expect(final.phase == .healthy, "\(final.reason)")
        let history = try await Self.history(second, "tumor-v2")
        #expect(history.filter { $0.action == "rollout.step" }.map(\.step) == [1, 2, 3, 4], "\(history.map { "\($0.action) \($0.step)" })")
        #expect(history.filter { $0.action == "rollout.wait" }.map(\.step) == [1, 3])
        #expect(history.filter { $0.action == "rollout.deploy" }.count == 1)
        // The pause ended at its stored deadline, not at a new one set after the restart.
        let pauseOver = try #require(history.first { $0.action == "rollout.step" && $0.fromStep == 1 })
        #expect(pauseOver.at >= deadline.addingTimeInterval(-0.001))
    }

    @Test func abortSetsTheCandidateWeightToZeroAtOnce() async throws {
        let server = try await Self.prepare("rollout-abort")
        defer { server.cleanUp() }
        let yaml = """
            kind: Rollout
            metadata: {name: tumor-v2}
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2, backend: builtin}
              strategy:
                canary:
                  steps:
                    - setWeight: 30
                    - pause: {}
                    - setWeight: 60
            """
        #expect(try await Self.start(server, yaml).status == 201)
        try await Self.waitFor(server, "tumor-v2", "paused at the gate") { $0.phase == .paused && $0.step == 1 }
        #expect(try await Self.weights(server) == ["stable": 70, "canary": 30])
        // Promoting a gate needs the approver role.
        let editor = try await server.call(.POST, "/api/v1/tokens", token: Self.token(server), json: #"{"name": "ed", "role": "editor"}"#)
        if let token = editor.object["token"] as? String {
            #expect(try await server.call(.POST, "/api/v1/rollouts/tumor-v2/promote", token: token).status == 403)
        }
        let aborted = try await server.call(.POST, "/api/v1/rollouts/tumor-v2/abort", token: Self.token(server), json: #"{"reason": "smoke test"}"#)
        #expect(aborted.status == 200, "\(aborted.text)")
        // The routing table changed before the answer.
        #expect(try await Self.weights(server) == ["stable": 100])
        let status = try await Self.status(server, "tumor-v2")
        #expect(status.phase == .degraded && status.reason.contains("smoke test"))
        // Retry starts again at step 0.
        #expect(try await server.call(.POST, "/api/v1/rollouts/tumor-v2/retry", token: Self.token(server)).status == 200)
        try await Self.waitFor(server, "tumor-v2", "paused at the gate again") { $0.phase == .paused && $0.step == 1 }
        let promoted = try await server.call(
            .POST, "/api/v1/rollouts/tumor-v2/promote", token: Self.token(server), json: #"{"full": true}"#)
        #expect(promoted.status == 200, "\(promoted.text)")
        #expect(try await Self.weights(server) == ["canary": 100])
        #expect(try await Self.production(server) == 2)
    }

    @Test func invalidSpecsAndUnsupportedStrategiesStartNothing() async throws {
        let server = try await Self.prepare("rollout-invalid")
        defer { server.cleanUp() }
        let invalid = """
            spec:
              endpoint: tumor
              candidate: {model: cancer, version: 2}
              strategy:
                canary:
                  steps:
                    - setWeight: 120
                    - analysis: {templates: [{templateName: nope}]}
            """
        let reply = try await Self.start(server, invalid)
        #expect(reply.status == 400)
        #expect(reply.text.contains("canary.yml:7:") && reply.text.contains("canary.yml:8:"), "\(reply.text)")
        // A blue-green spec whose pre-promotion analysis names a template the file does not define.
        let blueGreen = """
            name: tumor-bg
            endpoint: tumor
            candidate: {model: cancer, version: 2, variant: green}
            strategy:
              blueGreen:
                prePromotionAnalysis: {templates: [{templateName: smoke}]}
            """
        let refused = try await Self.start(server, blueGreen)
        #expect(refused.status == 400, "\(refused.text)")
        #expect(refused.text.contains("canary.yml:6:") && refused.text.contains("analysis template 'smoke' does not exist"), "\(refused.text)")
        #expect(try await Self.weights(server) == ["stable": 100])
        let list = try await server.call(.GET, "/api/v1/rollouts", token: Self.token(server))
        #expect(list.status == 200 && (list.object["rollouts"] as? [Any])?.isEmpty == true)
    }

    @Test func cliStartsShowsAndAbortsRollouts() async throws {
        let server = try await Self.prepare("rollout-cli")
        defer { server.cleanUp() }
        func cli(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await runCLI(["rollout"] + arguments + ["--data-dir", server.dataDir.path], in: server.folder)
        }
        let bad = server.folder.appendingPathComponent("bad.yml")
        try """
        spec:
          endpoint: tumor
          candidate: {model: cancer, version: 2}
          strategy:
            canary:
              steps:
                - setWeight: 120
                - pause: {duration: soon}
        """.write(to: bad, atomically: true, encoding: .utf8)
        let refused = try await cli(["start", "-f", bad.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("\(bad.path):7:") && refused.stderr.contains("\(bad.path):8:"), "\(refused.stderr)")
        #expect(try await SlipwayJSON.decoder().decode([RolloutStatus].self, from: Data(cli(["list", "--json"]).stdout.utf8)).isEmpty)

        let good = server.folder.appendingPathComponent("good.yml")
        try """
        name: tumor-v2
        endpoint: tumor
        candidate: {model: cancer, version: 2}
        strategy:
          canary:
            steps:
              - setWeight: 25
              - pause: {}
        """.write(to: good, atomically: true, encoding: .utf8)
        let started = try await cli(["start", "-f", good.path, "--json"])
        #expect(started.status == 0, "\(started.stderr)")
        let status = try SlipwayJSON.decoder().decode(RolloutStatus.self, from: Data(started.stdout.utf8))
        #expect(status.name == "tumor-v2" && status.stepCount == 2)
        try await Self.waitFor(server, "tumor-v2", "at the gate") { $0.phase == .paused }
        let shown = try await cli(["status", "tumor-v2"])
        #expect(shown.status == 0 && shown.stdout.contains("Paused") && shown.stdout.contains("canary=25%"), "\(shown.stdout)")
        #expect(try await cli(["list"]).stdout.contains("tumor-v2"))
        let aborted = try await cli(["abort", "tumor-v2", "--reason", "from the CLI", "--json"])
        #expect(aborted.status == 0, "\(aborted.stderr)")
        #expect(try SlipwayJSON.decoder().decode(RolloutStatus.self, from: Data(aborted.stdout.utf8)).phase == .degraded)
        let history = try await cli(["history", "tumor-v2"])
        #expect(history.stdout.contains("rollout.abort") && history.stdout.contains("from the CLI"), "\(history.stdout)")
        #expect(try await Self.weights(server) == ["stable": 100])
    }

    final class StopFlag: Sendable {
        private let flag = Mutex(false)
        var isSet: Bool { flag.withLock { $0 } }
        func set() { flag.withLock { $0 = true } }
    }

    /// A V2 server that answers 500 to every fifth request.
    static func writeFlakyServer(in folder: URL) throws -> URL {
        let script = folder.appendingPathComponent("flaky_server.py")
        try """
        import http.server, json, os, threading

        port = int(os.environ["PORT"])
        count = [0]
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.answer(200, {"ready": True})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    count[0] += 1
                    n = count[0]
                if n % 5 == 0:
                    self.answer(500, {"error": "flaky"})
                else:
                    self.answer(200, {"model_name": "cancer", "outputs": [{"name": "label", "shape": [1], "datatype": "INT64", "data": [1]}]})

        http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
        """.write(to: script, atomically: true, encoding: .utf8)
        return script
    }
}
