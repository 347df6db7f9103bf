import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import SlipwayGateway
import Synchronization
import Testing

@testable import SlipwayServer

#if canImport(Glibc)
import Glibc
#endif

/// Supervised backends end to end: `slipway server` as a child process runs `--builtin` and
/// `--command` replicas as its own children, and the tests call them through the gateway.
@Suite(.timeLimit(.minutes(20)), .endToEnd)
struct SupervisorTests {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/data/breast-cancer")

    @Test func builtinReplicasShareTheTrafficAndAnswerLikeServeModel() async throws {
        let server = try await ServerProcess(label: "supervised-builtin")
        defer { server.cleanUp() }
        let cli = CLI(server: server)
        try await cli.trainAndRegister(model: "cancer", versions: 1)
        try await cli.run(["endpoints", "create", "tumor"])
        let deployed = try await cli.run(["deploy", "tumor", "--variant", "stable", "--model", "cancer@1", "--builtin", "--replicas", "2"])
        #expect(deployed.contains("replica"))

        let stable = try await waitForBackend(server, "tumor", "stable") { $0.readyReplicas == 2 }
        #expect(stable.kind == "builtin" && stable.desiredReplicas == 2 && stable.servingModelVersion == "cancer@1")
        let replicas = stable.replicas
        #expect(Set(replicas.compactMap(\.pid)).count == 2 && Set(replicas.compactMap(\.port)).count == 2)
        #expect(replicas.allSatisfy { $0.serving && $0.ready && $0.state == .ready && $0.restarts == 0 && isAlive($0.pid!) })
        let modelDir = try #require(stable.modelDir)
        #expect(modelDir.hasPrefix(server.dataDir.appendingPathComponent("runtime/models").path))
        #expect(FileManager.default.fileExists(atPath: modelDir + "/slipway-model.json"))
        try expectConformsToOpenAPI(await server.call(.GET, "/api/v1/endpoints/tumor", token: server.adminToken).body)

        // The same request answered by `slipway serve-model` on the trained folder, directly.
        let body = try Self.inferenceBody(rows: 5)
        let direct = try await ModelServerProcess(folder: server.folder.appendingPathComponent("cancer"), name: "cancer")
        defer { direct.stop() }
        let expected = try await post(direct.url + "/v2/models/cancer/infer", body: body)
        #expect(expected.status == 200)

        // Every answer through the gateway equals the direct one, and both replicas read requests.
        let gateway = try server.gatewayURL()
        let before = replicas.map { readBytes(of: $0.pid!) }
        for _ in 0..<20 {
            let answer = try await post(gateway + "/v2/models/tumor/infer", body: body)
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "X-Slipway-Model-Version") == "cancer@1")
            #expect(Self.outputs(answer.body) == Self.outputs(expected.body) && Self.outputs(answer.body) != nil)
        }
        let after = replicas.map { readBytes(of: $0.pid!) }
        for (index, (start, end)) in zip(before, after).enumerated() {
            if let start, let end { #expect(end - start >= 4 * body.utf8.count, "replica \(index) read \(end - start) bytes for 20 requests") }
        }
        // Each replica also answers directly on its port.
        for replica in replicas {
            let answer = try await post("http://127.0.0.1:\(replica.port!)/v2/models/cancer/infer", body: body)
            #expect(Self.outputs(answer.body) == Self.outputs(expected.body))
        }

        // SIGTERM stops the server and every process it started.
        #expect(await server.stop() == 0)
        for replica in replicas { #expect(!isAlive(replica.pid!)) }
        #expect(try await waitUntil { processes(withEnvironment: "MODEL_DIR=\(modelDir)").isEmpty })
    }

    @Test func commandReplicasGetTheirPortModelFolderAndAreRestarted() async throws {
        let server = try await ServerProcess(
            label: "supervised-command", environment: ["SLIPWAY_TOKEN": "slw_not_for_replicas", "SUPERVISOR_TEST_MARK": "kept"])
        defer { server.cleanUp() }
        let cli = CLI(server: server)
        // A folder artifact with a nested file.
        let artifact = server.folder.appendingPathComponent("echo-model")
        try FileManager.default.createDirectory(at: artifact.appendingPathComponent("config"), withIntermediateDirectories: true)
        let files = ["weights.txt": "w = [0.25, 0.75]\n", "config/params.json": #"{"depth": 3}"#]
        for (path, content) in files { try Data(content.utf8).write(to: artifact.appendingPathComponent(path)) }
        try await cli.run(["models", "create", "echo"])
        try await cli.run(["versions", "create", "echo", "--artifact", artifact.path, "--no-probe"])
        let script = try Self.writeEchoServer(in: server.folder)
        try await cli.run(["endpoints", "create", "echo-api"])
        // The server ignores SIGTERM: stopping it takes the SIGKILL after the grace period.
        try await cli.run([
            "deploy", "echo-api", "--variant", "stable", "--model", "echo@1", "--command", "exec python3 \(script.path) --ignore-sigterm",
            "--replicas", "2",
        ])
        let stable = try await waitForBackend(server, "echo-api", "stable") { $0.readyReplicas == 2 }
        #expect(stable.kind == "command" && stable.command?.contains("python3") == true)
        let modelDir = try #require(stable.modelDir)
        try expectConformsToOpenAPI(await server.call(.GET, "/api/v1/endpoints/echo-api", token: server.adminToken).body)

        // Through the gateway: the port and pid are the ones in the status, the folder holds the artifact,
        // the environment names the deployment and carries no Slipway secrets.
        let gateway = try server.gatewayURL()
        var seen: [Int32: EchoAnswer] = [:]
        for _ in 0..<20 {
            let answer = try await post(gateway + "/v2/models/echo-api/infer", body: #"{"inputs": []}"#)
            #expect(answer.status == 200)
            let echo = try JSONDecoder().decode(EchoAnswer.self, from: answer.body)
            seen[echo.pid] = echo
        }
        #expect(Set(seen.keys) == Set(stable.replicas.compactMap(\.pid)))
        for echo in seen.values {
            let replica = try #require(stable.replicas.first { $0.pid == echo.pid })
            #expect(echo.port == replica.port)
            #expect(echo.environment["PORT"] == String(replica.port!))
            #expect(echo.environment["SLIPWAY_REPLICA"] == String(replica.slot))
            #expect(echo.modelDir == modelDir)
            #expect(echo.files == files)
            #expect(echo.environment["SLIPWAY_MODEL_NAME"] == "echo" && echo.environment["SLIPWAY_MODEL_VERSION"] == "1")
            #expect(echo.environment["SLIPWAY_ENDPOINT"] == "echo-api" && echo.environment["SLIPWAY_VARIANT"] == "stable")
            #expect(echo.environment["SUPERVISOR_TEST_MARK"] == "kept")
            #expect(echo.environment["SLIPWAY_TOKEN"] == nil && echo.environment["SLIPWAY_DATA_DIR"] == nil)
        }
        let log = try String(contentsOfFile: stable.replicas[0].logFile, encoding: .utf8)
        #expect(log.contains("echo server listening on \(stable.replicas[0].port!)"))

        // kill -9 one replica: it leaves the rotation, the other answers everything, then it comes back.
        let victim = stable.replicas[0]
        let survivor = stable.replicas[1]
        kill(victim.pid!, SIGKILL)
        // Out of the rotation, or (on a machine slow enough that the status was not read in between) already
        // back with one restart: either way the supervisor saw the SIGKILL.
        let out = try await waitForBackend(server, "echo-api", "stable") { backend in
            backend.replicas.first { $0.slot == victim.slot }.map { !$0.serving || $0.restarts >= 1 } ?? false
        }
        #expect(out.replicas.first { $0.slot == victim.slot }?.lastExit?.signal == SIGKILL)
        for _ in 0..<10 {
            let answer = try await post(gateway + "/v2/models/echo-api/infer", body: #"{"inputs": []}"#)
            #expect(answer.status == 200)
            if answer.status == 200 { #expect(try JSONDecoder().decode(EchoAnswer.self, from: answer.body).pid != victim.pid) }
        }
        let back = try await waitForBackend(server, "echo-api", "stable") { backend in
            backend.readyReplicas == 2 && backend.replicas.first { $0.slot == victim.slot }?.restarts == 1
        }
        let restarted = try #require(back.replicas.first { $0.slot == victim.slot })
        #expect(restarted.pid != victim.pid && restarted.lastExit?.reason.contains("signal 9") == true)
        #expect(back.replicas.first { $0.slot == survivor.slot }?.pid == survivor.pid)
        #expect(!isAlive(victim.pid!))

        // SIGTERM of the server: the replicas ignore it, get SIGKILL after the grace period, and nothing is left.
        let pids = back.replicas.compactMap(\.pid)
        #expect(await server.stop() == 0)
        for pid in pids { #expect(!isAlive(pid)) }
        #expect(try await waitUntil { processes(withEnvironment: "MODEL_DIR=\(modelDir)").isEmpty })
    }

    @Test func aCommandThatExitsAtOnceBacksOffAndItsVariantAnswers503() async throws {
        let server = try await ServerProcess(label: "supervised-crash")
        defer { server.cleanUp() }
        let cli = CLI(server: server)
        try Data("weights".utf8).write(to: server.folder.appendingPathComponent("model.bin"))
        try await cli.run(["models", "create", "broken"])
        try await cli.run(["versions", "create", "broken", "--artifact", "model.bin", "--no-probe"])
        try await cli.run(["endpoints", "create", "broken-api"])
        try await cli.run([
            "deploy", "broken-api", "--variant", "stable", "--model", "broken@1", "--command",
            "echo \"cannot load $MODEL_DIR/model.bin\" >&2; exit 3",
        ])

        // Each quick exit doubles the delay before the next start: 0.5 s, 1 s, 2 s, 4 s … up to 30 s.
        var delays: [Int: Double] = [:]
        let backend = try await waitForBackend(server, "broken-api", "stable") { backend in
            guard let replica = backend.replicas.first, replica.state == .waiting, let delay = replica.backoffSeconds else { return false }
            delays[replica.restarts] = delay
            return replica.restarts >= 3 && delays.count >= 3
        }
        let replica = try #require(backend.replicas.first)
        #expect(replica.lastExit?.code == 3 && replica.lastExit?.reason == "exited with status 3")
        #expect(replica.nextRestartAt != nil && !replica.serving && backend.readyReplicas == 0)
        #expect(delays.count >= 3, "delays seen: \(delays)")
        for (restarts, delay) in delays { #expect(delay == min(0.5 * pow(2, Double(restarts)), 30), "after \(restarts) restarts: \(delay) s") }
        let log = try String(contentsOfFile: replica.logFile, encoding: .utf8)
        #expect(log.contains("cannot load \(server.dataDir.path)/runtime/models/"))
        let file = try #require(backend.modelDir).appending("/model.bin")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data("weights".utf8))

        let answer = try await post(try server.gatewayURL() + "/v2/models/broken-api/infer", body: #"{"inputs": []}"#)
        #expect(answer.status == 503)
        #expect(String(decoding: answer.body, as: UTF8.self).contains("'stable'"))
        #expect(await server.stop() == 0)
    }

    @Test func redeployingSwapsToTheNewVersionWithoutAFailedRequest() async throws {
        let server = try await ServerProcess(label: "supervised-redeploy")
        defer { server.cleanUp() }
        let cli = CLI(server: server)
        try await cli.trainAndRegister(model: "cancer", versions: 2)
        try await cli.run(["endpoints", "create", "tumor"])
        try await cli.run(["deploy", "tumor", "--variant", "stable", "--model", "cancer@1", "--builtin", "--replicas", "2"])
        let first = try await waitForBackend(server, "tumor", "stable") { $0.readyReplicas == 2 }
        let gateway = try server.gatewayURL()
        let body = try Self.inferenceBody(rows: 1)

        // Two clients send requests without pause while the variant moves to version 2. Each outcome keeps when its
        // request was sent and when its answer came, since the two clients' answers need not arrive in sending order.
        final class Recorder: Sendable {
            let stop = Atomic<Bool>(false)
            let outcomes = Mutex<[(outcome: String, sent: ContinuousClock.Instant, answered: ContinuousClock.Instant)]>([])
        }
        let recorder = Recorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    while !recorder.stop.load(ordering: .acquiring) {
                        let outcome: String
                        let sent = ContinuousClock.now
                        do {
                            let answer = try await post(gateway + "/v2/models/tumor/infer", body: body)
                            outcome =
                                answer.status == 200
                                ? answer.headers.first(name: "X-Slipway-Model-Version") ?? "?"
                                : "\(answer.status) \(String(decoding: answer.body, as: UTF8.self))"
                        } catch {
                            outcome = "error \(error)"
                        }
                        recorder.outcomes.withLock { $0.append((outcome, sent, ContinuousClock.now)) }
                    }
                }
            }
            try await waitUntil { recorder.outcomes.withLock { $0.count } >= 20 }
            try await cli.run(["deploy", "tumor", "--variant", "stable", "--model", "cancer@2", "--builtin", "--replicas", "2"])
            _ = try await waitForBackend(server, "tumor", "stable") { backend in
                backend.servingModelVersion == "cancer@2" && backend.replicas.allSatisfy { $0.modelVersion == "cancer@2" }
            }
            let count = recorder.outcomes.withLock { $0.count }
            try await waitUntil { recorder.outcomes.withLock { $0.count } >= count + 20 }
            recorder.stop.store(true, ordering: .releasing)
            try await group.waitForAll()
        }
        let timeline = recorder.outcomes.withLock { $0 }
        let outcomes = timeline.map(\.outcome)
        let failures = outcomes.filter { $0 != "cancer@1" && $0 != "cancer@2" }
        #expect(failures.isEmpty, "\(failures.count) of \(outcomes.count) requests failed: \(Set(failures))")
        #expect(outcomes.first == "cancer@1" && outcomes.last == "cancer@2")
        // Once version 2 answered, no request sent afterwards got version 1.
        if let switched = timeline.filter({ $0.outcome == "cancer@2" }).map(\.answered).min() {
            let late = timeline.filter { $0.outcome == "cancer@1" && $0.sent > switched }
            #expect(late.isEmpty, "\(late.count) requests sent after version 2 answered got version 1")
        }
        for replica in first.replicas { #expect(try await waitUntil { !isAlive(replica.pid!) }) }
        #expect(await server.stop() == 0)
    }

    @Test func replicasDieSoonAfterTheServerIsKilled() async throws {
        let server = try await ServerProcess(label: "supervised-kill")
        defer { server.cleanUp() }
        let cli = CLI(server: server)
        try Data("weights".utf8).write(to: server.folder.appendingPathComponent("model.bin"))
        try await cli.run(["models", "create", "echo"])
        try await cli.run(["versions", "create", "echo", "--artifact", "model.bin", "--no-probe"])
        let script = try Self.writeEchoServer(in: server.folder)
        try await cli.run(["endpoints", "create", "echo-api"])
        try await cli.run(["deploy", "echo-api", "--variant", "stable", "--model", "echo@1", "--command", "python3 \(script.path)"])
        let stable = try await waitForBackend(server, "echo-api", "stable") { $0.readyReplicas == 1 }
        let pid = try #require(stable.replicas.first?.pid)
        let modelDir = try #require(stable.modelDir)
        #expect(
            try JSONDecoder().decode(
                EchoAnswer.self, from: try await post(try server.gatewayURL() + "/v2/models/echo-api/infer", body: #"{"inputs": []}"#).body
            ).files == ["model.bin": "weights"])
        // SIGKILL leaves the server no chance to stop them; the watchdog in each replica's process group does.
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        #expect(try await waitUntil { !isAlive(pid) })
        #expect(try await waitUntil { processes(withEnvironment: "MODEL_DIR=\(modelDir)").isEmpty })
    }

    // MARK: Helpers

    /// The CLI against the test's server (found through the data folder's announcement).
    struct CLI {
        let server: ServerProcess

        @discardableResult
        func run(_ arguments: [String]) async throws -> String {
            let result = try await runCLI(arguments + ["--data-dir", server.dataDir.path], in: server.folder)
            guard result.status == 0 else { throw TestFailure("slipway \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
            return result.stdout
        }

        /// Trains a logistic model into `<folder>/<model>` and registers it `versions` times.
        func trainAndRegister(model: String, versions: Int) async throws {
            let train = SupervisorTests.data.appendingPathComponent("train.csv").path
            let trained = try await runCLI(["train", "--algorithm", "logistic", "--data", train, "--target", "target", "--out", model], in: server.folder)
            guard trained.status == 0 else { throw TestFailure("training failed: \(trained.stderr)") }
            try await run(["models", "create", model])
            for _ in 0..<versions { try await run(["versions", "create", model, "--artifact", model, "--no-probe"]) }
        }
    }

    /// A V2 inference request with the first `rows` rows of the held-out data.
    static func inferenceBody(rows: Int) throws -> String {
        let lines = try String(contentsOf: data.appendingPathComponent("test.csv"), encoding: .utf8).split(separator: "\n").dropFirst().prefix(rows)
        let values = lines.map { $0.split(separator: ",").dropLast().joined(separator: ",") }.joined(separator: ",")
        return #"{"inputs": [{"name": "x", "shape": [\#(lines.count), 30], "datatype": "FP64", "data": [\#(values)]}]}"#
    }

    /// The `outputs` of a V2 answer, for comparing answers whose ids differ.
    static func outputs(_ body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let outputs = object["outputs"],
            let data = try? JSONSerialization.data(withJSONObject: outputs, options: [.sortedKeys])
        else { return nil }
        return "\(object["model_name"] ?? "")/\(object["model_version"] ?? "")/" + String(decoding: data, as: UTF8.self)
    }

    /// What the echo server answers to an inference request.
    struct EchoAnswer: Decodable {
        var pid: Int32
        var port: Int
        var modelDir: String
        var files: [String: String]
        var environment: [String: String]
    }

    /// A small Open Inference Protocol server in Python that answers with what it was given.
    static func writeEchoServer(in folder: URL) throws -> URL {
        let script = folder.appendingPathComponent("echo_server.py")
        try """
        import http.server, json, os, signal, sys

        if "--ignore-sigterm" in sys.argv:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        port = int(os.environ["PORT"])
        model_dir = os.environ["MODEL_DIR"]
        name = os.environ["SLIPWAY_MODEL_NAME"]

        def files():
            found = {}
            for root, _, names in os.walk(model_dir):
                for file in names:
                    path = os.path.join(root, file)
                    with open(path) as handle:
                        found[os.path.relpath(path, model_dir)] = handle.read()
            return found

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
                if self.path == "/v2/health/ready":
                    self.answer(200, {"ready": True})
                else:
                    self.answer(404, {"error": "no route for " + self.path})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/v2/models/%s/infer" % name:
                    self.answer(200, {
                        "model_name": name, "outputs": [], "pid": os.getpid(), "port": port, "modelDir": model_dir,
                        "files": files(), "environment": dict(os.environ),
                    })
                else:
                    self.answer(404, {"error": "no model at " + self.path})

        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        print("echo server listening on %d" % port, flush=True)
        server.serve_forever()
        """.write(to: script, atomically: true, encoding: .utf8)
        return script
    }
}

/// `slipway serve-model` started directly, to compare answers with.
final class ModelServerProcess {
    let process: Process
    let url: String

    init(folder: URL, name: String, version: String = "1") async throws {
        let ready = folder.deletingLastPathComponent().appendingPathComponent("direct-\(UUID().uuidString.prefix(6)).json")
        process = Process()
        process.executableURL = slipwayExecutable()
        process.arguments = [
            "serve-model", "--model", folder.path, "--port", "0", "--ready-file", ready.path, "--name", name, "--model-version", version,
            "--log-level",
            "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var found: String?
        let deadline = Date().addingTimeInterval(60)
        while found == nil, Date() < deadline, process.isRunning {
            if let bytes = try? Data(contentsOf: ready), let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: String] {
                found = object["url"]
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        guard let found else {
            process.terminate()
            throw TestFailure("serve-model did not start")
        }
        url = found
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

extension ServerProcess {
    /// The gateway's URL, from the line the server prints once it listens.
    func gatewayURL() throws -> String {
        let out = (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? ""
        guard let range = out.range(of: #"gateway on http://[0-9.]+:[0-9]+"#, options: .regularExpression) else {
            throw TestFailure("the server did not print its gateway URL: \(out)")
        }
        return String(out[range].dropFirst("gateway on ".count))
    }
}

/// One POST with a JSON body.
func post(_ url: String, body: String) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 16 << 20)
    return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
}

/// Polls `condition` every 50 ms until it holds or a generous deadline passes; returns whether it held.
@discardableResult
func waitUntil(seconds: Double = 60, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// Polls an endpoint's status until its variant's supervised backend satisfies `condition`, and returns it.
func waitForBackend(
    _ server: ServerProcess, _ endpoint: String, _ variant: String, seconds: Double = 60, _ condition: (BackendStatus) -> Bool
) async throws -> BackendStatus {
    var last: BackendStatus?
    let held = try await waitUntil(seconds: seconds) {
        let reply = try await server.call(.GET, "/api/v1/endpoints/\(endpoint)", token: server.adminToken)
        struct View: Decodable { var backends: [String: BackendStatus]? }
        last = try SlipwayJSON.decoder().decode(View.self, from: reply.body).backends?[variant]
        return last.map(condition) ?? false
    }
    guard held, let last else {
        throw TestFailure("\(endpoint)/\(variant) did not reach the expected state; last status: \(String(describing: last))")
    }
    return last
}

/// Whether a process exists and is not a zombie.
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return kill(pid, 0) == 0 }
    guard let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(after: close)...].split(separator: " ").first ?? ""
    return state != "Z" && state != "X"
}

/// The live processes whose environment holds `entry` (`NAME=value` prefix).
func processes(withEnvironment entry: String) -> [Int32] {
    let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
    return pids.filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self).hasPrefix(entry) } && isAlive(pid)
    }
}

/// The bytes a process has read so far (`rchar` of `/proc/PID/io`), nil where that is not readable.
func readBytes(of pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else { return nil }
    return text.split(separator: "\n").first { $0.hasPrefix("rchar:") }.flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) }
}

/// Checks an endpoint status answer against the OpenAPI document's `EndpointStatus` schema.
func expectConformsToOpenAPI(_ body: Data, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let document = try OpenAPI()
    let value = try JSONDecoder().decode(JSONValue.self, from: body)
    let schema = try JSONDecoder().decode(JSONValue.self, from: Data(##"{"$ref": "#/components/schemas/EndpointStatus"}"##.utf8))
    let problems = document.violations(of: value, against: schema)
    #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))", sourceLocation: sourceLocation)
    #expect(value["backends"] != nil, sourceLocation: sourceLocation)
}

/// The supervisor's decisions, without processes or clocks.
@Suite struct SupervisorStateMachineTests {
    typealias Machine = SupervisorStateMachine
    let start = ContinuousClock.now
    let key = VariantKey(endpoint: "churn-api", variant: "stable")

    func spec(version: Int, command: String = "serve") -> ReplicaSpec {
        ReplicaSpec(
            model: "churn", version: version, backend: .command(command), artifact: Digest(of: Data("v\(version)".utf8)), artifactFileName: "model")
    }

    /// Runs a tick and answers every launch with a process and every model folder with a path.
    func tick(_ machine: inout Machine, at offset: Duration, pids: inout Int32) -> [SupervisorAction] {
        let now = start + offset
        let actions = machine.tick(now: now)
        for action in actions {
            switch action {
            case .prepareModel(let generation, _): machine.prepared(generation: generation, result: .success("/models/\(generation)"), now: now)
            case .launch(let launch):
                pids += 1
                machine.launched(replica: launch.replica, pid: pids, port: Int(pids) + 10000, now: now)
            default: break
            }
        }
        return actions
    }

    /// The signals among actions, as `PID:SIGNAL`.
    func signals(_ actions: [SupervisorAction]) -> Set<String> {
        Set(actions.compactMap { if case .signal(let pid, let signal) = $0 { "\(pid):\(signal)" } else { nil } })
    }

    func makeReady(_ machine: inout Machine, at offset: Duration) {
        for replica in machine.allReplicas {
            if case .starting(let pid, _, _) = replica.phase { machine.probed(replica: replica.id, pid: pid, ready: true, now: start + offset) }
        }
    }

    @Test func backoffDoublesUpToItsMaximumAndStartsOverAfterALongRun() {
        var backoff = RestartBackoff(initial: .milliseconds(500), maximum: .seconds(4), resetAfter: .seconds(60))
        let delays = (0..<6).map { _ in backoff.delay(afterRunningFor: .milliseconds(20)).seconds }
        #expect(delays == [0.5, 1, 2, 4, 4, 4])
        #expect(backoff.delay(afterRunningFor: .seconds(61)) == .milliseconds(500))
        #expect(backoff.delay(afterRunningFor: .seconds(1)) == .seconds(1))
    }

    @Test func replicasJoinWhenReadyAndLeaveWhenTheyExit() {
        var machine = Machine()
        var pids: Int32 = 100
        machine.reconcile([key: DesiredBackend(spec: spec(version: 1), replicas: 2)], now: start)
        _ = tick(&machine, at: .zero, pids: &pids)  // prepares the model folder
        _ = tick(&machine, at: .milliseconds(100), pids: &pids)  // launches both
        #expect(machine.livePIDs.sorted() == [101, 102])
        #expect(machine.servingBackends().isEmpty)
        makeReady(&machine, at: .milliseconds(200))
        #expect(machine.servingBackends()["churn-api"]?["stable"]?.map(\.port) == [10101, 10102])

        machine.exited(pid: 101, exit: ProcessExit(waitStatus: 9), now: start + .seconds(1))
        #expect(machine.servingBackends()["churn-api"]?["stable"]?.map(\.port) == [10102])
        let waiting = machine.allReplicas.first { $0.slot == 0 }
        #expect(waiting?.phase == .waiting(until: start + .seconds(1) + .milliseconds(500)))
        #expect(waiting?.lastExit?.signal == 9)
        #expect(tick(&machine, at: .milliseconds(1400), pids: &pids).allSatisfy { if case .launch = $0 { false } else { true } })
        _ = tick(&machine, at: .milliseconds(1500), pids: &pids)
        #expect(machine.allReplicas.first { $0.slot == 0 }?.restarts == 1)
    }

    @Test func aReadyReplicaThatStopsAnsweringIsTakenOutAndStopped() {
        var machine = Machine()
        var pids: Int32 = 0
        machine.reconcile([key: DesiredBackend(spec: spec(version: 1), replicas: 1)], now: start)
        _ = tick(&machine, at: .zero, pids: &pids)
        _ = tick(&machine, at: .zero, pids: &pids)
        makeReady(&machine, at: .zero)
        for attempt in 1...3 { machine.probed(replica: machine.allReplicas[0].id, pid: 1, ready: false, now: start + .seconds(attempt)) }
        #expect(machine.servingBackends().isEmpty)
        #expect(signals(tick(&machine, at: .seconds(3), pids: &pids)) == ["1:\(SIGTERM)"])
        #expect(signals(tick(&machine, at: .seconds(8), pids: &pids)) == ["1:\(SIGKILL)"])
        machine.exited(pid: 1, exit: ProcessExit(waitStatus: 9), now: start + .seconds(8))
        #expect(machine.allReplicas[0].lastExit?.reason.hasPrefix("did not answer 3 readiness checks in a row") == true)
    }

    @Test func aRedeployServesTheOldVersionUntilTheNewOneIsReadyThenDrainsIt() {
        var machine = Machine()
        var pids: Int32 = 0
        machine.reconcile([key: DesiredBackend(spec: spec(version: 1), replicas: 2)], now: start)
        _ = tick(&machine, at: .zero, pids: &pids)
        _ = tick(&machine, at: .zero, pids: &pids)
        makeReady(&machine, at: .zero)

        machine.reconcile([key: DesiredBackend(spec: spec(version: 2), replicas: 2)], now: start + .seconds(1))
        _ = tick(&machine, at: .seconds(1), pids: &pids)
        _ = tick(&machine, at: .seconds(1), pids: &pids)
        #expect(machine.servingBackends()["churn-api"]?["stable"]?.map(\.modelVersion) == ["churn@1", "churn@1"])
        // One new replica ready is not enough while the old ones serve.
        let new = machine.allReplicas.filter { $0.spec.version == 2 }
        machine.probed(replica: new[0].id, pid: new[0].pid!, ready: true, now: start + .seconds(2))
        _ = tick(&machine, at: .seconds(2), pids: &pids)
        #expect(machine.servingBackends()["churn-api"]?["stable"]?.map(\.modelVersion) == ["churn@1", "churn@1"])
        machine.probed(replica: new[1].id, pid: new[1].pid!, ready: true, now: start + .seconds(2))
        #expect(signals(tick(&machine, at: .seconds(2), pids: &pids)).isEmpty)
        #expect(machine.servingBackends()["churn-api"]?["stable"]?.map(\.modelVersion) == ["churn@2", "churn@2"])
        // The old replicas drain, then get SIGTERM.
        #expect(signals(tick(&machine, at: .seconds(3), pids: &pids)).isEmpty)
        #expect(signals(tick(&machine, at: .seconds(4), pids: &pids)) == ["1:\(SIGTERM)", "2:\(SIGTERM)"])
        machine.exited(pid: 1, exit: ProcessExit(waitStatus: 0), now: start + .seconds(4))
        machine.exited(pid: 2, exit: ProcessExit(waitStatus: 0), now: start + .seconds(4))
        #expect(machine.allReplicas.map(\.spec.version) == [2, 2])
    }

    @Test func scalingDownDrainsTheHighestSlotsAndRemovingTheDeploymentStopsEverything() {
        var machine = Machine()
        var pids: Int32 = 0
        machine.reconcile([key: DesiredBackend(spec: spec(version: 1), replicas: 3)], now: start)
        _ = tick(&machine, at: .zero, pids: &pids)
        _ = tick(&machine, at: .zero, pids: &pids)
        makeReady(&machine, at: .zero)
        machine.reconcile([key: DesiredBackend(spec: spec(version: 1), replicas: 1)], now: start + .seconds(1))
        #expect(machine.servingBackends()["churn-api"]?["stable"]?.map(\.port) == [10001])
        #expect(signals(tick(&machine, at: .seconds(3), pids: &pids)) == ["2:\(SIGTERM)", "3:\(SIGTERM)"])

        machine.reconcile([:], now: start + .seconds(4))
        #expect(machine.servingBackends().isEmpty)
        machine.shutDown(now: start + .seconds(4))
        #expect(signals(tick(&machine, at: .seconds(4), pids: &pids)) == ["1:\(SIGTERM)"])
        #expect(signals(tick(&machine, at: .seconds(8), pids: &pids)) == ["2:\(SIGKILL)", "3:\(SIGKILL)"])
        #expect(signals(tick(&machine, at: .seconds(9), pids: &pids)) == ["1:\(SIGKILL)"])
        for pid: Int32 in 1...3 { machine.exited(pid: pid, exit: ProcessExit(waitStatus: 9), now: start + .seconds(9)) }
        #expect(machine.isIdle && machine.variants.isEmpty)
    }

    @Test func exitStatusesAreDecoded() {
        #expect(ProcessExit(waitStatus: 3 << 8).reason == "exited with status 3")
        #expect(ProcessExit(waitStatus: 3 << 8).code == 3)
        #expect(ProcessExit(waitStatus: 15).reason == "killed by signal 15 (SIGTERM)")
        #expect(ModelFolders.fileName(fromSource: "/home/ana/model.onnx") == "model.onnx")
        #expect(ModelFolders.fileName(fromSource: "runs:/0a1b/") == "0a1b")
        #expect(ModelFolders.fileName(fromSource: "") == "model")
    }
}
