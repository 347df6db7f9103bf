public import Hummingbird
public import SlipwayCore

/// The request context of the control plane: the authenticated principal and the body limit.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthMiddleware`` once the bearer token checks out.
    public var principal: Principal?
    /// The body limit for JSON requests; artifact uploads stream and are exempt.
    public var maxBodyBytes: Int

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.maxBodyBytes = 8 << 20
    }

    public var maxUploadSize: Int { maxBodyBytes }

    /// The principal, or a 401 error when the request carried no valid token.
    public func requirePrincipal() throws -> Principal {
        guard let principal else {
            throw GenericError(.unauthenticated, "this call needs a bearer token: pass --token or set SLIPWAY_TOKEN")
        }
        return principal
    }
}
