public import Foundation

/// One move of an alias, kept forever: who moved it, when, from which version to which, and why.
public struct AliasEvent: Sendable, Codable, Equatable {
    public var model: String
    public var alias: String
    /// The version the alias pointed to before, nil when it was created.
    public var fromVersion: Int?
    /// The version it points to after, nil when it was deleted.
    public var toVersion: Int?
    public var actor: String
    public var reason: String?
    public var at: Date

    public init(model: String, alias: String, fromVersion: Int?, toVersion: Int?, actor: String, reason: String?, at: Date) {
        self.model = model
        self.alias = alias
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.actor = actor
        self.reason = reason
        self.at = at
    }
}

/// An approval of a version for a stage by a principal.
public struct Approval: Sendable, Codable, Equatable {
    public var model: String
    public var version: Int
    public var stage: String
    public var approver: String
    public var comment: String?
    public var at: Date

    public init(model: String, version: Int, stage: String, approver: String, comment: String?, at: Date) {
        self.model = model
        self.version = version
        self.stage = stage
        self.approver = approver
        self.comment = comment
        self.at = at
    }
}
