public import Foundation
public import SlipwayCore
import SlipwayStore

/// A variant's supervised replicas, as the rollout controller sees them during a rolling update.
public struct VariantReplicas: Sendable, Codable, Equatable {
    /// The deployed model.
    public var model: String
    /// The deployed version.
    public var version: Int
    /// The deployment's backend (a command or the built-in model server).
    public var backend: BackendSpec
    /// How many replicas the deployment asks for.
    public var desired: Int
    /// How many replicas are in the gateway's routing table.
    public var ready: Int
    /// How many replica processes run or are about to: the desired ones plus those being drained or stopped.
    public var processes: Int
    /// `false` while the supervisor has not yet applied the deployment's latest change (its counts are then
    /// of the previous one); the controller waits before it moves again.
    public var settled: Bool

    /// Creates a view of a variant's replicas.
    public init(model: String, version: Int, backend: BackendSpec, desired: Int, ready: Int, processes: Int, settled: Bool = true) {
        self.model = model
        self.version = version
        self.backend = backend
        self.desired = desired
        self.ready = ready
        self.processes = processes
        self.settled = settled
    }
}

/// The arithmetic of a rolling update (Kubernetes' Deployment semantics): how far the candidate may scale up
/// and the stable variant down, given what runs and what is ready.
public struct RollingPlan: Sendable, Equatable {
    /// The replica count the endpoint keeps: the stable deployment's when the update started.
    public var desired: Int
    /// Replicas allowed above `desired` (``ReplicaCount/resolve(replicas:roundUp:)``, rounded up).
    public var maxSurge: Int
    /// Replicas allowed below `desired` that are not ready (rounded down).
    public var maxUnavailable: Int

    /// Resolves a strategy against the desired count. When both limits resolve to 0 (for example
    /// `maxSurge: 0%, maxUnavailable: 25%` of 3 replicas), one replica may be unavailable, as in Kubernetes,
    /// so the update can always move.
    public init(strategy: RollingStrategy, desired: Int) {
        self.desired = max(desired, 0)
        maxSurge = max(strategy.maxSurge.resolve(replicas: self.desired, roundUp: true), 0)
        maxUnavailable = min(max(strategy.maxUnavailable.resolve(replicas: self.desired, roundUp: false), 0), self.desired)
        if maxSurge == 0 && maxUnavailable == 0 { maxUnavailable = min(1, self.desired) }
    }

    /// The most replica processes of both variants together.
    public var maxTotal: Int { desired + maxSurge }
    /// The fewest ready replicas of both variants together.
    public var minReady: Int { max(desired - maxUnavailable, 0) }

    /// One side of the update.
    public struct Side: Sendable, Equatable {
        /// Replicas the variant's deployment asks for.
        public var desired: Int
        /// Replicas in the routing table.
        public var ready: Int
        /// Replica processes, including those being drained or stopped (never fewer than `desired`).
        public var processes: Int

        /// - Parameter processes: defaults to `desired` (nothing being stopped).
        public init(desired: Int, ready: Int, processes: Int? = nil) {
            self.desired = desired
            self.ready = ready
            self.processes = max(processes ?? desired, desired)
        }
    }

    /// What the update does next.
    public enum Move: Sendable, Equatable {
        /// Scale the candidate variant to this many replicas (deploying it the first time).
        case scaleCandidate(to: Int)
        /// Scale the stable variant to this many replicas; 0 sends all traffic to the candidate and removes it.
        case scaleStable(to: Int)
        /// Every replica is replaced and ready: the update is done.
        case complete
        /// Nothing may move until replicas become ready or finish stopping.
        case wait
    }

    /// The next move: first the candidate grows as far as `maxTotal` allows, then the stable variant shrinks as
    /// far as `minReady` allows. Stable replicas that are not ready go first (they take nothing away), but
    /// only as many as would leave `minReady` replicas should every starting replica become ready, so
    /// replicas that are all starting again (after a restart) are waited for, not removed.
    public func next(stable: Side, candidate: Side) -> Move {
        if stable.desired == 0 && candidate.desired >= desired && candidate.ready >= desired { return .complete }
        if candidate.desired < desired {
            let room = maxTotal - stable.processes - candidate.processes
            if room > 0 { return .scaleCandidate(to: min(desired, candidate.desired + room)) }
        }
        if stable.desired > 0 {
            let candidateStarting = max(candidate.desired - candidate.ready, 0)
            let bound = stable.desired + candidate.desired - minReady - candidateStarting
            let unready = min(max(stable.desired - stable.ready, 0), max(bound, 0))
            let spare = max(stable.ready + candidate.ready - minReady, 0)
            let remove = min(stable.desired, unready + spare)
            if remove > 0 { return .scaleStable(to: stable.desired - remove) }
        }
        return .wait
    }
}

/// What the controller keeps about a rolling rollout between moves (stored in CanaryState), so that a
/// restarted server goes on from the last move.
public struct RollingState: Sendable, Codable, Equatable {
    /// The replica count the update keeps (the stable deployment's when it started).
    public var desired: Int
    /// `maxSurge` resolved against `desired`.
    public var maxSurge: Int
    /// `maxUnavailable` resolved against `desired`.
    public var maxUnavailable: Int
    /// The stable deployment's model when the update started, to deploy it again on a late rollback.
    public var stableModel: String
    /// The stable deployment's version when the update started.
    public var stableVersion: Int
    /// The stable deployment's backend when the update started.
    public var stableBackend: BackendSpec
    /// Replicas the stable variant asks for now (0 once it is removed).
    public var stableReplicas: Int
    /// Ready replicas of the stable variant, when last looked at.
    public var stableReady: Int
    /// Replicas the candidate variant asks for now.
    public var candidateReplicas: Int
    /// Ready replicas of the candidate variant, when last looked at.
    public var candidateReady: Int
    /// How many scale moves were made.
    public var moves: Int
    /// The last progress: a move, or a candidate replica becoming ready. `progressDeadlineSeconds` counts from here.
    public var progressAt: Date
    /// Set by `rollout promote --full`: the candidate scales to every replica at once.
    public var promoted: Bool

    /// The state of an update that has just been planned.
    public init(plan: RollingPlan, stable: VariantReplicas, now: Date) {
        desired = plan.desired
        maxSurge = plan.maxSurge
        maxUnavailable = plan.maxUnavailable
        stableModel = stable.model
        stableVersion = stable.version
        stableBackend = stable.backend
        stableReplicas = stable.desired
        stableReady = stable.ready
        candidateReplicas = 0
        candidateReady = 0
        moves = 0
        progressAt = now
        promoted = false
    }

    /// The plan the state was made with.
    var plan: RollingPlan {
        var plan = RollingPlan(strategy: RollingStrategy(maxSurge: .count(maxSurge), maxUnavailable: .count(maxUnavailable)), desired: desired)
        if promoted { plan.maxSurge = desired }
        return plan
    }
}

extension RolloutService {
    /// Refuses a rolling spec the controller cannot run. The endpoint is not known here: a stable variant
    /// or a candidate that is not supervised (a URL backend) fails the update at its first move.
    static func checkRolling(_ strategy: RollingStrategy, templates: [AnalysisTemplate]) throws {
        guard strategy.progressDeadlineSeconds > 0 else {
            throw GenericError(.invalidArgument, "rolling.progressDeadlineSeconds must be above 0, got \(strategy.progressDeadlineSeconds)")
        }
    }

    /// Refuses a rolling update of an endpoint whose stable variant is not supervised, when the rollout starts
    /// (for `start` to call once it knows the stable variant; the first move checks the same).
    func checkRollingEndpoint(_ spec: RolloutSpec, stable: String) async throws {
        guard case .rolling = spec.strategy else { return }
        if case .url = spec.candidate.backend { throw GenericError(.invalidArgument, Self.urlCandidateMessage) }
        guard try await traffic.replicas(endpoint: spec.endpoint, variant: stable) != nil else {
            throw GenericError(.failedPrecondition, Self.unsupervisedMessage(endpoint: spec.endpoint, stable: stable))
        }
    }

    static let urlCandidateMessage =
        "a rolling update starts the candidate's replicas itself, so the candidate needs a builtin or command backend, not a URL"

    static func unsupervisedMessage(endpoint: String, stable: String) -> String {
        "a rolling update replaces supervised replicas, but the stable variant '\(stable)' of endpoint '\(endpoint)' has no deployment "
            + "with a builtin or command backend (a URL backend runs elsewhere); use a canary or blueGreen strategy"
    }

    /// One move of a rolling rollout; `true` when it moved on and may move again at once.
    func advanceRolling(_ strategy: RollingStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState) async throws
        -> Bool
    {
        let candidate = stored.spec.candidate
        let now = self.now()
        guard var rolling = state.rolling else {
            return try await planRolling(strategy, record, stored, &state, now: now)
        }
        let old = rolling.stableReplicas > 0 ? try await traffic.replicas(endpoint: record.endpoint, variant: state.stableVariant) : nil
        let new = state.deployed ? try await traffic.replicas(endpoint: record.endpoint, variant: candidate.variant) : nil
        if rolling.stableReplicas > 0, old == nil {
            _ = try await fail(
                record, stored, state,
                reason: "the stable variant '\(state.stableVariant)' lost its supervised deployment during the rolling update",
                action: "rollout.abort", actor: Self.controllerActor)
            return false
        }
        if state.deployed, new == nil {
            _ = try await fail(
                record, stored, state, reason: "the candidate variant '\(candidate.variant)' lost its deployment during the rolling update",
                action: "rollout.abort", actor: Self.controllerActor)
            return false
        }
        // Wait until the supervisor has applied the last change of both variants.
        if old?.settled == false || new?.settled == false { return try await overdue(strategy, record, stored, state, rolling, now: now) }

        let stableSide = RollingPlan.Side(desired: old?.desired ?? 0, ready: old?.ready ?? 0, processes: old?.processes ?? 0)
        let candidateSide = RollingPlan.Side(desired: new?.desired ?? 0, ready: new?.ready ?? 0, processes: new?.processes ?? 0)
        var record = record
        if candidateSide.ready > rolling.candidateReady { rolling.progressAt = now }
        let weight = Self.rollingWeight(stable: stableSide.ready, candidate: candidateSide.ready, stableRemoved: rolling.stableReplicas == 0)
        var reweighted = false
        if let weight, weight != state.weight {
            // Every ready replica gets about the same share of requests, as behind a Kubernetes Service.
            try await traffic.setCandidateWeight(
                endpoint: record.endpoint, stable: state.stableVariant, candidate: candidate.variant, weight: weight)
            state.weight = weight
            reweighted = true
        }
        if reweighted || rolling.stableReady != stableSide.ready || rolling.candidateReady != candidateSide.ready {
            rolling.stableReady = stableSide.ready
            rolling.candidateReady = candidateSide.ready
            state.rolling = rolling
            let counts = Self.describe(rolling, stable: state.stableVariant, candidate: candidate.variant)
            record = try await save(
                record, state, action: "rollout.replicas", phase: .progressing,
                reason: "\(counts); candidate weight \(state.weight.formatted(.number))%", step: record.step, actor: Self.controllerActor)
        }

        switch rolling.plan.next(stable: stableSide, candidate: candidateSide) {
        case .complete:
            state.rolling = rolling
            _ = try await complete(
                record, stored, &state, actor: Self.controllerActor, action: "rollout.complete",
                reason:
                    "all \(rolling.desired) replicas replaced by \(record.candidateModel)@\(record.candidateVersion); the candidate serves all traffic")
            return false
        case .scaleCandidate(let count):
            if state.deployed {
                try await traffic.scale(endpoint: record.endpoint, variant: candidate.variant, replicas: count)
            } else {
                try await traffic.deploy(
                    endpoint: record.endpoint, variant: candidate.variant, model: record.candidateModel, version: record.candidateVersion,
                    backend: candidate.backend, replicas: count)
                state.deployed = true
            }
            rolling.candidateReplicas = count
            return try await moved(
                rolling, record, &state, now: now, reason: "candidate '\(candidate.variant)' scaled to \(count) of \(rolling.desired) replicas")
        case .scaleStable(let count):
            if count > 0 {
                try await traffic.scale(endpoint: record.endpoint, variant: state.stableVariant, replicas: count)
                rolling.stableReplicas = count
                return try await moved(
                    rolling, record, &state, now: now,
                reason: "stable '\(state.stableVariant)' scaled down to \(count) of \(rolling.desired) replicas")
            }
            if !state.deployed {
                // Only when nothing may be above the desired count and everything may be unavailable.
                try await traffic.deploy(
                    endpoint: record.endpoint, variant: candidate.variant, model: record.candidateModel, version: record.candidateVersion,
                    backend: candidate.backend, replicas: rolling.desired)
                state.deployed = true
                rolling.candidateReplicas = rolling.desired
            }
            try await traffic.switchTo(endpoint: record.endpoint, variant: candidate.variant)
            state.weight = 100
            try await traffic.removeVariant(endpoint: record.endpoint, variant: state.stableVariant)
            rolling.stableReplicas = 0
            rolling.stableReady = 0
            return try await moved(
                rolling, record, &state, now: now, reason: "stable '\(state.stableVariant)' removed; the candidate serves all traffic")
        case .wait:
            state.rolling = rolling
            return try await overdue(strategy, record, stored, state, rolling, now: now)
        }
    }

    /// The first move: reads the stable deployment, resolves the plan and stores it.
    private func planRolling(
        _ strategy: RollingStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, now: Date
    ) async throws -> Bool {
        let candidate = stored.spec.candidate
        if case .url = candidate.backend {
            _ = try await fail(record, stored, state, reason: Self.urlCandidateMessage, action: "rollout.abort", actor: Self.controllerActor)
            return false
        }
        guard let stable = try await traffic.replicas(endpoint: record.endpoint, variant: state.stableVariant) else {
            _ = try await fail(
                record, stored, state, reason: Self.unsupervisedMessage(endpoint: record.endpoint, stable: state.stableVariant),
                action: "rollout.abort", actor: Self.controllerActor)
            return false
        }
        let plan = RollingPlan(strategy: strategy, desired: stable.desired)
        state.rolling = RollingState(plan: plan, stable: stable, now: now)
        _ = try await save(
            record, state, action: "rollout.plan", phase: .progressing,
            reason: "replacing \(plan.desired) replica(s) of '\(state.stableVariant)' (\(stable.model)@\(stable.version)): "
                + "at most \(plan.maxTotal) replicas, at least \(plan.minReady) ready",
            step: record.step, actor: Self.controllerActor)
        return true
    }

    /// Records a scale move; progress starts over.
    private func moved(_ rolling: RollingState, _ record: RolloutRecord, _ state: inout CanaryState, now: Date, reason: String) async throws
        -> Bool
    {
        var rolling = rolling
        rolling.moves += 1
        rolling.progressAt = now
        state.rolling = rolling
        _ = try await save(
            record, state, action: "rollout.scale", phase: .progressing, reason: reason, step: record.step, actor: Self.controllerActor)
        return true
    }

    /// Fails the update when it made no progress for `progressDeadlineSeconds`; otherwise waits. Time paused
    /// by a person does not count: when the rollout was resumed (or promoted) since the deadline last started,
    /// the deadline starts over instead.
    private func overdue(
        _ strategy: RollingStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: CanaryState, _ rolling: RollingState, now: Date
    ) async throws -> Bool {
        let deadline = Double(strategy.progressDeadlineSeconds)
        guard now.timeIntervalSince(rolling.progressAt) > deadline else { return false }
        let history = try await store.rolloutHistory(named: record.name)
        let started = history.lastIndex { ["rollout.plan", "rollout.scale", "rollout.wait"].contains($0.action) } ?? -1
        if let resumed = history.lastIndex(where: { ["rollout.resume", "rollout.promote"].contains($0.action) }), resumed > started {
            var state = state
            var rolling = rolling
            rolling.progressAt = now
            state.rolling = rolling
            _ = try await save(
                record, state, action: "rollout.wait", phase: .progressing,
                reason: "resumed: the progress deadline of \(strategy.progressDeadlineSeconds) s starts over", step: record.step,
                actor: Self.controllerActor)
            return false
        }
        let waiting =
            rolling.candidateReady < rolling.candidateReplicas
            ? "\(rolling.candidateReplicas - rolling.candidateReady) candidate replica(s) did not become ready"
            : "the update made no progress"
        _ = try await fail(
            record, stored, state,
            reason: "\(waiting) within \(strategy.progressDeadlineSeconds) s (progressDeadlineSeconds); "
                + "`slipway endpoints show \(record.endpoint)` shows the replicas and their log files",
            action: "rollout.abort", actor: Self.controllerActor)
        return false
    }

    /// The candidate's weight for the ready replicas of both variants (two decimals), or nil to leave the
    /// weights as they are.
    static func rollingWeight(stable: Int, candidate: Int, stableRemoved: Bool) -> Double? {
        guard !stableRemoved, stable + candidate > 0 else { return nil }
        return (Double(candidate) * 100 / Double(stable + candidate) * 100).rounded() / 100
    }

    /// Both variants' ready and desired replicas, for the rollout's history.
    static func describe(_ rolling: RollingState, stable: String, candidate: String) -> String {
        "'\(stable)' \(rolling.stableReady)/\(rolling.stableReplicas) ready, "
            + "'\(candidate)' \(rolling.candidateReady)/\(rolling.candidateReplicas) ready"
    }

    /// Puts the stable variant back when a rolling rollout fails or is aborted: its full replica count (its
    /// deployment again if it was already removed), all traffic, and the candidate's deployment removed.
    func rollBackRolling(_ strategy: RollingStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState)
        async throws
    {
        let candidate = stored.spec.candidate
        guard var rolling = state.rolling else { return }
        if rolling.stableReplicas == 0 {
            try await traffic.deploy(
                endpoint: record.endpoint, variant: state.stableVariant, model: rolling.stableModel, version: rolling.stableVersion,
                backend: rolling.stableBackend, replicas: rolling.desired)
            try await traffic.switchTo(endpoint: record.endpoint, variant: state.stableVariant)
        } else {
            try await traffic.scale(endpoint: record.endpoint, variant: state.stableVariant, replicas: rolling.desired)
            if state.deployed {
                try await traffic.setCandidateWeight(
                    endpoint: record.endpoint, stable: state.stableVariant, candidate: candidate.variant, weight: 0)
            }
        }
        if state.deployed {
            try await traffic.removeVariant(endpoint: record.endpoint, variant: candidate.variant)
            state.deployed = false
        }
        rolling.stableReplicas = rolling.desired
        rolling.candidateReplicas = 0
        rolling.candidateReady = 0
        state.rolling = rolling
    }

    /// `rollout promote` of a rolling rollout. A rolling update has no gate to pass; `full` lets the candidate
    /// scale to every replica at once (the stable variant still shrinks only as candidate replicas become ready).
    func promoteRolling(
        _ strategy: RollingStrategy, _ record: RolloutRecord, _ stored: StoredRolloutSpec, _ state: inout CanaryState, full: Bool,
        by principal: Principal
    ) async throws -> RolloutRecord {
        guard full else {
            throw GenericError(
                .failedPrecondition,
                "rollout '\(record.name)' is a rolling update, which has no step to skip; "
                    + "`slipway rollout promote \(record.name) --full` starts every candidate replica at once"
            )
        }
        guard var rolling = state.rolling else {
            throw GenericError(.failedPrecondition, "rollout '\(record.name)' has not planned its update yet; try again in a moment")
        }
        rolling.promoted = true
        rolling.progressAt = now()
        state.rolling = rolling
        state.pausedByUser = false
        return try await save(
            record, state, action: "rollout.promote", phase: .progressing,
            reason: "promoted by \(principal.name): every candidate replica starts at once", step: record.step, actor: principal.name)
    }
}
