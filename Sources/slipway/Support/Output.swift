import ArgumentParser
import SlipwayRegistry
import SlipwayStore
import SlipwayClient
import Foundation
import SlipwayCore

/// Printing results: one JSON document with --json, readable text otherwise; errors to stderr.
enum Output {
    static func json(_ value: some Encodable) {
        let data = (try? SlipwayJSON.encoder(pretty: true).encode(value)) ?? Data("null".utf8)
        write(data + Data("\n".utf8), to: .standardOutput)
    }

    static func line(_ text: String = "") {
        write(Data((text + "\n").utf8), to: .standardOutput)
    }

    static func note(_ text: String) {
        write(Data((text + "\n").utf8), to: .standardError)
    }

    /// Writes without crashing when the reader has gone away (a closed pipe is not an error worth a crash report).
    static func write(_ data: Data, to handle: FileHandle) {
        try? handle.write(contentsOf: data)
    }

    struct ErrorDocument: Encodable {
        struct Inner: Encodable {
            var code: String
            var message: String
        }
        var error: Inner
    }

    /// Runs a command body and turns a failure into a message and a non-zero exit.
    static func run(json: Bool, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as any SlipwayError {
            fail(json: json, code: error.kind.rawValue, message: error.message)
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            fail(json: json, code: "error", message: "\(error)")
        }
    }

    static func fail(json: Bool, code: String, message: String) -> Never {
        if json { Output.json(ErrorDocument(error: .init(code: code, message: message))) }
        note("error: \(message)")
        Foundation.exit(code == ErrorKind.invalidArgument.rawValue ? 2 : 1)
    }

    /// A table with left-aligned columns.
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        line(render(header))
        for row in rows { line(render(row)) }
    }

    static func date(_ date: Date) -> String { Timestamp.format(date) }
}

/// A progress bar on stderr for long transfers (only when stderr is a terminal).
final class ProgressBar: @unchecked Sendable {
    // Progress callbacks come from the one task that drives the transfer; the lock guards the counters anyway.
    private let lock = NSLock()
    private let label: String
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let enabled: Bool

    init(label: String, enabled: Bool) {
        self.label = label
        self.enabled = enabled && isatty(STDERR_FILENO) != 0
    }

    func update(_ done: Int64, _ total: Int64) {
        guard enabled else { return }
        lock.withLock {
            let now = Date()
            guard now.timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
            lastDraw = now
            let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
            let width = 30
            let filled = Int(fraction * Double(width))
            let seconds = max(now.timeIntervalSince(start), 0.001)
            let rate = Double(done) / seconds / 1_048_576
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            let text = String(format: "\r%@ [%@] %3.0f%% %@ / %@ %.1f MB/s", label, bar, fraction * 100, Self.size(done), Self.size(total), rate)
            Output.write(Data(text.utf8), to: .standardError)
        }
    }

    func finish() {
        guard enabled else { return }
        Output.write(Data("\n".utf8), to: .standardError)
    }

    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}

/// Parses `k=v` pairs from repeated options.
func keyValues(_ pairs: [String], what: String) throws -> [String: String] {
    var result: [String: String] = [:]
    for pair in pairs {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
            throw GenericError(.invalidArgument, "\(what) '\(pair)' must be written key=value")
        }
        result[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
    }
    return result
}
