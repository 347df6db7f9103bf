import Foundation
import Hummingbird
import Logging
import SlipwayCore
import SlipwayGateway
import SlipwayStore

/// Endpoints, deployments and traffic under `/api/v1/endpoints`.
struct EndpointController {
    let service: EndpointService
    let live: @Sendable (String) -> [String: VariantMetrics]
    /// Told about every record that feedback was attached to, so the live metrics can count outcomes.
    var onFeedback: @Sendable (PredictionRecord) -> Void = { _ in }
    /// The supervised replicas of an endpoint's variants (commands and built-in servers), nil when it has none.
    var backends: @Sendable (String) -> [String: BackendStatus]? = { _ in nil }

    struct CreateEndpoint: Codable {
        var name: String
        var description: String?
        var stickyKey: String?
        var maxBodyBytes: Int?
        var timeoutSeconds: Double?
        var featureLogging: FeatureLogging?
        var initialVariant: String?
    }

    struct Deploy: Codable {
        var model: String
        var backend: BackendSpec
        var replicas: Int?
    }

    struct Weight: Codable {
        var variant: String
        var weight: Double
    }

    struct SetWeights: Codable {
        var weights: [Weight]
    }

    struct Switch: Codable {
        var variant: String
    }

    struct Mirror: Codable {
        var variant: String
        var percent: Double
    }

    struct Route: Codable {
        var header: String
        var value: String
        var variant: String?
    }

    /// An endpoint as the API shows it: the stored endpoint plus the gateway's live per-variant metrics.
    struct EndpointView: Codable {
        var endpoint: Endpoint
        var weights: [String: Double]
        var live: [String: VariantMetrics]
        /// The supervised replicas by variant; absent when the endpoint has no supervised backend.
        var backends: [String: BackendStatus]?
    }

    struct EndpointList: Codable {
        var endpoints: [Endpoint]
    }

    /// The body of a feedback call: one item, or `{"feedback": [item, …]}`.
    struct FeedbackBody: Decodable {
        var item: FeedbackItem?
        var batch: [FeedbackItem]?

        enum CodingKeys: String, CodingKey {
            case feedback, requestId
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if container.contains(.feedback) {
                guard !container.contains(.requestId) else {
                    throw DecodingError.dataCorrupted(
                        DecodingError.Context(
                            codingPath: [CodingKeys.feedback], debugDescription: "give one item or a feedback list, not both"))
                }
                batch = try container.decode([FeedbackItem].self, forKey: .feedback)
            } else {
                item = try FeedbackItem(from: decoder)
            }
        }
    }

    struct FeedbackResults: Codable {
        var results: [FeedbackResult]
    }

    struct PredictionPage: Codable {
        var predictions: [PredictionRecord]
        var nextPageToken: String?
    }

    func addRoutes(to group: some RouterMethods<APIContext>) {
        group.get("endpoints", use: list)
        group.post("endpoints", use: create)
        group.get("endpoints/:name", use: show)
        group.delete("endpoints/:name", use: delete)
        group.put("endpoints/:name/deployments/:variant", use: deploy)
        group.delete("endpoints/:name/deployments/:variant", use: undeploy)
        group.put("endpoints/:name/traffic", use: setWeights)
        group.post("endpoints/:name/traffic/switch", use: switchTo)
        group.put("endpoints/:name/traffic/mirror", use: mirror)
        group.put("endpoints/:name/traffic/routes", use: route)
        group.post("endpoints/:name/feedback", use: feedback)
        group.get("endpoints/:name/predictions", use: predictions)
    }

    func view(_ endpoint: Endpoint) -> EndpointView {
        EndpointView(endpoint: endpoint, weights: endpoint.policy.split.weights, live: live(endpoint.name), backends: backends(endpoint.name))
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(EndpointList(endpoints: try await service.list(by: context.requirePrincipal())))
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(CreateEndpoint.self, context: context)
        var settings = EndpointSettings()
        if let key = body.stickyKey { settings.stickyKey = try StickyKeySource(parsing: key) }
        if let limit = body.maxBodyBytes { settings.maxBodyBytes = limit }
        if let timeout = body.timeoutSeconds { settings.timeoutSeconds = timeout }
        if let logging = body.featureLogging { settings.featureLogging = logging }
        let endpoint = try await service.create(
            name: body.name, description: body.description ?? "", settings: settings, initialVariant: body.initialVariant ?? "stable",
            by: principal)
        return try jsonResponse(view(endpoint), status: .created)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(view(try await service.endpoint(context.parameters.decoded("name"), by: context.requirePrincipal())))
    }

    @Sendable func delete(_ request: Request, context: APIContext) async throws -> Response {
        try await service.delete(context.parameters.decoded("name"), by: context.requirePrincipal())
        return emptyResponse()
    }

    @Sendable func deploy(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(Deploy.self, context: context)
        let endpoint = try await service.deploy(
            endpoint: context.parameters.decoded("name"), variant: context.parameters.decoded("variant"), model: body.model,
            backend: body.backend, replicas: body.replicas ?? 1, by: principal)
        return try jsonResponse(view(endpoint))
    }

    @Sendable func undeploy(_ request: Request, context: APIContext) async throws -> Response {
        let endpoint = try await service.undeploy(
            endpoint: context.parameters.decoded("name"), variant: context.parameters.decoded("variant"), by: context.requirePrincipal())
        return try jsonResponse(view(endpoint))
    }

    @Sendable func setWeights(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(SetWeights.self, context: context)
        let endpoint = try await service.setWeights(
            context.parameters.decoded("name"), body.weights.map { ($0.variant, $0.weight) }, by: principal)
        return try jsonResponse(view(endpoint))
    }

    @Sendable func switchTo(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(Switch.self, context: context)
        return try jsonResponse(view(try await service.switchTo(context.parameters.decoded("name"), variant: body.variant, by: principal)))
    }

    @Sendable func mirror(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(Mirror.self, context: context)
        return try jsonResponse(
            view(try await service.mirror(context.parameters.decoded("name"), to: body.variant, percent: body.percent, by: principal)))
    }

    @Sendable func route(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(Route.self, context: context)
        return try jsonResponse(
            view(
                try await service.route(
                    context.parameters.decoded("name"), header: body.header, value: body.value, to: body.variant, by: principal)))
    }

    @Sendable func feedback(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try principal.require(.editor, for: "posting feedback")
        let endpoint = try context.parameters.decoded("name")
        let body = try await request.decodeJSON(FeedbackBody.self, context: context)
        if let batch = body.batch {
            let results = try await service.feedback(endpoint: endpoint, batch: batch, by: principal)
            for result in results { if let record = result.record { onFeedback(record) } }
            return try jsonResponse(FeedbackResults(results: results))
        }
        guard let item = body.item else { throw GenericError(.invalidArgument, "the request needs a feedback item") }
        let record = try await service.feedback(endpoint: endpoint, item, by: principal)
        onFeedback(record)
        return try jsonResponse(record)
    }

    @Sendable func predictions(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let since = try request.query("since").map { text in
            guard let instant = Timestamp.parse(text) else {
                throw GenericError(
                    .invalidArgument,
                    "query parameter since='\(text)' must be an ISO 8601 instant (2026-11-27T10:15:30Z) or milliseconds since 1970")
            }
            return instant
        }
        let page = try await service.predictions(
            endpoint: context.parameters.decoded("name"), since: since, limit: try request.queryInt("limit", default: 1_000, in: 1...10_000),
            pageToken: request.query("pageToken") ?? request.query("page_token"), by: principal)
        return try jsonResponse(PredictionPage(predictions: page.items, nextPageToken: page.nextPageToken))
    }
}
