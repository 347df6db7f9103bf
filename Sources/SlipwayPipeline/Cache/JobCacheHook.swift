public import Foundation
import SlipwayCore

/// Skips a job with `cache:` whose key was seen before, restoring its outputs; after a job with
/// `cache:` succeeds, stores them under its key.
///
/// `force` names jobs (ids or leg names) that run even on a hit; `enabled` false (`--no-cache`)
/// neither looks up nor stores.
public final class JobCacheHook: JobStartHook, @unchecked Sendable {
    public let store: JobCacheStore
    public let digests: FileDigestCache
    public let enabled: Bool
    public let force: Set<String>
    private let lock = NSLock()
    private var keys: [String: JobCacheKey] = [:]

    public init(dataDir: URL, enabled: Bool = true, force: Set<String> = []) throws {
        store = try JobCacheStore(dataDir: dataDir)
        digests = FileDigestCache(file: dataDir.appendingPathComponent("cache/file-digests.json"))
        self.enabled = enabled
        self.force = force
    }

    public func beforeStart(_ job: JobStartContext) async throws -> JobStartDecision {
        guard enabled, job.job.cache != nil else { return .run }
        let key = try JobCacheKey.compute(
            JobCacheKey.Parts(
                workflowFile: job.workflowFile, job: job.job, matrix: job.matrix, env: job.env, needs: job.needs, inputs: job.inputs,
                secretNames: job.secretNames),
            workspace: job.workspace, digests: digests)
        digests.save()
        lock.withLock { keys[job.runID + "/" + job.key] = key }
        if force.contains(job.key) || force.contains(job.job.id) {
            job.log("cache: forced to run (key \(key.value.prefix(12)))")
            return .run
        }
        guard let entry = await store.lookup(key.value) else {
            job.log("cache: miss (key \(key.value.prefix(12)), \(key.inputFiles) input files)")
            return .run
        }
        try await store.restore(entry, into: job.workspace, digests: digests)
        digests.save()
        job.log("cache: hit (key \(key.value.prefix(12))), restored \(entry.files.count) output path(s) from \(Timestamp.format(entry.createdAt))")
        return .finished(conclusion: .success, outputs: entry.jobOutputs, cached: true)
    }

    public func afterFinish(_ job: JobStartContext, conclusion: Conclusion, outputs: [String: String], secretValues: [String]) async {
        guard enabled, conclusion == .success, let cache = job.job.cache else { return }
        guard let key = lock.withLock({ keys.removeValue(forKey: job.runID + "/" + job.key) }) else { return }
        do {
            try await store.save(
                key: key.value, workflow: job.workflowFile, job: job.key, jobOutputs: outputs, outputPaths: cache.outputs,
                workspace: job.workspace, secretValues: secretValues)
            job.log("cache: stored (key \(key.value.prefix(12)))")
        } catch {
            job.log("cache: not stored: \(error)")
        }
    }
}
