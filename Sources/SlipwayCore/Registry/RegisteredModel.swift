public import Foundation

/// A registered model: a name under which versions are numbered from 1.
public struct RegisteredModel: Sendable, Codable, Equatable {
    public var name: String
    public var description: String
    public var tags: [String: String]
    /// Alias name → version number.
    public var aliases: [String: Int]
    /// The highest version number registered so far, if any.
    public var latestVersion: Int?
    public var createdAt: Date
    public var updatedAt: Date
    public var createdBy: String

    public init(
        name: String, description: String = "", tags: [String: String] = [:], aliases: [String: Int] = [:],
        latestVersion: Int? = nil, createdAt: Date, updatedAt: Date, createdBy: String
    ) {
        self.name = name
        self.description = description
        self.tags = tags
        self.aliases = aliases
        self.latestVersion = latestVersion
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.createdBy = createdBy
    }
}

/// The status of a model version: it is READY once its artifact is stored and verified.
public enum VersionStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING"
    case ready = "READY"
    case failed = "FAILED"
}

/// One version of a registered model. Immutable once READY, apart from its description, tags and stage.
public struct ModelVersion: Sendable, Codable, Equatable {
    public var model: String
    public var version: Int
    public var status: VersionStatus
    /// A message explaining a FAILED status.
    public var statusMessage: String?
    /// The lifecycle stage (`None`, `Staging`, `Production`, `Archived`, or a configured one).
    public var stage: String
    /// The content digest of the artifact (a file, or the manifest of a folder).
    public var artifactDigest: Digest?
    /// The artifact's size in bytes (for a folder: the sum of its files).
    public var artifactSize: Int64?
    /// Where the artifact came from (a path, an MLflow run URI, …), as the registrant gave it.
    public var source: String
    public var runId: String?
    public var description: String
    public var tags: [String: String]
    public var lineage: Lineage
    /// Aliases pointing at this version.
    public var aliases: [String]
    public var createdAt: Date
    public var updatedAt: Date
    public var createdBy: String

    public init(
        model: String, version: Int, status: VersionStatus, statusMessage: String? = nil, stage: String = "None",
        artifactDigest: Digest? = nil, artifactSize: Int64? = nil, source: String = "", runId: String? = nil,
        description: String = "", tags: [String: String] = [:], lineage: Lineage = Lineage(), aliases: [String] = [],
        createdAt: Date, updatedAt: Date, createdBy: String
    ) {
        self.model = model
        self.version = version
        self.status = status
        self.statusMessage = statusMessage
        self.stage = stage
        self.artifactDigest = artifactDigest
        self.artifactSize = artifactSize
        self.source = source
        self.runId = runId
        self.description = description
        self.tags = tags
        self.lineage = lineage
        self.aliases = aliases
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.createdBy = createdBy
    }

    /// `model@version`, the way people write a version.
    public var reference: String { "\(model)@\(version)" }
}
