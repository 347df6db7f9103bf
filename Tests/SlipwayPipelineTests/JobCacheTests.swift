import Foundation
import SlipwayCore
import SlipwayStore
import Testing

@testable import SlipwayPipeline

@Suite("Job cache")
struct JobCacheTests {
    static func workspace() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("data/raw"), withIntermediateDirectories: true)
        try Data("a,b\n1,2\n".utf8).write(to: url.appendingPathComponent("data/raw/train.csv"))
        try Data("a,b\n3,4\n".utf8).write(to: url.appendingPathComponent("data/raw/test.csv"))
        try Data("print('train')\n".utf8).write(to: url.appendingPathComponent("train.py"))
        try Data("ignored\n".utf8).write(to: url.appendingPathComponent("notes.txt"))
        return url
    }

    static func job(script: String = "python3 train.py", inputs: [String] = ["data/**", "train.py"]) -> Job {
        Job(
            id: "train", runsOn: ["self-hosted"], steps: [Step(run: script)],
            cache: JobCache(inputs: inputs, outputs: ["model", "metrics.json"]))
    }

    static func key(_ parts: JobCacheKey.Parts, _ workspace: URL, _ digests: FileDigestCache? = nil) throws -> JobCacheKey {
        try JobCacheKey.compute(
            parts, workspace: workspace, digests: digests ?? FileDigestCache(file: workspace.appendingPathComponent(".slipway/digests.json")))
    }

    @Test("the key changes with the job, its inputs, environment, needs and secret names, and nothing else")
    func keyInputs() throws {
        let workspace = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let base = JobCacheKey.Parts(workflowFile: "ml.yml", job: Self.job(), env: ["LR": "0.1"], secretNames: ["TOKEN"])
        let first = try Self.key(base, workspace)
        #expect(first.inputFiles == 3)
        #expect(try Self.key(base, workspace) == first)

        try Data("changed\n".utf8).write(to: workspace.appendingPathComponent("notes.txt"))
        #expect(try Self.key(base, workspace).value == first.value, "a file outside the inputs changed the key")

        var changed = base
        changed.job = Self.job(script: "python3 train.py --epochs 2")
        #expect(try Self.key(changed, workspace).value != first.value)
        changed = base
        changed.env["LR"] = "0.2"
        #expect(try Self.key(changed, workspace).value != first.value)
        changed = base
        changed.matrix = ["python": .string("3.11")]
        #expect(try Self.key(changed, workspace).value != first.value)
        changed = base
        changed.needs = .object(["prepare": .object(["outputs": .object(["rows": .number(10)])])])
        #expect(try Self.key(changed, workspace).value != first.value)
        changed = base
        changed.secretNames = ["TOKEN", "OTHER"]
        #expect(try Self.key(changed, workspace).value != first.value)

        try Data("a,b\n1,3\n".utf8).write(to: workspace.appendingPathComponent("data/raw/train.csv"))
        let edited = try Self.key(base, workspace)
        #expect(edited.value != first.value)
        try FileManager.default.moveItem(
            at: workspace.appendingPathComponent("data/raw/test.csv"), to: workspace.appendingPathComponent("data/raw/test2.csv"))
        #expect(try Self.key(base, workspace).value != edited.value, "a renamed input did not change the key")
    }

    @Test("unchanged files are not read again; a change with a new timestamp is seen")
    func digestCache() throws {
        let workspace = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let file = workspace.appendingPathComponent("data/raw/train.csv")
        let old = Date(timeIntervalSinceNow: -60)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
        let digests = FileDigestCache(file: workspace.appendingPathComponent(".slipway/digests.json"))
        let parts = JobCacheKey.Parts(workflowFile: "ml.yml", job: Self.job())
        let first = try Self.key(parts, workspace, digests)
        digests.save()

        // Same size, same timestamp, same inode: the remembered digest is used, so the key stays.
        let handle = try FileHandle(forWritingTo: file)
        try handle.write(contentsOf: Data("a,b\n9,9\n".utf8))
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
        let reopened = FileDigestCache(file: workspace.appendingPathComponent(".slipway/digests.json"))
        #expect(try Self.key(parts, workspace, reopened).value == first.value)

        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -30)], ofItemAtPath: file.path)
        #expect(try Self.key(parts, workspace, reopened).value != first.value)
    }

    @Test("outputs are saved, found by key and restored byte for byte into another workspace")
    func saveAndRestore() async throws {
        let workspace = try Self.workspace()
        let dataDir = workspace.appendingPathComponent(".slipway")
        let other = try Self.workspace()
        defer {
            try? FileManager.default.removeItem(at: workspace)
            try? FileManager.default.removeItem(at: other)
        }
        try FileManager.default.createDirectory(at: workspace.appendingPathComponent("model/weights"), withIntermediateDirectories: true)
        try Data((0..<5000).map { UInt8($0 % 251) }).write(to: workspace.appendingPathComponent("model/weights/w.bin"))
        try Data("{\"accuracy\":0.93}".utf8).write(to: workspace.appendingPathComponent("metrics.json"))

        let cache = try JobCacheStore(dataDir: dataDir)
        let absent = await cache.lookup("ab12")
        #expect(absent == nil)
        let entry = try await cache.save(
            key: "ab12", workflow: "ml.yml", job: "train", jobOutputs: ["accuracy": "0.93"], outputPaths: ["model", "./metrics.json"],
            workspace: workspace, secretValues: ["hunter2-secret"])
        #expect(entry.files.map(\.path) == ["model", "metrics.json"])
        let found = try #require(await cache.lookup("ab12"))
        #expect(found.jobOutputs == ["accuracy": "0.93"])

        try FileManager.default.createDirectory(at: other.appendingPathComponent("model"), withIntermediateDirectories: true)
        try Data("stale".utf8).write(to: other.appendingPathComponent("model/old.bin"))
        try await cache.restore(found, into: other)
        #expect(try Data(contentsOf: other.appendingPathComponent("model/weights/w.bin")) == Data(contentsOf: workspace.appendingPathComponent("model/weights/w.bin")))
        #expect(try String(contentsOf: other.appendingPathComponent("metrics.json"), encoding: .utf8) == "{\"accuracy\":0.93}")
        #expect(!FileManager.default.fileExists(atPath: other.appendingPathComponent("model/old.bin").path))
    }

    @Test("secrets, missing outputs and paths outside the workspace are never cached")
    func refusals() async throws {
        let workspace = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let cache = try JobCacheStore(dataDir: workspace.appendingPathComponent(".slipway"))
        try Data("token=hunter2-secret\n".utf8).write(to: workspace.appendingPathComponent("leak.txt"))
        await #expect(throws: CacheError.self) {
            try await cache.save(key: "01", workflow: "w", job: "j", jobOutputs: [:], outputPaths: ["leak.txt"], workspace: workspace, secretValues: ["hunter2-secret"])
        }
        await #expect(throws: CacheError.self) {
            try await cache.save(key: "02", workflow: "w", job: "j", jobOutputs: ["x": "a hunter2-secret b"], outputPaths: [], workspace: workspace, secretValues: ["hunter2-secret"])
        }
        for path in ["absent.bin", "../outside", "/etc/passwd", "data/../../x"] {
            await #expect(throws: CacheError.self, "\(path)") {
                try await cache.save(key: "03", workflow: "w", job: "j", jobOutputs: [:], outputPaths: [path], workspace: workspace, secretValues: [])
            }
        }
        for key in ["01", "02", "03"] {
            let entry = await cache.lookup(key)
            #expect(entry == nil, "\(key) was cached")
        }
        #expect(throws: CacheError.self) { _ = try CacheGlobs.files(matching: ["../*"], in: workspace) }
    }

    @Test("a corrupted object is reported on restore and the workspace keeps what it had")
    func corruption() async throws {
        let workspace = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let cache = try JobCacheStore(dataDir: workspace.appendingPathComponent(".slipway"))
        try Data("model bytes that matter".utf8).write(to: workspace.appendingPathComponent("model.bin"))
        let entry = try await cache.save(key: "cd34", workflow: "w", job: "j", jobOutputs: [:], outputPaths: ["model.bin"], workspace: workspace, secretValues: [])
        let object = URL(fileURLWithPath: cache.artifacts.path(of: entry.files[0].digest))
        chmod(object.path, 0o644)
        var bytes = try Data(contentsOf: object)
        bytes[0] ^= 0xFF
        try bytes.write(to: object)
        try Data("current".utf8).write(to: workspace.appendingPathComponent("model.bin"))
        await #expect(throws: CacheError.self) { try await cache.restore(entry, into: workspace) }
        #expect(try String(contentsOf: workspace.appendingPathComponent("model.bin"), encoding: .utf8) == "current")
    }
}
