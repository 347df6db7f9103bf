import Foundation
import SlipwayCore
import SlipwayStore
import Testing

@testable import SlipwayData

#if canImport(Glibc)
import Glibc
#endif

@Suite("Data versioning: the folder walk, the hash index and the quick status check", .timeLimit(.minutes(2)))
struct VersioningScanTests {
    /// Every regular file under a folder (following nothing), relative to it, in String order.
    private func listing(_ folder: String) -> [String] {
        var result: [String] = []
        if let items = FileManager.default.enumerator(atPath: folder) {
            for case let item as String in items {
                var info = stat()
                if lstat(folder + "/" + item, &info) == 0, info.st_mode & S_IFMT == S_IFREG { result.append(item) }
            }
        }
        return result.sorted()
    }

    @Test("files come out in the order of their whole paths: names that sort around '/', non-ASCII names, deep folders")
    func order() throws {
        let project = try VersioningProject("scan-order")
        defer { project.cleanUp() }
        let names = [
            "a", "a.txt", "a-b", "a0", "ab", "a/b", "a/b.txt", "a/b/c", "a.d/x", "a-d/y", "x/y/z/w/v.bin", "x.y", "x/y.txt", "Z", "é.txt",
            "z-é", "ü/1", "ü-", "space name.txt", "tab\tname", "quote\"name", "back\\slash", "12345678", "12345678/9", "123456789",
            "1234567/8", "1234567.8", "long-common-prefix-a", "long-common-prefix-a/b", "long-common-prefix-ab", "long-common-prefix-a.b",
        ].filter { !$0.hasSuffix("/") }
        // A path cannot be both a file and a folder: "a" is a folder here because of "a/b".
        let files = names.filter { name in !names.contains { $0.hasPrefix(name + "/") } }
        for (index, name) in files.enumerated() { try project.write("set/" + name, "content \(index)") }
        chmod(project.path + "/set/Z", 0o755)
        let workspace = try project.workspace()
        let scan = try #require(try workspace.scan(workspace.tracked("set", from: project.path)))
        #expect(scan.kind == .folder)
        #expect(scan.files.map(\.relative) == listing(project.path + "/set"))
        #expect(scan.files.map(\.relative) == files.sorted())
        #expect(scan.files.first { $0.relative == "Z" }?.executable == true)
        #expect(scan.files.first { $0.relative == "a.txt" }?.executable == false)
        // add writes the manifest in that order; status finds it up to date (quick check and full path agree).
        let added = try workspace.add(["set"], link: .copy, from: project.path)
        let manifest = try workspace.cache.manifest(added.paths[0].pointer.digest, pointer: "set.slipway")
        #expect(manifest.files.map(\.path) == files.sorted())
        let status = try workspace.status(from: project.path)
        #expect(status.map(\.state) == ["up to date"] && status[0].hashedFiles == 0)
    }

    @Test("the quick status digest is the canonical manifest's digest, and nil when a file is unknown to the index")
    func quickDigest() throws {
        let project = try VersioningProject("scan-digest")
        defer { project.cleanUp() }
        try project.writeFiles("set", count: 300, size: 100)
        try project.write("set/sub/deeper/file.bin", Data(repeating: 9, count: 5000))
        let workspace = try project.workspace()
        let tracked = try workspace.tracked("set", from: project.path)
        var index = workspace.openIndex()
        let before = try #require(try workspace.scan(tracked))
        #expect(ManifestCodec.digest(of: before, index: index) == nil, "nothing is in the index yet")
        var hashed = 0
        let files = try workspace.current(before, index: &index, hashed: &hashed, progress: nil)
        #expect(hashed == 301)
        let manifest = ArtifactManifest(
            files: files.map { ArtifactManifest.Entry(path: $0.path, digest: $0.digest, size: $0.size, executable: $0.executable) })
        let expected = Digest(of: try ManifestCodec.encode(manifest))
        // Recorded but not saved yet: the digests come from the index's pending records.
        #expect(ManifestCodec.digest(of: before, index: index) == expected)
        index.save()
        let reloaded = workspace.openIndex()
        #expect(ManifestCodec.digest(of: before, index: reloaded) == expected)
        // A path that JSON must escape is left to the full encoder.
        try project.write("set/quote\"d.txt", "q")
        var withQuote = workspace.openIndex()
        let quoted = try #require(try workspace.scan(tracked))
        _ = try workspace.current(quoted, index: &withQuote, hashed: &hashed, progress: nil)
        #expect(ManifestCodec.digest(of: quoted, index: withQuote) == nil)
    }

    @Test("a large folder (looked at on all cores) with links, a linked folder, new, deleted and modified files")
    func largeFolder() throws {
        let project = try VersioningProject("scan-large")
        defer { project.cleanUp() }
        try project.writeFiles("set", count: 700, size: 40)
        try project.writeFiles("set/inner", count: 300, size: 30)
        symlink(project.path + "/set/file-0001.txt", project.path + "/set/link-to-file")
        symlink(project.path + "/set/inner", project.path + "/set/linked-folder")
        let workspace = try project.workspace()
        let added = try workspace.add(["set"], link: .copy, from: project.path)
        #expect(added.scannedFiles == 700 + 300 + 1 + 300)
        let scan = try #require(try workspace.scan(workspace.tracked("set", from: project.path)))
        let link = try #require(scan.files.first { $0.relative == "link-to-file" })
        #expect(link.isLink && scan.source(of: link) == project.path + "/set/file-0001.txt")
        let viaFolder = try #require(scan.files.first { $0.relative == "linked-folder/file-0005.txt" })
        #expect(!viaFolder.isLink && scan.source(of: viaFolder) == project.path + "/set/inner/file-0005.txt")
        #expect(scan.path(of: viaFolder) == project.path + "/set/linked-folder/file-0005.txt")
        let plain = try #require(scan.files.first { $0.relative == "inner/file-0005.txt" })
        #expect(plain.resolved == nil && scan.source(of: plain) == project.path + "/set/inner/file-0005.txt")
        #expect(try workspace.status(from: project.path).map(\.state) == ["up to date"])
        // Changes: one edited, one new, one deleted.
        try project.write("set/file-0100.txt", "edited")
        try project.write("set/new.txt", "new")
        unlink(project.path + "/set/file-0200.txt")
        let status = try #require(try workspace.status(["set"], from: project.path).first)
        #expect(status.state == "modified")
        #expect(status.modified == ["file-0100.txt"] && status.added == ["new.txt"] && status.deleted == ["file-0200.txt"])
        #expect(status.hashedFiles == 2)
        // A pipe in a large folder is refused, naming it.
        mkfifo(project.path + "/set/pipe", 0o644)
        do {
            _ = try workspace.status(["set"], from: project.path)
            Issue.record("a FIFO in a tracked folder was accepted")
        } catch let error as DataError {
            #expect(error.message.contains("set/pipe") && error.message.contains("not a regular file"), "\(error.message)")
        }
        unlink(project.path + "/set/pipe")
        // A link out of the folder, among many files.
        symlink("/etc/hostname", project.path + "/set/out")
        #expect(throws: DataError.self) { try workspace.status(["set"], from: project.path) }
        unlink(project.path + "/set/out")
        // Deleted altogether.
        try FileManager.default.removeItem(atPath: project.path + "/set")
        let gone = try #require(try workspace.status(["set"], from: project.path).first)
        #expect(gone.state == "deleted" && gone.deleted.count == added.scannedFiles)
    }

    @Test("a file rewritten with the same size in the same second is seen: the index compares nanoseconds and inodes")
    func sameSizeSameSecond() throws {
        let project = try VersioningProject("scan-same-second")
        defer { project.cleanUp() }
        try project.writeFiles("set", count: 20, size: 50)
        let workspace = try project.workspace()
        _ = try workspace.add(["set"], link: .copy, from: project.path)
        let path = project.path + "/set/file-0007.txt"
        var info = stat()
        #expect(lstat(path, &info) == 0)
        // Same size, written in place (same inode), mtime moved by one nanosecond within the same second.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data(repeating: UInt8(ascii: "x"), count: 50))
        try handle.close()
        var times = [info.st_atim, info.st_mtim]
        times[1].tv_nsec = info.st_mtim.tv_nsec == 999_999_999 ? info.st_mtim.tv_nsec - 1 : info.st_mtim.tv_nsec + 1
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        var after = stat()
        #expect(lstat(path, &after) == 0 && after.st_size == info.st_size && after.st_mtim.tv_sec == info.st_mtim.tv_sec)
        let status = try #require(try workspace.status(["set"], from: project.path).first)
        #expect(status.state == "modified" && status.modified == ["file-0007.txt"] && status.hashedFiles == 1)
        // Another file replaced by a new inode with the very same size and mtime.
        let other = project.path + "/set/file-0008.txt"
        #expect(lstat(other, &info) == 0)
        // Written beside it first, so the new file cannot reuse the old inode.
        try Data(repeating: UInt8(ascii: "y"), count: 50).write(to: URL(fileURLWithPath: other + ".new"))
        rename(other + ".new", other)
        var same = [info.st_atim, info.st_mtim]
        #expect(utimensat(AT_FDCWD, other, &same, 0) == 0)
        var replaced = stat()
        #expect(lstat(other, &replaced) == 0)
        let again = try #require(try workspace.status(["set"], from: project.path).first)
        #expect(replaced.st_ino != info.st_ino && replaced.st_mtim.tv_nsec == info.st_mtim.tv_nsec)
        #expect(again.modified == ["file-0007.txt", "file-0008.txt"])
    }

    @Test("the index file: a hand-written v1 index is used, and damaged ones are ignored and rebuilt")
    func indexFile() throws {
        let project = try VersioningProject("scan-index")
        defer { project.cleanUp() }
        try project.writeFiles("set", count: 50, size: 80)
        let workspace = try project.workspace()
        let first = try workspace.add(["set"], link: .copy, from: project.path)
        #expect(first.hashedFiles == 50)
        let indexPath = workspace.cache.root + "/index-v1.bin"
        let saved = try Data(contentsOf: URL(fileURLWithPath: indexPath))
        #expect(saved.count == 8 + 50 * 64 && saved.prefix(8) == Data("SLWIDX01".utf8))
        // The v1 layout, written by hand (records reversed, one duplicated: the later one wins).
        var records = (0..<50).map { saved.subdata(in: (8 + $0 * 64)..<(8 + ($0 + 1) * 64)) }.reversed().map { $0 }
        var stale = records[0]
        stale.replaceSubrange(32..<64, with: Data(repeating: 0xab, count: 32))
        records.insert(stale, at: 0)
        var handMade = Data("SLWIDX01".utf8)
        for record in records { handMade.append(record) }
        try handMade.write(to: URL(fileURLWithPath: indexPath))
        let status = try #require(try workspace.status(["set"], from: project.path).first)
        #expect(status.state == "up to date" && status.hashedFiles == 0)
        // A digest in the index is trusted while size and mtime match: a wrong one shows as a modification.
        var wrong = Data("SLWIDX01".utf8)
        for record in records.dropFirst().dropFirst() { wrong.append(record) }
        wrong.append(stale)
        try wrong.write(to: URL(fileURLWithPath: indexPath))
        let fooled = try #require(try workspace.status(["set"], from: project.path).first)
        #expect(fooled.state == "modified" && fooled.modified.count == 1 && fooled.hashedFiles == 0)
        // Damaged files: each is ignored (everything is hashed again, the answer is right) and replaced.
        let damaged: [Data] = [
            Data(), Data("SLWIDX0".utf8), Data("SLWIDX02".utf8) + saved.dropFirst(8), saved.dropLast(1), saved + Data([1, 2, 3]),
            Data(repeating: 0xff, count: 4096),
        ]
        for bytes in damaged {
            try bytes.write(to: URL(fileURLWithPath: indexPath))
            let rebuilt = try #require(try workspace.status(["set"], from: project.path).first)
            #expect(rebuilt.state == "up to date" && rebuilt.hashedFiles == 50)
            let afterwards = try #require(try workspace.status(["set"], from: project.path).first)
            #expect(afterwards.hashedFiles == 0, "the index was written again")
        }
        // A folder in the index's place: ignored, nothing breaks.
        unlink(indexPath)
        try FileManager.default.createDirectory(atPath: indexPath, withIntermediateDirectories: false)
        let folderInPlace = try #require(try workspace.status(["set"], from: project.path).first)
        #expect(folderInPlace.state == "up to date" && folderInPlace.hashedFiles == 50)
    }

    @Test("names that are not UTF-8 are left out, as the manifest cannot name them")
    func nonUTF8Names() throws {
        let project = try VersioningProject("scan-bytes")
        defer { project.cleanUp() }
        try project.write("set/a.txt", "a")
        let bad: [CChar] = (Array((project.path + "/set/x").utf8) + [0xff, 0]).map { CChar(bitPattern: $0) }
        let fd = open(bad, O_CREAT | O_WRONLY, 0o644)
        #expect(fd >= 0)
        close(fd)
        let workspace = try project.workspace()
        let scan = try #require(try workspace.scan(workspace.tracked("set", from: project.path)))
        #expect(scan.files.map(\.relative) == ["a.txt"])
    }
}
