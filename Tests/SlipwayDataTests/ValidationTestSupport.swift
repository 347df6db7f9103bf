import Foundation
import Testing

@testable import SlipwayData

/// A fresh folder under the system temporary directory.
func validationScratch(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-validation-\(label)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `text` to `name` in `folder` and returns its URL.
@discardableResult
func writeValidationFile(_ folder: URL, _ name: String, _ text: String) throws -> URL {
    try writeValidationFile(folder, name, Data(text.utf8))
}

/// Writes `bytes` to `name` in `folder` and returns its URL.
@discardableResult
func writeValidationFile(_ folder: URL, _ name: String, _ bytes: Data) throws -> URL {
    let url = folder.appendingPathComponent(name)
    try bytes.write(to: url)
    return url
}

/// Every record of a CSV file, as `fields` or `malformed` with the line number.
func readValidationCSV(_ url: URL, maxRecordBytes: Int = 16 << 20, chunkSize: Int = 1 << 20) throws -> (header: [String], records: [CSVRecord]) {
    var reader = try CSVReader(url: url, maxRecordBytes: maxRecordBytes, chunkSize: chunkSize)
    var records: [CSVRecord] = []
    while let record = try reader.next() { records.append(record) }
    return (reader.header, records)
}

/// The repository root (two levels above this file's folder).
func validationRepositoryRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The built `slipway` executable, next to the test bundle.
func validationExecutable() -> URL {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slipway")
    if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
    let candidates = [".build/debug/slipway", ".build/x86_64-unknown-linux-gnu/debug/slipway", ".build/aarch64-unknown-linux-gnu/debug/slipway"]
    for path in candidates where FileManager.default.isExecutableFile(atPath: path) { return URL(fileURLWithPath: path) }
    return beside
}

/// The outcome of a child process.
struct ValidationChildResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `executable` with `arguments` to completion, collecting its output through files (no pipe can fill up).
func runValidationChild(_ executable: URL, _ arguments: [String], in folder: URL) async throws -> ValidationChildResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = folder
    let id = UUID().uuidString.prefix(8)
    let out = folder.appendingPathComponent("stdout-\(id)")
    let err = folder.appendingPathComponent("stderr-\(id)")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let outHandle = try FileHandle(forWritingTo: out)
    let errHandle = try FileHandle(forWritingTo: err)
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Polling keeps the shared threads free for the other tests while a long child runs.
    while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
    process.waitUntilExit()
    try outHandle.close()
    try errHandle.close()
    return ValidationChildResult(
        status: process.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// Runs `slipway ARGS…` as a child process.
func runValidationCLI(_ arguments: [String], in folder: URL) async throws -> ValidationChildResult {
    try await runValidationChild(validationExecutable(), arguments, in: folder)
}
