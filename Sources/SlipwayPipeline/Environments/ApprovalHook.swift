public import Foundation
import SlipwayCore

/// Holds a job that names a protected environment until the environment allows it to start:
/// its branch rule, one reviewer's approval (`slipway approve RUN --env NAME`), then its wait timer.
/// A rejection fails the job with the reviewer's name and comment. An environment that was never
/// created has no protection (as on GitHub, naming it is enough).
public struct ApprovalHook: JobStartHook {
    public let environments: EnvironmentStore
    public let book: ApprovalBook
    /// How often the approval file is read while waiting.
    public var pollInterval: Duration

    public init(dataDir: URL, pollInterval: Duration = .milliseconds(250)) {
        environments = EnvironmentStore(dataDir: dataDir)
        book = ApprovalBook(dataDir: dataDir)
        self.pollInterval = pollInterval
    }

    public func beforeStart(_ job: JobStartContext) async throws -> JobStartDecision {
        guard let name = job.environment, !name.isEmpty else { return .run }
        guard let environment = try environments.get(name) else { return .run }
        if let branches = environment.branches {
            guard let branch = job.branch, FilterPattern.includes(branches, branch) else {
                throw GenericError(
                    .permissionDenied, "branch '\(job.branch ?? "(none)")' may not deploy to environment '\(name)' (allowed: \(branches.joined(separator: ", ")))")
            }
        }
        var requestedAt = Date()
        if environment.requiresApproval {
            let request = try book.request(run: job.runID, environment: name, job: job.key, requestedBy: job.actor)
            requestedAt = request.requestedAt
            job.log(
                "waiting for approval to deploy to \(name) by one of \(environment.reviewers.joined(separator: ", ")): "
                    + "slipway approve \(job.runID) --env \(name)")
            while true {
                guard let current = try book.get(run: job.runID, environment: name) else {
                    throw GenericError(.failedPrecondition, "the approval request of run \(job.runID) for '\(name)' disappeared")
                }
                switch current.state {
                case .pending:
                    if job.isCancelled() || Task.isCancelled { return .finished(conclusion: .cancelled, outputs: [:], cached: false) }
                    try? await Task.sleep(for: pollInterval)
                    continue
                case .rejected:
                    let comment = current.comment.map { ": \($0)" } ?? ""
                    throw GenericError(.failedPrecondition, "the deployment to \(name) was rejected by \(current.reviewer ?? "a reviewer")\(comment)")
                case .approved:
                    job.log("approved by \(current.reviewer ?? "a reviewer")\(current.comment.map { ": \($0)" } ?? "")")
                }
                break
            }
        }
        let ready = requestedAt.addingTimeInterval(TimeInterval(environment.waitTimerSeconds))
        if ready > Date() {
            job.log("wait timer of \(name): starting at \(Timestamp.format(ready))")
            while ready > Date() {
                if job.isCancelled() || Task.isCancelled { return .finished(conclusion: .cancelled, outputs: [:], cached: false) }
                try? await Task.sleep(for: min(pollInterval, .seconds(max(0.01, ready.timeIntervalSinceNow))))
            }
        }
        return .run
    }
}
