import Crypto
public import Foundation

/// The content key of a job with `cache:`: a SHA-256 over everything that can change what the job
/// does or produces.
///
/// It covers the job's definition (steps, their scripts, `with:`, `env:`, shells, working folders,
/// conditions, `runs-on`, outputs, the cache declaration itself), the matrix leg, the job's rendered
/// environment, the results and outputs of the jobs it needs, the dispatch inputs, the names of the
/// secrets (never their values), and the path and content of every file its `cache.inputs` globs
/// match. Changing any of them changes the key; nothing else does.
public struct JobCacheKey: Sendable, Equatable {
    /// Bumped when the key's recipe changes, so old entries stop matching.
    public static let recipeVersion = 1

    /// Hexadecimal SHA-256.
    public var value: String
    /// The number of input files hashed.
    public var inputFiles: Int
    /// Their total size in bytes.
    public var inputBytes: Int64

    /// What the key is computed from.
    public struct Parts: Sendable {
        public var workflowFile: String
        public var job: Job
        public var matrix: ExpressionObject
        public var env: [String: String]
        public var needs: ExpressionValue
        public var inputs: [String: String]
        public var secretNames: [String]

        public init(
            workflowFile: String, job: Job, matrix: ExpressionObject = ExpressionObject(), env: [String: String] = [:],
            needs: ExpressionValue = .null, inputs: [String: String] = [:], secretNames: [String] = []
        ) {
            self.workflowFile = workflowFile
            self.job = job
            self.matrix = matrix
            self.env = env
            self.needs = needs
            self.inputs = inputs
            self.secretNames = secretNames
        }
    }

    /// Computes the key; `digests` remembers file digests by (inode, size, modification time) so
    /// unchanged input files are not read again.
    public static func compute(_ parts: Parts, workspace: URL, digests: FileDigestCache) throws -> JobCacheKey {
        var hash = SHA256()
        func add(_ label: String, _ text: String) {
            hash.update(data: Data("\(label)\u{0}\(text.utf8.count)\u{0}".utf8))
            hash.update(data: Data(text.utf8))
        }
        add("recipe", String(recipeVersion))
        add("workflow", parts.workflowFile)
        add("job", describe(parts.job))
        add("matrix", ExpressionValue.object(parts.matrix).canonicalText)
        add("env", parts.env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"))
        add("needs", parts.needs.canonicalText)
        add("inputs", parts.inputs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"))
        add("secrets", parts.secretNames.sorted().joined(separator: "\n"))
        let files = try CacheGlobs.files(matching: parts.job.cache?.inputs ?? [], in: workspace)
        var bytes: Int64 = 0
        for file in files {
            let entry = try digests.digest(of: workspace.appendingPathComponent(file), relative: file)
            add("file", "\(file)\u{0}\(entry.digest)")
            bytes += entry.size
        }
        return JobCacheKey(value: lowercaseHex(hash.finalize()), inputFiles: files.count, inputBytes: bytes)
    }

    /// A canonical text of a job definition: every field that affects what it runs, in a fixed order.
    static func describe(_ job: Job) -> String {
        var lines: [String] = []
        func line(_ key: String, _ value: String?) { if let value { lines.append("\(key)=\(value.debugDescription)") } }
        func pairs(_ key: String, _ values: [(name: String, value: String)]) {
            for pair in values { lines.append("\(key).\(pair.name.debugDescription)=\(pair.value.debugDescription)") }
        }
        line("id", job.id)
        line("name", job.name)
        line("needs", job.needs.joined(separator: ","))
        line("if", job.condition)
        line("runs-on", job.runsOn.joined(separator: ","))
        line("environment", job.environment?.name)
        pairs("env", job.env)
        line("defaults.shell", job.defaults.shell)
        line("defaults.working-directory", job.defaults.workingDirectory)
        pairs("outputs", job.outputs)
        line("timeout", job.timeoutMinutes)
        line("continue-on-error", job.continueOnError)
        line("cache.inputs", job.cache?.inputs.joined(separator: "\n"))
        line("cache.outputs", job.cache?.outputs.joined(separator: "\n"))
        for (index, step) in job.steps.enumerated() {
            lines.append("step \(index)")
            line("id", step.id)
            line("name", step.name)
            line("if", step.condition)
            line("run", step.run)
            line("uses", step.uses)
            pairs("with", step.with)
            pairs("env", step.env)
            line("shell", step.shell)
            line("working-directory", step.workingDirectory)
            line("continue-on-error", step.continueOnError)
            line("timeout", step.timeoutMinutes)
        }
        return lines.joined(separator: "\n")
    }
}

extension ExpressionValue {
    /// A deterministic text of the value (object keys sorted), for hashing.
    var canonicalText: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .number(let value): value.isFinite && value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        case .string(let value): value.debugDescription
        case .array(let values): "[" + values.map(\.canonicalText).joined(separator: ",") + "]"
        case .object(let object):
            "{" + object.entries.sorted { $0.key < $1.key }.map { "\($0.key.debugDescription):\($0.value.canonicalText)" }.joined(separator: ",") + "}"
        }
    }
}

/// Lowercase hexadecimal of bytes (a digest).
func lowercaseHex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(64)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// A job cache problem, with what to do about it.
public struct CacheError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// File digests remembered by (device, inode, size, modification time), in one JSON file, so that
/// computing a key over unchanged inputs reads no file contents.
public final class FileDigestCache: @unchecked Sendable {
    private struct Entry: Codable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var digest: String
    }

    private let file: URL
    private let lock = NSLock()
    private var entries: [String: Entry]
    private var changed = false

    public init(file: URL) {
        self.file = file
        entries = (try? JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: file))) ?? [:]
    }

    /// The SHA-256 of a file, from the cache when its identity and modification time are unchanged.
    /// Files modified within the last two seconds are hashed but not remembered (their timestamp may not
    /// yet tell a later change apart).
    public func digest(of url: URL, relative: String) throws -> (digest: String, size: Int64) {
        var info = stat()
        guard stat(url.path, &info) == 0 else { throw CacheError("cannot read \(relative): \(String(cString: strerror(errno)))") }
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        let key = url.standardizedFileURL.path
        lock.lock()
        let known = entries[key]
        lock.unlock()
        if let known, known.device == UInt64(info.st_dev), known.inode == UInt64(info.st_ino), known.size == Int64(info.st_size),
            known.modified == modified
        {
            return (known.digest, known.size)
        }
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw CacheError("cannot open \(relative)") }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hash.update(data: chunk) }
        let digest = lowercaseHex(hash.finalize())
        if Date().timeIntervalSince1970 - Double(info.st_mtim.tv_sec) > 2 {
            lock.lock()
            entries[key] = Entry(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: modified, digest: digest)
            changed = true
            lock.unlock()
        }
        return (digest, Int64(info.st_size))
    }

    /// Writes the remembered digests if any changed (temporary file and rename; a lost write only costs hashing again).
    public func save() {
        lock.lock()
        defer { lock.unlock() }
        guard changed, let data = try? JSONEncoder().encode(entries) else { return }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString)")
        if FileManager.default.createFile(atPath: temporary.path, contents: data), rename(temporary.path, file.path) == 0 {
            changed = false
        } else {
            try? FileManager.default.removeItem(at: temporary)
        }
    }
}
