import Foundation
import Testing

@testable import SlipwayPipeline

/// Which files `cache.inputs` patterns select, plain paths and globs alike, on a real workspace.
@Suite("Cache input patterns", .timeLimit(.minutes(1)))
struct CacheGlobsTests {
    func workspace(_ files: [String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-globs-\(UUID().uuidString.prefix(8))")
        for file in files {
            let url = root.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.utf8).write(to: url)
        }
        return root
    }

    @Test("a plain path selects itself or everything below it, never a longer name")
    func plainPaths() throws {
        let root = try workspace([
            "data/input.csv", "data/input.csv.bak", "data/inputXcsv", "data/raw/a.csv", "data/raw/b.txt", "database/x", "notes.md",
            ".slipway/cache/x", "café/menu.txt",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try CacheGlobs.files(matching: ["data/input.csv"], in: root) == ["data/input.csv"])
        #expect(try CacheGlobs.files(matching: ["./data/input.csv"], in: root) == ["data/input.csv"])
        #expect(try CacheGlobs.files(matching: ["data"], in: root) == ["data/input.csv", "data/input.csv.bak", "data/inputXcsv", "data/raw/a.csv", "data/raw/b.txt"])
        #expect(try CacheGlobs.files(matching: ["data/"], in: root) == ["data/input.csv", "data/input.csv.bak", "data/inputXcsv", "data/raw/a.csv", "data/raw/b.txt"])
        #expect(try CacheGlobs.files(matching: ["data", "!data/raw"], in: root) == ["data/input.csv", "data/input.csv.bak", "data/inputXcsv"])
        #expect(try CacheGlobs.files(matching: ["data/raw", "!data/raw/b.txt"], in: root) == ["data/raw/a.csv"])
        #expect(try CacheGlobs.files(matching: ["data/missing.csv"], in: root) == [])
        #expect(try CacheGlobs.files(matching: ["café/menu.txt"], in: root) == ["café/menu.txt"])
        #expect(try CacheGlobs.files(matching: [".slipway/cache/x"], in: root) == [])
        #expect(try CacheGlobs.files(matching: ["./"], in: root) == [])
    }

    @Test("globs and plain paths together")
    func globs() throws {
        let root = try workspace(["data/input.csv", "data/input.csv.bak", "data/raw/a.csv", "data/raw/deep/b.csv", "src/train.py", "src/util.py"])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try CacheGlobs.files(matching: ["data/*.csv"], in: root) == ["data/input.csv"])
        #expect(try CacheGlobs.files(matching: ["data/**/*.csv"], in: root) == ["data/input.csv", "data/raw/a.csv", "data/raw/deep/b.csv"])
        #expect(try CacheGlobs.files(matching: ["src/*.py", "!src/util.py", "data/input.csv"], in: root) == ["data/input.csv", "src/train.py"])
        #expect(try CacheGlobs.files(matching: ["data/input.cs?", "data/raw/[ab].csv"], in: root) == ["data/input.csv", "data/raw/a.csv"])
        #expect(throws: CacheError.self) { _ = try CacheGlobs.files(matching: ["/etc/passwd"], in: root) }
        #expect(throws: CacheError.self) { _ = try CacheGlobs.files(matching: ["data/../../x"], in: root) }
    }

    @Test("digests are lowercase hexadecimal")
    func hex() {
        #expect(lowercaseHex([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(lowercaseHex([UInt8]()) == "")
    }
}
