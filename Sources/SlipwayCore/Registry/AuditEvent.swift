public import Foundation

/// A record of one change: who did what to which thing, and the state before and after.
public struct AuditEvent: Sendable, Codable, Equatable {
    public var id: Int64
    public var at: Date
    public var actor: String
    /// A dotted action name such as `model.create`, `version.create`, `alias.set`, `stage.transition`.
    public var action: String
    public var model: String?
    public var version: Int?
    /// JSON of the state before the change (nil for creations).
    public var before: String?
    /// JSON of the state after the change (nil for deletions).
    public var after: String?

    public init(id: Int64 = 0, at: Date, actor: String, action: String, model: String?, version: Int?, before: String?, after: String?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.model = model
        self.version = version
        self.before = before
        self.after = after
    }
}

/// An access token as the store keeps it: only a hash of the secret.
public struct TokenRecord: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    /// SHA-256 of the secret, hex.
    public var secretHash: String
    public var createdAt: Date
    public var createdBy: String
    public var revokedAt: Date?

    public init(id: String, name: String, role: Role, secretHash: String, createdAt: Date, createdBy: String, revokedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.revokedAt = revokedAt
    }
}
