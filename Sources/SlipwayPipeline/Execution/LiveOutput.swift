public import Foundation
import Synchronization

/// What a run shows while it runs: each job's steps and their output with `job / step` prefixes, groups, waiting
/// reasons and timings. Colours only when the output is a terminal.
public final class LiveOutput: Sendable {
    private let handle: FileHandle?
    private let sink: (@Sendable (String) -> Void)?
    private let colors: Bool
    /// Whether `::debug::` lines are shown.
    public let verbose: Bool
    private let lock = Mutex<Void>(())

    /// Output to `handle` (nil: nothing is shown).
    public init(handle: FileHandle?, verbose: Bool = false, colors: Bool? = nil) {
        self.handle = handle
        self.sink = nil
        self.verbose = verbose
        if let colors {
            self.colors = colors
        } else if let handle {
            self.colors = isatty(handle.fileDescriptor) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        } else {
            self.colors = false
        }
    }

    /// Every line, without colours, to `sink` (a remote runner streams them to the run).
    public init(verbose: Bool = false, sink: @escaping @Sendable (String) -> Void) {
        self.handle = nil
        self.sink = sink
        self.verbose = verbose
        self.colors = false
    }

    /// Nothing shown.
    public static let silent = LiveOutput(handle: nil)

    enum Style: String {
        case dim = "2"
        case bold = "1"
        case red = "31"
        case green = "32"
        case yellow = "33"
        case blue = "34"
        case cyan = "36"
    }

    func paint(_ text: String, _ style: Style) -> String { colors ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text }

    /// One line of a step's output.
    func output(job: String, step: String, line: String, indent: Bool) {
        write("\(paint("\(job) / \(step)", .dim)) | \(indent ? "  " : "")\(line)")
    }

    /// A note about a job (`job | text`).
    func job(_ job: String, _ text: String, style: Style? = nil) {
        write("\(paint(job, .bold)) | \(style.map { paint(text, $0) } ?? text)")
    }

    /// A run-level note, or a line a remote runner streamed.
    func note(_ text: String) { write(text) }

    /// The conclusion word in its colour.
    func conclusion(_ conclusion: Conclusion) -> String {
        switch conclusion {
        case .success: paint("success", .green)
        case .failure: paint("failure", .red)
        case .cancelled: paint("cancelled", .yellow)
        case .skipped: paint("skipped", .dim)
        }
    }

    private func write(_ text: String) {
        if let sink {
            lock.withLock { _ in sink(text) }
            return
        }
        guard let handle else { return }
        lock.withLock { _ in try? handle.write(contentsOf: Data((text + "\n").utf8)) }
    }

    /// `1.2s` / `2m03s`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds.rounded())
        return String(format: "%dm%02ds", whole / 60, whole % 60)
    }
}
