import Foundation
import NIOHTTP1
import SlipwayCore
import SlipwayPipeline
import SlipwayServer
import SlipwayStore

/// Sends a run's jobs to remote runners through the control plane (`slipway run --server URL`).
///
/// For each job: the project's files are packed and stored on the server's artifact store (the runner's workspace),
/// the run's artifacts so far are sent along, the job is queued with its `runs-on` labels, and its lines are followed
/// until the runner posts the result; the artifacts the job uploaded are then fetched into the local store.
struct ServerJobDispatcher: JobDispatcher {
    let plane: ControlPlane
    let project: URL
    let dataDir: URL

    struct Empty: Decodable {}

    func run(
        _ job: RemoteJob, labels: [String], update: @escaping @Sendable (RemoteJobUpdate) async -> Void, isCancelled: @escaping @Sendable () -> Bool
    ) async throws -> RemoteJobResult {
        let store = try LocalArtifactStore(root: dataDir.appendingPathComponent("artifacts"))
        let scratch = dataDir.appendingPathComponent("tmp")
        var job = job
        // The workspace and the artifacts so far.
        let archive = try WorkspaceArchive.pack(project: project, dataDir: dataDir, into: scratch)
        defer { try? FileManager.default.removeItem(at: archive) }
        let workspace = try await store.putFile(at: archive)
        try await plane.push([workspace.digest], from: store)
        job.workspace = workspace.digest.description
        try await plane.pushArtifacts(job.artifacts, from: store)

        let payload = String(decoding: try SlipwayJSON.encoder().encode(job), as: UTF8.self)
        guard
            let submitted = try await plane.call(
                .POST, "pipeline-jobs", body: RunnerWire.SubmitJob(name: job.key, run: job.runID, labels: labels, payload: payload), as: RunnerWire.JobStatus.self)
        else { throw GenericError(.internal, "the server did not queue the job") }
        var next = 0
        var shownReason = submitted.waitingReason
        if let reason = shownReason { await update(.waiting(reason)) }
        var started = false
        var cancelSent = false
        var cancelDeadline: ContinuousClock.Instant?
        let clock = ContinuousClock()
        while true {
            if isCancelled() && !cancelSent {
                cancelSent = true
                cancelDeadline = clock.now + job.cancelGrace + .seconds(30)
                _ = try? await plane.call(.POST, "pipeline-jobs/\(submitted.id)/cancel", as: RunnerWire.JobStatus.self)
            }
            if let cancelDeadline, clock.now > cancelDeadline {
                throw GenericError(.unavailable, "the runner did not confirm the cancellation of \(job.key)")
            }
            let status: RunnerWire.JobStatus
            do {
                guard let answer = try await plane.call(.GET, "pipeline-jobs/\(submitted.id)?after=\(next)&wait=\(cancelSent ? 1 : 10)", as: RunnerWire.JobStatus.self, timeout: 40)
                else { throw GenericError(.internal, "the server sent no job status") }
                status = answer
            } catch let error as GenericError where error.kind == .unavailable {
                // A brief outage: try again, unless the run is over.
                if isCancelled() { throw error }
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if let reason = status.waitingReason, status.state == "queued", reason != shownReason {
                shownReason = reason
                await update(.waiting(reason))
            }
            if !started, let runner = status.runner, status.state != "queued" {
                started = true
                await update(.started(runner: runner))
            }
            for line in status.lines {
                guard let event = try? SlipwayJSON.decoder().decode(RemoteEvent.self, from: Data(line.utf8)) else { continue }
                await update(.event(event))
            }
            next = status.next
            switch status.state {
            case "completed":
                guard let text = status.result else {
                    return RemoteJobResult(
                        conclusion: cancelSent ? .cancelled : .failure, outcome: cancelSent ? .cancelled : .failure, outputs: [:],
                        error: status.error ?? "the runner posted no result", runner: status.runner ?? "?")
                }
                let result: RemoteJobResult
                do { result = try SlipwayJSON.decoder().decode(RemoteJobResult.self, from: Data(text.utf8)) } catch {
                    throw GenericError(.corrupted, "runner \(status.runner ?? "?") posted a result that is not a job result: \(error)")
                }
                try await plane.pullArtifacts(result.artifacts, into: store, folder: scratch)
                return result
            case "cancelled":
                return RemoteJobResult(conclusion: .cancelled, outcome: .cancelled, outputs: [:], error: nil, runner: status.runner ?? "")
            default:
                continue
            }
        }
    }
}

extension RemoteJob {
    var cancelGrace: Duration { .milliseconds(cancelGraceMilliseconds) }
}
