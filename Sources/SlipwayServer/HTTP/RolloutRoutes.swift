import Foundation
import Hummingbird
import NIOCore
import SlipwayCore
import SlipwayRollout
import SlipwayStore

/// Rollouts under `/api/v1/rollouts`: start one from YAML (or a JSON spec), read them, and the commands.
struct RolloutRoutes {
    let service: RolloutService

    /// The JSON body of a start: YAML text with the file name its diagnostics use, or a spec with its templates.
    struct StartRollout: Codable {
        var yaml: String?
        var file: String?
        var spec: RolloutSpec?
        var templates: [AnalysisTemplate]?
    }

    struct Promote: Codable {
        var full: Bool?
    }

    struct Abort: Codable {
        var reason: String?
    }

    struct RolloutList: Codable {
        var rollouts: [RolloutStatus]
    }

    struct History: Codable {
        var history: [RolloutTransition]
    }

    func addRoutes(to group: some RouterMethods<APIContext>) {
        group.get("rollouts", use: list)
        group.post("rollouts", use: start)
        group.get("rollouts/:name", use: show)
        group.get("rollouts/:name/history", use: history)
        group.post("rollouts/:name/promote", use: promote)
        group.post("rollouts/:name/abort", use: abort)
        group.post("rollouts/:name/pause", use: pause)
        group.post("rollouts/:name/resume", use: resume)
        group.post("rollouts/:name/retry", use: retry)
        group.post("rollouts/:name/undo", use: undo)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(RolloutList(rollouts: try await service.list(by: context.requirePrincipal())))
    }

    /// A JSON body (`application/json`) is a ``StartRollout``; any other body is the YAML file itself.
    @Sendable func start(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let isJSON = request.headers[.contentType]?.lowercased().hasPrefix("application/json") ?? false
        let status: RolloutStatus
        if isJSON {
            let body = try await request.decodeJSON(StartRollout.self, context: context)
            if let yaml = body.yaml {
                status = try await service.start(yaml: yaml, file: body.file ?? "rollout.yml", by: principal)
            } else if let spec = body.spec {
                status = try await service.start(spec: spec, templates: body.templates ?? [], by: principal)
            } else {
                throw GenericError(.invalidArgument, "give the rollout as {\"yaml\": \"…\"} or {\"spec\": {…}, \"templates\": […]}")
            }
        } else {
            let buffer = try await request.body.collect(upTo: context.maxBodyBytes)
            guard buffer.readableBytes > 0 else { throw GenericError(.invalidArgument, "the request needs the rollout's YAML as its body") }
            status = try await service.start(yaml: String(buffer: buffer), file: request.query("file") ?? "rollout.yml", by: principal)
        }
        return try jsonResponse(status, status: .created)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(try await service.status(context.parameters.decoded("name"), by: context.requirePrincipal()))
    }

    @Sendable func history(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(History(history: try await service.history(context.parameters.decoded("name"), by: context.requirePrincipal())))
    }

    @Sendable func promote(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await optionalBody(Promote.self, request, context)
        return try jsonResponse(try await service.promote(context.parameters.decoded("name"), full: body?.full ?? false, by: principal))
    }

    @Sendable func abort(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await optionalBody(Abort.self, request, context)
        return try jsonResponse(try await service.abort(context.parameters.decoded("name"), reason: body?.reason, by: principal))
    }

    @Sendable func pause(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(try await service.pause(context.parameters.decoded("name"), by: context.requirePrincipal()))
    }

    @Sendable func resume(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(try await service.resume(context.parameters.decoded("name"), by: context.requirePrincipal()))
    }

    @Sendable func retry(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(try await service.retry(context.parameters.decoded("name"), by: context.requirePrincipal()))
    }

    @Sendable func undo(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await optionalBody(Abort.self, request, context)
        return try jsonResponse(try await service.undo(context.parameters.decoded("name"), reason: body?.reason, by: principal))
    }

    /// A JSON body that may be left out.
    private func optionalBody<T: Decodable>(_ type: T.Type, _ request: Request, _ context: APIContext) async throws -> T? {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxBodyBytes)
        guard buffer.readableBytes > 0 else { return nil }
        return try await request.decodeJSON(type, context: context)
    }
}
