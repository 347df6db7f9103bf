import AsyncHTTPClient
import Foundation
import Glibc
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

/// Remote runners and their pipeline jobs over HTTP, against a real `slipway server` child process: registration,
/// label matching, payload delivery, streamed lines, cancellation, results, ephemeral runners, long polls, roles,
/// and malformed or hostile input. Each test takes a few seconds; the time limit also covers the wait for an
/// end-to-end slot.
@Suite(.timeLimit(.minutes(3)), .endToEnd) struct RunnerAPITests {
    // MARK: Helpers

    /// A server whose JSON bodies may be at most 2 MiB, so that an over-limit body is cheap to send.
    static func start(_ label: String) async throws -> ServerProcess {
        let folder = try makeScratchFolder(label)
        try "server:\n  maxBodyBytes: 2097152\n".write(to: folder.appendingPathComponent("slipway.yml"), atomically: true, encoding: .utf8)
        return try await ServerProcess(label: label, folder: folder)
    }

    /// A JSON body from a dictionary (so hostile strings are escaped the way a client would escape them).
    static func body(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func register(
        _ server: ServerProcess, _ name: String, labels: [String], ephemeral: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let reply = try await server.call(
            .POST, "/api/v1/runners", token: server.adminToken, json: try body(["name": name, "labels": labels, "ephemeral": ephemeral]))
        #expect(reply.status == 201, "register \(name): \(reply.text)", sourceLocation: sourceLocation)
        return try #require(reply.object["id"] as? String, sourceLocation: sourceLocation)
    }

    static func submit(
        _ server: ServerProcess, _ name: String, labels: [String], payload: String = "{}", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let reply = try await server.call(
            .POST, "/api/v1/pipeline-jobs", token: server.adminToken,
            json: try body(["name": name, "run": "run-1", "labels": labels, "payload": payload]))
        #expect(reply.status == 201, "submit \(name): \(reply.text)", sourceLocation: sourceLocation)
        return try #require(reply.object["id"] as? String, sourceLocation: sourceLocation)
    }

    static func status(_ server: ServerProcess, _ job: String, after: Int = 0, token: String? = nil) async throws -> Reply {
        try await server.call(.GET, "/api/v1/pipeline-jobs/\(job)?after=\(after)", token: token ?? server.adminToken)
    }

    static func lines(_ server: ServerProcess, _ job: String, runner: String, _ lines: [String]) async throws -> Reply {
        try await server.call(
            .POST, "/api/v1/pipeline-jobs/\(job)/lines", token: server.adminToken, json: try body(["runner": runner, "lines": lines]))
    }

    static func result(_ server: ServerProcess, _ job: String, runner: String, _ result: String) async throws -> Reply {
        try await server.call(
            .POST, "/api/v1/pipeline-jobs/\(job)/result", token: server.adminToken, json: try body(["runner": runner, "result": result]))
    }

    static func next(_ server: ServerProcess, _ runner: String, query: String = "") async throws -> Reply {
        try await server.call(.POST, "/api/v1/runners/\(runner)/next" + query, token: server.adminToken)
    }

    static func runners(_ server: ServerProcess, token: String? = nil) async throws -> [[String: Any]] {
        let reply = try await server.call(.GET, "/api/v1/runners", token: token ?? server.adminToken)
        #expect(reply.status == 200, "\(reply.text)")
        return reply.object["runners"] as? [[String: Any]] ?? []
    }

    static func token(_ server: ServerProcess, role: String) async throws -> String {
        let created = try await server.call(.POST, "/api/v1/tokens", token: server.adminToken, json: #"{"name": "\#(role)-1", "role": "\#(role)"}"#)
        #expect(created.status == 201, "\(created.text)")
        return try #require(created.object["token"] as? String)
    }

    /// Expects a native error answer with the status and code, and a message that says something.
    /// A GET sent as raw bytes on a fresh connection (`Connection: close`), for targets an HTTP client would
    /// rewrite; the answer's status and body.
    static func rawGET(_ base: String, _ path: String, token: String) async throws -> (Int, String) {
        let port = try #require(URL(string: base)?.port.map(UInt16.init))
        return try await Task.detached {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(socket) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
            let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n"
            _ = request.withCString { send(socket, $0, strlen($0), 0) }
            var answer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(socket, &chunk, chunk.count, 0)
                if count <= 0 { break }
                answer += chunk[0..<count]
            }
            let text = String(decoding: answer, as: UTF8.self)
            let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
            return (status, text)
        }.value
    }

    static func expectError(
        _ reply: Reply, _ status: Int, _ code: String, mentioning words: String? = nil, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(reply.status == status, "\(what): \(reply.status) \(reply.text.prefix(300))", sourceLocation: sourceLocation)
        #expect(reply.errorCode == code, "\(what): \(reply.text.prefix(300))", sourceLocation: sourceLocation)
        let message = (reply.object["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.count > 10, "\(what): the message says too little: '\(message)'", sourceLocation: sourceLocation)
        if let words { #expect(message.contains(words), "\(what): '\(message)' does not mention '\(words)'", sourceLocation: sourceLocation) }
    }

    // MARK: The protocol

    @Test("a job goes to the runner with its labels, streams lines, is cancelled and completes with its result")
    func wholeProtocol() async throws {
        let server = try await Self.start("runner-protocol")
        defer { server.cleanUp() }
        let cpu = try await Self.register(server, "cpu-1", labels: ["linux"])
        let gpu = try await Self.register(server, "gpu-1", labels: ["Linux", "GPU"])
        let listed = try await Self.runners(server)
        #expect(listed.map { $0["name"] as? String } == ["cpu-1", "gpu-1"])
        #expect(listed.last?["labels"] as? [String] == ["linux", "gpu"], "labels are lower-cased")
        #expect(listed.allSatisfy { $0["state"] as? String == "idle" && $0["jobsTaken"] as? Int == 0 })

        let payload = #"{"steps": [{"run": "python train.py"}], "secrets": {"TOKEN": "s3cr3t"}}"#
        let job = try await Self.submit(server, "train", labels: ["gpu"], payload: payload)
        let queued = try await Self.status(server, job)
        #expect(queued.object["state"] as? String == "queued")
        #expect((queued.object["waitingReason"] as? String)?.contains("[gpu]") == true, "\(queued.text)")

        // The runner without the label gets nothing; the one with it gets the job and its payload.
        #expect(try await Self.next(server, cpu).status == 204)
        let taken = try await Self.next(server, gpu)
        #expect(taken.status == 200, "\(taken.text)")
        let assignment = try #require(taken.object["job"] as? [String: Any])
        #expect(assignment["id"] as? String == job)
        #expect(assignment["name"] as? String == "train")
        #expect(assignment["payload"] as? String == payload)
        #expect(try await Self.next(server, cpu).status == 204, "a job is given once")
        Self.expectError(try await Self.next(server, gpu), 409, "failed_precondition", mentioning: "result", "a busy runner polls again")
        let running = try await Self.status(server, job)
        #expect(running.object["state"] as? String == "running")
        #expect(running.object["runner"] as? String == "gpu-1")
        #expect(running.object["startedAt"] is String)
        let busy = try await Self.runners(server).first { $0["id"] as? String == gpu }
        #expect(busy?["state"] as? String == "busy" && busy?["job"] as? String == job && busy?["jobsTaken"] as? Int == 1)

        // Lines arrive incrementally: each read from `after` gets only what is new.
        #expect(try await Self.lines(server, job, runner: gpu, ["epoch 1", "epoch 2"]).object["cancelled"] as? Bool == false)
        let first = try await Self.status(server, job, after: 0)
        #expect(first.object["lines"] as? [String] == ["epoch 1", "epoch 2"])
        #expect(first.object["next"] as? Int == 2)
        #expect(try await Self.lines(server, job, runner: gpu, ["epoch 3"]).object["cancelled"] as? Bool == false)
        let second = try await Self.status(server, job, after: 2)
        #expect(second.object["lines"] as? [String] == ["epoch 3"])
        #expect(second.object["next"] as? Int == 3)
        let nothing = try await Self.status(server, job, after: 3)
        #expect(nothing.object["lines"] as? [String] == [])
        #expect(nothing.object["next"] as? Int == 3)
        #expect(try await Self.status(server, job, after: 99).object["lines"] as? [String] == [])

        // Cancelling a running job tells its runner on the next lines it posts; the runner then posts its result.
        let cancel = try await server.call(.POST, "/api/v1/pipeline-jobs/\(job)/cancel", token: server.adminToken)
        #expect(cancel.status == 200, "\(cancel.text)")
        #expect(cancel.object["cancelRequested"] as? Bool == true)
        #expect(cancel.object["state"] as? String == "running")
        #expect(try await Self.lines(server, job, runner: gpu, ["stopping"]).object["cancelled"] as? Bool == true)
        let outcome = #"{"conclusion": "cancelled", "outputs": {"epochs": "3"}}"#
        let posted = try await Self.result(server, job, runner: gpu, outcome)
        #expect(posted.status == 200 && posted.text == "{}", "\(posted.text)")
        let done = try await Self.status(server, job)
        #expect(done.object["state"] as? String == "completed")
        #expect(done.object["result"] as? String == outcome)
        #expect(done.object["finishedAt"] is String)
        #expect(done.object["error"] is String == false)
        #expect(done.object["lines"] as? [String] == ["epoch 1", "epoch 2", "epoch 3", "stopping"])

        // The job is over: its runner can neither stream nor answer again, and is free for the next job.
        Self.expectError(try await Self.lines(server, job, runner: gpu, ["late"]), 409, "failed_precondition", "lines after the result")
        Self.expectError(try await Self.result(server, job, runner: gpu, "{}"), 409, "failed_precondition", "a second result")
        #expect(try await Self.status(server, job).object["result"] as? String == outcome)
        let idle = try await Self.runners(server).first { $0["id"] as? String == gpu }
        #expect(idle?["state"] as? String == "idle" && idle?["job"] is String == false)
        #expect(try await Self.next(server, gpu).status == 204)

        // A runner removed while it runs a job ends that job with an error.
        let other = try await Self.submit(server, "evaluate", labels: [])
        #expect(try await Self.next(server, cpu).status == 200)
        #expect(try await server.call(.DELETE, "/api/v1/runners/\(cpu)", token: server.adminToken).status == 200)
        let orphaned = try await Self.status(server, other)
        #expect(orphaned.object["state"] as? String == "completed")
        #expect((orphaned.object["error"] as? String)?.contains("removed") == true, "\(orphaned.text)")
        #expect(try await Self.runners(server).map { $0["id"] as? String } == [gpu])
    }

    @Test("an ephemeral runner takes one job, then is gone")
    func ephemeralRunner() async throws {
        let server = try await Self.start("runner-ephemeral")
        defer { server.cleanUp() }
        let once = try await Self.register(server, "once", labels: ["gpu"], ephemeral: true)
        #expect(try await Self.runners(server).first?["ephemeral"] as? Bool == true)
        let first = try await Self.submit(server, "first", labels: ["gpu"])
        let second = try await Self.submit(server, "second", labels: ["gpu"])
        let taken = try await Self.next(server, once)
        #expect((taken.object["job"] as? [String: Any])?["id"] as? String == first, "the oldest job goes first: \(taken.text)")
        Self.expectError(try await Self.next(server, once), 409, "failed_precondition", "an ephemeral runner polls while it runs its job")
        #expect(try await Self.lines(server, first, runner: once, ["done"]).status == 200)
        #expect(try await Self.result(server, first, runner: once, #"{"conclusion": "success"}"#).status == 200)

        #expect(try await Self.runners(server).isEmpty, "the ephemeral runner is gone once its job ended")
        Self.expectError(try await Self.next(server, once), 404, "not_found", mentioning: "register", "the gone runner polls again")
        let waiting = try await Self.status(server, second)
        #expect(waiting.object["state"] as? String == "queued", "the second job was not taken: \(waiting.text)")
        #expect(waiting.object["runner"] is String == false)
        #expect(try await Self.status(server, first).object["state"] as? String == "completed")
    }

    @Test("a long poll gets a job as soon as it is submitted, and a job's follower gets lines as soon as they are posted")
    func longPolls() async throws {
        let server = try await Self.start("runner-long-poll")
        defer { server.cleanUp() }
        let runner = try await Self.register(server, "waiter", labels: ["gpu"])
        let registeredAt = try #require(try await Self.runners(server).first?["lastSeenAt"] as? String)
        try await Task.sleep(for: .milliseconds(20))  // so that the poll's arrival shows as a later lastSeenAt

        async let poll = Self.next(server, runner, query: "?wait=5")
        // The server notes the runner's poll on arrival; submit once it is waiting.
        let deadline = ContinuousClock.now + .seconds(20)
        while try await Self.runners(server).first?["lastSeenAt"] as? String == registeredAt {
            #expect(ContinuousClock.now < deadline, "the poll never reached the server")
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let job = try await Self.submit(server, "train", labels: ["gpu"], payload: #"{"n": 1}"#)
        let taken = try await poll
        // Had the poll run out its 5 seconds it would have answered 204: a 200 is the submitted job, handed over at once.
        #expect(taken.status == 200, "\(taken.status) \(taken.text)")
        #expect((taken.object["job"] as? [String: Any])?["id"] as? String == job)
        #expect((taken.object["job"] as? [String: Any])?["payload"] as? String == #"{"n": 1}"#)

        // A follower waiting for news past line 0 gets the line once posted, before its wait runs out.
        async let follow = server.call(.GET, "/api/v1/pipeline-jobs/\(job)?after=0&wait=20", token: server.adminToken)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await Self.lines(server, job, runner: runner, ["hello"]).status == 200)
        let started = ContinuousClock.now
        let news = try await follow
        #expect(news.status == 200, "\(news.text)")
        #expect(news.object["lines"] as? [String] == ["hello"])
        #expect(news.object["next"] as? Int == 1)
        #expect(ContinuousClock.now - started < .seconds(15), "the follower waited out its whole poll")

        // With nothing new, a short wait answers with no lines.
        let quiet = try await server.call(.GET, "/api/v1/pipeline-jobs/\(job)?after=1&wait=0.2", token: server.adminToken)
        #expect(quiet.status == 200 && quiet.object["lines"] as? [String] == [])
        #expect(try await Self.next(server, try await Self.register(server, "idle", labels: []), query: "?wait=0.2").status == 204)
    }

    @Test("the payload goes only to the runner that takes the job, never to a follower or a list")
    func payloadStaysPrivate() async throws {
        let server = try await Self.start("runner-payload")
        defer { server.cleanUp() }
        let viewer = try await Self.token(server, role: "viewer")
        let marker = "PAYLOAD-MARKER-\(UUID().uuidString)"
        let payload = try Self.body(["steps": [["run": "echo hi"]], "secret": marker])
        let runner = try await Self.register(server, "gpu-1", labels: ["gpu"])
        let submitted = try await server.call(
            .POST, "/api/v1/pipeline-jobs", token: server.adminToken,
            json: try Self.body(["name": "train", "run": "run-1", "labels": ["gpu"], "payload": payload]))
        #expect(submitted.status == 201)
        #expect(!submitted.text.contains(marker), "the submission's answer shows the payload")
        let job = try #require(submitted.object["id"] as? String)
        var seen: [String] = []
        seen.append(try await Self.status(server, job).text)
        seen.append(try await Self.status(server, job, token: viewer).text)
        let taken = try await Self.next(server, runner)
        #expect(taken.text.contains(marker), "the runner that takes the job gets its payload")
        seen.append(try await Self.status(server, job, token: viewer).text)
        seen.append(try await server.call(.GET, "/api/v1/runners", token: viewer).text)
        #expect(try await Self.lines(server, job, runner: runner, ["working"]).status == 200)
        seen.append(try await server.call(.POST, "/api/v1/pipeline-jobs/\(job)/cancel", token: server.adminToken).text)
        #expect(try await Self.result(server, job, runner: runner, "{}").status == 200)
        seen.append(try await Self.status(server, job, token: viewer).text)
        seen.append(try await server.call(.GET, "/api/v1/pipeline-jobs/\(job)?after=0&wait=1", token: viewer).text)
        for (index, text) in seen.enumerated() {
            #expect(text.hasPrefix("{") && !text.contains(marker), "answer \(index) shows the payload: \(text.prefix(300))")
            #expect(!text.contains("payload"), "answer \(index) has a payload field: \(text.prefix(300))")
        }
    }

    // MARK: Refusals

    @Test("calls without a token are refused; a viewer may follow but not register, submit or take jobs")
    func rolesAndTokens() async throws {
        let server = try await Self.start("runner-roles")
        defer { server.cleanUp() }
        let viewer = try await Self.token(server, role: "viewer")
        let runner = try await Self.register(server, "gpu-1", labels: ["gpu"])
        let job = try await Self.submit(server, "train", labels: ["gpu"])
        let register = try Self.body(["name": "sneaky", "labels": ["gpu"]])
        let submit = try Self.body(["name": "sneaky", "run": "r", "labels": [], "payload": "{}"])
        let lines = try Self.body(["runner": runner, "lines": ["x"]])
        let result = try Self.body(["runner": runner, "result": "{}"])
        let calls: [(HTTPMethod, String, String?)] = [
            (.GET, "/api/v1/runners", nil), (.POST, "/api/v1/runners", register), (.DELETE, "/api/v1/runners/\(runner)", nil),
            (.POST, "/api/v1/runners/\(runner)/next", nil), (.POST, "/api/v1/pipeline-jobs", submit), (.GET, "/api/v1/pipeline-jobs/\(job)", nil),
            (.POST, "/api/v1/pipeline-jobs/\(job)/lines", lines), (.POST, "/api/v1/pipeline-jobs/\(job)/result", result),
            (.POST, "/api/v1/pipeline-jobs/\(job)/cancel", nil),
        ]
        for (method, path, json) in calls {
            Self.expectError(try await server.call(method, path, token: nil, json: json), 401, "unauthenticated", "\(method) \(path) without a token")
            Self.expectError(
                try await server.call(method, path, token: "slw_" + String(repeating: "0", count: 48), json: json), 401, "unauthenticated",
                "\(method) \(path) with an unknown token")
            let asViewer = try await server.call(method, path, token: viewer, json: json)
            if method == .GET {
                #expect(asViewer.status == 200, "\(method) \(path) as a viewer: \(asViewer.text)")
            } else {
                Self.expectError(asViewer, 403, "permission_denied", mentioning: "editor", "\(method) \(path) as a viewer")
            }
        }
        // Nothing the refused calls asked for happened.
        let listed = try await Self.runners(server, token: viewer)
        #expect(listed.map { $0["name"] as? String } == ["gpu-1"])
        #expect(listed.first?["jobsTaken"] as? Int == 0)
        let state = try await Self.status(server, job, token: viewer)
        #expect(state.object["state"] as? String == "queued" && state.object["cancelRequested"] as? Bool == false)
        #expect(state.object["next"] as? Int == 0)
        #expect(try await Self.next(server, runner).status == 200, "the only job is the one submitted by the editor")
        #expect(try await Self.next(server, try await Self.register(server, "any", labels: [])).status == 204)
    }

    @Test("malformed registrations and submissions are refused with a clear 400, and nothing is registered or queued")
    func malformedRegistrationsAndSubmissions() async throws {
        let server = try await Self.start("runner-malformed")
        defer { server.cleanUp() }
        let admin = server.adminToken
        let long = String(repeating: "a", count: 65)
        let registrations: [(String, String?)] = [
            (try Self.body(["name": "r", "labels": ["has space"]]), "runner label"),
            (try Self.body(["name": "r", "labels": [long]]), "at most 64"),
            (try Self.body(["name": "r", "labels": (0..<33).map { "l\($0)" }]), "at most 32 labels"),
            (try Self.body(["name": "r", "labels": ["gpu;rm -rf"]]), "runner label"),
            (try Self.body(["name": "r", "labels": [""]]), "runner label"),
            (try Self.body(["name": "r", "labels": ["gpu\n"]]), "runner label"),
            (try Self.body(["name": "r", "labels": ["gpü"]]), "runner label"),
            (try Self.body(["name": "", "labels": []]), "one line"),
            (try Self.body(["name": "   ", "labels": []]), "one line"),
            (try Self.body(["name": "a\nb", "labels": []]), "one line"),
            (try Self.body(["name": "a\0b", "labels": []]), "one line"),
            (try Self.body(["name": String(repeating: "n", count: 257), "labels": []]), "one line"),
            (try Self.body(["name": "r"]), "labels"),
            (try Self.body(["labels": []]), "name"),
            (try Self.body(["name": "r", "labels": "gpu"]), "labels"),
            (try Self.body(["name": "r", "labels": [], "ephemeral": "yes"]), "ephemeral"),
            (try Self.body(["name": 7, "labels": []]), "name"),
            ("[]", nil),
            ("not json", "JSON"),
            ("{", "JSON"),
            ("", "JSON body"),
        ]
        for (json, words) in registrations {
            let reply = try await server.call(.POST, "/api/v1/runners", token: admin, json: json)
            Self.expectError(reply, 400, "invalid_argument", mentioning: words, "register \(json.prefix(80))")
        }
        #expect(try await Self.runners(server).isEmpty, "a refused registration left a runner")
        // The limits themselves are accepted.
        let edge = try await Self.register(server, String(repeating: "n", count: 256), labels: (0..<32).map { "l\($0)" })
        let wide = try await Self.register(server, "wide", labels: [String(repeating: "b", count: 64), "gpu", "x.y_z-1"])
        #expect(try await Self.runners(server).count == 2)

        let valid: [String: Any] = ["name": "train", "run": "run-1", "labels": ["gpu"], "payload": "{}"]
        func with(_ key: String, _ value: Any?) throws -> String {
            var object = valid
            object[key] = value
            return try Self.body(object)
        }
        let submissions: [(String, String?)] = [
            (try with("payload", "[1, 2]"), "JSON object"),
            (try with("payload", "not json"), "JSON object"),
            (try with("payload", ""), "JSON object"),
            (try with("payload", "42"), "JSON object"),
            (try with("payload", #""text""#), "JSON object"),
            (try with("payload", #"{"a": "#), "JSON object"),
            (try with("payload", ["steps": [String]()]), "payload"),
            (try with("payload", nil), "payload"),
            (try with("labels", ["has space"]), "runner label"),
            (try with("labels", [long]), "at most 64"),
            (try with("labels", (0..<33).map { "l\($0)" }), "at most 32 labels"),
            (try with("name", ""), "job name"),
            (try with("name", "two\nlines"), "job name"),
            (try with("run", "\n"), "run id"),
            (try with("run", nil), "run"),
            ("[]", nil),
            ("null", nil),
            ("", "JSON body"),
        ]
        for (json, words) in submissions {
            let reply = try await server.call(.POST, "/api/v1/pipeline-jobs", token: admin, json: json)
            Self.expectError(reply, 400, "invalid_argument", mentioning: words, "submit \(json.prefix(80))")
        }
        // No refused submission was queued: runners with every label asked for find nothing to take.
        #expect(try await Self.next(server, wide).status == 204)
        #expect(try await Self.next(server, edge).status == 204)
    }

    @Test("hostile job traffic is refused with a clear 4xx, and the job is left as it was")
    func hostileJobTraffic() async throws {
        let server = try await Self.start("runner-hostile")
        defer { server.cleanUp() }
        let admin = server.adminToken
        let holder = try await Self.register(server, "holder", labels: ["gpu"])
        let intruder = try await Self.register(server, "intruder", labels: ["gpu"])
        let queued = try await Self.submit(server, "queued", labels: ["tpu"])
        let job = try await Self.submit(server, "train", labels: ["gpu"])

        // Bad poll and follow parameters are refused before anything is taken.
        for query in ["?wait=abc", "?wait=31", "?wait=-1", "?wait=nan", "?wait=inf", "?wait=", "?wait=1e9"] {
            Self.expectError(try await Self.next(server, holder, query: query), 400, "invalid_argument", mentioning: "wait", "next\(query)")
        }
        #expect(try await Self.status(server, job).object["state"] as? String == "queued", "a refused poll took the job")
        for query in ["?after=-1", "?after=abc", "?after=99999999999", "?after=1.5", "?wait=abc", "?wait=31", "?after=0&wait=-2"] {
            let reply = try await server.call(.GET, "/api/v1/pipeline-jobs/\(job)\(query)", token: admin)
            Self.expectError(reply, 400, "invalid_argument", "status\(query)")
        }
        Self.expectError(try await Self.next(server, "rnr_missing"), 404, "not_found", mentioning: "register again", "next for an unknown runner")
        Self.expectError(
            try await Self.next(server, "rnr%20%3Cscript%3E"), 404, "not_found", mentioning: "rnr <script>", "next for an escaped unknown runner id")
        Self.expectError(try await server.call(.DELETE, "/api/v1/runners/rnr_missing", token: admin), 404, "not_found", "removing an unknown runner")
        // A path the router cannot decode is the request's fault: 400, naming the bad escape, on every route.
        // (Sent as raw bytes: an HTTP client would encode the stray '%' itself.)
        for path in ["/api/v1/runners/rnr%zz/next", "/api/v1/runners/%/next", "/api/v1/pipeline-jobs/job%4", "/api/v1/models/%G1"] {
            let (status, body) = try await Self.rawGET(server.url, path, token: admin)
            #expect(status == 400 && body.contains("invalid_argument") && body.contains("percent-encode"), "\(path): \(status) \(body)")
        }

        #expect(try await Self.next(server, holder).status == 200)
        // Lines or a result from a runner that does not hold the job.
        Self.expectError(
            try await Self.lines(server, job, runner: intruder, ["forged"]), 409, "failed_precondition", mentioning: "not running on runner",
            "lines from another runner")
        Self.expectError(try await Self.lines(server, job, runner: "", ["forged"]), 409, "failed_precondition", "lines from no runner")
        Self.expectError(try await Self.lines(server, queued, runner: holder, ["forged"]), 409, "failed_precondition", "lines for a queued job")
        Self.expectError(try await Self.result(server, job, runner: intruder, "{}"), 409, "failed_precondition", "a result from another runner")
        // Unknown jobs.
        Self.expectError(try await Self.result(server, "job_missing", runner: holder, "{}"), 404, "not_found", "a result for an unknown job")
        Self.expectError(try await Self.lines(server, "job_missing", runner: holder, ["x"]), 404, "not_found", "lines for an unknown job")
        Self.expectError(try await Self.status(server, "job_missing"), 404, "not_found", "an unknown job")
        Self.expectError(
            try await server.call(.POST, "/api/v1/pipeline-jobs/job_missing/cancel", token: admin), 404, "not_found", "cancelling an unknown job")
        // Too many lines, a line too long, a body over the server's limit, malformed bodies.
        Self.expectError(
            try await Self.lines(server, job, runner: holder, Array(repeating: "x", count: 5_001)), 400, "invalid_argument", mentioning: "5000",
            "5,001 lines")
        Self.expectError(
            try await Self.lines(server, job, runner: holder, ["short", String(repeating: "y", count: 256 * 1024 + 1)]), 413, "too_large",
            mentioning: "split it", "a line over 256 KiB")
        Self.expectError(
            try await Self.lines(server, job, runner: holder, [String(repeating: "z", count: (2 << 20) + 1024)]), 413, "too_large",
            mentioning: "limit", "a body over the server's limit")
        for json in [#"{"runner": "\#(holder)"}"#, #"{"runner": "\#(holder)", "lines": "one"}"#, #"{"runner": "\#(holder)", "lines": [1]}"#, "{", ""]
        {
            let reply = try await server.call(.POST, "/api/v1/pipeline-jobs/\(job)/lines", token: admin, json: json)
            Self.expectError(reply, 400, "invalid_argument", "lines body \(json)")
        }
        // A result that is not a JSON object.
        for text in ["[]", "not json", "", "null", "{\"unterminated\": "] {
            Self.expectError(
                try await Self.result(server, job, runner: holder, text), 400, "invalid_argument", mentioning: "JSON object", "result \(text)")
        }
        Self.expectError(
            try await server.call(.POST, "/api/v1/pipeline-jobs/\(job)/result", token: admin, json: #"{"runner": "\#(holder)", "result": {}}"#), 400,
            "invalid_argument", "a result as an object rather than text")

        // After all that the job is running on its runner with no lines, no result and no cancellation.
        let state = try await Self.status(server, job)
        #expect(state.object["state"] as? String == "running")
        #expect(state.object["runner"] as? String == "holder")
        #expect(state.object["lines"] as? [String] == [] && state.object["next"] as? Int == 0, "\(state.text.prefix(300))")
        #expect(state.object["result"] is String == false && state.object["cancelRequested"] as? Bool == false)
        #expect(try await Self.status(server, queued).object["state"] as? String == "queued")
        // The limits themselves are accepted.
        #expect(try await Self.lines(server, job, runner: holder, Array(repeating: "x", count: 5_000)).object["cancelled"] as? Bool == false)
        #expect(try await Self.lines(server, job, runner: holder, [String(repeating: "y", count: 256 * 1024)]).status == 200)
        let after = try await Self.status(server, job, after: 5_000)
        #expect((after.object["lines"] as? [String])?.first?.utf8.count == 256 * 1024 && after.object["next"] as? Int == 5_001)
        #expect(try await Self.result(server, job, runner: holder, #"{"conclusion": "success"}"#).status == 200)
    }
}
