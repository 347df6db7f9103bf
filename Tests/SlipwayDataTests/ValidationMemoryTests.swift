import Foundation
import Testing

@testable import SlipwayData

/// A file larger than any buffer validates in bounded memory.
@Suite struct ValidationMemoryTests {
    /// Peak resident memory of a `slipway` child in KiB, from `/usr/bin/time -v`, else from polling `/proc/PID/status`.
    func peakResidentKiB(_ arguments: [String], in folder: URL) async throws -> (ValidationChildResult, Int) {
        let time = URL(fileURLWithPath: "/usr/bin/time")
        if FileManager.default.isExecutableFile(atPath: time.path) {
            let result = try await runValidationChild(time, ["-v", validationExecutable().path] + arguments, in: folder)
            let line = result.stderr.split(separator: "\n").first { $0.contains("Maximum resident set size") }
            let value = line.flatMap { $0.split(separator: ":").last }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return (result, try #require(value, "no peak memory in: \(result.stderr.suffix(2000))"))
        }
        let process = Process()
        process.executableURL = validationExecutable()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var peak = 0
        while process.isRunning {
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
            {
                peak = max(peak, kib)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (ValidationChildResult(status: process.terminationStatus, stdout: "", stderr: ""), peak)
    }

    @Test(.timeLimit(.minutes(3))) func aThreeHundredMegabyteFileValidatesInBoundedMemory() async throws {
        let folder = try validationScratch("memory")
        defer { try? FileManager.default.removeItem(at: folder) }
        let schema = try writeValidationFile(
            folder, "s.json",
            """
            {"columns": [
              {"name": "id", "type": "integer", "unique": true, "drift": "none"},
              {"name": "x", "type": "number"},
              {"name": "category", "type": "string", "categories": ["a", "b", "c"]},
              {"name": "note", "type": "string", "allowConstant": true}
            ]}
            """)
        let big = folder.appendingPathComponent("big.csv")
        _ = FileManager.default.createFile(atPath: big.path, contents: nil)
        let handle = try FileHandle(forWritingTo: big)
        let note = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"
        var chunk = "id,x,category,note\n"
        var written = 0
        var row = 0
        var state: UInt64 = 42
        var reference = ""
        while written < 300_000_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let x = Int(state >> 44) - 524_288
            // Every hundredth note is quoted, so both the plain and the quoted-field paths of the reader run.
            let text = row % 100 == 0 ? "\"\(note), \"\"quoted\"\"\"" : note
            chunk += "\(row),\(x / 1000).\(abs(x % 1000)),\(["a", "b", "c"][row % 3]),\(text)\n"
            row += 1
            if row == 2000 { reference = chunk }
            if chunk.utf8.count >= 1 << 20 {
                try handle.write(contentsOf: Data(chunk.utf8))
                written += chunk.utf8.count
                chunk = ""
            }
        }
        try handle.write(contentsOf: Data(chunk.utf8))
        try handle.close()
        let small = try writeValidationFile(folder, "small.csv", reference)

        let (baseline, baselinePeak) = try await peakResidentKiB(["data", "validate", "--schema", schema.path, "--data", small.path], in: folder)
        #expect(baseline.status == 0, "\(baseline.stderr.suffix(3000))")
        let output = folder.appendingPathComponent("report.json")
        let (result, peak) = try await peakResidentKiB(
            ["data", "validate", "--schema", schema.path, "--data", big.path, "--reference", small.path, "--output", output.path], in: folder)
        #expect(result.status == 0, "\(result.stderr.suffix(3000))")
        let report = try JSONDecoder().decode(ValidationReport.self, from: Data(contentsOf: output))
        #expect(report.rows == row)
        #expect(report.checks.first { $0.check == "unique" }?.value == 0)
        #expect(report.checks.first { $0.check == "duplicate_rows" }?.value == 0)
        // The file is 300 MB; the run may grow by buffers and samples, never by the file's size.
        let growth = peak - baselinePeak
        #expect(growth < 160 * 1024, "peak \(peak) KiB against a baseline of \(baselinePeak) KiB")
    }
}
