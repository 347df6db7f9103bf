public import Foundation
import SlipwayCore
import Synchronization
import Yams

/// Runs one workflow on this machine with GitHub Actions' semantics.
///
/// Jobs form a true DAG: a job (or matrix leg) starts as soon as all of its `needs` are done, bounded by the runners'
/// slots and `strategy.max-parallel`. A job whose needs did not succeed is skipped unless its `if` calls a status
/// function; `fail-fast` cancels the other legs of a failing matrix; `cancel()` stops running steps (SIGINT, then
/// SIGKILL after the grace period) while jobs and steps with `always()` still run.
///
/// ```swift
/// let execution = WorkflowExecution(workflow: workflow, configuration: config, store: FileRunStore(dataDir: data), output: live)
/// let record = try await execution.run()
/// ```
public final class WorkflowExecution: Sendable {
    public let workflow: Workflow
    public let configuration: RunConfiguration
    let store: any RunStore
    let output: LiveOutput
    private let runScope = CancelScope()
    private let runID = Mutex<String?>(nil)

    public init(workflow: Workflow, configuration: RunConfiguration, store: any RunStore, output: LiveOutput = .silent) {
        self.workflow = workflow
        self.configuration = configuration
        self.store = store
        self.output = output
    }

    /// Cancels the run: running steps are interrupted, jobs not started are cancelled unless their `if` says otherwise.
    public func cancel() { runScope.cancel() }

    /// Whether `cancel()` was called.
    public var isCancelled: Bool { runScope.isCancelled }

    /// The run's id once it has one.
    public var id: String? { runID.withLock { $0 } }

    /// Problems that keep a workflow from running, all at once: `uses:` of actions Slipway does not provide, `needs`
    /// on missing jobs and cycles, steps with neither `run` nor `uses`.
    public static func plan(_ workflow: Workflow, actions: ActionRegistry = .standard) -> [String] {
        var problems: [String] = []
        let ids = Set(workflow.jobs.map(\.id))
        for job in workflow.jobs {
            for need in job.needs where !ids.contains(need) {
                problems.append(
                    "\(workflow.file):\(job.location.line):\(job.location.column): job '\(job.id)' needs '\(need)', which is not a job of this workflow"
                )
            }
            for step in job.steps {
                let place = "\(workflow.file):\(step.location.line):\(step.location.column)"
                if let uses = step.uses {
                    do { _ = try actions.action(for: uses) } catch { problems.append("\(place): \(error.message)") }
                } else if step.run == nil {
                    problems.append("\(place): a step of job '\(job.id)' has neither run: nor uses:")
                }
            }
        }
        // Cycles: repeatedly remove jobs whose needs are all removed.
        var remaining = workflow.jobs.filter { $0.needs.allSatisfy(ids.contains) }
        var done = Set<String>()
        while true {
            let ready = remaining.filter { $0.needs.allSatisfy(done.contains) }
            if ready.isEmpty { break }
            for job in ready { done.insert(job.id) }
            remaining.removeAll { done.contains($0.id) }
        }
        if !remaining.isEmpty {
            problems.append("\(workflow.file): the needs of jobs \(remaining.map(\.id).joined(separator: ", ")) form a cycle")
        }
        if workflow.jobs.isEmpty { problems.append("\(workflow.file): the workflow has no jobs") }
        return problems
    }

    /// The `vars` of a data folder: `<dataDir>/vars.yml`, a map of names to values (empty when absent).
    public static func loadVars(dataDir: URL) throws -> [String: String] {
        let file = dataDir.appendingPathComponent("vars.yml")
        guard let data = FileManager.default.contents(atPath: file.path) else { return [:] }
        let text = String(decoding: data, as: UTF8.self)
        let parsed: Any?
        do { parsed = try Yams.load(yaml: text) } catch { throw PlanError(["\(file.path): not valid YAML: \(error)"]) }
        guard let parsed else { return [:] }
        guard let map = parsed as? [String: Any] else { throw PlanError(["\(file.path): must be a map of variable names to values"]) }
        var vars: [String: String] = [:]
        for (name, value) in map {
            switch value {
            case let text as String: vars[name] = text
            case let flag as Bool: vars[name] = flag ? "true" : "false"
            case let number as Int: vars[name] = String(number)
            case let number as Double: vars[name] = String(number)
            default: throw PlanError(["\(file.path): the value of '\(name)' must be a string, number or boolean"])
            }
        }
        return vars
    }

    /// Runs the workflow and returns its finished record (also stored).
    /// - Throws: `PlanError` or `DispatchInputs.InputError` before anything runs; store errors when the run cannot be recorded.
    public func run() async throws -> RunRecord {
        let problems = Self.plan(workflow, actions: configuration.actions)
        guard problems.isEmpty else { throw PlanError(problems) }
        var inputs = ExpressionObject()
        if configuration.event == "workflow_dispatch" {
            guard let dispatch = workflow.triggers.workflowDispatch else {
                throw PlanError(["\(workflow.file) does not run on workflow_dispatch (its on: has no workflow_dispatch)"])
            }
            inputs = try DispatchInputs.resolve(configuration.inputs, declared: dispatch.inputs)
        } else if !configuration.inputs.isEmpty {
            throw PlanError(["--input is only for --event workflow_dispatch"])
        }
        let vars = try configuration.vars ?? Self.loadVars(dataDir: configuration.dataDir)
        let masker = SecretMasker(secrets: Array(configuration.secrets.values))
        let git = configuration.git ?? GitInfo.read(at: configuration.project)
        let id = try store.newRunID()
        runID.withLock { $0 = id }
        let runNumber = try store.nextRunNumber(workflow: workflow.file)
        var record = RunRecord(
            id: id, workflow: workflow.file, workflowName: workflow.name ?? workflow.file, runNumber: runNumber, event: configuration.event,
            sha: git.sha ?? "", ref: git.branch.map { "refs/heads/\($0)" } ?? "", pid: getpid(), startedAt: Date())
        record.inputs = masker.mask(configuration.inputs)
        for job in workflow.jobs {
            var placeholder = JobRecord(key: job.id, jobId: job.id, name: job.name.flatMap { $0.contains("${{") ? nil : $0 } ?? job.id)
            placeholder.environment = job.environment?.name
            placeholder.waitingReason = job.needs.isEmpty ? nil : "waiting for needs: \(job.needs.joined(separator: ", "))"
            record.jobs.append(placeholder)
        }
        let recorder = RunRecorder(record: record, store: store, masker: masker)
        await recorder.update { _ in }
        let runners = configuration.runners ?? [LocalRunner.detect(extraLabels: configuration.extraLabels, capacity: configuration.parallelism)]
        let runFolder =
            (store as? FileRunStore).flatMap { try? $0.folder(id) }
            ?? configuration.dataDir.appendingPathComponent("runs").appendingPathComponent(id)
        let environment = RunEnvironment(
            configuration: configuration, workflow: workflow, runID: id, runNumber: runNumber, store: store, output: output, masker: masker,
            recorder: recorder, runFolder: runFolder, git: git, inputs: inputs, vars: vars, pool: RunnerPool(runners: runners), runScope: runScope)
        try? FileManager.default.createDirectory(at: environment.temp, withIntermediateDirectories: true)
        let clock = ContinuousClock()
        let started = clock.now
        output.note("Run \(id): \(workflow.name ?? workflow.file) (\(configuration.event))")

        var lease: ConcurrencyGroups.Lease?
        var startError: String?
        if let concurrency = workflow.concurrency {
            let context = ExpressionContext(contexts: environment.baseContexts(job: "", workspace: configuration.project.path))
            do {
                let group = try Template.render(concurrency.group, in: context)
                lease = try await ConcurrencyGroups(folder: configuration.dataDir.appendingPathComponent("concurrency")).acquire(
                    group: group, cancelInProgress: concurrency.cancelInProgress, run: id, cancelSelf: { [runScope] in runScope.cancel() },
                    isCancelled: { [runScope] in runScope.isCancelled },
                    waiting: { reason in
                        self.output.note("Run \(id) is \(reason)")
                    })
            } catch let error as ExpressionError {
                startError = "concurrency.group cannot be evaluated: \(error.message)"
            } catch {
                startError = "\(error)"
            }
        }
        await recorder.update { $0.state = .inProgress }
        if let startError {
            await recorder.update {
                $0.error = masker.mask(startError)
                for index in $0.jobs.indices {
                    $0.jobs[index].state = .completed
                    $0.jobs[index].conclusion = .skipped
                }
            }
        } else if runScope.isCancelled && lease == nil && workflow.concurrency != nil {
            await recorder.update {
                for index in $0.jobs.indices {
                    $0.jobs[index].state = .completed
                    $0.jobs[index].conclusion = .cancelled
                    $0.jobs[index].waitingReason = nil
                }
            }
        } else {
            await schedule(environment)
        }
        lease?.release()

        try? FileManager.default.removeItem(at: environment.temp)
        let finished = await recorder.record
        var conclusion: Conclusion
        if runScope.isCancelled {
            conclusion = .cancelled
        } else if startError != nil || finished.jobs.contains(where: { $0.conclusion == .failure }) {
            conclusion = .failure
        } else if finished.jobs.contains(where: { $0.conclusion == .cancelled }) {
            conclusion = .cancelled
        } else if !finished.jobs.isEmpty && finished.jobs.allSatisfy({ $0.conclusion == .skipped }) {
            conclusion = .skipped
        } else {
            conclusion = .success
        }
        await recorder.update {
            $0.state = .completed
            $0.conclusion = conclusion
            $0.finishedAt = Date()
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if let startError { output.note("Error: \(masker.mask(startError))") }
        output.note("Run \(id) \(output.conclusion(conclusion)) in \(LiveOutput.duration(seconds))")
        if let saveError = await recorder.saveError { output.note("Warning: the run record could not be saved: \(saveError)") }
        return await recorder.record
    }

    /// The result of a finished job as its dependents see it.
    private struct NeedResult {
        var result: Conclusion
        var outputs: [String: String]
        /// This job or one it needs (transitively) failed.
        var failedChain: Bool
        /// This job and all it needs (transitively) succeeded.
        var succeededChain: Bool
    }

    private struct LegDone: Sendable {
        var jobID: String
        var key: String
        var outcome: JobOutcome
    }

    /// Starts jobs as their needs finish, until every job is done.
    private func schedule(_ run: RunEnvironment) async {
        var results: [String: NeedResult] = [:]
        var pending = workflow.jobs.map(\.id)
        var legsLeft: [String: Int] = [:]
        var legOutcomes: [String: [JobOutcome]] = [:]
        var matrixScopes: [String: CancelScope] = [:]
        var shownReasons: [String: String] = [:]

        await withTaskGroup(of: LegDone.self) { group in
            while true {
                var progressed = true
                while progressed {
                    progressed = false
                    for id in pending {
                        guard let job = workflow.job(id), job.needs.allSatisfy({ results[$0] != nil }) else { continue }
                        pending.removeAll { $0 == id }
                        progressed = true
                        let decision = await decide(job, results: results, run: run)
                        switch decision {
                        case .finished(let conclusion, let error):
                            let needs = job.needs.compactMap { results[$0] }
                            results[id] = NeedResult(
                                result: conclusion, outputs: [:], failedChain: conclusion == .failure || needs.contains { $0.failedChain },
                                succeededChain: false)
                            await run.recorder.updateJob(id) {
                                $0.state = .completed
                                $0.conclusion = conclusion
                                $0.outcome = conclusion
                                $0.waitingReason = nil
                                $0.error = error.map { run.masker.mask($0) }
                            }
                            output.job(
                                id,
                                conclusion == .skipped
                                    ? "skipped" : "\(output.conclusion(conclusion))\(error.map { ": \(run.masker.mask($0))" } ?? "")")
                        case .start(let legs, let needsContext, _):
                            let matrixScope = CancelScope(parent: run.runScope.isCancelled ? nil : run.runScope)
                            matrixScopes[id] = matrixScope
                            legsLeft[id] = legs.count
                            var records: [JobRecord] = []
                            var keys: [String] = []
                            for (index, leg) in legs.enumerated() {
                                var key = job.strategy == nil ? id : MatrixExpansion.legName(job: id, leg: leg)
                                if keys.contains(key) { key += " #\(index + 1)" }
                                keys.append(key)
                                var record = JobRecord(key: key, jobId: id, name: key)
                                record.matrix = leg.entries.isEmpty ? nil : ExpressionValue.object(leg).json
                                record.environment = job.environment?.name
                                records.append(record)
                            }
                            await run.recorder.expand(id, into: records)
                            for (index, leg) in legs.enumerated() {
                                let key = keys[index]
                                var strategyContext = ExpressionObject()
                                strategyContext["fail-fast"] = .bool(job.strategy?.failFast ?? true)
                                strategyContext["job-index"] = .number(Double(index))
                                strategyContext["job-total"] = .number(Double(legs.count))
                                strategyContext["max-parallel"] = .number(Double(job.strategy?.maxParallel ?? legs.count))
                                let legStrategy = ExpressionValue.object(strategyContext)
                                group.addTask {
                                    let outcome = await self.runLeg(
                                        job, key: key, leg: leg, needs: needsContext, strategy: legStrategy, matrixScope: matrixScope, run: run)
                                    return LegDone(jobID: id, key: key, outcome: outcome)
                                }
                            }
                        }
                    }
                }
                // Show why each remaining job waits.
                for id in pending {
                    guard let job = workflow.job(id) else { continue }
                    let open = job.needs.filter { results[$0] == nil }
                    let reason = "waiting for needs: \(open.joined(separator: ", "))"
                    if shownReasons[id] != reason {
                        shownReasons[id] = reason
                        output.job(id, reason, style: .dim)
                        await run.recorder.updateJob(id) { $0.waitingReason = reason }
                    }
                }
                guard let done = await group.next() else { break }
                let id = done.jobID
                legOutcomes[id, default: []].append(done.outcome)
                if done.outcome.conclusion == .failure, let job = workflow.job(id), job.strategy?.failFast ?? true, (legsLeft[id] ?? 0) > 1 {
                    matrixScopes[id]?.cancel()
                }
                legsLeft[id, default: 1] -= 1
                if legsLeft[id] == 0, let job = workflow.job(id) {
                    let outcomes = legOutcomes[id] ?? []
                    let combined: Conclusion =
                        outcomes.contains { $0.conclusion == .failure }
                        ? .failure
                        : outcomes.contains { $0.conclusion == .cancelled }
                            ? .cancelled
                            : outcomes.allSatisfy { $0.conclusion == .skipped } ? .skipped : .success
                    var outputs: [String: String] = [:]
                    for outcome in outcomes { for (name, value) in outcome.outputs where !value.isEmpty { outputs[name] = value } }
                    let needs = job.needs.compactMap { results[$0] }
                    results[id] = NeedResult(
                        result: combined, outputs: outputs, failedChain: combined == .failure || needs.contains { $0.failedChain },
                        succeededChain: combined == .success && needs.allSatisfy(\.succeededChain))
                }
            }
        }
    }

    private enum Decision {
        case finished(Conclusion, String?)
        case start([ExpressionObject], needs: ExpressionValue, strategy: Bool)
    }

    /// Whether a job whose needs are done runs (and with which legs), or how it ends without running.
    private func decide(_ job: Job, results: [String: NeedResult], run: RunEnvironment) async -> Decision {
        var needs = ExpressionObject()
        for need in job.needs {
            guard let result = results[need] else { continue }
            var entry = ExpressionObject()
            entry["result"] = .string(result.result.rawValue)
            entry["outputs"] = .strings(result.outputs)
            needs[need] = .object(entry)
        }
        let needResults = job.needs.compactMap { results[$0] }
        let failedChain = needResults.contains { $0.failedChain }
        let succeededChain = needResults.allSatisfy(\.succeededChain)
        let cancelled = run.runScope.isCancelled
        var contexts = run.baseContexts(job: job.id, workspace: run.configuration.project.path)
        contexts["secrets"] = nil
        contexts["needs"] = .object(needs)
        let context = ExpressionContext(
            contexts: contexts, status: ExecutionStatus(failed: failedChain, cancelled: cancelled, incomplete: !succeededChain),
            hashFiles: run.hashFiles(workspace: run.configuration.project))
        if conditionUsesStatusFunction(job.condition) {
            do {
                guard try Template.condition(job.condition, in: context) else { return .finished(cancelled ? .cancelled : .skipped, nil) }
            } catch {
                return .finished(.failure, "The job's if: \(job.condition ?? "") cannot be evaluated: \(error.message)")
            }
        } else {
            if cancelled { return .finished(.cancelled, nil) }
            if !succeededChain { return .finished(.skipped, nil) }
            do {
                guard try Template.condition(job.condition, in: context) else { return .finished(.skipped, nil) }
            } catch {
                return .finished(.failure, "The job's if: \(job.condition ?? "") cannot be evaluated: \(error.message)")
            }
        }
        guard let strategy = job.strategy else { return .start([ExpressionObject()], needs: .object(needs), strategy: false) }
        do {
            let legs = try MatrixExpansion.legs(of: strategy.matrix, in: context)
            guard !legs.isEmpty else { return .finished(.failure, "strategy.matrix expands to no jobs") }
            return .start(legs, needs: .object(needs), strategy: true)
        } catch {
            return .finished(.failure, "strategy.matrix cannot be expanded: \(error.message)")
        }
    }

    /// Runs one leg: labels, concurrency group, hooks, a runner slot, then the steps.
    private func runLeg(
        _ job: Job, key: String, leg: ExpressionObject, needs: ExpressionValue, strategy: ExpressionValue, matrixScope: CancelScope,
        run: RunEnvironment
    ) async -> JobOutcome {
        let scope = CancelScope(parent: matrixScope)
        var contexts = run.baseContexts(job: job.id, workspace: run.configuration.project.path)
        contexts["needs"] = needs
        contexts["strategy"] = strategy
        contexts["matrix"] = .object(leg)
        let clock = ContinuousClock()
        let started = clock.now
        func finish(_ outcome: JobOutcome) async -> JobOutcome {
            let masked = run.masker.mask(outcome.outputs)
            await run.recorder.updateJob(key) {
                $0.state = .completed
                $0.conclusion = outcome.conclusion
                $0.outcome = outcome.outcome
                $0.outputs = masked
                $0.cached = outcome.cached
                $0.waitingReason = nil
                $0.finishedAt = Date()
                if let error = outcome.error { $0.error = run.masker.mask(error) }
            }
            let elapsed = clock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            var line = "\(output.conclusion(outcome.conclusion)) in \(LiveOutput.duration(seconds))"
            if outcome.conclusion != outcome.outcome { line += " (\(outcome.outcome.rawValue), continue-on-error)" }
            if let error = outcome.error { line += ": \(run.masker.mask(error))" }
            output.job(key, line)
            return outcome
        }
        func fail(_ message: String) async -> JobOutcome {
            await finish(JobOutcome(conclusion: .failure, outcome: .failure, outputs: [:], error: message))
        }
        let context = ExpressionContext(contexts: contexts, hashFiles: run.hashFiles(workspace: run.configuration.project))

        // Display name, labels, environment, limits.
        var name = key
        if let text = job.name {
            if text.contains("${{") {
                name = run.masker.mask((try? Template.render(text, in: context)) ?? text)
            } else if job.strategy != nil {
                name = MatrixExpansion.legName(job: text, leg: leg)
            } else {
                name = text
            }
        }
        let displayName = name
        await run.recorder.updateJob(key) { $0.name = displayName }
        var labels: [String] = []
        var environmentName: String?
        var timeout = 360.0
        var continueOnError = false
        do {
            for label in job.runsOn {
                let value = try Template.value(of: label, in: context)
                if case .array(let items) = value { labels += items.map(\.text) } else { labels.append(value.text) }
            }
            labels = labels.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let environment = job.environment { environmentName = try Template.render(environment.name, in: context) }
            if let text = job.timeoutMinutes { timeout = try parseMinutes(Template.value(of: text, in: context), field: "timeout-minutes") }
            if let text = job.continueOnError {
                switch text.trimmingCharacters(in: .whitespaces).lowercased() {
                case "true": continueOnError = true
                case "false": continueOnError = false
                default: continueOnError = try Template.value(of: text, in: context).isTruthy
                }
            }
        } catch {
            return await fail(error.message)
        }
        if let environmentName { await run.recorder.updateJob(key) { $0.environment = environmentName } }
        let runsHere = !run.configuration.remoteOnly && run.pool.canRun(labels)
        guard runsHere || run.configuration.dispatcher != nil else {
            let have = run.pool.runners.map { "\($0.name): \($0.labels.sorted().joined(separator: ", "))" }.joined(separator: "; ")
            return await fail(
                "No runner has all the labels [\(labels.joined(separator: ", "))] of runs-on (\(have)); add a label to the local runner "
                    + "with --label, change runs-on, or start a runner with those labels (`slipway runner --labels …`) and run with --server")
        }

        // Environment: workflow env (github, secrets, inputs, vars), then job env (adding needs, strategy, matrix, job, runner).
        var jobEnv: [(name: String, value: String)] = []
        do {
            let workflowContext = ExpressionContext(contexts: run.baseContexts(job: job.id, workspace: run.configuration.project.path))
            for (name, value) in workflow.env { jobEnv.append((name, try Template.render(value, in: workflowContext))) }
            for (name, value) in job.env {
                let rendered = try Template.render(value, in: context)
                if let index = jobEnv.firstIndex(where: { $0.name == name }) {
                    jobEnv[index].value = rendered
                } else {
                    jobEnv.append((name, rendered))
                }
            }
        } catch {
            return await fail("env cannot be evaluated: \(error.message)")
        }

        // Concurrency group of the job.
        var lease: ConcurrencyGroups.Lease?
        defer { lease?.release() }
        if let concurrency = job.concurrency {
            do {
                let group = try Template.render(concurrency.group, in: context)
                lease = try await ConcurrencyGroups(folder: run.configuration.dataDir.appendingPathComponent("concurrency")).acquire(
                    group: group, cancelInProgress: concurrency.cancelInProgress, run: "\(run.runID)/\(key)", cancelSelf: { scope.cancel() },
                    isCancelled: { scope.isCancelled },
                    waiting: { reason in self.output.job(key, reason, style: .dim) })
                if lease == nil { return await finish(JobOutcome(conclusion: .cancelled, outcome: .cancelled, outputs: [:])) }
            } catch {
                return await fail("concurrency: \(error)")
            }
        }

        // Hooks (cache lookups, approvals) before the job takes a runner.
        let envMap = Dictionary(jobEnv.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
        let liveOutput = self.output
        let masker = run.masker
        var hookContext = JobStartContext(
            runID: run.runID, key: key, job: job, matrix: leg, environment: environmentName, env: envMap,
            secretNames: run.configuration.secrets.keys.sorted(), workflowFile: workflow.file, needs: needs,
            inputs: run.configuration.inputs, workspace: run.configuration.project, actor: run.actor, branch: run.git.branch,
            log: { line in liveOutput.job(key, masker.mask(line), style: .dim) }, isCancelled: { scope.isCancelled })
        // A deployment environment's secrets reach the job only once its hooks (approval) let it start.
        var secretValues = Array(run.configuration.secrets.values)
        func loadEnvironmentSecrets() throws {
            guard let environmentName, let loader = run.configuration.environmentSecrets else { return }
            let extra = try loader(environmentName)
            guard !extra.isEmpty else { return }
            for value in extra.values { masker.add(value) }
            secretValues += extra.values
            hookContext.secretNames = Array(Set(hookContext.secretNames).union(extra.keys)).sorted()
            if case .object(var object) = contexts["secrets"] ?? .null {
                for (name, value) in extra.sorted(by: { $0.key < $1.key }) { object[name] = .string(value) }
                contexts["secrets"] = .object(object)
            } else {
                contexts["secrets"] = .strings(run.configuration.secrets.merging(extra) { $1 })
            }
        }
        var ranHooks: [any JobStartHook] = []
        for hook in run.configuration.hooks {
            do {
                let decision = try await hook.beforeStart(hookContext)
                if case .finished(let conclusion, let outputs, let cached) = decision {
                    return await finish(JobOutcome(conclusion: conclusion, outcome: conclusion, outputs: outputs, cached: cached))
                }
                ranHooks.append(hook)
                if hook is ApprovalHook { try loadEnvironmentSecrets() }
            } catch {
                return await fail(masker.mask("\(error)"))
            }
        }
        if !run.configuration.hooks.contains(where: { $0 is ApprovalHook }) {
            do { try loadEnvironmentSecrets() } catch { return await fail(masker.mask("\(error)")) }
        }

        // A remote runner, when no local one has the labels.
        if !runsHere, let dispatcher = run.configuration.dispatcher {
            var outcome = await runRemote(
                job, key: key, name: displayName, leg: leg, needs: needs, strategy: strategy, contexts: contexts, jobEnv: jobEnv, labels: labels,
                timeout: timeout, environmentName: environmentName, scope: scope, dispatcher: dispatcher, run: run)
            // The job's files are on the runner, not here: nothing local to store in the job cache.
            for hook in ranHooks where !(hook is JobCacheHook) {
                await hook.afterFinish(hookContext, conclusion: outcome.conclusion, outputs: outcome.outputs, secretValues: secretValues)
            }
            if outcome.conclusion == .failure && continueOnError {
                outcome.outcome = .failure
                outcome.conclusion = .success
            }
            return await finish(outcome)
        }

        // A runner slot.
        var runner: (any PipelineRunner)?
        var announced = false
        while runner == nil {
            // A cancelled task would not sleep below: it ends the job as cancelled too.
            if scope.isCancelled || Task.isCancelled { return await finish(JobOutcome(conclusion: .cancelled, outcome: .cancelled, outputs: [:])) }
            runner = await run.pool.tryAcquire(labels: labels, job: job.id, maxParallel: job.strategy?.maxParallel)
            if runner == nil {
                if !announced {
                    announced = true
                    let reason = "waiting for a free runner"
                    output.job(key, reason, style: .dim)
                    await run.recorder.updateJob(key) { $0.waitingReason = reason }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        guard let runner else { return await fail("no runner") }
        await run.recorder.updateJob(key) {
            $0.state = .inProgress
            $0.waitingReason = nil
            $0.runner = runner.name
            $0.startedAt = Date()
        }
        output.job(key, "started on \(runner.name)\(environmentName.map { " (environment \($0))" } ?? "")", style: .bold)
        var runnerObject = ExpressionObject()
        runnerObject["name"] = .string(runner.name)
        runnerObject["os"] = .string((runner as? LocalRunner)?.os ?? "Linux")
        runnerObject["arch"] = .string((runner as? LocalRunner)?.arch ?? "X64")
        runnerObject["temp"] = .string(run.temp.path)
        runnerObject["tool_cache"] = .string(run.configuration.dataDir.appendingPathComponent("tool-cache").path)
        runnerObject["debug"] = .string(run.debug ? "1" : "")
        contexts["runner"] = .object(runnerObject)
        let execution = JobExecution(
            run: run, key: key, name: displayName, job: job, contexts: contexts, jobEnv: jobEnv, runner: runner, scope: scope, timeoutMinutes: timeout
        )
        var outcome = await execution.execute()
        await run.pool.release(runner: runner.name, job: job.id)
        for hook in ranHooks {
            await hook.afterFinish(hookContext, conclusion: outcome.conclusion, outputs: outcome.outputs, secretValues: secretValues)
        }
        if outcome.conclusion == .failure && continueOnError {
            outcome.outcome = .failure
            outcome.conclusion = .success
        }
        return await finish(outcome)
    }

    /// Runs a leg on a remote runner through the dispatcher: the runner's lines are shown and its step logs written as
    /// they stream in; its steps, summary, annotations and artifacts join the run's record when it ends.
    private func runRemote(
        _ job: Job, key: String, name: String, leg: ExpressionObject, needs: ExpressionValue, strategy: ExpressionValue,
        contexts: [String: ExpressionValue], jobEnv: [(name: String, value: String)], labels: [String], timeout: Double, environmentName: String?,
        scope: CancelScope, dispatcher: any JobDispatcher, run: RunEnvironment
    ) async -> JobOutcome {
        var secrets: [String: String] = [:]
        if case .object(let object) = contexts["secrets"] ?? .null {
            for entry in object.entries { secrets[entry.key] = entry.value.text }
        }
        let artifactFolder = run.runFolder.appendingPathComponent("artifacts")
        let artifacts = ArtifactLocations.indexes(in: artifactFolder)
        let payload = RemoteJob(
            runID: run.runID, runNumber: run.runNumber, key: key, name: name, jobId: job.id, workflowFile: workflow.file,
            workflowSource: workflow.source, event: run.configuration.event, inputs: run.configuration.inputs,
            inputsContext: ExpressionValue.object(run.inputs).jsonText(), secrets: secrets, vars: run.vars, git: GitSnapshot(run.git),
            actor: run.actor, verbose: run.configuration.verbose,
            cancelGraceMilliseconds: Int64(run.configuration.cancelGrace.components.seconds * 1000)
                + Int64(run.configuration.cancelGrace.components.attoseconds / 1_000_000_000_000_000),
            needs: needs.jsonText(), strategy: strategy.jsonText(), matrix: ExpressionValue.object(leg).jsonText(),
            env: jobEnv.map { RemoteJob.EnvPair(name: $0.name, value: $0.value) }, timeoutMinutes: timeout, environment: environmentName,
            workspace: nil, artifacts: artifacts)
        let output = self.output
        let masker = run.masker
        let recorder = run.recorder
        let store = run.store
        let runID = run.runID
        do {
            // GitHub-hosted runner names stand for their OS on self-hosted runners (`ubuntu-latest` → `linux`).
            var remoteLabels: [String] = []
            for label in labels.map({ $0.lowercased() }) {
                let mapped =
                    label.hasPrefix("ubuntu-") ? "linux" : label.hasPrefix("macos-") ? "macos" : label.hasPrefix("windows-") ? "windows" : label
                if !remoteLabels.contains(mapped) { remoteLabels.append(mapped) }
            }
            let result = try await dispatcher.run(
                payload, labels: remoteLabels,
                update: { update in
                    switch update {
                    case .waiting(let reason):
                        output.job(key, reason, style: .dim)
                        await recorder.updateJob(key) { $0.waitingReason = reason }
                    case .started(let runner):
                        output.job(key, "started on remote runner \(runner)\(environmentName.map { " (environment \($0))" } ?? "")", style: .bold)
                        await recorder.updateJob(key) {
                            $0.state = .inProgress
                            $0.waitingReason = nil
                            $0.runner = runner
                            $0.startedAt = Date()
                        }
                    case .event(let event):
                        if let line = event.console { output.note(masker.mask(line)) }
                        if let path = event.log, let text = event.text { try? store.appendLog(run: runID, path: path, text: masker.mask(text)) }
                    }
                }, isCancelled: { scope.isCancelled })
            await recorder.updateJob(key) {
                $0.steps = result.steps
                $0.summary = masker.mask(result.summary)
                $0.runner = result.runner
            }
            await recorder.annotate(result.annotations)
            ArtifactLocations.write(result.artifacts, in: artifactFolder)
            return JobOutcome(conclusion: result.conclusion, outcome: result.outcome, outputs: result.outputs, error: result.error)
        } catch {
            if scope.isCancelled { return JobOutcome(conclusion: .cancelled, outcome: .cancelled, outputs: [:]) }
            return JobOutcome(conclusion: .failure, outcome: .failure, outputs: [:], error: "remote runner: \(error)")
        }
    }
}
