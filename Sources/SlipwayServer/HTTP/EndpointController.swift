import Foundation
import Hummingbird
import Logging
import SlipwayCore
import SlipwayGateway

/// Endpoints, deployments and traffic under `/api/v1/endpoints`.
struct EndpointController {
    let service: EndpointService
    let live: @Sendable (String) -> [String: VariantMetrics]

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
    }

    struct EndpointList: Codable {
        var endpoints: [Endpoint]
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
    }

    func view(_ endpoint: Endpoint) -> EndpointView {
        EndpointView(endpoint: endpoint, weights: endpoint.policy.split.weights, live: live(endpoint.name))
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
}
