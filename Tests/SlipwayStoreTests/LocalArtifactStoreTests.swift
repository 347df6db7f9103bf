import Foundation
import Logging
import SlipwayCore
import SlipwayStore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("LocalArtifactStore")
struct LocalArtifactStoreTests {
    // MARK: Objects

    @Test func roundTripStreamsAndVerifies() async throws {
        try await withStore { store, _ in
            let bytes = randomData(count: 3 << 20 + 17, seed: 1)
            let object = try await store.putData(bytes)
            #expect(object.digest == Digest(of: bytes))
            #expect(object.size == Int64(bytes.count))
            #expect(try await store.contains(object.digest))
            #expect(try await store.size(of: object.digest) == Int64(bytes.count))
            #expect(try await store.readData(object.digest, maxSize: 8 << 20) == bytes)
            #expect(try await store.allDigests() == [object.digest])

            let reader = try await store.open(object.digest)
            #expect(reader.object == object)
            var streamed = Data()
            var chunks = 0
            while let chunk = try await reader.read(maxLength: 100_000) {
                #expect(chunk.count <= 100_000)
                streamed.append(chunk)
                chunks += 1
            }
            #expect(try await reader.read(maxLength: 10) == nil)
            await reader.close()
            #expect(streamed == bytes)
            #expect(chunks == (bytes.count + 99_999) / 100_000)

            try await store.delete(object.digest)
            let stillThere = try await store.contains(object.digest)
            #expect(!stillThere)
            try await store.delete(object.digest)
        }
    }

    @Test func emptyObject() async throws {
        try await withStore { store, _ in
            let object = try await store.putData(Data())
            #expect(object.digest == Digest(of: Data()))
            #expect(object.size == 0)
            #expect(try await store.readData(object.digest).isEmpty)
        }
    }

    @Test func sameBytesTwiceKeepOneFile() async throws {
        try await withStore { store, root in
            let bytes = randomData(count: 4096, seed: 2)
            let first = try await store.putData(bytes)
            let second = try await store.putData(bytes)
            #expect(first == second)
            #expect(try regularFiles(under: root.appending(path: "objects")).count == 1)
            #expect(try regularFiles(under: root.appending(path: "tmp")).isEmpty)
        }
    }

    @Test func objectLayoutOnDisk() async throws {
        try await withStore { store, root in
            let object = try await store.putData(Data("hello, slipway".utf8))
            let hex = object.digest.hex
            let expected = root.appending(path: "objects/sha256/\(hex.prefix(2))/\(hex.dropFirst(2))").path
            #expect(store.path(of: object.digest) == expected)
            let attributes = try FileManager.default.attributesOfItem(atPath: expected)
            #expect((attributes[.posixPermissions] as? Int) == 0o444)
            #expect(try regularFiles(under: root.appending(path: "objects")) == [expected])
            var isFolder: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: root.appending(path: "tmp").path, isDirectory: &isFolder) && isFolder.boolValue)
        }
    }

    @Test func expectedDigestMismatchStoresNothing() async throws {
        try await withStore { store, root in
            let bytes = Data("the real bytes".utf8)
            let claimed = Digest(of: Data("other bytes".utf8))
            let upload = try await store.beginUpload()
            try await upload.write(bytes)
            let error = await #expect(throws: StoreError.self) { try await upload.commit(expected: claimed) }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.message.contains("expected \(claimed) but the bytes hash to \(Digest(of: bytes))") == true)
            #expect(try await store.allDigests().isEmpty)
            #expect(try regularFiles(under: root).isEmpty)

            let retry = try await store.beginUpload()
            try await retry.write(bytes)
            let object = try await retry.commit(expected: Digest(of: bytes))
            #expect(object.digest == Digest(of: bytes))
        }
    }

    @Test func flippedByteOnDiskIsCorruption() async throws {
        try await withStore { store, root in
            let bytes = randomData(count: 200_000, seed: 3)
            let object = try await store.putData(bytes)
            try flipByte(at: 123_456, in: store.path(of: object.digest))

            let opened = await #expect(throws: StoreError.self) { _ = try await store.open(object.digest) }
            #expect(opened?.kind == .corrupted)
            #expect(opened?.message.hasPrefix("object \(object.digest) is corrupted on disk (it hashes to sha256:") == true)
            #expect(opened?.message.hasSuffix("restore it from a remote or re-upload it") == true)
            let read = await #expect(throws: StoreError.self) { _ = try await store.readData(object.digest) }
            #expect(read?.kind == .corrupted)

            let destination = root.deletingLastPathComponent().appending(path: "out-\(UUID().uuidString)")
            let materialized = await #expect(throws: StoreError.self) { try await store.materialize(object.digest, to: destination) }
            #expect(materialized?.kind == .corrupted)
            #expect(!FileManager.default.fileExists(atPath: destination.path))
        }
    }

    @Test func objectChangedWhileStreamingIsCorruption() async throws {
        try await withStore { store, _ in
            let bytes = randomData(count: 3 << 20, seed: 4)
            let object = try await store.putData(bytes)
            let reader = try await store.open(object.digest)
            let first = try await reader.read(maxLength: 65_536)
            #expect(first == bytes.prefix(65_536))
            try flipByte(at: 2 << 20, in: store.path(of: object.digest))
            let error = await #expect(throws: StoreError.self) {
                while try await reader.read(maxLength: 1 << 20) != nil {}
            }
            #expect(error?.kind == .corrupted)
            #expect(error?.message.contains("is corrupted on disk") == true)
            await reader.close()
        }
    }

    @Test func objectTruncatedWhileStreamingIsCorruption() async throws {
        try await withStore { store, _ in
            let bytes = randomData(count: 2 << 20, seed: 5)
            let object = try await store.putData(bytes)
            let reader = try await store.open(object.digest)
            _ = try await reader.read(maxLength: 1000)
            let path = store.path(of: object.digest)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            #expect(truncate(path, 1 << 20) == 0)
            let error = await #expect(throws: StoreError.self) {
                while try await reader.read(maxLength: 1 << 20) != nil {}
            }
            #expect(error?.kind == .corrupted)
        }
    }

    @Test func missingObjectIsNotFound() async throws {
        try await withStore { store, root in
            let digest = Digest(of: Data("never stored".utf8))
            let present = try await store.contains(digest)
            #expect(!present)
            let opened = await #expect(throws: StoreError.self) { _ = try await store.open(digest) }
            #expect(opened?.kind == .notFound)
            #expect(opened?.message.contains(digest.description) == true)
            let sized = await #expect(throws: StoreError.self) { _ = try await store.size(of: digest) }
            #expect(sized?.kind == .notFound)
            let read = await #expect(throws: StoreError.self) { _ = try await store.readData(digest) }
            #expect(read?.kind == .notFound)
            let destination = root.appending(path: "out")
            let materialized = await #expect(throws: StoreError.self) { try await store.materialize(digest, to: destination) }
            #expect(materialized?.kind == .notFound)
            #expect(!FileManager.default.fileExists(atPath: destination.path))
        }
    }

    @Test func readDataRefusesLargeObjects() async throws {
        try await withStore { store, _ in
            let object = try await store.putData(randomData(count: 10_000, seed: 6))
            let error = await #expect(throws: StoreError.self) { _ = try await store.readData(object.digest, maxSize: 9_999) }
            #expect(error?.kind == .tooLarge)
            #expect(try await store.readData(object.digest, maxSize: 10_000).count == 10_000)
        }
    }

    // MARK: Uploads

    @Test func abortedUploadLeavesNothing() async throws {
        try await withStore { store, root in
            let upload = try await store.beginUpload()
            try await upload.write(randomData(count: 50_000, seed: 7))
            #expect(try regularFiles(under: root.appending(path: "tmp")).count == 1)
            await upload.abort()
            #expect(try regularFiles(under: root).isEmpty)
            #expect(try await store.allDigests().isEmpty)
            let error = await #expect(throws: StoreError.self) { try await upload.write(Data("more".utf8)) }
            #expect(error?.kind == .failedPrecondition)
            await #expect(throws: StoreError.self) { _ = try await upload.commit(expected: nil) }
        }
    }

    @Test func droppedUploadLeavesNothing() async throws {
        try await withStore { store, root in
            do {
                let upload = try await store.beginUpload()
                try await upload.write(randomData(count: 50_000, seed: 8))
            }
            #expect(try regularFiles(under: root).isEmpty)
            #expect(try await store.allDigests().isEmpty)
        }
    }

    @Test func leftoverTemporaryFilesAreCleanedAtStart() async throws {
        try await withTemporaryFolder { folder in
            let root = folder.appending(path: "artifacts")
            _ = try LocalArtifactStore(root: root)
            let temporary = root.appending(path: "tmp")
            let stale = temporary.appending(path: "upload-stale.tmp").path
            let fresh = temporary.appending(path: "upload-fresh.tmp").path
            #expect(FileManager.default.createFile(atPath: stale, contents: Data(repeating: 1, count: 1000)))
            #expect(FileManager.default.createFile(atPath: fresh, contents: Data(repeating: 2, count: 1000)))
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: stale)

            let store = try LocalArtifactStore(root: root)
            #expect(!FileManager.default.fileExists(atPath: stale))
            #expect(FileManager.default.fileExists(atPath: fresh))
            #expect(try await store.allDigests().isEmpty)
        }
    }

    @Test func concurrentUploadsOfTheSameContent() async throws {
        try await withStore { store, root in
            let bytes = randomData(count: 2 << 20, seed: 9)
            let objects = try await withThrowingTaskGroup(of: StoredObject.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await store.putData(bytes) }
                }
                return try await group.reduce(into: [StoredObject]()) { $0.append($1) }
            }
            #expect(objects.count == 8)
            #expect(Set(objects) == [StoredObject(digest: Digest(of: bytes), size: Int64(bytes.count))])
            #expect(try regularFiles(under: root.appending(path: "objects")).count == 1)
            #expect(try regularFiles(under: root.appending(path: "tmp")).isEmpty)
            #expect(try await store.readData(objects[0].digest, maxSize: 4 << 20) == bytes)
        }
    }

    @Test func putFileStreamsWithProgress() async throws {
        try await withStore { store, root in
            let file = root.deletingLastPathComponent().appending(path: "weights.bin")
            let bytes = randomData(count: 5 << 20 + 3, seed: 10)
            try bytes.write(to: file)
            let reported = ProgressLog()
            let object = try await store.putFile(at: file) { reported.record($0) }
            #expect(object == StoredObject(digest: Digest(of: bytes), size: Int64(bytes.count)))
            #expect(reported.values.last == Int64(bytes.count))
            #expect(reported.values == reported.values.sorted())

            let copy = root.deletingLastPathComponent().appending(path: "copy/weights.bin")
            try await store.materialize(object.digest, to: copy)
            #expect(try Data(contentsOf: copy) == bytes)
            let again = await #expect(throws: StoreError.self) { try await store.materialize(object.digest, to: copy) }
            #expect(again?.kind == .alreadyExists)

            let folder = await #expect(throws: StoreError.self) { _ = try await store.putFile(at: root) }
            #expect(folder?.kind == .invalidArgument)
            let missing = await #expect(throws: StoreError.self) { _ = try await store.putFile(at: root.appending(path: "nope")) }
            #expect(missing?.kind == .notFound)
        }
    }

    // MARK: Folders

    @Test func directoryRoundTrip() async throws {
        try await withStore { store, root in
            let base = root.deletingLastPathComponent()
            let source = base.appending(path: "model")
            try makeFiles(
                in: source,
                [
                    "config.json": Data(#"{"layers": 12}"#.utf8),
                    "weights/part-1.bin": randomData(count: 1_500_000, seed: 11),
                    "weights/deeper/still/part-2.bin": randomData(count: 300, seed: 12),
                    "empty.txt": Data(),
                    "ünïcødé 模型/名前.txt": Data("unicode".utf8),
                    "bin/serve.sh": Data("#!/bin/sh\necho serving\n".utf8),
                ])
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: source.appending(path: "bin/serve.sh").path)
            try FileManager.default.createDirectory(at: source.appending(path: "nothing-here"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: source.appending(path: "latest.bin").path, withDestinationPath: "weights/deeper/still/part-2.bin")

            let reported = ProgressLog()
            let (manifest, object) = try await store.putDirectory(at: source) { reported.record($0) }
            #expect(manifest.mediaType == ArtifactManifest.mediaType)
            #expect(
                manifest.files.map(\.path) == [
                    "bin/serve.sh", "config.json", "empty.txt", "latest.bin", "weights/deeper/still/part-2.bin", "weights/part-1.bin",
                    "ünïcødé 模型/名前.txt",
                ])
            #expect(manifest.files.filter(\.executable).map(\.path) == ["bin/serve.sh"])
            #expect(manifest.files.first { $0.path == "empty.txt" }?.digest == Digest(of: Data()))
            #expect(reported.values.last == manifest.totalSize)
            #expect(object.digest == Digest(of: try manifest.canonicalJSON()))
            #expect(try await store.manifest(object.digest) == manifest)
            #expect(try await store.manifest(manifest.files[1].digest) == nil)  // config.json is JSON, but not a manifest
            #expect(try await store.manifest(manifest.files[5].digest) == nil)

            // The same folder always has the same digest.
            #expect(try await store.putDirectory(at: source).object == object)

            let destination = base.appending(path: "restored")
            try await store.materialize(object.digest, to: destination)
            for entry in manifest.files {
                let restored = destination.appending(path: entry.path)
                #expect(Digest(of: try Data(contentsOf: restored)) == entry.digest, "\(entry.path)")
                let mode = try FileManager.default.attributesOfItem(atPath: restored.path)[.posixPermissions] as? Int
                #expect(mode == (entry.executable ? 0o755 : 0o644), "\(entry.path)")
            }
            #expect(try regularFiles(under: destination).count == manifest.files.count)
            #expect(try FileManager.default.contentsOfDirectory(atPath: base.path).sorted() == ["artifacts", "model", "restored"])
        }
    }

    @Test func directoryWithLinkOutsideIsRefused() async throws {
        try await withStore { store, root in
            let base = root.deletingLastPathComponent()
            let source = base.appending(path: "model")
            try makeFiles(in: source, ["a.txt": Data("a".utf8)])
            try makeFiles(in: base, ["secret.txt": Data("secret".utf8)])
            try FileManager.default.createSymbolicLink(atPath: source.appending(path: "leak").path, withDestinationPath: "../secret.txt")
            let error = await #expect(throws: StoreError.self) { _ = try await store.putDirectory(at: source) }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.message.contains("outside the folder") == true)
        }
    }

    @Test func directoryWithLinkLoopIsRefused() async throws {
        try await withStore { store, root in
            let source = root.deletingLastPathComponent().appending(path: "model")
            try makeFiles(in: source, ["sub/a.txt": Data("a".utf8)])
            try FileManager.default.createSymbolicLink(atPath: source.appending(path: "sub/loop").path, withDestinationPath: "..")
            let error = await #expect(throws: StoreError.self) { _ = try await store.putDirectory(at: source) }
            #expect(error?.kind == .invalidArgument)
        }
    }

    @Test func directoryWithSpecialFileIsRefused() async throws {
        try await withStore { store, root in
            let source = root.deletingLastPathComponent().appending(path: "model")
            try makeFiles(in: source, ["a.txt": Data("a".utf8)])
            #expect(mkfifo(source.appending(path: "pipe").path, 0o644) == 0)
            let error = await #expect(throws: StoreError.self) { _ = try await store.putDirectory(at: source) }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.message.contains("FIFO") == true)
            let single = await #expect(throws: StoreError.self) { _ = try await store.putFile(at: source.appending(path: "pipe")) }
            #expect(single?.kind == .invalidArgument)
        }
    }

    @Test(arguments: ["../x", "/etc/passwd", "a//b", "a\u{0}b", "a/../../x", "", ".", "a/", "x/./y"])
    func hostileManifestIsRefusedWithNothingWritten(path: String) async throws {
        try await withStore { store, root in
            let base = root.deletingLastPathComponent()
            let payload = try await store.putData(Data("payload".utf8))
            let manifest = ArtifactManifest(files: [
                .init(path: "good.txt", digest: payload.digest, size: payload.size),
                .init(path: path, digest: payload.digest, size: payload.size),
            ])
            let object = try await store.putData(try manifest.canonicalJSON())
            #expect(try await store.manifest(object.digest) == manifest)
            let before = try FileManager.default.contentsOfDirectory(atPath: base.path).sorted()

            let destination = base.appending(path: "out/model")
            let error = await #expect(throws: StoreError.self) { try await store.materialize(object.digest, to: destination) }
            #expect(error?.kind == .invalidArgument)
            #expect(try FileManager.default.contentsOfDirectory(atPath: base.path).sorted() == before)
            #expect(!FileManager.default.fileExists(atPath: "/x"))
            #expect(throws: StoreError.self) { try LocalArtifactStore.validateRelativePath(path) }
        }
    }

    @Test func conflictingManifestIsRefused() async throws {
        try await withStore { store, root in
            let payload = try await store.putData(Data("payload".utf8))
            for paths in [["a", "a/b"], ["same", "same"]] {
                let manifest = ArtifactManifest(files: paths.map { .init(path: $0, digest: payload.digest, size: payload.size) })
                let object = try await store.putData(try manifest.canonicalJSON())
                let destination = root.deletingLastPathComponent().appending(path: "out")
                let error = await #expect(throws: StoreError.self) { try await store.materialize(object.digest, to: destination) }
                #expect(error?.kind == .invalidArgument)
                #expect(!FileManager.default.fileExists(atPath: destination.path))
            }
        }
    }

    @Test func manifestWithMissingObjectLeavesNothing() async throws {
        try await withStore { store, root in
            let base = root.deletingLastPathComponent()
            let present = try await store.putData(randomData(count: 100_000, seed: 13))
            let absent = Digest(of: Data("absent".utf8))
            let manifest = ArtifactManifest(files: [
                .init(path: "a/first.bin", digest: present.digest, size: present.size),
                .init(path: "b/second.bin", digest: absent, size: 6),
            ])
            let object = try await store.putData(try manifest.canonicalJSON())
            let destination = base.appending(path: "restored")
            let error = await #expect(throws: StoreError.self) { try await store.materialize(object.digest, to: destination) }
            #expect(error?.kind == .notFound)
            #expect(try FileManager.default.contentsOfDirectory(atPath: base.path) == ["artifacts"])
        }
    }

    @Test(arguments: ["model.bin", "weights/part-1.bin", "ünïcødé/模型", "a b/.hidden", "..a/b..", "x/y/z"])
    func validRelativePathsAreAccepted(path: String) throws {
        try LocalArtifactStore.validateRelativePath(path)
    }

    // MARK: Streaming

    /// A large object goes in and out through fixed-size chunks and comes back intact. The memory bound
    /// (2 GiB in well under 150 MiB) is measured by bench/artifacts, not asserted here: tests share a process.
    @Test(.timeLimit(.minutes(5))) func largeObjectStreamsThroughChunks() async throws {
        try await withStore { store, _ in
            _ = try await streamLargeObject(store: store, size: 96 << 20)
        }
    }
}

// MARK: - Helpers

/// Uploads `size` generated bytes, streams them back and returns how much the peak resident size grew.
private func streamLargeObject(store: LocalArtifactStore, size: Int) async throws -> Int {
    let chunk = 1 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buffer.deallocate() }
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    for index in 0..<(chunk / 8) {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        buffer.storeBytes(of: state, toByteOffset: index * 8, as: UInt64.self)
    }
    let baseline = try resetPeakResidentSize()

    let upload = try await store.beginUpload()
    var hasher = DigestHasher()
    for index in 0..<(size / chunk) {
        buffer.storeBytes(of: UInt64(index), toByteOffset: 0, as: UInt64.self)  // every chunk differs
        let bytes = Data(UnsafeRawBufferPointer(buffer))
        hasher.update(bytes)
        try await upload.write(bytes)
    }
    let object = try await upload.commit(expected: hasher.finalize())
    #expect(object.size == Int64(size))

    let reader = try await store.open(object.digest)
    var check = DigestHasher()
    while let data = try await reader.read(maxLength: 4 << 20) {
        check.update(data)
    }
    await reader.close()
    #expect(check.finalize() == object.digest)

    // Out to a file and back in again: both directions stream.
    let file = store.root.deletingLastPathComponent().appending(path: "large.bin")
    try await store.materialize(object.digest, to: file)
    #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int == size)
    #expect(try await store.putFile(at: file) == object)
    try FileManager.default.removeItem(at: file)
    try await store.delete(object.digest)
    let peak = try #require(statusValue("VmHWM"))
    return max(0, peak - baseline)
}

/// Resets the kernel's peak resident size (VmHWM) when allowed and returns the size to measure growth from.
private func resetPeakResidentSize() throws -> Int {
    if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
        try? handle.write(contentsOf: Data("5".utf8))
        try? handle.close()
        return try #require(statusValue("VmRSS"))
    }
    return try #require(statusValue("VmHWM"))
}

/// A value from /proc/self/status in bytes.
private func statusValue(_ key: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        let number = line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
        return number.map { $0 * 1024 }
    }
    return nil
}

/// Collects progress reports from any task.
private final class ProgressLog: Sendable {
    private let log = Mutex<[Int64]>([])
    func record(_ value: Int64) { log.withLock { $0.append(value) } }
    var values: [Int64] { log.withLock { $0 } }
}

private func withTemporaryFolder(_ body: (URL) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appending(path: "slipway-cas-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try await body(folder)
}

/// Runs `body` with a store in `<temporary folder>/artifacts`; the folder beside it is free for the test.
private func withStore(_ body: (LocalArtifactStore, URL) async throws -> Void) async throws {
    try await withTemporaryFolder { folder in
        let root = folder.appending(path: "artifacts")
        var logger = Logger(label: "slipway.artifacts.test")
        logger.logLevel = .critical  // the corruption tests log errors on purpose
        try await body(try LocalArtifactStore(root: root, logger: logger), root)
    }
}

private func randomData(count: Int, seed: UInt64) -> Data {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var data = Data(count: count)
    data.withUnsafeMutableBytes { (bytes: UnsafeMutableRawBufferPointer) in
        for index in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes[index] = UInt8(truncatingIfNeeded: state)
        }
    }
    return data
}

private func flipByte(at offset: UInt64, in path: String) throws {
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
    let handle = try #require(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    let byte = try #require(try handle.read(upToCount: 1)?.first)
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: Data([byte ^ 0x01]))
    try handle.synchronize()
}

private func makeFiles(in folder: URL, _ files: [String: Data]) throws {
    for (path, contents) in files {
        let url = folder.appending(path: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url)
    }
}

/// The paths of all regular files below a folder, sorted.
private func regularFiles(under folder: URL) throws -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [] }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
        let path = folder.appending(path: relative).path
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            files.append(path)
        }
    }
    return files.sorted()
}
