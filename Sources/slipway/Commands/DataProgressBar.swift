import Foundation
import SlipwayData
import Synchronization

/// Progress of a data command on stderr: a live line with files/s and MB/s when stderr is a
/// terminal, and one summary line at the end (never with --json).
final class DataProgressBar: Sendable {
    private struct State {
        var last = DataProgress(phase: "")
        var lastDraw = Date.distantPast
        var drawn = false
        var files = 0
        var bytes: Int64 = 0
        var phaseStart = Date()
    }

    private let live: Bool
    private let quiet: Bool
    private let start = Date()
    private let state = Mutex(State())

    init(json: Bool) {
        quiet = json
        live = !json && isatty(STDERR_FILENO) != 0
    }

    /// The handler to give to the workspace.
    var handler: DataProgressHandler? {
        guard !quiet else { return nil }
        return { [self] progress in self.update(progress) }
    }

    private func update(_ progress: DataProgress) {
        let text: String? = state.withLock { state in
            if progress.phase != state.last.phase || progress.files < state.last.files {
                // A new phase (hashing, then caching) goes over the same files: the summary reports the largest.
                state.files = max(state.files, state.last.files)
                state.bytes = max(state.bytes, state.last.bytes)
                state.phaseStart = Date()
            }
            state.last = progress
            guard live else { return nil }
            let now = Date()
            guard now.timeIntervalSince(state.lastDraw) > 0.1 || progress.files == progress.totalFiles else { return nil }
            state.lastDraw = now
            state.drawn = true
            let seconds = max(now.timeIntervalSince(state.phaseStart), 0.001)
            let fraction = progress.totalBytes > 0 ? Double(progress.bytes) / Double(progress.totalBytes) : (progress.totalFiles > 0 ? Double(progress.files) / Double(progress.totalFiles) : 1)
            let width = 24
            let filled = max(0, min(width, Int(fraction * Double(width))))
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            return String(
                format: "\r%@ [%@] %d/%d files %@ %.0f files/s %.1f MB/s\u{1B}[K", progress.phase, bar, progress.files, progress.totalFiles,
                ProgressBar.size(progress.bytes), Double(progress.files) / seconds,
                Double(progress.bytes) / seconds / 1_000_000)
        }
        if let text { Output.write(Data(text.utf8), to: .standardError) }
    }

    /// Ends the live line and prints the summary line (not with --json).
    func finish(_ summary: String) {
        guard !quiet else { return }
        let (files, bytes, drawn) = state.withLock { state in (max(state.files, state.last.files), max(state.bytes, state.last.bytes), state.drawn) }
        let seconds = max(Date().timeIntervalSince(start), 0.001)
        if drawn { Output.write(Data("\r\u{1B}[K".utf8), to: .standardError) }
        var line = summary
        if files > 0 {
            line += String(format: " (%d files, %@ in %.2f s: %.0f files/s, %.1f MB/s)", files, ProgressBar.size(bytes), seconds,
                Double(files) / seconds, Double(bytes) / seconds / 1_000_000)
        }
        Output.note(line)
    }
}
