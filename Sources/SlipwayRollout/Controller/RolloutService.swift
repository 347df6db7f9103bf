public import Foundation
public import Logging
public import SlipwayCore
public import SlipwayStore

/// Starts rollouts, answers for them, takes people's commands (promote, abort, pause, resume, retry)
/// and advances running canaries one step at a time for the ``RolloutController``.
///
/// Every change is one compare-and-set update of the stored rollout (with its history entry and audit
/// event). Traffic moves before the change is recorded, so a restart re-applies a weight at most once
/// more (setting a weight is idempotent) and never skips a step. Changes in one process are serialized
/// through ``RolloutLock/shared``, so a command never races the controller loop.
public struct RolloutService: Sendable {
    /// The actor recorded for the controller's own transitions.
    public static let controllerActor = "rollout-controller"

    let store: any RolloutStore
    let traffic: any RolloutTraffic
    let logger: Logger
    let now: @Sendable () -> Date
    /// Measures metrics of the `prometheus`, `web` and `job` providers.
    let providers: MetricProviders
    /// Tells the spec's webhooks about phase changes and gates.
    let notifier: RolloutNotifier

    /// Creates the service.
    /// - Parameter now: the clock (injected so tests can move it).
    public init(
        store: any RolloutStore, traffic: any RolloutTraffic, logger: Logger, providers: MetricProviders = MetricProviders(),
        notifier: RolloutNotifier = RolloutNotifier(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.traffic = traffic
        self.logger = logger
        self.providers = providers
        self.notifier = notifier
        self.now = now
    }

    // MARK: Starting

    /// Parses a rollout file and starts it.
    /// - Throws: `RolloutError.invalidSpec` with every problem of the file (nothing starts), or a
    ///   `GenericError` for a strategy or step the controller does not run yet, an unknown endpoint or version,
    ///   or a second rollout on the endpoint (naming the running one).
    public func start(yaml: String, file: String = "rollout.yml", by principal: Principal) async throws -> RolloutStatus {
        try principal.require(.editor, for: "starting a rollout")
        let parsed = try RolloutParser().parseRollout(yaml, file: file)
        return try await start(spec: parsed.rollout, templates: parsed.templates, by: principal)
    }

    /// Starts a rollout from a spec and the templates it names.
    public func start(spec: RolloutSpec, templates: [AnalysisTemplate], by principal: Principal) async throws -> RolloutStatus {
        try principal.require(.editor, for: "starting a rollout")
        try Self.checkSupported(spec, templates: templates)
        let endpoint = try await traffic.endpointState(spec.endpoint)
        let stable = spec.stableVariant ?? endpoint.stableVariant
        guard stable != spec.candidate.variant else {
            throw GenericError(
                .invalidArgument,
                "the candidate variant '\(stable)' is the stable variant of endpoint '\(spec.endpoint)'; give the candidate another variant name (candidate.variant)"
            )
        }
        try await checkRollingEndpoint(spec, stable: stable)
        let version = try await traffic.resolveVersion(model: spec.candidate.model, reference: spec.candidate.reference)
        let stored = StoredRolloutSpec(spec: spec, templates: templates)
        var initialState = CanaryState(stableVariant: stable)
        initialState.previousProduction = try? await traffic.resolveVersion(model: spec.candidate.model, reference: .alias("production"))
        let record = try await store.startRollout(
            NewRollout(
                name: spec.name, endpoint: spec.endpoint, spec: try Self.encode(stored), candidateModel: spec.candidate.model,
                candidateVersion: version,
                state: try Self.encode(initialState), reason: "started"),
            actor: principal.name)
        logger.info(
            "rollout started",
            metadata: [
                "slipway.rollout": "\(spec.name)", "slipway.endpoint": "\(spec.endpoint)", "slipway.model": "\(spec.candidate.model)@\(version)",
            ])
        return try await status(of: record)
    }

    /// Refuses what this controller does not run yet, with a sentence saying so.
    static func checkSupported(_ spec: RolloutSpec, templates: [AnalysisTemplate]) throws {
        switch spec.strategy {
        case .canary(let canary): try checkCanary(canary, templates: templates)
        case .blueGreen(let strategy): try checkBlueGreen(strategy, templates: templates)
        case .experiment(let strategy): try checkExperiment(strategy, templates: templates)
        case .shadow(let strategy): try checkShadow(strategy, templates: templates)
        case .rolling(let strategy): try checkRolling(strategy, templates: templates)
        }
    }

    /// Refuses an analysis the controller cannot run: a template the spec does not define, a judge or a
    /// provider not supported yet. `place` names where the analysis is used, for the message.
    static func checkAnalysis(_ reference: AnalysisReference, templates: [AnalysisTemplate], place: String) throws {
        for name in reference.templates.map(\.templateName) {
            guard let template = templates.first(where: { $0.name == name }) else {
                throw GenericError(.invalidArgument, "\(place) names analysis template '\(name)', which the spec does not define")
            }
            if template.judge != nil {
                // The judge compares per-request samples of both variants, which the gateway keeps for latency and errors.
                for metric in template.metrics {
                    guard case .builtin(let builtin) = metric.provider, [.latency, .errorRate].contains(builtin.kind) else {
                        throw GenericError(
                            .invalidArgument,
                            "template '\(name)', metric '\(metric.name)': the judge compares per-request samples, which Slipway has for builtin latency and error-rate metrics only; measure this metric in a template without a judge"
                        )
                    }
                }
                continue
            }
            for metric in template.metrics where !MetricProviders.supports(metric.provider) {
                throw GenericError(
                    .invalidArgument,
                    "template '\(name)', metric '\(metric.name)': the \(metric.provider.name) provider is not yet supported by the controller"
                )
            }
        }
    }

    static func checkCanary(_ canary: CanaryStrategy, templates: [AnalysisTemplate]) throws {
        if let background = canary.analysis {
            try checkAnalysis(background.analysis, templates: templates, place: "the background analysis")
        }
        for (index, step) in canary.steps.enumerated() {
            if case .analysis(let reference) = step { try checkAnalysis(reference, templates: templates, place: "step \(index)") }
        }
    }

    /// Waits until the webhook deliveries of the changes made so far have succeeded or given up; a command
    /// line that changes a rollout without a server calls it before it exits, so that no event is lost.
    public func waitForNotifications() async {
        await notifier.waitForDeliveries()
    }

    // MARK: Reading

    /// One rollout's status.
    public func status(_ name: String, by principal: Principal) async throws -> RolloutStatus {
        try principal.require(.viewer, for: "reading a rollout")
        return try await status(of: try await require(name))
    }

    /// Every rollout, by name.
    public func list(by principal: Principal) async throws -> [RolloutStatus] {
        try principal.require(.viewer, for: "listing rollouts")
        var result: [RolloutStatus] = []
        for record in try await store.rollouts(runningOnly: false) { result.append(try await status(of: record)) }
        return result
    }

    /// A rollout's transitions, oldest first.
    public func history(_ name: String, by principal: Principal) async throws -> [RolloutTransition] {
        try principal.require(.viewer, for: "reading a rollout's history")
        _ = try await require(name)
        return try await store.rolloutHistory(named: name)
    }

    func require(_ name: String) async throws -> RolloutRecord {
        guard let record = try await store.rollout(named: name) else {
            throw GenericError(.notFound, "rollout '\(name)' does not exist; `slipway rollout list` shows the rollouts")
        }
        return record
    }

    func status(of record: RolloutRecord) async throws -> RolloutStatus {
        let stored = try Self.decode(StoredRolloutSpec.self, record.spec)
        let state = try Self.decode(CanaryState.self, record.state)
        let steps: [CanaryStep]
        if case .canary(let canary) = stored.spec.strategy { steps = canary.steps } else { steps = [] }
        let weights = (try? await traffic.endpointState(record.endpoint).weights) ?? [:]
        var analysis: AnalysisStatus?
        if let run = state.analysis ?? state.lastAnalysis {
            analysis = AnalysisStatus(
                phase: run.phase, message: run.message, current: state.analysis != nil, startedAt: state.analysisStartedAt,
                metrics: run.results.map { MetricStatus($0) })
        }
        var status = RolloutStatus(
            name: record.name, endpoint: record.endpoint, phase: record.phase, reason: record.reason, step: record.step, stepCount: steps.count,
            currentStep: record.step < steps.count ? Self.describe(steps[record.step]) : nil, strategy: stored.spec.strategy.name,
            candidate: "\(record.candidateModel)@\(record.candidateVersion)", candidateVariant: stored.spec.candidate.variant,
            stableVariant: state.stableVariant, candidateWeight: state.weight, weights: weights, pauseUntil: state.pauseUntil, analysis: analysis,
            spec: stored.spec, createdAt: record.createdAt, updatedAt: record.updatedAt, createdBy: record.createdBy, revision: record.revision)
        if let run = state.background {
            status.backgroundAnalysis = AnalysisStatus(
                phase: run.phase, message: run.message, current: record.phase.isRunning, startedAt: state.backgroundStartedAt,
                metrics: run.results.map { MetricStatus($0) })
        }
        status.rollbackMilliseconds = state.rollbackMilliseconds
        status.blueGreen = state.blueGreen
        status.experiment = state.experiment
        status.shadow = state.shadow
        status.rolling = state.rolling
        return status
    }

    /// A step in YAML's words.
    static func describe(_ step: CanaryStep) -> String {
        switch step {
        case .setWeight(let w): "setWeight: \(w.formatted(.number))"
        case .pause(let p): p.duration.map { "pause: \($0)" } ?? "pause (until promoted)"
        case .analysis(let a): a.usesDefaultAnalysis ? "analysis: default" : "analysis: " + a.templates.map(\.templateName).joined(separator: ", ")
        case .setHeaderRoute(let h): "setHeaderRoute: \(h.name)"
        case .setMirrorRoute(let m): "setMirrorRoute: \(m.name)"
        }
    }

    // MARK: Encoding

    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try SlipwayJSON.encoder().encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do {
            return try SlipwayJSON.decoder().decode(type, from: Data(text.utf8))
        } catch {
            throw GenericError(.corrupted, "a stored rollout does not decode (\(error)); it was written by another version of Slipway")
        }
    }
}
