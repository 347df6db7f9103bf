import AsyncHTTPClient
import Foundation
import Testing
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// The built `slipway` executable, next to the test bundle.
func slipwayExecutable() -> URL {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slipway")
    if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
    let candidates = [".build/debug/slipway", ".build/x86_64-unknown-linux-gnu/debug/slipway", ".build/aarch64-unknown-linux-gnu/debug/slipway"]
    for path in candidates where FileManager.default.isExecutableFile(atPath: path) { return URL(fileURLWithPath: path) }
    return beside
}

/// A fresh folder under the system temporary directory.
func makeScratchFolder(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-\(label)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A `slipway server` running as a real child process on 127.0.0.1 with port 0.
final class ServerProcess: @unchecked Sendable {
    // Fields are set once in init and only read afterwards.
    let folder: URL
    let dataDir: URL
    let process: Process
    let url: String
    let adminToken: String
    let stdoutFile: URL
    let stderrFile: URL

    /// Starts a server and waits (with a deadline) for its ready file.
    init(label: String, environment: [String: String] = [:], folder: URL? = nil) async throws {
        self.folder = try folder ?? makeScratchFolder(label)
        dataDir = self.folder.appendingPathComponent("data")
        let ready = self.folder.appendingPathComponent("ready-\(UUID().uuidString.prefix(6)).json")
        stdoutFile = self.folder.appendingPathComponent("server.out")
        stderrFile = self.folder.appendingPathComponent("server.err")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process = Process()
        process.executableURL = slipwayExecutable()
        process.arguments = ["server", "--port", "0", "--gateway-port", "0", "--data-dir", dataDir.path, "--ready-file", ready.path, "--log-level", "warning"]
        process.currentDirectoryURL = self.folder
        var env = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_CONFIG", "SLIPWAY_DATA_DIR", "SLIPWAY_PORT"] { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
        // A server starts in about a second; the suite runs hundreds of tests beside it, which can starve a start for
        // tens of seconds, and a server that exits ends the wait at once.
        let deadline = Date().addingTimeInterval(90)
        var found: String?
        while Date() < deadline, process.isRunning {
            if let data = try? Data(contentsOf: ready), let object = try? JSONSerialization.jsonObject(with: data) as? [String: String],
                let api = object["api"]
            {
                found = api
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let found else {
            process.terminate()
            let err = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
            throw TestFailure("the server did not become ready: \(err)")
        }
        url = found
        let out = (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? ""
        adminToken = out.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("slw_") }.map(String.init) ?? ""
    }

    /// Sends SIGTERM and waits for the process to exit; returns its status.
    @discardableResult
    func stop() async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stops the process if a failed expectation left it running, and removes its folder.
    func cleanUp() {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: folder)
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// One HTTP exchange with this server.
    func call(
        _ method: HTTPMethod, _ path: String, token: String? = nil, json: String? = nil, body: ByteBuffer? = nil,
        headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let body {
            request.body = .bytes(body)
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let buffer = try await response.body.collect(upTo: 512 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: buffer))
    }
}

struct Reply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    /// `error.code` of a native error answer.
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A `slipway` child process with its output captured in files of the folder it runs in.
struct CLIChild {
    let process = Process()
    let out: URL
    let err: URL
    private var scratch: [URL]

    init(_ arguments: [String], in folder: URL, environment: [String: String], stdin: Data?) throws {
        process.executableURL = slipwayExecutable()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_CONFIG", "SLIPWAY_DATA_DIR", "SLIPWAY_PORT"] { env[key] = nil }
        env.merge(environment) { $1 }
        process.environment = env
        out = folder.appendingPathComponent(".cli-\(UUID().uuidString.prefix(8)).out")
        err = folder.appendingPathComponent(".cli-\(UUID().uuidString.prefix(8)).err")
        scratch = [out, err]
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        if let stdin {
            let input = folder.appendingPathComponent(".cli-\(UUID().uuidString.prefix(8)).in")
            scratch.append(input)
            try stdin.write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
    }

    /// The exit status and output of the finished process; the capture files are removed.
    func result() -> (status: Int32, stdout: String, stderr: String) {
        process.waitUntilExit()
        defer { for url in scratch { try? FileManager.default.removeItem(at: url) } }
        return (
            process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "", (try? String(contentsOf: err, encoding: .utf8)) ?? ""
        )
    }
}

/// Runs the CLI as a child process and returns its exit status, stdout and stderr. It waits by polling, so a
/// test never holds one of the few threads that every other test's async work runs on while a child runs.
func runCLI(_ arguments: [String], in folder: URL, environment: [String: String] = [:], stdin: Data? = nil) async throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let child = try CLIChild(arguments, in: folder, environment: environment, stdin: stdin)
    try child.process.run()
    while child.process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
    return child.result()
}

/// A long-running `slipway` child process (a runner, or a run followed while it runs), its output in files.
final class BackgroundCLI: @unchecked Sendable {
    // Set once in init, read afterwards.
    private let child: CLIChild
    var process: Process { child.process }

    init(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws {
        child = try CLIChild(arguments, in: folder, environment: environment, stdin: nil)
        try child.process.run()
    }

    var stdout: String { (try? String(contentsOf: child.out, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: child.err, encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds, the process exits, or `seconds` pass; returns whether it holds.
    func wait(seconds: Double = 90, until condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// Waits for the process to exit on its own; nil if it is still running after `seconds`.
    func exit(within seconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func signal(_ number: Int32) { if process.isRunning { kill(process.processIdentifier, number) } }

    /// Ends it (SIGTERM, then SIGKILL).
    func stop() async {
        signal(SIGTERM)
        if await exit(within: 15) == nil {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

/// A scratch project with the given workflow files under `.github/workflows`.
func makeWorkflowProject(_ label: String, _ workflows: [String: String]) throws -> URL {
    let folder = try makeScratchFolder(label)
    let directory = folder.appendingPathComponent(".github/workflows")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, text) in workflows { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
    return folder
}

/// A command's `--json` output as an object (a test failure when it is not one).
func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
}
