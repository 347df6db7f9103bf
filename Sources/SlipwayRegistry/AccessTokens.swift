public import SlipwayCore
public import SlipwayStore

/// Bearer tokens: creation, lookup by secret, revocation. Only a SHA-256 hash of a secret is stored.
public struct AccessTokens: Sendable {
    public let store: any MetadataStore

    public init(store: any MetadataStore) {
        self.store = store
    }

    /// A new token and its secret, which is shown once and never stored.
    public struct Issued: Sendable, Codable {
        public var token: String
        public var id: String
        public var name: String
        public var role: Role
    }

    /// Creates a token with a role. Only admins may create tokens.
    public func create(name: String, role: Role, by principal: Principal) async throws -> Issued {
        try principal.require(.admin, for: "creating a token")
        try Names.validateKey(name, what: "token name")
        return try await issue(name: name, role: role, actor: principal.name)
    }

    /// Creates the first admin token if the store has no token yet; returns its secret, or nil.
    public func bootstrapAdmin() async throws -> Issued? {
        guard try await store.tokens().isEmpty else { return nil }
        return try await issue(name: "admin", role: .admin, actor: "slipway")
    }

    /// The principal a secret stands for, or nil for an unknown or revoked one.
    public func authenticate(secret: String) async throws -> Principal? {
        guard secret.hasPrefix("slw_"), secret.utf8.count <= 200 else { return nil }
        guard let record = try await store.token(secretHash: Self.hash(secret)), record.revokedAt == nil else { return nil }
        return Principal(name: record.name, role: record.role)
    }

    public func list(by principal: Principal) async throws -> [TokenRecord] {
        try principal.require(.admin, for: "listing tokens")
        return try await store.tokens().map { var r = $0; r.secretHash = ""; return r }
    }

    public func revoke(id: String, by principal: Principal) async throws {
        try principal.require(.admin, for: "revoking a token")
        try await store.revokeToken(id: id, actor: principal.name)
    }

    private func issue(name: String, role: Role, actor: String) async throws -> Issued {
        let secret = "slw_" + Self.randomHex(bytes: 24)
        let id = "tok_" + Self.randomHex(bytes: 6)
        try await store.createToken(
            TokenRecord(id: id, name: name, role: role, secretHash: Self.hash(secret), createdAt: Timestamp.now(), createdBy: actor),
            actor: actor)
        return Issued(token: secret, id: id, name: name, role: role)
    }

    static func hash(_ secret: String) -> String { Digest(of: Array(secret.utf8)).hex }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        var text = ""
        for _ in 0..<bytes {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return text
    }
}
