import Foundation
import SlipwayCore
import SlipwayStore
import Testing

@testable import SlipwayPipeline

/// Collects the lines an action logs.
final class ActionLog: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    var text: String { lines.joined(separator: "\n") }
    func append(_ line: String) { lock.withLock { stored.append(line) } }
}

/// A scratch project with a data folder, a run folder and job workspaces.
struct ActionScratch {
    let root: URL
    let dataDir: URL
    let runFolder: URL

    init(_ label: String) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-\(label)-\(UUID().uuidString.prefix(8))")
        dataDir = root.appendingPathComponent("data")
        runFolder = root.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
    }

    /// A fresh workspace folder for a job.
    func workspace(_ name: String) throws -> URL {
        let url = root.appendingPathComponent("ws-\(name)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func write(_ text: String, to relative: String, in workspace: URL) throws {
        let url = workspace.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func invocation(_ inputs: [String: String], workspace: URL, job: String = "job", environment: [String: String] = [:], log: ActionLog)
        -> ActionInvocation
    {
        ActionInvocation(
            inputs: inputs, workspace: workspace, project: root, runFolder: runFolder,
            temp: root.appendingPathComponent("tmp-\(UUID().uuidString.prefix(6))"), jobKey: job, git: GitInfo(),
            environment: environment, log: { log.append($0) })
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// Runs an action and returns its error message, or nil when it succeeded.
func actionError(_ action: some BuiltinAction, _ invocation: ActionInvocation) async -> String? {
    do {
        _ = try await action.run(invocation)
        return nil
    } catch {
        return error.message
    }
}

func readText(_ url: URL) -> String? { try? String(contentsOf: url, encoding: .utf8) }

@Suite("Artifact actions")
struct ActionArtifactTests {
    @Test("a folder uploaded by one job is downloaded by another, byte for byte")
    func folderAcrossJobs() async throws {
        let scratch = try ActionScratch("artifacts")
        defer { scratch.remove() }
        let log = ActionLog()
        let producer = try scratch.workspace("train")
        try scratch.write("weights", to: "model/weights.bin", in: producer)
        try scratch.write("{\"a\":1}", to: "model/config/params.json", in: producer)
        try scratch.write("secret", to: "model/.hidden", in: producer)
        let upload = UploadArtifactAction(dataDir: scratch.dataDir)
        let result = try await upload.run(scratch.invocation(["name": "model", "path": "model/"], workspace: producer, job: "train", log: log))
        let digest = try #require(result.outputs["artifact-digest"])
        #expect(digest.hasPrefix("sha256:"))
        #expect(result.outputs["artifact-id"] == digest)

        let indexURL = scratch.runFolder.appendingPathComponent("artifacts/model.json")
        let index = try SlipwayJSON.decoder().decode(ArtifactIndex.self, from: Data(contentsOf: indexURL))
        #expect(index.files == ["config/params.json", "weights.bin"])
        #expect(index.digest == digest)
        #expect(FileManager.default.fileExists(atPath: scratch.dataDir.appendingPathComponent("artifacts").path))

        let consumer = try scratch.workspace("deploy")
        let download = DownloadArtifactAction(dataDir: scratch.dataDir)
        let out = try await download.run(scratch.invocation(["name": "model", "path": "restored"], workspace: consumer, job: "deploy", log: log))
        #expect(readText(consumer.appendingPathComponent("restored/weights.bin")) == "weights")
        #expect(readText(consumer.appendingPathComponent("restored/config/params.json")) == "{\"a\":1}")
        #expect(!FileManager.default.fileExists(atPath: consumer.appendingPathComponent("restored/.hidden").path))
        #expect(out.outputs["download-path"]?.hasSuffix("/restored") == true)
    }

    @Test("globs, exclusions and several paths keep the paths below their common folder")
    func globsAndCommonRoot() async throws {
        let scratch = try ActionScratch("artifacts")
        defer { scratch.remove() }
        let log = ActionLog()
        let ws = try scratch.workspace("a")
        try scratch.write("1", to: "out/reports/a.json", in: ws)
        try scratch.write("2", to: "out/reports/deep/b.json", in: ws)
        try scratch.write("3", to: "out/reports/skip.json", in: ws)
        try scratch.write("4", to: "out/logs/run.txt", in: ws)
        try scratch.write("5", to: "out/logs/run.json", in: ws)
        let upload = UploadArtifactAction(dataDir: scratch.dataDir)
        _ = try await upload.run(
            scratch.invocation(
                ["name": "reports", "path": "out/reports/**/*.json\n!out/reports/skip.json\nout/logs/run.txt"], workspace: ws, log: log))
        let index = try SlipwayJSON.decoder().decode(
            ArtifactIndex.self, from: Data(contentsOf: scratch.runFolder.appendingPathComponent("artifacts/reports.json")))
        #expect(index.files == ["logs/run.txt", "reports/a.json", "reports/deep/b.json"])

        // A single file is stored at the top of the artifact.
        _ = try await upload.run(scratch.invocation(["name": "one", "path": "./out/logs/run.json"], workspace: ws, log: log))

        // Without a name every artifact goes to path/<name>/.
        let other = try scratch.workspace("b")
        _ = try await DownloadArtifactAction(dataDir: scratch.dataDir).run(scratch.invocation(["path": "all"], workspace: other, log: log))
        #expect(readText(other.appendingPathComponent("all/reports/reports/deep/b.json")) == "2")
        #expect(readText(other.appendingPathComponent("all/reports/logs/run.txt")) == "4")
        #expect(readText(other.appendingPathComponent("all/one/run.json")) == "5")
        #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent("all/reports/reports/skip.json").path))
    }

    @Test("if-no-files-found: warn, ignore and error")
    func noFiles() async throws {
        let scratch = try ActionScratch("artifacts")
        defer { scratch.remove() }
        let log = ActionLog()
        let ws = try scratch.workspace("a")
        let upload = UploadArtifactAction(dataDir: scratch.dataDir)
        let warned = try await upload.run(scratch.invocation(["name": "x", "path": "missing/*.bin"], workspace: ws, log: log))
        #expect(warned.outputs.isEmpty)
        #expect(log.text.contains("::warning::no files were found"))
        _ = try await upload.run(scratch.invocation(["name": "x", "path": "missing", "if-no-files-found": "ignore"], workspace: ws, log: log))
        let error = await actionError(
            upload, scratch.invocation(["name": "x", "path": "missing", "if-no-files-found": "error"], workspace: ws, log: log))
        #expect(error?.contains("no files were found") == true)
        let bad = await actionError(
            upload, scratch.invocation(["name": "x", "path": "missing", "if-no-files-found": "fail"], workspace: ws, log: log))
        #expect(bad?.contains("'if-no-files-found'") == true && bad?.contains("warn, error, ignore") == true)
        #expect(!FileManager.default.fileExists(atPath: scratch.runFolder.appendingPathComponent("artifacts/x.json").path))
    }

    @Test("hostile inputs: escaping paths, bad names, a missing path, an existing name, a missing artifact")
    func hostile() async throws {
        let scratch = try ActionScratch("artifacts")
        defer { scratch.remove() }
        let log = ActionLog()
        let ws = try scratch.workspace("a")
        try scratch.write("x", to: "f.txt", in: ws)
        try FileManager.default.createSymbolicLink(atPath: ws.appendingPathComponent("link").path, withDestinationPath: "/etc")
        let upload = UploadArtifactAction(dataDir: scratch.dataDir)
        for path in ["../outside.txt", "/etc/hostname", "link/hostname", "sub/../../x"] {
            let error = await actionError(upload, scratch.invocation(["name": "x", "path": path], workspace: ws, log: log))
            #expect(error?.contains("outside the workspace") == true, "\(path): \(error ?? "no error")")
        }
        for name in ["a/b", "a:b", "..", "we*rd"] {
            let error = await actionError(upload, scratch.invocation(["name": name, "path": "f.txt"], workspace: ws, log: log))
            #expect(error?.contains("artifact name") == true, "\(name): \(error ?? "no error")")
        }
        #expect(await actionError(upload, scratch.invocation(["name": "x"], workspace: ws, log: log))?.contains("'path' is required") == true)
        _ = try await upload.run(scratch.invocation(["name": "x", "path": "f.txt"], workspace: ws, log: log))
        let again = await actionError(upload, scratch.invocation(["name": "x", "path": "f.txt"], workspace: ws, log: log))
        #expect(again?.contains("already exists") == true)
        try scratch.write("y", to: "f.txt", in: ws)
        _ = try await upload.run(scratch.invocation(["name": "x", "path": "f.txt", "overwrite": "true"], workspace: ws, log: log))
        let download = DownloadArtifactAction(dataDir: scratch.dataDir)
        let out = try scratch.workspace("b")
        _ = try await download.run(scratch.invocation(["name": "x"], workspace: out, log: log))
        #expect(readText(out.appendingPathComponent("f.txt")) == "y")
        let missing = await actionError(download, scratch.invocation(["name": "nope"], workspace: out, log: log))
        #expect(missing?.contains("no artifact named 'nope'") == true && missing?.contains("it has: x") == true)
        let escape = await actionError(download, scratch.invocation(["name": "x", "path": "../elsewhere"], workspace: out, log: log))
        #expect(escape?.contains("outside the workspace") == true)
    }

    @Test("a corrupted object is detected on download and nothing is written")
    func corrupted() async throws {
        let scratch = try ActionScratch("artifacts")
        defer { scratch.remove() }
        let log = ActionLog()
        let ws = try scratch.workspace("a")
        try scratch.write(String(repeating: "model bytes ", count: 100), to: "model/w.bin", in: ws)
        try scratch.write("ok", to: "model/a.txt", in: ws)
        _ = try await UploadArtifactAction(dataDir: scratch.dataDir).run(scratch.invocation(["name": "m", "path": "model"], workspace: ws, log: log))
        let store = try LocalArtifactStore(root: scratch.dataDir.appendingPathComponent("artifacts"))
        let object = try await store.putData(Data(String(repeating: "model bytes ", count: 100).utf8))
        let path = store.path(of: object.digest)
        try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try Data(String(repeating: "MODEL BYTES ", count: 100).utf8).write(to: URL(fileURLWithPath: path))
        let out = try scratch.workspace("b")
        let error = await actionError(
            DownloadArtifactAction(dataDir: scratch.dataDir), scratch.invocation(["name": "m", "path": "dl"], workspace: out, log: log))
        #expect(error?.contains("cannot be restored") == true, "\(error ?? "no error")")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("dl").path))
    }

    @Test("two jobs uploading the same name at once: exactly one wins")
    func concurrentSameName() async throws {
        let scratch = try ActionScratch("artifacts")
        defer { scratch.remove() }
        let log = ActionLog()
        var invocations: [ActionInvocation] = []
        for leg in 0..<4 {
            let ws = try scratch.workspace("leg\(leg)")
            try scratch.write("leg \(leg)", to: "result.txt", in: ws)
            invocations.append(scratch.invocation(["name": "results", "path": "result.txt"], workspace: ws, job: "test-\(leg)", log: log))
        }
        let upload = UploadArtifactAction(dataDir: scratch.dataDir)
        let errors = await withTaskGroup(of: String?.self) { group in
            for invocation in invocations { group.addTask { await actionError(upload, invocation) } }
            var collected: [String?] = []
            for await error in group { collected.append(error) }
            return collected
        }
        #expect(errors.filter { $0 == nil }.count == 1)
        #expect(errors.compactMap { $0 }.allSatisfy { $0.contains("'results'") })
        let folder = scratch.runFolder.appendingPathComponent("artifacts")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["results.json"])
    }

    @Test("the registry built for slipway run has every supported action")
    func registry() throws {
        let registry = ActionRegistry.slipway(executable: URL(fileURLWithPath: "/usr/bin/true"))
        for name in ActionRegistry.supported {
            #expect((try? registry.action(for: "\(name)@v4")) != nil, "\(name)")
        }
    }
}
