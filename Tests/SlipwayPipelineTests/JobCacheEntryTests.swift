import Foundation
import SlipwayCore
import Testing

@testable import SlipwayPipeline

/// Cache entries as stored on disk: the quick reader agrees with the general decoder on what `save`
/// writes, and anything else still reads the general way or not at all.
@Suite("Job cache entries", .timeLimit(.minutes(1)))
struct JobCacheEntryTests {
    func workspace() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-entry-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("model"), withIntermediateDirectories: true)
        try Data("weights".utf8).write(to: url.appendingPathComponent("model/w.bin"))
        try Data("{\"accuracy\":0.9}".utf8).write(to: url.appendingPathComponent("metrics.json"))
        return url
    }

    func entryFile(_ store: JobCacheStore, _ key: String) -> URL { store.folder.appendingPathComponent("\(key).json") }

    @Test("entries written by save read the same quickly and through the general decoder")
    func agrees() async throws {
        let workspace = try workspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let store = try JobCacheStore(dataDir: workspace.appendingPathComponent(".slipway"))
        let plain = try await store.save(
            key: "aa11", workflow: ".slipway/workflows/ml.yml", job: "train (3.11, \"linux\")", jobOutputs: [:],
            outputPaths: ["model", "metrics.json"], workspace: workspace, secretValues: [])
        let data = try Data(contentsOf: entryFile(store, "aa11"))
        let quick = try #require(JobCacheStore.quickDecode(data))
        let general = try SlipwayJSON.decoder().decode(JobCacheStore.Entry.self, from: data)
        #expect(quick == general)
        #expect(quick.files.map(\.path) == ["model", "metrics.json"])
        #expect(quick.files.map(\.folder) == [true, false])
        #expect(quick.job == plain.job)
        #expect(await store.lookup("aa11") == general)

        // Entries with job outputs take the general way (output names are case-sensitive), with the same result.
        _ = try await store.save(
            key: "bb22", workflow: "ml.yml", job: "train", jobOutputs: ["Model": "a", "model": "b"], outputPaths: ["metrics.json"],
            workspace: workspace, secretValues: [])
        let withOutputs = try Data(contentsOf: entryFile(store, "bb22"))
        #expect(JobCacheStore.quickDecode(withOutputs) == nil)
        #expect(await store.lookup("bb22")?.jobOutputs == ["Model": "a", "model": "b"])
    }

    @Test("entries in other forms or broken: the general decoder decides, nothing is half-read")
    func otherForms() async throws {
        let workspace = try workspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let store = try JobCacheStore(dataDir: workspace.appendingPathComponent(".slipway"))
        let saved = try await store.save(
            key: "cc33", workflow: "ml.yml", job: "train", jobOutputs: [:], outputPaths: ["metrics.json"], workspace: workspace, secretValues: [])
        let file = entryFile(store, "cc33")
        let original = try String(contentsOf: file, encoding: .utf8)

        // A date in milliseconds (which the general decoder accepts).
        let millis = original.replacingOccurrences(of: "\"\(Timestamp.format(saved.createdAt))\"", with: String(Timestamp.millis(saved.createdAt)))
        #expect(millis != original)
        #expect(JobCacheStore.quickDecode(Data(millis.utf8)) == nil)
        try millis.write(to: file, atomically: true, encoding: .utf8)
        #expect(await store.lookup("cc33").map { Timestamp.millis($0.createdAt) } == Timestamp.millis(saved.createdAt))

        let hostile = [
            "", "{", "[]", "null", "{\"key\":\"cc33\"}", String(original.dropLast()), original.replacingOccurrences(of: "\"size\":", with: "\"size\":-"),
            original.replacingOccurrences(of: "sha256:", with: "md5:"), original.replacingOccurrences(of: "\"folder\":false", with: "\"folder\":\"no\""),
            original.replacingOccurrences(of: "\"files\":[", with: "\"files\":[1,"), "\u{FEFF}" + original.replacingOccurrences(of: "\"job\"", with: "\"jo\\u0000b\""),
            original.replacingOccurrences(of: "\"key\":\"cc33\"", with: "\"key\":\"dd44\""),
        ]
        for text in hostile {
            let quick = JobCacheStore.quickDecode(Data(text.utf8))
            let general = try? SlipwayJSON.decoder().decode(JobCacheStore.Entry.self, from: Data(text.utf8))
            if let quick { #expect(quick == general, "\(text.debugDescription)") }
            try text.write(to: file, atomically: true, encoding: .utf8)
            let found = await store.lookup("cc33")
            #expect(found == (general?.key == "cc33" ? general : nil), "\(text.debugDescription)")
        }
        #expect(JobCacheStore.quickDecode(Data([0xff, 0xfe, 0x00])) == nil)
    }
}
