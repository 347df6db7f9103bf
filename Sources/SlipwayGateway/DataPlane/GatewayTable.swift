/// The whole routing state of a gateway: for each endpoint, its routes and the backend of each
/// deployed variant. Built by the control plane and swapped into the gateway in one step.
public struct GatewayTable: Sendable, Equatable {
    /// A model server behind a variant.
    public struct Backend: Sendable, Equatable, Hashable {
        public var host: String
        public var port: Int
        /// The model name the backend knows (V2 paths are rewritten from the endpoint's name to it).
        public var modelName: String
        /// `model@version`, returned in `X-Slipway-Model-Version`.
        public var modelVersion: String

        public init(host: String, port: Int, modelName: String, modelVersion: String) {
            self.host = host
            self.port = port
            self.modelName = modelName
            self.modelVersion = modelVersion
        }
    }

    public struct Endpoint: Sendable, Equatable {
        public var routes: EndpointRoutes
        public var backends: [String: Backend]
        /// The largest request body accepted (413 above it).
        public var maxBodyBytes: Int
        /// The variant to retry on when a connection to another variant failed before any byte was sent.
        public var stableVariant: String?

        public init(routes: EndpointRoutes, backends: [String: Backend], maxBodyBytes: Int = 8 << 20, stableVariant: String? = nil) {
            self.routes = routes
            self.backends = backends
            self.maxBodyBytes = maxBodyBytes
            self.stableVariant = stableVariant
        }
    }

    public var endpoints: [String: Endpoint]

    public init(endpoints: [String: Endpoint] = [:]) {
        self.endpoints = endpoints
    }
}
