public import NIOCore
public import SlipwayCore

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

        /// The `Host` header of requests sent to this backend.
        var hostHeader: String { "\(host):\(port)" }
    }

    public struct Endpoint: Sendable, Equatable {
        public var routes: EndpointRoutes
        /// The ready replicas of each variant's backend; a variant with none is answered 503.
        public var replicas: [String: [Backend]]
        /// The largest request body accepted (413 above it).
        public var maxBodyBytes: Int
        /// The variant to retry on when a connection to another variant failed before any byte was sent.
        public var stableVariant: String?
        /// How long a backend may take to answer (504 after it).
        public var timeout: TimeAmount
        /// What the prediction log keeps of a request's features.
        public var featureLogging: FeatureLogging

        public init(
            routes: EndpointRoutes, replicas: [String: [Backend]], maxBodyBytes: Int = 8 << 20, stableVariant: String? = nil,
            timeout: TimeAmount = .seconds(30), featureLogging: FeatureLogging = .hashed
        ) {
            self.routes = routes
            self.replicas = replicas.filter { !$0.value.isEmpty }
            self.maxBodyBytes = maxBodyBytes
            self.stableVariant = stableVariant
            self.timeout = timeout
            self.featureLogging = featureLogging
        }

        /// One backend per variant (URL backends).
        public init(
            routes: EndpointRoutes, backends: [String: Backend], maxBodyBytes: Int = 8 << 20, stableVariant: String? = nil,
            timeout: TimeAmount = .seconds(30), featureLogging: FeatureLogging = .hashed
        ) {
            self.init(
                routes: routes, replicas: backends.mapValues { [$0] }, maxBodyBytes: maxBodyBytes, stableVariant: stableVariant,
                timeout: timeout, featureLogging: featureLogging)
        }

        /// A replica of a variant's backend; `spread` (any counter) chooses among several replicas.
        public func backend(_ variant: String, spread: Int = 0) -> Backend? {
            guard let all = replicas[variant], !all.isEmpty else { return nil }
            return all[(spread & Int.max) % all.count]
        }
    }

    public var endpoints: [String: Endpoint]

    public init(endpoints: [String: Endpoint] = [:]) {
        self.endpoints = endpoints
    }
}
