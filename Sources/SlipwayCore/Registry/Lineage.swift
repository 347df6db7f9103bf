public import Foundation

/// Where a model version came from: code, data, parameters, environment and people.
///
/// The fields are the ones teams write down in model cards today. Everything is optional
/// because a version registered by hand may know little; `slipway versions create` fills the
/// git commit and the environment by itself when it can.
public struct Lineage: Sendable, Codable, Equatable {
    /// An identifier of the model family or project, if the team uses one beyond the registered name.
    public var modelId: String?
    public var git: GitInfo?
    public var trainingData: [DatasetReference]
    /// Hyper-parameters, as strings (the way MLflow keeps them).
    public var parameters: [String: String]
    public var metrics: [String: Double]
    public var environment: EnvironmentInfo?
    public var containerImage: String?
    public var trainedBy: String?
    /// Principals who approved this version for a stage (filled from the approval log on read).
    public var approvedBy: [String]
    /// When the version went live under an alias or stage (filled from the alias history on read).
    public var deployments: [DeploymentRecord]
    /// Anything else the team records.
    public var extras: [String: String]

    public init(
        modelId: String? = nil, git: GitInfo? = nil, trainingData: [DatasetReference] = [], parameters: [String: String] = [:],
        metrics: [String: Double] = [:], environment: EnvironmentInfo? = nil, containerImage: String? = nil,
        trainedBy: String? = nil, approvedBy: [String] = [], deployments: [DeploymentRecord] = [], extras: [String: String] = [:]
    ) {
        self.modelId = modelId
        self.git = git
        self.trainingData = trainingData
        self.parameters = parameters
        self.metrics = metrics
        self.environment = environment
        self.containerImage = containerImage
        self.trainedBy = trainedBy
        self.approvedBy = approvedBy
        self.deployments = deployments
        self.extras = extras
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelId = try c.decodeIfPresent(String.self, forKey: .modelId)
        git = try c.decodeIfPresent(GitInfo.self, forKey: .git)
        trainingData = try c.decodeIfPresent([DatasetReference].self, forKey: .trainingData) ?? []
        parameters = try c.decodeIfPresent([String: String].self, forKey: .parameters) ?? [:]
        metrics = try c.decodeIfPresent([String: Double].self, forKey: .metrics) ?? [:]
        environment = try c.decodeIfPresent(EnvironmentInfo.self, forKey: .environment)
        containerImage = try c.decodeIfPresent(String.self, forKey: .containerImage)
        trainedBy = try c.decodeIfPresent(String.self, forKey: .trainedBy)
        approvedBy = try c.decodeIfPresent([String].self, forKey: .approvedBy) ?? []
        deployments = try c.decodeIfPresent([DeploymentRecord].self, forKey: .deployments) ?? []
        extras = try c.decodeIfPresent([String: String].self, forKey: .extras) ?? [:]
    }
}

/// The code a version was trained from.
public struct GitInfo: Sendable, Codable, Equatable {
    public var commit: String
    public var repository: String?
    public var branch: String?
    /// True when the working tree had uncommitted changes at registration.
    public var dirty: Bool?

    public init(commit: String, repository: String? = nil, branch: String? = nil, dirty: Bool? = nil) {
        self.commit = commit
        self.repository = repository
        self.branch = branch
        self.dirty = dirty
    }
}

/// A data set a version was trained on.
public struct DatasetReference: Sendable, Codable, Equatable {
    public var uri: String
    public var digest: Digest?
    public var rows: Int64?
    /// The first and last day (or instant) the data covers, as written (ISO 8601).
    public var dateFrom: String?
    public var dateTo: String?

    public init(uri: String, digest: Digest? = nil, rows: Int64? = nil, dateFrom: String? = nil, dateTo: String? = nil) {
        self.uri = uri
        self.digest = digest
        self.rows = rows
        self.dateFrom = dateFrom
        self.dateTo = dateTo
    }
}

/// The software and hardware a version was trained with.
public struct EnvironmentInfo: Sendable, Codable, Equatable {
    public var os: String?
    public var architecture: String?
    public var language: String?
    public var languageVersion: String?
    /// Library name → version (e.g. `scikit-learn: 1.5.2`).
    public var libraries: [String: String]
    public var cuda: String?
    public var hostname: String?

    public init(
        os: String? = nil, architecture: String? = nil, language: String? = nil, languageVersion: String? = nil,
        libraries: [String: String] = [:], cuda: String? = nil, hostname: String? = nil
    ) {
        self.os = os
        self.architecture = architecture
        self.language = language
        self.languageVersion = languageVersion
        self.libraries = libraries
        self.cuda = cuda
        self.hostname = hostname
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        os = try c.decodeIfPresent(String.self, forKey: .os)
        architecture = try c.decodeIfPresent(String.self, forKey: .architecture)
        language = try c.decodeIfPresent(String.self, forKey: .language)
        languageVersion = try c.decodeIfPresent(String.self, forKey: .languageVersion)
        libraries = try c.decodeIfPresent([String: String].self, forKey: .libraries) ?? [:]
        cuda = try c.decodeIfPresent(String.self, forKey: .cuda)
        hostname = try c.decodeIfPresent(String.self, forKey: .hostname)
    }
}

/// A period during which a version was live under an alias.
public struct DeploymentRecord: Sendable, Codable, Equatable {
    public var alias: String
    public var from: Date
    public var until: Date?

    public init(alias: String, from: Date, until: Date? = nil) {
        self.alias = alias
        self.from = from
        self.until = until
    }
}
