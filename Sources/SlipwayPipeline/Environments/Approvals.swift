public import Foundation
import SlipwayCore

/// A job's request to deploy to a protected environment, and the reviewer's answer.
public struct ApprovalRequest: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable { case pending, approved, rejected }

    public var run: String
    public var environment: String
    /// The jobs waiting on it (matrix legs of one job share one approval).
    public var jobs: [String]
    /// Who started the run.
    public var requestedBy: String
    public var requestedAt: Date
    public var state: State
    public var reviewer: String?
    public var comment: String?
    public var decidedAt: Date?
}

/// Approvals for the runs of a project: one file per run and environment under
/// `<data folder>/approvals/<run>/<environment>.json`, changed with an exclusive lock so that two
/// reviewers answering at once cannot both win.
public struct ApprovalBook: Sendable {
    public let folder: URL
    private let environments: EnvironmentStore

    public init(dataDir: URL) {
        folder = dataDir.appendingPathComponent("approvals", isDirectory: true)
        environments = EnvironmentStore(dataDir: dataDir)
    }

    /// Asks for approval (or joins the pending request of the same run and environment).
    public func request(run: String, environment: String, job: String, requestedBy: String) throws -> ApprovalRequest {
        try Self.validate(run: run)
        try SecretStore.validate(environment: environment)
        return try withLock(run: run) {
            var request = try read(run: run, environment: environment)
                ?? ApprovalRequest(run: run, environment: environment, jobs: [], requestedBy: requestedBy, requestedAt: Date(), state: .pending)
            if !request.jobs.contains(job) { request.jobs.append(job) }
            try write(request)
            return request
        }
    }

    /// A reviewer approves or rejects. Refused when the reviewer is not one of the environment's,
    /// when the environment forbids self-review and the reviewer started the run, or when the
    /// request was already answered.
    public func decide(run: String, environment name: String, reviewer: String, approve: Bool, comment: String? = nil) throws -> ApprovalRequest {
        try Self.validate(run: run)
        guard let environment = try environments.get(name) else {
            throw GenericError(.notFound, "there is no environment '\(name)'; create it with `slipway env create \(name)`")
        }
        return try withLock(run: run) {
            guard var request = try read(run: run, environment: name) else {
                throw GenericError(.notFound, "run \(run) is not waiting for approval to deploy to '\(name)'")
            }
            guard request.state == .pending else {
                throw GenericError(.failedPrecondition, "run \(run)'s deployment to '\(name)' was already \(request.state.rawValue) by \(request.reviewer ?? "someone")")
            }
            guard environment.reviewers.contains(reviewer) else {
                throw GenericError(
                    .permissionDenied,
                    "\(reviewer) is not a reviewer of '\(name)' (reviewers: \(environment.reviewers.joined(separator: ", ")))")
            }
            if environment.preventSelfReview, reviewer == request.requestedBy {
                throw GenericError(.permissionDenied, "'\(name)' prevents self-review: \(reviewer) started run \(run) and cannot approve it")
            }
            request.state = approve ? .approved : .rejected
            request.reviewer = reviewer
            request.comment = comment
            request.decidedAt = Date()
            try write(request)
            return request
        }
    }

    /// The request of a run and environment, if one was made.
    public func get(run: String, environment: String) throws -> ApprovalRequest? {
        try Self.validate(run: run)
        try SecretStore.validate(environment: environment)
        return try read(run: run, environment: environment)
    }

    /// Every pending request, oldest first.
    public func pending() throws -> [ApprovalRequest] {
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var found: [ApprovalRequest] = []
        for run in runs where (try? Self.validate(run: run)) != nil {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(run).path)) ?? []
            for file in files where file.hasSuffix(".json") {
                if let request = try read(run: run, environment: String(file.dropLast(5))), request.state == .pending { found.append(request) }
            }
        }
        return found.sorted { $0.requestedAt < $1.requestedAt }
    }

    // MARK: Files

    static func validate(run: String) throws {
        guard !run.isEmpty, run.count <= 64, run.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw GenericError(.invalidArgument, "'\(run)' is not a run id")
        }
    }

    private func read(run: String, environment: String) throws -> ApprovalRequest? {
        let url = folder.appendingPathComponent(run).appendingPathComponent("\(environment).json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        do {
            return try SlipwayJSON.decoder().decode(ApprovalRequest.self, from: data)
        } catch {
            throw GenericError(.corrupted, "the approval file \(url.path) is damaged: \(error)")
        }
    }

    private func write(_ request: ApprovalRequest) throws {
        let directory = folder.appendingPathComponent(request.run)
        let url = directory.appendingPathComponent("\(request.environment).json")
        let temporary = directory.appendingPathComponent(".\(request.environment).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: try SlipwayJSON.encoder(pretty: true).encode(request)) else {
            throw GenericError(.unavailable, "could not write \(temporary.path)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw GenericError(.unavailable, "could not store \(url.path): \(reason)")
        }
    }

    private func withLock<T>(run: String, _ body: () throws -> T) throws -> T {
        let directory = folder.appendingPathComponent(run)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let fd = open(directory.appendingPathComponent(".lock").path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw GenericError(.unavailable, "could not lock the approvals of run \(run)") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw GenericError(.unavailable, "could not lock the approvals of run \(run)") }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}
