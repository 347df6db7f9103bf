import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayPipeline
import SlipwayServer
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `slipway run`: runs a workflow locally.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow from .slipway/workflows or .github/workflows.",
        discussion: """
            Without WORKFLOW, every workflow whose on: matches the event runs (one after the other); the push event is \
            built from git: the current branch, and the paths changed by the last commit plus uncommitted and untracked \
            changes. WORKFLOW is a file name, a path or a workflow's name:. Secrets: --secret NAME takes the value of \
            the environment variable NAME, and every SLIPWAY_SECRET_<NAME> variable becomes secrets.<NAME>. SIGINT or \
            SIGTERM cancels the run. The exit status is 0 only when the run succeeded. See docs/pipelines.md.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The workflow: a file name, a path or its name:.") var workflow: String?
    @Option(name: .long, help: "The event: push or workflow_dispatch.") var event: String = "push"
    @Option(name: .long, help: "A workflow_dispatch input, name=value (repeatable).") var input: [String] = []
    @OptionGroup var options: RunOptions

    func run() async throws {
        try await Output.run(json: global.json) {
            guard ["push", "workflow_dispatch"].contains(event) else {
                throw GenericError(.invalidArgument, "--event must be push or workflow_dispatch, not '\(event)'")
            }
            var inputs: [String: String] = [:]
            for pair in input {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw GenericError(.invalidArgument, "--input '\(pair)' must be name=value")
                }
                inputs[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            let setup = try RunSetup(global: global, options: options)
            let project = setup.project
            let catalog = WorkflowCatalog.load(project: project)
            var selected: [Workflow] = []
            if let workflow {
                guard let entry = catalog.find(workflow, project: project) else {
                    let known = catalog.entries.map(\.file)
                    throw GenericError(
                        .notFound,
                        "no workflow '\(workflow)' in .slipway/workflows or .github/workflows"
                            + (known.isEmpty ? "" : " (found: \(known.joined(separator: ", ")))"))
                }
                if let errors = entry.errors { throw GenericError(.invalidArgument, errors.description) }
                if let parsed = entry.workflow { selected = [parsed] }
            } else {
                let broken = catalog.entries.compactMap(\.errors)
                if !broken.isEmpty { throw GenericError(.invalidArgument, broken.map(\.description).joined(separator: "\n")) }
                let git = GitInfo.read(at: project)
                let trigger = TriggerEvent(name: event, branch: git.branch, tag: git.tag, changedPaths: git.changedPaths)
                selected = catalog.entries.compactMap(\.workflow).filter { $0.triggers.matches(trigger) }
                if selected.isEmpty {
                    Output.note(
                        catalog.entries.isEmpty
                            ? "no workflows in .slipway/workflows or .github/workflows"
                            : "no workflow runs on \(event)\(git.branch.map { " to \($0)" } ?? "") with these changes")
                    if global.json { Output.json(MultipleRuns(conclusion: .skipped, runs: [])) }
                    return
                }
            }
            let launcher = try setup.launcher()
            var summaries: [RunSummary] = []
            for workflow in selected {
                if launcher.cancelled { break }
                summaries.append(RunSummary(try await launcher.run(workflow, event: event, inputs: inputs)))
            }
            launcher.stop()
            let conclusion: Conclusion =
                summaries.contains { $0.conclusion == .cancelled }
                ? .cancelled
                : summaries.contains { $0.conclusion == .failure }
                    ? .failure
                    : summaries.allSatisfy { $0.conclusion == .skipped } ? .skipped : .success
            if global.json {
                if summaries.count == 1 { Output.json(summaries[0]) } else { Output.json(MultipleRuns(conclusion: conclusion, runs: summaries)) }
            }
            if conclusion != .success { throw ExitCode(1) }
        }
    }

    /// This program's own executable (for steps and actions that run `slipway`).
    static func executable() -> URL { RunSetup.executable() }

    /// `--json` when several workflows ran.
    struct MultipleRuns: Encodable {
        var conclusion: Conclusion
        var runs: [RunSummary]
    }
}

/// Turns SIGINT and SIGTERM into a cancellation of the current run.
final class SignalCancellation: @unchecked Sendable {
    // `sources` is set once in init and only cancelled afterwards; the rest is behind the mutex.
    private let state = Mutex<(execution: WorkflowExecution?, cancelled: Bool)>((nil, false))
    private let sources: [any DispatchSourceSignal]

    init() {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for source in sources {
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let execution = self.state.withLock { state -> WorkflowExecution? in
                    state.cancelled = true
                    return state.execution
                }
                FileHandle.standardError.write(Data("Cancelling the run…\n".utf8))
                execution?.cancel()
            }
            source.resume()
        }
    }

    var current: WorkflowExecution? {
        get { state.withLock { $0.execution } }
        set {
            let cancelled = state.withLock { state -> Bool in
                state.execution = newValue
                return state.cancelled
            }
            if cancelled { newValue?.cancel() }
        }
    }

    var cancelled: Bool { state.withLock { $0.cancelled } }

    func stop() {
        for source in sources { source.cancel() }
    }
}
