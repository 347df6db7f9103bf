import Foundation
import Hummingbird
import Logging
import NIOCore
import SlipwayCore
import SlipwayRegistry
import SlipwayStore

/// The native registry API under `/api/v1`: models, versions, aliases, stages, search and audit.
struct RegistryController {
    let registry: Registry

    // MARK: Bodies

    struct CreateModel: Codable {
        var name: String
        var description: String?
        var tags: [String: String]?
    }

    struct UpdateDescription: Codable {
        var description: String
    }

    struct Rename: Codable {
        var newName: String
    }

    struct TagValue: Codable {
        var value: String
    }

    struct CreateVersion: Codable {
        var source: String?
        var runId: String?
        var description: String?
        var tags: [String: String]?
        var lineage: Lineage?
        var artifactDigest: Digest?
    }

    struct SetAlias: Codable {
        var version: Int
        var reason: String?
    }

    struct Approve: Codable {
        var stage: String
        var comment: String?
    }

    struct Transition: Codable {
        var stage: String
        var archiveExisting: Bool?
    }

    struct AliasAt: Codable {
        var model: String
        var alias: String
        var at: Date
        var version: Int?
    }

    struct Events<T: Codable>: Codable {
        var events: [T]
    }

    // MARK: Routes

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.get("models", use: searchModels)
        group.post("models", use: createModel)
        group.get("models/:name", use: getModel)
        group.patch("models/:name", use: updateModel)
        group.delete("models/:name", use: deleteModel)
        group.post("models/:name/rename", use: renameModel)
        group.put("models/:name/tags/:key", use: setModelTag)
        group.delete("models/:name/tags/:key", use: deleteModelTag)
        group.get("models/:name/versions", use: listVersions)
        group.post("models/:name/versions", use: createVersion)
        group.get("models/:name/versions/:version", use: getVersion)
        group.patch("models/:name/versions/:version", use: updateVersion)
        group.delete("models/:name/versions/:version", use: deleteVersion)
        group.put("models/:name/versions/:version/tags/:key", use: setVersionTag)
        group.delete("models/:name/versions/:version/tags/:key", use: deleteVersionTag)
        group.get("models/:name/versions/:version/approvals", use: listApprovals)
        group.post("models/:name/versions/:version/approvals", use: approve)
        group.post("models/:name/versions/:version/stage", use: transition)
        group.get("models/:name/aliases/:alias", use: getAlias)
        group.put("models/:name/aliases/:alias", use: setAlias)
        group.delete("models/:name/aliases/:alias", use: deleteAlias)
        group.get("models/:name/aliases/:alias/history", use: aliasHistory)
        group.get("models/:name/history", use: modelAliasHistory)
        group.get("versions", use: searchVersions)
        group.get("audit", use: audit)
    }

    @Sendable func searchModels(_ request: Request, context: APIContext) async throws -> Response {
        let page = try await registry.searchModels(
            filter: request.query("filter") ?? "", orderBy: request.queryAll("orderBy"),
            limit: try request.queryInt("limit", default: 100, in: 1...10_000), pageToken: request.query("pageToken"),
            by: try context.requirePrincipal())
        return try jsonResponse(page)
    }

    @Sendable func createModel(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(CreateModel.self, context: context)
        let model = try await registry.createModel(
            NewModel(name: body.name, description: body.description ?? "", tags: body.tags ?? [:]), by: principal)
        return try jsonResponse(model, status: .created)
    }

    @Sendable func getModel(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(try await registry.model(context.parameters.decoded("name"), by: context.requirePrincipal()))
    }

    @Sendable func updateModel(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(UpdateDescription.self, context: context)
        return try jsonResponse(try await registry.updateModel(context.parameters.decoded("name"), description: body.description, by: principal))
    }

    @Sendable func deleteModel(_ request: Request, context: APIContext) async throws -> Response {
        try await registry.deleteModel(context.parameters.decoded("name"), by: context.requirePrincipal())
        return emptyResponse()
    }

    @Sendable func renameModel(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(Rename.self, context: context)
        return try jsonResponse(try await registry.renameModel(context.parameters.decoded("name"), to: body.newName, by: principal))
    }

    @Sendable func setModelTag(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(TagValue.self, context: context)
        try await registry.setModelTag(
            context.parameters.decoded("name"), key: context.parameters.decoded("key"), value: body.value, by: principal)
        return emptyResponse()
    }

    @Sendable func deleteModelTag(_ request: Request, context: APIContext) async throws -> Response {
        try await registry.deleteModelTag(
            context.parameters.decoded("name"), key: context.parameters.decoded("key"), by: context.requirePrincipal())
        return emptyResponse()
    }

    @Sendable func listVersions(_ request: Request, context: APIContext) async throws -> Response {
        let name = try context.parameters.decoded("name")
        let principal = try context.requirePrincipal()
        _ = try await registry.model(name, by: principal)
        let escaped = name.replacingOccurrences(of: "'", with: "\\'")
        let page = try await registry.searchVersions(
            filter: "name = '\(escaped)'", orderBy: ["version_number DESC"],
            limit: try request.queryInt("limit", default: 100, in: 1...10_000), pageToken: request.query("pageToken"), by: principal)
        return try versionPageResponse(page)
    }

    @Sendable func createVersion(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(CreateVersion.self, context: context)
        let draft = NewVersion(
            model: try context.parameters.decoded("name"), source: body.source ?? "", runId: body.runId,
            description: body.description ?? "", tags: body.tags ?? [:], lineage: body.lineage ?? Lineage(),
            // The registry makes a version with an uploaded artifact READY at once; without one it stays PENDING.
            status: .pending, artifactDigest: body.artifactDigest)
        return try jsonResponse(try await registry.createVersion(draft, by: principal), status: .created)
    }

    @Sendable func getVersion(_ request: Request, context: APIContext) async throws -> Response {
        let reference = try context.parameters.decoded("version")
        return try jsonResponse(try await registry.resolve(context.parameters.decoded("name"), reference, by: context.requirePrincipal()))
    }

    @Sendable func updateVersion(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(UpdateDescription.self, context: context)
        return try jsonResponse(
            try await registry.updateVersion(
                context.parameters.decoded("name"), context.parameters.versionNumber(), description: body.description, by: principal))
    }

    @Sendable func deleteVersion(_ request: Request, context: APIContext) async throws -> Response {
        try await registry.deleteVersion(context.parameters.decoded("name"), context.parameters.versionNumber(), by: context.requirePrincipal())
        return emptyResponse()
    }

    @Sendable func setVersionTag(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(TagValue.self, context: context)
        try await registry.setVersionTag(
            context.parameters.decoded("name"), context.parameters.versionNumber(), key: context.parameters.decoded("key"),
            value: body.value, by: principal)
        return emptyResponse()
    }

    @Sendable func deleteVersionTag(_ request: Request, context: APIContext) async throws -> Response {
        try await registry.deleteVersionTag(
            context.parameters.decoded("name"), context.parameters.versionNumber(), key: context.parameters.decoded("key"),
            by: context.requirePrincipal())
        return emptyResponse()
    }

    @Sendable func listApprovals(_ request: Request, context: APIContext) async throws -> Response {
        let approvals = try await registry.approvals(
            context.parameters.decoded("name"), context.parameters.versionNumber(), by: context.requirePrincipal())
        return try jsonResponse(Events(events: approvals))
    }

    @Sendable func approve(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(Approve.self, context: context)
        return try jsonResponse(
            try await registry.approve(
                context.parameters.decoded("name"), context.parameters.versionNumber(), stage: body.stage, comment: body.comment, by: principal))
    }

    @Sendable func transition(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(Transition.self, context: context)
        return try jsonResponse(
            try await registry.transitionStage(
                context.parameters.decoded("name"), context.parameters.versionNumber(), to: body.stage,
                archiveExisting: body.archiveExisting ?? false, by: principal))
    }

    @Sendable func getAlias(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let name = try context.parameters.decoded("name")
        let alias = try context.parameters.decoded("alias")
        if let text = request.query("at") {
            guard let instant = Timestamp.parse(text) else {
                throw GenericError(.invalidArgument, "at='\(text)' is not a timestamp; use ISO 8601 (2026-11-27T10:00:00Z) or milliseconds")
            }
            let version = try await registry.alias(name, alias: alias, at: instant, by: principal)
            return try jsonResponse(AliasAt(model: name, alias: alias, at: instant, version: version))
        }
        return try jsonResponse(try await registry.alias(name, alias: alias, by: principal))
    }

    @Sendable func setAlias(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(SetAlias.self, context: context)
        return try jsonResponse(
            try await registry.setAlias(
                context.parameters.decoded("name"), alias: context.parameters.decoded("alias"), version: body.version, reason: body.reason,
                by: principal))
    }

    @Sendable func deleteAlias(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(
            try await registry.deleteAlias(
                context.parameters.decoded("name"), alias: context.parameters.decoded("alias"), reason: request.query("reason"),
                by: context.requirePrincipal()))
    }

    @Sendable func aliasHistory(_ request: Request, context: APIContext) async throws -> Response {
        let events = try await registry.aliasHistory(
            context.parameters.decoded("name"), alias: context.parameters.decoded("alias"), by: context.requirePrincipal())
        return try jsonResponse(Events(events: events))
    }

    @Sendable func modelAliasHistory(_ request: Request, context: APIContext) async throws -> Response {
        let events = try await registry.aliasHistory(context.parameters.decoded("name"), alias: nil, by: context.requirePrincipal())
        return try jsonResponse(Events(events: events))
    }

    @Sendable func searchVersions(_ request: Request, context: APIContext) async throws -> Response {
        // The query string is parsed once, not once per parameter.
        let query = FormQuery(request.uri.query)
        let page = try await registry.searchVersions(
            filter: query.first("filter") ?? "", orderBy: query.all("orderBy"),
            limit: try query.parameterInt("limit", default: 100, in: 1...10_000), pageToken: query.first("pageToken"),
            by: try context.requirePrincipal())
        return try versionPageResponse(page)
    }

    /// A page of versions as JSON, written by ``ModelVersionJSON``: the document `jsonResponse` would give, in a
    /// fraction of the time (a search answer holds up to 10,000 versions).
    private func versionPageResponse(_ page: Page<ModelVersion>) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try ModelVersionJSON.encode(page))))
    }

    @Sendable func audit(_ request: Request, context: APIContext) async throws -> Response {
        var beforeId: Int64?
        if let text = request.query("beforeId") {
            guard let id = Int64(text) else { throw GenericError(.invalidArgument, "beforeId='\(text)' is not an event id") }
            beforeId = id
        }
        let events = try await registry.audit(
            model: request.query("model"), limit: try request.queryInt("limit", default: 100, in: 1...10_000), beforeId: beforeId,
            by: try context.requirePrincipal())
        return try jsonResponse(Events(events: events))
    }
}
