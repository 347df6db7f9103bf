public import Foundation
import SlipwayCore

/// Where runs are recorded: the run record and each step's log.
///
/// `FileRunStore` keeps them under the data folder; a store shared with remote runners can implement the same protocol.
public protocol RunStore: Sendable {
    /// A new, unused run id.
    func newRunID() throws -> String
    /// The next `run_number` for a workflow file.
    func nextRunNumber(workflow: String) throws -> Int
    /// Writes (creates or replaces) a run's record.
    func save(_ record: RunRecord) throws
    /// A run's record.
    func load(_ id: String) throws -> RunRecord
    /// Every run, newest first.
    func list() throws -> [RunRecord]
    /// Appends text to a step's log (`path` relative to the run, as in `StepRecord.log`).
    func appendLog(run: String, path: String, text: String) throws
    /// A step's log text.
    func log(run: String, path: String) throws -> String
}

/// A problem with stored runs.
public struct RunStoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// Runs stored as files: `<data folder>/runs/<id>/run.json` and `<data folder>/runs/<id>/logs/<job>/<n>-<step>.log`.
public struct FileRunStore: RunStore {
    /// The `runs` folder.
    public let root: URL

    /// A store in `<dataDir>/runs`.
    public init(dataDir: URL) { root = dataDir.appendingPathComponent("runs") }

    public func newRunID() throws -> String {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var candidate = Int64(Date().timeIntervalSince1970 * 1000)
        while true {
            let folder = root.appendingPathComponent(String(candidate))
            // mkdir is atomic: two processes never get the same id.
            if mkdir(folder.path, 0o755) == 0 { return String(candidate) }
            guard errno == EEXIST else { throw RunStoreError("cannot create \(folder.path): \(String(cString: strerror(errno)))") }
            candidate += 1
        }
    }

    /// The next number of a workflow's runs, from a counter file per workflow (`runs/.numbers/<workflow>`)
    /// changed under an exclusive lock; the first time, it starts after the highest number stored.
    public func nextRunNumber(workflow: String) throws -> Int {
        let folder = root.appendingPathComponent(".numbers")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(workflow.slug).path
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw RunStoreError("cannot open the run counter \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw RunStoreError("cannot lock the run counter \(path)") }
        defer { flock(fd, LOCK_UN) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count, 0)
        let text = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        let last = try Int(text) ?? (list().filter { $0.workflow == workflow }.map(\.runNumber).max() ?? 0)
        let next = Array("\(last + 1)\n".utf8)
        guard ftruncate(fd, 0) == 0, pwrite(fd, next, next.count, 0) == next.count else {
            throw RunStoreError("cannot update the run counter \(path)")
        }
        return last + 1
    }

    public func save(_ record: RunRecord) throws {
        let folder = try folder(record.id)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = try SlipwayJSON.encoder(pretty: true).encode(record)
        let temporary = folder.appendingPathComponent(".run.json.\(UUID().uuidString.prefix(8))")
        try data.write(to: temporary)
        if rename(temporary.path, folder.appendingPathComponent("run.json").path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            throw RunStoreError("cannot write the record of run \(record.id): \(String(cString: strerror(errno)))")
        }
    }

    public func load(_ id: String) throws -> RunRecord {
        let file = try folder(id).appendingPathComponent("run.json")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw RunStoreError("no run '\(id)' in \(root.path); `slipway runs list` shows the runs")
        }
        do { return try SlipwayJSON.decoder().decode(RunRecord.self, from: data) } catch {
            throw RunStoreError("the record of run '\(id)' is unreadable: \(error)")
        }
    }

    public func list() throws -> [RunRecord] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root.path) else { return [] }
        return names.filter { Int64($0) != nil }.compactMap { try? load($0) }.sorted {
            (Int64($0.id) ?? 0, $0.id) > (Int64($1.id) ?? 0, $1.id)
        }
    }

    public func appendLog(run: String, path: String, text: String) throws {
        let file = try logFile(run: run, path: path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: file.path) { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    public func log(run: String, path: String) throws -> String {
        let file = try logFile(run: run, path: path)
        guard let data = FileManager.default.contents(atPath: file.path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A run's folder; refuses ids that are not plain names.
    public func folder(_ id: String) throws -> URL {
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw RunStoreError("'\(id.prefix(80))' is not a run id (run ids are numbers, see `slipway runs list`)")
        }
        return root.appendingPathComponent(id)
    }

    private func logFile(run: String, path: String) throws -> URL {
        let parts = path.split(separator: "/")
        guard !parts.isEmpty, !parts.contains(".."), !path.hasPrefix("/") else { throw RunStoreError("'\(path)' is not a log path") }
        return try folder(run).appendingPathComponent(path)
    }
}

extension String {
    /// A file-name-safe form of a job or step name.
    var slug: String {
        let mapped = String(map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        let trimmed = mapped.trimmingCharacters(in: CharacterSet(charactersIn: "._"))
        return trimmed.isEmpty ? "_" : String(trimmed.prefix(80))
    }
}
