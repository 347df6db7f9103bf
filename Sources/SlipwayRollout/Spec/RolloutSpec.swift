public import SlipwayCore

/// What one YAML file holds: at most one rollout and any number of analysis templates.
public struct RolloutDocument: Sendable, Codable, Equatable {
    /// The rollout, if the file has one (a file may hold only templates).
    public var rollout: RolloutSpec?
    /// The analysis templates defined in the file, in file order.
    public var templates: [AnalysisTemplate]

    /// Creates a document.
    public init(rollout: RolloutSpec?, templates: [AnalysisTemplate] = []) {
        self.rollout = rollout
        self.templates = templates
    }

    /// The template with this name, if the file defines it.
    public func template(named name: String) -> AnalysisTemplate? { templates.first { $0.name == name } }
}

/// A rollout: move an endpoint from its stable variant to a candidate model version with one strategy,
/// judged by analysis, rolled back on failure.
public struct RolloutSpec: Sendable, Codable, Equatable {
    /// The rollout's name (`metadata.name`; the endpoint's name when not given).
    public var name: String
    /// The endpoint whose traffic moves.
    public var endpoint: String
    /// The variant serving today; `nil` means the endpoint's recorded stable variant.
    public var stableVariant: String?
    /// What is rolled out.
    public var candidate: CandidateSpec
    /// How traffic moves.
    public var strategy: RolloutStrategy
    /// Settings of the built-in canary-versus-stable analysis (`spec.defaultAnalysis`).
    public var defaultAnalysis: DefaultAnalysisConfiguration
    /// URLs told about phase changes and gates (`spec.webhooks`), with signed JSON events.
    public var webhooks: [WebhookSpec]

    /// Creates a rollout spec.
    public init(
        name: String, endpoint: String, stableVariant: String? = nil, candidate: CandidateSpec, strategy: RolloutStrategy,
        defaultAnalysis: DefaultAnalysisConfiguration = DefaultAnalysisConfiguration(), webhooks: [WebhookSpec] = []
    ) {
        self.name = name
        self.endpoint = endpoint
        self.stableVariant = stableVariant
        self.candidate = candidate
        self.strategy = strategy
        self.defaultAnalysis = defaultAnalysis
        self.webhooks = webhooks
    }

    private enum CodingKeys: String, CodingKey { case name, endpoint, stableVariant, candidate, strategy, defaultAnalysis, webhooks }

    /// Decodes a spec; one stored before webhooks existed has none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        endpoint = try c.decode(String.self, forKey: .endpoint)
        stableVariant = try c.decodeIfPresent(String.self, forKey: .stableVariant)
        candidate = try c.decode(CandidateSpec.self, forKey: .candidate)
        strategy = try c.decode(RolloutStrategy.self, forKey: .strategy)
        defaultAnalysis = try c.decode(DefaultAnalysisConfiguration.self, forKey: .defaultAnalysis)
        webhooks = try c.decodeIfPresent([WebhookSpec].self, forKey: .webhooks) ?? []
    }

    /// Names of every analysis template the rollout refers to, in order of first use.
    public var referencedTemplates: [String] {
        var names: [String] = []
        for reference in strategy.analysisReferences {
            for t in reference.templates where !names.contains(t.templateName) { names.append(t.templateName) }
        }
        return names
    }
}

/// The model version a rollout delivers, and what serves it.
public struct CandidateSpec: Sendable, Codable, Equatable {
    /// The registered model.
    public var model: String
    /// Which version: a number or an alias resolved when the rollout starts.
    public var reference: ModelReference
    /// What serves it.
    public var backend: BackendSpec
    /// The variant name the candidate gets behind the endpoint (default `canary`).
    public var variant: String
    /// Replicas of a supervised backend.
    public var replicas: Int

    /// Creates a candidate.
    public init(model: String, reference: ModelReference, backend: BackendSpec = .builtin, variant: String = "canary", replicas: Int = 1) {
        self.model = model
        self.reference = reference
        self.backend = backend
        self.variant = variant
        self.replicas = replicas
    }
}

/// A model version given by number or by alias.
public enum ModelReference: Sendable, Codable, Equatable, CustomStringConvertible {
    case version(Int)
    case alias(String)

    private enum CodingKeys: String, CodingKey { case version, alias }

    /// Encoded as `{"version": 7}` or `{"alias": "champion"}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let v = try c.decodeIfPresent(Int.self, forKey: .version) {
            self = .version(v)
        } else {
            self = .alias(try c.decode(String.self, forKey: .alias))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .version(let v): try c.encode(v, forKey: .version)
        case .alias(let a): try c.encode(a, forKey: .alias)
        }
    }

    /// `7` or `@champion`.
    public var description: String {
        switch self {
        case .version(let v): "\(v)"
        case .alias(let a): "@\(a)"
        }
    }
}
