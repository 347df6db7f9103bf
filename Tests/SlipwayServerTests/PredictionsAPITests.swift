import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import SlipwayServer
import SlipwayStore
import Testing

/// The prediction log's control-plane side, as users reach it: feedback and listing over HTTP against a server
/// child process, and `slipway predictions` as a child process. The gateway writes the log in production; here
/// records are appended to the server's store directly, next to the running server.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct PredictionsAPITests {
    /// The metadata store of a server's data folder, opened alongside the server.
    static func store(of server: ServerProcess) throws -> any MetadataStore {
        var logger = Logger(label: "slipway.test")
        logger.logLevel = .critical
        return try SlipwayServices.open(SlipwayConfiguration(dataDir: server.dataDir), logger: logger).metadata
    }

    static func record(
        _ endpoint: String, _ requestId: String, at millis: Int64, kind: PredictionRecord.Kind = .primary, variant: String = "stable",
        prediction: String? = "1", features: String? = nil, feedback: Feedback? = nil
    ) -> PredictionRecord {
        PredictionRecord(
            requestId: requestId, timestamp: Timestamp.date(millis: millis), endpoint: endpoint, variant: variant, modelVersion: "churn@1",
            stickyKey: "user-\(requestId)", kind: kind, features: features, prediction: prediction, confidence: 0.75, latencyMs: 4.5,
            status: 200, feedback: feedback)
    }

    static func createEndpoint(_ server: ServerProcess, _ name: String) async throws {
        let created = try await server.call(.POST, "/api/v1/endpoints", token: server.adminToken, json: #"{"name": "\#(name)"}"#)
        #expect(created.status == 201, "\(created.text)")
    }

    static func token(_ server: ServerProcess, role: String) async throws -> String {
        let created = try await server.call(.POST, "/api/v1/tokens", token: server.adminToken, json: #"{"name": "\#(role)-1", "role": "\#(role)"}"#)
        return try #require(created.object["token"] as? String)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ reply: Reply) throws -> T {
        try SlipwayJSON.decoder().decode(type, from: reply.body)
    }

    struct PredictionPage: Decodable {
        var predictions: [PredictionRecord]
        var nextPageToken: String?
    }

    @Test func feedbackChecksRolesInputAndRequests() async throws {
        // A 2 MiB body limit: large enough for the megabyte strings below to reach validation, small enough to pass cheaply.
        let folder = try makeScratchFolder("feedback")
        try "server:\n  maxBodyBytes: 2097152\n".write(to: folder.appendingPathComponent("slipway.yml"), atomically: true, encoding: .utf8)
        let server = try await ServerProcess(label: "feedback", folder: folder)
        defer { server.cleanUp() }
        let admin = server.adminToken
        try await Self.createEndpoint(server, "churn-api")
        try await Self.createEndpoint(server, "fraud-api")
        let viewer = try await Self.token(server, role: "viewer")
        let editor = try await Self.token(server, role: "editor")
        let store = try Self.store(of: server)
        let primary = Self.record("churn-api", "req-1", at: 1_790_000_000_000, prediction: "1")
        let mirror = Self.record("churn-api", "req-1", at: 1_790_000_000_001, kind: .mirror, variant: "shadow", prediction: "0")
        let other = Self.record("churn-api", "req-2", at: 1_790_000_000_002, prediction: "churned")
        let elsewhere = Self.record("fraud-api", "req-3", at: 1_790_000_000_003)
        try await store.appendPredictions([primary, mirror, other, elsewhere])
        let path = "/api/v1/endpoints/churn-api/feedback"

        // Roles: a token is needed, and posting feedback needs the editor role.
        let anonymous = try await server.call(.POST, path, json: #"{"requestId": "req-1", "outcome": 1}"#)
        #expect(anonymous.status == 401 && anonymous.errorCode == "unauthenticated")
        let denied = try await server.call(.POST, path, token: viewer, json: #"{"requestId": "req-1", "outcome": 1}"#)
        #expect(denied.status == 403 && denied.errorCode == "permission_denied", "\(denied.text)")

        // Malformed and hostile bodies: 400 (413 over the body limit), with a message, and nothing attached.
        let huge = String(repeating: "x", count: 1 << 20)
        let badBodies: [(String, Int, String)] = [
            ("not json", 400, "not valid JSON"),
            ("", 400, "JSON body"),
            ("[]", 400, "a JSON object"),
            ("null", 400, ""),
            (#"{"requestId": "req-1", "outcome": 1"#, 400, "not valid JSON"),
            (#"{"requestId": "req-1"}"#, 400, "groundTruth, outcome or both"),
            (#"{"requestId": "req-1", "groundTruth": null, "outcome": null}"#, 400, "groundTruth, outcome or both"),
            (#"{"outcome": 1}"#, 400, "requestId"),
            (#"{"requestId": 7, "outcome": 1}"#, 400, "requestId"),
            (#"{"requestId": "", "outcome": 1}"#, 400, "1 to 128 bytes"),
            (#"{"requestId": "\#(String(repeating: "r", count: 129))", "outcome": 1}"#, 400, "1 to 128 bytes"),
            (#"{"requestId": "\#(huge)", "outcome": 1}"#, 400, "1 to 128 bytes"),
            (#"{"requestId": "req-1", "groundTruth": "\#(String(repeating: "g", count: 4097))"}"#, 400, "4096"),
            (#"{"requestId": "req-1", "groundTruth": "\#(huge)"}"#, 400, "4096"),
            (#"{"requestId": "req-1", "groundTruth": ""}"#, 400, "groundTruth"),
            (#"{"requestId": "req-1", "groundTruth": "a\u0000b"}"#, 400, "NUL"),
            (#"{"requestId": "req-1", "groundTruth": true}"#, 400, "string or a number"),
            (#"{"requestId": "req-1", "groundTruth": {"label": 1}}"#, 400, "string or a number"),
            (#"{"requestId": "req-1", "groundTruth": ["1"]}"#, 400, "string or a number"),
            (#"{"requestId": "req-1", "outcome": "1"}"#, 400, "outcome"),
            (#"{"requestId": "req-1", "outcome": "NaN"}"#, 400, "outcome"),
            (#"{"requestId": "req-1", "outcome": NaN}"#, 400, "not valid JSON"),
            (#"{"requestId": "req-1", "outcome": Infinity}"#, 400, "not valid JSON"),
            (#"{"requestId": "req-1", "outcome": 1e999}"#, 400, ""),
            (#"{"requestId": "req-1", "outcome": -1e400}"#, 400, ""),
            (#"{"feedback": []}"#, 400, "1 to 1000 items"),
            (#"{"feedback": {"requestId": "req-1"}}"#, 400, "feedback"),
            (#"{"feedback": [{"requestId": "req-1", "outcome": 1}], "requestId": "req-1"}"#, 400, "not both"),
            (#"{"feedback": [{"requestId": "req-1", "outcome": "x"}]}"#, 400, "outcome"),
            (#"{"requestId": "req-1", "outcome": 1, "pad": "\#(String(repeating: "p", count: (2 << 20) + (64 << 10)))"}"#, 413, "limit"),
        ]
        for (body, status, fragment) in badBodies {
            let reply = try await server.call(.POST, path, token: editor, json: body)
            #expect(reply.status == status, "\(body.prefix(80)): \(reply.status) \(reply.text.prefix(300))")
            #expect(reply.errorCode == (status == 413 ? "too_large" : "invalid_argument"), "\(body.prefix(80)): \(reply.text.prefix(300))")
            let message = (reply.object["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(fragment.isEmpty || message.contains(fragment), "\(body.prefix(80)): '\(message)' should mention '\(fragment)'")
        }
        let tooMany = (0...1_000).map { #"{"requestId": "r\#($0)", "outcome": 1}"# }.joined(separator: ",")
        let overBatch = try await server.call(.POST, path, token: editor, json: #"{"feedback": [\#(tooMany)]}"#)
        #expect(overBatch.status == 400 && overBatch.text.contains("1001"), "\(overBatch.text.prefix(300))")

        // Unknown endpoint, unknown request, a mirror-only or another endpoint's request: 404.
        for (target, body) in [
            ("/api/v1/endpoints/nope/feedback", #"{"requestId": "req-1", "outcome": 1}"#),
            (path, #"{"requestId": "req-9", "outcome": 1}"#),
            (path, #"{"requestId": "req-3", "outcome": 1}"#),
        ] {
            let reply = try await server.call(.POST, target, token: editor, json: body)
            #expect(reply.status == 404 && reply.errorCode == "not_found", "\(target) \(body): \(reply.status) \(reply.text)")
        }
        let unlogged = try await server.call(.POST, path, token: editor, json: #"{"requestId": "req-9", "outcome": 1}"#)
        #expect(unlogged.errorCode == "not_found" && unlogged.text.contains("req-9"))

        // Nothing above attached anything.
        let untouched = try Self.decode(PredictionPage.self, try await server.call(.GET, "/api/v1/endpoints/churn-api/predictions", token: viewer))
        #expect(untouched.predictions == [primary, mirror, other])

        // A label as a number is kept as text; the answer is the updated primary record; the mirror is left alone.
        let whoami = try await server.call(.GET, "/api/v1/whoami", token: editor)
        let editorName = try #require(whoami.object["name"] as? String)
        let labelled = try await server.call(.POST, path, token: editor, json: #"{"requestId": "req-1", "groundTruth": 1, "outcome": 0.5}"#)
        #expect(labelled.status == 200, "\(labelled.text)")
        let record = try Self.decode(PredictionRecord.self, labelled)
        #expect(record.requestId == "req-1" && record.kind == .primary && record.variant == "stable")
        #expect(record.feedback?.groundTruth == "1" && record.feedback?.outcome == 0.5 && record.feedback?.by == editorName)
        var expected = primary
        expected.feedback = record.feedback
        #expect(record == expected)
        for (label, text) in [
            ("2.0", "2"), ("0.25", "0.25"), ("-3", "-3"), (#""churned""#, "churned"), (#""Zürich, \"quoted\"""#, "Zürich, \"quoted\""),
        ] {
            let reply = try await server.call(.POST, path, token: editor, json: #"{"requestId": "req-2", "groundTruth": \#(label)}"#)
            #expect(reply.status == 200 && (try? Self.decode(PredictionRecord.self, reply))?.feedback?.groundTruth == text, "\(label): \(reply.text)")
        }
        // Later feedback replaces earlier feedback whole.
        let outcomeOnly = try Self.decode(
            PredictionRecord.self, try await server.call(.POST, path, token: admin, json: #"{"requestId": "req-2", "outcome": 42}"#))
        #expect(outcomeOnly.feedback?.groundTruth == nil && outcomeOnly.feedback?.outcome == 42)
        let listed = try Self.decode(PredictionPage.self, try await server.call(.GET, "/api/v1/endpoints/churn-api/predictions", token: viewer))
        #expect(listed.predictions.map(\.feedback) == [record.feedback, nil, outcomeOnly.feedback])
        #expect(listed.predictions[0] == record)

        // A batch is answered item by item, in order; the good items count.
        let batch = try await server.call(
            .POST, path, token: editor,
            json:
                #"{"feedback": [{"requestId": "req-2", "groundTruth": "stayed"}, {"requestId": "req-9", "outcome": 1}, {"requestId": "", "outcome": 1}, {"requestId": "req-1", "outcome": 3}]}"#
        )
        #expect(batch.status == 200, "\(batch.text)")
        let results = try #require(batch.object["results"] as? [[String: Any]])
        #expect(results.map { $0["requestId"] as? String } == ["req-2", "req-9", "", "req-1"])
        #expect(results.map { $0["record"] != nil } == [true, false, false, true])
        #expect(results.map { ($0["error"] as? [String: Any])?["code"] as? String } == [nil, "not_found", "invalid_argument", nil])
        let after = try Self.decode(PredictionPage.self, try await server.call(.GET, "/api/v1/endpoints/churn-api/predictions", token: viewer))
        #expect(after.predictions.map { $0.feedback?.groundTruth } == [nil, nil, "stayed"])
        #expect(after.predictions.map { $0.feedback?.outcome } == [3, nil, nil])
        // Every accepted outcome counts in the variant's live metrics: 0.5, 42 and 3 for `stable`.
        let status = try await server.call(.GET, "/api/v1/endpoints/churn-api", token: viewer)
        let stable = ((status.object["live"] as? [String: Any])?["stable"] as? [String: Any]) ?? [:]
        #expect(stable["outcomeCount"] as? Int == 3, "\(status.text)")
        #expect(abs((stable["outcomeMean"] as? Double ?? 0) - 45.5 / 3) < 1e-9, "\(status.text)")
        #expect(await server.stop() == 0)
    }

    @Test func predictionsArePagedInLogOrder() async throws {
        let server = try await ServerProcess(label: "predictions")
        defer { server.cleanUp() }
        try await Self.createEndpoint(server, "churn-api")
        try await Self.createEndpoint(server, "fraud-api")
        let viewer = try await Self.token(server, role: "viewer")
        let store = try Self.store(of: server)
        var churn: [PredictionRecord] = []
        for batch in 0..<5 {
            let records = (0..<10).map { Self.record("churn-api", "c-\(batch)-\($0)", at: 1_790_000_000_000 + Int64(batch * 10 + $0) * 1_000) }
            let noise = (0..<3).map { Self.record("fraud-api", "f-\(batch)-\($0)", at: 1_790_000_000_000) }
            try await store.appendPredictions(records + noise)
            churn += records
        }
        // A late record: logged last, stamped before most.
        let late = Self.record("churn-api", "late", at: 1_790_000_005_500)
        try await store.appendPredictions([late])
        churn.append(late)

        func page(_ query: String, token: String? = nil) async throws -> Reply {
            try await server.call(.GET, "/api/v1/endpoints/churn-api/predictions" + query, token: token ?? viewer)
        }
        func all(_ query: String, tokenName: String = "pageToken") async throws -> [PredictionRecord] {
            var records: [PredictionRecord] = []
            var next: String?
            var pages = 0
            repeat {
                let suffix = next.map { "&\(tokenName)=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
                let reply = try await page(query + suffix)
                #expect(reply.status == 200, "\(reply.text)")
                let decoded = try Self.decode(PredictionPage.self, reply)
                records += decoded.predictions
                next = decoded.nextPageToken
                pages += 1
            } while next != nil && pages < 1_000
            return records
        }
        #expect(try await all("?limit=7") == churn)
        #expect(try await all("?limit=1", tokenName: "page_token") == churn)
        #expect(try await all("?limit=51") == churn)
        #expect(try await all("?limit=10000") == churn)
        let firstPage = try Self.decode(PredictionPage.self, try await page(""))
        #expect(firstPage.predictions == churn && firstPage.nextPageToken == nil)

        let since = Timestamp.date(millis: 1_790_000_005_000)
        let expected = churn.filter { $0.timestamp >= since }
        #expect(expected.count == 46)
        #expect(try await all("?limit=9&since=" + Timestamp.format(since)) == expected)
        #expect(try await all("?limit=9&since=1790000005000") == expected)
        #expect(try await all("?since=2099-01-01").isEmpty)

        let token = try #require(try Self.decode(PredictionPage.self, try await page("?limit=5")).nextPageToken)
        let bad: [(String, Int)] = [
            ("?limit=0", 400), ("?limit=10001", 400), ("?limit=abc", 400), ("?limit=-1", 400), ("?since=yesterday", 400), ("?since=", 400),
            ("?since=99999999999999999999", 400), ("?pageToken=forged", 400), ("?pageToken=" + String(repeating: "A", count: 4000), 400),
            ("?limit=5&since=1790000005000&pageToken=" + token, 400),
        ]
        for (query, status) in bad {
            let reply = try await page(query)
            #expect(reply.status == status && reply.errorCode == "invalid_argument", "\(query.prefix(80)): \(reply.text)")
        }
        let foreign = try await server.call(.GET, "/api/v1/endpoints/fraud-api/predictions?pageToken=" + token, token: viewer)
        #expect(foreign.status == 400, "another endpoint's token: \(foreign.text)")
        #expect(try await server.call(.GET, "/api/v1/endpoints/churn-api/predictions").status == 401)
        #expect(try await server.call(.GET, "/api/v1/endpoints/none/predictions", token: viewer).status == 404)
        #expect(await server.stop() == 0)
    }

    @Test func theCLIExportsAndPostsFeedback() async throws {
        let server = try await ServerProcess(label: "export")
        defer { server.cleanUp() }
        let folder = server.folder
        try await Self.createEndpoint(server, "churn-api")
        let store = try Self.store(of: server)
        let now = Timestamp.now()
        let old = Timestamp.millis(now) - 3 * 3_600_000
        let records = [
            Self.record("churn-api", "old-1", at: old, features: #"{"inputs":[{"name":"x","data":[1,2]}]}"#),
            Self.record("churn-api", "old-2", at: old + 1, prediction: "a, \"b\"\nc", features: nil),
            Self.record("churn-api", "new-1", at: Timestamp.millis(now), kind: .mirror, variant: "shadow", prediction: nil),
            Self.record(
                "churn-api", "new-2", at: Timestamp.millis(now) + 1, prediction: "Zürich — 東京", features: "",
                feedback: Feedback(groundTruth: "x,y", outcome: 2.5, receivedAt: now, by: "o'brien")),
        ]
        try await store.appendPredictions(records)
        let remote = ["--server", server.url, "--token", server.adminToken]

        // JSON Lines: one record per line, the same JSON as the API.
        let jsonl = try await runCLI(["predictions", "export", "churn-api", "--format", "jsonl", "--out", "log.jsonl"] + remote, in: folder)
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        #expect(jsonl.stdout.contains("Exported 4 records"))
        let lines = try String(contentsOf: folder.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(try lines.map { try SlipwayJSON.decoder().decode(PredictionRecord.self, from: Data($0.utf8)) } == records)
        let api = try await server.call(.GET, "/api/v1/endpoints/churn-api/predictions", token: server.adminToken)
        let apiRecords = try #require((try JSONSerialization.jsonObject(with: api.body) as? [String: Any])?["predictions"] as? [Any])
        for (line, apiRecord) in zip(lines, apiRecords) {
            let same = try JSONSerialization.data(withJSONObject: apiRecord, options: [.sortedKeys])
            #expect(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? NSDictionary == JSONSerialization.jsonObject(with: same) as? NSDictionary)
        }
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: folder.path).contains { $0.contains(".partial-") }))

        // CSV: a header row, then one row per record with RFC 4180 quoting.
        let csv = try await runCLI(["predictions", "export", "churn-api", "--format", "csv", "--out", "log.csv", "--json"] + remote, in: folder)
        #expect(csv.status == 0, "\(csv.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(csv.stdout.utf8)) as? [String: Any])
        #expect(summary["records"] as? Int == 4 && summary["format"] as? String == "csv")
        let text = try String(contentsOf: folder.appendingPathComponent("log.csv"), encoding: .utf8)
        #expect(text.hasSuffix("\r\n"))
        let rows = try #require(parseCSV(text))
        #expect(
            rows.first == [
                "requestId", "timestamp", "endpoint", "variant", "modelVersion", "kind", "stickyKey", "features", "prediction", "confidence",
                "latencyMs", "status", "groundTruth", "outcome", "feedbackAt", "feedbackBy",
            ])
        #expect(rows.count == records.count + 1)
        for (row, record) in zip(rows.dropFirst(), records) {
            #expect(row.count == 16)
            guard row.count == 16 else { continue }
            #expect(row[0] == record.requestId && row[1] == Timestamp.format(record.timestamp) && row[2] == record.endpoint)
            #expect(row[3] == record.variant && row[4] == record.modelVersion && row[5] == record.kind.rawValue && row[6] == record.stickyKey)
            #expect(row[7] == (record.features ?? "") && row[8] == (record.prediction ?? ""))
            #expect(Double(row[9]) == record.confidence && Double(row[10]) == record.latencyMs && Int(row[11]) == record.status)
            #expect(row[12] == (record.feedback?.groundTruth ?? "") && Double(row[13]) == record.feedback?.outcome)
            #expect(row[14] == (record.feedback.map { Timestamp.format($0.receivedAt) } ?? "") && row[15] == (record.feedback?.by ?? ""))
        }
        #expect(text.contains(#""{""inputs"":[{""name"":""x"",""data"":[1,2]}]}""#), "features are quoted with their quotes doubled")
        #expect(text.contains(",\"\","), "empty text is quoted, unlike an absent value")

        // --since (an instant or a duration back from now), --kind, and stdout.
        let recent = try await runCLI(["predictions", "export", "churn-api", "--format", "jsonl", "--since", "1h"] + remote, in: folder)
        #expect(recent.status == 0, "\(recent.stderr)")
        #expect(
            recent.stdout.split(separator: "\n").compactMap { line in
                try? SlipwayJSON.decoder().decode(PredictionRecord.self, from: Data(line.utf8)).requestId
            } == ["new-1", "new-2"])
        let instant = try await runCLI(
            [
                "predictions", "export", "churn-api", "--format", "csv", "--since", Timestamp.format(Timestamp.date(millis: old + 1)), "--kind",
                "primary",
            ]
                + remote, in: folder)
        #expect(instant.status == 0, "\(instant.stderr)")
        #expect(try #require(parseCSV(instant.stdout)).dropFirst().map { $0[0] } == ["old-2", "new-2"])
        let mirrors = try await runCLI(["predictions", "export", "churn-api", "--format", "jsonl", "--kind", "mirror"] + remote, in: folder)
        #expect(mirrors.stdout.split(separator: "\n").count == 1 && mirrors.stdout.contains("\"new-1\""))

        // Bad input: exit 2, a JSON error document with --json, and no file.
        for arguments in [
            ["--format", "xml", "--out", "bad.out"], ["--format", "csv", "--kind", "shadow", "--out", "bad.out"],
            ["--format", "csv", "--since", "yesterday", "--out", "bad.out"], ["--format", "jsonl", "--since", "1h30", "--out", "bad.out"],
        ] {
            let refused = try await runCLI(["predictions", "export", "churn-api"] + arguments + ["--json"] + remote, in: folder)
            #expect(refused.status == 2, "\(arguments): \(refused.stderr)")
            #expect((try? JSONSerialization.jsonObject(with: Data(refused.stdout.utf8)) as? [String: Any])?["error"] != nil, "\(refused.stdout)")
        }
        let noOut = try await runCLI(["predictions", "export", "churn-api", "--format", "csv", "--json"] + remote, in: folder)
        #expect(noOut.status == 2 && noOut.stderr.contains("--out"))
        let unknown = try await runCLI(["predictions", "export", "nope", "--format", "csv", "--out", "bad.out"] + remote, in: folder)
        #expect(unknown.status == 1 && unknown.stderr.contains("does not exist"))
        let entries = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!entries.contains("bad.out") && !entries.contains { $0.contains(".partial-") }, "\(entries)")
        // A failed export leaves an earlier file as it was.
        let kept = try await runCLI(["predictions", "export", "nope", "--format", "jsonl", "--out", "log.jsonl"] + remote, in: folder)
        #expect(kept.status == 1)
        #expect(try String(contentsOf: folder.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n").count == 4)

        // Feedback from the command line.
        let labelled = try await runCLI(
            ["predictions", "feedback", "churn-api", "old-1", "--label", "churned", "--outcome", "1", "--json"] + remote, in: folder)
        #expect(labelled.status == 0, "\(labelled.stderr)")
        let record = try SlipwayJSON.decoder().decode(PredictionRecord.self, from: Data(labelled.stdout.utf8))
        #expect(record.requestId == "old-1" && record.feedback?.groundTruth == "churned" && record.feedback?.outcome == 1)
        let plain = try await runCLI(["predictions", "feedback", "churn-api", "old-2", "--outcome", "0"] + remote, in: folder)
        #expect(plain.status == 0 && plain.stdout.contains("old-2") && plain.stdout.contains("outcome"), "\(plain.stderr)")
        let missing = try await runCLI(["predictions", "feedback", "churn-api", "nope", "--label", "x", "--json"] + remote, in: folder)
        #expect(missing.status == 1 && missing.stderr.contains("nope"))
        #expect((try JSONSerialization.jsonObject(with: Data(missing.stdout.utf8)) as? [String: Any])?["error"] != nil)
        for arguments in [["old-1", "--outcome", "abc"], ["old-1", "--outcome", "nan"], ["old-1"], [] as [String]] {
            let refused = try await runCLI(["predictions", "feedback", "churn-api"] + arguments + remote, in: folder)
            #expect(refused.status == 2, "\(arguments): \(refused.stderr)")
        }

        // A file of feedback: the known requests count, the unknown one is reported, and the exit status says so.
        try """
        {"requestId": "old-1", "groundTruth": 0}
        {"requestId": "new-2", "outcome": 7.5}

        {"requestId": "ghost", "groundTruth": "x"}
        """.write(to: folder.appendingPathComponent("labels.jsonl"), atomically: true, encoding: .utf8)
        let batch = try await runCLI(["predictions", "feedback", "churn-api", "--file", "labels.jsonl", "--json"] + remote, in: folder)
        #expect(batch.status == 1, "\(batch.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(batch.stdout.utf8)) as? [String: Any])
        #expect(result["attached"] as? Int == 2)
        #expect((result["refused"] as? [[String: Any]])?.compactMap { $0["requestId"] as? String } == ["ghost"])
        try "{\"requestId\": \"old-1\"\n".write(to: folder.appendingPathComponent("broken.jsonl"), atomically: true, encoding: .utf8)
        let broken = try await runCLI(["predictions", "feedback", "churn-api", "--file", "broken.jsonl"] + remote, in: folder)
        #expect(broken.status == 2 && broken.stderr.contains("broken.jsonl:1"), "\(broken.stderr)")
        let final = try Self.decode(
            PredictionPage.self, try await server.call(.GET, "/api/v1/endpoints/churn-api/predictions", token: server.adminToken))
        #expect(final.predictions.map { $0.feedback?.groundTruth } == ["0", nil, nil, nil])
        #expect(final.predictions.map { $0.feedback?.outcome } == [nil, 0, nil, 7.5])
        #expect(await server.stop() == 0)
    }

    @Test func theCLIExportsFromTheStoreWithoutAServer() async throws {
        let folder = try makeScratchFolder("export-local")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataDir = folder.appendingPathComponent("data")
        let local = ["--data-dir", dataDir.path]
        #expect(try await runCLI(["endpoints", "create", "churn-api"] + local, in: folder).status == 0)
        var logger = Logger(label: "slipway.test")
        logger.logLevel = .critical
        let store = try SlipwayServices.open(SlipwayConfiguration(dataDir: dataDir), logger: logger).metadata
        let records = (0..<2_500).map { Self.record("churn-api", "r-\($0)", at: 1_790_000_000_000 + Int64($0)) }
        try await store.appendPredictions(records)
        let exported = try await runCLI(["predictions", "export", "churn-api", "--format", "jsonl", "--out", "all.jsonl"] + local, in: folder)
        #expect(exported.status == 0, "\(exported.stderr)")
        let lines = try String(contentsOf: folder.appendingPathComponent("all.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(try lines.map { try SlipwayJSON.decoder().decode(PredictionRecord.self, from: Data($0.utf8)) } == records)
        let labelled = try await runCLI(["predictions", "feedback", "churn-api", "r-2499", "--label", "1", "--json"] + local, in: folder)
        #expect(labelled.status == 0, "\(labelled.stderr)")
        #expect(try await store.predictions(endpoint: "churn-api", since: nil, limit: 1, pageToken: nil).items.first?.feedback == nil)
        let last = try await store.predictions(endpoint: "churn-api", since: Timestamp.date(millis: 1_790_000_002_499), limit: 1, pageToken: nil)
        #expect(last.items.first?.feedback?.groundTruth == "1")
    }
}

/// Parses RFC 4180 CSV (CRLF or LF line ends, quoted fields with doubled quotes); nil when a quote is left open.
func parseCSV(_ text: String) -> [[String]]? {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var quoted = false
    var scalars = Array(text.unicodeScalars)[...]
    while let scalar = scalars.popFirst() {
        if quoted {
            if scalar == "\"" {
                if scalars.first == "\"" {
                    field.unicodeScalars.append("\"")
                    scalars.removeFirst()
                } else {
                    quoted = false
                }
            } else {
                field.unicodeScalars.append(scalar)
            }
            continue
        }
        switch scalar {
        case "\"": quoted = true
        case ",":
            row.append(field)
            field = ""
        case "\r": continue
        case "\n":
            row.append(field)
            rows.append(row)
            row = []
            field = ""
        default: field.unicodeScalars.append(scalar)
        }
    }
    guard !quoted else { return nil }
    if !field.isEmpty || !row.isEmpty { rows.append(row + [field]) }
    return rows
}
