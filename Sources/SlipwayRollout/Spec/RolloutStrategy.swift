/// How a rollout moves traffic; exactly one per rollout.
public enum RolloutStrategy: Sendable, Codable, Equatable {
    /// Shift a growing share of traffic to the candidate in steps, with analysis between them.
    case canary(CanaryStrategy)
    /// Run the candidate beside the stable variant without traffic, then switch all traffic at once.
    case blueGreen(BlueGreenStrategy)
    /// A/B test: a fixed split for long enough to decide on a primary metric, with guardrails.
    case experiment(ExperimentStrategy)
    /// Mirror a share of traffic to the candidate; its answers are compared, never returned.
    case shadow(ShadowStrategy)
    /// Replace replicas a few at a time.
    case rolling(RollingStrategy)

    /// The YAML key of the strategy: `canary`, `blueGreen`, `experiment`, `shadow` or `rolling`.
    public var name: String {
        switch self {
        case .canary: "canary"
        case .blueGreen: "blueGreen"
        case .experiment: "experiment"
        case .shadow: "shadow"
        case .rolling: "rolling"
        }
    }

    /// Every analysis the strategy runs (steps, background, pre- and post-promotion).
    public var analysisReferences: [AnalysisReference] {
        switch self {
        case .canary(let c):
            var refs: [AnalysisReference] = []
            if let background = c.analysis { refs.append(background.analysis) }
            for step in c.steps { if case .analysis(let a) = step { refs.append(a) } }
            return refs
        case .blueGreen(let b): return [b.prePromotionAnalysis, b.postPromotionAnalysis].compactMap { $0 }
        case .shadow(let s): return s.analysis.map { [$0] } ?? []
        case .experiment, .rolling: return []
        }
    }

    private enum CodingKeys: String, CodingKey { case canary, blueGreen, experiment, shadow, rolling }

    /// Encoded as a one-key object, as in YAML: `{"canary": {...}}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let v = try c.decodeIfPresent(CanaryStrategy.self, forKey: .canary) {
            self = .canary(v)
        } else if let v = try c.decodeIfPresent(BlueGreenStrategy.self, forKey: .blueGreen) {
            self = .blueGreen(v)
        } else if let v = try c.decodeIfPresent(ExperimentStrategy.self, forKey: .experiment) {
            self = .experiment(v)
        } else if let v = try c.decodeIfPresent(ShadowStrategy.self, forKey: .shadow) {
            self = .shadow(v)
        } else {
            self = .rolling(try c.decode(RollingStrategy.self, forKey: .rolling))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .canary(let v): try c.encode(v, forKey: .canary)
        case .blueGreen(let v): try c.encode(v, forKey: .blueGreen)
        case .experiment(let v): try c.encode(v, forKey: .experiment)
        case .shadow(let v): try c.encode(v, forKey: .shadow)
        case .rolling(let v): try c.encode(v, forKey: .rolling)
        }
    }
}

/// A reference to analysis: named templates with argument values, or the built-in default analysis.
public struct AnalysisReference: Sendable, Codable, Equatable {
    /// The templates whose metrics run together (empty: the default analysis).
    public var templates: [TemplateReference]
    /// Values for the templates' arguments.
    public var args: [AnalysisArgument]

    /// Creates a reference; no templates means the default analysis.
    public init(templates: [TemplateReference] = [], args: [AnalysisArgument] = []) {
        self.templates = templates
        self.args = args
    }

    /// The built-in default analysis (canary versus stable on error rate, latency and predictions).
    public static let `default` = AnalysisReference()

    /// `true` when this runs the default analysis.
    public var usesDefaultAnalysis: Bool { templates.isEmpty }
}

/// `templateName: error-rate`.
public struct TemplateReference: Sendable, Codable, Equatable {
    /// The template's `metadata.name`.
    public var templateName: String

    /// Creates a reference.
    public init(templateName: String) { self.templateName = templateName }
}

/// `name: service, value: fraud-scorer`: a value for a template's `{{args.name}}`.
public struct AnalysisArgument: Sendable, Codable, Equatable {
    public var name: String
    public var value: String

    /// Creates an argument.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
