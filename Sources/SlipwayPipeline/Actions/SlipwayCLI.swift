public import Foundation
import SlipwayCore

/// Runs Slipway's own command-line program as a child process for the ML actions.
///
/// The child runs in the job's workspace with the step's environment unchanged (so `SLIPWAY_SERVER`, `SLIPWAY_TOKEN`
/// and `SLIPWAY_DATA_DIR` select the server or data folder as they would in a `run:` step). Its standard error goes to
/// the step's log line by line; its standard output (one JSON document with `--json`) is returned.
///
/// Only `SLIPWAY_DATA_DIR` may be added: when the step does not set it, the child gets the run's data folder, so an ML
/// step in a checked-out workspace uses the same registry as `slipway run` (a relative value is taken from the project).
public struct SlipwayCLI: Sendable {
    /// The `slipway` executable.
    public let executable: URL
    /// The data folder of the run, or nil for `.slipway` in the project.
    public let dataDir: URL?

    /// A runner of `executable`.
    public init(executable: URL, dataDir: URL? = nil) {
        self.executable = executable
        self.dataDir = dataDir
    }

    /// The child's environment: the step's, with `SLIPWAY_DATA_DIR` made absolute.
    func environment(for invocation: ActionInvocation) -> [String: String] {
        var environment = invocation.environment
        environment["SLIPWAY_DATA_DIR"] = ArtifactLocations.dataDir(dataDir, invocation, preferEnvironment: true).standardizedFileURL.path
        return environment
    }

    /// What a finished child printed.
    public struct Outcome: Sendable {
        /// The exit status.
        public var status: Int32
        /// Everything printed on standard output.
        public var stdout: Data
        /// The last line printed on standard error.
        public var lastErrorLine: String?

        /// Standard output parsed as a JSON object, or nil.
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: stdout, options: [.fragmentsAllowed])) as? [String: Any]
        }

        /// The message of a `{"error": {"code", "message"}}` document, else the last `error:` line on standard error.
        public var errorMessage: String {
            if let error = json?["error"] as? [String: Any], let message = error["message"] as? String { return message }
            if let line = lastErrorLine {
                return line.hasPrefix("error: ") ? String(line.dropFirst(7)) : line
            }
            return "exit status \(status)"
        }

        /// The `error.code` of a JSON error document (`not_found`, `already_exists`, …).
        public var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
    }

    /// Runs `slipway ARGUMENTS` and waits for it; cancelling the task terminates the child.
    /// - Throws: only when the child cannot be started.
    public func run(_ arguments: [String], invocation: ActionInvocation, action: String) async throws(ActionError) -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw ActionError("\(action): the slipway program \(executable.path) is missing or not executable")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = invocation.workspace
        process.environment = environment(for: invocation)
        process.standardInput = FileHandle.nullDevice
        // Standard output goes to a file: it is complete when the child exits, whoever else holds a copy of it.
        let outputFile = invocation.temp.appendingPathComponent("slipway-\(UUID().uuidString.lowercased()).out")
        let output: FileHandle
        do {
            try FileManager.default.createDirectory(at: invocation.temp, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: outputFile.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
            output = try FileHandle(forWritingTo: outputFile)
        } catch {
            throw ActionError("\(action): cannot create \(outputFile.path) for the program's output: \(error.localizedDescription)")
        }
        defer {
            try? output.close()
            try? FileManager.default.removeItem(at: outputFile)
        }
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let collector = OutputCollector(log: invocation.log)
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                collector.closed()
            } else {
                collector.appendError(data)
            }
        }
        invocation.log("slipway " + arguments.map(Self.quoted).joined(separator: " "))
        let status: Int32
        do {
            status = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                    process.terminationHandler = { child in continuation.resume(returning: child.terminationStatus) }
                    do { try process.run() } catch {
                        process.terminationHandler = nil
                        continuation.resume(throwing: error)
                    }
                }
            } onCancel: {
                if process.isRunning { process.terminate() }
            }
        } catch {
            errors.fileHandleForReading.readabilityHandler = nil
            throw ActionError("\(action): cannot start \(executable.path): \(error.localizedDescription)")
        }
        // Wait for standard error to reach its end. Another process may hold a copy of the pipe open (one started at
        // the same moment can inherit it), so once the child has exited, a quiet half second is the end too.
        collector.touch()
        let deadline = Date().addingTimeInterval(5)
        while !collector.closedError, Date() < deadline, Date().timeIntervalSince(collector.lastActivity) < 0.5 {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        errors.fileHandleForReading.readabilityHandler = nil
        collector.flush()
        if Task.isCancelled { throw ActionError("\(action): cancelled") }
        let stdout = (try? Data(contentsOf: outputFile)) ?? Data()
        return Outcome(status: status, stdout: stdout, lastErrorLine: collector.lastErrorLine)
    }

    /// Runs `slipway ARGUMENTS` and returns its JSON document.
    /// - Throws: the child's own error message when it exits non-zero or prints no JSON object.
    public func json(_ arguments: [String], invocation: ActionInvocation, action: String) async throws(ActionError) -> [String: Any] {
        let outcome = try await run(arguments, invocation: invocation, action: action)
        guard outcome.status == 0 else { throw ActionError("\(action): \(outcome.errorMessage)") }
        guard let json = outcome.json else {
            throw ActionError("\(action): slipway \(arguments.first ?? "") printed no JSON document")
        }
        return json
    }

    static func quoted(_ argument: String) -> String {
        let plain = argument.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "-_./=@:,+%".unicodeScalars.contains($0)
        }
        return plain && !argument.isEmpty ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Collects a child's standard error from the pipe's reading thread, line by line.
private final class OutputCollector: @unchecked Sendable {
    // Every field is guarded by `lock`.
    private let lock = NSLock()
    private var pending = Data()
    private var last: String?
    private var errorClosed = false
    private var activity = Date()
    private let log: @Sendable (String) -> Void

    init(log: @escaping @Sendable (String) -> Void) { self.log = log }

    var lastErrorLine: String? { lock.withLock { last } }
    var closedError: Bool { lock.withLock { errorClosed } }
    /// When data last arrived, or `touch()` was last called.
    var lastActivity: Date { lock.withLock { activity } }

    /// Counts as activity (the child's exit starts the quiet period).
    func touch() { lock.withLock { activity = Date() } }

    func closed() { lock.withLock { errorClosed = true } }

    func appendError(_ data: Data) {
        guard !data.isEmpty else { return }
        let lines: [String] = lock.withLock {
            activity = Date()
            pending.append(data)
            var lines: [String] = []
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending = Data(pending[pending.index(after: newline)...])
            }
            return lines
        }
        emit(lines)
    }

    func flush() {
        let rest: String? = lock.withLock {
            defer { pending = Data() }
            return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
        }
        if let rest { emit([rest]) }
    }

    private func emit(_ lines: [String]) {
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            lock.withLock { last = trimmed }
            log(line)
        }
    }
}
