import Foundation
import SlipwayCore

/// The lifecycle rules of the registry: which stages exist, what a transition into a stage needs,
/// and which alias and tag names are immutable once set.
///
/// Read from the `registry:` section of `slipway.yml`:
/// ```yaml
/// registry:
///   stages: [None, Staging, Production, Archived]
///   immutableTags: ["v[0-9]*"]
///   transitions:
///     - to: Production
///       from: [Staging]
///       approvals: 1
///       conditions: ["metrics.accuracy >= 0.9"]
/// ```
public struct RegistryPolicy: Sendable, Codable, Equatable {
    /// The stages a version can be in. The first is where new versions start.
    public var stages: [String]
    /// Alias names and version tag keys matching one of these globs (`*`, `?`, `[0-9]`) can be set once
    /// and never moved or removed, like release tags.
    public var immutableTags: [String]
    /// Rules for entering a stage. A stage without a rule can be entered from any stage.
    public var transitions: [StageRule]
    /// The stage versions move to when another version enters a stage with `archiveExisting`.
    public var archiveStage: String

    public init(stages: [String], immutableTags: [String], transitions: [StageRule], archiveStage: String = "Archived") {
        self.stages = stages
        self.immutableTags = immutableTags
        self.transitions = transitions
        self.archiveStage = archiveStage
    }

    /// None → Staging → Production → Archived; Production needs one approval by someone other than
    /// the registrant, and must come from Staging.
    public static let `default` = RegistryPolicy(
        stages: ["None", "Staging", "Production", "Archived"],
        immutableTags: ["v[0-9]*"],
        transitions: [
            StageRule(to: "Production", from: ["Staging"], approvals: 1, conditions: [])
        ]
    )

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let fallback = RegistryPolicy.default
        stages = try c.decodeIfPresent([String].self, forKey: .stages) ?? fallback.stages
        immutableTags = try c.decodeIfPresent([String].self, forKey: .immutableTags) ?? fallback.immutableTags
        transitions = try c.decodeIfPresent([StageRule].self, forKey: .transitions) ?? fallback.transitions
        archiveStage = try c.decodeIfPresent(String.self, forKey: .archiveStage) ?? fallback.archiveStage
    }

    /// The initial stage of a new version.
    public var initialStage: String { stages.first ?? "None" }

    /// The canonical spelling of a stage name (matching is case-insensitive, as in MLflow), or nil.
    public func stage(named name: String) -> String? {
        stages.first { $0.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// Whether a tag key or alias name is immutable.
    public func isImmutable(_ name: String) -> Bool {
        immutableTags.contains { Glob.matches(pattern: $0, name) }
    }

    /// Checks that the policy itself is consistent.
    public func validate() throws(RegistryError) {
        guard !stages.isEmpty else { throw RegistryError(.invalidArgument, "registry.stages must name at least one stage") }
        guard Set(stages.map { $0.lowercased() }).count == stages.count else {
            throw RegistryError(.invalidArgument, "registry.stages has duplicates: \(stages)")
        }
        for rule in transitions {
            for name in [rule.to] + (rule.from ?? []) where stage(named: name) == nil {
                throw RegistryError(.invalidArgument, "registry.transitions names stage '\(name)', which is not in registry.stages \(stages)")
            }
            for condition in rule.conditions {
                do { _ = try SearchFilterParser.parse(condition) } catch {
                    throw RegistryError(.invalidArgument, "registry.transitions condition '\(condition)' is invalid: \(error)")
                }
            }
        }
    }
}

/// What entering a stage requires.
public struct StageRule: Sendable, Codable, Equatable {
    /// The stage this rule guards.
    public var to: String
    /// The stages a version may come from (any when nil).
    public var from: [String]?
    /// How many distinct approvers other than the registrant must have approved the version for `to`.
    public var approvals: Int
    /// Conditions on the version in the search filter language, e.g. `metrics.accuracy >= 0.9`.
    public var conditions: [String]

    public init(to: String, from: [String]? = nil, approvals: Int = 0, conditions: [String] = []) {
        self.to = to
        self.from = from
        self.approvals = approvals
        self.conditions = conditions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        to = try c.decode(String.self, forKey: .to)
        from = try c.decodeIfPresent([String].self, forKey: .from)
        approvals = try c.decodeIfPresent(Int.self, forKey: .approvals) ?? 0
        conditions = try c.decodeIfPresent([String].self, forKey: .conditions) ?? []
    }
}
