import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayRollout
import SlipwayStore

struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Start rollouts (canary, blue-green, experiment, shadow, rolling), watch them, and promote, pause, resume, abort, retry or undo them.",
        subcommands: [Start.self, Status.self, List.self, History.self, Promote.self, Abort.self, Pause.self, Resume.self, Retry.self, Undo.self]
    )

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", 
            abstract: "Start a rollout from a YAML file. An invalid file prints every problem (file:line:column) and starts nothing.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .shortAndLong, help: "The rollout file (a Rollout and any AnalysisTemplates).") var file: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let text: String
                do {
                    text = try String(contentsOfFile: file, encoding: .utf8)
                } catch {
                    throw GenericError(.invalidArgument, "cannot read \(file): \(error.localizedDescription)")
                }
                // Every problem of the file, before anything is sent.
                _ = try RolloutParser().parseRollout(text, file: file)
                let client = try global.client()
                let status = try await client.startRollout(yaml: text, file: file)
                if global.json {
                    Output.json(status)
                    return
                }
                Output.line("Started rollout \(status.name) of \(status.candidate) on endpoint \(status.endpoint) (\(status.stepCount) steps).")
                if client is InProcessClient {
                    Output.note("No server runs on this data folder: the rollout is stored and progresses once `slipway server` runs.")
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", 
            abstract: "A rollout's phase, step, weights and each analysis metric's latest values and verdicts.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Flag(name: .long, help: "Print again whenever it changes, until the rollout ends.") var watch = false

        func run() async throws {
            try await Output.run(json: global.json) {
                let client = try global.client()
                var last: Int?
                while true {
                    let status = try await client.rollout(name)
                    if status.revision != last {
                        last = status.revision
                        if global.json { Output.json(status) } else { RolloutCommand.print(status) }
                    }
                    guard watch, status.phase.isRunning else { return }
                    try await Task.sleep(for: .milliseconds(500))
                    if !global.json { Output.line() }
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every rollout with its phase and step.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Output.run(json: global.json) {
                let rollouts = try await global.client().rollouts()
                if global.json {
                    Output.json(rollouts)
                    return
                }
                Output.table(
                    ["NAME", "ENDPOINT", "CANDIDATE", "PHASE", "STEP", "WEIGHT", "REASON"],
                    rollouts.map {
                        [
                            $0.name, $0.endpoint, $0.candidate, $0.phase.rawValue, "\(min($0.step, $0.stepCount))/\($0.stepCount)",
                            "\($0.candidateWeight.formatted(.number))%", $0.reason,
                        ]
                    })
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", 
            abstract: "Every transition of a rollout: when, who, what, from and to which phase and step, why.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let history = try await global.client().rolloutHistory(name)
                if global.json {
                    Output.json(history)
                    return
                }
                Output.table(
                    ["AT", "ACTOR", "ACTION", "PHASE", "STEP", "REASON"],
                    history.map {
                        [
                            Output.date($0.at), $0.actor, $0.action, ($0.fromPhase.map { "\($0.rawValue) -> " } ?? "") + $0.toPhase.rawValue,
                            ($0.fromStep.map { "\($0) -> " } ?? "") + "\($0.step)", $0.reason,
                        ]
                    })
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "promote", 
            abstract: "Skip the current pause, gate or analysis (the approver role); --full sends all traffic to the candidate at once.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Flag(name: .long, help: "Promote to 100% now and finish the rollout.") var full = false

        func run() async throws { try await RolloutCommand.command(global, name, .promote, full: full) }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "abort", abstract: "Stop a rollout: the candidate's weight goes to 0 at once.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(name: .long, help: "Why, for the history.") var reason: String?

        func run() async throws { try await RolloutCommand.command(global, name, .abort, reason: reason) }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pause", abstract: "Hold a progressing rollout at its step until it is resumed.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws { try await RolloutCommand.command(global, name, .pause) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused rollout (past a gate: the approver role).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws { try await RolloutCommand.command(global, name, .resume) }
    }

    struct Undo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "undo", 
            abstract: "Undo a completed rollout: traffic back on the earlier stable variant and the production alias back (the approver role).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(help: "Why, for the rollout's history and the audit log.") var reason: String?

        func run() async throws { try await RolloutCommand.command(global, name, .undo, reason: reason) }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retry", abstract: "Start a degraded rollout again from its first step.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws { try await RolloutCommand.command(global, name, .retry) }
    }

    static func command(_ global: GlobalOptions, _ name: String, _ action: RolloutAction, reason: String? = nil, full: Bool = false) async throws {
        try await Output.run(json: global.json) {
            let status = try await global.client().rolloutCommand(name, action, reason: reason, full: full)
            if global.json { Output.json(status) } else { print(status) }
        }
    }

    static func print(_ status: RolloutStatus) {
        Output.line("Rollout:   \(status.name) (\(status.strategy)) on endpoint \(status.endpoint)")
        Output.line("Candidate: \(status.candidate) as variant \(status.candidateVariant), stable variant \(status.stableVariant)")
        Output.line("Phase:     \(status.phase.rawValue)" + (status.reason.isEmpty ? "" : " — \(status.reason)"))
        let step = status.currentStep.map { "step \(status.step + 1) of \(status.stepCount): \($0)" } ?? "all \(status.stepCount) steps done"
        if status.strategy == "canary" {
            Output.line("Step:      \(step)" + (status.pauseUntil.map { " (until \(Output.date($0)))" } ?? ""))
        }
        let weights = status.weights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.formatted(.number))%" }.joined(separator: " ")
        Output.line("Weights:   \(weights.isEmpty ? "-" : weights)")
        for line in status.blueGreenLines() + status.experimentLines() + status.shadowLines() + status.rollingLines() { Output.line(line) }
        if let background = status.backgroundAnalysis {
            Output.line("Background analysis: \(background.phase.rawValue)" + (background.message.map { " — \($0)" } ?? ""))
            printMetrics(background)
        }
        guard let analysis = status.analysis else { return }
        Output.line("Analysis:  \(analysis.phase.rawValue)\(analysis.current ? "" : " (last step)")" + (analysis.message.map { " — \($0)" } ?? ""))
        printMetrics(analysis)
    }

    static func printMetrics(_ analysis: AnalysisStatus) {
        Output.table(
            ["  METRIC", "PHASE", "OK", "FAILED", "INCONCLUSIVE", "ERRORS", "LATEST"],
            analysis.metrics.map { metric in
                let latest = metric.latest.suffix(3).map { m in
                    (m.value.map { "\($0)" } ?? m.message ?? "-") + " (\(m.phase.rawValue))"
                }.joined(separator: ", ")
                return [
                    "  " + metric.name, metric.phase.rawValue, "\(metric.successful)", "\(metric.failed)", "\(metric.inconclusive)",
                    "\(metric.error)", latest,
                ]
            })
    }
}
