import Foundation
import NIOHTTP1
import Testing

import SlipwayCore
import SlipwayStore

/// MLflow's `latest_versions` and the native version search, through a real `slipway server` over HTTP.
@Suite(.timeLimit(.minutes(5)), .endToEnd) struct MLflowLatestVersionsTests {
    static func mlflowVersions(_ object: Any?) -> [String] {
        ((object as? [[String: Any]]) ?? []).compactMap { $0["version"] as? String }
    }

    @Test func latestVersionsPerStageForOneModelAndForAPageOfModels() async throws {
        let server = try await ServerProcess(label: "mlflow-latest")
        defer { server.cleanUp() }
        let t = server.adminToken
        for name in ["churn", "fraud", "empty"] {
            let created = try await server.call(.POST, "/api/2.0/mlflow/registered-models/create", token: t, json: #"{"name":"\#(name)"}"#)
            #expect(created.status == 200, "\(created.text)")
        }
        for index in 1...5 {
            let reply = try await server.call(
                .POST, "/api/2.0/mlflow/model-versions/create", token: t,
                json: #"{"name":"churn","source":"s3://bucket/churn/\#(index)","tags":[{"key":"n","value":"\#(index)"}]}"#)
            #expect(reply.status == 200, "\(reply.text)")
        }
        #expect(try await server.call(.POST, "/api/2.0/mlflow/model-versions/create", token: t, json: #"{"name":"fraud","source":"x"}"#).status == 200)
        // churn: 1 Archived, 2 and 3 Staging, 4 and 5 None.
        for (version, stage) in [(1, "Archived"), (2, "Staging"), (3, "Staging")] {
            let moved = try await server.call(
                .POST, "/api/2.0/mlflow/model-versions/transition-stage", token: t,
                json: #"{"name":"churn","version":"\#(version)","stage":"\#(stage)","archive_existing_versions":false}"#)
            #expect(moved.status == 200, "\(moved.text)")
        }

        let one = try await server.call(.GET, "/api/2.0/mlflow/registered-models/get?name=churn", token: t)
        #expect(one.status == 200)
        let model = try #require(one.object["registered_model"] as? [String: Any])
        #expect(Self.mlflowVersions(model["latest_versions"]) == ["1", "3", "5"])
        let latest = try #require(model["latest_versions"] as? [[String: Any]])
        #expect(latest.map { $0["current_stage"] as? String } == ["Archived", "Staging", "None"])
        #expect((latest[2]["tags"] as? [[String: String]]) == [["key": "n", "value": "5"]])

        let page = try await server.call(.GET, "/api/2.0/mlflow/registered-models/search?max_results=10&order_by=name%20ASC", token: t)
        #expect(page.status == 200, "\(page.text)")
        let models = try #require(page.object["registered_models"] as? [[String: Any]])
        #expect(models.map { $0["name"] as? String } == ["churn", "empty", "fraud"])
        #expect(Self.mlflowVersions(models[0]["latest_versions"]) == ["1", "3", "5"])
        #expect(models[1]["latest_versions"] == nil)
        #expect(Self.mlflowVersions(models[2]["latest_versions"]) == ["1"])

        let staging = try await server.call(
            .POST, "/api/2.0/mlflow/registered-models/get-latest-versions", token: t, json: #"{"name":"churn","stages":["Staging"]}"#)
        #expect(Self.mlflowVersions(staging.object["model_versions"]) == ["3"])
        let every = try await server.call(.GET, "/api/2.0/mlflow/registered-models/get-latest-versions?name=churn", token: t)
        #expect(Self.mlflowVersions(every.object["model_versions"]) == ["1", "3", "5"])
        let none = try await server.call(.GET, "/api/2.0/mlflow/registered-models/get-latest-versions?name=empty", token: t)
        #expect(none.status == 200 && Self.mlflowVersions(none.object["model_versions"]).isEmpty)

        // Malformed and hostile requests get a clear 4xx and change nothing.
        let cases: [(HTTPMethod, String, String?, Int)] = [
            (.GET, "/api/2.0/mlflow/registered-models/get-latest-versions", nil, 400),
            (.GET, "/api/2.0/mlflow/registered-models/get-latest-versions?name=nope", nil, 404),
            (.POST, "/api/2.0/mlflow/registered-models/get-latest-versions", #"{"stages":["Staging"]}"#, 400),
            (.POST, "/api/2.0/mlflow/registered-models/get-latest-versions", #"{"name":"churn","stages":"Staging"}"#, 400),
            (.GET, "/api/2.0/mlflow/registered-models/get?name=a%00b", nil, 404),
            (.GET, "/api/2.0/mlflow/registered-models/search?max_results=0", nil, 400),
            (.GET, "/api/2.0/mlflow/registered-models/search?filter=name%20%3D%3D", nil, 400),
        ]
        for (method, path, body, status) in cases {
            let reply = try await server.call(method, path, token: t, json: body)
            #expect(reply.status == status, "\(method) \(path): \(reply.status) \(reply.text)")
            #expect(!(reply.object["message"] as? String ?? "").isEmpty, "\(path) has no message: \(reply.text)")
        }
        let after = try await server.call(.GET, "/api/2.0/mlflow/registered-models/get?name=churn", token: t)
        #expect(Self.mlflowVersions((after.object["registered_model"] as? [String: Any])?["latest_versions"]) == ["1", "3", "5"])
        await server.stop()
    }

    @Test func nativeVersionSearchAnswersTheStandardDocument() async throws {
        let server = try await ServerProcess(label: "native-search")
        defer { server.cleanUp() }
        let t = server.adminToken
        #expect(try await server.call(.POST, "/api/v1/models", token: t, json: #"{"name":"churn"}"#).status == 201)
        for index in 1...7 {
            let body = #"""
                {"source":"s3://b/\#(index)","description":"ünï \"q\" \\ \n \#(index)","tags":{"team":"\#(index % 2 == 0 ? "nlp" : "cv")","日本":"語"},
                 "lineage":{"metrics":{"accuracy":0.\#(index)5,"one":1},"parameters":{"lr":"0.01"},"git":{"commit":"abc","dirty":true},
                 "trainingData":[{"uri":"s3://d","rows":\#(index)}],"environment":{"os":"Linux","libraries":{"numpy":"2"}},"trainedBy":"alice"}}
                """#
            let created = try await server.call(.POST, "/api/v1/models/churn/versions", token: t, json: body)
            #expect(created.status == 201, "\(created.text)")
        }
        var seen: [Int] = []
        var path = "/api/v1/versions?filter=tags.team%20%3D%20'nlp'%20AND%20metrics.accuracy%20%3E%200.3&limit=1"
        while true {
            let reply = try await server.call(.GET, path, token: t)
            #expect(reply.status == 200, "\(reply.text)")
            let page = try SlipwayJSON.decoder().decode(Page<ModelVersion>.self, from: reply.body)
            // The answer is the document the standard encoder writes for the same values.
            #expect(reply.body == (try SlipwayJSON.encoder().encode(page)))
            for version in page.items {
                #expect(version.tags == ["team": "nlp", "日本": "語"])
                #expect(version.description == "ünï \"q\" \\ \n \(version.version)")
                #expect(version.lineage.trainingData == [DatasetReference(uri: "s3://d", rows: Int64(version.version))])
                #expect(version.lineage.git == GitInfo(commit: "abc", dirty: true))
                #expect(version.lineage.environment?.libraries == ["numpy": "2"])
            }
            seen += page.items.map(\.version)
            guard let token = page.nextPageToken else { break }
            path = "/api/v1/versions?filter=tags.team%20%3D%20'nlp'%20AND%20metrics.accuracy%20%3E%200.3&limit=1&pageToken=\(token)"
        }
        #expect(seen == [6, 4])
        let listed = try await server.call(.GET, "/api/v1/models/churn/versions?limit=3", token: t)
        let listing = try SlipwayJSON.decoder().decode(Page<ModelVersion>.self, from: listed.body)
        #expect(listing.items.map(\.version) == [7, 6, 5] && listing.nextPageToken != nil)
        #expect(listed.body == (try SlipwayJSON.encoder().encode(listing)))
        for bad in ["/api/v1/versions?limit=10001", "/api/v1/versions?filter=metrics.accuracy%20%3E%20'x", "/api/v1/versions?pageToken=%FF"] {
            let reply = try await server.call(.GET, bad, token: t)
            #expect(reply.status == 400 && reply.errorCode == "invalid_argument", "\(bad): \(reply.text)")
        }
        await server.stop()
    }
}
