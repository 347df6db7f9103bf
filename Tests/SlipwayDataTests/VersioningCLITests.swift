import Foundation
import SlipwayCore
import Testing

@testable import SlipwayData

#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Data versioning through the slipway CLI", .serialized, .timeLimit(.minutes(3)))
struct VersioningCLITests {
    @Test("add, status, ls, checkout and gc as child processes, with --json")
    func commands() async throws {
        let project = try VersioningProject("cli")
        defer { project.cleanUp() }
        try project.writeFiles("data", count: 10)
        let added = try await slipway(["data", "add", "data", "--json"], in: project.path)
        #expect(added.status == 0, "\(added.stderr)")
        let report = jsonObject(added.stdout)
        #expect(report["hashedFiles"] as? Int == 10)
        #expect(!added.stderr.contains("\r"), "no live progress bar when stderr is not a terminal")
        let plain = try await slipway(["data", "add", "data"], in: project.path)
        #expect(plain.stderr.contains("hashed 0 of 10 file(s)"), "one summary line on stderr: \(plain.stderr)")
        let status = try await slipway(["data", "status", "--json"], in: project.path)
        let paths = try #require(jsonObject(status.stdout)["paths"] as? [[String: Any]])
        #expect(paths.first?["state"] as? String == "up to date")
        let listed = try await slipway(["data", "ls", "data.slipway", "--json"], in: project.path)
        #expect((jsonObject(listed.stdout)["files"] as? [Any])?.count == 10)
        try FileManager.default.removeItem(atPath: project.path + "/data")
        let checkout = try await slipway(["data", "checkout", "--json"], in: project.path)
        #expect(checkout.status == 0, "\(checkout.stderr)")
        #expect((jsonObject(checkout.stdout)["restored"] as? [Any])?.count == 10)
        let gc = try await slipway(["data", "gc", "--dry-run", "--json"], in: project.path)
        #expect(jsonObject(gc.stdout)["removedObjects"] as? Int == 0)
        #expect(jsonObject(gc.stdout)["keptObjects"] as? Int == 11)
    }

    @Test("bad input exits non-zero with a clear message and --json error document")
    func badInput() async throws {
        let project = try VersioningProject("cli-bad")
        defer { project.cleanUp() }
        let missing = try await slipway(["data", "add", "missing.csv", "--json"], in: project.path)
        #expect(missing.status != 0)
        #expect((jsonObject(missing.stdout)["error"] as? [String: Any])?["code"] as? String == "not_found")
        try project.write("x.slipway", "kind: file\ndigest: sha256:zz\nsize: 1\nfiles: 1\n")
        let corrupt = try await slipway(["data", "status"], in: project.path)
        #expect(corrupt.status == 2)
        #expect(corrupt.stderr.contains("x.slipway:2") && corrupt.stderr.contains("'digest'"), "\(corrupt.stderr)")
        let link = try await slipway(["data", "add", "x", "--link", "teleport"], in: project.path)
        #expect(link.status != 0 && link.stderr.contains("--link"))
        let remote = try await slipway(["data", "remote", "add", "bad name", "/tmp/x"], in: project.path)
        #expect(remote.status == 2)
        let outside = try await slipway(["data", "add", "/etc/hostname"], in: project.path)
        #expect(outside.status == 2 && outside.stderr.contains("outside the project"))
        let noRemote = try await slipway(["data", "push"], in: project.path)
        #expect(noRemote.status != 0 && noRemote.stderr.contains("slipway data remote add"))
    }

    @Test("push to a real slipway server, killed in the middle, then pushed again and pulled into a clone")
    func serverRemoteWithInterruption() async throws {
        let server = try await VersioningServer()
        let project = try VersioningProject("cli-server")
        let clone = try VersioningProject("cli-server-clone")
        defer {
            server.stop()
            project.cleanUp()
            clone.cleanUp()
        }
        // Enough data that the push takes a while: 800 files of 128 KiB.
        for index in 0..<800 {
            var bytes = [UInt8](repeating: 0, count: 128 * 1024)
            for position in stride(from: 0, to: bytes.count, by: 64) { bytes[position] = UInt8(truncatingIfNeeded: index &* 31 &+ position / 64) }
            bytes[1] = UInt8(index >> 8)
            bytes[2] = UInt8(index & 0xff)
            try project.write(String(format: "data/part-%03d.bin", index), Data(bytes))
        }
        #expect(try await slipway(["data", "add", "data"], in: project.path).status == 0)
        let env = ["SLIPWAY_TOKEN": server.adminToken]
        #expect(try await slipway(["data", "remote", "add", "hub", server.url], in: project.path).status == 0)
        // Without a token the server refuses, with a clear message.
        let refused = try await slipway(["data", "push"], in: project.path)
        #expect(refused.status != 0 && refused.stderr.contains("SLIPWAY_TOKEN"), "\(refused.stderr)")

        let objects = server.artifacts + "/objects/sha256"
        func storedCount() -> Int {
            let shards = (try? FileManager.default.contentsOfDirectory(atPath: objects)) ?? []
            return shards.reduce(0) { $0 + ((try? FileManager.default.contentsOfDirectory(atPath: objects + "/" + $1).count) ?? 0) }
        }
        var partial = 0
        // A test process held up long enough lets the whole push finish before the kill; then the server's objects are
        // removed and the push is started and killed again, so that the rest of the test always starts from a push
        // that was cut short.
        for _ in 0..<3 {
            let child = try VersioningChild(["data", "push"], in: project.path, environment: env)
            let deadline = Date().addingTimeInterval(60)
            while child.process.isRunning && storedCount() < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(2)) }
            kill(child.process.processIdentifier, SIGKILL)
            _ = await child.wait()
            // Uploads whose bodies had fully arrived may still be landing on the server: wait until the count settles.
            partial = storedCount()
            var stableSince = Date()
            while Date().timeIntervalSince(stableSince) < 0.5 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
                let now = storedCount()
                if now != partial { partial = now; stableSince = Date() }
            }
            guard partial == 801 else { break }
            for shard in try FileManager.default.contentsOfDirectory(atPath: objects) {
                try FileManager.default.removeItem(atPath: objects + "/" + shard)
            }
        }
        #expect(partial < 801, "the push was interrupted before it finished")
        #expect(partial >= 1)
        // Every object the server holds after the kill is complete and verified.
        for shard in (try? FileManager.default.contentsOfDirectory(atPath: objects)) ?? [] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: objects + "/" + shard)) ?? [] {
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(objects)/\(shard)/\(name)"))
                #expect(Digest(of: data).hex == shard + name)
            }
        }
        let again = try await slipway(["data", "push", "--json"], in: project.path, environment: env)
        #expect(again.status == 0, "\(again.stderr)")
        let report = jsonObject(again.stdout)
        #expect(report["objects"] as? Int == 801)
        #expect((report["transferred"] as? Int ?? 0) == 801 - partial, "only what was missing is sent: \(again.stdout)")
        let third = try await slipway(["data", "push", "--json"], in: project.path, environment: env)
        #expect(jsonObject(third.stdout)["transferred"] as? Int == 0)

        // A clone with only the pointer pulls everything back, verified.
        try FileManager.default.copyItem(atPath: project.path + "/data.slipway", toPath: clone.path + "/data.slipway")
        #expect(try await slipway(["data", "remote", "add", "hub", server.url], in: clone.path).status == 0)
        let pulled = try await slipway(["data", "pull", "--json"], in: clone.path, environment: env)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(clone.read("data/part-123.bin") == project.read("data/part-123.bin"))
        let status = try await slipway(["data", "status", "--json"], in: clone.path)
        #expect((jsonObject(status.stdout)["paths"] as? [[String: Any]])?.first?["state"] as? String == "up to date")
    }

    @Test("the batch endpoint answers missing digests and refuses malformed requests")
    func missingEndpoint() async throws {
        let server = try await VersioningServer()
        defer { server.stop() }
        let remote = ServerRemote(baseURL: server.url, token: server.adminToken)
        let known = Digest(of: Data("known".utf8))
        let unknown = Digest(of: Data("unknown".utf8))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-data-up-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("known".utf8).write(to: folder.appendingPathComponent("k"))
        try await remote.upload(known, from: folder.appendingPathComponent("k").path, size: 5)
        #expect(try await remote.missing([known, unknown, unknown]) == [unknown])
        // Bytes that do not match their digest are refused by the server.
        await #expect(throws: DataError.self) { try await remote.upload(unknown, from: folder.appendingPathComponent("k").path, size: 5) }
        // Malformed bodies are 400, a missing token 401.
        for body in ["{}", "{\"digests\": [\"md5:abc\"]}", "not json", "{\"digests\": 5}"] {
            let status = try await post(server.url + "/api/v1/artifacts/missing", body: body, token: server.adminToken)
            #expect(status == 400, "\(body)")
        }
        let tooMany = "{\"digests\": [" + Array(repeating: "\"\(known)\"", count: 10_001).joined(separator: ",") + "]}"
        #expect(try await post(server.url + "/api/v1/artifacts/missing", body: tooMany, token: server.adminToken) == 400)
        #expect(try await post(server.url + "/api/v1/artifacts/missing", body: "{\"digests\": []}", token: nil) == 401)
    }

    private func post(_ url: String, body: String, token: String?) async throws -> Int {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}
