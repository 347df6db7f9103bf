import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

import SlipwayCore

#if canImport(Glibc)
import Glibc
#endif

/// The server as users run it: a child process on 127.0.0.1, port 0, driven over real HTTP.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct ServerProcessTests {
    @Test func tokensAndRolesAreCheckedOnEveryCall() async throws {
        let server = try await ServerProcess(label: "auth")
        defer { server.cleanUp() }
        #expect(server.adminToken.hasPrefix("slw_"))
        let anonymous = try await server.call(.GET, "/api/v1/models")
        #expect(anonymous.status == 401 && anonymous.errorCode == "unauthenticated")
        #expect(anonymous.headers.first(name: "WWW-Authenticate") == "Bearer")
        #expect(try await server.call(.GET, "/api/v1/models", token: "slw_0000").status == 401)
        #expect(try await server.call(.GET, "/api/v1/models", headers: [("Authorization", "Basic YTpi")]).status == 401)
        #expect(try await server.call(.GET, "/health").status == 200)
        #expect(try await server.call(.POST, "/api/2.0/mlflow/registered-models/create", json: #"{"name":"m"}"#).status == 401)

        let created = try await server.call(.POST, "/api/v1/tokens", token: server.adminToken, json: #"{"name":"vera","role":"viewer"}"#)
        #expect(created.status == 201)
        let viewer = try #require(created.object["token"] as? String)
        let denied = try await server.call(.POST, "/api/v1/models", token: viewer, json: #"{"name":"m"}"#)
        #expect(denied.status == 403 && denied.errorCode == "permission_denied")
        #expect(try await server.call(.GET, "/api/v1/models", token: viewer).status == 200)
        #expect(try await server.call(.POST, "/api/v1/tokens", token: viewer, json: #"{"name":"x","role":"admin"}"#).status == 403)
        #expect(try await server.call(.GET, "/api/v1/whoami", token: viewer).object["role"] as? String == "viewer")

        // Secrets never reach the log or token listings.
        let listing = try await server.call(.GET, "/api/v1/tokens", token: server.adminToken)
        #expect(!listing.text.contains(viewer) && !listing.text.contains(server.adminToken))
        #expect(await server.stop() == 0)
        let logs = try String(contentsOf: server.stderrFile, encoding: .utf8)
        #expect(!logs.contains(viewer) && !logs.contains(server.adminToken))
        // The admin token is printed once: a second start on the same data prints none.
        let again = try await ServerProcess(label: "auth2", folder: server.folder.appendingPathComponent("again-unused").deletingLastPathComponent())
        #expect(again.adminToken.isEmpty)
        await again.stop()
    }

    @Test func badInputGetsAClearErrorAndChangesNothing() async throws {
        let folder = try makeScratchFolder("badinput")
        try "server:\n  maxBodyBytes: 4096\n".write(to: folder.appendingPathComponent("slipway.yml"), atomically: true, encoding: .utf8)
        let server = try await ServerProcess(label: "badinput", folder: folder)
        defer { server.cleanUp() }
        let t = server.adminToken
        #expect(try await server.call(.POST, "/api/v1/models", token: t, json: #"{"name":"churn"}"#).status == 201)
        let cases: [(HTTPMethod, String, String?, Int, String)] = [
            (.POST, "/api/v1/models", #"{"name":"bad name"}"#, 400, "invalid_argument"),
            (.POST, "/api/v1/models", #"{"name":"churn"}"#, 409, "already_exists"),
            (.POST, "/api/v1/models", #"{"name": 42}"#, 400, "invalid_argument"),
            (.POST, "/api/v1/models", #"{"name":"#, 400, "invalid_argument"),
            (.POST, "/api/v1/models", "", 400, "invalid_argument"),
            (.POST, "/api/v1/models", #"{"name":"x","description":"\#(String(repeating: "d", count: 5000))"}"#, 413, "too_large"),
            (.GET, "/api/v1/models/nope", nil, 404, "not_found"),
            (.GET, "/api/v1/models/churn/versions/7", nil, 404, "not_found"),
            (.GET, "/api/v1/models/churn/versions/-1", nil, 404, "not_found"),
            (.DELETE, "/api/v1/models/churn/versions/abc", nil, 400, "invalid_argument"),
            (.GET, "/api/v1/versions?filter=name%20%3D%3D%20'x'", nil, 400, "invalid_argument"),
            (.GET, "/api/v1/versions?limit=0", nil, 400, "invalid_argument"),
            (.GET, "/api/v1/versions?pageToken=garbage", nil, 400, "invalid_argument"),
            (.GET, "/api/v1/models/churn/aliases/prod?at=yesterday", nil, 400, "invalid_argument"),
            (.PUT, "/api/v1/models/churn/aliases/prod", #"{"version":1}"#, 404, "not_found"),
            (.POST, "/api/v1/models/churn/versions", #"{"artifactDigest":"sha256:00"}"#, 400, "invalid_argument"),
            (.PUT, "/api/v1/artifacts/not-a-digest", "x", 400, "invalid_argument"),
            (.GET, "/api/v1/nothing-here", nil, 404, "not_found"),
        ]
        for (method, path, body, status, code) in cases {
            let reply = try await server.call(method, path, token: t, json: body)
            #expect(reply.status == status, "\(method) \(path): \(reply.status) \(reply.text)")
            #expect(reply.errorCode == code, "\(method) \(path): \(reply.text)")
            let message = (reply.object["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(!message.isEmpty, "\(method) \(path) has no message")
        }
        let models = try await server.call(.GET, "/api/v1/models", token: t)
        #expect((models.object["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["churn"])
        let mlflow = try await server.call(.GET, "/api/2.0/mlflow/registered-models/get?name=nope", token: t)
        #expect(mlflow.status == 404 && mlflow.object["error_code"] as? String == "RESOURCE_DOES_NOT_EXIST")
        let duplicate = try await server.call(.POST, "/api/2.0/mlflow/registered-models/create", token: t, json: #"{"name":"churn"}"#)
        #expect(duplicate.object["error_code"] as? String == "RESOURCE_ALREADY_EXISTS")
        let invalid = try await server.call(.POST, "/api/2.0/mlflow/registered-models/create", token: t, json: #"{"name":"a b"}"#)
        #expect(invalid.status == 400 && invalid.object["error_code"] as? String == "INVALID_PARAMETER_VALUE")
        await server.stop()
    }

    @Test func artifactsStreamAndAreVerified() async throws {
        let server = try await ServerProcess(label: "artifacts")
        defer { server.cleanUp() }
        let t = server.adminToken
        var bytes = [UInt8](repeating: 0, count: 24 << 20)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in bytes.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        let data = Data(bytes)
        let digest = Digest(of: data)
        let wrong = Digest(of: Data("other".utf8))
        let refused = try await server.call(.PUT, "/api/v1/artifacts/\(wrong)", token: t, body: ByteBuffer(data: data))
        #expect(refused.status == 400 && refused.text.contains(digest.hex))
        #expect(try await server.call(.HEAD, "/api/v1/artifacts/\(wrong)", token: t).status == 404)
        let stored = try await server.call(.PUT, "/api/v1/artifacts/\(digest)", token: t, body: ByteBuffer(data: data))
        #expect(stored.status == 201)
        #expect(try await server.call(.PUT, "/api/v1/artifacts/\(digest)", token: t, body: ByteBuffer(data: data)).status == 200)
        let head = try await server.call(.HEAD, "/api/v1/artifacts/\(digest)", token: t)
        #expect(head.status == 200 && head.headers.first(name: "Content-Length") == String(data.count))
        let back = try await server.call(.GET, "/api/v1/artifacts/\(digest)", token: t)
        #expect(back.status == 200 && back.body == data)

        // Flip one byte on disk: the server reports corruption and never serves the bytes.
        let object = server.dataDir.appendingPathComponent("artifacts/objects/sha256/\(digest.hex.prefix(2))/\(digest.hex.dropFirst(2))")
        #expect(FileManager.default.fileExists(atPath: object.path))
        chmod(object.path, 0o644)
        let handle = try FileHandle(forUpdating: object)
        try handle.seek(toOffset: 12345)
        let original = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: 12345)
        try handle.write(contentsOf: Data([original ^ 0xFF]))
        try handle.close()
        let corrupt = try await server.call(.GET, "/api/v1/artifacts/\(digest)", token: t)
        #expect(corrupt.status == 500 && corrupt.errorCode == "corrupted")
        #expect(corrupt.body.count < 4096)
        await server.stop()
    }

    @Test func gracefulShutdownRemovesTheAnnouncement() async throws {
        let server = try await ServerProcess(label: "shutdown")
        defer { server.cleanUp() }
        let announcement = server.dataDir.appendingPathComponent("server.json")
        let attributes = try FileManager.default.attributesOfItem(atPath: announcement.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: announcement)) as? [String: Any]
        #expect(json?["url"] as? String == server.url)
        #expect(await server.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: announcement.path))
    }
}

/// The CLI as users run it: a child process, in-process on a data folder or through a server.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct CLITests {
    @Test func inProcessLifeCycleWithJSONOutput() async throws {
        let folder = try makeScratchFolder("cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("weights".utf8).write(to: folder.appendingPathComponent("model.bin"))
        try """
            git: {commit: 0123456789abcdef0123456789abcdef01234567, branch: main}
            training_data:
              - {uri: s3://data/train.csv, rows: 1000, date_from: 2026-01-01, date_to: 2026-02-01}
            parameters: {depth: 6}
            metrics: {accuracy: 0.93}
            container_image: ghcr.io/acme/churn:1
            """.write(to: folder.appendingPathComponent("lineage.yml"), atomically: true, encoding: .utf8)
        #expect(try await runCLI(["models", "create", "churn", "--tag", "team=growth"], in: folder).status == 0)
        let created = try await runCLI(
            ["versions", "create", "churn", "--artifact", "model.bin", "--lineage", "lineage.yml", "--metric", "auc=0.97", "--json"], in: folder)
        #expect(created.status == 0, "\(created.stderr)")
        let version = try #require(try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        #expect(version["version"] as? Int == 1 && version["status"] as? String == "READY")
        let lineage = try #require(version["lineage"] as? [String: Any])
        #expect((lineage["metrics"] as? [String: Double]) == ["accuracy": 0.93, "auc": 0.97])
        #expect((lineage["git"] as? [String: Any])?["commit"] as? String == "0123456789abcdef0123456789abcdef01234567")
        #expect((lineage["environment"] as? [String: Any])?["architecture"] != nil)
        #expect(version["artifactDigest"] as? String == Digest(of: Data("weights".utf8)).description)

        #expect(try await runCLI(["alias", "set", "churn", "production", "1", "--reason", "launch"], in: folder).status == 0)
        let history = try await runCLI(["alias", "history", "churn", "production", "--json"], in: folder)
        let events = try #require((try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [String: Any])?["events"] as? [[String: Any]])
        #expect(events.count == 1 && events[0]["reason"] as? String == "launch" && events[0]["toVersion"] as? Int == 1)
        let before = try await runCLI(["alias", "get", "churn", "production", "--at", "2000-01-01", "--json"], in: folder)
        #expect(before.status == 0 && !before.stdout.contains("\"version\""))

        let download = try await runCLI(["versions", "download", "churn", "production", "--out", "restored.bin"], in: folder)
        #expect(download.status == 0, "\(download.stderr)")
        #expect(try Data(contentsOf: folder.appendingPathComponent("restored.bin")) == Data("weights".utf8))

        let search = try await runCLI(["search", "metrics.accuracy >= 0.9 AND params.depth = '6'", "--json"], in: folder)
        #expect(search.status == 0 && search.stdout.contains("\"churn\""))

        // Errors: a clear message on stderr, one JSON document with --json, a non-zero exit.
        let missing = try await runCLI(["models", "show", "nope", "--json"], in: folder)
        #expect(missing.status == 1 && missing.stderr.contains("does not exist"))
        #expect((try JSONSerialization.jsonObject(with: Data(missing.stdout.utf8)) as? [String: Any])?["error"] != nil)
        let invalid = try await runCLI(["models", "create", "bad name"], in: folder)
        #expect(invalid.status == 2 && invalid.stderr.contains("bad name"))
        let badLineage = try await runCLI(["versions", "create", "churn", "--artifact", "model.bin", "--lineage", "model.bin"], in: folder)
        #expect(badLineage.status != 0 && badLineage.stderr.contains("model.bin"))
        let refused = try await runCLI(["versions", "delete", "churn", "1"], in: folder)
        #expect(refused.status == 1 && refused.stderr.contains("production"))
        let audit = try await runCLI(["audit", "--model", "churn", "--json"], in: folder)
        #expect(audit.stdout.contains("alias.set") && audit.stdout.contains("version.create"))
    }

    @Test func theCLIUsesARunningServerAndPrintsTheSame() async throws {
        let server = try await ServerProcess(label: "cli-server")
        defer { server.cleanUp() }
        let folder = server.folder
        try Data("model bytes".utf8).write(to: folder.appendingPathComponent("m.bin"))
        let dataArgs = ["--data-dir", server.dataDir.path]
        #expect(try await runCLI(["models", "create", "churn"] + dataArgs, in: folder).status == 0)
        let created = try await runCLI(["versions", "create", "churn", "--artifact", "m.bin", "--no-probe", "--json"] + dataArgs, in: folder)
        #expect(created.status == 0, "\(created.stderr)")
        // The change went through the server: its audit log has it, under the local owner's token.
        let audit = try await server.call(.GET, "/api/v1/audit?model=churn", token: server.adminToken)
        #expect(audit.text.contains("version.create"))
        // Explicit --server and --token work from anywhere, and the output matches the announced route.
        let remote = try await runCLI(["versions", "show", "churn", "1", "--json", "--server", server.url, "--token", server.adminToken], in: folder)
        let announced = try await runCLI(["versions", "show", "churn", "1", "--json"] + dataArgs, in: folder)
        #expect(remote.status == 0 && remote.stdout == announced.stdout)
        let wrongToken = try await runCLI(["models", "list", "--server", server.url, "--token", "slw_bad"], in: folder)
        #expect(wrongToken.status == 1 && wrongToken.stderr.contains("unknown or revoked"))
        let token = try await runCLI(["token", "create", "--role", "viewer", "--name", "reader", "--json"] + dataArgs, in: folder)
        let secret = try #require((try JSONSerialization.jsonObject(with: Data(token.stdout.utf8)) as? [String: Any])?["token"] as? String)
        let denied = try await runCLI(["models", "create", "x", "--server", server.url, "--token", secret], in: folder)
        #expect(denied.status == 1 && denied.stderr.contains("editor"))
        await server.stop()
        // With the server gone, the CLI opens the store itself and sees the same data.
        let after = try await runCLI(["versions", "show", "churn", "1", "--json"] + dataArgs, in: folder)
        #expect(after.status == 0 && after.stdout.contains(Digest(of: Data("model bytes".utf8)).hex))
    }

    @Test func demoRunsTheWholeLifeCycle() async throws {
        let folder = try makeScratchFolder("demo")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let result = try await runCLI(
            ["demo", "--json", "--data-dir", folder.appendingPathComponent("data").path, "--examples", repository.appendingPathComponent("examples").path],
            in: folder)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((summary["productionHistory"] as? [[String: Any]])?.compactMap { $0["toVersion"] as? Int } == [1, 2])
        #expect((summary["refusals"] as? [String])?.count == 4)
        let delivery = try #require(summary["delivery"] as? [String: Any])
        let requests = try #require(delivery["requests"] as? Int)
        #expect(requests > 0)
        #expect(delivery["predictionsLogged"] as? Int == requests)
        #expect(delivery["feedbackAttached"] as? Int == requests)
        #expect(delivery["stickyAcrossRequests"] as? Bool == true)
        #expect(delivery["movedOnlyIntoCanary"] as? Bool == true)
        // The better model went through its canary to 100% and took the production alias; the broken one was rolled back.
        let rollouts = try #require(summary["rollouts"] as? [[String: Any]])
        #expect(rollouts.map { $0["name"] as? String } == ["tumor-v3", "tumor-v4", "tumor-shadow", "tumor-blue-green"])
        let good = try #require(rollouts.first)
        #expect(good["phase"] as? String == "Healthy", "\(good)")
        #expect(good["aliasMoved"] as? Bool == true)
        #expect(good["production"] as? Int == 3)
        #expect(good["candidateWeight"] as? Double == 100)
        let bad = try #require(rollouts.dropFirst().first)
        #expect(bad["phase"] as? String == "Degraded", "\(bad)")
        #expect(bad["candidateWeight"] as? Double == 0)
        #expect(bad["aliasMoved"] as? Bool == false)
        #expect(bad["production"] as? Int == 3)
        #expect((bad["weights"] as? [String: Double])?["broken"] ?? 0 == 0)
        // The shadow test reached its gate and was stopped there; the blue-green switch took production.
        let shadow = try #require(rollouts.dropFirst(2).first)
        // It passes at its gate, where bob stops it; on a very busy machine too little may be mirrored in its
        // three seconds, and it ends inconclusive instead. Either way the mirror is gone and production unchanged.
        #expect(shadow["phase"] as? String == "Degraded" && shadow["aliasMoved"] as? Bool == false, "\(shadow)")
        let shadowReason = shadow["reason"] as? String ?? ""
        #expect(shadowReason.contains("aborted by bob") || shadowReason.contains("inconclusive"), "\(shadowReason)")
        #expect((shadow["weights"] as? [String: Double])?["shadow"] ?? 0 == 0)
        let blueGreen = try #require(rollouts.last)
        #expect(blueGreen["phase"] as? String == "Healthy" && blueGreen["aliasMoved"] as? Bool == true && blueGreen["production"] as? Int == 5)
        #expect(blueGreen["weights"] as? [String: Double] == ["green": 100])
        // The data was tracked, validated and registered; the models' lineage names it.
        let data = try #require(delivery["data"] as? [String: Any])
        #expect(data["failedChecks"] as? Int == 0 && (data["checks"] as? Int ?? 0) > 100)
        #expect(((data["dataset"] as? [String: Any])?["rows"] as? Int) == 455)
        // The supervised model servers (whose command lines name the data folder) are gone once the demo has finished.
        let dataPath = folder.appendingPathComponent("data").path
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { entry in
            guard Int32(entry) != nil, let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(dataPath)
        }
        #expect(leftovers?.isEmpty ?? true, "processes still running: \(leftovers ?? [])")
    }
}
