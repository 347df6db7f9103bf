public import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// What the controller keeps about a blueGreen rollout between moves (stored in CanaryState, and shown by
/// `rollout status` and the API). Every wait is a stored deadline, so a restarted server keeps it.
public struct BlueGreenState: Sendable, Codable, Equatable {
    /// Where a blue-green rollout stands.
    public enum Stage: String, Sendable, Codable, Equatable {
        /// The candidate is deployed as the preview (no traffic); waiting for it to be ready.
        case preview
        /// The pre-promotion analysis runs against the preview.
        case prePromotionAnalysis
        /// The preview is ready and checked: waiting until ``BlueGreenState/promoteAt`` (auto-promotion) or
        /// for an approver's `rollout promote` (manual promotion).
        case promotion
        /// All traffic is on the candidate; the post-promotion analysis runs and the old variant stands by.
        case postPromotionAnalysis
        /// All traffic is on the candidate; the old variant keeps running until ``BlueGreenState/scaleDownAt``.
        case scaleDownDelay
        /// The old variant was removed and the candidate is the production version.
        case completed
        /// Stopped before the switch: the preview never had traffic.
        case aborted
        /// Stopped after the switch: all traffic went back to the old variant.
        case switchedBack
    }

    /// The current stage.
    public var stage: Stage
    /// The candidate's variant: the preview before the switch, the production variant after it.
    public var previewVariant: String
    /// The variant that served production when the rollout started (the one a switch back returns to).
    public var previousStable: String
    /// When the preview was first seen ready.
    public var previewReadyAt: Date?
    /// The gateway's address when the preview became ready (nil without a gateway in the server).
    public var gatewayURL: String?
    /// The endpoint's V2 model path on the gateway; requests pinned to ``previewVariant`` with the
    /// `X-Slipway-Variant` header reach the preview there.
    public var previewURL: String?
    /// The auto-promotion deadline, once the preview is ready and checked.
    public var promoteAt: Date?
    /// `true` while the rollout is Paused at the manual promotion gate.
    public var awaitingPromotion: Bool
    /// When all traffic was switched to the candidate.
    public var switchedAt: Date?
    /// When the old variant is removed (set once the post-promotion analysis passed, or at the switch without one).
    public var scaleDownAt: Date?
    /// `true` once the old variant's deployment was removed.
    public var previousRemoved: Bool
    /// When traffic was switched back to the old variant.
    public var switchedBackAt: Date?

    /// The state of a blue-green rollout whose preview is being deployed.
    public init(previewVariant: String, previousStable: String) {
        self.stage = .preview
        self.previewVariant = previewVariant
        self.previousStable = previousStable
        self.awaitingPromotion = false
        self.previousRemoved = false
    }

    /// `true` while all traffic is on the candidate and the old variant still runs.
    public var canSwitchBack: Bool { switchedAt != nil && switchedBackAt == nil && !previousRemoved }
}

extension RolloutService {
    /// Refuses a blueGreen spec the controller cannot run: an analysis naming a template the spec does not
    /// define, a judge or a provider not supported yet.
    static func checkBlueGreen(_ strategy: BlueGreenStrategy, templates: [AnalysisTemplate]) throws {
        if let pre = strategy.prePromotionAnalysis { try checkAnalysis(pre, templates: templates, place: "prePromotionAnalysis") }
        if let post = strategy.postPromotionAnalysis { try checkAnalysis(post, templates: templates, place: "postPromotionAnalysis") }
    }

    /// One move of a blueGreen rollout; `true` when it moved on and may move again at once.
    ///
    /// Deploy the preview → wait for it to be ready → pre-promotion analysis → wait for promotion (a stored
    /// deadline or a gate) → switch all traffic in one change → post-promotion analysis → wait for the
    /// scale-down deadline → remove the old variant, move the `production` alias, Healthy.
    func advanceBlueGreen(
        _ strategy: BlueGreenStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState
    ) async throws -> Bool {
        let candidate = stored.spec.candidate
        let now = self.now()
        var bg = state.blueGreen ?? BlueGreenState(previewVariant: candidate.variant, previousStable: state.stableVariant)
        if !state.deployed {
            try await traffic.deploy(
                endpoint: record.endpoint, variant: candidate.variant, model: record.candidateModel, version: record.candidateVersion,
                backend: candidate.backend, replicas: candidate.replicas)
            state.deployed = true
            state.blueGreen = bg
            _ = try await save(
                record, state, action: "rollout.deploy", phase: .progressing,
                reason:
                    "deployed \(record.candidateModel)@\(record.candidateVersion) as the preview variant '\(candidate.variant)': no user traffic, reachable with the X-Slipway-Variant: \(candidate.variant) header",
                step: record.step, actor: Self.controllerActor)
            return true
        }
        if state.blueGreen == nil {
            // A retried rollout: the preview is still deployed; record where the new attempt stands.
            return try await saveStage(bg, record, &state)
        }
        switch bg.stage {
        case .preview:
            guard await traffic.isReady(endpoint: record.endpoint, variant: candidate.variant) else { return false }
            bg.previewReadyAt = now
            bg.gatewayURL = traffic.gatewayURL()
            bg.previewURL = bg.gatewayURL.map { Self.previewURL(gateway: $0, endpoint: record.endpoint) }
            bg.stage = strategy.prePromotionAnalysis == nil ? .promotion : .prePromotionAnalysis
            state.blueGreen = bg
            let next = strategy.prePromotionAnalysis == nil ? "" : "; pre-promotion analysis next"
            _ = try await save(
                record, state, action: "rollout.preview", phase: .progressing, reason: "preview '\(candidate.variant)' is ready\(next)",
                step: record.step, actor: Self.controllerActor)
            return true
        case .prePromotionAnalysis:
            guard let reference = strategy.prePromotionAnalysis else {
                bg.stage = .promotion
                return try await saveStage(bg, record, &state)
            }
            return try await analyseBlueGreen(reference, post: false, strategy, record, stored, &state, now: now)
        case .promotion:
            guard strategy.autoPromotionEnabled else {
                bg.awaitingPromotion = true
                state.blueGreen = bg
                let checked = state.lastAnalysis?.phase == .successful ? " and passed its pre-promotion analysis" : ""
                _ = try await save(
                    record, state, action: "rollout.pause", phase: .paused,
                    reason:
                        "preview '\(candidate.variant)' is ready\(checked); waiting for an approver: `slipway rollout promote \(record.name)` switches all traffic to it",
                    step: record.step, actor: Self.controllerActor)
                return false
            }
            let wait = strategy.autoPromotionSeconds ?? 0
            if wait > 0 {
                guard let until = bg.promoteAt else {
                    let at = now.addingTimeInterval(Double(wait))
                    bg.promoteAt = at
                    state.blueGreen = bg
                    _ = try await save(
                        record, state, action: "rollout.wait", phase: .progressing,
                        reason:
                            "preview '\(candidate.variant)' is ready; all traffic switches to it at \(Timestamp.format(at)) (autoPromotionSeconds: \(wait))",
                        step: record.step, actor: Self.controllerActor)
                    return false
                }
                guard now >= until else { return false }
            }
            _ = try await switchBlueGreen(strategy, record, stored, &state, now: now, actor: Self.controllerActor, why: "promoted automatically")
            return true
        case .postPromotionAnalysis:
            guard let reference = strategy.postPromotionAnalysis else {
                bg.stage = .scaleDownDelay
                return try await saveStage(bg, record, &state)
            }
            return try await analyseBlueGreen(reference, post: true, strategy, record, stored, &state, now: now)
        case .scaleDownDelay:
            guard let at = bg.scaleDownAt else {
                bg.scaleDownAt = now.addingTimeInterval(Double(strategy.scaleDownDelaySeconds))
                return try await saveStage(bg, record, &state)
            }
            guard now >= at else { return false }
            _ = try await finishBlueGreen(
                record, stored, &state, actor: Self.controllerActor, action: "rollout.complete",
                reason:
                    "scale-down delay of \(Self.seconds(strategy.scaleDownDelaySeconds)) over: removed the old variant '\(bg.previousStable)'; \(record.candidateModel)@\(record.candidateVersion) on '\(candidate.variant)' serves all traffic and is the production version"
            )
            return false
        case .completed, .aborted, .switchedBack:
            return false
        }
    }

    /// Takes traffic away from the candidate when a blueGreen rollout fails or is aborted: after the switch
    /// (or when the routing table shows the candidate serving), all traffic goes back to the old variant in
    /// one change; before it the preview never had traffic and nothing moves.
    func rollBackBlueGreen(_ strategy: BlueGreenStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState)
        async throws
    {
        let candidate = stored.spec.candidate.variant
        var bg = state.blueGreen ?? BlueGreenState(previewVariant: candidate, previousStable: state.stableVariant)
        guard state.deployed else {
            bg.stage = .aborted
            state.blueGreen = bg
            return
        }
        // A switch applied just before a restart, and not recorded yet, shows in the routing table.
        let current = try? await traffic.endpointState(record.endpoint)
        let candidateServes = bg.canSwitchBack || current?.stableVariant == candidate || (current?.weights[candidate] ?? 0) > 0
        if candidateServes && bg.switchedBackAt == nil {
            guard !bg.previousRemoved else {
                throw GenericError(
                    .failedPrecondition,
                    "the old variant '\(bg.previousStable)' of endpoint '\(record.endpoint)' was already removed, so traffic cannot switch back; deploy it again, then `slipway endpoints switch \(record.endpoint) \(bg.previousStable)`"
                )
            }
            try await traffic.switchTo(endpoint: record.endpoint, variant: bg.previousStable)
            bg.switchedBackAt = now()
            bg.stage = .switchedBack
            logger.warning(
                "blue-green rollout switched back",
                metadata: ["slipway.rollout": "\(record.name)", "slipway.endpoint": "\(record.endpoint)", "slipway.variant": "\(bg.previousStable)"])
        } else if bg.stage != .switchedBack {
            bg.stage = .aborted
        }
        bg.promoteAt = nil
        bg.scaleDownAt = nil
        bg.awaitingPromotion = false
        state.blueGreen = bg
    }

    /// `rollout promote` of a blueGreen rollout: passes its current gate — a running or inconclusive
    /// pre-promotion analysis, the auto-promotion wait or the manual gate (both switch now), a post-promotion
    /// analysis, the scale-down wait; with `full`, switches (when not yet done), removes the old variant and
    /// completes at once.
    func promoteBlueGreen(
        _ strategy: BlueGreenStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, full: Bool,
        by principal: Principal
    ) async throws -> RolloutRecord {
        let candidate = stored.spec.candidate
        let now = self.now()
        var bg = state.blueGreen ?? BlueGreenState(previewVariant: candidate.variant, previousStable: state.stableVariant)
        let who = principal.name
        if full {
            return try await finishBlueGreen(
                record, stored, &state, actor: who, action: "rollout.promote",
                reason:
                    "promoted fully by \(who): all traffic on '\(candidate.variant)', the old variant '\(bg.previousStable)' removed; \(record.candidateModel)@\(record.candidateVersion) is the production version"
            )
        }
        switch bg.stage {
        case .preview:
            throw GenericError(
                .failedPrecondition,
                "rollout '\(record.name)' is still waiting for its preview '\(candidate.variant)' to be ready, so there is no gate to pass yet; wait for it, or `slipway rollout promote \(record.name) --full` switches all traffic to it now"
            )
        case .prePromotionAnalysis:
            state.analysis?.terminate()
            state.leaveStep()
            state.pausedByUser = false
            bg.stage = .promotion
            state.blueGreen = bg
            return try await save(
                record, state, action: "rollout.promote", phase: .progressing, reason: "pre-promotion analysis skipped by \(who)", step: record.step,
                actor: who)
        case .promotion:
            return try await switchBlueGreen(strategy, record, stored, &state, now: now, actor: who, why: "promoted by \(who)")
        case .postPromotionAnalysis:
            state.analysis?.terminate()
            state.leaveStep()
            state.pausedByUser = false
            let at = now.addingTimeInterval(Double(strategy.scaleDownDelaySeconds))
            bg.stage = .scaleDownDelay
            bg.scaleDownAt = at
            state.blueGreen = bg
            return try await save(
                record, state, action: "rollout.promote", phase: .progressing,
                reason:
                    "post-promotion analysis skipped by \(who); the old variant '\(bg.previousStable)' is removed at \(Timestamp.format(at)) unless the rollout is aborted before",
                step: record.step, actor: who)
        case .scaleDownDelay:
            return try await finishBlueGreen(
                record, stored, &state, actor: who, action: "rollout.promote",
                reason:
                    "scale-down delay skipped by \(who): removed the old variant '\(bg.previousStable)'; \(record.candidateModel)@\(record.candidateVersion) on '\(candidate.variant)' is the production version"
            )
        case .completed, .aborted, .switchedBack:
            throw notRunning(record)
        }
    }

    // MARK: Moves

    /// Stores a change of the blue-green state alone (no history entry); `true`: move on at once.
    private func saveStage(_ bg: BlueGreenState, _ record: RolloutRecord, _ state: inout CanaryState) async throws -> Bool {
        state.blueGreen = bg
        _ = try await save(
            record, state, action: RolloutChange.measureAction, phase: record.phase, reason: record.reason, step: record.step,
            actor: Self.controllerActor)
        return true
    }

    /// All traffic to the candidate in one change of the routing table; the old variant keeps running.
    private func switchBlueGreen(
        _ strategy: BlueGreenStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, now: Date, actor: String,
        why: String
    ) async throws -> RolloutRecord {
        let candidate = stored.spec.candidate.variant
        var bg = state.blueGreen ?? BlueGreenState(previewVariant: candidate, previousStable: state.stableVariant)
        try await traffic.switchTo(endpoint: record.endpoint, variant: candidate)
        state.weight = 100
        state.leaveStep()
        state.pausedByUser = false
        bg.switchedAt = now
        bg.promoteAt = nil
        bg.awaitingPromotion = false
        let standBy: String
        if strategy.postPromotionAnalysis != nil {
            bg.stage = .postPromotionAnalysis
            standBy = "through the post-promotion analysis and \(Self.seconds(strategy.scaleDownDelaySeconds)) after it"
        } else {
            let at = now.addingTimeInterval(Double(strategy.scaleDownDelaySeconds))
            bg.stage = .scaleDownDelay
            bg.scaleDownAt = at
            standBy = "until \(Timestamp.format(at))"
        }
        state.blueGreen = bg
        logger.info(
            "blue-green rollout switched",
            metadata: ["slipway.rollout": "\(record.name)", "slipway.endpoint": "\(record.endpoint)", "slipway.variant": "\(candidate)"])
        return try await save(
            record, state, action: "rollout.switch", phase: .progressing,
            reason:
                "\(why): switched all traffic from '\(bg.previousStable)' to '\(candidate)' (\(record.candidateModel)@\(record.candidateVersion)) in one change; '\(bg.previousStable)' keeps running \(standBy) for an instant switch back",
            step: record.step, actor: actor)
    }

    /// The end of a blue-green rollout: all traffic on the candidate (switched now if it was not yet), the old
    /// variant's deployment removed, the `production` alias on the candidate version, Healthy. Mirrors
    /// ``complete(_:_:_:actor:action:reason:)`` with the removal between the switch and the alias.
    private func finishBlueGreen(
        _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, actor: String, action: String, reason: String
    ) async throws -> RolloutRecord {
        let candidate = stored.spec.candidate
        var bg = state.blueGreen ?? BlueGreenState(previewVariant: candidate.variant, previousStable: state.stableVariant)
        if !state.deployed {
            try await traffic.deploy(
                endpoint: record.endpoint, variant: candidate.variant, model: record.candidateModel, version: record.candidateVersion,
                backend: candidate.backend, replicas: candidate.replicas)
            state.deployed = true
        }
        if bg.switchedAt == nil || bg.switchedBackAt != nil {
            try await traffic.switchTo(endpoint: record.endpoint, variant: candidate.variant)
            bg.switchedAt = now()
            bg.switchedBackAt = nil
        }
        state.weight = 100
        if !bg.previousRemoved && bg.previousStable != candidate.variant {
            do {
                try await traffic.removeVariant(endpoint: record.endpoint, variant: bg.previousStable)
            } catch let error as any SlipwayError where error.kind == .notFound {
                // Removed before a restart that came ahead of this record: nothing left to remove.
            }
            bg.previousRemoved = true
        }
        try await traffic.promoteAlias(model: record.candidateModel, version: record.candidateVersion, reason: "promoted by rollout \(record.name)")
        bg.stage = .completed
        bg.promoteAt = nil
        bg.scaleDownAt = nil
        bg.awaitingPromotion = false
        state.blueGreen = bg
        state.analysis?.terminate()
        state.leaveStep()
        state.pausedByUser = false
        logger.info(
            "rollout completed",
            metadata: ["slipway.rollout": "\(record.name)", "slipway.model": "\(record.candidateModel)@\(record.candidateVersion)"])
        return try await save(record, state, action: action, phase: .healthy, reason: reason, step: record.step, actor: actor)
    }

    // MARK: Analysis

    /// The pre- or post-promotion analysis: start the run, take the measurements that are due, act on its phase.
    private func analyseBlueGreen(
        _ reference: AnalysisReference, post: Bool, _ strategy: BlueGreenStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec,
        _ state: inout CanaryState, now: Date
    ) async throws -> Bool {
        var record = record
        let name = post ? "post-promotion analysis" : "pre-promotion analysis"
        guard var bg = state.blueGreen else { return false }
        let arguments = Self.previewArguments(endpoint: record.endpoint, state: bg, gatewayURL: traffic.gatewayURL())
        let templates: [AnalysisTemplate]
        do {
            templates = try Self.resolvedTemplates(reference, stored, arguments: arguments)
        } catch {
            _ = try await fail(
                record, stored, state, reason: "\(name) cannot run: \(error); give the argument under the analysis's args",
                action: "rollout.abort", actor: Self.controllerActor)
            return false
        }
        if state.analysis == nil {
            state.analysis =
                reference.usesDefaultAnalysis ? AnalysisRun(defaultAnalysis: stored.spec.defaultAnalysis) : AnalysisRun(templates: templates)
            state.analysisStartedAt = now
            let target = post ? "'\(bg.previewVariant)' serving all traffic" : "the preview '\(bg.previewVariant)'"
            record = try await save(
                record, state, action: "rollout.analysis", phase: .progressing, reason: "\(name) of \(target) started", step: record.step,
                actor: Self.controllerActor)
        }
        guard var run = state.analysis, let started = state.analysisStartedAt else { return false }
        let elapsed = max(0, now.timeIntervalSince(started))
        let due = run.due(at: elapsed)
        var measuredAt = ContinuousClock.now
        if !due.isEmpty {
            // The candidate (the preview before the switch) against the old variant (which has no traffic after it).
            let (stable, candidate) = windowSamples(record, stored, state, elapsed: elapsed, reference: reference)
            for metric in due {
                let outcome = await measure(
                    metric, templates: templates, usesDefaultAnalysis: reference.usesDefaultAnalysis, stored: stored, stable: stable,
                    canary: candidate)
                measuredAt = ContinuousClock.now
                try run.record(outcome, for: metric, at: elapsed)
            }
            state.analysis = run
        }
        switch run.phase {
        case .pending, .running:
            if !due.isEmpty {
                _ = try await save(
                    record, state, action: RolloutChange.measureAction, phase: .progressing, reason: record.reason, step: record.step,
                    actor: Self.controllerActor)
            }
            return false
        case .successful:
            state.leaveStep()
            let reason: String
            if post {
                let at = now.addingTimeInterval(Double(strategy.scaleDownDelaySeconds))
                bg.stage = .scaleDownDelay
                bg.scaleDownAt = at
                reason =
                    "\(name) successful; the old variant '\(bg.previousStable)' is removed at \(Timestamp.format(at)) unless the rollout is aborted before"
            } else {
                bg.stage = .promotion
                reason = "\(name) of the preview '\(bg.previewVariant)' successful"
            }
            state.blueGreen = bg
            _ = try await save(
                record, state, action: "rollout.analysis", phase: .progressing, reason: reason, step: record.step, actor: Self.controllerActor)
            return true
        case .inconclusive:
            let choice =
                post
                ? "`rollout promote` keeps '\(bg.previewVariant)', `rollout abort` switches all traffic back to '\(bg.previousStable)'"
                : "`rollout promote` passes it, `rollout abort` stops the rollout with production still on '\(bg.previousStable)'"
            _ = try await save(
                record, state, action: "rollout.pause", phase: .paused, reason: "\(name) inconclusive (\(run.message ?? "no decision")); \(choice)",
                step: record.step, actor: Self.controllerActor)
            return false
        case .failed, .error:
            let outcome =
                post
                ? "all traffic switched back to '\(bg.previousStable)'"
                : "the preview '\(bg.previewVariant)' never got traffic and production stays on '\(bg.previousStable)'"
            _ = try await fail(
                record, stored, state, reason: "\(name) \(run.phase.rawValue.lowercased()): \(run.message ?? "no message"); \(outcome)",
                action: "rollout.abort", actor: Self.controllerActor, measuredAt: post && !due.isEmpty ? measuredAt : nil)
            return false
        }
    }

    /// The arguments the controller gives every blue-green analysis template (the rollout's own `args`
    /// override them): `endpoint`, `preview-variant`, and with a gateway `gateway-url` and `preview-url`.
    static func previewArguments(endpoint: String, state: BlueGreenState, gatewayURL: String?) -> [AnalysisArgument] {
        var arguments = [
            AnalysisArgument(name: "endpoint", value: endpoint), AnalysisArgument(name: "preview-variant", value: state.previewVariant),
        ]
        if let gateway = gatewayURL ?? state.gatewayURL {
            arguments.append(AnalysisArgument(name: "gateway-url", value: gateway))
            arguments.append(AnalysisArgument(name: "preview-url", value: previewURL(gateway: gateway, endpoint: endpoint)))
        }
        return arguments
    }

    /// The endpoint's V2 model path on the gateway: `http://host:port/v2/models/ENDPOINT`.
    static func previewURL(gateway: String, endpoint: String) -> String {
        gateway + "/v2/models/" + (endpoint.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? endpoint)
    }

    /// The templates of an analysis with the controller's arguments and then the rollout's substituted.
    static func resolvedTemplates(_ reference: AnalysisReference, _ stored: StoredRolloutSpec, arguments: [AnalysisArgument]) throws
        -> [AnalysisTemplate]
    {
        guard !reference.usesDefaultAnalysis else { return [] }
        return try reference.templates.map(\.templateName).map { name in
            guard let template = stored.templates.first(where: { $0.name == name }) else {
                throw GenericError(.failedPrecondition, "analysis template '\(name)' is not part of the stored rollout")
            }
            return try template.resolved(with: arguments + reference.args)
        }
    }

    /// `90` → `90s`, `600` → `10m`, `7200` → `2h`.
    static func seconds(_ value: Int) -> String {
        if value > 0, value % 3600 == 0 { return "\(value / 3600)h" }
        if value > 0, value % 60 == 0 { return "\(value / 60)m" }
        return "\(value)s"
    }
}
