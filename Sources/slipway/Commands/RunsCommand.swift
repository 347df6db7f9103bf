import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayPipeline
import SlipwayServer

/// `slipway runs …`: the history of workflow runs in the data folder.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List workflow runs, show one, and print its logs.",
        discussion: "Runs are recorded under the data folder (.slipway/runs/<id>): the run record and each step's log, masked.",
        subcommands: [List.self, Show.self, Logs.self]
    )

    static func store(_ global: GlobalOptions) throws -> FileRunStore {
        var dataDir = try global.configuration().dataDir
        if !dataDir.path.hasPrefix("/") {
            dataDir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(dataDir.path)
        }
        return FileRunStore(dataDir: dataDir)
    }

    static func load(_ store: FileRunStore, _ id: String) throws -> RunRecord {
        do { return try store.load(id) } catch let error as RunStoreError { throw GenericError(.notFound, error.message) }
    }

    static func duration(_ record: RunRecord) -> String {
        guard let end = record.finishedAt else { return "-" }
        let seconds = end.timeIntervalSince(record.startedAt)
        return seconds < 60 ? String(format: "%.1fs", seconds) : String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List runs, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "At most this many.") var limit: Int = 50

        func run() async throws {
            try await Output.run(json: global.json) {
                guard limit >= 1 else { throw GenericError(.invalidArgument, "--limit must be at least 1") }
                let runs = Array(try RunsCommand.store(global).list().prefix(limit))
                if global.json {
                    Output.json(["runs": runs])
                    return
                }
                if runs.isEmpty {
                    Output.line("no runs yet: `slipway run` starts one")
                    return
                }
                Output.table(
                    ["ID", "WORKFLOW", "EVENT", "STATE", "CONCLUSION", "STARTED", "DURATION"],
                    runs.map { run in
                        [
                            run.id, run.workflowName, run.event, run.state.rawValue, run.conclusion?.rawValue ?? "-", Output.date(run.startedAt),
                            RunsCommand.duration(run),
                        ]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a run: its jobs, steps, outputs and annotations.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run id.") var run: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let record = try RunsCommand.load(RunsCommand.store(global), run)
                if global.json {
                    Output.json(record)
                    return
                }
                Output.line("Run \(record.id): \(record.workflowName) (\(record.workflow))")
                Output.line(
                    "  event \(record.event), \(record.state.rawValue), \(record.conclusion?.rawValue ?? "-"), \(RunsCommand.duration(record))")
                if !record.sha.isEmpty { Output.line("  commit \(record.sha) \(record.ref)") }
                if !record.inputs.isEmpty {
                    Output.line("  inputs " + record.inputs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
                }
                if let error = record.error { Output.line("  error: \(error)") }
                for job in record.jobs {
                    var line = "\(job.key): \(job.conclusion?.rawValue ?? job.state.rawValue)"
                    if job.cached { line += " (cached)" }
                    if let environment = job.environment { line += " [environment \(environment)]" }
                    if let reason = job.waitingReason, job.state == .waiting { line += " — \(reason)" }
                    Output.line(line)
                    if let error = job.error { Output.line("    error: \(error)") }
                    for step in job.steps {
                        var text = "    \(step.number). \(step.name): \(step.conclusion?.rawValue ?? "-")"
                        if let outcome = step.outcome, outcome != step.conclusion { text += " (outcome \(outcome.rawValue))" }
                        Output.line(text)
                        if let error = step.error { Output.line("       \(error)") }
                    }
                    for (name, value) in job.outputs.sorted(by: { $0.key < $1.key }) { Output.line("    output \(name)=\(value)") }
                }
                for annotation in record.annotations {
                    Output.line("\(annotation.level): \(annotation.job.map { "\($0): " } ?? "")\(annotation.message)")
                }
            }
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a run's step logs (masked).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run id.") var run: String
        @Option(name: .long, help: "Only this job (its id, or a matrix leg's name).") var job: String?
        @Flag(name: .long, help: "Keep printing new output until the run ends.") var follow = false

        func run() async throws {
            try await Output.run(json: global.json) {
                let store = try RunsCommand.store(global)
                var record = try RunsCommand.load(store, run)
                if let job, !record.jobs.contains(where: { $0.key == job || $0.jobId == job }) {
                    throw GenericError(.notFound, "run \(run) has no job '\(job)' (jobs: \(record.jobs.map(\.key).joined(separator: ", ")))")
                }
                var printed: [String: Int] = [:]
                var headers = Set<String>()
                var documents: [[String: String]] = []
                while true {
                    for jobRecord in record.jobs where job == nil || jobRecord.key == job || jobRecord.jobId == job {
                        for step in jobRecord.steps {
                            guard let path = step.log else { continue }
                            let text = (try? store.log(run: run, path: path)) ?? ""
                            let offset = printed[path] ?? 0
                            guard text.utf8.count > offset else { continue }
                            let fresh = String(decoding: Array(text.utf8)[offset...], as: UTF8.self)
                            printed[path] = text.utf8.count
                            if global.json {
                                documents.append(["job": jobRecord.key, "step": step.name, "log": fresh])
                                continue
                            }
                            if headers.insert(path).inserted { Output.line("=== \(jobRecord.key) / \(step.name) ===") }
                            Output.write(Data(fresh.utf8), to: .standardOutput)
                        }
                    }
                    if !follow || record.state == .completed { break }
                    try await Task.sleep(for: .milliseconds(200))
                    record = try RunsCommand.load(store, run)
                }
                if global.json { Output.json(["logs": documents]) }
            }
        }
    }
}
