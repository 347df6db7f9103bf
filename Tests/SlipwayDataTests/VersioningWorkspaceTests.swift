import Foundation
import SlipwayCore
import SlipwayStore
import Testing

@testable import SlipwayData

#if canImport(Glibc)
import Glibc
#endif

@Suite("Data versioning: add, status, checkout, ls, gc", .timeLimit(.minutes(2)))
struct VersioningWorkspaceTests {
    @Test("add of a file writes a pointer, the object and one .gitignore line")
    func addFile() throws {
        let project = try VersioningProject("add-file")
        defer { project.cleanUp() }
        try project.write("data/train.csv", "a,b\n1,2\n")
        try project.write("data/.gitignore", "*.tmp")
        let workspace = try project.workspace()
        let report = try workspace.add(["data/train.csv"], from: project.path)
        let entry = try #require(report.paths.first)
        #expect(entry.pointer.kind == .file)
        #expect(entry.pointer.digest == Digest(of: Data("a,b\n1,2\n".utf8)))
        #expect(entry.pointer.size == 8 && entry.pointer.files == 1)
        let pointer = try DataPointer.parse(try #require(project.read("data/train.csv.slipway")), path: "p")
        #expect(pointer == entry.pointer)
        #expect(workspace.cache.contains(pointer.digest))
        // Again: no duplicate line, nothing hashed.
        let again = try workspace.add(["data/train.csv"], from: project.path)
        #expect(again.hashedFiles == 0)
        #expect(project.read("data/.gitignore") == "*.tmp\n/train.csv\n")
        // The cache uses the artifact store layout: LocalArtifactStore reads (and verifies) the same object.
        let store = try LocalArtifactStore(root: URL(fileURLWithPath: workspace.cache.root))
        #expect(try store.path(of: pointer.digest) == workspace.cache.path(of: pointer.digest))
    }

    @Test("the hash index: changing one file re-hashes that file only")
    func hashIndex() throws {
        let project = try VersioningProject("index")
        defer { project.cleanUp() }
        try project.writeFiles("images", count: 200)
        let workspace = try project.workspace()
        let first = try workspace.add(["images"], link: .copy, from: project.path)
        #expect(first.hashedFiles == 200 && first.scannedFiles == 200)
        #expect(first.paths[0].pointer.files == 200)
        let second = try workspace.add(["images"], link: .copy, from: project.path)
        #expect(second.hashedFiles == 0)
        #expect(second.paths[0].pointer == first.paths[0].pointer)
        try project.write("images/file-0042.txt", "changed")
        let statuses = try workspace.status(from: project.path)
        #expect(statuses.count == 1)
        #expect(statuses[0].state == "modified" && statuses[0].modified == ["file-0042.txt"])
        #expect(statuses[0].hashedFiles == 1)
        let third = try workspace.add(["images"], link: .copy, from: project.path)
        #expect(third.hashedFiles == 0, "status already hashed the changed file and remembered it")
        #expect(third.paths[0].pointer.digest != first.paths[0].pointer.digest)
        // A fresh index file on disk is used by a new workspace value too.
        #expect(try project.workspace().status(from: project.path)[0].state == "up to date")
    }

    @Test("every link strategy: add, then checkout from the cache", arguments: LinkStrategy.allCases)
    func strategies(_ strategy: LinkStrategy) throws {
        let project = try VersioningProject("link-\(strategy.rawValue)")
        defer { project.cleanUp() }
        try project.writeFiles("set", count: 5)
        try project.write("model.bin", Data(repeating: 7, count: 100_000))
        let workspace = try project.workspace()
        let supportsReflink = Linker.probe(workspace.cache) == .reflink
        if strategy == .reflink && !supportsReflink {
            #expect(throws: DataError.self) { try workspace.add(["model.bin"], link: .reflink, from: project.path) }
            #expect(!project.exists("model.bin.slipway"), "nothing is written when the strategy cannot work")
            return
        }
        let report = try workspace.add(["set", "model.bin"], link: strategy, from: project.path)
        let model = project.path + "/model.bin"
        let object = workspace.cache.path(of: report.paths[1].pointer.digest)
        var modelInfo = stat()
        var objectInfo = stat()
        lstat(model, &modelInfo)
        lstat(object, &objectInfo)
        switch report.link {
        case "hardlink":
            #expect(modelInfo.st_ino == objectInfo.st_ino)
            #expect(modelInfo.st_mode & 0o222 == 0, "hard-linked data is read-only")
        case "symlink":
            #expect(modelInfo.st_mode & S_IFMT == S_IFLNK)
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: model)) == object)
        default:
            #expect(modelInfo.st_ino != objectInfo.st_ino)
            #expect(modelInfo.st_mode & S_IFMT == S_IFREG)
        }
        if strategy != .auto { #expect(report.link == strategy.rawValue) }
        #expect(try workspace.status(from: project.path).allSatisfy { $0.state == "up to date" })
        // Remove everything and restore it.
        chmod(project.path + "/set", 0o755)
        try FileManager.default.removeItem(atPath: project.path + "/set")
        try FileManager.default.removeItem(atPath: model)
        #expect(try workspace.status(from: project.path).allSatisfy { $0.state == "deleted" })
        let checkout = try workspace.checkout(link: strategy, from: project.path)
        #expect(checkout.restored.count == 6)
        #expect(project.read("set/file-0003.txt")?.hasPrefix("file 3 ") == true)
        #expect((try? Data(contentsOf: URL(fileURLWithPath: model))) == Data(repeating: 7, count: 100_000))
        #expect(try workspace.status(from: project.path).allSatisfy { $0.state == "up to date" })
    }

    @Test("status reports added, deleted and modified files; checkout restores the pointer's version")
    func statusCheckoutRoundTrip() throws {
        let project = try VersioningProject("roundtrip")
        defer { project.cleanUp() }
        try project.writeFiles("data", count: 4)
        let workspace = try project.workspace()
        _ = try workspace.add(["data"], link: .copy, from: project.path)
        try project.write("data/file-0000.txt", "edited")
        try project.write("data/new.txt", "new")
        try FileManager.default.removeItem(atPath: project.path + "/data/file-0003.txt")
        let status = try #require(workspace.status(["data"], from: project.path).first)
        #expect(status.state == "modified")
        #expect(status.added == ["new.txt"] && status.deleted == ["file-0003.txt"] && status.modified == ["file-0000.txt"])
        // Without force, local changes are kept and nothing is written.
        #expect(throws: DataError.self) { try workspace.checkout(["data"], from: project.path) }
        #expect(project.read("data/file-0000.txt") == "edited")
        #expect(!project.exists("data/file-0003.txt"))
        let report = try workspace.checkout(["data.slipway"], force: true, from: project.path)
        #expect(Set(report.restored) == ["data/file-0000.txt", "data/file-0003.txt"])
        #expect(report.removed == ["data/new.txt"])
        #expect(try workspace.status(from: project.path)[0].state == "up to date")
        let listed = try workspace.list(["data.slipway"], from: project.path)
        #expect(listed.map(\.path) == (0..<4).map { "data/file-000\($0).txt" })
        #expect(listed.allSatisfy { $0.size == 64 })
    }

    @Test("gc removes unreferenced objects only, with a dry run first")
    func garbageCollection() throws {
        let project = try VersioningProject("gc")
        defer { project.cleanUp() }
        try project.write("a.txt", "version one")
        try project.write("b.txt", "kept")
        let workspace = try project.workspace()
        _ = try workspace.add(["a.txt", "b.txt"], link: .copy, from: project.path)
        try project.write("a.txt", "version two!")
        _ = try workspace.add(["a.txt"], link: .copy, from: project.path)
        let dry = try workspace.collectGarbage(dryRun: true)
        #expect(dry.removedObjects == 1 && dry.removedBytes == 11 && dry.keptObjects == 2)
        #expect(workspace.cache.contains(Digest(of: Data("version one".utf8))))
        let real = try workspace.collectGarbage(dryRun: false)
        #expect(real.removedObjects == 1 && real.removedBytes == 11)
        #expect(!workspace.cache.contains(Digest(of: Data("version one".utf8))))
        #expect(workspace.cache.contains(Digest(of: Data("version two!".utf8))))
        #expect(try workspace.collectGarbage(dryRun: false).removedObjects == 0)
    }

    @Test("a flipped byte in the cache is reported as corruption and never checked out")
    func corruptedCache() throws {
        let project = try VersioningProject("corrupt")
        defer { project.cleanUp() }
        try project.write("weights.bin", Data(repeating: 1, count: 4096))
        let workspace = try project.workspace()
        let report = try workspace.add(["weights.bin"], link: .copy, from: project.path)
        let object = workspace.cache.path(of: report.paths[0].pointer.digest)
        chmod(object, 0o644)
        let handle = try #require(FileHandle(forUpdatingAtPath: object))
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data([2]))
        try handle.close()
        try FileManager.default.removeItem(atPath: project.path + "/weights.bin")
        for strategy in [LinkStrategy.copy, .hardlink, .symlink] {
            do {
                _ = try workspace.checkout(link: strategy, from: project.path)
                Issue.record("checkout of a corrupted object succeeded")
            } catch let error as DataError {
                #expect(error.kind == .corrupted)
                #expect(error.message.contains(report.paths[0].pointer.digest.description))
            }
            #expect(!project.exists("weights.bin"))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: project.path).filter { $0.contains("weights.bin") && $0 != "weights.bin.slipway" }
        #expect(leftovers.isEmpty)
    }

    @Test("hostile input: missing paths, link loops, paths outside the project, corrupt pointers, special files")
    func hostileInput() throws {
        let project = try VersioningProject("hostile")
        defer { project.cleanUp() }
        let workspace = try project.workspace()
        func expectError(_ kind: ErrorKind, containing text: String, _ body: () throws -> Void) {
            do {
                try body()
                Issue.record("expected an error containing '\(text)'")
            } catch let error as DataError {
                #expect(error.kind == kind, "\(error.message)")
                #expect(error.message.contains(text), "\(error.message)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        expectError(.notFound, containing: "does not exist") { _ = try workspace.add(["nothing.csv"], from: project.path) }
        expectError(.invalidArgument, containing: "outside the project") { _ = try workspace.add(["/etc/hostname"], from: project.path) }
        expectError(.invalidArgument, containing: "outside the project") { _ = try workspace.add(["../x"], from: project.path) }
        expectError(.invalidArgument, containing: ".slipway") { _ = try workspace.add([".slipway/config.yml"], from: project.path) }
        // A link loop inside a folder.
        try FileManager.default.createDirectory(atPath: project.path + "/loop", withIntermediateDirectories: true)
        try project.write("loop/a.txt", "a")
        symlink(project.path + "/loop/b", project.path + "/loop/b")
        expectError(.invalidArgument, containing: "loop") { _ = try workspace.add(["loop"], from: project.path) }
        // A folder link to its own parent.
        unlink(project.path + "/loop/b")
        symlink(project.path + "/loop", project.path + "/loop/self")
        expectError(.invalidArgument, containing: "loop") { _ = try workspace.add(["loop"], from: project.path) }
        unlink(project.path + "/loop/self")
        // A link out of the folder.
        symlink("/etc/hostname", project.path + "/loop/out")
        expectError(.invalidArgument, containing: "outside the folder") { _ = try workspace.add(["loop"], from: project.path) }
        unlink(project.path + "/loop/out")
        // A FIFO.
        mkfifo(project.path + "/loop/pipe", 0o644)
        expectError(.invalidArgument, containing: "not a regular file") { _ = try workspace.add(["loop"], from: project.path) }
        unlink(project.path + "/loop/pipe")
        #expect(!project.exists("loop.slipway"), "failed adds write no pointer")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.cache.root + "/tmp").filter { $0.hasSuffix(".tmp") }.isEmpty)
        // Corrupt pointers name the file and the key.
        _ = try workspace.add(["loop"], from: project.path)
        let good = try #require(project.read("loop.slipway"))
        let cases: [(String, String)] = [
            (good.replacingOccurrences(of: "digest: sha256:", with: "digest: md5:"), "'digest'"),
            (good.replacingOccurrences(of: "size: 1", with: "size: -1"), "'size'"),
            (good.replacingOccurrences(of: "kind: folder", with: "kind: tarball"), "'kind'"),
            (good + "owner: me\n", "'owner'"),
            (good.replacingOccurrences(of: "files:", with: "filez:"), "'filez'"),
            ("{{{{ not yaml", "not 'key: value'"),
            ("", "'kind' is missing"),
        ]
        for (text, key) in cases {
            try project.write("loop.slipway", text)
            for command in ["status", "checkout", "ls"] {
                expectError(.invalidArgument, containing: key) {
                    switch command {
                    case "status": _ = try workspace.status(["loop"], from: project.path)
                    case "checkout": _ = try workspace.checkout(["loop"], from: project.path)
                    default: _ = try workspace.list(["loop"], from: project.path)
                    }
                }
            }
            do {
                _ = try workspace.status(["loop"], from: project.path)
            } catch let error as DataError {
                #expect(error.message.contains("loop.slipway"))
            }
        }
        // A corrupt config file.
        try project.write(".slipway/config.yml", "data:\n  link: teleport\n")
        expectError(.invalidArgument, containing: "data.link") { _ = try project.workspace() }
    }

    @Test("a tracked folder's manifest and a pointer survive an interrupted add: rerunning completes it")
    func rerunAfterInterruption() throws {
        let project = try VersioningProject("rerun")
        defer { project.cleanUp() }
        try project.writeFiles("data", count: 20)
        let workspace = try project.workspace()
        // Simulate a crash between objects and pointer: leftover temporaries and some objects, no pointer.
        try Data("partial".utf8).write(to: URL(fileURLWithPath: workspace.cache.root + "/tmp/\(UUID().uuidString.lowercased()).tmp"))
        _ = try workspace.add(["data/file-0001.txt"], link: .copy, from: project.path)
        try FileManager.default.removeItem(atPath: project.path + "/data/file-0001.txt.slipway")
        try FileManager.default.removeItem(atPath: project.path + "/data/.gitignore")
        let report = try workspace.add(["data"], link: .copy, from: project.path)
        #expect(report.paths[0].pointer.files == 20)
        #expect(report.paths[0].newObjects == 19)
        for object in workspace.cache.allObjects() {
            let data = try Data(contentsOf: URL(fileURLWithPath: workspace.cache.path(of: object.digest)))
            #expect(Digest(of: data) == object.digest, "every object in the cache is complete")
        }
    }

    @Test("diff between git revisions and against the workspace")
    func gitDiff() throws {
        let project = try VersioningProject("diff")
        defer { project.cleanUp() }
        try project.git("init", "-q")
        try project.writeFiles("data", count: 3)
        try project.write("labels.csv", "x\n")
        let workspace = try project.workspace()
        _ = try workspace.add(["data", "labels.csv"], link: .copy, from: project.path)
        try project.git("add", "-A")
        try project.git("commit", "-q", "-m", "one")
        try project.write("data/file-0001.txt", "changed and longer")
        try FileManager.default.removeItem(atPath: project.path + "/data/file-0002.txt")
        try project.write("data/extra.txt", "extra")
        try FileManager.default.removeItem(atPath: project.path + "/labels.csv")
        try FileManager.default.removeItem(atPath: project.path + "/labels.csv.slipway")
        // Against the workspace (before add): the tracked folder's files as they are now.
        let live = try workspace.diff(from: "HEAD", to: nil)
        #expect(live.map(\.path).contains("data/file-0001.txt"))
        _ = try workspace.add(["data"], link: .copy, from: project.path)
        try project.git("add", "-A")
        try project.git("commit", "-q", "-m", "two")
        let changes = try workspace.diff(from: "HEAD~1", to: "HEAD")
        let byPath = Dictionary(uniqueKeysWithValues: changes.map { ($0.path, $0) })
        #expect(byPath["data/file-0001.txt"]?.change == "modified")
        #expect(byPath["data/file-0001.txt"]?.oldSize == 64 && byPath["data/file-0001.txt"]?.newSize == 18)
        #expect(byPath["data/file-0002.txt"]?.change == "removed")
        #expect(byPath["data/extra.txt"]?.change == "added" && byPath["data/extra.txt"]?.newSize == 5)
        #expect(byPath["labels.csv"]?.change == "removed")
        #expect(byPath["data/file-0000.txt"] == nil)
        #expect(changes.count == 4)
        #expect(try workspace.diff(from: "HEAD", to: nil).isEmpty)
        #expect(throws: DataError.self) { try workspace.diff(from: "no-such-rev", to: nil) }
        #expect(throws: DataError.self) { try workspace.diff(from: "--output=/tmp/x", to: nil) }
    }

    @Test("push and pull through a folder remote, only missing objects, verified on arrival")
    func folderRemote() async throws {
        let project = try VersioningProject("remote")
        let clone = try VersioningProject("remote-clone")
        let remoteFolder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-data-remote-\(UUID().uuidString.prefix(8))").path
        defer {
            project.cleanUp()
            clone.cleanUp()
            try? FileManager.default.removeItem(atPath: remoteFolder)
        }
        try project.writeFiles("data", count: 30)
        let workspace = try project.workspace()
        _ = try workspace.add(["data"], from: project.path)
        let remote = try FolderRemote(root: remoteFolder)
        let first = try await workspace.push(to: remote, from: project.path)
        #expect(first.transferred == 31 && first.present == 0)
        let second = try await workspace.push(to: remote, from: project.path)
        #expect(second.transferred == 0 && second.present == 31)
        // A corrupted remote object (a single file, as large objects are stored) is refused on arrival.
        try FileManager.default.copyItem(atPath: project.path + "/data.slipway", toPath: clone.path + "/data.slipway")
        let cloneWorkspace = try clone.workspace()
        let victim = try #require(try workspace.list(from: project.path).first).digest
        let remoteObject = try FolderRemote(root: remoteFolder).store.path(of: victim)
        try packedObjectsToSingleFiles(remoteFolder)
        chmod(remoteObject, 0o644)
        try Data("evil".utf8).write(to: URL(fileURLWithPath: remoteObject))
        do {
            _ = try await cloneWorkspace.pull(from: remote, directory: clone.path)
            Issue.record("a corrupted remote object was accepted")
        } catch let error as DataError {
            #expect(error.kind == .corrupted)
        }
        #expect(!cloneWorkspace.cache.contains(victim))
        #expect(!clone.exists("data"))
        // Repair the remote by pushing again after removing the bad object.
        unlink(remoteObject)
        #expect(try await workspace.push(to: remote, from: project.path).transferred == 1)
        let pulled = try await cloneWorkspace.pull(from: remote, directory: clone.path)
        #expect(pulled.checkout?.restored.count == 30)
        #expect(clone.read("data/file-0007.txt") == project.read("data/file-0007.txt"))
        #expect(try cloneWorkspace.status(from: clone.path)[0].state == "up to date")
    }

    @Test("settings round trip through .slipway/config.yml, keeping other sections")
    func settings() throws {
        let project = try VersioningProject("settings")
        defer { project.cleanUp() }
        try project.write(".slipway/config.yml", "other:\n  key: 1\n")
        var settings = try project.workspace().settings
        settings.remotes["origin"] = "/srv/data"
        settings.remote = "origin"
        settings.link = .copy
        try settings.save(to: project.path + "/.slipway/config.yml")
        let loaded = try project.workspace().settings
        #expect(loaded == settings)
        #expect(project.read(".slipway/config.yml")?.contains("other:") == true)
    }
}

@Suite("Data versioning: folder manifests")
struct VersioningManifestTests {
    @Test("the fast manifest writer produces the canonical JSON bytes, and the reader reads them back")
    func canonicalBytes() throws {
        let paths = ["a.txt", "dir/b c.bin", "dir/sub/ü-umlaut.txt", "quote\"d", "back\\slash", "tab\tname", "z"]
        let manifest = ArtifactManifest(
            files: paths.enumerated().map { index, path in
                ArtifactManifest.Entry(path: path, digest: Digest(of: Data(path.utf8)), size: Int64(index * 1000), executable: index % 2 == 0)
            })
        let plain = ArtifactManifest(files: manifest.files.filter { $0.path.utf8.allSatisfy { $0 < 0x7f && $0 >= 0x20 && $0 != 0x22 && $0 != 0x5c } })
        for value in [manifest, plain, ArtifactManifest(files: [])] {
            let fast = try ManifestCodec.encode(value)
            #expect(fast == (try value.canonicalJSON()))
            #expect(ManifestCodec.decode(fast) == value)
        }
        // Hand-written (pretty, reordered) manifests still decode through the full decoder.
        let pretty = try SlipwayJSON.encoder(pretty: true).encode(plain)
        #expect(ManifestCodec.decode(pretty) == plain)
        #expect(ManifestCodec.decode(Data("{\"files\":[".utf8)) == nil)
        #expect(ManifestCodec.decode(Data("not json".utf8)) == nil)
    }
}
