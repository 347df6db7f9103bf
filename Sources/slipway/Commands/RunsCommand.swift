import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayPipeline
import SlipwayServer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `slipway runs …`: the history of workflow runs in the data folder.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List workflow runs, show one, print its logs, cancel it, or run it again.",
        discussion: """
            Runs are recorded under the data folder (.slipway/runs/<id>): the run record and each step's log, masked. \
            `runs cancel RUN` stops a run in progress; `runs rerun RUN [--failed]` runs its workflow again with the same \
            event and inputs, with --failed only the jobs that did not succeed and those that need them.
            """,
        subcommands: [List.self, Show.self, Logs.self, Cancel.self, Rerun.self]
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
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List runs, newest first.")
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
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a run: its jobs, steps, outputs and annotations.")
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
                if let original = record.rerunOf { Output.line("  rerun of run \(original)") }
                if !record.sha.isEmpty { Output.line("  commit \(record.sha) \(record.ref)") }
                if !record.inputs.isEmpty {
                    Output.line("  inputs " + record.inputs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
                }
                if let error = record.error { Output.line("  error: \(error)") }
                for job in record.jobs {
                    var line = "\(job.key): \(job.conclusion?.rawValue ?? job.state.rawValue)"
                    if let runner = job.runner { line += " on \(runner)" }
                    if job.cached { line += " (cached)" }
                    if let source = job.reusedFrom { line += " (reused from run \(source))" }
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
        static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a run's step logs (masked).")
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

extension RunsCommand {
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", 
            abstract: "Cancel a run in progress.",
            discussion: """
                Sends SIGTERM to the slipway process that runs it, as Ctrl-C would: running steps are interrupted, jobs \
                with always() still run, the others are cancelled. Then waits until the run has ended and prints its \
                conclusion (--json: the run's summary). A run whose process is gone while its record still says it runs \
                is marked cancelled. The process is signalled only when it is the slipway process that started the run.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run id.") var run: String
        @Option(name: .long, help: "Seconds to wait for the run to end (0: do not wait).") var wait: Double = 30

        /// `--json --wait 0`: the run was asked to stop.
        struct Requested: Encodable {
            var id: String
            var state: RunState
            var pid: Int32
        }

        func run() async throws {
            try await Output.run(json: global.json) {
                guard wait >= 0, wait.isFinite else { throw GenericError(.invalidArgument, "--wait must be a number of seconds ≥ 0") }
                let store = try RunsCommand.store(global)
                let record = try RunsCommand.load(store, run)
                guard record.state != .completed else {
                    throw GenericError(
                        .failedPrecondition,
                        "run \(record.id) has already ended (\(record.conclusion?.rawValue ?? "no conclusion")); there is nothing to cancel")
                }
                switch RunProcess.check(record) {
                case .gone(let reason):
                    try finishStale(store, reason: reason)
                    return
                case .elsewhere(let reason):
                    throw GenericError(.failedPrecondition, "run \(record.id) cannot be cancelled from here: \(reason)")
                case .running:
                    break
                }
                guard kill(record.pid, SIGTERM) == 0 else {
                    if errno == ESRCH {
                        try finishStale(store, reason: "its slipway process (pid \(record.pid)) has ended")
                        return
                    }
                    throw GenericError(
                        .failedPrecondition, "cannot signal process \(record.pid) of run \(record.id): \(String(cString: strerror(errno)))")
                }
                if wait == 0 {
                    if global.json {
                        Output.json(Requested(id: record.id, state: record.state, pid: record.pid))
                    } else {
                        Output.line("Run \(record.id): asked its process (pid \(record.pid)) to cancel it")
                    }
                    return
                }
                if !global.json { Output.note("Cancelling run \(record.id) (SIGTERM to pid \(record.pid))…") }
                let deadline = Date().addingTimeInterval(wait)
                while true {
                    let current = try RunsCommand.load(store, run)
                    if current.state == .completed {
                        report(current)
                        return
                    }
                    if case .gone(let reason) = RunProcess.check(current) {
                        try finishStale(store, reason: reason)
                        return
                    }
                    guard Date() < deadline else {
                        throw GenericError(
                            .unavailable,
                            "run \(record.id) has not ended \(Self.seconds(wait)) after SIGTERM to its process (pid \(record.pid)); its steps may "
                                + "still be stopping: see `slipway runs show \(record.id)`, or wait longer with --wait")
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }

        /// Marks a run whose process is gone as cancelled: the run and every job and step that had not ended.
        private func finishStale(_ store: FileRunStore, reason: String) throws {
            var record = try RunsCommand.load(store, run)
            if record.state == .completed {
                report(record)
                return
            }
            let now = Date()
            for index in record.jobs.indices where record.jobs[index].state != .completed {
                record.jobs[index].state = .completed
                record.jobs[index].conclusion = .cancelled
                record.jobs[index].outcome = .cancelled
                record.jobs[index].waitingReason = nil
                if record.jobs[index].startedAt != nil { record.jobs[index].finishedAt = now }
                for step in record.jobs[index].steps.indices
                where record.jobs[index].steps[step].startedAt != nil && record.jobs[index].steps[step].conclusion == nil {
                    record.jobs[index].steps[step].outcome = .cancelled
                    record.jobs[index].steps[step].conclusion = .cancelled
                    record.jobs[index].steps[step].finishedAt = now
                }
            }
            let note = "\(reason) before the run ended; marked cancelled by `slipway runs cancel` at \(Output.date(now))"
            record.error = record.error.map { "\($0); \(note)" } ?? note
            record.state = .completed
            record.conclusion = .cancelled
            record.finishedAt = now
            do { try store.save(record) } catch {
                throw GenericError(.unavailable, "cannot update the record of run \(record.id): \(error)")
            }
            if !global.json { Output.note("Run \(record.id): \(reason); its record is now marked cancelled") }
            report(record)
        }

        private func report(_ record: RunRecord) {
            if global.json {
                Output.json(RunSummary(record))
            } else {
                let conclusion = record.conclusion?.rawValue ?? "ended"
                Output.line(
                    conclusion == "cancelled" ? "Run \(record.id) cancelled" : "Run \(record.id) ended before the cancellation: \(conclusion)")
            }
        }

        static func seconds(_ value: Double) -> String { value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value) }
    }

    struct Rerun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rerun", 
            abstract: "Run a run's workflow again, with the same event and inputs.",
            discussion: """
                The workflow file is read as it is now and runs in the current folder, as a new run whose record names \
                the run it reruns. With --failed, jobs whose every leg succeeded keep their result and outputs without \
                running; jobs that failed, were cancelled or were skipped run again, and so do the jobs that need them. \
                The exit status is 0 only when the new run succeeded.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The run id.") var run: String
        @Flag(name: .long, help: "Run again only the jobs that did not succeed, and the jobs that need them.") var failed = false
        @OptionGroup var options: RunOptions

        func run() async throws {
            try await Output.run(json: global.json) {
                let setup = try RunSetup(global: global, options: options)
                let store = FileRunStore(dataDir: setup.dataDir)
                let original = try RunsCommand.load(store, run)
                guard original.state == .completed else {
                    if case .gone(let reason) = RunProcess.check(original) {
                        throw GenericError(
                            .failedPrecondition,
                            "run \(original.id) is recorded as still running, but \(reason); `slipway runs cancel \(original.id)` marks it "
                                + "cancelled, then it can be rerun")
                    }
                    throw GenericError(
                        .failedPrecondition,
                        "run \(original.id) is still running; wait for it to end or cancel it with `slipway runs cancel \(original.id)`")
                }
                if failed && original.conclusion == .success {
                    throw GenericError(
                        .failedPrecondition,
                        "run \(original.id) succeeded, so no job needs to run again; `slipway runs rerun \(original.id)` runs every job")
                }
                let file = setup.project.appendingPathComponent(original.workflow)
                guard FileManager.default.fileExists(atPath: file.path) else {
                    throw GenericError(
                        .notFound,
                        "run \(original.id) ran \(original.workflow), which does not exist in \(setup.project.path) any more; rerun it from "
                            + "the project folder, or start the workflow anew with `slipway run`")
                }
                let entry = WorkflowCatalog.parse(file: original.workflow, at: file)
                if let errors = entry.errors {
                    throw GenericError(
                        .invalidArgument, "\(original.workflow) no longer reads as a workflow, so run \(original.id) cannot be rerun:\n\(errors)")
                }
                guard let workflow = entry.workflow else {
                    throw GenericError(.invalidArgument, "\(original.workflow) no longer reads as a workflow")
                }
                if let masked = original.inputs.first(where: { $0.value.contains("***") }) {
                    throw GenericError(
                        .failedPrecondition,
                        "the input '\(masked.key)' of run \(original.id) held a secret and was recorded masked, so the run cannot be "
                            + "repeated with the same inputs; start it with `slipway run \(original.workflow) --event \(original.event) --input …`")
                }
                let launcher = try setup.launcher()
                let hook = RerunHook(original: original, workflow: workflow, failedOnly: failed)
                let message = "Rerunning run \(original.id) (\(original.workflowName))\(failed ? ": only jobs that did not succeed" : "")"
                if global.json { Output.note(message) } else { Output.line(message) }
                let record = try await launcher.run(workflow, event: original.event, inputs: original.inputs, rerun: hook)
                launcher.stop()
                if global.json {
                    Output.json(RunSummary(record))
                } else if !hook.reusedJobs.isEmpty {
                    Output.line("Reused from run \(original.id): \(hook.reusedJobs.keys.sorted().joined(separator: ", "))")
                }
                if record.conclusion != .success { throw ExitCode(1) }
            }
        }
    }
}

/// Whether the process recorded in a run still runs it.
enum RunProcess {
    enum State: Equatable {
        /// The slipway process that started the run is alive.
        case running
        /// It has ended (the reason says how it is known).
        case gone(String)
        /// A process is there but cannot be checked or signalled by this user.
        case elsewhere(String)
    }

    /// Checks the run's `pid`: alive, a `slipway` process running workflows, and started no later than the run. A pid
    /// now used by another program (or by a process that started after the run) means the run's process has ended.
    static func check(_ record: RunRecord) -> State {
        let pid = record.pid
        // 0 and -1 would address process groups: never a run's process.
        guard pid > 1 else { return .gone("its recorded process id \(pid) is not a process") }
        if kill(pid, 0) != 0 {
            if errno == EPERM { return .elsewhere("process \(pid) belongs to another user") }
            return .gone("its slipway process (pid \(pid)) has ended")
        }
        #if os(Linux)
            guard let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !command.isEmpty else {
                return .gone("its slipway process (pid \(pid)) has ended")
            }
            let arguments = command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            // The program is slipway by the name it was started with, or by its executable (which a rebuild may
            // have replaced: the link then ends in " (deleted)").
            let started = arguments.first.map { ($0 as NSString).lastPathComponent } ?? ""
            let executable = ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? "")
                .replacingOccurrences(of: " (deleted)", with: "")
            let isSlipway = started == "slipway" || (executable as NSString).lastPathComponent == "slipway"
            let runsWorkflows = arguments.dropFirst().contains { ["run", "rerun", "demo"].contains($0) }
            guard isSlipway, runsWorkflows else {
                return .gone("its slipway process (pid \(pid)) has ended and the pid now belongs to another program")
            }
            if let started = startTime(pid), started > record.startedAt.addingTimeInterval(5) {
                return .gone("its slipway process (pid \(pid)) has ended and the pid now belongs to a later process")
            }
            return .running
        #else
            return .elsewhere("this system does not let Slipway check that process \(pid) is the run's; stop it there with Ctrl-C")
        #endif
    }

    /// When a process started, from `/proc/PID/stat` (clock ticks after boot) and the boot time in `/proc/stat`.
    private static func startTime(_ pid: Int32) -> Date? {
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
            let boot = FileManager.default.contents(atPath: "/proc/stat")
        else { return nil }
        let text = String(decoding: stat, as: UTF8.self)
        // The command name in parentheses may hold spaces: fields are counted after the last ')'. The start time is
        // field 22 of the line, the 20th after the name.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
        let bootLine = String(decoding: boot, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("btime ") }
        guard let bootSeconds = bootLine.flatMap({ Double($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) }) else { return nil }
        let perSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard perSecond > 0 else { return nil }
        return Date(timeIntervalSince1970: bootSeconds + ticks / perSecond)
    }
}
