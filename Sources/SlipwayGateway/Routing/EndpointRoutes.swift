public import SlipwayCore
/// Everything the data plane needs to route one endpoint's requests: the split, the sticky key,
/// header routes, mirror rules and the pin header. A pure value, swapped whole.
public struct EndpointRoutes: Sendable, Equatable, Codable {
    public typealias StickyKey = StickyKeySource
    public typealias HeaderRoute = SlipwayCore.HeaderRoute
    public typealias MirrorRule = SlipwayCore.MirrorRule

    public var endpoint: String
    /// The seed of the bucketing hash (by default the endpoint's name).
    public var seed: String
    public var split: TrafficSplit
    public var stickyKey: StickyKey
    public var headerRoutes: [HeaderRoute]
    public var mirrors: [MirrorRule]
    /// The request header that pins a variant (like SageMaker's TargetVariant).
    public var pinHeader: String
    /// The variants that have a deployment and may receive traffic.
    public var deployed: Set<String>

    public init(
        endpoint: String, seed: String? = nil, split: TrafficSplit, stickyKey: StickyKey = .header("X-User-Id"),
        headerRoutes: [HeaderRoute] = [], mirrors: [MirrorRule] = [], pinHeader: String = "X-Slipway-Variant", deployed: Set<String>
    ) {
        self.endpoint = endpoint
        self.seed = seed ?? endpoint
        self.split = split
        self.stickyKey = stickyKey
        self.headerRoutes = headerRoutes
        self.mirrors = mirrors
        self.pinHeader = pinHeader
        self.deployed = deployed
    }

    /// What the routing of one request needs to know about it.
    public struct Request: Sendable {
        /// Looks a header up by name, case-insensitively.
        public var header: @Sendable (String) -> String?
        /// Looks a cookie up by name.
        public var cookie: @Sendable (String) -> String?
        /// Looks a JSON body field up by name (only asked when the sticky key is a JSON field).
        public var jsonField: @Sendable (String) -> String?
        /// The request id; it decides mirroring and the bucket of requests without a sticky key.
        public var requestId: String

        public init(
            requestId: String, header: @escaping @Sendable (String) -> String?, cookie: @escaping @Sendable (String) -> String? = { _ in nil },
            jsonField: @escaping @Sendable (String) -> String? = { _ in nil }
        ) {
            self.requestId = requestId
            self.header = header
            self.cookie = cookie
            self.jsonField = jsonField
        }
    }

    /// Why a request went where it went.
    public enum Reason: String, Sendable, Codable {
        case pinned, headerRoute = "header_route", sticky, unkeyed
    }

    public struct Decision: Sendable, Equatable {
        public var variant: String
        public var reason: Reason
        /// The bucket used (nil for pinned and header-routed requests).
        public var bucket: Int?
        /// The sticky key, if the request had one.
        public var stickyKey: String?
        /// Variants that get a mirrored copy.
        public var mirrors: [String]
    }

    /// Routes one request. Precedence: the pin header, then header routes in order, then the split by
    /// sticky key (or by request id when there is none). Throws `invalidArgument` for a pin to a
    /// variant that is not deployed, and `unavailable` when the split points at an undeployed one.
    public func route(_ request: Request) throws(GatewayError) -> Decision {
        let key = stickyValue(request)
        let mirrorTargets = mirrorsFor(request)
        if let pinned = request.header(pinHeader), !pinned.isEmpty {
            guard deployed.contains(pinned) else {
                throw GatewayError(
                    .invalidArgument,
                    "\(pinHeader): '\(pinned)' is not a variant of endpoint '\(endpoint)'; its variants are \(deployed.sorted().joined(separator: ", "))")
            }
            return Decision(variant: pinned, reason: .pinned, bucket: nil, stickyKey: key, mirrors: mirrorTargets.filter { $0 != pinned })
        }
        for route in headerRoutes where request.header(route.header) == route.value && deployed.contains(route.variant) {
            return Decision(
                variant: route.variant, reason: .headerRoute, bucket: nil, stickyKey: key, mirrors: mirrorTargets.filter { $0 != route.variant })
        }
        let bucket = TrafficSplit.bucket(key: key ?? request.requestId, seed: seed)
        let variant = split.variant(forBucket: bucket)
        guard deployed.contains(variant) else {
            throw GatewayError(.unavailable, "endpoint '\(endpoint)' sends traffic to variant '\(variant)', which has no deployment")
        }
        return Decision(
            variant: variant, reason: key == nil ? .unkeyed : .sticky, bucket: bucket, stickyKey: key, mirrors: mirrorTargets.filter { $0 != variant })
    }

    private func stickyValue(_ request: Request) -> String? {
        let value: String?
        switch stickyKey {
        case .header(let name): value = request.header(name)
        case .cookie(let name): value = request.cookie(name)
        case .jsonField(let name): value = request.jsonField(name)
        }
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    private func mirrorsFor(_ request: Request) -> [String] {
        guard !mirrors.isEmpty else { return [] }
        // Mirroring samples by request id, under its own seed so it is independent of the split.
        let bucket = TrafficSplit.bucket(key: request.requestId, seed: seed + "/mirror")
        return mirrors.filter { deployed.contains($0.variant) && Double(bucket) < $0.percent * 100 }.map(\.variant)
    }

    /// The routes of a stored endpoint: its policy, sticky key and deployed variants.
    public init(_ endpoint: Endpoint) {
        self.init(
            endpoint: endpoint.name, split: endpoint.policy.split, stickyKey: endpoint.settings.stickyKey,
            headerRoutes: endpoint.policy.headerRoutes, mirrors: endpoint.policy.mirrors, pinHeader: endpoint.policy.pinHeader,
            deployed: Set(endpoint.deployments.map(\.variant)))
    }

    /// Checks that every variant the policy names is deployed.
    public func validate() throws(GatewayError) {
        for (name, weight) in split.weights where weight > 0 && !deployed.contains(name) {
            throw GatewayError(.failedPrecondition, "variant '\(name)' gets \(weight)% of '\(endpoint)' but has no deployment; deploy it first")
        }
        for route in headerRoutes where !deployed.contains(route.variant) {
            throw GatewayError(.failedPrecondition, "header route to '\(route.variant)' names a variant with no deployment")
        }
        for mirror in mirrors {
            guard deployed.contains(mirror.variant) else {
                throw GatewayError(.failedPrecondition, "mirror to '\(mirror.variant)' names a variant with no deployment")
            }
            guard mirror.percent.isFinite, (0...100).contains(mirror.percent) else {
                throw GatewayError(.invalidArgument, "mirror percent \(mirror.percent) must be between 0 and 100")
            }
        }
    }
}
