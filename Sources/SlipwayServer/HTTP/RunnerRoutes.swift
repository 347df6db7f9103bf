import Foundation
import Hummingbird
import SlipwayCore

/// Remote runners and the pipeline jobs they take, under `/api/v1/runners` and `/api/v1/pipeline-jobs`.
///
/// Runners and runs need the editor role (a job carries its secrets to the runner that takes it); listing runners and
/// following a job's lines needs a viewer. A job's payload is given only to the runner that takes it, never listed.
struct RunnerRoutes {
    let queue: RunnerQueue

    /// The longest a poll waits for news.
    static let maximumWait = 30.0
    /// The most lines one append may carry, and the longest line.
    static let maximumLines = 5_000
    static let maximumLineBytes = 256 * 1024

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.get("runners", use: list)
        group.post("runners", use: register)
        group.delete("runners/:id", use: remove)
        group.post("runners/:id/next", use: next)
        group.post("pipeline-jobs", use: submit)
        group.get("pipeline-jobs/:id", use: status)
        group.post("pipeline-jobs/:id/lines", use: append)
        group.post("pipeline-jobs/:id/result", use: complete)
        group.post("pipeline-jobs/:id/cancel", use: cancel)
    }

    private func wait(_ request: Request) throws -> Double {
        guard let text = request.query("wait") else { return 0 }
        guard let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= Self.maximumWait else {
            throw GenericError(.invalidArgument, "wait must be a number of seconds from 0 to \(Int(Self.maximumWait))")
        }
        return seconds
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.viewer, for: "listing runners")
        return try jsonResponse(RunnerWire.RunnerList(runners: await queue.list()))
    }

    @Sendable func register(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.editor, for: "registering a runner")
        let body = try await request.decodeJSON(RunnerWire.RegisterRunner.self, context: context)
        let runner = try await queue.register(name: body.name, labels: body.labels, ephemeral: body.ephemeral ?? false)
        return try jsonResponse(runner, status: .created)
    }

    @Sendable func remove(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.editor, for: "removing a runner")
        try await queue.remove(runner: context.parameters.decoded("id"))
        return emptyResponse()
    }

    @Sendable func next(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.editor, for: "taking pipeline jobs")
        let id = try context.parameters.decoded("id")
        guard let assignment = try await queue.next(runner: id, wait: wait(request)) else { return Response(status: .noContent) }
        return try jsonResponse(RunnerWire.NextJob(job: assignment))
    }

    @Sendable func submit(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.editor, for: "submitting pipeline jobs")
        let body = try await request.decodeJSON(RunnerWire.SubmitJob.self, context: context)
        guard let data = body.payload.data(using: .utf8), (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw GenericError(.invalidArgument, "payload must be a JSON object, as text")
        }
        return try jsonResponse(try await queue.submit(name: body.name, run: body.run, labels: body.labels, payload: body.payload), status: .created)
    }

    @Sendable func status(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.viewer, for: "following pipeline jobs")
        let after = try request.queryInt("after", default: 0, in: 0...Int(Int32.max))
        return try jsonResponse(try await queue.status(of: context.parameters.decoded("id"), after: after, wait: wait(request)))
    }

    @Sendable func append(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.editor, for: "streaming pipeline job lines")
        let body = try await request.decodeJSON(RunnerWire.AppendLines.self, context: context)
        guard body.lines.count <= Self.maximumLines else {
            throw GenericError(.invalidArgument, "at most \(Self.maximumLines) lines per request, not \(body.lines.count)")
        }
        if let long = body.lines.first(where: { $0.utf8.count > Self.maximumLineBytes }) {
            throw GenericError(.tooLarge, "a line of \(long.utf8.count) bytes is longer than \(Self.maximumLineBytes); split it")
        }
        let cancelled = try await queue.append(job: context.parameters.decoded("id"), runner: body.runner, lines: body.lines)
        return try jsonResponse(RunnerWire.AppendAnswer(cancelled: cancelled))
    }

    @Sendable func complete(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.editor, for: "completing pipeline jobs")
        let body = try await request.decodeJSON(RunnerWire.CompleteJob.self, context: context)
        try await queue.complete(job: context.parameters.decoded("id"), runner: body.runner, result: body.result)
        return emptyResponse()
    }

    @Sendable func cancel(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.editor, for: "cancelling pipeline jobs")
        return try jsonResponse(try await queue.cancel(job: context.parameters.decoded("id")))
    }
}
