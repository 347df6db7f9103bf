import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a job (or leg) ended.
struct JobOutcome: Sendable {
    var conclusion: Conclusion
    var outcome: Conclusion
    var outputs: [String: String]
    var error: String?
    var cached = false
}

/// Runs the steps of one job (or one leg of a matrix job) on the runner it got.
struct JobExecution: Sendable {
    let run: RunEnvironment
    let key: String
    let name: String
    let job: Job
    /// Contexts of the job: github, vars, secrets, inputs, needs, strategy, matrix, runner.
    let contexts: [String: ExpressionValue]
    /// The rendered workflow and job `env:`, in order (job after workflow).
    let jobEnv: [(name: String, value: String)]
    let runner: any PipelineRunner
    /// The job's own cancellation (fail-fast, cancel-in-progress; and the run's, unless the job started after it).
    let scope: CancelScope
    let timeoutMinutes: Double

    /// Whether the job is cancelled, as its steps' `cancelled()` sees it. A job that started after the run was cancelled
    /// (`if: always()`) is not linked to the run's cancellation and runs its steps normally.
    private var cancelledForStatus: Bool { scope.isCancelled }

    /// The state the steps build up.
    private struct State {
        var steps = ExpressionObject()
        var githubEnv: [(name: String, value: String)] = []
        var pathAdditions: [String] = []
        var workspace: URL
        var failed = false
        var timedOut = false
        var summaries: [String] = []
        var annotations: [Annotation] = []
        var processGroups: [pid_t] = []
        var autoIDs = 0
    }

    func execute() async -> JobOutcome {
        let clock = ContinuousClock()
        let jobDeadline = clock.now + .milliseconds(Int64(timeoutMinutes * 60_000))
        var state = State(workspace: run.configuration.project)
        let jobTemp = run.temp.appendingPathComponent(key.slug)
        try? FileManager.default.createDirectory(at: jobTemp, withIntermediateDirectories: true)
        await run.recorder.updateJob(key) { record in
            record.steps = job.steps.enumerated().map { index, step in
                StepRecord(number: index + 1, id: step.id, name: step.name ?? Self.defaultName(step))
            }
        }
        var jobError: String?
        for (index, step) in job.steps.enumerated() {
            let number = index + 1
            let actionID: String
            if let id = step.id {
                actionID = id
            } else {
                state.autoIDs += 1
                actionID = state.autoIDs == 1 ? "__run" : "__run_\(state.autoIDs)"
            }
            var context = stepContext(state: state, action: actionID)
            context.status = ExecutionStatus(failed: state.failed, cancelled: cancelledForStatus)
            let fallbackName = Self.defaultName(step)
            let stepName = run.masker.mask((try? Template.render(step.name ?? fallbackName, in: context)) ?? fallbackName)
            var record = StepRecord(number: number, id: step.id, name: stepName)
            let shouldRun: Bool
            var conditionError: String?
            do {
                shouldRun = try Template.condition(step.condition, in: context)
            } catch {
                shouldRun = false
                conditionError = "The step's if: \(step.condition ?? "") cannot be evaluated: \(error.message)"
            }
            if let conditionError {
                record.outcome = .failure
                record.conclusion = .failure
                record.error = run.masker.mask(conditionError)
                state.failed = true
                state.annotations.append(Annotation(level: "error", message: record.error ?? "", job: key, step: stepName))
                run.output.job(name, "✗ \(stepName): \(record.error ?? "")", style: .red)
                await finishStep(record, state: &state)
                continue
            }
            guard shouldRun else {
                record.outcome = .skipped
                record.conclusion = .skipped
                run.output.job(name, "- \(stepName) (skipped)", style: .dim)
                await finishStep(record, state: &state)
                continue
            }
            // A step that runs after the job was cancelled or timed out (always(), cancelled()) is not interrupted by
            // that cancellation; it gets five minutes, as GitHub's cancel timeout.
            let startedCancelled = cancelledForStatus
            var deadline = jobDeadline
            var deadlineIsJob = true
            if state.timedOut || startedCancelled {
                deadline = clock.now + .seconds(300)
                deadlineIsJob = false
            }
            record.startedAt = Date()
            record.log = "logs/\(key.slug)/\(String(format: "%02d", number))-\(stepName.slug).log"
            await run.recorder.updateJob(key) { job in
                if index < job.steps.count { job.steps[index] = record }
            }
            run.output.job(name, "▶ \(stepName)", style: .cyan)
            let started = clock.now
            let result = await runStep(
                step, number: number, name: stepName, action: actionID, context: context, state: &state, jobTemp: jobTemp,
                deadline: &deadline, deadlineIsJob: &deadlineIsJob, startedCancelled: startedCancelled, logPath: record.log ?? "")
            let seconds = Double((clock.now - started).components.seconds) + Double((clock.now - started).components.attoseconds) / 1e18
            record.finishedAt = Date()
            record.outcome = result.outcome
            record.outputs = run.masker.mask(result.outputs)
            record.error = result.error.map { run.masker.mask($0) }
            var conclusion = result.outcome
            if result.outcome == .failure, result.jobTimedOut == false, evaluateFlag(step.continueOnError, in: context) {
                conclusion = .success
            }
            record.conclusion = conclusion
            if result.jobTimedOut {
                state.timedOut = true
                scope.cancel()
                jobError = "The job exceeded the maximum execution time of \(formatMinutes(timeoutMinutes)) minutes."
                state.annotations.append(Annotation(level: "error", message: jobError ?? "", job: key))
                run.output.job(name, jobError ?? "", style: .red)
            }
            if conclusion == .failure { state.failed = true }
            if let error = record.error, result.outcome == .failure {
                state.annotations.append(Annotation(level: "error", message: error, job: key, step: stepName))
                run.output.job(name, "Error: \(error)", style: .red)
            }
            let mark = conclusion == .success ? "✓" : conclusion == .cancelled ? "⊘" : "✗"
            let detail = result.outcome == conclusion ? result.outcome.rawValue : "\(result.outcome.rawValue), continue-on-error"
            run.output.job(
                name, "\(mark) \(stepName) (\(detail), \(LiveOutput.duration(seconds)))",
                style: conclusion == .success ? .green : conclusion == .cancelled ? .yellow : .red)
            if let id = step.id {
                var entry = ExpressionObject()
                entry["outputs"] = .strings(result.outputs)
                entry["outcome"] = .string(result.outcome.rawValue)
                entry["conclusion"] = .string(conclusion.rawValue)
                state.steps[id] = .object(entry)
            }
            await finishStep(record, state: &state)
        }
        // Orphans (background processes of the steps) end with the job, as on GitHub's runners.
        for group in state.processGroups { kill(-group, SIGKILL) }

        var conclusion: Conclusion = .success
        if state.timedOut || state.failed {
            conclusion = .failure
        } else if scope.isCancelled {
            conclusion = .cancelled
        }
        var outputs: [String: String] = [:]
        if conclusion != .cancelled {
            var context = stepContext(state: state, action: "")
            context.status = ExecutionStatus(failed: state.failed, cancelled: cancelledForStatus)
            for (outputName, expression) in job.outputs {
                do {
                    let value = try Template.render(expression, in: context)
                    if run.masker.mask(value) != value {
                        let warning = "Skip output '\(outputName)' since it may contain secret."
                        state.annotations.append(Annotation(level: "warning", message: warning, job: key))
                        run.output.job(name, "Warning: \(warning)", style: .yellow)
                        continue
                    }
                    outputs[outputName] = value
                } catch {
                    let message = run.masker.mask("output '\(outputName)' cannot be evaluated: \(error.message)")
                    state.annotations.append(Annotation(level: "error", message: message, job: key))
                    run.output.job(name, "Error: \(message)", style: .red)
                    conclusion = .failure
                }
            }
        }
        let summary = state.summaries.joined(separator: "\n")
        let annotations = state.annotations
        await run.recorder.updateJob(key) { record in record.summary = summary }
        await run.recorder.annotate(annotations)
        return JobOutcome(conclusion: conclusion, outcome: conclusion, outputs: outputs, error: jobError)
    }

    private func finishStep(_ record: StepRecord, state: inout State) async {
        let index = record.number - 1
        await run.recorder.updateJob(key) { job in
            if index < job.steps.count { job.steps[index] = record } else { job.steps.append(record) }
        }
    }

    /// `Run <first line>` or `Run <uses>`, GitHub's default step names.
    static func defaultName(_ step: Step) -> String {
        if let uses = step.uses { return "Run \(uses)" }
        let first = (step.run ?? "").split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return "Run \(first.trimmingCharacters(in: .whitespaces))"
    }

    /// The merged environment context: workflow and job `env`, then `GITHUB_ENV` values.
    private func envContext(_ state: State) -> [(String, String)] {
        var merged: [(String, String)] = []
        func set(_ name: String, _ value: String) {
            if let index = merged.firstIndex(where: { $0.0 == name }) { merged[index].1 = value } else { merged.append((name, value)) }
        }
        for (name, value) in jobEnv { set(name, value) }
        for (name, value) in state.githubEnv { set(name, value) }
        return merged
    }

    private func stepContext(state: State, action: String) -> ExpressionContext {
        var contexts = contexts
        contexts["github"] = run.githubContext(job: job.id, action: action, workspace: state.workspace.path)
        contexts["env"] = .strings(ordered: envContext(state))
        contexts["steps"] = .object(state.steps)
        var jobContext = ExpressionObject()
        jobContext["status"] = .string(state.failed ? "failure" : cancelledForStatus ? "cancelled" : "success")
        contexts["job"] = .object(jobContext)
        return ExpressionContext(contexts: contexts, hashFiles: run.hashFiles(workspace: state.workspace))
    }

    /// `continue-on-error`: `true`/`false` as written, or an expression's truthiness; an error is false.
    private func evaluateFlag(_ text: String?, in context: ExpressionContext) -> Bool {
        guard let text else { return false }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true": return true
        case "false", "": return false
        default: return ((try? Template.value(of: text, in: context)) ?? .bool(false)).isTruthy
        }
    }

    struct StepResult {
        var outcome: Conclusion
        var outputs: [String: String] = [:]
        var error: String?
        var jobTimedOut = false
    }

    private func runStep(
        _ step: Step, number: Int, name stepName: String, action: String, context baseContext: ExpressionContext, state: inout State,
        jobTemp: URL, deadline: inout ContinuousClock.Instant, deadlineIsJob: inout Bool, startedCancelled: Bool, logPath: String
    ) async -> StepResult {
        var context = baseContext
        // Step env: rendered in order, each seeing the job's env context.
        var stepEnv: [(String, String)] = []
        do {
            for (name, value) in step.env { stepEnv.append((name, try Template.render(value, in: context))) }
        } catch {
            return StepResult(outcome: .failure, error: "the step's env cannot be evaluated: \(error.message)")
        }
        var envPairs = envContext(state)
        for (name, value) in stepEnv {
            if let index = envPairs.firstIndex(where: { $0.0 == name }) { envPairs[index].1 = value } else { envPairs.append((name, value)) }
        }
        context.contexts["env"] = .strings(ordered: envPairs)
        if let text = step.timeoutMinutes {
            do {
                let minutes = try parseMinutes(Template.value(of: text, in: context), field: "timeout-minutes")
                let stepDeadline = ContinuousClock.now + .milliseconds(Int64(minutes * 60_000))
                if stepDeadline < deadline {
                    deadline = stepDeadline
                    deadlineIsJob = false
                }
            } catch {
                return StepResult(outcome: .failure, error: error.message)
            }
        }
        let clock = ContinuousClock()
        let logger = StepLogger(run: run, jobName: name, stepName: stepName, logPath: logPath, debug: run.debug)

        // The files a step writes to pass values on.
        let files = jobTemp.appendingPathComponent("files-\(number)")
        try? FileManager.default.removeItem(at: files)
        try? FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        let outputFile = files.appendingPathComponent("output")
        let envFile = files.appendingPathComponent("env")
        let pathFile = files.appendingPathComponent("path")
        let summaryFile = files.appendingPathComponent("step_summary")
        for file in [outputFile, envFile, pathFile, summaryFile] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }

        var environment = SafeEnvironment.filter(run.configuration.baseEnvironment)
        for (name, value) in envPairs { environment[name] = value }
        let basePath = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        environment["PATH"] = (state.pathAdditions + [basePath]).joined(separator: ":")
        for (name, value) in defaultVariables(action: action, workspace: state.workspace) { environment[name] = value }
        environment["GITHUB_OUTPUT"] = outputFile.path
        environment["GITHUB_ENV"] = envFile.path
        environment["GITHUB_PATH"] = pathFile.path
        environment["GITHUB_STEP_SUMMARY"] = summaryFile.path

        var result: StepResult
        if let uses = step.uses {
            result = await runAction(uses, step: step, context: context, state: &state, environment: environment, jobTemp: jobTemp, logger: logger)
        } else {
            result = await runScript(
                step, context: context, state: &state, environment: environment, jobTemp: jobTemp, deadline: deadline, deadlineIsJob: deadlineIsJob,
                startedCancelled: startedCancelled, logger: logger, clock: clock)
        }
        logger.flush()

        // Values passed on through the files, even when the step failed (GitHub reads them either way).
        do {
            let outputs = try EnvironmentFiles.parseAssignments(EnvironmentFiles.read(outputFile, label: "GITHUB_OUTPUT"), label: "GITHUB_OUTPUT")
            for (name, value) in outputs { result.outputs[name] = value }
            let assignments = try EnvironmentFiles.parseAssignments(EnvironmentFiles.read(envFile, label: "GITHUB_ENV"), label: "GITHUB_ENV")
            for (variable, value) in assignments {
                if EnvironmentFiles.protectedNames.contains(variable.uppercased()) {
                    let message = "Can't store \(variable) output parameter using '$GITHUB_ENV' command."
                    state.annotations.append(Annotation(level: "error", message: message, job: key, step: stepName))
                    run.output.job(name, "Error: \(message)", style: .red)
                    continue
                }
                if let index = state.githubEnv.firstIndex(where: { $0.name == variable }) {
                    state.githubEnv[index].value = value
                } else {
                    state.githubEnv.append((variable, value))
                }
            }
            let paths = EnvironmentFiles.parsePath(try EnvironmentFiles.read(pathFile, label: "GITHUB_PATH"))
            state.pathAdditions =
                paths.reversed().map { path in
                    path.hasPrefix("/") ? path : state.workspace.appendingPathComponent(path).path
                } + state.pathAdditions
            let summary = try EnvironmentFiles.read(summaryFile, label: "GITHUB_STEP_SUMMARY")
            if !summary.isEmpty { state.summaries.append(run.masker.mask(summary)) }
        } catch {
            result.outcome = .failure
            result.error = result.error ?? error.message
        }
        try? FileManager.default.removeItem(at: files)
        return result
    }

    /// GitHub's default variables for a step.
    private func defaultVariables(action: String, workspace: URL) -> [String: String] {
        var variables: [String: String] = [
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": workspace.path, "GITHUB_SHA": run.sha, "GITHUB_REF": run.ref,
            "GITHUB_REF_NAME": run.refName, "GITHUB_REF_TYPE": run.git.branch != nil ? "branch" : run.git.tag != nil ? "tag" : "",
            "GITHUB_EVENT_NAME": run.configuration.event, "GITHUB_RUN_ID": run.runID, "GITHUB_RUN_NUMBER": String(run.runNumber),
            "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": job.id, "GITHUB_REPOSITORY": run.repository,
            "GITHUB_REPOSITORY_OWNER": String(run.repository.split(separator: "/").first ?? ""), "GITHUB_ACTOR": run.actor,
            "GITHUB_TRIGGERING_ACTOR": run.actor, "GITHUB_WORKFLOW": run.workflow.name ?? run.workflow.file, "GITHUB_ACTION": action,
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "https://api.github.com",
            "RUNNER_NAME": runner.name, "RUNNER_TEMP": run.temp.path,
            "RUNNER_TOOL_CACHE": run.configuration.dataDir.appendingPathComponent("tool-cache").path,
        ]
        if let local = runner as? LocalRunner {
            variables["RUNNER_OS"] = local.os
            variables["RUNNER_ARCH"] = local.arch
        }
        if run.debug { variables["RUNNER_DEBUG"] = "1" }
        return variables
    }

    private func runAction(
        _ uses: String, step: Step, context: ExpressionContext, state: inout State, environment: [String: String], jobTemp: URL, logger: StepLogger
    ) async -> StepResult {
        let action: any BuiltinAction
        do { action = try run.configuration.actions.action(for: uses) } catch { return StepResult(outcome: .failure, error: error.message) }
        var inputs: [String: String] = [:]
        do {
            for (name, value) in step.with { inputs[name] = try Template.render(value, in: context) }
        } catch {
            return StepResult(outcome: .failure, error: "the step's with: cannot be evaluated: \(error.message)")
        }
        let invocation = ActionInvocation(
            inputs: inputs, workspace: state.workspace, project: run.configuration.project, runFolder: run.runFolder, temp: jobTemp, jobKey: key,
            git: run.git, environment: environment, log: { line in logger.line(line) })
        do {
            let result = try await action.run(invocation)
            state.pathAdditions = result.pathAdditions + state.pathAdditions
            for (name, value) in result.environment.sorted(by: { $0.key < $1.key }) { state.githubEnv.append((name, value)) }
            if let workspace = result.workspace { state.workspace = workspace }
            return StepResult(outcome: .success, outputs: result.outputs)
        } catch {
            return StepResult(outcome: .failure, error: error.message)
        }
    }

    private func runScript(
        _ step: Step, context: ExpressionContext, state: inout State, environment: [String: String], jobTemp: URL,
        deadline: ContinuousClock.Instant, deadlineIsJob: Bool, startedCancelled: Bool, logger: StepLogger, clock: ContinuousClock
    ) async -> StepResult {
        let script: String
        do { script = try Template.render(step.run ?? "", in: context) } catch {
            return StepResult(outcome: .failure, error: "the step's run: cannot be evaluated: \(error.message)")
        }
        let shellText: String?
        let directoryText: String?
        do {
            shellText = try (step.shell ?? job.defaults.shell ?? run.workflow.defaults.shell).map { try Template.render($0, in: context) }
            directoryText = try (step.workingDirectory ?? job.defaults.workingDirectory ?? run.workflow.defaults.workingDirectory).map {
                try Template.render($0, in: context)
            }
        } catch let error as ExpressionError {
            return StepResult(outcome: .failure, error: error.message)
        } catch {
            return StepResult(outcome: .failure, error: "\(error)")
        }
        let shell: ShellCommand
        do { shell = try ShellCommand.resolve(shellText, path: environment["PATH"] ?? "") } catch {
            return StepResult(outcome: .failure, error: error.description)
        }
        var directory = state.workspace
        if let directoryText, !directoryText.isEmpty {
            directory = directoryText.hasPrefix("/") ? URL(fileURLWithPath: directoryText) : state.workspace.appendingPathComponent(directoryText)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return StepResult(
                outcome: .failure,
                error: "working-directory '\(directoryText ?? directory.path)' does not exist in the workspace \(state.workspace.path)")
        }
        let scriptFile = run.temp.appendingPathComponent("\(UUID().uuidString.lowercased())\(shell.fileExtension)")
        do {
            try FileManager.default.createDirectory(at: run.temp, withIntermediateDirectories: true)
            try Data((shell.fileExtension == ".py" ? script : script + "\n").utf8).write(to: scriptFile)
        } catch {
            return StepResult(outcome: .failure, error: "cannot write the step's script to \(scriptFile.path): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: scriptFile) }
        let process = StepProcess(
            argv: shell.arguments(script: scriptFile.path), environment: environment, directory: directory.path, deadline: deadline,
            grace: run.configuration.cancelGrace)
        let scope = self.scope
        var splitter = LineSplitter()
        var processor = WorkflowCommandProcessor(masker: run.masker)
        var started: pid_t = 0
        let end: StepProcess.End
        do {
            end = try await process.run(
                shouldInterrupt: { !startedCancelled && scope.isCancelled },
                onStart: { started = $0 },
                output: { chunk in
                    for line in splitter.feed(chunk) { logger.handle(processor.process(line), annotations: &state.annotations, job: key) }
                    logger.flush()
                })
        } catch {
            return StepResult(outcome: .failure, error: error.description)
        }
        if started > 0 { state.processGroups.append(started) }
        if let last = splitter.finish() { logger.handle(processor.process(last), annotations: &state.annotations, job: key) }
        switch end {
        case .exited(0):
            return StepResult(outcome: .success)
        case .exited(let code):
            return StepResult(outcome: .failure, error: "Process completed with exit code \(code).")
        case .signaled(let signal):
            return StepResult(outcome: .failure, error: "The process was killed by signal \(signal).")
        case .timedOut:
            if deadlineIsJob { return StepResult(outcome: .cancelled, error: nil, jobTimedOut: true) }
            let minutes = step.timeoutMinutes ?? ""
            return StepResult(outcome: .failure, error: "The action '\(logger.stepName)' has timed out after \(minutes) minutes.")
        case .interrupted:
            return StepResult(outcome: .cancelled, error: "The operation was canceled.")
        }
    }
}

/// A shell as GitHub defines it: a command with `{0}` where the script file goes.
struct ShellCommand: Sendable {
    var template: [String]
    var fileExtension: String

    struct ShellError: Error, CustomStringConvertible {
        var description: String
    }

    func arguments(script: String) -> [String] { template.map { $0.replacingOccurrences(of: "{0}", with: script) } }

    /// The shell for `shell:` (nil: bash, or sh where there is no bash).
    static func resolve(_ shell: String?, path: String) throws(ShellError) -> ShellCommand {
        func exists(_ program: String) -> Bool { StepProcess.resolve(program, path: path).hasPrefix("/") }
        guard let shell = shell?.trimmingCharacters(in: .whitespaces), !shell.isEmpty else {
            return exists("bash")
                ? ShellCommand(template: ["bash", "-e", "{0}"], fileExtension: ".sh")
                : ShellCommand(template: ["sh", "-e", "{0}"], fileExtension: ".sh")
        }
        switch shell {
        case "bash": return ShellCommand(template: ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"], fileExtension: ".sh")
        case "sh": return ShellCommand(template: ["sh", "-e", "{0}"], fileExtension: ".sh")
        case "python": return ShellCommand(template: [exists("python3") ? "python3" : "python", "{0}"], fileExtension: ".py")
        case "pwsh":
            guard exists("pwsh") else { throw ShellError(description: "shell: pwsh needs PowerShell (pwsh) on PATH; it is not installed") }
            return ShellCommand(template: ["pwsh", "-command", ". '{0}'"], fileExtension: ".ps1")
        case "cmd", "powershell":
            throw ShellError(description: "shell: \(shell) runs only on Windows runners; use bash, sh, python, pwsh or a custom command with {0}")
        default:
            guard shell.contains("{0}") else {
                throw ShellError(
                    description: "shell: '\(shell)' is not bash, sh, python or pwsh, and a custom shell must contain {0} where the script file goes")
            }
            return ShellCommand(template: shell.split(separator: " ").map(String.init), fileExtension: "")
        }
    }
}

/// Shows and stores one step's output lines, applying groups, annotations and masking.
final class StepLogger: @unchecked Sendable {
    // Used by the one task that runs the step (and the action's log callback, called from that task); the lock guards
    // the buffer anyway.
    private let lock = NSLock()
    let run: RunEnvironment
    let jobName: String
    let stepName: String
    let logPath: String
    let debug: Bool
    private var inGroup = false
    private var buffer = ""

    init(run: RunEnvironment, jobName: String, stepName: String, logPath: String, debug: Bool) {
        self.run = run
        self.jobName = jobName
        self.stepName = stepName
        self.logPath = logPath
        self.debug = debug
    }

    /// A plain line (from Slipway or an action), masked.
    func line(_ text: String) {
        handle(.text(run.masker.mask(text)), annotations: nil, job: jobName)
    }

    func handle(_ line: OutputLine, annotations: inout [Annotation], job: String) {
        var collected: [Annotation] = []
        handle(line, collected: &collected, job: job)
        annotations += collected
    }

    private func handle(_ line: OutputLine, annotations: [Annotation]?, job: String) {
        var collected: [Annotation] = []
        handle(line, collected: &collected, job: job)
    }

    private func handle(_ line: OutputLine, collected: inout [Annotation], job: String) {
        lock.lock()
        defer { lock.unlock() }
        switch line {
        case .text(let text):
            run.output.output(job: jobName, step: stepName, line: text, indent: inGroup)
            buffer += text + "\n"
        case .groupStart(let title):
            run.output.output(job: jobName, step: stepName, line: "▸ \(title)", indent: false)
            inGroup = true
            buffer += "##[group]\(title)\n"
        case .groupEnd:
            inGroup = false
            buffer += "##[endgroup]\n"
        case .debug(let text):
            guard debug else { return }
            run.output.output(job: jobName, step: stepName, line: "##[debug]\(text)", indent: inGroup)
            buffer += "##[debug]\(text)\n"
        case .annotation(var annotation):
            annotation.job = job
            annotation.step = stepName
            collected.append(annotation)
            let label = annotation.level.prefix(1).uppercased() + annotation.level.dropFirst()
            let title = annotation.title.map { "\($0): " } ?? ""
            run.output.output(job: jobName, step: stepName, line: "\(label): \(title)\(annotation.message)", indent: inGroup)
            buffer += "##[\(annotation.level)]\(title)\(annotation.message)\n"
        case .none:
            break
        }
    }

    /// Writes what is buffered to the step's log.
    func flush() {
        lock.lock()
        let text = buffer
        buffer = ""
        lock.unlock()
        guard !text.isEmpty, !logPath.isEmpty else { return }
        try? run.store.appendLog(run: run.runID, path: logPath, text: text)
    }
}
