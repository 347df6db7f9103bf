import Foundation
import NIOHTTP1
import SlipwayCore
import Testing

/// Registered datasets over HTTP against a server child process: roles, idempotent registration, lookups
/// by name and digest, and malformed or hostile bodies.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct DatasetAPITests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)
    static let otherDigest = "sha256:" + String(repeating: "cd", count: 32)

    static func body(name: String = "data/train.csv", digest: String = digest, rows: Int = 569) -> String {
        #"{"name": "\#(name)", "digest": "\#(digest)", "kind": "file", "size": 125204, "files": 1, "rows": \#(rows), "columns": [{"name": "radius", "type": "number"}], "timeColumn": "day", "dateFrom": "2026-01-01", "dateTo": "2026-03-31"}"#
    }

    @Test func registerListAndFind() async throws {
        let server = try await ServerProcess(label: "datasets")
        defer { server.cleanUp() }
        let admin = server.adminToken
        let viewer = try await PredictionsAPITests.token(server, role: "viewer")

        // Roles: a token is needed, and registering needs the editor role.
        #expect(try await server.call(.POST, "/api/v1/datasets", json: Self.body()).status == 401)
        let denied = try await server.call(.POST, "/api/v1/datasets", token: viewer, json: Self.body())
        #expect(denied.status == 403 && denied.errorCode == "permission_denied", "\(denied.text)")

        let created = try await server.call(.POST, "/api/v1/datasets", token: admin, json: Self.body())
        #expect(created.status == 201, "\(created.text)")
        let dataset = try SlipwayJSON.decoder().decode(Dataset.self, from: created.body)
        #expect(dataset.name == "data/train.csv" && dataset.rows == 569 && dataset.columns == [DatasetColumn(name: "radius", type: "number")])
        #expect(dataset.dateFrom == "2026-01-01" && dataset.timeColumn == "day")

        // The same name and contents: 200 with the first registration.
        let again = try await server.call(.POST, "/api/v1/datasets", token: admin, json: Self.body(rows: 1))
        let first = try SlipwayJSON.decoder().decode(Dataset.self, from: again.body)
        #expect(again.status == 200 && first == dataset)
        let newer = try await server.call(.POST, "/api/v1/datasets", token: admin, json: Self.body(digest: Self.otherDigest, rows: 600))
        #expect(newer.status == 201)

        // Lists (viewers may read), newest first; by name; by name and digest.
        let list = try await server.call(.GET, "/api/v1/datasets", token: viewer)
        #expect(list.status == 200)
        let all = (list.object["datasets"] as? [[String: Any]]) ?? []
        #expect(all.map { $0["rows"] as? Int } == [600, 569])
        let found = try await server.call(.GET, "/api/v1/datasets?name=data/train.csv&digest=\(Self.digest)", token: viewer)
        #expect(found.status == 200 && ((found.object["datasets"] as? [[String: Any]])?.first?["rows"] as? Int) == 569, "\(found.text)")
        let missing = try await server.call(.GET, "/api/v1/datasets?name=data/nope.csv&digest=\(Self.digest)", token: viewer)
        #expect(missing.status == 404 && missing.text.contains("slipway datasets register"), "\(missing.text)")
        #expect((try await server.call(.GET, "/api/v1/datasets?name=data/nope.csv", token: viewer).object["datasets"] as? [Any])?.isEmpty == true)

        // Malformed and hostile input: 400 with a message, and nothing stored.
        let bad: [(String, String)] = [
            ("not json", "JSON"),
            (#"{"name": "x"}"#, "digest"),
            (Self.body(digest: "sha256:xyz"), "digest"),
            (Self.body(name: ""), "name"),
            (Self.body().replacingOccurrences(of: #""kind": "file""#, with: #""kind": "pipe""#), "kind"),
            (Self.body().replacingOccurrences(of: #""size": 125204"#, with: #""size": -5"#), "negative"),
            (Self.body().replacingOccurrences(of: #""size": 125204"#, with: #""size": 99999999999999999999999"#), "number"),
            (Self.body(name: String(repeating: "n", count: 5000)), "name"),
        ]
        for (text, expected) in bad {
            let reply = try await server.call(.POST, "/api/v1/datasets", token: admin, json: text)
            #expect(reply.status == 400 && reply.text.contains(expected), "\(text.prefix(80)): \(reply.status) \(reply.text.prefix(200))")
        }
        for query in ["limit=0", "limit=abc", "limit=5000", "digest=nothex&name=a", "digest=\(Self.digest)"] {
            let reply = try await server.call(.GET, "/api/v1/datasets?\(query)", token: viewer)
            #expect(reply.status == 400, "\(query): \(reply.status) \(reply.text)")
        }
        let after = try await server.call(.GET, "/api/v1/datasets", token: viewer)
        #expect((after.object["datasets"] as? [Any])?.count == 2)
    }
}
