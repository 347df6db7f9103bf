import ArgumentParser
import Foundation
import NIOHTTP1
import SlipwayCore
import SlipwayPipeline
import SlipwayServer
import SlipwayStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `slipway runner`: takes pipeline jobs from a control plane and runs them on this machine.
struct RunnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runner",
        abstract: "Run pipeline jobs from a Slipway server on this machine (a remote runner).",
        discussion: """
            The runner registers with the server (--server, or $SLIPWAY_SERVER; a token with the editor role in --token \
            or $SLIPWAY_TOKEN) under its labels: the detected ones (self-hosted, the OS, the architecture, gpu and \
            cuda<major> when nvidia-smi reports a device) plus --labels. It then takes, one at a time, jobs whose runs-on \
            labels it all has: `slipway run --server URL` queues every job that no local runner can take. Each job runs \
            in a fresh copy of the project's files under the runner's data folder, its output streams back to the run \
            as it happens, and its artifacts go through the server's artifact store. With --ephemeral the runner exits \
            after one job. SIGINT or SIGTERM stops it: a running job is cancelled first and its result reported.
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Labels added to the detected ones, comma-separated (e.g. gpu,cuda12).") var labels: String = ""
    @Option(name: .long, help: "The runner's name (default: runner-<host>-<pid>).") var name: String?
    @Flag(name: .long, help: "Exit after one job.") var ephemeral = false
    @Option(name: .long, help: "Seconds between polls when the server is unreachable.") var retry: Double = 2

    func run() async throws {
        try await Output.run(json: global.json) {
            let environment = ProcessInfo.processInfo.environment
            guard let url = global.server ?? environment["SLIPWAY_SERVER"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                throw GenericError(.invalidArgument, "a runner needs the server to take jobs from: pass --server URL or set SLIPWAY_SERVER")
            }
            guard retry > 0, retry.isFinite, retry <= 300 else { throw GenericError(.invalidArgument, "--retry must be between 0 and 300 seconds") }
            let token = global.token ?? environment["SLIPWAY_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            let plane = try ControlPlane(baseURL: url, token: token)
            let extra = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            var runner = LocalRunner.detect(extraLabels: extra, capacity: 1)
            let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
            runner.name = name ?? "runner-\(host)-\(getpid())"
            let project = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            let dataDir: URL =
                global.dataDir.map { $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : project.appendingPathComponent($0) }
                ?? project.appendingPathComponent(".slipway-runner")
            try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
            let worker = RunnerWorker(plane: plane, runner: runner, dataDir: dataDir, ephemeral: ephemeral, retry: retry)
            try await worker.serve()
        }
    }
}

/// The loop of one runner process: register, take a job, run it, report, and again.
final class RunnerWorker: Sendable {
    let plane: ControlPlane
    let runner: LocalRunner
    let dataDir: URL
    let ephemeral: Bool
    let retry: Double
    private let state = Mutex<(stopping: Bool, runnerID: String?, jobCancelled: Bool)>((false, nil, false))

    init(plane: ControlPlane, runner: LocalRunner, dataDir: URL, ephemeral: Bool, retry: Double) {
        self.plane = plane
        self.runner = runner
        self.dataDir = dataDir
        self.ephemeral = ephemeral
        self.retry = retry
    }

    struct Empty: Decodable {}

    /// A line on stdout, written at once (not buffered), so that a log file shows it as it happens.
    static func emit(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

    private func say(_ text: String) { Self.emit(text) }

    private func register() async throws -> String {
        guard
            let registered = try await plane.call(
                .POST, "runners", body: RunnerWire.RegisterRunner(name: runner.name, labels: runner.labels.sorted(), ephemeral: ephemeral), as: RunnerWire.Runner.self)
        else { throw GenericError(.internal, "the server did not register the runner") }
        state.withLock { $0.runnerID = registered.id }
        say("Runner \(registered.name) (\(registered.id)) registered with \(plane.baseURL), labels: \(registered.labels.joined(separator: ", "))")
        return registered.id
    }

    private func unregister() async {
        guard let id = state.withLock({ $0.runnerID }) else { return }
        _ = try? await plane.call(.DELETE, "runners/\(id)", as: Empty.self, timeout: 10)
    }

    func serve() async throws {
        let signals = installSignals()
        defer { for source in signals { source.cancel() } }
        var id = try await register()
        var outage = false
        while !state.withLock({ $0.stopping }) {
            let next: RunnerWire.NextJob?
            do {
                next = try await plane.call(.POST, "runners/\(id)/next?wait=20", as: RunnerWire.NextJob.self, timeout: 40)
                if outage {
                    outage = false
                    say("The server answers again")
                }
            } catch let error as GenericError where error.kind == .notFound {
                say("The server no longer knows this runner (it restarted?); registering again")
                id = try await register()
                continue
            } catch let error as GenericError where error.kind == .unavailable {
                if !outage {
                    outage = true
                    say("Cannot reach the server; retrying every \(retry) s: \(error.message)")
                }
                try? await Task.sleep(for: .milliseconds(Int64(retry * 1000)))
                continue
            }
            guard let next else { continue }
            await run(next.job, runnerID: id)
            if ephemeral { break }
        }
        await unregister()
        say("Runner \(runner.name) stopped")
    }

    private func installSignals() -> [any DispatchSourceSignal] {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                FileHandle.standardError.write(Data("Stopping the runner…\n".utf8))
                self.state.withLock {
                    $0.stopping = true
                    $0.jobCancelled = true
                }
                // An idle runner waiting on a poll stops at once.
                Task {
                    await self.unregister()
                    if self.state.withLock({ $0.runnerID }) != nil, !self.busy.withLock({ $0 }) { Foundation.exit(0) }
                }
            }
            source.resume()
            sources.append(source)
        }
        return sources
    }

    private let busy = Mutex(false)

    /// Runs one job and reports its result.
    private func run(_ assignment: RunnerWire.Assignment, runnerID: String) async {
        busy.withLock { $0 = true }
        defer { busy.withLock { $0 = false } }
        state.withLock { $0.jobCancelled = $0.stopping }
        let streamer = LineStreamer(plane: plane, job: assignment.id, runner: runnerID) { [weak self] in
            self?.state.withLock { $0.jobCancelled = true }
        }
        let flusher = Task { await streamer.flushLoop() }
        let result: RemoteJobResult
        var workspace: URL?
        do {
            let job = try SlipwayJSON.decoder().decode(RemoteJob.self, from: Data(assignment.payload.utf8))
            say("Job \(job.key) of run \(job.runID) (\(job.workflowFile))")
            try RemoteJobExecutor.validate(job)
            let store = try LocalArtifactStore(root: dataDir.appendingPathComponent("artifacts"))
            let scratch = dataDir.appendingPathComponent("tmp")
            let folder = dataDir.appendingPathComponent("work").appendingPathComponent(job.runID).appendingPathComponent(
                "\(assignment.id)")
            try? FileManager.default.removeItem(at: folder)
            if let digestText = job.workspace {
                guard let digest = Digest(digestText) else { throw GenericError(.invalidArgument, "the job's workspace digest is not valid") }
                try await plane.pull(digest, into: store, folder: scratch)
                try WorkspaceArchive.extract(URL(fileURLWithPath: store.path(of: digest)), into: folder)
            } else {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            }
            workspace = folder
            try await plane.pullArtifacts(job.artifacts, into: store, folder: scratch)
            var environment = ProcessInfo.processInfo.environment
            let executable = RunCommand.executable()
            environment["PATH"] = executable.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
            for name in ["SLIPWAY_TOKEN", "SLIPWAY_SERVER", "SLIPWAY_MASTER_KEY"] { environment[name] = nil }
            let outcome = await RemoteJobExecutor.execute(
                job, workspace: folder, dataDir: dataDir, runner: runner, actions: .slipway(executable: executable, dataDir: dataDir),
                baseEnvironment: environment,
                events: { event in
                    if let line = event.console { RunnerWorker.emit(line) }
                    streamer.add(event)
                }, isCancelled: { [weak self] in self?.state.withLock { $0.jobCancelled } ?? true })
            try await plane.pushArtifacts(outcome.artifacts, from: store)
            result = outcome
        } catch {
            let message = (error as? GenericError)?.message ?? "\(error)"
            say("Job \(assignment.name) failed before its steps ran: \(message)")
            result = RemoteJobResult(conclusion: .failure, outcome: .failure, outputs: [:], error: "on runner \(runner.name): \(message)", runner: runner.name)
        }
        streamer.finish()
        await flusher.value
        if let workspace { try? FileManager.default.removeItem(at: workspace) }
        do {
            let text = String(decoding: try SlipwayJSON.encoder().encode(result), as: UTF8.self)
            _ = try await plane.call(.POST, "pipeline-jobs/\(assignment.id)/result", body: RunnerWire.CompleteJob(runner: runnerID, result: text), as: Empty.self)
            say("Job \(assignment.name): \(result.conclusion.rawValue)")
        } catch {
            say("Could not report the result of job \(assignment.name): \(error)")
        }
    }
}

/// Buffers a job's lines and posts them to the server in batches, at least every few seconds (which also tells the
/// server the runner is alive, and the runner whether the job was cancelled).
final class LineStreamer: Sendable {
    let plane: ControlPlane
    let job: String
    let runner: String
    let onCancel: @Sendable () -> Void
    private let buffer = Mutex<(lines: [String], finished: Bool)>(([], false))

    init(plane: ControlPlane, job: String, runner: String, onCancel: @escaping @Sendable () -> Void) {
        self.plane = plane
        self.job = job
        self.runner = runner
        self.onCancel = onCancel
    }

    func add(_ event: RemoteEvent) {
        guard let data = try? SlipwayJSON.encoder().encode(event) else { return }
        var line = String(decoding: data, as: UTF8.self)
        if line.utf8.count > 200_000 { line = String(line.prefix(50_000)) }
        buffer.withLock { $0.lines.append(line) }
    }

    func finish() { buffer.withLock { $0.finished = true } }

    func flushLoop() async {
        var lastPost = ContinuousClock.now
        while true {
            let (batch, finished) = buffer.withLock { state -> ([String], Bool) in
                let batch = Array(state.lines.prefix(RunnerWorker.batchSize))
                state.lines.removeFirst(batch.count)
                return (batch, state.finished && state.lines.isEmpty)
            }
            if !batch.isEmpty || ContinuousClock.now - lastPost > .seconds(5) {
                lastPost = ContinuousClock.now
                var attempts = 0
                while true {
                    do {
                        let answer = try await plane.call(
                            .POST, "pipeline-jobs/\(job)/lines", body: RunnerWire.AppendLines(runner: runner, lines: batch),
                            as: RunnerWire.AppendAnswer.self)
                        if answer?.cancelled == true { onCancel() }
                        break
                    } catch let error as GenericError where error.kind == .unavailable && attempts < 30 {
                        attempts += 1
                        try? await Task.sleep(for: .seconds(1))
                    } catch {
                        // The server refuses the lines (the job was taken back): cancel the job.
                        onCancel()
                        break
                    }
                }
            }
            if finished { return }
            if batch.count < RunnerWorker.batchSize { try? await Task.sleep(for: .milliseconds(200)) }
        }
    }
}

extension RunnerWorker {
    static let batchSize = 2_000
}
