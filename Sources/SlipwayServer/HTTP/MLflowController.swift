import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SlipwayCore
import SlipwayRegistry
import SlipwayStore

/// MLflow's Model Registry REST API (`/api/2.0/mlflow/registered-models/*`, `/model-versions/*`),
/// close enough that the official `mlflow` Python client works against Slipway unchanged.
/// GET calls take query parameters, the others a JSON body, as MLflow's client sends them.
struct MLflowController {
    let registry: Registry

    // MARK: Wire shapes

    struct Tag: Codable {
        var key: String
        var value: String
    }

    struct Alias: Codable {
        var alias: String
        var version: String
    }

    struct MLModel: Codable {
        var name: String
        var creation_timestamp: Int64
        var last_updated_timestamp: Int64
        var user_id: String?
        var description: String?
        var latest_versions: [MLVersion]?
        var tags: [Tag]?
        var aliases: [Alias]?
    }

    struct MLVersion: Codable {
        var name: String
        var version: String
        var creation_timestamp: Int64
        var last_updated_timestamp: Int64
        var user_id: String?
        var current_stage: String
        var description: String?
        var source: String
        var run_id: String?
        var status: String
        var status_message: String?
        var tags: [Tag]?
        var run_link: String?
        var aliases: [String]?
    }

    static func wire(_ model: RegisteredModel, latest: [MLVersion]? = nil) -> MLModel {
        MLModel(
            name: model.name, creation_timestamp: Timestamp.millis(model.createdAt), last_updated_timestamp: Timestamp.millis(model.updatedAt),
            user_id: model.createdBy, description: model.description,
            latest_versions: latest,
            tags: model.tags.isEmpty ? nil : model.tags.sorted { $0.key < $1.key }.map { Tag(key: $0.key, value: $0.value) },
            aliases: model.aliases.isEmpty
                ? nil : model.aliases.sorted { $0.key < $1.key }.map { Alias(alias: $0.key, version: String($0.value)) })
    }

    static func wire(_ version: ModelVersion) -> MLVersion {
        MLVersion(
            name: version.model, version: String(version.version), creation_timestamp: Timestamp.millis(version.createdAt),
            last_updated_timestamp: Timestamp.millis(version.updatedAt), user_id: version.createdBy, current_stage: version.stage,
            description: version.description, source: version.source, run_id: version.runId ?? "",
            status: version.status == .pending ? "PENDING_REGISTRATION" : version.status == .failed ? "FAILED_REGISTRATION" : "READY",
            status_message: version.statusMessage,
            tags: version.tags.isEmpty ? nil : version.tags.sorted { $0.key < $1.key }.map { Tag(key: $0.key, value: $0.value) },
            run_link: nil, aliases: version.aliases.isEmpty ? nil : version.aliases.sorted())
    }

    // MARK: Request bodies

    struct NameBody: Codable { var name: String }
    struct CreateModelBody: Codable {
        var name: String
        var tags: [Tag]?
        var description: String?
    }
    struct UpdateModelBody: Codable {
        var name: String
        var description: String?
    }
    struct RenameBody: Codable {
        var name: String
        var new_name: String
    }
    struct ModelTagBody: Codable {
        var name: String
        var key: String
        var value: String?
    }
    struct AliasBody: Codable {
        var name: String
        var alias: String
        var version: FlexibleString?
    }
    struct CreateVersionBody: Codable {
        var name: String
        var source: String?
        var run_id: String?
        var tags: [Tag]?
        var run_link: String?
        var description: String?
        var model_id: String?
    }
    struct VersionBody: Codable {
        var name: String
        var version: FlexibleString
        var description: String?
    }
    struct VersionTagBody: Codable {
        var name: String
        var version: FlexibleString
        var key: String
        var value: String?
    }
    struct TransitionBody: Codable {
        var name: String
        var version: FlexibleString
        var stage: String
        var archive_existing_versions: Bool?
    }
    struct LatestBody: Codable {
        var name: String
        var stages: [String]?
    }

    /// MLflow sends versions as strings; older clients sometimes as numbers.
    struct FlexibleString: Codable {
        var value: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let text = try? c.decode(String.self) {
                value = text
            } else {
                value = String(try c.decode(Int.self))
            }
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(value)
        }
        func number() throws -> Int {
            guard let n = Int(value), n > 0 else { throw GenericError(.invalidArgument, "version '\(value)' is not a version number") }
            return n
        }
    }

    // MARK: Routes

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.post("registered-models/create", use: createModel)
        group.get("registered-models/get", use: getModel)
        group.patch("registered-models/update", use: updateModel)
        group.post("registered-models/rename", use: renameModel)
        group.delete("registered-models/delete", use: deleteModel)
        group.get("registered-models/search", use: searchModels)
        group.post("registered-models/set-tag", use: setModelTag)
        group.delete("registered-models/delete-tag", use: deleteModelTag)
        group.post("registered-models/alias", use: setAlias)
        group.delete("registered-models/alias", use: deleteAlias)
        group.get("registered-models/alias", use: getAlias)
        group.post("registered-models/get-latest-versions", use: latestVersions)
        group.get("registered-models/get-latest-versions", use: latestVersions)
        group.post("model-versions/create", use: createVersion)
        group.get("model-versions/get", use: getVersion)
        group.patch("model-versions/update", use: updateVersion)
        group.delete("model-versions/delete", use: deleteVersion)
        group.get("model-versions/search", use: searchVersions)
        group.post("model-versions/set-tag", use: setVersionTag)
        group.delete("model-versions/delete-tag", use: deleteVersionTag)
        group.get("model-versions/get-download-uri", use: downloadURI)
        group.post("model-versions/transition-stage", use: transitionStage)
    }

    /// The query string decoded as `application/x-www-form-urlencoded`, which is how MLflow's client
    /// (Python `requests`) encodes GET parameters: `+` is a space, `%XX` a byte.
    private func required(_ request: Request, _ name: String) throws -> String {
        try FormQuery(request.uri.query).required(name)
    }

    /// Models in MLflow's shape with their `latest_versions` (the newest version in each stage), read for all the
    /// models in one store call.
    private func modelResponses(_ models: [RegisteredModel], principal: Principal) async throws -> [MLModel] {
        let latest = try await registry.latestVersionsPerStage(models.map(\.name), by: principal)
        return models.map { model in
            let versions = latest[model.name] ?? []
            return Self.wire(model, latest: versions.isEmpty ? nil : versions.map(Self.wire))
        }
    }

    /// The tag MLflow puts on registered models that hold prompts.
    static let promptTag = "mlflow.prompt.is_prompt"

    /// MLflow's client appends `` tag.`mlflow.prompt.is_prompt` != 'true' `` to every model search, meaning
    /// "not a prompt", which MLflow answers true for a model without that tag. In Slipway's search a tag
    /// comparison needs the tag to exist, so the clause is taken off the filter and prompts are left out
    /// of the answer afterwards instead.
    ///
    /// - Returns: The filter without the clause, and whether the clause was there.
    static func takePromptClause(_ filter: String) -> (filter: String, withoutPrompts: Bool) {
        let trimmed = filter.trimmingCharacters(in: .whitespacesAndNewlines)
        for prefix in ["tag.", "tags."] {
            let clause = "\(prefix)`\(promptTag)` != 'true'"
            guard trimmed.lowercased().hasSuffix(clause) else { continue }
            var rest = String(trimmed.dropLast(clause.count)).trimmingCharacters(in: .whitespacesAndNewlines)
            if rest.isEmpty { return ("", true) }
            guard rest.lowercased().hasSuffix(" and") else { continue }
            rest = String(rest.dropLast(4)).trimmingCharacters(in: .whitespacesAndNewlines)
            return (rest, true)
        }
        return (filter, false)
    }

    /// MLflow calls a version's source `source_path` in filters, Slipway `source`. Renames the
    /// attribute wherever it stands as a key (bare or with an `attributes.` prefix), never inside quotes.
    static func renameSourcePath(_ filter: String) -> String {
        guard filter.range(of: "source_path", options: .caseInsensitive) != nil else { return filter }
        var result = ""
        var index = filter.startIndex
        var quote: Character?
        while index < filter.endIndex {
            let character = filter[index]
            if let open = quote {
                result.append(character)
                if character == "\\", filter.index(after: index) < filter.endIndex {
                    index = filter.index(after: index)
                    result.append(filter[index])
                } else if character == open {
                    quote = nil
                }
                index = filter.index(after: index)
            } else if character == "'" || character == "\"" || character == "`" {
                quote = character
                result.append(character)
                index = filter.index(after: index)
            } else if character.isLetter || character == "_" {
                let start = index
                while index < filter.endIndex, filter[index].isLetter || filter[index].isNumber || filter[index] == "_" || filter[index] == "." {
                    index = filter.index(after: index)
                }
                let word = String(filter[start..<index])
                let lowered = word.lowercased()
                if let prefix = ["", "attributes.", "attribute.", "attr."].first(where: { lowered == $0 + "source_path" }) {
                    result += word.prefix(prefix.count) + "source"
                } else {
                    result += word
                }
            } else {
                result.append(character)
                index = filter.index(after: index)
            }
        }
        return result
    }

    /// MLflow clients send an empty page token for the first page.
    private func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
    }

    @Sendable func createModel(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(CreateModelBody.self, context: context)
        var tags: [String: String] = [:]
        for tag in body.tags ?? [] { tags[tag.key] = tag.value }
        let model = try await registry.createModel(NewModel(name: body.name, description: body.description ?? "", tags: tags), by: principal)
        return try jsonResponse(["registered_model": Self.wire(model)])
    }

    @Sendable func getModel(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let model = try await registry.model(try required(request, "name"), by: principal)
        return try jsonResponse(["registered_model": try await modelResponses([model], principal: principal)[0]])
    }

    @Sendable func updateModel(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(UpdateModelBody.self, context: context)
        let model = try await registry.updateModel(body.name, description: body.description ?? "", by: principal)
        return try jsonResponse(["registered_model": Self.wire(model)])
    }

    @Sendable func renameModel(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(RenameBody.self, context: context)
        let model = try await registry.renameModel(body.name, to: body.new_name, by: principal)
        return try jsonResponse(["registered_model": Self.wire(model)])
    }

    @Sendable func deleteModel(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(NameBody.self, context: context)
        try await registry.deleteModel(body.name, by: principal)
        return emptyResponse()
    }

    @Sendable func searchModels(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = FormQuery(request.uri.query)
        let (filter, withoutPrompts) = Self.takePromptClause(query.first("filter") ?? "")
        let page = try await registry.searchModels(
            filter: filter, orderBy: query.all("order_by"),
            limit: try query.int("max_results", default: 100, in: 1...10_000), pageToken: nonEmpty(query.first("page_token")), by: principal)
        let models = try await modelResponses(
            page.items.filter { !(withoutPrompts && $0.tags[Self.promptTag] == "true") }, principal: principal)
        return try jsonResponse(SearchModelsResponse(registered_models: models, next_page_token: page.nextPageToken))
    }

    struct SearchModelsResponse: Codable {
        var registered_models: [MLModel]
        var next_page_token: String?
    }

    struct VersionsResponse: Codable {
        var model_versions: [MLVersion]
        var next_page_token: String?
    }

    @Sendable func setModelTag(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(ModelTagBody.self, context: context)
        try await registry.setModelTag(body.name, key: body.key, value: body.value ?? "", by: principal)
        return emptyResponse()
    }

    @Sendable func deleteModelTag(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(ModelTagBody.self, context: context)
        try await registry.deleteModelTag(body.name, key: body.key, by: principal)
        return emptyResponse()
    }

    @Sendable func setAlias(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(AliasBody.self, context: context)
        guard let version = body.version else { throw GenericError(.invalidArgument, "missing value for required parameter 'version'") }
        try await registry.setAlias(body.name, alias: body.alias, version: try version.number(), reason: nil, by: principal)
        return emptyResponse()
    }

    @Sendable func deleteAlias(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(AliasBody.self, context: context)
        try await registry.deleteAlias(body.name, alias: body.alias, reason: nil, by: principal)
        return emptyResponse()
    }

    @Sendable func getAlias(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let version = try await registry.alias(try required(request, "name"), alias: try required(request, "alias"), by: principal)
        return try jsonResponse(["model_version": Self.wire(version)])
    }

    @Sendable func latestVersions(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let name: String
        var stages: [String]
        if request.method == .get {
            let query = FormQuery(request.uri.query)
            name = try query.required("name")
            stages = query.all("stages")
        } else {
            let body = try await request.decodeJSON(LatestBody.self, context: context)
            name = body.name
            stages = body.stages ?? []
        }
        _ = try await registry.model(name, by: principal)
        stages = stages.map { registry.policy.stage(named: $0) ?? $0 }
        let latest = try await registry.latestVersionsPerStage([name], by: principal)[name] ?? []
        let chosen = latest.filter { stages.isEmpty || stages.contains($0.stage) }
        return try jsonResponse(VersionsResponse(model_versions: chosen.map(Self.wire), next_page_token: nil))
    }

    @Sendable func createVersion(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(CreateVersionBody.self, context: context)
        var tags: [String: String] = [:]
        for tag in body.tags ?? [] { tags[tag.key] = tag.value }
        var lineage = Lineage()
        lineage.modelId = body.model_id
        var draft = NewVersion(
            model: body.name, source: body.source ?? "", runId: body.run_id.flatMap { $0.isEmpty ? nil : $0 },
            description: body.description ?? "", tags: tags, lineage: lineage, status: .ready)
        if let source = body.source, source.hasPrefix("slipway-artifacts:/"), let digest = Digest(String(source.dropFirst(19))) {
            draft.artifactDigest = digest
        }
        let version = try await registry.createVersion(draft, by: principal)
        return try jsonResponse(["model_version": Self.wire(version)])
    }

    @Sendable func getVersion(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let number = try FlexibleString(value: try required(request, "version")).number()
        let version = try await registry.version(try required(request, "name"), number, by: principal)
        return try jsonResponse(["model_version": Self.wire(version)])
    }

    @Sendable func updateVersion(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(VersionBody.self, context: context)
        let version = try await registry.updateVersion(body.name, try body.version.number(), description: body.description ?? "", by: principal)
        return try jsonResponse(["model_version": Self.wire(version)])
    }

    @Sendable func deleteVersion(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(VersionBody.self, context: context)
        try await registry.deleteVersion(body.name, try body.version.number(), by: principal)
        return emptyResponse()
    }

    @Sendable func searchVersions(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = FormQuery(request.uri.query)
        let page = try await registry.searchVersions(
            filter: Self.renameSourcePath(query.first("filter") ?? ""), orderBy: query.all("order_by"),
            limit: try query.int("max_results", default: 10_000, in: 1...10_000), pageToken: nonEmpty(query.first("page_token")),
            by: principal)
        return try jsonResponse(VersionsResponse(model_versions: page.items.map(Self.wire), next_page_token: page.nextPageToken))
    }

    @Sendable func setVersionTag(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(VersionTagBody.self, context: context)
        try await registry.setVersionTag(body.name, try body.version.number(), key: body.key, value: body.value ?? "", by: principal)
        return emptyResponse()
    }

    @Sendable func deleteVersionTag(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(VersionTagBody.self, context: context)
        try await registry.deleteVersionTag(body.name, try body.version.number(), key: body.key, by: principal)
        return emptyResponse()
    }

    @Sendable func downloadURI(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let number = try FlexibleString(value: try required(request, "version")).number()
        let version = try await registry.version(try required(request, "name"), number, by: principal)
        let uri = version.artifactDigest.map { "slipway-artifacts:/\($0)" } ?? version.source
        return try jsonResponse(["artifact_uri": uri])
    }

    @Sendable func transitionStage(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(TransitionBody.self, context: context)
        let version = try await registry.transitionStage(
            body.name, try body.version.number(), to: body.stage, archiveExisting: body.archive_existing_versions ?? false, by: principal)
        return try jsonResponse(["model_version": Self.wire(version)])
    }
}

extension MLflowController.FlexibleString {
    init(value: String) { self.value = value }
}
