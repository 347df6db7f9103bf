import Hummingbird
import Logging
import SlipwayCore
import SlipwayRegistry

/// Tokens under `/api/v1/tokens` (admin only) and `/api/v1/whoami`.
struct TokenController {
    let tokens: AccessTokens

    struct CreateToken: Codable {
        var name: String
        var role: Role
    }

    struct TokenList: Codable {
        var tokens: [TokenRecord]
    }

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.post("tokens", use: create)
        group.get("tokens", use: list)
        group.delete("tokens/:id", use: revoke)
        group.get("whoami", use: whoami)
    }

    @Sendable func create(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(CreateToken.self, context: context)
        return try jsonResponse(try await tokens.create(name: body.name, role: body.role, by: principal), status: .created)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(TokenList(tokens: try await tokens.list(by: context.requirePrincipal())))
    }

    @Sendable func revoke(_ request: Request, context: APIContext) async throws -> Response {
        try await tokens.revoke(id: context.parameters.decoded("id"), by: context.requirePrincipal())
        return emptyResponse()
    }

    @Sendable func whoami(_ request: Request, context: APIContext) async throws -> Response {
        try jsonResponse(try context.requirePrincipal())
    }
}
