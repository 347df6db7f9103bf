import Foundation
import Logging
import SlipwayCore
import SlipwayRollout
import SlipwayStore
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `web`, `job` and `prometheus` providers and the webhooks of rollouts, against real HTTP servers on
/// 127.0.0.1 (port 0) and real child processes.
@Suite(.timeLimit(.minutes(2))) struct ProvidersTests {
    // MARK: Web

    /// A timeout for answers that come at once: the whole test suite can keep both cores busy for a while.
    static let generous = RolloutDuration(seconds: 60)

    static let document = #"{"data": {"latency": {"p99": 12.5}, "ok": true, "items": [{"v": 3}, {"v": 4}], "odd key": "x"}}"#

    @Test func webReadsTheWholeAnswerOrThePartAtAJSONPath() async throws {
        let server = try LocalHTTPServer { request in
            // The metric's headers arrive.
            guard request.headers["authorization"] == "Bearer t0ken" else { return .init(status: 401, body: "no token") }
            return .init(status: 200, body: Self.document, contentType: "application/json")
        }
        defer { server.stop() }
        let providers = MetricProviders()
        func measure(_ path: String?) async -> MeasurementOutcome {
            await providers.measure(
                .web(WebProvider(url: server.url + "/status", jsonPath: path, headers: ["Authorization": "Bearer t0ken"], timeout: Self.generous)), metric: "m")
        }
        #expect(await measure("$.data.latency.p99") == .value(.number(12.5)))
        #expect(await measure("{$.data.ok}") == .value(.bool(true)))
        #expect(await measure("$.data.items[1].v") == .value(.number(4)))
        #expect(await measure("$['data']['odd key']") == .value(.string("x")))
        #expect(await measure("$.data.items") == .value(.array([.map(["v": .number(3)]), .map(["v": .number(4)])])))
        guard case .value(.map(let whole)) = await measure(nil) else {
            Issue.record("the whole answer should be the value")
            return
        }
        #expect(whole["data"] != nil)
        // Errors name the path and where it stopped.
        #expect(await measure("$.data.missing").errorText?.contains("$.data.missing") == true)
        #expect(await measure("$.data.missing").errorText?.contains("$.data has no key 'missing'") == true)
        #expect(await measure("$.data.items[7]").errorText?.contains("[7] is out of range") == true)
        #expect(await measure("$.data.ok.deeper").errorText?.contains("$.data.ok is a boolean") == true)
        #expect(await measure("data.ok").errorText?.contains("starts with '$'") == true)
        #expect(await measure("$.data[x]").errorText?.contains("is not an index") == true)
        #expect(await measure("$.data.").errorText?.contains("a name must follow") == true)
        // Every error names the metric.
        #expect(await measure("$.nope").errorText?.hasPrefix("metric 'm':") == true)
        // The value goes through the conditions as any other.
        let outcome = await measure("$.data.latency.p99")
        let condition = try Condition("result < 20")
        #expect(MeasurementEvaluator.evaluate(outcome, successCondition: condition, failureCondition: nil).phase == .successful)
    }

    @Test func webTimesOutOnASlowServer() async throws {
        let server = try LocalHTTPServer { _ in .init(status: 200, body: "1", delay: 8) }
        defer { server.stop() }
        let outcome = await MetricProviders().measure(
            .web(WebProvider(url: server.url + "/slow", timeout: RolloutDuration(seconds: 0.3))), metric: "slow")
        #expect(outcome.errorText?.contains("did not answer within 300ms") == true, "\(outcome)")
    }

    @Test func webRefusesAnswersAboveOneMebibyteWithOrWithoutALength() async throws {
        let big = "[" + String(repeating: "1,", count: 600_000) + "1]"
        let server = try LocalHTTPServer { request in
            .init(status: 200, body: big, omitLength: request.path.hasSuffix("stream"))
        }
        defer { server.stop() }
        for path in ["/sized", "/stream"] {
            let outcome = await MetricProviders().measure(.web(WebProvider(url: server.url + path, timeout: Self.generous)), metric: "big")
            #expect(outcome.errorText?.contains("1 MiB") == true, "\(path): \(outcome)")
        }
    }

    @Test func webReportsNonJSONAnswersServerErrorsAndUnreachableServers() async throws {
        let server = try LocalHTTPServer { request in
            switch request.path {
            case "/html": .init(status: 200, body: "<html><body>maintenance</body></html>")
            case "/empty": .init(status: 200, body: "")
            default: .init(status: 500, body: #"{"error": "database down"}"#)
            }
        }
        let html = await MetricProviders().measure(.web(WebProvider(url: server.url + "/html", timeout: Self.generous)), metric: "w")
        #expect(html.errorText?.contains("is not JSON; it starts with '<html>") == true, "\(html)")
        let empty = await MetricProviders().measure(.web(WebProvider(url: server.url + "/empty", timeout: Self.generous)), metric: "w")
        #expect(empty.errorText?.contains("is not JSON") == true, "\(empty)")
        let failing = await MetricProviders().measure(.web(WebProvider(url: server.url + "/boom?token=abc", timeout: Self.generous)), metric: "w")
        #expect(failing.errorText?.contains("answered 500") == true && failing.errorText?.contains("database down") == true, "\(failing)")
        // The query (which may hold a token) is not repeated in the message.
        #expect(failing.errorText?.contains("abc") == false, "\(failing)")
        let url = server.url
        server.stop()
        // The client keeps trying to connect until the deadline.
        let gone = await MetricProviders().measure(.web(WebProvider(url: url + "/html", timeout: RolloutDuration(seconds: 1))), metric: "w")
        #expect(gone.errorText?.contains("failed") == true || gone.errorText?.contains("did not answer within 1s") == true, "\(gone)")
        let bad = await MetricProviders().measure(.web(WebProvider(url: "ftp://example.com/x")), metric: "w")
        #expect(bad.errorText?.contains("not an http:// or https:// URL") == true)
    }

    // MARK: Job

    @Test func jobSucceedsOnExitZeroAndFailsWithTheEndOfStandardError() async throws {
        let ok = await MetricProviders().measure(.job(JobProvider(command: ["/bin/sh", "-c", "echo fine; exit 0"])), metric: "j")
        guard case .decided(.successful, _) = ok else {
            Issue.record("expected Successful, got \(ok)")
            return
        }
        let script = (1...30).map { "echo line \($0) >&2" }.joined(separator: "; ") + "; echo 'smoke test: 3 of 10 requests failed' >&2; exit 3"
        let failed = await MetricProviders().measure(.job(JobProvider(command: ["/bin/sh", "-c", script])), metric: "j")
        guard case .decided(.failed, let message) = failed else {
            Issue.record("expected Failed, got \(failed)")
            return
        }
        #expect(message.contains("exited with status 3"))
        #expect(message.contains("smoke test: 3 of 10 requests failed"))
        #expect(message.contains("line 25") && !message.contains("line 5\n"), "only the last lines are kept: \(message)")
        // The arguments reach the program as they are, without a shell in between.
        let literal = await MetricProviders().measure(.job(JobProvider(command: ["/usr/bin/test", "a;$HOME", "=", "a;$HOME"])), metric: "j")
        guard case .decided(.successful, _) = literal else {
            Issue.record("expected the arguments to be passed unchanged, got \(literal)")
            return
        }
        let missing = await MetricProviders().measure(.job(JobProvider(command: ["/nonexistent/slipway-check"])), metric: "j")
        #expect(missing.errorText?.contains("cannot run '/nonexistent/slipway-check'") == true, "\(missing)")
        let signaled = await MetricProviders().measure(.job(JobProvider(command: ["/bin/sh", "-c", "kill -9 $$"])), metric: "j")
        guard case .decided(.failed, let why) = signaled, why.contains("signal 9") else {
            Issue.record("expected Failed by signal 9, got \(signaled)")
            return
        }
    }

    @Test func jobTimeoutKillsTheWholeProcessGroup() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-job-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let pidFile = folder.appendingPathComponent("child.pid")
        // The job starts a grandchild that would outlive a kill of the job's own process.
        let script = "sleep 60 & echo $! > '\(pidFile.path)'; echo 'still waiting' >&2; wait"
        let outcome = await MetricProviders().measure(
            .job(JobProvider(command: ["/bin/sh", "-c", script], timeout: RolloutDuration(seconds: 0.5))), metric: "slow")
        guard case .decided(.failed, let message) = outcome else {
            Issue.record("expected Failed, got \(outcome)")
            return
        }
        #expect(message.contains("longer than its timeout of 500ms"), "\(message)")
        #expect(message.contains("still waiting"), "\(message)")
        let pid = try #require(Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0..<200 where !gone {
            gone = !isAlive(pid)
            if !gone { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(gone, "the grandchild \(pid) survived the timeout")
    }

    @Test func jobDoesNotHoldUpOtherWork() async throws {
        // While a job sleeps, other tasks on the cooperative pool keep running.
        let counter = Mutex(0)
        async let job = MetricProviders().measure(.job(JobProvider(command: ["/bin/sleep", "1"])), metric: "j")
        for _ in 0..<10 {
            try await Task.sleep(for: .milliseconds(20))
            counter.withLock { $0 += 1 }
        }
        #expect(counter.withLock { $0 } == 10)
        guard case .decided(.successful, _) = await job else {
            Issue.record("the sleeping job should succeed")
            return
        }
    }

    // MARK: Prometheus

    /// Answers like Prometheus' `/api/v1/query`, by query text.
    static func fakePrometheus(seen: @escaping @Sendable (String) -> Void) throws -> LocalHTTPServer {
        try LocalHTTPServer { request in
            guard request.path.hasPrefix("/prefix/api/v1/query") else { return .init(status: 404, body: "404 page not found") }
            let query = URLComponents(string: request.path)?.queryItems?.first { $0.name == "query" }?.value ?? ""
            seen(query)
            func vector(_ values: [String]) -> String {
                let samples = values.enumerated().map { #"{"metric": {"variant": "v\#($0.offset)"}, "value": [1700000000.5, "\#($0.element)"]}"# }
                return #"{"status": "success", "data": {"resultType": "vector", "result": [\#(samples.joined(separator: ","))]}}"#
            }
            switch query {
            case "scalar(0.25)":
                return .init(status: 200, body: #"{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"0.25"]}}"#)
            case "one": return .init(status: 200, body: vector(["0.01"]))
            case "many": return .init(status: 200, body: vector(["0.01", "0.2", "NaN"]))
            case "none": return .init(status: 200, body: vector([]))
            case "text": return .init(status: 200, body: #"{"status":"success","data":{"resultType":"string","result":[1700000000.5,"hello"]}}"#)
            case "range[5m]":
                return .init(status: 200, body: #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}"#)
            case "sum(rate(x[1m])) + 1": return .init(status: 200, body: vector(["2"]))
            case "garbage": return .init(status: 200, body: "<html>proxy error</html>")
            default:
                return .init(
                    status: 400,
                    body: #"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected \")\""}"#)
            }
        }
    }

    @Test func prometheusAnswersBecomeNumbersArraysAndErrors() async throws {
        let queries = Mutex<[String]>([])
        let server = try Self.fakePrometheus { query in queries.withLock { $0.append(query) } }
        defer { server.stop() }
        let providers = MetricProviders(prometheusURL: server.url + "/prefix/")
        func measure(_ query: String) async -> MeasurementOutcome {
            await providers.measure(.prometheus(PrometheusProvider(query: query, timeout: Self.generous)), metric: "p")
        }
        #expect(await measure("scalar(0.25)") == .value(.number(0.25)))
        #expect(await measure("one") == .value(.array([.number(0.01)])))
        let many = await measure("many")
        guard case .value(.array(let items)) = many, items.count == 3 else {
            Issue.record("expected three numbers, got \(many)")
            return
        }
        #expect(items[0] == .number(0.01) && items[1] == .number(0.2) && items[2].numberValue?.isNaN == true)
        #expect(await measure("none") == .value(.array([])))
        #expect(await measure("text") == .value(.string("hello")))
        #expect(await measure("range[5m]").errorText?.contains("instant query") == true)
        #expect(await measure("garbage").errorText?.contains("not JSON") == true)
        // Prometheus' own error text, and a '+' that survives the URL.
        let failed = await measure("sum(rate(x[1m])")
        #expect(failed.errorText?.contains("the Prometheus query failed (bad_data): invalid parameter") == true, "\(failed)")
        #expect(await measure("sum(rate(x[1m])) + 1") == .value(.array([.number(2)])))
        #expect(queries.withLock { $0 }.contains("sum(rate(x[1m])) + 1"))
        // The conditions of Argo's templates work on both shapes.
        let condition = try Condition("result[0] < 0.05")
        #expect(MeasurementEvaluator.evaluate(await measure("one"), successCondition: condition, failureCondition: nil).phase == .successful)
        // A vector of one sample also reads as its number.
        for text in ["result < 0.05", "!isNaN(result) && result * 2 < 0.1", "len(result) == 1", "len(result) == 0 || result[0] < 0.05"] {
            let c = try Condition(text)
            #expect(MeasurementEvaluator.evaluate(await measure("one"), successCondition: c, failureCondition: nil).phase == .successful, "\(text)")
        }
        #expect(
            MeasurementEvaluator.evaluate(await measure("scalar(0.25)"), successCondition: try Condition("result[0] > 0.2"), failureCondition: nil)
                .phase == .successful)
        #expect(MeasurementEvaluator.evaluate(many, successCondition: condition, failureCondition: nil).phase == .successful)
        let guarded = try Condition("len(result) == 0 || result[0] < 0.05")
        #expect(MeasurementEvaluator.evaluate(await measure("none"), successCondition: guarded, failureCondition: nil).phase == .successful)
        #expect(MeasurementEvaluator.evaluate(await measure("none"), successCondition: condition, failureCondition: nil).phase == .error)
        // A metric's own address wins over the server-wide one; without either the message says what to set.
        let own = await MetricProviders(prometheusURL: "http://127.0.0.1:1").measure(
            .prometheus(PrometheusProvider(address: server.url + "/prefix", query: "one", timeout: Self.generous)), metric: "p")
        #expect(own == .value(.array([.number(0.01)])))
        let nowhere = await MetricProviders().measure(.prometheus(PrometheusProvider(query: "one")), metric: "p")
        #expect(nowhere.errorText?.contains("--prometheus-url") == true)
        let wrong = await MetricProviders().measure(.prometheus(PrometheusProvider(address: "localhost:9090", query: "one")), metric: "p")
        #expect(wrong.errorText?.contains("not an http:// or https:// URL") == true, "\(wrong)")
        let notPrometheus = await MetricProviders(prometheusURL: server.url).measure(.prometheus(PrometheusProvider(query: "one", timeout: Self.generous)), metric: "p")
        #expect(notPrometheus.errorText?.contains("404") == true, "\(notPrometheus)")
    }

    @Test func prometheusAnswerParsingOfHostileDocuments() {
        let cases: [(String, String)] = [
            ("[]", "unexpected document"),
            (#"{"status": "success"}"#, "no data.resultType"),
            (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}"#, "malformed sample"),
            (#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]}]}}"#, "histogram"),
            (#"{"status":"success","data":{"resultType":"scalar","result":[1]}}"#, "malformed scalar"),
            (#"{"status":"success","data":{"resultType":"exotic","result":[]}}"#, "'exotic'"),
        ]
        for (body, expected) in cases {
            let outcome = MetricProviders.prometheusOutcome(status: 200, body: Data(body.utf8))
            #expect(outcome.errorText?.contains(expected) == true, "\(body): \(outcome)")
        }
    }

    // MARK: Webhooks

    static let secret = "whsec-7Hq9-do-not-log"

    static func record(phase: RolloutPhase, step: Int, revision: Int, webhooks: [WebhookSpec]) throws -> RolloutRecord {
        let spec = RolloutSpec(
            name: "fraud-v8", endpoint: "fraud", candidate: CandidateSpec(model: "fraud", reference: .version(8)),
            strategy: .canary(CanaryStrategy(steps: [.setWeight(10), .pause(PauseStep())])), webhooks: webhooks)
        let json = String(decoding: try SlipwayJSON.encoder().encode(StoredRolloutSpec(spec: spec, templates: [])), as: UTF8.self)
        let time = Date(timeIntervalSince1970: 1_790_000_000)
        return RolloutRecord(
            name: "fraud-v8", endpoint: "fraud", spec: json, phase: phase, reason: "step \(step): paused until an approver promotes", step: step,
            state: "{}", candidateModel: "fraud", candidateVersion: 8, createdAt: time, updatedAt: time, createdBy: "ana", revision: revision)
    }

    static func notifier(_ logs: CapturedLogs) -> RolloutNotifier {
        RolloutNotifier(
            logger: logs.logger, retryDelays: [.milliseconds(50), .milliseconds(100)], attemptTimeout: .seconds(5),
            secret: { $0 == "HOOK_SECRET" ? ProvidersTests.secret : nil })
    }

    /// HMAC-SHA256 by an independent implementation (Python's hmac module).
    static func expectedSignature(_ body: Data) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-hmac-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("body")
        try body.write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import hmac, hashlib, sys; print('sha256=' + hmac.new(sys.argv[1].encode(), open(sys.argv[2], 'rb').read(), hashlib.sha256).hexdigest())",
            secret, file.path,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func webhookEventsAreSignedAndCarryTheTransition() async throws {
        let received = Mutex<[LocalHTTPServer.Request]>([])
        let server = try LocalHTTPServer { request in
            received.withLock { $0.append(request) }
            return .init(status: 204, body: "")
        }
        defer { server.stop() }
        let logs = CapturedLogs()
        let notifier = Self.notifier(logs)
        let hooks = [
            WebhookSpec(url: server.url + "/signed", secretEnv: "HOOK_SECRET"),
            WebhookSpec(url: server.url + "/steps", events: [.step]),
        ]
        let before = try Self.record(phase: .progressing, step: 1, revision: 4, webhooks: hooks)
        var after = try Self.record(phase: .paused, step: 1, revision: 5, webhooks: hooks)
        after.updatedAt = after.updatedAt.addingTimeInterval(3)
        await notifier.rolloutChanged(from: before, to: after, action: "rollout.pause")
        // A recorded measurement is no event; a step is one for the second hook only.
        await notifier.rolloutChanged(from: before, to: before, action: RolloutChange.measureAction)
        var stepped = try Self.record(phase: .progressing, step: 2, revision: 6, webhooks: hooks)
        stepped.reason = "candidate weight 10%"
        await notifier.rolloutChanged(from: before, to: stepped, action: "rollout.step")
        await notifier.waitForDeliveries()

        let requests = received.withLock { $0 }
        #expect(requests.count == 2, "\(requests.map(\.path))")
        let gate = try #require(requests.first { $0.path == "/signed" })
        #expect(gate.method == "POST")
        #expect(gate.headers["x-slipway-event"] == "gate")
        #expect(gate.headers["content-type"] == "application/json")
        #expect(gate.headers["x-slipway-signature"] == (try Self.expectedSignature(gate.body)))
        let event = try SlipwayJSON.decoder().decode(WebhookEvent.self, from: gate.body)
        #expect(gate.headers["x-slipway-delivery"] == event.id)
        #expect(event.rollout == "fraud-v8" && event.endpoint == "fraud")
        #expect(event.fromPhase == .progressing && event.toPhase == .paused)
        #expect(event.action == "rollout.pause" && event.step == 1 && event.revision == 5)
        #expect(event.reason.contains("paused until an approver promotes"))
        #expect(event.time == after.updatedAt)
        let object = try #require(try JSONSerialization.jsonObject(with: gate.body) as? [String: Any])
        #expect(Set(object.keys).isSuperset(of: ["rollout", "endpoint", "fromPhase", "toPhase", "action", "reason", "step", "time"]))
        let step = try #require(requests.first { $0.path == "/steps" })
        #expect(step.headers["x-slipway-event"] == "step")
        #expect(step.headers["x-slipway-signature"] == nil, "a webhook without secretEnv is not signed")
        // A body changed by one byte no longer matches its signature.
        var tampered = gate.body
        tampered[tampered.startIndex] = UInt8(ascii: " ")
        #expect(try Self.expectedSignature(tampered) != gate.headers["x-slipway-signature"])
        #expect(!logs.text.contains(Self.secret))
    }

    @Test func failingReceiversAreRetriedAndFailuresAreLoggedWithoutTheSecret() async throws {
        let attempts = Mutex<[String: Int]>([:])
        let ids = Mutex<Set<String>>([])
        let server = try LocalHTTPServer { request in
            let path = request.path.split(separator: "?").first.map(String.init) ?? ""
            let n = attempts.withLock { counts in
                counts[path, default: 0] += 1
                return counts[path]!
            }
            if let id = request.headers["x-slipway-delivery"] { _ = ids.withLock { $0.insert(id) } }
            switch request.path.split(separator: "?").first.map(String.init) ?? "" {
            case "/flaky": return .init(status: n < 3 ? 503 : 200, body: "busy")
            case "/gone": return .init(status: 404, body: "no such hook")
            default: return .init(status: 500, body: "broken \(n)")
            }
        }
        defer { server.stop() }
        let logs = CapturedLogs()
        let notifier = Self.notifier(logs)
        let hooks = ["/flaky", "/broken", "/gone"].map { WebhookSpec(url: server.url + $0 + "?token=q", secretEnv: "HOOK_SECRET") }
        let before = try Self.record(phase: .progressing, step: 3, revision: 9, webhooks: hooks)
        let after = try Self.record(phase: .degraded, step: 3, revision: 10, webhooks: hooks)
        await notifier.rolloutChanged(from: before, to: after, action: "rollout.abort")
        await notifier.waitForDeliveries()
        let counts = attempts.withLock { $0 }
        #expect(counts["/flaky"] == 3, "retried until it answered 200")
        #expect(counts["/broken"] == 3, "three attempts, then given up")
        #expect(counts["/gone"] == 1, "a 404 is not retried")
        // Each webhook's retries carry the same delivery id.
        #expect(ids.withLock { $0.count } == 3)
        let text = logs.text
        #expect(text.contains("webhook event could not be delivered"), "\(text)")
        #expect(text.contains("answered 500: broken 3"), "\(text)")
        #expect(text.contains("slipway.attempts=1 ") && text.contains("answered 404"), "\(text)")
        #expect(!text.contains(Self.secret))
        #expect(!text.contains("token=q"), "URLs are logged without their query")
    }

    @Test func aMissingSecretSendsNothingAndDeliveriesNeverHoldUpTheTransition() async throws {
        let finished = Mutex(0)
        let server = try LocalHTTPServer { request in
            if request.path == "/slow" { Thread.sleep(forTimeInterval: 2) }
            finished.withLock { $0 += 1 }
            return .init(status: 200, body: "ok")
        }
        defer { server.stop() }
        let logs = CapturedLogs()
        let notifier = Self.notifier(logs)
        let hooks = [WebhookSpec(url: server.url + "/unset", secretEnv: "UNSET_SECRET"), WebhookSpec(url: server.url + "/slow", events: [.all])]
        let before = try Self.record(phase: .paused, step: 2, revision: 2, webhooks: hooks)
        let after = try Self.record(phase: .healthy, step: 4, revision: 3, webhooks: hooks)
        await notifier.rolloutChanged(from: before, to: after, action: "rollout.complete")
        // The call returned while the slow receiver is still answering.
        #expect(finished.withLock { $0 } == 0)
        await notifier.waitForDeliveries()
        #expect(finished.withLock { $0 } == 1, "only the slow hook was called; the unsigned one was not sent")
        #expect(logs.text.contains("UNSET_SECRET") && logs.text.contains("not set"), "\(logs.text)")
    }

    @Test func signatureMatchesAKnownVector() {
        // RFC 4231 test case 2.
        let mac = RolloutNotifier.signature(body: Data("what do ya want for nothing?".utf8), secret: "Jefe")
        #expect(mac == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    // MARK: Parsing

    static let rolloutHead = """
        kind: Rollout
        metadata: {name: r}
        spec:
          endpoint: fraud
          candidate: {model: fraud, version: 2}
          strategy: {canary: {steps: [{setWeight: 10}]}}

        """

    @Test func webhooksParseAndSurviveStorage() throws {
        let yaml =
            Self.rolloutHead + """
                  webhooks:
                    - url: https://hooks.example.com/slipway
                      events: [gate, phase]
                      secretEnv: SLIPWAY_HOOK_SECRET
                    - url: http://127.0.0.1:9000/all
                      events: [all]
                    - {url: "http://127.0.0.1:9000/default"}
                """
        let (rollout, _) = try RolloutParser().parseRollout(yaml, file: "hooks.yml")
        #expect(
            rollout.webhooks == [
                WebhookSpec(url: "https://hooks.example.com/slipway", events: [.gate, .phase], secretEnv: "SLIPWAY_HOOK_SECRET"),
                WebhookSpec(url: "http://127.0.0.1:9000/all", events: [.all]),
                WebhookSpec(url: "http://127.0.0.1:9000/default", events: [.phase, .gate]),
            ])
        let stored = try JSONEncoder().encode(rollout)
        #expect(try JSONDecoder().decode(RolloutSpec.self, from: stored) == rollout)
        // A spec stored before webhooks existed still decodes, with none.
        var object = try #require(try JSONSerialization.jsonObject(with: stored) as? [String: Any])
        object["webhooks"] = nil
        let old = try JSONDecoder().decode(RolloutSpec.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.webhooks.isEmpty)
    }

    @Test func aJSONPathThatDoesNotParseIsReportedWithItsPosition() throws {
        let yaml = """
            kind: AnalysisTemplate
            metadata: {name: t}
            spec:
              args: [{name: path}]
              metrics:
                - name: health
                  provider: {web: {url: "https://monitor.example.com/health", jsonPath: "checks.ok"}}
                - name: health-by-arg
                  provider: {web: {url: "https://monitor.example.com/health", jsonPath: "{{args.path}}"}}
            """
        do {
            _ = try RolloutParser().parse(yaml, file: "t.yml")
            Issue.record("the template should be refused")
        } catch {
            let text = error.diagnostics.map(\.description).joined(separator: "\n")
            #expect(text.contains("t.yml:7:77: spec.metrics[0].provider.web.jsonPath: jsonPath 'checks.ok' does not parse"), "\(text)")
            #expect(error.diagnostics.count == 1, "a path with arguments is checked once they are substituted: \(text)")
        }
    }

    @Test func badWebhooksAreReportedWithTheirPosition() throws {
        let yaml =
            Self.rolloutHead + """
                  webhooks:
                    - url: hooks.example.com/x
                      event: [gate]
                    - url: https://hooks.example.com/y
                      events: [gate, phse, 7]
                      secretEnv: "s3cr3t value!"
                    - url: https://user:pw@hooks.example.com/z
                    - events: []
                    - just-a-string
                """
        do {
            _ = try RolloutParser().parseRollout(yaml, file: "hooks.yml")
            Issue.record("the spec should be refused")
        } catch {
            let problems = error.diagnostics.map(\.description)
            let text = problems.joined(separator: "\n")
            #expect(text.contains("hooks.yml:8:12: spec.webhooks[0].url must be an http:// or https:// URL"), "\(text)")
            #expect(text.contains("hooks.yml:9:7: unknown key 'event' in spec.webhooks[0]; did you mean 'events'?"), "\(text)")
            #expect(text.contains("hooks.yml:11:22: unknown event 'phse' in spec.webhooks[1].events"), "\(text)")
            #expect(text.contains("did you mean 'phase'?"), "\(text)")
            #expect(text.contains("hooks.yml:11:28: unknown event '7'"), "\(text)")
            #expect(text.contains("hooks.yml:12:18: spec.webhooks[1].secretEnv must name an environment variable"), "\(text)")
            #expect(text.contains("hooks.yml:13:12: spec.webhooks[2].url must not carry a user name or password"), "\(text)")
            #expect(text.contains("spec.webhooks[3] needs 'url'"), "\(text)")
            #expect(text.contains("spec.webhooks[3].events must not be empty"), "\(text)")
            #expect(text.contains("hooks.yml:15:7: spec.webhooks[4] must be a mapping"), "\(text)")
            #expect(!text.contains("s3cr3t value!") || text.contains("secretEnv must name"), "\(text)")
        }
        // Not a list at all.
        #expect(throws: RolloutError.self) { try RolloutParser().parseRollout(Self.rolloutHead + "  webhooks: https://x.example.com\n") }
    }
}

extension MeasurementOutcome {
    /// The message of an Error outcome.
    var errorText: String? {
        if case .error(let text) = self { return text }
        return nil
    }
}

/// Whether a process exists and is not a zombie.
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return kill(pid, 0) == 0 }
    guard let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(after: close)...].split(separator: " ").first ?? ""
    return state != "Z" && state != "X"
}

/// Log records kept in memory, to check what was logged (and what was not).
final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "test.webhooks") { _ in Handler(logs: self) }
    }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            logs.append("\(event.level) \(event.message) \(fields)")
        }
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 with a free port, answering each connection on its own thread and
/// closing it after one exchange.
final class LocalHTTPServer: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        /// Header names in lower case.
        var headers: [String: String]
        var body: Data
    }

    struct Response: Sendable {
        var status: Int
        var body: Data
        var contentType: String
        /// Seconds to wait before answering.
        var delay: Double
        /// Send no Content-Length: the body ends when the connection closes.
        var omitLength: Bool

        init(status: Int, body: String, contentType: String = "text/plain", delay: Double = 0, omitLength: Bool = false) {
            self.status = status
            self.body = Data(body.utf8)
            self.contentType = contentType
            self.delay = delay
            self.omitLength = omitLength
        }
    }

    let port: Int
    private let socket: Int32
    var url: String { "http://127.0.0.1:\(port)" }

    init(_ handler: @escaping @Sendable (Request) -> Response) throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        socket = fd
        let thread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                Thread { Self.serve(client, handler) }.start()
            }
        }
        thread.start()
    }

    /// Stops accepting connections (exchanges under way finish on their own).
    func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    private static func serve(_ fd: Int32, _ handler: @Sendable (Request) -> Response) {
        defer { close(fd) }
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Range<Data.Index>?
        while headerEnd == nil {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            headerEnd = buffer.range(of: Data("\r\n\r\n".utf8))
        }
        guard let headerEnd else { return }
        let head = String(decoding: buffer[..<headerEnd.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = head.first?.split(separator: " ") ?? []
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(buffer[headerEnd.upperBound...])
        let expected = Int(headers["content-length"] ?? "0") ?? 0
        while body.count < expected {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            body.append(contentsOf: chunk[0..<n])
        }
        let request = Request(
            method: requestLine.first.map(String.init) ?? "", path: requestLine.count > 1 ? String(requestLine[1]) : "/", headers: headers, body: body
        )
        let response = handler(request)
        if response.delay > 0 { Thread.sleep(forTimeInterval: response.delay) }
        var text = "HTTP/1.1 \(response.status) Status\r\nContent-Type: \(response.contentType)\r\nConnection: close\r\n"
        if !response.omitLength { text += "Content-Length: \(response.body.count)\r\n" }
        var out = Data((text + "\r\n").utf8)
        out.append(response.body)
        out.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
