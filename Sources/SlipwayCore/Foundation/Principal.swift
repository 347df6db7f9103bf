/// What a principal may do. Roles are ordered: each includes the ones before it.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Read everything.
    case viewer
    /// Create and change models, versions, aliases and tags.
    case editor
    /// Everything an editor may do, plus approve versions for protected stages.
    case approver
    /// Everything, including tokens and deletions of models.
    case admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .editor: 1
        case .approver: 2
        case .admin: 3
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

/// Who performs an operation: a token's owner on a server, or the local OS user in-process.
public struct Principal: Sendable, Codable, Hashable, CustomStringConvertible {
    public var name: String
    public var role: Role

    public init(name: String, role: Role) {
        self.name = name
        self.role = role
    }

    public var description: String { "\(name) (\(role.rawValue))" }

    /// Throws a permission error unless this principal has at least `role`.
    public func require(_ role: Role, for action: String) throws(GenericError) {
        guard self.role >= role else {
            throw GenericError(
                .permissionDenied,
                "\(action) needs the \(role.rawValue) role; \(name) has \(self.role.rawValue). Ask an admin for a token with that role."
            )
        }
    }
}
