import Foundation
import SlipwayCore
import Testing

@testable import SlipwayData

#if canImport(Glibc)
import Glibc
#endif

/// A project folder (with `.slipway/`) under the temporary directory, removed by `cleanUp()`.
struct VersioningProject {
    let root: URL
    var path: String { root.path }

    init(_ label: String) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-data-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".slipway"), withIntermediateDirectories: true)
    }

    func workspace() throws -> DataWorkspace { try DataWorkspace(root: path) }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, Data(text.utf8))
    }

    @discardableResult
    func write(_ relative: String, _ data: Data) throws -> String {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: url.path) {
            chmod(url.path, 0o644)
            try FileManager.default.removeItem(at: url)
        }
        try data.write(to: url)
        return url.path
    }

    func read(_ relative: String) -> String? {
        (try? Data(contentsOf: root.appendingPathComponent(relative))).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ relative: String) -> Bool {
        var info = stat()
        return lstat(root.appendingPathComponent(relative).path, &info) == 0
    }

    /// Writes `count` small files under `folder` (file-0000.txt …).
    func writeFiles(_ folder: String, count: Int, size: Int = 64) throws {
        for index in 0..<count {
            var text = "file \(index) "
            while text.utf8.count < size { text += "\(index)" }
            try write("\(folder)/file-\(String(format: "%04d", index)).txt", text)
        }
    }

    func git(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", path, "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw VersioningFailure("git \(arguments.joined(separator: " ")) failed") }
    }

    func cleanUp() {
        // Hard-linked cache objects are read-only; make everything writable so it can be removed.
        if let items = FileManager.default.enumerator(atPath: path) {
            for case let item as String in items { chmod(path + "/" + item, 0o755) }
        }
        try? FileManager.default.removeItem(at: root)
    }
}

struct VersioningFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The built `slipway` executable, next to the test bundle.
func versioningExecutable() -> URL {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slipway")
    if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
    let candidates = [".build/debug/slipway", ".build/x86_64-unknown-linux-gnu/debug/slipway", ".build/aarch64-unknown-linux-gnu/debug/slipway"]
    for path in candidates where FileManager.default.isExecutableFile(atPath: path) { return URL(fileURLWithPath: path) }
    return beside
}

/// A `slipway` child process with its output in files.
final class VersioningChild: @unchecked Sendable {
    // Set once in init; read afterwards.
    let process = Process()
    let out: URL
    let err: URL

    init(_ arguments: [String], in folder: String, environment: [String: String] = [:]) throws {
        process.executableURL = versioningExecutable()
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        var env = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_CONFIG", "SLIPWAY_DATA_DIR", "SLIPWAY_PORT"] { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        let scratch = FileManager.default.temporaryDirectory
        out = scratch.appendingPathComponent("slipway-cli-\(UUID().uuidString.prefix(8)).out")
        err = scratch.appendingPathComponent("slipway-cli-\(UUID().uuidString.prefix(8)).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits by polling, so a test never holds one of the few threads every other test's async work runs on.
    func wait() async -> (status: Int32, stdout: String, stderr: String) {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        process.waitUntilExit()
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "", (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}

/// Runs the CLI to completion.
func slipway(_ arguments: [String], in folder: String, environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await VersioningChild(arguments, in: folder, environment: environment).wait()
}

/// The JSON object a command printed.
func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

/// A `slipway server` child on 127.0.0.1 with port 0.
final class VersioningServer: @unchecked Sendable {
    // Set once in init; read afterwards.
    let folder: URL
    let process = Process()
    let url: String
    let adminToken: String

    var artifacts: String { folder.appendingPathComponent("data/artifacts").path }

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-data-server-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let ready = folder.appendingPathComponent("ready.json")
        let stdout = folder.appendingPathComponent("server.out")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        process.executableURL = versioningExecutable()
        process.arguments = [
            "server", "--port", "0", "--gateway-port", "0", "--data-dir", folder.appendingPathComponent("data").path, "--ready-file", ready.path,
            "--log-level", "warning",
        ]
        process.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_CONFIG", "SLIPWAY_DATA_DIR", "SLIPWAY_PORT"] { env[key] = nil }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var found: String?
        while Date() < deadline, process.isRunning {
            if let data = try? Data(contentsOf: ready), let object = try? JSONSerialization.jsonObject(with: data) as? [String: String], let api = object["api"] {
                found = api
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let found else {
            process.terminate()
            throw VersioningFailure("the server did not become ready")
        }
        url = found
        let out = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
        adminToken = out.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("slw_") }.map(String.init) ?? ""
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
