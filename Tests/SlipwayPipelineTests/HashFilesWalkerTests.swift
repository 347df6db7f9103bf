import Foundation
import SlipwayCore
import Testing

@testable import SlipwayPipeline

#if canImport(Glibc)
    import Glibc
#endif

/// `hashFiles()` on the workspace walker it shares with `cache.inputs`: which files it selects, in which order, and the
/// digest, computed here independently (SHA-256 of each file, then SHA-256 of those digests in path order).
@Suite("hashFiles on the shared walker", .timeLimit(.minutes(1)))
struct HashFilesWalkerTests {
    /// A workspace holding `files` (each file's content is its own path).
    func workspace(_ files: [String]) throws -> URL {
        let root = try scratchFolder("hashfiles")
        for file in files {
            let url = root.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.utf8).write(to: url)
        }
        return root
    }

    /// The digest GitHub's recipe gives for these files, in this order; empty for none.
    func expectedDigest(_ files: [String], in root: URL) throws -> String {
        guard !files.isEmpty else { return "" }
        var joined = Data()
        for file in files {
            let hex = Digest(of: try Data(contentsOf: root.appendingPathComponent(file))).hex
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                joined.append(try #require(UInt8(hex[index..<next], radix: 16)))
                index = next
            }
        }
        return Digest(of: joined).hex
    }

    /// Creates a file whose name is the given bytes (which need not be UTF-8) in `folder`.
    func createRawFile(_ name: [UInt8], in folder: URL) throws {
        var path = Array(folder.path.utf8) + [UInt8(ascii: "/")] + name
        path.append(0)
        let descriptor = path.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        }
        try #require(descriptor >= 0)
        _ = "raw".withCString { write(descriptor, $0, 3) }
        close(descriptor)
    }

    /// The previous `hashFiles()` listing: every path of the workspace from Foundation's enumerator (the top `.git`
    /// skipped), kept when it is not a folder, exists through links, and its whole path matches an include glob and no
    /// exclude glob; sorted. Used to show the shared walker selects the very same files.
    func previousListing(_ patterns: [String], in root: URL) throws -> [String] {
        var includes: [NSRegularExpression] = []
        var excludes: [NSRegularExpression] = []
        // The same globs as `hashFiles()` reads (`HashFiles.globs`); only the matching differs.
        for (glob, negated) in HashFiles.globs(patterns, workspace: root) {
            let regex = try NSRegularExpression(pattern: HashFiles.globRegex(glob))
            if negated { excludes.append(regex) } else { includes.append(regex) }
        }
        guard !includes.isEmpty, let enumerator = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative == ".git" || relative.hasPrefix(".git/") {
                enumerator.skipDescendants()
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root.path + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            let range = NSRange(relative.startIndex..., in: relative)
            guard includes.contains(where: { $0.firstMatch(in: relative, range: range) != nil }),
                !excludes.contains(where: { $0.firstMatch(in: relative, range: range) != nil })
            else { continue }
            found.append(relative)
        }
        return found.sorted()
    }

    @Test("nested folders, **, ? and […], exclusions, hidden files and the top .git")
    func selection() throws {
        let root = try workspace([
            "top.txt", "a/x.txt", "a/b/y.txt", "a/b/c/deep.txt", "a/b/c/deep.csv", ".hidden/h.txt", "a/.dot.txt", ".git/config.txt",
            "sub/.git/kept.txt", "data/big/1.bin", "data/big/2.bin", "café/menü.txt", "x1.log", "x2.log", "xa.log",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let cases: [([String], [String])] = [
            (
                ["**/*.txt"],
                [".hidden/h.txt", "a/.dot.txt", "a/b/c/deep.txt", "a/b/y.txt", "a/x.txt", "café/menü.txt", "sub/.git/kept.txt", "top.txt"]
            ),
            (["a/**"], ["a/.dot.txt", "a/b/c/deep.csv", "a/b/c/deep.txt", "a/b/y.txt", "a/x.txt"]),
            (["a/**/*.txt", "!a/b/**"], ["a/.dot.txt", "a/x.txt"]),
            (["**/*.txt", "!**/.*", "!**/.*/**"], ["a/b/c/deep.txt", "a/b/y.txt", "a/x.txt", "café/menü.txt", "top.txt"]),
            (["*"], ["top.txt", "x1.log", "x2.log", "xa.log"]),
            (["x?.log", "!x[!0-9].log"], ["x1.log", "x2.log"]),
            (["x[12].log"], ["x1.log", "x2.log"]),
            (["a/*/c/deep.*"], ["a/b/c/deep.csv", "a/b/c/deep.txt"]),
            (["a/x.txt\n  top.txt  \n\n"], ["a/x.txt", "top.txt"]),
            (["./a/x.txt", root.standardizedFileURL.path + "/top.txt"], ["a/x.txt", "top.txt"]),
            (["café/*"], ["café/menü.txt"]),
            (
                ["**"],
                [
                    ".hidden/h.txt", "a/.dot.txt", "a/b/c/deep.csv", "a/b/c/deep.txt", "a/b/y.txt", "a/x.txt", "café/menü.txt", "data/big/1.bin",
                    "data/big/2.bin", "sub/.git/kept.txt", "top.txt", "x1.log", "x2.log", "xa.log",
                ]
            ),
            // A folder's name selects nothing; neither does a path outside the workspace, nor exclusions alone.
            (["a"], []), (["a/"], []), (["../top.txt"], []), (["/etc/passwd"], []), (["!top.txt"], []), ([".git/config.txt"], []), ([], []),
            (["nothing/**/*.bin"], []),
        ]
        for (patterns, files) in cases {
            #expect(try HashFiles.files(patterns, workspace: root) == files, "\(patterns)")
            #expect(try previousListing(patterns, in: root) == files, "\(patterns)")
            #expect(try HashFiles.hash(patterns, workspace: root) == expectedDigest(files, in: root), "\(patterns)")
        }
    }

    @Test("folders no pattern can reach are not entered; cache patterns also take what is below a folder")
    func pruning() throws {
        let hash = { (text: String) in try CacheGlobs.Pattern(text, rules: .hashFiles) }
        let cache = { (text: String) in try CacheGlobs.Pattern(text, rules: .cache) }
        #expect(try !hash("src/**/*.py").mayMatch(below: ["data"]))
        #expect(try hash("src/**/*.py").mayMatch(below: ["src"]))
        #expect(try hash("src/**/*.py").mayMatch(below: ["src", "a", "b"]))
        #expect(try !hash("*.lock").mayMatch(below: ["src"]))
        #expect(try hash("*/*.lock").mayMatch(below: ["src"]))
        #expect(try !hash("*/*.lock").mayMatch(below: ["src", "deeper"]))
        #expect(try hash("**").mayMatch(below: [".hidden", "x"]))
        #expect(try !hash("a/b").mayMatch(below: ["a", "b"]))
        #expect(try cache("a/b").mayMatch(below: ["a", "b", "c"]))
        #expect(try !cache("a/b").mayMatch(below: ["a", "c"]))
        #expect(try hash("data/[ab]/x").mayMatch(below: ["data", "z"]), "a set may match across folders, so it is not used to prune")
        #expect(try hash("ca?é/*").mayMatch(below: ["cafté"]) == false)
        #expect(try hash("caf?/*").mayMatch(below: ["café"]))
        #expect(throws: (any Error).self) { try hash("data/[z-a].csv") }
        #expect(throws: (any Error).self) { try HashFiles.hash(["[z-a]"], workspace: FileManager.default.temporaryDirectory) }
    }

    @Test("links to files are hashed as those files; links to folders, broken links, pipes and non-UTF-8 names are not")
    func specialEntries() throws {
        let root = try workspace(["real/r.txt", "plain.txt", "nested/n.txt"])
        defer { try? FileManager.default.removeItem(at: root) }
        let files = FileManager.default
        try files.createSymbolicLink(atPath: root.path + "/link.txt", withDestinationPath: "real/r.txt")
        try files.createSymbolicLink(atPath: root.path + "/linkdir", withDestinationPath: "real")
        try files.createSymbolicLink(atPath: root.path + "/nested/up", withDestinationPath: "..")
        try files.createSymbolicLink(atPath: root.path + "/broken.txt", withDestinationPath: "nowhere.txt")
        #expect(mkfifo(root.path + "/pipe.txt", 0o644) == 0)
        try createRawFile(Array("bad".utf8) + [0xFF] + Array(".txt".utf8), in: root)
        try files.createDirectory(at: root.appendingPathComponent("nested"), withIntermediateDirectories: true)
        try createRawFile(Array("odd".utf8) + [0xC3, 0x28] + Array(".txt".utf8), in: root.appendingPathComponent("nested"))

        let all = ["link.txt", "nested/n.txt", "plain.txt", "real/r.txt"]
        for patterns in [["**"], ["**/*.txt"], ["*.txt", "*/*.txt"], ["**/*", "!linkdir/**"]] {
            #expect(try HashFiles.files(patterns, workspace: root) == all, "\(patterns)")
            #expect(try previousListing(patterns, in: root).filter { $0 != "pipe.txt" } == all, "\(patterns)")
            #expect(try HashFiles.hash(patterns, workspace: root) == expectedDigest(all, in: root))
        }
        #expect(try HashFiles.hash(["link.txt"], workspace: root) == HashFiles.hash(["real/r.txt"], workspace: root))
        #expect(try HashFiles.hash(["linkdir/r.txt"], workspace: root) == "")
        // The cache's walker keeps its own rules: links are not inputs, a pipe is not a file.
        #expect(try CacheGlobs.files(matching: ["linkdir/r.txt"], in: root) == ["linkdir/r.txt"], "a literal path is reached through links")
        #expect(try CacheGlobs.files(matching: ["linkdir"], in: root) == [])
        #expect(
            try CacheGlobs.files(matching: ["real", "nested/*.txt"], in: root).filter { !$0.contains("\u{FFFD}") } == ["nested/n.txt", "real/r.txt"])
        #expect(
            try CacheGlobs.files(matching: ["**/*.txt"], in: root).filter { !$0.contains("\u{FFFD}") } == ["nested/n.txt", "plain.txt", "real/r.txt"])
    }

    @Test("a workspace that is missing, empty or a link to a folder hashes to the empty string")
    func emptyWorkspaces() throws {
        let root = try workspace([])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try HashFiles.hash(["**"], workspace: root) == "")
        #expect(try HashFiles.hash(["**"], workspace: root.appendingPathComponent("missing")) == "")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("real"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: root.appendingPathComponent("real/x"))
        try FileManager.default.createSymbolicLink(atPath: root.path + "/link", withDestinationPath: "real")
        #expect(try previousListing(["**"], in: root.appendingPathComponent("link")) == [])
        #expect(try HashFiles.hash(["**"], workspace: root.appendingPathComponent("link")) == "")
    }

    @Test(
        "the digests of real project folders are the ones the previous listing gives",
        arguments: ["examples", "Tests/SlipwayPipelineTests/Workflows"])
    func realFolders(folder: String) throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = repository.appendingPathComponent(folder)
        // A copy, so that nothing changes between the two listings.
        let root = try scratchFolder("hashfiles-real").appendingPathComponent("copy")
        defer { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
        try FileManager.default.copyItem(at: source, to: root)
        let patterns: [[String]] = [
            ["**"], ["**/*.yml"], ["**/*.csv", "**/*.json"], ["*"], ["*/*"], ["**/*.yml", "!**/conformance/**"], ["pipeline/**", "!**/.github/**"],
            ["**/.*"], ["data/**/train.csv\n**/README*"], ["**/[a-m]*.yml"], ["**/??.yml"], ["conformance/*.yml", "!conformance/hash-*"],
        ]
        var nonEmpty = 0
        for set in patterns {
            let files = try previousListing(set, in: root)
            if !files.isEmpty { nonEmpty += 1 }
            #expect(try HashFiles.files(set, workspace: root) == files, "\(set)")
            #expect(try HashFiles.hash(set, workspace: root) == expectedDigest(files, in: root), "\(set)")
        }
        #expect(nonEmpty >= 4)
    }
}
