import Foundation
import SlipwayCore
import Testing

@testable import SlipwayData

#if canImport(Glibc)
import Glibc
#endif

/// Rewrites a folder remote in the layout older versions wrote: every packed object becomes a single file
/// under `objects/sha256/`, and `packs/` is removed.
func packedObjectsToSingleFiles(_ remoteFolder: String) throws {
    let packs = remoteFolder + "/packs"
    let catalog = PackCatalog.load(folder: packs)
    let store = try DataCache(root: remoteFolder)
    for (digest, object) in catalog.objects {
        let pack = try Data(contentsOf: URL(fileURLWithPath: catalog.packs[object.pack]))
        let bytes = pack[Int(object.offset)..<Int(object.offset + object.length)]
        let path = store.path(of: digest)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
    try? FileManager.default.removeItem(atPath: packs)
}

/// Deterministic pseudo-random bytes.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> Data {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var words = [UInt64](repeating: 0, count: (count + 7) / 8)
    for index in words.indices {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        words[index] = state ^ (state >> 29)
    }
    return words.withUnsafeBytes { Data($0.prefix(count)) }
}

@Suite("Data versioning: packs on folder remotes", .timeLimit(.minutes(2)))
struct VersioningPackTests {
    /// A project with small files (packed) and large files (single files) added, a clone with its pointers, and a remote folder.
    struct Setup {
        let project: VersioningProject
        let clone: VersioningProject
        let remoteFolder: String
        let workspace: DataWorkspace
        let cloneWorkspace: DataWorkspace
        let small: Int
        let large: Int

        init(_ label: String, small: Int = 400, large: Int = 3) throws {
            project = try VersioningProject(label)
            clone = try VersioningProject(label + "-clone")
            remoteFolder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-data-packs-\(UUID().uuidString.prefix(8))").path
            self.small = small
            self.large = large
            for index in 0..<small {
                try project.write(String(format: "data/small/f%04d.bin", index), pseudoRandomBytes(200 + (index * 3779) % 20000, seed: UInt64(index)))
            }
            for index in 0..<large {
                try project.write("data/large/big-\(index).bin", pseudoRandomBytes((64 << 10) + index * 150_000, seed: UInt64(100_000 + index)))
            }
            try project.write("labels.csv", "id,label\n1,cat\n2,dog\n")
            workspace = try project.workspace()
            _ = try workspace.add(["data", "labels.csv"], from: project.path)
            for pointer in ["data.slipway", "labels.csv.slipway"] {
                try FileManager.default.copyItem(atPath: project.path + "/" + pointer, toPath: clone.path + "/" + pointer)
            }
            cloneWorkspace = try clone.workspace()
        }

        /// Files plus the folder manifest plus labels.csv.
        var objects: Int { small + large + 2 }

        func packNames() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: remoteFolder + "/packs")) ?? []).sorted() }

        func singleFiles() -> Int {
            let objects = remoteFolder + "/objects/sha256"
            return ((try? FileManager.default.contentsOfDirectory(atPath: objects)) ?? []).reduce(0) {
                $0 + ((try? FileManager.default.contentsOfDirectory(atPath: objects + "/" + $1).count) ?? 0)
            }
        }

        /// Every file under data/ and labels.csv is byte-identical in the clone.
        func expectIdentical() {
            for index in 0..<small {
                let path = String(format: "data/small/f%04d.bin", index)
                #expect(clone.read(path) == project.read(path), "\(path)")
            }
            for index in 0..<large { #expect(clone.read("data/large/big-\(index).bin") == project.read("data/large/big-\(index).bin")) }
            #expect(clone.read("labels.csv") == "id,label\n1,cat\n2,dog\n")
        }

        func cleanUp() {
            project.cleanUp()
            clone.cleanUp()
            if let items = FileManager.default.enumerator(atPath: remoteFolder) {
                for case let item as String in items { chmod(remoteFolder + "/" + item, 0o755) }
            }
            try? FileManager.default.removeItem(atPath: remoteFolder)
        }
    }

    @Test("small objects go into packs, large ones stay single files; a clone pulls everything back byte for byte")
    func pushPullRoundTrip() async throws {
        let setup = try Setup("packs-roundtrip")
        defer { setup.cleanUp() }
        let remote = try FolderRemote(root: setup.remoteFolder)
        let first = try await setup.workspace.push(to: remote, from: setup.project.path)
        #expect(first.transferred == setup.objects && first.present == 0)
        #expect(first.bytes > 0)
        // Only the large files (and a folder manifest of 64 KiB or more) are single files; packs come in pairs, and each index loads.
        let names = setup.packNames()
        #expect(names.count >= 8 && names.count % 2 == 0, "\(names)")
        #expect(Set(names.map { String($0.prefix(64)) }).count == names.count / 2)
        let catalog = PackCatalog.load(folder: setup.remoteFolder + "/packs")
        #expect(catalog.damaged.isEmpty)
        #expect(catalog.objects.count >= setup.small + 1)
        #expect(catalog.objects.count + setup.singleFiles() == setup.objects)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: setup.remoteFolder + "/tmp")) ?? []).isEmpty)
        // Nothing is sent twice.
        let second = try await setup.workspace.push(to: remote, from: setup.project.path)
        #expect(second.transferred == 0 && second.present == setup.objects)
        #expect(setup.packNames() == names)

        let pulled = try await setup.cloneWorkspace.pull(from: try FolderRemote(root: setup.remoteFolder), directory: setup.clone.path)
        #expect(pulled.transferred == setup.objects)
        #expect(pulled.checkout?.restored.count == setup.small + setup.large + 1)
        setup.expectIdentical()
        #expect(try setup.cloneWorkspace.status(from: setup.clone.path).allSatisfy { $0.state == "up to date" })
        // Every object in the clone's cache is verified.
        for (digest, _) in setup.cloneWorkspace.cache.allObjects() {
            let data = try Data(contentsOf: URL(fileURLWithPath: setup.cloneWorkspace.cache.path(of: digest)))
            #expect(Digest(of: data) == digest)
        }

        // A changed file adds one small pack (with the new manifest), and only it is sent.
        try setup.project.write("data/small/f0007.bin", pseudoRandomBytes(999, seed: 7777))
        _ = try setup.workspace.add(["data"], from: setup.project.path)
        let third = try await setup.workspace.push(to: remote, from: setup.project.path)
        #expect(third.transferred == 2)
        #expect(setup.packNames().count == names.count + 4)
    }

    @Test("a remote in the older layout (single files only) still pulls, and a push adds packs beside it")
    func olderLayout() async throws {
        let setup = try Setup("packs-older", small: 120, large: 1)
        defer { setup.cleanUp() }
        let remote = try FolderRemote(root: setup.remoteFolder)
        _ = try await setup.workspace.push(to: remote, from: setup.project.path)
        try packedObjectsToSingleFiles(setup.remoteFolder)
        #expect(setup.singleFiles() == setup.objects)
        #expect(setup.packNames().isEmpty)
        let again = try await setup.workspace.push(to: remote, from: setup.project.path)
        #expect(again.transferred == 0 && again.present == setup.objects)
        let pulled = try await setup.cloneWorkspace.pull(from: remote, directory: setup.clone.path)
        #expect(pulled.transferred == setup.objects)
        setup.expectIdentical()

        // New data on the same remote goes into packs; a clone reads both kinds.
        try setup.project.writeFiles("more", count: 25)
        _ = try setup.workspace.add(["more"], from: setup.project.path)
        let mixed = try await setup.workspace.push(to: remote, from: setup.project.path)
        #expect(mixed.transferred == 26)
        #expect(setup.packNames().count == 4)
        try FileManager.default.copyItem(atPath: setup.project.path + "/more.slipway", toPath: setup.clone.path + "/more.slipway")
        let more = try await setup.cloneWorkspace.pull(from: remote, directory: setup.clone.path)
        #expect(more.transferred == 26)
        #expect(setup.clone.read("more/file-0011.txt") == setup.project.read("more/file-0011.txt"))
    }

    @Test("a flipped byte inside a pack is reported as corruption on pull and never stored or checked out")
    func corruptedPack() async throws {
        let setup = try Setup("packs-corrupt", small: 60, large: 0)
        defer { setup.cleanUp() }
        let remote = try FolderRemote(root: setup.remoteFolder)
        _ = try await setup.workspace.push(to: remote, from: setup.project.path)
        let victim = try #require(try setup.workspace.list(["data"], from: setup.project.path).first { $0.path == "data/small/f0031.bin" })
        let catalog = PackCatalog.load(folder: setup.remoteFolder + "/packs")
        let object = try #require(catalog.objects[victim.digest])
        let pack = catalog.packs[object.pack]
        chmod(pack, 0o644)
        let handle = try #require(FileHandle(forUpdatingAtPath: pack))
        try handle.seek(toOffset: UInt64(object.offset + object.length / 2))
        let original = try #require(try handle.read(upToCount: 1)).first ?? 0
        try handle.seek(toOffset: UInt64(object.offset + object.length / 2))
        try handle.write(contentsOf: Data([original ^ 0x40]))
        try handle.close()
        // The index still lists it: the remote does not know, so a push does not resend it.
        #expect(try await remote.missing([victim.digest]).isEmpty)
        do {
            _ = try await setup.cloneWorkspace.pull(from: remote, directory: setup.clone.path)
            Issue.record("a corrupted packed object was accepted")
        } catch let error as DataError {
            #expect(error.kind == .corrupted)
            #expect(error.message.contains(victim.digest.description) && error.message.contains(pack))
        }
        #expect(!setup.cloneWorkspace.cache.contains(victim.digest))
        #expect(!setup.clone.exists("data"))
        // One object alone, as `download` fetches it, is refused the same way.
        await #expect(throws: DataError.self) { _ = try await remote.download(victim.digest, into: setup.cloneWorkspace.cache) }
        #expect(!setup.cloneWorkspace.cache.contains(victim.digest))

        // Removing the damaged pack and pushing again repairs the remote.
        unlink(pack)
        unlink(String(pack.dropLast(5)) + ".idx")
        let repaired = try await setup.workspace.push(to: remote, from: setup.project.path)
        #expect(repaired.transferred > 0)
        _ = try await setup.cloneWorkspace.pull(from: remote, directory: setup.clone.path)
        setup.expectIdentical()
    }

    @Test("hostile pack indexes are not used: their objects count as missing, fetch says why, and a push sends them again")
    func hostileIndexes() async throws {
        let setup = try Setup("packs-hostile", small: 300, large: 0)
        defer { setup.cleanUp() }
        let remote = try FolderRemote(root: setup.remoteFolder)
        _ = try await setup.workspace.push(to: remote, from: setup.project.path)
        let packs = setup.remoteFolder + "/packs"
        let indexes = setup.packNames().filter { $0.hasSuffix(".idx") }
        #expect(indexes.count >= 3)
        let good = try Data(contentsOf: URL(fileURLWithPath: packs + "/" + indexes[0]))
        func damage(_ name: String, _ bytes: Data) throws {
            chmod(packs + "/" + name, 0o644)
            try bytes.write(to: URL(fileURLWithPath: packs + "/" + name))
        }
        var truncated = good
        truncated.removeLast(7)
        var flipped = good
        flipped[20] ^= 1
        var beyond = good
        // The first entry's length, made huge, with a recomputed checksum and the name to match.
        beyond.replaceSubrange((16 + 40)..<(16 + 48), with: Data(repeating: 0x7f, count: 8))
        beyond.removeLast(32)
        let checksum = Digest(of: beyond)
        beyond.append(Data(ObjectPack.rawBytes(of: checksum)))
        let variants: [Data] = [Data(), Data("SLWPIDX1".utf8), truncated, flipped, Data(repeating: 0, count: 4096), Data("not an index".utf8)]
        for (number, bytes) in variants.enumerated() {
            try damage(indexes[0], bytes)
            let catalog = PackCatalog.load(folder: packs)
            #expect(catalog.damaged.count == 1, "variant \(number)")
            #expect(catalog.damaged.first?.path == packs + "/" + indexes[0])
        }
        // A checksum that matches its bytes but not its name, and a length beyond the pack.
        try FileManager.default.copyItem(atPath: packs + "/" + String(indexes[0].prefix(64)) + ".pack", toPath: packs + "/\(checksum.hex).pack")
        try damage("\(checksum.hex).idx", beyond)
        try damage(indexes[0], beyond)
        var catalog = PackCatalog.load(folder: packs)
        #expect(catalog.damaged.count == 2)
        #expect(catalog.damaged.contains { $0.reason.contains("beyond the end") })
        #expect(catalog.damaged.contains { $0.reason.contains("checksum") })
        unlink(packs + "/\(checksum.hex).idx")
        unlink(packs + "/\(checksum.hex).pack")
        // An index whose pack is gone, and files that are not packs at all, are ignored.
        unlink(packs + "/" + String(indexes[1].prefix(64)) + ".pack")
        try Data("stray".utf8).write(to: URL(fileURLWithPath: packs + "/notes.idx"))
        try FileManager.default.createDirectory(atPath: packs + "/" + String(repeating: "ab", count: 32) + ".idx", withIntermediateDirectories: true)
        catalog = PackCatalog.load(folder: packs)
        #expect(catalog.damaged.count == 3)

        let lost = try setup.workspace.list(["data"], from: setup.project.path).map(\.digest).filter { catalog.objects[$0] == nil }
        #expect(!lost.isEmpty)
        #expect(try await remote.missing(lost) == Set(lost))
        do {
            _ = try await setup.cloneWorkspace.fetch(from: remote, directory: setup.clone.path)
            Issue.record("a fetch with objects behind damaged indexes succeeded")
        } catch let error as DataError {
            #expect(error.kind == .notFound)
            #expect(error.message.contains("pack index"), "\(error.message)")
        }
        let repaired = try await setup.workspace.push(to: remote, from: setup.project.path)
        #expect(repaired.transferred >= lost.count)
        #expect(PackCatalog.load(folder: packs).objects.count >= setup.small)
        let pulled = try await setup.cloneWorkspace.pull(from: remote, directory: setup.clone.path)
        #expect(pulled.checkout?.restored.count == setup.small + 1)
        setup.expectIdentical()
    }

    @Test("pack grouping: consecutive groups within the byte limit, every object once")
    func grouping() {
        var objects: [(digest: Digest, size: Int64)] = []
        for index in 0..<100 { objects.append((digest: Digest(of: Data([UInt8(index)])), size: Int64(1000 + index * 10))) }
        objects.sort { $0.digest < $1.digest }
        let groups = ObjectPack.groups(objects, limit: 10_000)
        let expected: [Digest] = objects.map { $0.digest }
        #expect(groups.flatMap { $0 } == expected)
        var sizes: [Digest: Int64] = [:]
        for object in objects { sizes[object.digest] = object.size }
        let groupSizes: [Int64] = groups.map { group in group.reduce(Int64(0)) { total, digest in total + (sizes[digest] ?? 0) } }
        #expect(groupSizes.allSatisfy { $0 <= 10_000 })
        #expect(ObjectPack.groups([(digest: objects[0].digest, size: 1 << 30)], limit: 10).count == 1)
        #expect(ObjectPack.groups([], limit: 10).isEmpty)
        #expect(ObjectPack.packLimit(total: 0) == 1 << 20)
        #expect(ObjectPack.packLimit(total: 160 << 20) == 10 << 20)
        #expect(ObjectPack.packLimit(total: 1 << 40) == 64 << 20)
    }
}

@Suite("Data versioning: an interrupted push to a folder remote", .serialized, .timeLimit(.minutes(3)))
struct VersioningPackInterruptionTests {
    @Test("push killed while writing packs leaves only whole packs; a rerun sends what is missing and a clone pulls it")
    func interruptedPush() async throws {
        let project = try VersioningProject("packs-kill")
        let clone = try VersioningProject("packs-kill-clone")
        let remoteFolder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-data-packs-kill-\(UUID().uuidString.prefix(8))").path
        defer {
            project.cleanUp()
            clone.cleanUp()
            if let items = FileManager.default.enumerator(atPath: remoteFolder) {
                for case let item as String in items { chmod(remoteFolder + "/" + item, 0o755) }
            }
            try? FileManager.default.removeItem(atPath: remoteFolder)
        }
        // 2,400 files of 24 KiB: about 56 MiB in sixteen packs.
        for index in 0..<2400 {
            var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 24 << 10)
            for position in stride(from: 0, to: bytes.count, by: 512) { bytes[position] = UInt8(truncatingIfNeeded: index &* 7 &+ position / 512) }
            bytes[1] = UInt8(index >> 8)
            bytes[2] = UInt8(index & 0xff)
            try project.write(String(format: "data/part-%04d.bin", index), Data(bytes))
        }
        #expect(try await slipway(["data", "add", "data"], in: project.path).status == 0)
        #expect(try await slipway(["data", "remote", "add", "shared", remoteFolder], in: project.path).status == 0)
        let packs = remoteFolder + "/packs"
        let temporary = remoteFolder + "/tmp"
        func packing() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []).contains { $0.hasSuffix(".pack.tmp") }
                || ((try? FileManager.default.contentsOfDirectory(atPath: packs)) ?? []).contains { $0.hasSuffix(".idx") }
        }

        // Killed as soon as it starts writing packs. The wait polls on this thread rather than with Task.sleep:
        // other suites' tests can hold every thread of the task pool for a second.
        let child = try VersioningChild(["data", "push"], in: project.path)
        let deadline = Date().addingTimeInterval(90)
        while child.process.isRunning && !packing() && Date() < deadline { usleep(300) }
        kill(child.process.processIdentifier, SIGKILL)
        _ = await child.wait()

        // Every visible pack is whole: its index loads and every object in it hashes to its digest.
        let catalog = PackCatalog.load(folder: packs)
        #expect(catalog.damaged.isEmpty)
        #expect(catalog.objects.count < 2400, "the push was interrupted before it finished")
        // The folder manifest (over 64 KiB, so a single file) goes after every pack.
        let singleFiles = ((try? FileManager.default.subpathsOfDirectory(atPath: remoteFolder + "/objects/sha256")) ?? []).filter { $0.contains("/") }.count
        #expect(singleFiles == 0)
        for (digest, object) in catalog.objects {
            let pack = try Data(contentsOf: URL(fileURLWithPath: catalog.packs[object.pack]))
            #expect(Digest(of: pack[Int(object.offset)..<Int(object.offset + object.length)]) == digest)
        }
        // A pack without its index (killed between the two renames) is never used.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packs)) ?? []
        #expect(names.allSatisfy { $0.hasSuffix(".idx") || $0.hasSuffix(".pack") })

        let again = try await slipway(["data", "push", "--json"], in: project.path)
        #expect(again.status == 0, "\(again.stderr)")
        let report = jsonObject(again.stdout)
        #expect(report["objects"] as? Int == 2401)
        #expect(report["transferred"] as? Int == 2401 - catalog.objects.count - singleFiles, "only what was missing is sent: \(again.stdout)")
        #expect(jsonObject(try await slipway(["data", "push", "--json"], in: project.path).stdout)["transferred"] as? Int == 0)

        try FileManager.default.copyItem(atPath: project.path + "/data.slipway", toPath: clone.path + "/data.slipway")
        #expect(try await slipway(["data", "remote", "add", "shared", remoteFolder], in: clone.path).status == 0)
        let pulled = try await slipway(["data", "pull", "--json"], in: clone.path)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        for index in [0, 1234, 2399] {
            let path = String(format: "data/part-%04d.bin", index)
            #expect(clone.read(path) == project.read(path))
        }
        let status = try await slipway(["data", "status", "--json"], in: clone.path)
        #expect((jsonObject(status.stdout)["paths"] as? [[String: Any]])?.first?["state"] as? String == "up to date")
    }
}
