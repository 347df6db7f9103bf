import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import SlipwayRollout
import SlipwayServer
import SlipwayStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `prometheus` metric provider against a real Prometheus server that scrapes a real `slipway server`'s
/// gateway, and the rollout's webhooks against a real receiver: a flaky canary is rolled back and a good one
/// promoted, each judged from Prometheus' answers, and the signed events arrive.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct PrometheusProviderTests {
    static let binary = "/usr/bin/prometheus"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: binary) }
    /// In CI the binary must be there (`.ci/run` installs the Debian package), so the test runs and fails without it.
    static var inCI: Bool { !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty }
    static let hookSecret = "hook-secret-5f2a91-never-logged"

    @Test(.enabled(if: installed || inCI, "skipped: /usr/bin/prometheus is missing; install it with `apt-get install prometheus`"))
    func canariesAreJudgedFromPrometheusAnswersAndWebhooksAreSigned() async throws {
        try #require(Self.installed, "CI is set but \(Self.binary) is missing; .ci/run installs the Debian package prometheus")
        let prometheusPort = try Self.freePort()
        let receiver = try WebhookReceiver(secret: Self.hookSecret)
        defer { receiver.stop() }
        let server = try await ServerProcess(
            label: "prometheus",
            environment: ["SLIPWAY_PROMETHEUS_URL": "http://127.0.0.1:\(prometheusPort)", "SLIPWAY_TEST_HOOK_SECRET": Self.hookSecret])
        defer { server.cleanUp() }
        let gateway = try server.gatewayURL()
        let prometheus = try PrometheusProcess(folder: server.folder, port: prometheusPort, target: String(gateway.dropFirst("http://".count)))
        defer { prometheus.stop() }
        try await prometheus.waitUntilReady()

        let cli = SupervisorTests.CLI(server: server)
        try await cli.trainAndRegister(model: "cancer", versions: 2)
        try await cli.run(["endpoints", "create", "tumor"])
        try await cli.run(["deploy", "tumor", "--variant", "stable", "--model", "cancer@1", "--builtin"])
        _ = try await waitForBackend(server, "tumor", "stable") { $0.readyReplicas == 1 }
        // Prometheus scrapes the gateway.
        let scraped = try await waitUntil(seconds: 60) { try await prometheus.query("up{job=\"slipway\"}").contains("\"1\"") }
        let targets = try await prometheus.query("up")
        try #require(scraped, "Prometheus never scraped the gateway: \(targets)")

        // A candidate that answers 500 to every fifth request: Prometheus sees a 20 % error rate, the rollout rolls back.
        let flaky = try RolloutTests.writeFlakyServer(in: server.folder)
        let bad = try await RolloutTests.withTraffic(server) {
            let started = try await RolloutTests.start(
                server, Self.rollout(name: "tumor-flaky", variant: "flaky", backend: "{command: \"exec python3 \(flaky.path)\"}", receiver: receiver))
            #expect(started.status == 201, "\(started.text)")
            do {
                return try await RolloutTests.waitFor(server, "tumor-flaky", seconds: 150, "rolled back") { !$0.phase.isRunning }
            } catch {
                let seen = try await prometheus.query("slipway_requests_total")
                let gatewayMetrics = try await get(gateway + "/metrics").text
                throw TestFailure("\(error)\nPrometheus has: \(seen)\nthe gateway exposes: \(gatewayMetrics.prefix(3000))")
            }
        }
        #expect(bad.phase == .degraded, "\(bad.reason); \(Self.describe(bad))")
        #expect(bad.reason.contains("analysis failed"), "\(bad.reason)")
        #expect(try await RolloutTests.weights(server) == ["stable": 100])
        let failedValues = bad.analysis?.metrics.first?.latest.compactMap { Self.number($0.value) } ?? []
        #expect(failedValues.contains { $0 > 0.1 }, "the failing measurement came from Prometheus: \(Self.describe(bad))")

        // A good candidate: no errors in Prometheus, promoted.
        let good = try await RolloutTests.withTraffic(server) {
            let started = try await RolloutTests.start(
                server, Self.rollout(name: "tumor-v2", variant: "fresh", backend: "builtin", receiver: receiver))
            #expect(started.status == 201, "\(started.text)")
            return try await RolloutTests.waitFor(server, "tumor-v2", seconds: 150, "done") { !$0.phase.isRunning }
        }
        #expect(good.phase == .healthy, "\(good.reason); \(Self.describe(good))")
        #expect(try await RolloutTests.production(server) == 2)
        let values = good.analysis?.metrics.first?.latest.compactMap { Self.number($0.value) } ?? []
        #expect(values.count >= 3 && values.suffix(3).allSatisfy { $0 <= 0.05 }, "\(Self.describe(good))")

        // Signed events for both rollouts' phase changes.
        let events = try await receiver.waitForEvents { events in
            events.contains { $0.rollout == "tumor-flaky" && $0.toPhase == "Degraded" }
                && events.contains { $0.rollout == "tumor-v2" && $0.toPhase == "Healthy" }
        }
        #expect(!events.isEmpty && events.allSatisfy(\.validSignature), "\(events)")
        let aborted = try #require(events.first { $0.rollout == "tumor-flaky" && $0.toPhase == "Degraded" })
        #expect(aborted.event == "phase" && aborted.fromPhase == "Progressing" && aborted.action == "rollout.abort" && aborted.endpoint == "tumor")
        // The secret is nowhere but in the server's environment: not in the API's answer, the stored state or the logs.
        let answer = try await server.call(.GET, "/api/v1/rollouts/tumor-v2", token: RolloutTests.token(server))
        #expect(answer.text.contains("SLIPWAY_TEST_HOOK_SECRET") && !answer.text.contains(Self.hookSecret))
        let logs =
            ((try? String(contentsOf: server.stderrFile, encoding: .utf8)) ?? "")
            + ((try? String(contentsOf: server.stdoutFile, encoding: .utf8)) ?? "")
        #expect(!logs.contains(Self.hookSecret))
        let database = try Data(contentsOf: server.dataDir.appendingPathComponent("metadata.sqlite"))
        #expect(database.range(of: Data(Self.hookSecret.utf8)) == nil)
    }

    @Test func aBadPrometheusURLIsRefusedAtStart() async throws {
        let folder = try makeScratchFolder("prometheus-flag")
        defer { try? FileManager.default.removeItem(at: folder) }
        let flag = try await runCLI(["server", "--port", "0", "--gateway-port", "0", "--prometheus-url", "localhost:9090"], in: folder)
        #expect(flag.status != 0 && flag.stderr.contains("--prometheus-url 'localhost:9090' is not an http:// or https:// URL"), "\(flag)")
        let environment = try await runCLI(
            ["server", "--port", "0", "--gateway-port", "0"], in: folder, environment: ["SLIPWAY_PROMETHEUS_URL": "ftp://prometheus"])
        #expect(environment.status != 0 && environment.stderr.contains("SLIPWAY_PROMETHEUS_URL='ftp://prometheus'"), "\(environment)")
        try "prometheus:\n  url: not a url\n".write(to: folder.appendingPathComponent("slipway.yml"), atomically: true, encoding: .utf8)
        let file = try await runCLI(["server", "--port", "0", "--gateway-port", "0"], in: folder)
        #expect(file.status != 0 && file.stderr.contains("prometheus.url 'not a url'"), "\(file)")
    }

    /// The first number of a measured value (Prometheus vectors are arrays).
    static func number(_ value: ConditionValue?) -> Double? {
        if case .array(let items)? = value { return items.first?.numberValue }
        return value?.numberValue
    }

    static func describe(_ status: RolloutStatus) -> String {
        let measurements = status.analysis?.metrics.first?.latest.map { "\($0.phase.rawValue) \($0.value?.description ?? "-") \($0.message ?? "")" }
        return "analysis \(status.analysis?.phase.rawValue ?? "none"): \(measurements ?? [])"
    }

    /// A canary whose analysis asks Prometheus (the server's configured one) for the candidate's error rate.
    static func rollout(name: String, variant: String, backend: String, receiver: WebhookReceiver) -> String {
        """
        kind: Rollout
        metadata: {name: \(name)}
        spec:
          endpoint: tumor
          candidate: {model: cancer, version: 2, backend: \(backend), variant: \(variant)}
          webhooks:
            - url: \(receiver.url)/hooks
              events: [phase, gate]
              secretEnv: SLIPWAY_TEST_HOOK_SECRET
          strategy:
            canary:
              steps:
                - setWeight: 50
                - analysis:
                    templates: [{templateName: prometheus-errors}]
        ---
        kind: AnalysisTemplate
        metadata: {name: prometheus-errors}
        spec:
          metrics:
            - name: error-rate
              interval: 1s
              # Until Prometheus has scraped 20 of the candidate's requests the vector is empty and the
              # measurement Inconclusive; three good answers in a row pass, one bad answer fails.
              count: 90
              consecutiveSuccessLimit: 3
              inconclusiveLimit: 90
              successCondition: len(result) == 1 && !isNaN(result[0]) && result[0] <= 0.05
              failureCondition: len(result) == 1 && result[0] > 0.1
              provider:
                prometheus:
                  timeout: 5s
                  query: |
                    sum(slipway_request_errors_total{endpoint="tumor",variant="\(variant)"})
                      / sum(slipway_requests_total{endpoint="tumor",variant="\(variant)"} > 20)
        """
    }

    /// A TCP port nobody listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestFailure("cannot bind a free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A real Prometheus server scraping one target every second, with its own storage folder.
final class PrometheusProcess: @unchecked Sendable {
    // Set once in init, only read afterwards.
    let process = Process()
    let url: String
    let log: URL

    init(folder: URL, port: Int, target: String) throws {
        let config = folder.appendingPathComponent("prometheus.yml")
        try """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: slipway
            metrics_path: /metrics
            static_configs:
              - targets: ["\(target)"]
        """.write(to: config, atomically: true, encoding: .utf8)
        log = folder.appendingPathComponent("prometheus.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: PrometheusProviderTests.binary)
        process.arguments = [
            "--config.file=\(config.path)", "--web.listen-address=127.0.0.1:\(port)",
            "--storage.tsdb.path=\(folder.appendingPathComponent("prometheus-data").path)", "--log.level=warn",
        ]
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        url = "http://127.0.0.1:\(port)"
    }

    func waitUntilReady() async throws {
        let ready = try await waitUntil(seconds: 60) {
            guard process.isRunning else { return false }
            return (try? await get(url + "/-/ready").status) == 200
        }
        guard ready else { throw TestFailure("Prometheus did not become ready: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")") }
    }

    /// The raw answer of an instant query.
    func query(_ promql: String) async throws -> String {
        var components = URLComponents(string: url + "/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: promql)]
        return try await get(components.string!).text
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A Python HTTP server that records webhook calls and checks their HMAC signature.
final class WebhookReceiver: @unchecked Sendable {
    // Set once in init, only read afterwards.
    let process = Process()
    let url: String
    let events: URL

    struct Event: Decodable, CustomStringConvertible {
        var event: String
        var rollout: String
        var endpoint: String
        var fromPhase: String
        var toPhase: String
        var action: String
        var header: String
        var validSignature: Bool
        var description: String { "\(rollout) \(event) \(fromPhase)→\(toPhase) \(action) valid=\(validSignature)" }
    }

    init(secret: String) throws {
        let folder = try makeScratchFolder("webhooks")
        events = folder.appendingPathComponent("events.jsonl")
        let portFile = folder.appendingPathComponent("port")
        let script = folder.appendingPathComponent("receiver.py")
        try """
        import hashlib, hmac, http.server, json, os, sys

        secret, events, port_file = sys.argv[1].encode(), sys.argv[2], sys.argv[3]

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
                given = self.headers.get("X-Slipway-Signature", "")
                event = json.loads(body)
                event["header"] = self.headers.get("X-Slipway-Event", "")
                event["validSignature"] = hmac.compare_digest(expected, given)
                with open(events, "a") as f:
                    f.write(json.dumps(event) + "\\n")
                self.send_response(204)
                self.end_headers()

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(port_file + ".tmp", port_file)
        server.serve_forever()
        """.write(to: script, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, secret, events.path, portFile.path]
        try process.run()
        // 90 s, as for the other servers the tests start beside the whole suite; the file is read after every pause.
        var port = try? String(contentsOf: portFile, encoding: .utf8)
        let deadline = Date().addingTimeInterval(90)
        while port == nil, Date() < deadline, process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
            port = try? String(contentsOf: portFile, encoding: .utf8)
        }
        guard let port else { throw TestFailure("the webhook receiver did not start") }
        url = "http://127.0.0.1:\(port)"
    }

    func recorded() -> [Event] {
        let text = (try? String(contentsOf: events, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Event.self, from: Data($0.utf8)) }
    }

    /// Polls until the recorded events satisfy `condition`; returns them.
    func waitForEvents(_ condition: @escaping ([Event]) -> Bool) async throws -> [Event] {
        var last: [Event] = []
        let held = try await waitUntil(seconds: 30) {
            last = recorded()
            return condition(last)
        }
        guard held else { throw TestFailure("the expected webhook events did not arrive; got \(last)") }
        return last
    }

    func stop() {
        // SIGKILL: a child may inherit an ignored SIGTERM from the test process.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: events.deletingLastPathComponent())
    }
}

/// One GET.
private func get(_ url: String) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = .GET
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let bytes = try await response.body.collect(upTo: 16 << 20)
    return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
}

/// Without a server, `slipway rollout abort` changes the rollout in its own process; the rollout's webhooks
/// have been delivered when that process exits.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct InProcessWebhookTests {
    @Test func aCommandWithoutAServerDeliversItsWebhooksBeforeItExits() async throws {
        let secret = "in-process-hook-secret"
        let receiver = try WebhookReceiver(secret: secret)
        defer { receiver.stop() }
        let folder = try makeScratchFolder("inprocess-webhooks")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataDir = folder.appendingPathComponent("data").path
        let environment = ["SLIPWAY_TEST_HOOK_SECRET": secret]
        func cli(_ arguments: [String]) async throws {
            let result = try await runCLI(arguments + ["--data-dir", dataDir], in: folder, environment: environment)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        try Data("model".utf8).write(to: folder.appendingPathComponent("model.bin"))
        try await cli(["models", "create", "cancer"])
        try await cli(["versions", "create", "cancer", "--artifact", "model.bin", "--no-probe"])
        try await cli(["versions", "create", "cancer", "--artifact", "model.bin", "--no-probe"])
        try await cli(["endpoints", "create", "tumor"])
        try await cli(["deploy", "tumor", "--variant", "stable", "--model", "cancer@1", "--backend", "http://127.0.0.1:9/v2/models/cancer"])
        let spec = folder.appendingPathComponent("rollout.yml")
        try """
        name: tumor-v2
        endpoint: tumor
        candidate: {model: cancer, version: 2, backend: "http://127.0.0.1:9/v2/models/cancer"}
        webhooks:
          - url: \(receiver.url)/hooks
            events: [phase]
            secretEnv: SLIPWAY_TEST_HOOK_SECRET
        strategy:
          canary:
            steps:
              - setWeight: 20
        """.write(to: spec, atomically: true, encoding: .utf8)
        try await cli(["rollout", "start", "-f", spec.path])
        try await cli(["rollout", "abort", "tumor-v2", "--reason", "from the command line"])
        // No waiting: the command returned only after its delivery.
        let events = receiver.recorded()
        #expect(events.count == 1, "\(events)")
        #expect(events.first?.toPhase == "Degraded" && events.first?.validSignature == true && events.first?.header == "phase", "\(events)")
    }
}
