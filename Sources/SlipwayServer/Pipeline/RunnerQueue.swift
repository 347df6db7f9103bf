import Foundation
import SlipwayCore

/// The control plane's queue of pipeline jobs and the remote runners that take them (`slipway runner`).
///
/// A run (`slipway run --server URL`) submits a job with the `runs-on` labels it needs; a runner long-polls for work
/// and gets the oldest queued job whose labels it all has. The runner streams the job's lines back (which also tell it
/// whether the job was cancelled) and posts the result; the run follows the job's lines and state. A runner not heard
/// from for ``runnerTimeout`` is offline, and a job it held fails. The queue lives in the server's memory: a restart
/// forgets queued jobs, and the runs waiting on them fail with a clear error.
actor RunnerQueue {
    typealias Runner = RunnerWire.Runner
    typealias JobStatus = RunnerWire.JobStatus
    typealias Assignment = RunnerWire.Assignment

    private struct Job {
        var id: String
        var name: String
        var run: String
        var labels: [String]
        var payload: String
        var state = "queued"
        var runner: String?
        var runnerName: String?
        var cancelRequested = false
        var createdAt = Date()
        var startedAt: Date?
        var finishedAt: Date?
        var lines: [String] = []
        /// The index of `lines[0]` in the job's whole stream (older lines are dropped past ``maximumLines``).
        var firstLine = 0
        var result: String?
        var error: String?
        /// When the run last asked for the job's state: a job nobody follows any more is cancelled.
        var followedAt = Date()
    }

    /// A job whose run has not asked about it for this long is cancelled (the run is gone).
    static let followTimeout: TimeInterval = 120
    static let runnerTimeout: TimeInterval = 60
    static let maximumLines = 200_000
    static let maximumJobs = 2_000
    static let maximumLabels = 32

    private var runners: [String: Runner] = [:]
    private var jobs: [String: Job] = [:]
    private var queue: [String] = []
    private var runnerWaiters: [String: (token: UUID, continuation: CheckedContinuation<Assignment?, Never>)] = [:]
    private var jobWaiters: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
    private let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date = { Date() }) { self.now = now }

    // MARK: Validation

    /// Lower-cased, validated labels.
    static func labels(_ given: [String]) throws -> [String] {
        guard given.count <= maximumLabels else { throw GenericError(.invalidArgument, "at most \(maximumLabels) labels, not \(given.count)") }
        var result: [String] = []
        for label in given {
            let text = label.trimmingCharacters(in: .whitespaces).lowercased()
            guard !text.isEmpty, text.count <= 64,
                text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
            else {
                throw GenericError(.invalidArgument, "'\(label.prefix(80))' is not a runner label (letters, digits, '-', '_', '.'; at most 64)")
            }
            if !result.contains(text) { result.append(text) }
        }
        return result
    }

    static func name(_ given: String, what: String) throws -> String {
        let text = given.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.count <= 256, !text.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw GenericError(.invalidArgument, "the \(what) must be 1 to 256 characters on one line")
        }
        return text
    }

    // MARK: Runners

    func register(name: String, labels: [String], ephemeral: Bool) throws -> Runner {
        let runner = Runner(
            id: "rnr_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), name: try Self.name(name, what: "runner name"),
            labels: try Self.labels(labels), ephemeral: ephemeral, state: "idle", job: nil, registeredAt: now(), lastSeenAt: now(), jobsTaken: 0)
        runners[runner.id] = runner
        return runner
    }

    func list() -> [Runner] {
        sweep()
        return runners.values.sorted { ($0.registeredAt, $0.id) < ($1.registeredAt, $1.id) }
    }

    /// Removes a runner; a job it runs fails.
    func remove(runner id: String) throws {
        guard let runner = runners.removeValue(forKey: id) else { throw GenericError(.notFound, "no runner '\(id.prefix(80))'") }
        runnerWaiters.removeValue(forKey: id)?.continuation.resume(returning: nil)
        if let job = runner.job, jobs[job]?.state == "running" {
            finish(job, error: "runner \(runner.name) was removed while it ran the job")
        }
    }

    /// The next job for a runner, waiting up to `wait` seconds for one.
    func next(runner id: String, wait: Double) async throws -> Assignment? {
        guard var runner = runners[id] else {
            throw GenericError(.notFound, "no runner '\(id.prefix(80))' (a restarted server forgets its runners: register again)")
        }
        runner.lastSeenAt = now()
        if runner.state == "offline" { runner.state = runner.job == nil ? "idle" : "busy" }
        runners[id] = runner
        if let current = runner.job, jobs[current]?.state == "running" {
            throw GenericError(.failedPrecondition, "runner \(runner.name) still runs job \(current); post its result first")
        }
        if runner.ephemeral && runner.jobsTaken > 0 {
            throw GenericError(.failedPrecondition, "runner \(runner.name) is ephemeral and has taken its one job")
        }
        sweep()
        if let assignment = assign(to: id) { return assignment }
        guard wait > 0 else { return nil }
        // One waiting poll per runner: a second replaces the first.
        runnerWaiters.removeValue(forKey: id)?.continuation.resume(returning: nil)
        let token = UUID()
        return await withCheckedContinuation { continuation in
            runnerWaiters[id] = (token, continuation)
            Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
                await self?.expireWait(runner: id, token: token)
            }
        }
    }

    private func expireWait(runner id: String, token: UUID) {
        // Only the waiter this timer belongs to (a later poll may have replaced it).
        guard runnerWaiters[id]?.token == token else { return }
        runnerWaiters.removeValue(forKey: id)?.continuation.resume(returning: nil)
    }

    /// Gives the oldest queued job the runner can take to it.
    private func assign(to runnerID: String) -> Assignment? {
        guard var runner = runners[runnerID], runner.job == nil else { return nil }
        let own = Set(runner.labels)
        guard let index = queue.firstIndex(where: { id in jobs[id].map { $0.labels.allSatisfy(own.contains) } ?? false }) else { return nil }
        let jobID = queue.remove(at: index)
        guard var job = jobs[jobID] else { return nil }
        job.state = "running"
        job.runner = runnerID
        job.runnerName = runner.name
        job.startedAt = now()
        jobs[jobID] = job
        runner.job = jobID
        runner.state = "busy"
        runner.jobsTaken += 1
        runner.lastSeenAt = now()
        runners[runnerID] = runner
        notify(jobID)
        return Assignment(id: jobID, name: job.name, payload: job.payload)
    }

    // MARK: Jobs

    func submit(name: String, run: String, labels: [String], payload: String) throws -> JobStatus {
        var job = Job(
            id: "job_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), name: try Self.name(name, what: "job name"),
            run: try Self.name(run, what: "run id"), labels: try Self.labels(labels), payload: payload)
        sweep()
        guard jobs.count < Self.maximumJobs else {
            throw GenericError(.unavailable, "the server holds \(Self.maximumJobs) pipeline jobs; wait for some to finish")
        }
        job.followedAt = now()
        jobs[job.id] = job
        queue.append(job.id)
        // A waiting runner that can take it gets it at once.
        for (runnerID, waiter) in runnerWaiters {
            if let assignment = assign(to: runnerID) {
                runnerWaiters.removeValue(forKey: runnerID)
                waiter.continuation.resume(returning: assignment)
                break
            }
        }
        return status(job.id, after: 0)
    }

    /// A job's state and its lines from `after`, waiting up to `wait` seconds for something new.
    func status(of id: String, after: Int, wait: Double) async throws -> JobStatus {
        sweep()
        guard let job = jobs[id] else { throw GenericError(.notFound, "no pipeline job '\(id.prefix(80))'") }
        let hasNews = job.firstLine + job.lines.count > after || job.state == "completed" || job.state == "cancelled"
        if !hasNews && wait > 0 {
            let token = UUID()
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                jobWaiters[id, default: [:]][token] = continuation
                Task { [weak self] in
                    try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
                    await self?.expireStatusWait(job: id, token: token)
                }
            }
            sweep()
        }
        guard jobs[id] != nil else { throw GenericError(.notFound, "no pipeline job '\(id.prefix(80))'") }
        jobs[id]?.followedAt = now()
        return status(id, after: after)
    }

    private func expireStatusWait(job: String, token: UUID) {
        jobWaiters[job]?.removeValue(forKey: token)?.resume()
    }

    private func notify(_ job: String) {
        guard let waiters = jobWaiters.removeValue(forKey: job) else { return }
        for continuation in waiters.values { continuation.resume() }
    }

    private func status(_ id: String, after: Int) -> JobStatus {
        guard let job = jobs[id] else {
            return JobStatus(
                id: id, name: "", run: "", labels: [], state: "cancelled", cancelRequested: true, createdAt: now(), lines: [], next: after)
        }
        let start = max(after, job.firstLine)
        let lines = start - job.firstLine < job.lines.count ? Array(job.lines[(start - job.firstLine)...]) : []
        var reason: String?
        if job.state == "queued" {
            let label = "[\(job.labels.joined(separator: ", "))]"
            let live = runners.values.filter { $0.state != "offline" }
            let able = live.filter { runner in job.labels.allSatisfy(runner.labels.contains) }
            if able.isEmpty {
                reason =
                    live.isEmpty
                    ? "waiting for a runner with labels \(label) (no runner is registered: start one with `slipway runner --labels …`)"
                    : "waiting for a runner with labels \(label) (\(live.count) registered, none has them all)"
            } else {
                reason = "waiting for a runner with labels \(label) (\(able.count) can take it, all busy)"
            }
        }
        return JobStatus(
            id: job.id, name: job.name, run: job.run, labels: job.labels, state: job.state, runner: job.runnerName, waitingReason: reason,
            cancelRequested: job.cancelRequested, createdAt: job.createdAt, startedAt: job.startedAt, finishedAt: job.finishedAt, lines: lines,
            next: job.firstLine + job.lines.count, result: job.result, error: job.error)
    }

    /// Lines from the runner running the job; answers whether the job was cancelled.
    func append(job id: String, runner: String, lines: [String]) throws -> Bool {
        guard var job = jobs[id] else { throw GenericError(.notFound, "no pipeline job '\(id.prefix(80))'") }
        guard job.runner == runner, job.state == "running" else {
            throw GenericError(.failedPrecondition, "job \(id) is not running on runner \(runner.prefix(80))")
        }
        runners[runner]?.lastSeenAt = now()
        job.lines += lines
        if job.lines.count > Self.maximumLines {
            let drop = job.lines.count - Self.maximumLines
            job.lines.removeFirst(drop)
            job.firstLine += drop
        }
        jobs[id] = job
        if !lines.isEmpty { notify(id) }
        return job.cancelRequested
    }

    /// The result from the runner that ran the job.
    func complete(job id: String, runner: String, result: String) throws {
        guard let job = jobs[id] else { throw GenericError(.notFound, "no pipeline job '\(id.prefix(80))'") }
        guard job.runner == runner, job.state == "running" else {
            throw GenericError(.failedPrecondition, "job \(id) is not running on runner \(runner.prefix(80))")
        }
        guard let data = result.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw GenericError(.invalidArgument, "the result must be a JSON object")
        }
        var updated = job
        updated.result = result
        jobs[id] = updated
        finish(id, error: nil)
    }

    /// Cancels a job: a queued one ends at once, a running one is told on its runner's next call.
    func cancel(job id: String) throws -> JobStatus {
        guard var job = jobs[id] else { throw GenericError(.notFound, "no pipeline job '\(id.prefix(80))'") }
        // A job that has ended stays as it ended.
        guard job.state == "queued" || job.state == "running" else { return status(id, after: job.firstLine + job.lines.count) }
        job.cancelRequested = true
        jobs[id] = job
        if job.state == "queued" {
            queue.removeAll { $0 == id }
            job.state = "cancelled"
            job.finishedAt = now()
            job.error = "cancelled before a runner took it"
            jobs[id] = job
        }
        notify(id)
        return status(id, after: job.firstLine + job.lines.count)
    }

    private func finish(_ id: String, error: String?) {
        guard var job = jobs[id] else { return }
        job.state = "completed"
        job.finishedAt = now()
        if let error { job.error = error }
        jobs[id] = job
        if let runnerID = job.runner, var runner = runners[runnerID], runner.job == id {
            runner.job = nil
            runner.state = "idle"
            if runner.ephemeral {
                runners.removeValue(forKey: runnerID)
            } else {
                runners[runnerID] = runner
            }
        }
        notify(id)
    }

    /// Marks silent runners offline (failing their jobs) and forgets old finished jobs.
    private func sweep() {
        let time = now()
        for (id, runner) in runners where runner.state != "offline" && time.timeIntervalSince(runner.lastSeenAt) > Self.runnerTimeout {
            if runnerWaiters[id] != nil { continue }
            var offline = runner
            offline.state = "offline"
            let job = offline.job
            offline.job = nil
            runners[id] = offline
            if let job, jobs[job]?.state == "running" {
                finish(job, error: "runner \(runner.name) stopped answering (nothing heard for \(Int(Self.runnerTimeout)) s)")
            }
        }
        // Jobs whose run stopped following them: a queued one leaves the queue, a running one is cancelled on its runner.
        for job in jobs.values where (job.state == "queued" || job.state == "running") && !job.cancelRequested
            && time.timeIntervalSince(job.followedAt) > Self.followTimeout
        {
            jobs[job.id]?.cancelRequested = true
            if job.state == "queued" {
                queue.removeAll { $0 == job.id }
                jobs[job.id]?.state = "cancelled"
                jobs[job.id]?.finishedAt = time
                jobs[job.id]?.error = "the run stopped following the job (nothing asked for \(Int(Self.followTimeout)) s)"
            }
        }
        let old = jobs.values.filter { ($0.state == "completed" || $0.state == "cancelled") && time.timeIntervalSince($0.finishedAt ?? time) > 3600 }
        for job in old { jobs.removeValue(forKey: job.id) }
    }
}
