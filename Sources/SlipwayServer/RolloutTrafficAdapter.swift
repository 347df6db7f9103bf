import Foundation
import SlipwayCore
import SlipwayGateway
import SlipwayRegistry
public import SlipwayRollout

/// The rollout controller's view of traffic, on top of the endpoint service (which stores each change and
/// swaps the gateway's routing table), the registry (aliases) and the gateway's windowed metrics.
struct RolloutTrafficAdapter: RolloutTraffic {
    /// Who the controller's changes of endpoints and aliases are recorded as.
    static let principal = Principal(name: RolloutService.controllerActor, role: .admin)

    let endpoints: EndpointService
    let registry: Registry
    /// The gateway of this process, nil in the in-process CLI (no traffic to measure there).
    let gateway: GatewayService?

    func endpointState(_ endpoint: String) async throws -> (stableVariant: String, weights: [String: Double]) {
        let found = try await endpoints.endpoint(endpoint, by: Self.principal)
        let weights = found.policy.split.weights
        // Without a recorded stable variant, the one with the most traffic is the stable one.
        let stable = found.policy.stableVariant ?? weights.max { $0.value < $1.value }?.key ?? "stable"
        return (stable, weights)
    }

    func resolveVersion(model: String, reference: ModelReference) async throws -> Int {
        switch reference {
        case .version(let number):
            return try await registry.version(model, number, by: Self.principal).version
        case .alias(let alias):
            return try await registry.alias(model, alias: alias, by: Self.principal).version
        }
    }

    func deploy(endpoint: String, variant: String, model: String, version: Int, backend: BackendSpec, replicas: Int) async throws {
        _ = try await endpoints.deploy(
            endpoint: endpoint, variant: variant, model: "\(model)@\(version)", backend: backend, replicas: replicas, by: Self.principal)
    }

    func isReady(endpoint: String, variant: String) async -> Bool {
        guard let supervisor = gateway?.backendSupervisor,
            let deployment = try? await endpoints.endpoint(endpoint, by: Self.principal).deployment(variant)
        else { return true }
        if case .url = deployment.backend { return true }
        return (supervisor.status(endpoint: endpoint)?[variant]?.readyReplicas ?? 0) > 0
    }

    func setCandidateWeight(endpoint: String, stable: String, candidate: String, weight: Double) async throws {
        _ = try await endpoints.setWeights(endpoint, [(stable, 100 - weight), (candidate, weight)], by: Self.principal)
    }

    func switchTo(endpoint: String, variant: String) async throws {
        _ = try await endpoints.switchTo(endpoint, variant: variant, by: Self.principal)
    }

    func promoteAlias(model: String, version: Int, reason: String) async throws {
        try await registry.setAlias(model, alias: "production", version: version, reason: reason, by: Self.principal)
    }

    func setMirror(endpoint: String, variant: String, percent: Double) async throws {
        _ = try await endpoints.mirror(endpoint, to: variant, percent: percent, by: Self.principal)
    }

    func setHeaderRoute(endpoint: String, header: String, value: String, variant: String?) async throws {
        _ = try await endpoints.route(endpoint, header: header, value: value, to: variant, by: Self.principal)
    }

    func removeVariant(endpoint: String, variant: String) async throws {
        _ = try await endpoints.undeploy(endpoint: endpoint, variant: variant, by: Self.principal)
    }

    // MARK: Rolling updates

    func samples(endpoint: String, seconds: Int) -> [String: VariantSample] {
        guard let gateway else { return [:] }
        return gateway.gateway.metrics.window(endpoint: endpoint, seconds: seconds).mapValues { window in
            VariantSample(
                requests: window.requests, errors: window.errors,
                latencyQuantiles: window.requests > 0
                    ? LatencyQuantiles(p50: window.latencyP50Ms, p95: window.latencyP95Ms, p99: window.latencyP99Ms) : nil,
                predictionCounts: window.predictions)
        }
    }
}

extension RolloutService {
    /// The rollout service of a data folder; with the gateway of this process when there is one.
    public static func make(_ services: SlipwayServices, gateway: GatewayService?) -> RolloutService {
        RolloutService(
            store: services.metadata,
            traffic: RolloutTrafficAdapter(endpoints: services.endpoints, registry: services.registry, gateway: gateway), logger: services.logger)
    }
}
