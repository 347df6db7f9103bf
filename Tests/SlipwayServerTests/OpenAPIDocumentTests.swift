import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SlipwayCore
import SlipwayStore
import Testing

@testable import SlipwayServer

/// Keeps `/api/v1/openapi.json` true: its operations are exactly the routes the router registers,
/// every one of them answers on a live server, and the live answers have the documented statuses and shapes.
@Suite("OpenAPI document", .endToEnd)
struct OpenAPIDocumentTests {
    @Test("is OpenAPI 3.1 JSON whose references all resolve")
    func wellFormed() throws {
        let document = try OpenAPI()
        #expect(document.root["openapi"]?.string == "3.1.0")
        #expect(document.root["components"]?["securitySchemes"]?["bearerAuth"]?["scheme"]?.string == "bearer")
        let names = [
            "RegisteredModel", "ModelVersion", "Lineage", "AliasEvent", "AuditEvent", "Approval", "StoredObject", "ModelPage", "Error",
            "PredictionRecord", "Feedback", "FeedbackRequest", "FeedbackBatchRequest", "FeedbackResults", "PredictionPage",
        ]
        for name in names {
            #expect(document.root["components"]?["schemas"]?[name] != nil, "components.schemas.\(name) is missing")
        }
        var references: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let object):
                if let reference = object["$ref"]?.string { references.append(reference) }
                object.values.forEach(collect)
            case .array(let array): array.forEach(collect)
            default: break
            }
        }
        collect(document.root)
        #expect(!references.isEmpty)
        for reference in references {
            #expect(document.pointer(reference) != nil, "\(reference) does not resolve")
        }
        let operationIds = Set(document.operations.compactMap { document.operation($0)?["operationId"]?.string })
        #expect(operationIds.count == document.operations.count, "every operation needs its own operationId")
        var links: [String] = []
        func collectLinks(_ value: JSONValue) {
            switch value {
            case .object(let object):
                for link in (object["links"]?.object ?? [:]).values {
                    if let target = link["operationId"]?.string { links.append(target) }
                }
                object.values.forEach(collectLinks)
            case .array(let array): array.forEach(collectLinks)
            default: break
            }
        }
        collectLinks(document.root["paths"] ?? .null)
        for target in links {
            #expect(operationIds.contains(target), "a link names operation '\(target)', which does not exist")
        }
        for operation in document.operations {
            let responses = try #require(document.operation(operation)?["responses"]?.object, "\(operation) has no responses")
            #expect(!responses.isEmpty)
            let open = ["GET /api/v1/health", "GET /api/v1/openapi.json"].contains(operation.description)
            #expect((responses["401"] == nil) == open, "\(operation): 401 must be documented exactly on operations that need a token")
        }
    }

    @Test("lists exactly the routes the router registers under /api/v1")
    func operationsMatchRoutes() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let services = try SlipwayServices.open(
            SlipwayConfiguration(dataDir: directory, port: 0), logger: Logger(label: "test"))
        let registered = SlipwayServer.routes(services: services).routes
            .filter { $0.path.hasPrefix("/api/v1/") }
            .map { Operation(method: $0.method, path: $0.path) }
        #expect(Set(registered).count == registered.count, "a route is registered twice")
        let documented = try OpenAPI().operations
        let undocumented = Set(registered).subtracting(documented).map(\.description).sorted()
        let unserved = documented.subtracting(registered).map(\.description).sorted()
        #expect(undocumented.isEmpty, "routes missing from the OpenAPI document: \(undocumented)")
        #expect(unserved.isEmpty, "documented operations the router does not serve: \(unserved)")
        #expect(documented.count >= 30)
    }

    @Test("every documented operation has a route on a live server, and other paths do not", .timeLimit(.minutes(20)))
    func liveRoutes() async throws {
        let document = try OpenAPI()
        try await withLiveServer { server in
            let served = try await server.send("GET", "/api/v1/openapi.json", token: nil)
            #expect(served.status == 200)
            #expect(served.text == OpenAPIDocument.json)

            let values = [
                "name": "probe", "key": "team", "alias": "production", "version": "1", "id": "tok_000000000000", "variant": "stable",
                "digest": "sha256:" + String(repeating: "0", count: 64),
            ]
            for operation in document.operations.sorted(by: { $0.description < $1.description }) {
                var path = operation.path
                for (name, value) in values { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
                #expect(!path.contains("{"), "\(operation): a path parameter has no probe value")
                let json = ["POST", "PUT", "PATCH"].contains(operation.method) ? "{}" : nil
                let answer = try await server.send(operation.method, path, token: server.adminToken, json: json)
                #expect(!answer.isMissingRoute, "\(operation) has no route: \(answer.status) \(answer.text)")
                #expect(answer.status < 500, "\(operation) failed: \(answer.status) \(answer.text)")
            }

            let undocumented = [
                ("GET", "/api/v1/nothing"), ("GET", "/api/v1/models/probe/versions/1/nothing"), ("POST", "/api/v1/whoami"),
                ("DELETE", "/api/v1/versions"), ("PATCH", "/api/v1/tokens"), ("PUT", "/api/v1/audit"), ("GET", "/api/v1/models/probe/tags"),
                ("GET", "/api/v1"), ("GET", "/api/v2/models"), ("POST", "/api/v1/artifacts"),
            ]
            for (method, path) in undocumented {
                #expect(!document.operations.contains(Operation(method: method, path: path)))
                let answer = try await server.send(method, path, token: server.adminToken)
                #expect(answer.status == 404 && answer.isMissingRoute, "\(method) \(path): \(answer.status) \(answer.text)")
            }
        }
    }

    @Test("live answers have the documented statuses and shapes, for every operation", .timeLimit(.minutes(20)))
    func liveAnswersConform() async throws {
        let document = try OpenAPI()
        try await withLiveServer { server in
            var checker = ConformanceChecker(document: document, server: server)
            let admin = server.adminToken

            _ = try await checker.call("GET", "/api/v1/health", token: nil, expect: 200)
            _ = try await checker.call("GET", "/api/v1/openapi.json", token: nil, expect: 200)
            _ = try await checker.call("GET", "/api/v1/whoami", token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/whoami", token: nil, expect: 401)
            let approver = try await checker.call(
                "POST", "/api/v1/tokens", token: admin, json: #"{"name": "reviewer", "role": "approver"}"#, expect: 201)
            let viewer = try await checker.call("POST", "/api/v1/tokens", token: admin, json: #"{"name": "reader", "role": "viewer"}"#, expect: 201)
            _ = try await checker.call("POST", "/api/v1/tokens", token: admin, json: #"{"name": "x", "role": "root"}"#, expect: 400)
            _ = try await checker.call("GET", "/api/v1/tokens", token: admin, expect: 200)
            let approverToken = try #require(approver["token"]?.string)
            let viewerToken = try #require(viewer["token"]?.string)

            // Models
            _ = try await checker.call(
                "POST", "/api/v1/models", token: admin, json: #"{"name": "fraud", "description": "card fraud", "tags": {"team": "risk"}}"#,
                expect: 201)
            _ = try await checker.call("POST", "/api/v1/models", token: admin, json: #"{"name": "fraud"}"#, expect: 409)
            _ = try await checker.call("POST", "/api/v1/models", token: admin, json: #"{"name": "bad name!"}"#, expect: 400)
            _ = try await checker.call("POST", "/api/v1/models", token: admin, json: #"{"name": "#, expect: 400)
            _ = try await checker.call("POST", "/api/v1/models", token: viewerToken, json: #"{"name": "other"}"#, expect: 403)
            _ = try await checker.call("GET", "/api/v1/models/fraud", token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/models/nothing", token: admin, expect: 404)
            _ = try await checker.call("PATCH", "/api/v1/models/fraud", token: admin, json: #"{"description": "card fraud, EU"}"#, expect: 200)
            _ = try await checker.call("PUT", "/api/v1/models/fraud/tags/owner", token: admin, json: #"{"value": "ana"}"#, expect: 200)
            let models = try await checker.call(
                "GET", "/api/v1/models?filter=" + query("tags.team = 'risk'") + "&orderBy=" + query("name ASC") + "&limit=5", token: admin,
                expect: 200)
            #expect(models["items"]?.array?.count == 1)
            _ = try await checker.call("GET", "/api/v1/models?limit=0", token: admin, expect: 400)

            // Artifacts
            let bytes = Array("weights of a small model\n".utf8)
            let digest = Digest(of: bytes).description
            _ = try await checker.call("PUT", "/api/v1/artifacts/\(digest)", token: admin, bytes: Array("other bytes".utf8), expect: 400)
            _ = try await checker.call("PUT", "/api/v1/artifacts/\(digest)", token: admin, bytes: bytes, expect: 201)
            _ = try await checker.call("PUT", "/api/v1/artifacts/\(digest)", token: admin, bytes: bytes, expect: 200)
            _ = try await checker.call("HEAD", "/api/v1/artifacts/\(digest)", token: admin, expect: 200)
            _ = try await checker.call("HEAD", "/api/v1/artifacts/sha256:\(String(repeating: "a", count: 64))", token: admin, expect: 404)
            // Which of these the store lacks (data push asks before sending).
            let absent = "sha256:\(String(repeating: "a", count: 64))"
            let missing = try await checker.call(
                "POST", "/api/v1/artifacts/missing", token: viewerToken, json: #"{"digests": ["\#(digest)", "\#(absent)"]}"#, expect: 200)
            #expect(missing["missing"]?.array?.count == 1)
            _ = try await checker.call("POST", "/api/v1/artifacts/missing", token: admin, json: #"{"digests": ["nope"]}"#, expect: 400)
            _ = try await checker.call("POST", "/api/v1/artifacts/missing", token: nil, json: #"{"digests": []}"#, expect: 401)
            let download = try await checker.call("GET", "/api/v1/artifacts/\(digest)", token: admin, expect: 200)
            #expect(download.bytes == bytes)
            _ = try await checker.call("GET", "/api/v1/artifacts/not-a-digest", token: admin, expect: 400)

            // Versions
            let lineage = #"""
                {"git": {"commit": "0123abc", "branch": "main"}, "parameters": {"lr": "0.1"}, "metrics": {"accuracy": 0.93},
                 "trainingData": [{"uri": "s3://data/fraud", "rows": 1000, "dateFrom": "2026-01-01"}],
                 "environment": {"language": "python", "libraries": {"scikit-learn": "1.5.2"}}, "trainedBy": "ana", "extras": {"ticket": "ML-1"}}
                """#
            let first = try await checker.call(
                "POST", "/api/v1/models/fraud/versions", token: admin, json: #"{"artifactDigest": "\#(digest)", "lineage": \#(lineage)}"#,
                expect: 201)
            #expect(first["status"]?.string == "READY")
            let second = try await checker.call(
                "POST", "/api/v1/models/fraud/versions", token: admin, json: #"{"description": "second", "source": "s3://bucket/model"}"#,
                expect: 201)
            #expect(second["status"]?.string == "READY", "a version that names an external source is ready as it is")
            let third = try await checker.call("POST", "/api/v1/models/fraud/versions", token: admin, json: #"{"description": "third"}"#, expect: 201)
            #expect(third["status"]?.string == "PENDING", "a version with neither artifact nor source waits for its artifact")
            _ = try await checker.call("PUT", "/api/v1/models/fraud/aliases/challenger", token: admin, json: #"{"version": 3}"#, expect: 409)
            _ = try await checker.call("POST", "/api/v1/models/nothing/versions", token: admin, json: "{}", expect: 404)
            _ = try await checker.call(
                "POST", "/api/v1/models/fraud/versions", token: admin, json: #"{"lineage": {"metrics": {"a": "x"}}}"#, expect: 400)
            // Bad input that once stopped the server or answered vaguely.
            let farDate = try await checker.call(
                "POST", "/api/v1/models/fraud/versions", token: admin, json: #"{"lineage": {"deployments": [{"alias": "x", "from": 1e300}]}}"#,
                expect: 400)
            #expect(farDate["error"]?["message"]?.string?.contains("years 1 to 9999") == true)
            let fraction = try await checker.call(
                "PUT", "/api/v1/models/fraud/aliases/champion", token: admin, json: #"{"version": 1.5}"#, expect: 400)
            #expect(fraction["error"]?["message"]?.string?.contains("does not fit") == true)
            let array = try await checker.call("POST", "/api/v1/models", token: admin, json: "[]", expect: 400)
            #expect(array["error"]?["message"]?.string?.contains("a JSON object") == true)
            _ = try await checker.call("GET", "/api/v1/models/fraud/versions?limit=1", token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/models/fraud/versions/latest", token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/models/fraud/versions/1", token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/models/fraud/versions/9", token: admin, expect: 404)
            _ = try await checker.call("PATCH", "/api/v1/models/fraud/versions/1", token: admin, json: #"{"description": "first"}"#, expect: 200)
            _ = try await checker.call("PATCH", "/api/v1/models/fraud/versions/0", token: admin, json: #"{"description": "x"}"#, expect: 400)
            _ = try await checker.call("PUT", "/api/v1/models/fraud/versions/1/tags/v1.0.0", token: admin, json: #"{"value": "yes"}"#, expect: 200)
            _ = try await checker.call("PUT", "/api/v1/models/fraud/versions/1/tags/v1.0.0", token: admin, json: #"{"value": "no"}"#, expect: 409)
            _ = try await checker.call("PUT", "/api/v1/models/fraud/versions/1/tags/note", token: admin, json: #"{"value": "n"}"#, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/models/fraud/versions/1/tags/note", token: admin, expect: 200)
            _ = try await checker.call(
                "GET", "/api/v1/versions?filter=" + query("metrics.accuracy >= 0.9 AND name = 'fraud'"), token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/versions?filter=" + query("name = "), token: admin, expect: 400)

            // Aliases
            _ = try await checker.call(
                "PUT", "/api/v1/models/fraud/aliases/champion", token: admin, json: #"{"version": 1, "reason": "best so far"}"#, expect: 200)
            _ = try await checker.call("PUT", "/api/v1/models/fraud/aliases/champion", token: admin, json: #"{"version": 99}"#, expect: 404)
            _ = try await checker.call("GET", "/api/v1/models/fraud/aliases/champion", token: admin, expect: 200)
            let at = try await checker.call(
                "GET", "/api/v1/models/fraud/aliases/champion?at=" + query(Timestamp.format(Date().addingTimeInterval(60))), token: admin,
                expect: 200)
            #expect(at["version"]?.number == 1)
            _ = try await checker.call("GET", "/api/v1/models/fraud/aliases/champion?at=yesterday", token: admin, expect: 400)
            _ = try await checker.call("GET", "/api/v1/models/fraud/aliases/champion?at=9223372036854775807", token: admin, expect: 400)
            _ = try await checker.call("GET", "/api/v1/models/fraud/aliases/champion/history", token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/models/fraud/history", token: admin, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/models/fraud/versions/1", token: admin, expect: 409)

            // Stages and approvals
            _ = try await checker.call("POST", "/api/v1/models/fraud/versions/1/stage", token: admin, json: #"{"stage": "Staging"}"#, expect: 200)
            _ = try await checker.call("POST", "/api/v1/models/fraud/versions/1/stage", token: admin, json: #"{"stage": "Production"}"#, expect: 409)
            _ = try await checker.call("POST", "/api/v1/models/fraud/versions/1/stage", token: admin, json: #"{"stage": "Nowhere"}"#, expect: 400)
            _ = try await checker.call(
                "POST", "/api/v1/models/fraud/versions/1/approvals", token: admin, json: #"{"stage": "Production"}"#, expect: 409)
            _ = try await checker.call(
                "POST", "/api/v1/models/fraud/versions/1/approvals", token: approverToken, json: #"{"stage": "Production", "comment": "ok"}"#,
                expect: 200)
            _ = try await checker.call("GET", "/api/v1/models/fraud/versions/1/approvals", token: admin, expect: 200)
            let production = try await checker.call(
                "POST", "/api/v1/models/fraud/versions/1/stage", token: admin, json: #"{"stage": "Production", "archiveExisting": true}"#,
                expect: 200)
            #expect(production["stage"]?.string == "Production")

            // Endpoints, deployments and traffic
            _ = try await checker.call("GET", "/api/v1/endpoints", token: admin, expect: 200)
            let endpoint = try await checker.call(
                "POST", "/api/v1/endpoints", token: admin, json: #"{"name": "fraud-api", "stickyKey": "header:X-Account"}"#, expect: 201)
            #expect(endpoint["weights"]?["stable"]?.number == 100)
            _ = try await checker.call("POST", "/api/v1/endpoints", token: admin, json: #"{"name": "fraud-api"}"#, expect: 409)
            _ = try await checker.call("POST", "/api/v1/endpoints", token: admin, json: #"{"name": "bad name"}"#, expect: 400)
            _ = try await checker.call("POST", "/api/v1/endpoints", token: viewerToken, json: #"{"name": "x"}"#, expect: 403)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/deployments/stable", token: admin,
                json: #"{"model": "fraud@1", "backend": {"kind": "url", "url": "http://127.0.0.1:9/v2/models/fraud-a"}}"#, expect: 200)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/deployments/canary", token: admin,
                json: #"{"model": "fraud@champion", "backend": {"kind": "url", "url": "http://127.0.0.1:9"}}"#, expect: 200)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/deployments/canary", token: admin,
                json: #"{"model": "fraud@99", "backend": {"kind": "builtin"}}"#, expect: 404)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/deployments/canary", token: admin, json: #"{"model": "fraud@1", "backend": {"kind": "ftp"}}"#,
                expect: 400)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/traffic", token: admin,
                json: #"{"weights": [{"variant": "stable", "weight": 90}, {"variant": "canary", "weight": 10}]}"#, expect: 200)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/traffic", token: admin,
                json: #"{"weights": [{"variant": "stable", "weight": 90}, {"variant": "canary", "weight": 20}]}"#, expect: 400)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/traffic/mirror", token: admin, json: #"{"variant": "canary", "percent": 50}"#, expect: 200)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/traffic/routes", token: admin,
                json: #"{"header": "X-Group", "value": "internal", "variant": "canary"}"#, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/endpoints/fraud-api/deployments/canary", token: admin, expect: 409)
            let switched = try await checker.call(
                "POST", "/api/v1/endpoints/fraud-api/traffic/switch", token: admin, json: #"{"variant": "stable"}"#, expect: 200)
            #expect(switched["weights"]?["stable"]?.number == 100)
            _ = try await checker.call("GET", "/api/v1/endpoints/fraud-api", token: viewerToken, expect: 200)
            _ = try await checker.call("GET", "/api/v1/endpoints/nope", token: admin, expect: 404)

            // Rollouts. The server's controller moves this one to its hour-long pause and leaves it there.
            let rollout = #"{"file": "canary.yml", "yaml": "name: fraud-canary\nendpoint: fraud-api\ncandidate: {model: fraud, version: 1, backend: 'http://127.0.0.1:9', variant: challenger}\nstrategy:\n  canary:\n    steps:\n      - setWeight: 10\n      - pause: {duration: 1h}\n      - pause: {}\n"}"#
            _ = try await checker.call("POST", "/api/v1/rollouts", token: admin, json: rollout, expect: 201)
            let refused = try await checker.call(
                "POST", "/api/v1/rollouts", token: admin, json: rollout.replacingOccurrences(of: "name: fraud-canary", with: "name: other"), expect: 409)
            #expect(refused.text.contains("fraud-canary"))
            let invalid = try await checker.call(
                "POST", "/api/v1/rollouts", token: admin, json: #"{"file": "bad.yml", "yaml": "endpoint: fraud-api\nstrategy: {canary: {steps: [{setWeight: 120}]}}\n"}"#,
                expect: 400)
            #expect(invalid.text.contains("bad.yml:2:"))
            _ = try await checker.call("POST", "/api/v1/rollouts", token: viewerToken, json: rollout, expect: 403)
            _ = try await checker.call("GET", "/api/v1/rollouts", token: viewerToken, expect: 200)
            _ = try await checker.call("GET", "/api/v1/rollouts/fraud-canary", token: viewerToken, expect: 200)
            _ = try await checker.call("GET", "/api/v1/rollouts/nope", token: admin, expect: 404)
            _ = try await checker.call("GET", "/api/v1/rollouts/fraud-canary/history", token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/rollouts/nope/history", token: admin, expect: 404)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/pause", token: admin, expect: 200)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/pause", token: admin, expect: 409)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/resume", token: viewerToken, expect: 403)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/resume", token: admin, expect: 200)
            _ = try await checker.call("POST", "/api/v1/rollouts/nope/promote", token: admin, expect: 404)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/promote", token: viewerToken, json: #"{"full": false}"#, expect: 403)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/promote", token: approverToken, json: "{", expect: 400)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/promote", token: approverToken, json: #"{"full": false}"#, expect: 200)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/retry", token: admin, expect: 409)
            _ = try await checker.call(
                "POST", "/api/v1/rollouts/fraud-canary/abort", token: admin, json: #"{"reason": "conformance"}"#, expect: 200)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/abort", token: admin, expect: 409)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/retry", token: admin, expect: 200)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/abort", token: admin, expect: 200)
            // Undo is for completed rollouts and needs an approver.
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/undo", token: viewerToken, expect: 403)
            _ = try await checker.call("POST", "/api/v1/rollouts/fraud-canary/undo", token: admin, json: #"{"reason": "conformance"}"#, expect: 409)

            // Datasets.
            let dataset = #"{"name": "data/train.csv", "digest": "sha256:\#(String(repeating: "0f", count: 32))", "kind": "file", "size": 10, "files": 1, "rows": 3, "columns": [{"name": "x", "type": "number"}]}"#
            _ = try await checker.call("POST", "/api/v1/datasets", token: viewerToken, json: dataset, expect: 403)
            _ = try await checker.call("POST", "/api/v1/datasets", token: admin, json: dataset, expect: 201)
            _ = try await checker.call("POST", "/api/v1/datasets", token: admin, json: dataset, expect: 200)
            _ = try await checker.call("POST", "/api/v1/datasets", token: admin, json: #"{"name": ""}"#, expect: 400)
            _ = try await checker.call("GET", "/api/v1/datasets?name=data/train.csv", token: viewerToken, expect: 200)
            _ = try await checker.call("GET", "/api/v1/datasets?name=nope&digest=sha256:\(String(repeating: "0f", count: 32))", token: viewerToken, expect: 404)
            _ = try await checker.call("GET", "/api/v1/datasets?limit=0", token: viewerToken, expect: 400)

            // The prediction log and feedback. The gateway logs real answers; these records are written to the store directly.
            let store = try SlipwayServices.open(SlipwayConfiguration(dataDir: server.dataDir), logger: Logger(label: "test")).metadata
            let logged = (1...3).map { index in
                PredictionRecord(
                    requestId: "req-\(index)", timestamp: Date(timeIntervalSince1970: 1_790_000_000 + Double(index)), endpoint: "fraud-api",
                    variant: "stable", modelVersion: "fraud@1", stickyKey: index == 1 ? "acct-1" : nil, features: #"{"amount":[12.5]}"#,
                    prediction: "1", confidence: 0.9, latencyMs: 3.5, status: 200)
            }
            let mirrored = PredictionRecord(
                requestId: "req-1", timestamp: Date(timeIntervalSince1970: 1_790_000_001), endpoint: "fraud-api", variant: "canary",
                modelVersion: "fraud@1", kind: .mirror, latencyMs: 4, status: 200)
            try await store.appendPredictions(logged + [mirrored])
            let firstPage = try await checker.call("GET", "/api/v1/endpoints/fraud-api/predictions?limit=2", token: viewerToken, expect: 200)
            #expect(firstPage["predictions"]?.array?.count == 2)
            let pageToken = try #require(firstPage["nextPageToken"]?.string)
            let secondPage = try await checker.call(
                "GET", "/api/v1/endpoints/fraud-api/predictions?limit=2&pageToken=" + query(pageToken), token: viewerToken, expect: 200)
            #expect(secondPage["predictions"]?.array?.compactMap { $0["kind"]?.string } == ["primary", "mirror"])
            #expect(secondPage["nextPageToken"] == nil)
            let recent = try await checker.call(
                "GET", "/api/v1/endpoints/fraud-api/predictions?since=" + query("2026-09-21T14:13:22Z"), token: admin, expect: 200)
            #expect(recent["predictions"]?.array?.compactMap { $0["requestId"]?.string } == ["req-2", "req-3"])
            _ = try await checker.call("GET", "/api/v1/endpoints/fraud-api/predictions?limit=0", token: admin, expect: 400)
            _ = try await checker.call("GET", "/api/v1/endpoints/fraud-api/predictions?since=yesterday", token: admin, expect: 400)
            _ = try await checker.call("GET", "/api/v1/endpoints/fraud-api/predictions?pageToken=forged", token: admin, expect: 400)
            _ = try await checker.call("GET", "/api/v1/endpoints/nope/predictions", token: admin, expect: 404)
            _ = try await checker.call("GET", "/api/v1/endpoints/fraud-api/predictions", token: nil, expect: 401)
            let labelled = try await checker.call(
                "POST", "/api/v1/endpoints/fraud-api/feedback", token: admin, json: #"{"requestId": "req-1", "groundTruth": 1, "outcome": 250.0}"#,
                expect: 200)
            #expect(labelled["feedback"]?["groundTruth"]?.string == "1")
            #expect(labelled["kind"]?.string == "primary")
            let batch = try await checker.call(
                "POST", "/api/v1/endpoints/fraud-api/feedback", token: admin,
                json: #"{"feedback": [{"requestId": "req-2", "groundTruth": "0"}, {"requestId": "req-9", "outcome": 1}, {"requestId": "", "outcome": 1}]}"#,
                expect: 200)
            #expect(batch["results"]?.array?.map { $0["record"] != nil } == [true, false, false])
            #expect(batch["results"]?.array?.compactMap { $0["error"]?["code"]?.string } == ["not_found", "invalid_argument"])
            _ = try await checker.call(
                "POST", "/api/v1/endpoints/fraud-api/feedback", token: viewerToken, json: #"{"requestId": "req-1", "outcome": 1}"#, expect: 403)
            _ = try await checker.call("POST", "/api/v1/endpoints/fraud-api/feedback", token: nil, json: #"{"requestId": "req-1", "outcome": 1}"#, expect: 401)
            _ = try await checker.call(
                "POST", "/api/v1/endpoints/fraud-api/feedback", token: admin, json: #"{"requestId": "req-9", "outcome": 1}"#, expect: 404)
            _ = try await checker.call("POST", "/api/v1/endpoints/nope/feedback", token: admin, json: #"{"requestId": "req-1", "outcome": 1}"#, expect: 404)
            _ = try await checker.call("POST", "/api/v1/endpoints/fraud-api/feedback", token: admin, json: #"{"requestId": "req-1"}"#, expect: 400)
            _ = try await checker.call("POST", "/api/v1/endpoints/fraud-api/feedback", token: admin, json: #"{"requestId": "req-1", "outcome": "x"}"#, expect: 400)
            _ = try await checker.call("POST", "/api/v1/endpoints/fraud-api/feedback", token: admin, json: "not json", expect: 400)
            _ = try await checker.call("DELETE", "/api/v1/models/fraud/versions/1", token: admin, expect: 409)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/traffic/mirror", token: admin, json: #"{"variant": "canary", "percent": 0}"#, expect: 200)
            _ = try await checker.call(
                "PUT", "/api/v1/endpoints/fraud-api/traffic/routes", token: admin, json: #"{"header": "X-Group", "value": "internal"}"#, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/endpoints/fraud-api/deployments/canary", token: admin, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/endpoints/fraud-api", token: admin, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/endpoints/fraud-api", token: admin, expect: 404)

            // Remote runners and their pipeline jobs (RunnerAPITests covers the protocol).
            let registered = try await checker.call(
                "POST", "/api/v1/runners", token: admin, json: #"{"name": "gpu-1", "labels": ["GPU"]}"#, expect: 201)
            let runner = try #require(registered["id"]?.string)
            _ = try await checker.call("POST", "/api/v1/runners", token: admin, json: #"{"name": "x", "labels": ["a b"]}"#, expect: 400)
            _ = try await checker.call("GET", "/api/v1/runners", token: viewerToken, expect: 200)
            _ = try await checker.call("POST", "/api/v1/runners/\(runner)/next", token: admin, expect: 204)
            let submitted = try await checker.call(
                "POST", "/api/v1/pipeline-jobs", token: admin, json: #"{"name": "train", "run": "r1", "labels": ["gpu"], "payload": "{}"}"#,
                expect: 201)
            let job = try #require(submitted["id"]?.string)
            let jobPath = "/api/v1/pipeline-jobs/\(job)"
            _ = try await checker.call("POST", "/api/v1/runners/\(runner)/next", token: admin, expect: 200)
            _ = try await checker.call("POST", "/api/v1/runners/\(runner)/next", token: admin, expect: 409)
            _ = try await checker.call("POST", jobPath + "/lines", token: admin, json: #"{"runner": "\#(runner)", "lines": ["a"]}"#, expect: 200)
            _ = try await checker.call("POST", jobPath + "/lines", token: admin, json: #"{"runner": "rnr_x", "lines": []}"#, expect: 409)
            _ = try await checker.call("GET", jobPath + "?after=0", token: viewerToken, expect: 200)
            _ = try await checker.call("GET", jobPath + "?after=-1", token: viewerToken, expect: 400)
            _ = try await checker.call("POST", jobPath + "/cancel", token: admin, expect: 200)
            _ = try await checker.call("POST", jobPath + "/result", token: admin, json: #"{"runner": "\#(runner)", "result": "[]"}"#, expect: 400)
            _ = try await checker.call("POST", jobPath + "/result", token: admin, json: #"{"runner": "\#(runner)", "result": "{}"}"#, expect: 200)
            _ = try await checker.call("GET", jobPath, token: admin, expect: 200)
            _ = try await checker.call(
                "POST", "/api/v1/pipeline-jobs/job_none/result", token: admin, json: #"{"runner": "r", "result": "{}"}"#, expect: 404)
            _ = try await checker.call("POST", "/api/v1/pipeline-jobs/job_none/cancel", token: admin, expect: 404)
            _ = try await checker.call("DELETE", "/api/v1/runners/\(runner)", token: viewerToken, expect: 403)
            _ = try await checker.call("DELETE", "/api/v1/runners/\(runner)", token: admin, expect: 200)
            _ = try await checker.call("POST", "/api/v1/runners/\(runner)/next", token: admin, expect: 404)

            // Clean-up paths
            _ = try await checker.call("DELETE", "/api/v1/models/fraud/aliases/champion?reason=retired", token: admin, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/models/fraud/aliases/champion", token: admin, expect: 404)
            _ = try await checker.call("DELETE", "/api/v1/models/fraud/versions/2", token: admin, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/models/fraud/versions/3", token: admin, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/models/fraud/tags/owner", token: admin, expect: 200)
            _ = try await checker.call("POST", "/api/v1/models/fraud/rename", token: admin, json: #"{"newName": "fraud-eu"}"#, expect: 200)
            _ = try await checker.call("GET", "/api/v1/audit?model=fraud-eu&limit=5", token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/audit?beforeId=x", token: admin, expect: 400)
            _ = try await checker.call("DELETE", "/api/v1/models/fraud-eu", token: approverToken, expect: 403)
            _ = try await checker.call("DELETE", "/api/v1/models/fraud-eu", token: admin, expect: 200)
            _ = try await checker.call("DELETE", "/api/v1/tokens/\(try #require(approver["id"]?.string))", token: admin, expect: 200)
            _ = try await checker.call("GET", "/api/v1/whoami", token: approverToken, expect: 401)
            // Open paths ignore a bad token instead of refusing it.
            _ = try await checker.call("GET", "/api/v1/health", token: approverToken, expect: 200)
            _ = try await checker.call("GET", "/api/v1/openapi.json", token: "slw_unknown", expect: 200)

            #expect(checker.problems.isEmpty, "\(checker.problems.joined(separator: "\n"))")
            let missed = document.operations.subtracting(checker.exercised).map(\.description).sorted()
            #expect(missed.isEmpty, "operations this test does not exercise: \(missed)")
        }
    }
}

@Test("path parameters decode percent escapes, and refuse ones that are not UTF-8", arguments: ["%FF%FE", "%E2%82", "%", "a%2"])
func badPercentEscapes(text: String) throws {
    #expect(throws: GenericError.self) { try PathParameter.decode(text, name: "name") }
    #expect(try PathParameter.decode("a%2Fb%20%C3%A9", name: "name") == "a/b é")
}

// MARK: - The document

/// A method and a path template, the way OpenAPI names an operation.
struct Operation: Hashable, CustomStringConvertible {
    var method: String
    var path: String

    var description: String { "\(method) \(path)" }
}

/// The parsed OpenAPI document and a small JSON Schema checker for the parts of JSON Schema it uses.
struct OpenAPI {
    let root: JSONValue

    init() throws {
        root = try JSONDecoder().decode(JSONValue.self, from: Data(OpenAPIDocument.json.utf8))
    }

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    var operations: Set<Operation> {
        var found: Set<Operation> = []
        for (path, item) in root["paths"]?.object ?? [:] {
            for method in Self.methods where item[method] != nil {
                found.insert(Operation(method: method.uppercased(), path: path))
            }
        }
        return found
    }

    func operation(_ operation: Operation) -> JSONValue? {
        root["paths"]?[operation.path]?[operation.method.lowercased()]
    }

    /// The value at a local reference such as `#/components/schemas/ModelVersion`.
    func pointer(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var value: JSONValue? = root
        for part in reference.dropFirst(2).split(separator: "/") {
            value = value?[part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
        }
        return value
    }

    func resolved(_ value: JSONValue) -> JSONValue {
        var value = value
        while let reference = value["$ref"]?.string, let target = pointer(reference) { value = target }
        return value
    }

    /// Where `value` breaks `schema`, as readable lines; empty when it conforms.
    func violations(of value: JSONValue, against schema: JSONValue, at location: String = "$") -> [String] {
        let schema = resolved(schema)
        var problems: [String] = []
        if let options = schema["anyOf"]?.array {
            if !options.contains(where: { violations(of: value, against: $0, at: location).isEmpty }) {
                problems.append("\(location): matches none of anyOf")
            }
        }
        if let type = schema["type"]?.string, !value.isOfType(type) {
            return problems + ["\(location): expected \(type), got \(value)"]
        }
        if let allowed = schema["enum"]?.array, !allowed.contains(value) {
            problems.append("\(location): \(value) is not one of \(allowed)")
        }
        if case .string(let text) = value {
            if let pattern = schema["pattern"]?.string, text.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(location): '\(text)' does not match \(pattern)")
            }
            if schema["format"]?.string == "date-time",
                text.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) == nil
            {
                problems.append("\(location): '\(text)' is not an ISO 8601 instant with milliseconds")
            }
        }
        if case .number(let number) = value, let minimum = schema["minimum"]?.number, number < minimum {
            problems.append("\(location): \(number) is below \(minimum)")
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() {
                problems += violations(of: item, against: itemSchema, at: "\(location)[\(index)]")
            }
        }
        if case .object(let object) = value {
            for key in schema["required"]?.array?.compactMap(\.string) ?? [] where object[key] == nil {
                problems.append("\(location): required field '\(key)' is missing")
            }
            if let maximum = schema["maxProperties"]?.number, Double(object.count) > maximum {
                problems.append("\(location): has \(object.count) fields, at most \(Int(maximum)) allowed")
            }
            let properties = schema["properties"]?.object ?? [:]
            for (key, field) in object {
                if let fieldSchema = properties[key] {
                    problems += violations(of: field, against: fieldSchema, at: "\(location).\(key)")
                } else if let additional = schema["additionalProperties"], additional.object != nil {
                    problems += violations(of: field, against: additional, at: "\(location).\(key)")
                } else if schema["properties"] != nil {
                    // Every field an answer carries must be documented.
                    problems.append("\(location): field '\(key)' is not documented")
                }
            }
        }
        return problems
    }
}

/// Calls a live server, checks each answer against the document, and remembers which operations it exercised.
struct ConformanceChecker {
    let document: OpenAPI
    let server: LiveServer
    private(set) var problems: [String] = []
    private(set) var exercised: Set<Operation> = []

    init(document: OpenAPI, server: LiveServer) {
        self.document = document
        self.server = server
    }

    /// Sends a request, expects a status, and checks that the status and the body are the documented ones.
    mutating func call(
        _ method: String, _ target: String, token: String?, json: String? = nil, bytes: [UInt8]? = nil, expect status: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Answer {
        let answer = try await server.send(method, target, token: token, json: json, bytes: bytes)
        #expect(answer.status == status, "\(method) \(target): \(answer.status) \(answer.text)", sourceLocation: sourceLocation)
        let path = String(target.prefix { $0 != "?" })
        guard let operation = document.operations.first(where: { $0.method == method && Self.matches(template: $0.path, path: path) }) else {
            problems.append("\(method) \(path) matches no documented operation")
            return answer
        }
        exercised.insert(operation)
        guard let responses = document.operation(operation)?["responses"], let documented = responses[String(answer.status)] else {
            problems.append("\(operation) answered \(answer.status), which is not documented")
            return answer
        }
        let response = document.resolved(documented)
        let contentType = answer.headers["content-type"].first ?? ""
        if method == "HEAD" || response["content"] == nil {
            return answer
        }
        if let schema = response["content"]?["application/json"]?["schema"] {
            guard contentType.hasPrefix("application/json") else {
                problems.append("\(operation) \(answer.status): content type '\(contentType)', documented application/json")
                return answer
            }
            guard let value = answer.json else {
                problems.append("\(operation) \(answer.status): the body is not JSON: \(answer.text.prefix(200))")
                return answer
            }
            for problem in document.violations(of: value, against: schema) {
                problems.append("\(operation) \(answer.status): \(problem)")
            }
        } else if response["content"]?["application/octet-stream"] != nil, !contentType.hasPrefix("application/octet-stream") {
            problems.append("\(operation) \(answer.status): content type '\(contentType)', documented application/octet-stream")
        }
        return answer
    }

    static func matches(template: String, path: String) -> Bool {
        let expected = template.split(separator: "/", omittingEmptySubsequences: false)
        let actual = path.split(separator: "/", omittingEmptySubsequences: false)
        guard expected.count == actual.count else { return false }
        return zip(expected, actual).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }
}

// MARK: - A live server

/// A `slipway server` running in this process on 127.0.0.1 and a port the system chose.
struct LiveServer: Sendable {
    let url: String
    let adminToken: String
    /// The server's data folder; a test may open its store next to the server (SQLite in WAL mode allows it).
    let dataDir: URL

    func send(
        _ method: String, _ target: String, token: String?, json: String? = nil, bytes: [UInt8]? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url + target)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let bytes {
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: bytes))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, bytes: Array(body.readableBytesView))
    }
}

/// One HTTP answer.
struct Answer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var bytes: [UInt8]

    var text: String { String(decoding: bytes, as: UTF8.self) }
    var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) }

    /// The router found no route (as opposed to a route answering that a model or version is missing).
    var isMissingRoute: Bool {
        status == 404 && (json?["error"]?["message"]?.string?.hasPrefix("no route for ") ?? false)
    }

    subscript(key: String) -> JSONValue? { json?[key] }
}

/// Runs `body` against a fresh server with its own data folder, then shuts the server down.
func withLiveServer<T: Sendable>(_ body: (LiveServer) async throws -> T) async throws -> T {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let logger = Logger(label: "slipway.test", factory: { _ in SwiftLogNoOpLogHandler() })
    let configuration = SlipwayConfiguration(
        dataDir: directory.appendingPathComponent("data"), host: "127.0.0.1", port: 0, logLevel: .critical, gatewayPort: 0)
    let (lines, output) = AsyncStream.makeStream(of: String.self)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { output.finish() }
            try await SlipwayServer.run(configuration: configuration, readyFile: nil, logger: logger, output: { output.yield($0) })
        }
        var token: String?
        var url: String?
        // The server prints the admin token on its first start, then the URL once it listens.
        for await line in lines {
            if let range = line.range(of: #"slw_[0-9a-f]+"#, options: .regularExpression) { token = String(line[range]) }
            if let range = line.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                url = String(line[range])
                break
            }
        }
        guard let url, let token else {
            _ = try await group.next()
            throw GenericError(.unavailable, "the server stopped before it listened")
        }
        let result = try await body(LiveServer(url: url, adminToken: token, dataDir: configuration.dataDir))
        group.cancelAll()
        return result
    }
}

func temporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-openapi-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// Percent-encodes a query value.
func query(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
}

// MARK: - JSON values

/// Any JSON value, decoded without losing the difference between numbers and booleans.
enum JSONValue: Decodable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var number: Double? { if case .number(let value) = self { value } else { nil } }
    var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }

    func isOfType(_ type: String) -> Bool {
        switch (type, self) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array), ("object", .object): true
        case ("integer", .number(let value)): value.rounded() == value
        default: false
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): value.debugDescription
        case .array(let value): "[\(value.map(\.description).joined(separator: ", "))]"
        case .object(let value): "{\(value.keys.sorted().joined(separator: ", "))}"
        }
    }
}
