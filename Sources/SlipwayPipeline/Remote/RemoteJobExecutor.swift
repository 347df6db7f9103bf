public import Foundation
import SlipwayCore

/// Runs a ``RemoteJob`` on this machine, for `slipway runner`: the job's steps run exactly as they would in the run's own
/// process, in `workspace`, with the runner's name and labels; every line of output and every step-log append goes to
/// `events` as it happens.
public enum RemoteJobExecutor {
    /// A problem with the job itself (it cannot even start); the runner reports it as the job's failure.
    public struct InvalidJob: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Checks that a job's names are safe to use as folder names on the runner.
    public static func validate(_ job: RemoteJob) throws(InvalidJob) {
        let plain: (String) -> Bool = { text in
            !text.isEmpty && text.count <= 64 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
        guard plain(job.runID) else { throw InvalidJob(description: "the job's run id '\(job.runID.prefix(80))' is not a plain name") }
        guard !job.key.isEmpty, job.key.count <= 512 else { throw InvalidJob(description: "the job's key is empty or too long") }
        guard job.timeoutMinutes.isFinite, job.timeoutMinutes > 0 else { throw InvalidJob(description: "the job's timeout is not a positive number") }
        for artifact in job.artifacts where artifact.name.contains("/") || artifact.name.hasPrefix(".") || artifact.name.isEmpty {
            throw InvalidJob(description: "the artifact name '\(artifact.name.prefix(80))' is not a plain name")
        }
    }

    /// Runs the job and returns its result; never throws (a job that cannot start is a failed job).
    /// - Parameters:
    ///   - workspace: the extracted project (the job's `github.workspace`).
    ///   - dataDir: the runner's data folder: its run folders, artifact store and tool cache.
    ///   - runner: the runner's name and labels (`runner.name`, `RUNNER_NAME`).
    ///   - actions: the built-in actions (`.slipway(executable:dataDir:)` with the runner's data folder).
    ///   - baseEnvironment: the environment steps inherit from.
    ///   - events: called with each streamed line, in order.
    ///   - isCancelled: polled; when it turns true the job is cancelled as the run's own process would cancel it.
    public static func execute(
        _ job: RemoteJob, workspace: URL, dataDir: URL, runner: LocalRunner, actions: ActionRegistry, baseEnvironment: [String: String],
        events: @escaping @Sendable (RemoteEvent) -> Void, isCancelled: @escaping @Sendable () -> Bool
    ) async -> RemoteJobResult {
        func failed(_ message: String) -> RemoteJobResult {
            RemoteJobResult(conclusion: .failure, outcome: .failure, outputs: [:], error: message, runner: runner.name)
        }
        do { try validate(job) } catch { return failed(error.description) }
        let workflow: Workflow
        do {
            workflow = try WorkflowParser.parse(file: job.workflowFile, source: job.workflowSource)
        } catch {
            return failed("the workflow does not parse on the runner: \(error)")
        }
        guard let definition = workflow.job(job.jobId) else { return failed("the workflow has no job '\(job.jobId)'") }
        let inputs: ExpressionObject
        let needs: ExpressionValue
        let strategy: ExpressionValue
        let matrix: ExpressionValue
        do {
            let parsedInputs = try ExpressionValue(parsingJSON: job.inputsContext)
            guard case .object(let object) = parsedInputs else { return failed("the job's inputs are not an object") }
            inputs = object
            needs = try ExpressionValue(parsingJSON: job.needs)
            strategy = try ExpressionValue(parsingJSON: job.strategy)
            matrix = try ExpressionValue(parsingJSON: job.matrix)
        } catch {
            return failed("the job's contexts are not valid JSON: \(error.message)")
        }

        var configuration = RunConfiguration(
            project: workspace, dataDir: dataDir, event: job.event, inputs: job.inputs, secrets: job.secrets, vars: job.vars,
            parallelism: 1, runners: [runner], cancelGrace: .milliseconds(job.cancelGraceMilliseconds), verbose: job.verbose, actions: actions,
            baseEnvironment: baseEnvironment, git: job.git.info, actor: job.actor)
        configuration.hooks = []
        let masker = SecretMasker(secrets: Array(job.secrets.values))
        let files = FileRunStore(dataDir: dataDir)
        let runFolder: URL
        do {
            runFolder = try files.folder(job.runID)
            try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
        } catch {
            return failed("cannot create the run folder on the runner: \(error)")
        }
        // The run's artifacts so far, so that download-artifact finds them (their objects were fetched beforehand).
        let artifactFolder = runFolder.appendingPathComponent("artifacts")
        ArtifactLocations.write(job.artifacts, in: artifactFolder)
        let known = Dictionary(job.artifacts.map { ($0.name, $0.digest) }, uniquingKeysWith: { $1 })
        let store = StreamingRunStore(files: files, events: events)
        var record = RunRecord(
            id: job.runID, workflow: job.workflowFile, workflowName: workflow.name ?? job.workflowFile, runNumber: job.runNumber, event: job.event,
            sha: job.git.sha ?? "", ref: job.git.branch.map { "refs/heads/\($0)" } ?? "", pid: getpid(), startedAt: Date())
        var jobRecord = JobRecord(key: job.key, jobId: job.jobId, name: job.name)
        jobRecord.state = .inProgress
        jobRecord.runner = runner.name
        jobRecord.startedAt = Date()
        record.jobs = [jobRecord]
        record.state = .inProgress
        let recorder = RunRecorder(record: record, store: files, masker: masker)
        let output = LiveOutput(verbose: job.verbose) { line in events(RemoteEvent(console: line)) }
        let scope = CancelScope()
        let environment = RunEnvironment(
            configuration: configuration, workflow: workflow, runID: job.runID, runNumber: job.runNumber, store: store, output: output, masker: masker,
            recorder: recorder, runFolder: runFolder, git: job.git.info, inputs: inputs, vars: job.vars, pool: RunnerPool(runners: [runner]),
            runScope: scope)
        try? FileManager.default.createDirectory(at: environment.temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: environment.temp.appendingPathComponent(job.key.slug)) }

        var contexts = environment.baseContexts(job: job.jobId, workspace: workspace.path)
        contexts["needs"] = needs
        contexts["strategy"] = strategy
        contexts["matrix"] = matrix
        var runnerObject = ExpressionObject()
        runnerObject["name"] = .string(runner.name)
        runnerObject["os"] = .string(runner.os)
        runnerObject["arch"] = .string(runner.arch)
        runnerObject["temp"] = .string(environment.temp.path)
        runnerObject["tool_cache"] = .string(dataDir.appendingPathComponent("tool-cache").path)
        runnerObject["debug"] = .string(environment.debug ? "1" : "")
        contexts["runner"] = .object(runnerObject)

        let watcher = Task {
            while !Task.isCancelled {
                if isCancelled() {
                    scope.cancel()
                    return
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { watcher.cancel() }
        let execution = JobExecution(
            run: environment, key: job.key, name: job.name, job: definition, contexts: contexts,
            jobEnv: job.env.map { (name: $0.name, value: $0.value) }, runner: runner, scope: scope, timeoutMinutes: job.timeoutMinutes)
        let outcome = await execution.execute()
        await recorder.update {
            $0.state = .completed
            $0.conclusion = outcome.conclusion
        }
        let finished = await recorder.record
        let jobRecordAfter = finished.job(job.key)
        // The artifacts this job added (or replaced).
        let uploaded = ArtifactLocations.indexes(in: artifactFolder).filter { known[$0.name] != $0.digest }
        return RemoteJobResult(
            conclusion: outcome.conclusion, outcome: outcome.outcome, outputs: outcome.outputs, error: outcome.error, runner: runner.name,
            steps: jobRecordAfter?.steps ?? [], summary: jobRecordAfter?.summary ?? "", annotations: finished.annotations, artifacts: uploaded)
    }
}

/// The runner's own run store, which also streams every step-log append.
struct StreamingRunStore: RunStore {
    let files: FileRunStore
    let events: @Sendable (RemoteEvent) -> Void

    func newRunID() throws -> String { try files.newRunID() }
    func nextRunNumber(workflow: String) throws -> Int { try files.nextRunNumber(workflow: workflow) }
    func save(_ record: RunRecord) throws { try files.save(record) }
    func load(_ id: String) throws -> RunRecord { try files.load(id) }
    func list() throws -> [RunRecord] { try files.list() }
    func appendLog(run: String, path: String, text: String) throws {
        try files.appendLog(run: run, path: path, text: text)
        events(RemoteEvent(log: path, text: text))
    }
    func log(run: String, path: String) throws -> String { try files.log(run: run, path: path) }
}
