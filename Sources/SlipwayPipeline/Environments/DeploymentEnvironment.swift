public import Foundation
import SlipwayCore

/// A protected deployment environment (`production`, `staging`, …): who must approve a job that
/// names it, how long to wait before it may start, and which branches may deploy to it.
public struct DeploymentEnvironment: Sendable, Codable, Equatable {
    public var name: String
    /// Principals (user names) of whom one must approve; empty means no approval is needed.
    public var reviewers: [String]
    /// Seconds a job waits after it asked to start, even once approved.
    public var waitTimerSeconds: Int
    /// The person who started the run cannot approve it.
    public var preventSelfReview: Bool
    /// Branch patterns (GitHub's filter syntax) that may deploy here; nil allows every branch.
    public var branches: [String]?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        name: String, reviewers: [String] = [], waitTimerSeconds: Int = 0, preventSelfReview: Bool = false,
        branches: [String]? = nil, createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.name = name
        self.reviewers = reviewers
        self.waitTimerSeconds = waitTimerSeconds
        self.preventSelfReview = preventSelfReview
        self.branches = branches
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether a job must wait for a reviewer.
    public var requiresApproval: Bool { !reviewers.isEmpty }

    /// Parses a wait timer such as `90`, `90s`, `10m`, `2h` (GitHub allows up to 30 days).
    public static func waitTimer(_ text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, seconds: Int)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var number = trimmed
        var factor = 1
        if let unit = units.first(where: { trimmed.hasSuffix($0.suffix) }) {
            number = String(trimmed.dropLast())
            factor = unit.seconds
        }
        guard let value = Int(number), value >= 0, value <= 30 * 86_400 / factor else {
            throw GenericError(.invalidArgument, "wait timer '\(text)' must be a duration such as 30s, 10m or 2h, at most 30 days")
        }
        return value * factor
    }
}

/// The environments of a project, one JSON file each under `<data folder>/environments/`.
public struct EnvironmentStore: Sendable {
    public let folder: URL

    public init(dataDir: URL) {
        folder = dataDir.appendingPathComponent("environments", isDirectory: true)
    }

    /// Creates or replaces an environment (keeping its creation time).
    @discardableResult
    public func save(_ environment: DeploymentEnvironment) throws -> DeploymentEnvironment {
        try SecretStore.validate(environment: environment.name)
        for reviewer in environment.reviewers where reviewer.isEmpty || reviewer.contains(where: { $0.isWhitespace || $0 == "," }) {
            throw GenericError(.invalidArgument, "reviewer '\(reviewer)' is not a user name")
        }
        var stored = environment
        if let existing = try get(environment.name) { stored.createdAt = existing.createdAt }
        stored.updatedAt = Date()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = try SlipwayJSON.encoder(pretty: true).encode(stored)
        let target = file(environment.name)
        let temporary = folder.appendingPathComponent(".\(environment.name).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else {
            throw GenericError(.unavailable, "could not write \(temporary.path)")
        }
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw GenericError(.unavailable, "could not store \(target.path): \(reason)")
        }
        return stored
    }

    /// The environment with this name, or nil.
    public func get(_ name: String) throws -> DeploymentEnvironment? {
        try SecretStore.validate(environment: name)
        guard let data = try? Data(contentsOf: file(name)) else { return nil }
        do {
            return try SlipwayJSON.decoder().decode(DeploymentEnvironment.self, from: data)
        } catch {
            throw GenericError(.corrupted, "the environment file \(file(name).path) is damaged: \(error)")
        }
    }

    /// Every environment, by name.
    public func list() throws -> [DeploymentEnvironment] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return try names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
            .compactMap { try get(String($0.dropLast(5))) }
    }

    /// Removes an environment; false when there was none. Its secrets stay until deleted.
    @discardableResult
    public func delete(_ name: String) throws -> Bool {
        try SecretStore.validate(environment: name)
        guard FileManager.default.fileExists(atPath: file(name).path) else { return false }
        try FileManager.default.removeItem(at: file(name))
        return true
    }

    private func file(_ name: String) -> URL { folder.appendingPathComponent("\(name).json") }
}
