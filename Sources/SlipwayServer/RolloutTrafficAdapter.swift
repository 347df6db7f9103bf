import Foundation
import NIOCore
import SlipwayCore
import SlipwayGateway
import SlipwayRegistry
import SlipwayStats
import SlipwayStore
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

    func latencySamples(endpoint: String, seconds: Int) -> [String: [Double]] {
        guard let gateway else { return [:] }
        return gateway.gateway.metrics.window(endpoint: endpoint, seconds: seconds, latencySamples: true).mapValues { $0.latencySamplesMs ?? [] }
    }

    // MARK: Rolling updates

    func replicas(endpoint: String, variant: String) async throws -> VariantReplicas? {
        let found = try await endpoints.endpoint(endpoint, by: Self.principal)
        guard let deployment = found.deployment(variant) else { return nil }
        if case .url = deployment.backend { return nil }
        var replicas = VariantReplicas(
            model: deployment.model, version: deployment.version, backend: deployment.backend, desired: deployment.replicas,
            ready: deployment.replicas, processes: deployment.replicas, settled: true)
        // Without a supervisor in this process nothing can be watched: taken as ready, as `isReady` does.
        guard let supervisor = gateway?.backendSupervisor else { return replicas }
        guard let backend = supervisor.status(endpoint: endpoint)?[variant] else {
            replicas.ready = 0
            replicas.settled = false
            return replicas
        }
        let leaving = backend.replicas.count { $0.state == .draining || $0.state == .stopping }
        replicas.ready = backend.readyReplicas
        replicas.processes = max(backend.desiredReplicas, deployment.replicas) + leaving
        // The supervisor reads the store a moment after each change; until then its counts are of the previous one.
        replicas.settled = backend.desiredReplicas == deployment.replicas && backend.modelVersion == deployment.modelVersion
        return replicas
    }

    func scale(endpoint: String, variant: String, replicas: Int) async throws {
        let found = try await endpoints.endpoint(endpoint, by: Self.principal)
        guard let deployment = found.deployment(variant) else {
            throw GenericError(
                .failedPrecondition, "variant '\(variant)' of endpoint '\(endpoint)' has no deployment to scale; deploy it first")
        }
        guard deployment.replicas != replicas else { return }
        _ = try await endpoints.deploy(
            endpoint: endpoint, variant: variant, model: deployment.modelVersion, backend: deployment.backend, replicas: replicas,
            by: Self.principal)
    }

    func samples(endpoint: String, seconds: Int) -> [String: VariantSample] {
        guard let gateway else { return [:] }
        return gateway.gateway.metrics.window(endpoint: endpoint, seconds: seconds).mapValues { window in
            VariantSample(
                requests: window.requests, errors: window.errors,
                latencyQuantiles: window.requests > 0
                    ? LatencyQuantiles(p50: window.latencyP50Ms, p95: window.latencyP95Ms, p99: window.latencyP99Ms) : nil,
                predictionCounts: window.predictions, outcome: Self.outcome(window.outcomes))
        }
    }

    /// The feedback of a window as the judge counts it: every numeric outcome is a trial and adds to the values;
    /// conversions are posted as outcomes of 0 or 1, so their count is the outcomes' sum (kept within 0…trials).
    static func outcome(_ statistics: OutcomeStatistics) -> OutcomeSummary? {
        guard statistics.count > 0 else { return nil }
        let conversions = statistics.sum.isFinite ? min(max(Int(statistics.sum.rounded()), 0), statistics.count) : 0
        return OutcomeSummary(
            conversions: conversions, trials: statistics.count,
            values: MomentAccumulator(count: Double(statistics.count), sum: statistics.sum, sumOfSquares: statistics.sumOfSquares))
    }

    // MARK: Experiments and shadows

    func experimentCounts(endpoint: String, since: Date, segmentBy: String?) async throws -> ExperimentCounts {
        var counts = ExperimentCounts()
        var token: String?
        repeat {
            let page = try await endpoints.predictions(endpoint: endpoint, since: since, limit: 10_000, pageToken: token, by: Self.principal)
            for record in page.items where record.timestamp >= since { counts.add(record, segmentBy: segmentBy) }
            token = page.nextPageToken
        } while token != nil
        return counts
    }

    func mirrorSamples(endpoint: String, seconds: Int) -> [String: MirrorSample] {
        guard let gateway else { return [:] }
        return gateway.gateway.metrics.window(endpoint: endpoint, seconds: seconds).compactMapValues { window in
            guard let mirror = window.mirror else { return nil }
            let sample = VariantSample(
                requests: mirror.answers, errors: mirror.errors,
                latencyQuantiles: mirror.answers > 0
                    ? LatencyQuantiles(p50: mirror.latencyP50Ms, p95: mirror.latencyP95Ms, p99: mirror.latencyP99Ms) : nil,
                predictionCounts: mirror.predictions)
            return MirrorSample(sample: sample, compared: mirror.compared, agreed: mirror.agreed)
        }
    }

    // MARK: Blue-green

    func gatewayURL() -> String? {
        guard let address = gateway?.gateway.localAddress, let port = address.port else { return nil }
        var host = address.ipAddress ?? "127.0.0.1"
        // A gateway listening on every interface is reached on the loopback one.
        if host == "0.0.0.0" { host = "127.0.0.1" } else if host == "::" { host = "::1" }
        return host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }
}

extension RolloutService {
    /// The rollout service of a data folder; with the gateway of this process when there is one.
    /// Metrics of the `prometheus` provider without an address ask the configuration's `prometheusURL`; failed webhook
    /// deliveries are logged with the services' logger.
    public static func make(_ services: SlipwayServices, gateway: GatewayService?) -> RolloutService {
        RolloutService(
            store: services.metadata,
            traffic: RolloutTrafficAdapter(endpoints: services.endpoints, registry: services.registry, gateway: gateway), logger: services.logger,
            providers: MetricProviders(prometheusURL: services.configuration.prometheusURL), notifier: RolloutNotifier(logger: services.logger))
    }
}
