import Synchronization

/// Runs a workflow again after an earlier run (`slipway runs rerun`).
///
/// With `failedOnly`, a job whose every leg succeeded in the earlier run is not run again: the hook answers
/// `.finished` with its earlier conclusion and outputs, so `needs.<job>.outputs` still work for the jobs that do
/// run. A job runs again when one of its legs failed, was cancelled or was skipped in the earlier run (a failure
/// turned into success by `continue-on-error` counts as a failure), when it was not part of that run, and when a job
/// it needs (directly or not) runs again. Jobs are matched by id, matrix legs by their name.
///
/// Without `failedOnly` every job runs; the hook only marks the new run as a rerun. Put it first among the hooks, so a
/// job taken from the earlier run neither waits for an approval nor looks up the cache. Save the run through
/// ``store(wrapping:)`` so that its record says which run it reruns, and which jobs it took from there, while it runs.
///
/// ```swift
/// let rerun = RerunHook(original: earlier, workflow: workflow, failedOnly: true)
/// configuration.hooks = [rerun] + configuration.hooks
/// let execution = WorkflowExecution(workflow: workflow, configuration: configuration, store: rerun.store(wrapping: store))
/// ```
public final class RerunHook: JobStartHook {
    /// The run being rerun.
    public let original: RunRecord
    /// Whether only failed, cancelled and skipped jobs (and the jobs that need them) run again.
    public let failedOnly: Bool
    /// The ids of the jobs that take their result from the earlier run instead of running (empty without `failedOnly`).
    public let reusableJobs: Set<String>
    /// Job keys answered from the earlier run so far, with the run each result comes from.
    private let reused = Mutex<[String: String]>([:])

    /// A rerun of `original`, a run of `workflow` (as the workflow file reads now).
    public init(original: RunRecord, workflow: Workflow, failedOnly: Bool) {
        self.original = original
        self.failedOnly = failedOnly
        reusableJobs = failedOnly ? Self.reusableJobs(of: original, in: workflow) : []
    }

    /// The jobs of `workflow` whose result `original` can give: every leg of the job succeeded there, and so did
    /// every job it needs, directly or not.
    public static func reusableJobs(of original: RunRecord, in workflow: Workflow) -> Set<String> {
        var succeeded = Set<String>()
        for job in workflow.jobs {
            let legs = original.jobs.filter { $0.jobId == job.id }
            let allSucceeded = legs.allSatisfy { $0.state == .completed && $0.conclusion == .success && ($0.outcome ?? .success) == .success }
            if !legs.isEmpty && allSucceeded { succeeded.insert(job.id) }
        }
        // A job is reusable once every job it needs is; the rest (and jobs in a cycle) run again.
        var reusable = Set<String>()
        var changed = true
        while changed {
            changed = false
            for job in workflow.jobs where !reusable.contains(job.id) && succeeded.contains(job.id) {
                if job.needs.allSatisfy(reusable.contains) {
                    reusable.insert(job.id)
                    changed = true
                }
            }
        }
        return reusable
    }

    public func beforeStart(_ job: JobStartContext) async throws -> JobStartDecision {
        guard failedOnly, reusableJobs.contains(job.job.id), let earlier = original.job(job.key), earlier.conclusion == .success else {
            return .run
        }
        // A result the earlier run itself took from another run names the run where the job really ran.
        let source = earlier.reusedFrom ?? original.id
        reused.withLock { $0[job.key] = source }
        job.log("reused: succeeded in run \(source), not run again")
        return .finished(conclusion: .success, outputs: earlier.outputs, cached: false)
    }

    /// Job keys taken from an earlier run so far, with the run each result comes from.
    public var reusedJobs: [String: String] { reused.withLock { $0 } }

    /// Marks a record of the new run: `rerunOf`, and `reusedFrom` on the jobs taken from an earlier run.
    public func mark(_ record: inout RunRecord) {
        record.rerunOf = original.id
        let sources = reusedJobs
        for index in record.jobs.indices {
            if let source = sources[record.jobs[index].key] { record.jobs[index].reusedFrom = source }
        }
    }

    /// `store`, with every record saved through it marked by ``mark(_:)``.
    public func store(wrapping store: any RunStore) -> any RunStore { MarkingStore(base: store, hook: self) }

    /// Forwards to another store, marking each record it saves as a rerun.
    private struct MarkingStore: RunStore {
        let base: any RunStore
        let hook: RerunHook

        func newRunID() throws -> String { try base.newRunID() }
        func nextRunNumber(workflow: String) throws -> Int { try base.nextRunNumber(workflow: workflow) }
        func save(_ record: RunRecord) throws {
            var marked = record
            hook.mark(&marked)
            try base.save(marked)
        }
        func load(_ id: String) throws -> RunRecord { try base.load(id) }
        func list() throws -> [RunRecord] { try base.list() }
        func appendLog(run: String, path: String, text: String) throws { try base.appendLog(run: run, path: path, text: text) }
        func log(run: String, path: String) throws -> String { try base.log(run: run, path: path) }
    }
}
