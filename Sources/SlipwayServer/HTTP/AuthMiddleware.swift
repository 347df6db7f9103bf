import Foundation
import Hummingbird
import Logging
import SlipwayCore
import SlipwayRegistry

/// Checks the bearer token on every control-plane call and sets the principal.
/// Open paths (health, the OpenAPI document) need none; everything else answers 401 without one.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let tokens: AccessTokens
    let maxBodyBytes: Int

    static let openPaths: Set<String> = ["/health", "/metrics", "/api/v1/openapi.json", "/", "/api/v1/health"]

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var context = context
        context.maxBodyBytes = maxBodyBytes
        let open = Self.openPaths.contains(request.uri.path)
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            // Open paths answer the same to everyone, so a bad token there is ignored rather than refused.
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                if open { return try await next(request, context) }
                throw GenericError(.unauthenticated, "the Authorization header must be 'Bearer <token>'")
            }
            guard let principal = try await tokens.authenticate(secret: String(parts[1]).trimmingCharacters(in: .whitespaces)) else {
                if open { return try await next(request, context) }
                throw GenericError(.unauthenticated, "the token is unknown or revoked; ask an admin for a new one (`slipway token create`)")
            }
            context.principal = principal
            context.logger[metadataKey: "slipway.principal"] = "\(principal.name)"
        } else if !open {
            throw GenericError(.unauthenticated, "this call needs a bearer token: pass --token or set SLIPWAY_TOKEN")
        }
        return try await next(request, context)
    }
}
