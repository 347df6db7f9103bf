public import Foundation
public import SlipwayCore

/// The rollout half of the metadata store: rollouts as the controller left them, and their history.
///
/// A rollout's spec and its step state are JSON documents the store keeps whole (their types belong to
/// `SlipwayRollout`). Every change is one transaction that is compare-and-set on the rollout's revision,
/// appends its audit event (`rollout.start`, `rollout.step`, `rollout.pause`, `rollout.promote`,
/// `rollout.abort`…) and, unless it only records analysis measurements (`rollout.measure`), a
/// transition to the rollout's history. The store enforces that an endpoint has at most one running
/// (Progressing or Paused) rollout, naming the running one when it refuses another.
public protocol RolloutStore: Sendable {
    /// Stores a new rollout at step 0, phase Progressing, revision 1. A finished (Healthy or Degraded)
    /// rollout of the same name is replaced, its history kept. Throws `alreadyExists` when a rollout of
    /// that name is running, `failedPrecondition` naming the running rollout of the endpoint.
    func startRollout(_ rollout: NewRollout, actor: String) async throws -> RolloutRecord
    /// The rollout with this name, or nil.
    func rollout(named name: String) async throws -> RolloutRecord?
    /// All rollouts by name; with `runningOnly`, only Progressing and Paused ones.
    func rollouts(runningOnly: Bool) async throws -> [RolloutRecord]
    /// Applies `change` if the rollout is still at `expectedRevision` (else `failedPrecondition`: read it
    /// again). Increments the revision. Throws `notFound`, and `failedPrecondition` naming the running
    /// rollout when the change would make a second rollout of the endpoint run.
    func updateRollout(named name: String, expectedRevision: Int, change: RolloutChange, actor: String) async throws -> RolloutRecord
    /// The transitions of a rollout, oldest first (empty for an unknown name).
    func rolloutHistory(named name: String) async throws -> [RolloutTransition]
}

/// Where a rollout stands, with Argo Rollouts' names.
public enum RolloutPhase: String, Sendable, Codable, Equatable, CaseIterable {
    /// Moving through its steps.
    case progressing = "Progressing"
    /// Waiting: a manual pause, a `pause: {}` step, or an inconclusive analysis waiting for a person.
    case paused = "Paused"
    /// Done: the candidate serves all traffic.
    case healthy = "Healthy"
    /// Stopped: aborted or failed analysis; the candidate has no traffic.
    case degraded = "Degraded"

    /// Progressing or Paused: the rollout still owns its endpoint's traffic.
    public var isRunning: Bool { self == .progressing || self == .paused }
}

/// A rollout as stored.
public struct RolloutRecord: Sendable, Codable, Equatable {
    public var name: String
    public var endpoint: String
    /// The spec as JSON (`SlipwayRollout.RolloutSpec`), with the templates it uses.
    public var spec: String
    public var phase: RolloutPhase
    /// Why the rollout is in its phase (empty when nothing needs saying).
    public var reason: String
    /// The index of the current step.
    public var step: Int
    /// The controller's state of the current step as JSON (deadlines, analysis runs, weights applied).
    public var state: String
    /// The candidate model and version, resolved when the rollout started.
    public var candidateModel: String
    public var candidateVersion: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var createdBy: String
    /// Incremented by every change; updates are compare-and-set on it.
    public var revision: Int

    public init(
        name: String, endpoint: String, spec: String, phase: RolloutPhase, reason: String, step: Int, state: String, candidateModel: String,
        candidateVersion: Int, createdAt: Date, updatedAt: Date, createdBy: String, revision: Int
    ) {
        self.name = name
        self.endpoint = endpoint
        self.spec = spec
        self.phase = phase
        self.reason = reason
        self.step = step
        self.state = state
        self.candidateModel = candidateModel
        self.candidateVersion = candidateVersion
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.createdBy = createdBy
        self.revision = revision
    }
}

/// What a new rollout carries.
public struct NewRollout: Sendable, Codable, Equatable {
    public var name: String
    public var endpoint: String
    public var spec: String
    public var candidateModel: String
    public var candidateVersion: Int
    public var state: String
    public var reason: String

    public init(
        name: String, endpoint: String, spec: String, candidateModel: String, candidateVersion: Int, state: String = "{}", reason: String = ""
    ) {
        self.name = name
        self.endpoint = endpoint
        self.spec = spec
        self.candidateModel = candidateModel
        self.candidateVersion = candidateVersion
        self.state = state
        self.reason = reason
    }
}

/// One change of a rollout: its new phase, reason, step and state, and the audit action that names it.
public struct RolloutChange: Sendable, Codable, Equatable {
    /// `rollout.step`, `rollout.pause`, `rollout.resume`, `rollout.promote`, `rollout.abort`, `rollout.retry`, `rollout.undo`,
    /// `rollout.complete`, or `rollout.measure` (recorded measurements only: no history entry).
    public var action: String
    public var phase: RolloutPhase
    public var reason: String
    public var step: Int
    public var state: String

    public init(action: String, phase: RolloutPhase, reason: String, step: Int, state: String) {
        self.action = action
        self.phase = phase
        self.reason = reason
        self.step = step
        self.state = state
    }

    /// The action that only records measurements and leaves no history entry.
    public static let measureAction = "rollout.measure"
}

/// One entry of a rollout's history.
public struct RolloutTransition: Sendable, Codable, Equatable {
    public var id: Int64
    public var rollout: String
    public var at: Date
    public var actor: String
    public var action: String
    /// nil for the start of a rollout.
    public var fromPhase: RolloutPhase?
    public var toPhase: RolloutPhase
    public var fromStep: Int?
    public var step: Int
    public var reason: String

    public init(
        id: Int64, rollout: String, at: Date, actor: String, action: String, fromPhase: RolloutPhase?, toPhase: RolloutPhase, fromStep: Int?,
        step: Int, reason: String
    ) {
        self.id = id
        self.rollout = rollout
        self.at = at
        self.actor = actor
        self.action = action
        self.fromPhase = fromPhase
        self.toPhase = toPhase
        self.fromStep = fromStep
        self.step = step
        self.reason = reason
    }
}
