import Foundation
public import Logging
public import SlipwayCore
public import SlipwayStore

/// The control plane of endpoints: create them, deploy model versions as variants, and change how
/// traffic is split, routed and mirrored. Every change is validated, stored (compare-and-set on the
/// endpoint's revision, with its audit event) and then announced through `onChange`, which the
/// server uses to swap the gateway's routing table.
public struct EndpointService: Sendable {
    public typealias Store = any MetadataStore & EndpointStore

    public let store: Store
    let logger: Logger
    let onChange: @Sendable (Endpoint?) async -> Void

    public init(store: Store, logger: Logger, onChange: @escaping @Sendable (Endpoint?) async -> Void = { _ in }) {
        self.store = store
        self.logger = logger
        self.onChange = onChange
    }

    // MARK: Endpoints

    /// Creates an endpoint whose traffic will go to `initialVariant` (default `stable`) once it is deployed.
    public func create(
        name: String, description: String = "", settings: EndpointSettings = EndpointSettings(), initialVariant: String = "stable",
        by principal: Principal
    ) async throws -> Endpoint {
        try principal.require(.editor, for: "creating an endpoint")
        try Names.validateModelName(name)
        try settings.validate()
        try Self.validateVariant(initialVariant)
        let endpoint = try await store.createEndpoint(
            NewEndpoint(
                name: name, description: description, settings: settings,
                policy: TrafficPolicy(split: TrafficSplit(allTo: initialVariant), stableVariant: initialVariant)),
            actor: principal.name)
        logger.info("endpoint created", metadata: ["slipway.endpoint": "\(name)", "slipway.actor": "\(principal.name)"])
        await onChange(endpoint)
        return endpoint
    }

    public func endpoint(_ name: String, by principal: Principal) async throws -> Endpoint {
        try principal.require(.viewer, for: "reading an endpoint")
        guard let endpoint = try await store.endpoint(named: name) else { throw Self.notFound(name) }
        return endpoint
    }

    public func list(by principal: Principal) async throws -> [Endpoint] {
        try principal.require(.viewer, for: "listing endpoints")
        return try await store.endpoints()
    }

    public func delete(_ name: String, by principal: Principal) async throws {
        try principal.require(.editor, for: "deleting an endpoint")
        try await store.deleteEndpoint(named: name, actor: principal.name)
        logger.info("endpoint deleted", metadata: ["slipway.endpoint": "\(name)", "slipway.actor": "\(principal.name)"])
        await onChange(nil)
    }

    // MARK: Deployments

    /// Deploys `MODEL@VERSION` or `MODEL@ALIAS` as a variant of an endpoint.
    public func deploy(
        endpoint: String, variant: String, model reference: String, backend: BackendSpec, replicas: Int = 1, by principal: Principal
    ) async throws -> Endpoint {
        try principal.require(.editor, for: "deploying a model")
        try Self.validateVariant(variant)
        try Self.validate(backend)
        guard (1...64).contains(replicas) else { throw GatewayError(.invalidArgument, "--replicas must be between 1 and 64, got \(replicas)") }
        let (model, version) = try await resolve(reference)
        let updated = try await store.putDeployment(
            NewDeployment(endpoint: endpoint, variant: variant, model: model, version: version, backend: backend, replicas: replicas),
            actor: principal.name)
        logger.info(
            "model deployed",
            metadata: ["slipway.endpoint": "\(endpoint)", "slipway.variant": "\(variant)", "slipway.model": "\(model)@\(version)"])
        await onChange(updated)
        return updated
    }

    public func undeploy(endpoint: String, variant: String, by principal: Principal) async throws -> Endpoint {
        try principal.require(.editor, for: "removing a deployment")
        let updated = try await store.deleteDeployment(endpoint: endpoint, variant: variant, actor: principal.name)
        await onChange(updated)
        return updated
    }

    /// `model@3`, `model@v3`, `model@latest` or `model@production` → (model, version).
    func resolve(_ reference: String) async throws -> (String, Int) {
        guard let at = reference.lastIndex(of: "@"), at != reference.startIndex, reference.index(after: at) != reference.endIndex else {
            throw GatewayError(.invalidArgument, "'\(reference)' must be MODEL@VERSION or MODEL@ALIAS, e.g. churn@3 or churn@production")
        }
        let name = String(reference[..<at])
        var ref = String(reference[reference.index(after: at)...])
        if ref.hasPrefix("v"), Int(ref.dropFirst()) != nil { ref.removeFirst() }
        guard let model = try await store.model(named: name) else { throw StoreError.modelNotFound(name) }
        if let number = Int(ref) { return (name, number) }
        if ref == "latest" {
            guard let latest = model.latestVersion else { throw GatewayError(.notFound, "model '\(name)' has no versions") }
            return (name, latest)
        }
        guard let number = model.aliases[ref] else { throw StoreError.aliasNotFound(name, ref) }
        return (name, number)
    }

    // MARK: Traffic

    /// Sets the split, e.g. `stable=90 canary=10`; variants left out get 0. Weights must add up to 100.
    public func setWeights(_ endpoint: String, _ weights: [(String, Double)], by principal: Principal) async throws -> Endpoint {
        try principal.require(.editor, for: "changing traffic")
        return try await updatePolicy(endpoint, by: principal) { policy, current in
            for (variant, weight) in weights where weight > 0 && current.deployment(variant) == nil {
                throw GatewayError(.failedPrecondition, "variant '\(variant)' of '\(endpoint)' has no deployment; deploy it first")
            }
            try policy.split.apply(weights)
        }
    }

    /// Sends all traffic to one variant at once (a blue-green switch or a rollback); it becomes the
    /// stable variant, the one failed connections are retried on.
    public func switchTo(_ endpoint: String, variant: String, by principal: Principal) async throws -> Endpoint {
        try principal.require(.editor, for: "changing traffic")
        return try await updatePolicy(endpoint, by: principal) { policy, current in
            guard current.deployment(variant) != nil else {
                throw GatewayError(.failedPrecondition, "variant '\(variant)' of '\(endpoint)' has no deployment; deploy it first")
            }
            try policy.split.apply([(variant, 100)])
            policy.stableVariant = variant
        }
    }

    /// Mirrors `percent` of the traffic to a variant (0 removes the mirror).
    public func mirror(_ endpoint: String, to variant: String, percent: Double, by principal: Principal) async throws -> Endpoint {
        try principal.require(.editor, for: "changing traffic")
        guard percent.isFinite, (0...100).contains(percent) else {
            throw GatewayError(.invalidArgument, "--percent must be between 0 and 100, got \(percent)")
        }
        return try await updatePolicy(endpoint, by: principal) { policy, current in
            guard current.deployment(variant) != nil else {
                throw GatewayError(.failedPrecondition, "variant '\(variant)' of '\(endpoint)' has no deployment; deploy it first")
            }
            policy.mirrors.removeAll { $0.variant == variant }
            if percent > 0 { policy.mirrors.append(MirrorRule(variant: variant, percent: percent)) }
        }
    }

    /// Routes requests whose header has a value to a variant (nil variant removes that route).
    public func route(_ endpoint: String, header: String, value: String, to variant: String?, by principal: Principal) async throws -> Endpoint {
        try principal.require(.editor, for: "changing traffic")
        guard !header.isEmpty, header.count <= 128, header.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw GatewayError(.invalidArgument, "header name '\(header)' must be letters, digits, '-' or '_'")
        }
        return try await updatePolicy(endpoint, by: principal) { policy, current in
            policy.headerRoutes.removeAll { $0.header.lowercased() == header.lowercased() && $0.value == value }
            if let variant {
                guard current.deployment(variant) != nil else {
                    throw GatewayError(.failedPrecondition, "variant '\(variant)' of '\(endpoint)' has no deployment; deploy it first")
                }
                policy.headerRoutes.append(HeaderRoute(header: header, value: value, variant: variant))
            }
        }
    }

    /// Reads the endpoint, changes its policy and stores it compare-and-set; retries a few times when
    /// another change landed in between.
    private func updatePolicy(
        _ name: String, by principal: Principal, _ change: (inout TrafficPolicy, Endpoint) throws -> Void
    ) async throws -> Endpoint {
        var attempt = 0
        while true {
            attempt += 1
            let current = try await endpoint(name, by: principal)
            var policy = current.policy
            try change(&policy, current)
            do {
                let updated = try await store.updateEndpoint(
                    named: name, expectedRevision: current.revision, settings: nil, policy: policy, actor: principal.name)
                logger.info("traffic changed", metadata: ["slipway.endpoint": "\(name)", "slipway.weights": "\(policy.split.weights)"])
                await onChange(updated)
                return updated
            } catch let error as StoreError where error.kind == .failedPrecondition && error.message.contains("revision") && attempt < 5 {
                continue
            }
        }
    }

    // MARK: Validation

    static func validateVariant(_ name: String) throws {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw GatewayError(.invalidArgument, "variant name '\(name)' must be 1 to 64 letters, digits, '-' or '_'")
        }
    }

    static func validate(_ backend: BackendSpec) throws {
        switch backend {
        case .url(let text, _):
            guard let url = URL(string: text), url.scheme == "http", let host = url.host, !host.isEmpty else {
                throw GatewayError(.invalidArgument, "--backend '\(text)' must be an http:// URL such as http://127.0.0.1:8080")
            }
        case .command(let command):
            guard !command.trimmingCharacters(in: .whitespaces).isEmpty, command.utf8.count <= 4096 else {
                throw GatewayError(.invalidArgument, "--command must be a non-empty shell command of at most 4096 bytes")
            }
        case .builtin: break
        }
    }

    static func notFound(_ name: String) -> GatewayError {
        GatewayError(.notFound, "endpoint '\(name)' does not exist; `slipway endpoints list` shows the endpoints")
    }
}
