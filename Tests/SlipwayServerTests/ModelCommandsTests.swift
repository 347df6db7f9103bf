import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `slipway train`, `evaluate` and `serve-model` as a user runs them: child processes of the built binary.
@Suite(.endToEnd) struct ModelCommandsTests {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/data/breast-cancer")

    @Test(.timeLimit(.minutes(20)))
    func trainEvaluateAndServe() async throws {
        let folder = try makeScratchFolder("models")
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = Self.data.appendingPathComponent("train.csv").path
        let test = Self.data.appendingPathComponent("test.csv").path

        let trained = try await runCLI(
            ["train", "--algorithm", "gbdt", "--data", train, "--target", "target", "--out", "cancer", "--param", "max_iter=20", "--json"], in: folder)
        #expect(trained.status == 0, "\(trained.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as? [String: Any])
        #expect((summary["training"] as? [String: Any])?["samples"] as? Int == 455)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("cancer/slipway-model.json").path))

        let evaluated = try await runCLI(["evaluate", "--model", "cancer", "--data", test, "--target", "target", "--json"], in: folder)
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
        #expect((report["accuracy"] as? Double ?? 0) >= 0.9)
        #expect(report["roc_auc"] != nil && report["log_loss"] != nil && report["confusion_matrix"] != nil)
        let table = try await runCLI(["evaluate", "--model", "cancer", "--data", test, "--target", "target"], in: folder)
        #expect(table.status == 0 && table.stdout.contains("accuracy") && table.stdout.contains("confusion matrix"))

        // Progress goes to stderr when not --json.
        let logistic = try await runCLI(["train", "--algorithm", "logistic", "--data", train, "--target", "target", "--out", "lr"], in: folder)
        #expect(logistic.status == 0 && logistic.stderr.contains("loss") && logistic.stdout.contains("trained logistic"))

        // Bad input: a clear message and a non-zero exit, one JSON document with --json.
        let unknown = try await runCLI(["train", "--algorithm", "svm", "--data", train, "--target", "target", "--out", "x", "--json"], in: folder)
        #expect(unknown.status == 2 && unknown.stderr.contains("logistic or gbdt"))
        #expect((try JSONSerialization.jsonObject(with: Data(unknown.stdout.utf8)) as? [String: Any])?["error"] != nil)
        try "a,target\n1,0\nx,1\n".write(to: folder.appendingPathComponent("bad.csv"), atomically: true, encoding: .utf8)
        let bad = try await runCLI(["train", "--algorithm", "logistic", "--data", "bad.csv", "--target", "target", "--out", "x"], in: folder)
        #expect(bad.status == 2 && bad.stderr.contains("bad.csv:3") && bad.stderr.contains("'a'"))
        let noModel = try await runCLI(["evaluate", "--model", "missing", "--data", test, "--target", "target"], in: folder)
        #expect(noModel.status == 2 && noModel.stderr.contains("missing"))

        // serve-model on port 0 with a ready file; SIGTERM stops it with status 0.
        let ready = folder.appendingPathComponent("ready.json")
        let server = Process()
        server.executableURL = slipwayExecutable()
        server.arguments = ["serve-model", "--model", "cancer", "--port", "0", "--ready-file", ready.path, "--log-level", "warning"]
        server.currentDirectoryURL = folder
        server.standardOutput = FileHandle.nullDevice
        let errors = folder.appendingPathComponent("serve-model.err")
        try #require(FileManager.default.createFile(atPath: errors.path, contents: nil))
        server.standardError = try FileHandle(forWritingTo: errors)
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        // A server started while the whole suite starts gets 90 s, as the other servers the tests start do; the ready
        // file is read after every pause, so a pause that outlasts the deadline cannot hide a server that is up.
        func announced() -> String? {
            guard let bytes = try? Data(contentsOf: ready) else { return nil }
            return (try? JSONSerialization.jsonObject(with: bytes) as? [String: String])?["url"]
        }
        var url = announced()
        let deadline = Date().addingTimeInterval(90)
        while url == nil, server.isRunning, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            url = announced()
        }
        let base = try #require(url, "serve-model did not announce its URL: \((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
        var metadataRequest = HTTPClientRequest(url: base + "/v2/models/cancer")
        metadataRequest.method = .GET
        let metadata = try await HTTPClient.shared.execute(metadataRequest, timeout: .seconds(10))
        #expect(metadata.status == .ok)
        let row = try String(contentsOfFile: test, encoding: .utf8).split(separator: "\n")[1].split(separator: ",").dropLast().joined(separator: ",")
        var infer = HTTPClientRequest(url: base + "/v2/models/cancer/infer")
        infer.method = .POST
        infer.headers.add(name: "Content-Type", value: "application/json")
        infer.body = .bytes(ByteBuffer(string: #"{"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64", "data": [\#(row)]}]}"#))
        let answer = try await HTTPClient.shared.execute(infer, timeout: .seconds(10))
        #expect(answer.status == .ok)
        let body = try await answer.body.collect(upTo: 1 << 20)
        let outputs = (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["outputs"] as? [[String: Any]]
        #expect(outputs?.first?["name"] as? String == "label")
        kill(server.processIdentifier, SIGTERM)
        let stopDeadline = Date().addingTimeInterval(20)
        while server.isRunning && Date() < stopDeadline { try await Task.sleep(for: .milliseconds(20)) }
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
    }
}
