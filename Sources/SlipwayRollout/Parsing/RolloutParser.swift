import Foundation
import SlipwayCore
import Yams
import SlipwayYAML

/// Reads rollout YAML — a `Rollout` and its `AnalysisTemplate`s, as separate documents of one file
/// (`---`), in Argo Rollouts' shape — into specs, and reports every problem at once with its file,
/// line and column. Nothing is returned from a file with any problem.
///
/// ```swift
/// let document = try RolloutParser().parse(text, file: "canary.yml")
/// ```
/// Templates stored elsewhere (a template library) can be passed in, so a step may name them.
public struct RolloutParser: Sendable {
    /// Creates a parser.
    public init() {}

    /// Parses one file.
    /// - Parameters:
    ///   - text: the YAML text.
    ///   - file: the name used in diagnostics.
    ///   - library: templates defined outside the file that steps may name; a template of the same
    ///     name in the file takes precedence.
    /// - Throws: `RolloutError.invalidSpec` with every problem found.
    public func parse(_ text: String, file: String = "rollout.yml", library: [AnalysisTemplate] = []) throws(RolloutError) -> RolloutDocument {
        let builder = SpecBuilder(reader: SpecReader(file: file, source: text), library: library)
        builder.read(text)
        let diagnostics = builder.reader.diagnostics
        guard diagnostics.isEmpty else { throw .invalidSpec(diagnostics) }
        return RolloutDocument(rollout: builder.rollout, templates: builder.templates.map(\.template))
    }

    /// Parses a file that must contain a rollout.
    /// - Throws: `RolloutError.invalidSpec`, also when the file has only templates.
    public func parseRollout(_ text: String, file: String = "rollout.yml", library: [AnalysisTemplate] = []) throws(RolloutError)
        -> (rollout: RolloutSpec, templates: [AnalysisTemplate])
    {
        let document = try parse(text, file: file, library: library)
        guard let rollout = document.rollout else {
            throw .invalidSpec([
                RolloutDiagnostic(file: file, line: 1, column: 1, message: "the file has no Rollout; add a document with kind: Rollout")
            ])
        }
        return (rollout, document.templates)
    }
}

/// The state of one parse: what was read so far and the references to check at the end.
final class SpecBuilder {
    let reader: SpecReader
    let library: [AnalysisTemplate]
    var rollout: RolloutSpec?
    var rolloutPosition: SourcePosition?
    var templates: [(template: AnalysisTemplate, position: SourcePosition)] = []
    /// Template names named by analysis references, checked once every document is read.
    var references: [PendingReference] = []

    struct PendingReference {
        var name: String
        var node: Node
        var args: [AnalysisArgument]
        var argNodes: [String: Node]
        var owner: SourcePosition
    }

    init(reader: SpecReader, library: [AnalysisTemplate]) {
        self.reader = reader
        self.library = library
    }

    static let envelopeKeys = ["apiVersion", "kind", "metadata", "spec"]
    static let rolloutKeys = ["endpoint", "stable", "candidate", "strategy", "defaultAnalysis", "webhooks"]

    func read(_ text: String) {
        let parser: Parser
        do {
            parser = try Parser(yaml: text)
        } catch {
            reportYAML(error)
            return
        }
        while true {
            let root: Node?
            do {
                root = try parser.nextRoot()
            } catch {
                reportYAML(error)
                break
            }
            guard let root else { break }
            document(root)
        }
        if rollout == nil && templates.isEmpty && reader.diagnostics.isEmpty {
            reader.report(at: .start, "the file is empty; write a Rollout (and its AnalysisTemplates) as YAML documents")
        }
        checkReferences()
    }

    /// A YAML syntax error, at its position.
    func reportYAML(_ error: any Error) {
        guard let yaml = error as? YamlError else {
            reader.report(at: .start, "the file is not valid YAML: \(error)")
            return
        }
        switch yaml {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            reader.report(at: SourcePosition(line: mark.line, column: mark.column), "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            reader.report(
                at: SourcePosition(line: context.mark.line, column: context.mark.column),
                "the key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) appears twice in the same mapping")
        default:
            reader.report(at: .start, "the file is not valid YAML: \(yaml)")
        }
    }

    // MARK: Documents

    func document(_ root: Node) {
        if reader.isNull(root) { return }
        guard case .mapping(let mapping) = root else {
            reader.report(root, "each YAML document must be a mapping: a Rollout or an AnalysisTemplate")
            return
        }
        let keys = Set(mapping.keys.compactMap(\.string))
        guard !keys.isDisjoint(with: Self.envelopeKeys) else {
            // The short form: the rollout's spec at the top, with an optional name.
            guard let fields = reader.mapping(root, path: "", allowed: ["name"] + Self.rolloutKeys, what: "the rollout") else { return }
            let name = reader.string(fields, "name")
            rolloutSpec(fields, name: name, position: reader.position(root))
            return
        }
        guard let fields = reader.mapping(root, path: "", allowed: Self.envelopeKeys, what: "the document") else { return }
        _ = reader.string(fields, "apiVersion")
        let kind = reader.choice(fields, "kind", ["Rollout", "AnalysisTemplate"]) ?? (fields.has("kind") ? nil : "Rollout")
        var name: String?
        if let metadata = reader.mapping(fields, "metadata", allowed: ["name", "namespace", "labels", "annotations"]) {
            name = reader.string(metadata, "name")
        }
        guard let specEntry = fields.entries["spec"] else {
            reader.missing(fields, "spec")
            return
        }
        switch kind {
        case "AnalysisTemplate":
            if name == nil { reader.report(at: fields.owner, "an AnalysisTemplate needs metadata.name, the name steps refer to") }
            template(specEntry.value, key: specEntry.key, name: name ?? "", position: reader.position(root))
        case "Rollout":
            guard let spec = reader.mapping(specEntry.value, path: "spec", allowed: Self.rolloutKeys, owner: specEntry.key) else { return }
            rolloutSpec(spec, name: name, position: reader.position(root))
        default:
            break
        }
    }

    // MARK: Rollout

    func rolloutSpec(_ fields: Fields, name: String?, position: SourcePosition) {
        if let earlier = rolloutPosition {
            reader.report(at: position, "a file holds one Rollout, and one already starts at line \(earlier.line)")
            return
        }
        rolloutPosition = position
        let endpoint = reader.string(fields, "endpoint", required: true, hint: "the endpoint whose traffic moves")
        if let endpoint, let node = fields["endpoint"] {
            do throws(GenericError) { try Names.validateModelName(endpoint) } catch {
                reader.report(node, "\(fields.child("endpoint")): \(error.message.replacingOccurrences(of: "model name", with: "endpoint name"))")
            }
        }
        var stable: String?
        if let text = reader.string(fields, "stable"), let node = fields["stable"] {
            stable = text
            checkVariantName(text, node, path: fields.child("stable"))
        }
        let candidate = candidateSpec(fields)
        if let candidate, let stable, candidate.variant == stable, let node = fields.entries["candidate"]?.key {
            reader.report(node, "the candidate's variant '\(candidate.variant)' is the stable variant; give the candidate another variant name")
        }
        let strategy = rolloutStrategy(fields)
        var defaults = DefaultAnalysisConfiguration()
        if let f = reader.mapping(fields, "defaultAnalysis", allowed: Self.defaultAnalysisKeys) { defaults = defaultAnalysis(f) }
        let hooks = webhooks(fields)
        guard let endpoint, let candidate, let strategy else { return }
        rollout = RolloutSpec(
            name: name ?? endpoint, endpoint: endpoint, stableVariant: stable, candidate: candidate, strategy: strategy, defaultAnalysis: defaults,
            webhooks: hooks)
    }

    func checkVariantName(_ name: String, _ node: Node, path: String) {
        guard name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            reader.report(node, "\(path) '\(name)' must be 1 to 64 letters, digits, '-' or '_'")
            return
        }
    }

    func candidateSpec(_ parent: Fields) -> CandidateSpec? {
        guard parent.has("candidate") else {
            reader.missing(parent, "candidate", "the model version to roll out, e.g. {model: fraud, version: 7}")
            return nil
        }
        guard let f = reader.mapping(parent, "candidate", allowed: ["model", "version", "alias", "backend", "variant", "replicas"]) else {
            return nil
        }
        let model = reader.string(f, "model", required: true)
        if let model, let node = f["model"] {
            do throws(GenericError) { try Names.validateModelName(model) } catch { reader.report(node, "\(f.child("model")): \(error.message)") }
        }
        var reference: ModelReference?
        switch (f.entries["version"], f.entries["alias"]) {
        case (.some, .some(let alias)):
            reader.report(alias.key, "give the candidate either 'version' or 'alias', not both")
        case (.some, nil):
            if let v = reader.integer(f, "version", in: 1...Int.max) { reference = .version(v) }
        case (nil, .some(let alias)):
            if let a = reader.string(alias.value, path: f.child("alias")) {
                do throws(GenericError) {
                    try Names.validateAlias(a)
                    reference = .alias(a)
                } catch {
                    reader.report(alias.value, "\(f.child("alias")): \(error.message)")
                }
            }
        case (nil, nil):
            reader.missing(f, "version", "give 'version' (a number) or 'alias' (such as champion)")
        }
        let backend = f["backend"].flatMap { backendSpec($0, path: f.child("backend")) } ?? .builtin
        var variant = "canary"
        if let text = reader.string(f, "variant"), let node = f["variant"] {
            variant = text
            checkVariantName(text, node, path: f.child("variant"))
        }
        let replicas = reader.integer(f, "replicas", in: 1...1000) ?? 1
        guard let model, let reference else { return nil }
        return CandidateSpec(model: model, reference: reference, backend: backend, variant: variant, replicas: replicas)
    }

    func backendSpec(_ node: Node, path: String) -> BackendSpec? {
        if case .scalar(let s) = node {
            if s.string == "builtin" { return .builtin }
            if s.string.hasPrefix("http://") || s.string.hasPrefix("https://") { return .url(s.string, modelName: nil) }
            reader.report(node, "\(path) must be 'builtin', an http:// URL, or a mapping with 'url' or 'command', got '\(s.string)'")
            return nil
        }
        guard let f = reader.mapping(node, path: path, allowed: ["url", "modelName", "command", "builtin"]) else { return nil }
        let url = reader.string(f, "url")
        let command = reader.string(f, "command")
        switch (url, command) {
        case (.some(let url), nil):
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil else {
                reader.report(f["url"], "\(f.child("url")) must be an http:// URL such as http://127.0.0.1:8080, got '\(url)'")
                return nil
            }
            return .url(url, modelName: reader.string(f, "modelName"))
        case (nil, .some(let command)):
            return .command(command)
        case (.some, .some):
            reader.report(f["command"], "\(path) has both 'url' and 'command'; give one")
            return nil
        case (nil, nil):
            if f.has("builtin") { return .builtin }
            reader.missing(f, "url", "or 'command'")
            return nil
        }
    }

    // MARK: Default analysis

    static let defaultAnalysisKeys = [
        "interval", "count", "minSamples", "errorRate", "latency", "predictionDrift", "outcome", "sequentialTuning",
    ]

    func defaultAnalysis(_ f: Fields) -> DefaultAnalysisConfiguration {
        var c = DefaultAnalysisConfiguration()
        if let d = reader.duration(f, "interval", positive: true) { c.interval = d }
        if let n = reader.integer(f, "count", in: 1...10_000) { c.count = n }
        if let n = reader.integer(f, "minSamples", in: 1...100_000_000) { c.minSamples = n }
        if let x = reader.number(f, "sequentialTuning", in: 1...1e12) { c.sequentialTuning = x }
        if let e = reader.mapping(f, "errorRate", allowed: ["enabled", "margin", "relativeMargin", "alpha"]) {
            if let b = reader.bool(e, "enabled") { c.errorRate.enabled = b }
            if let x = reader.number(e, "margin", in: 0...1) { c.errorRate.margin = x }
            if let x = reader.number(e, "relativeMargin", in: 0...100) { c.errorRate.relativeMargin = x }
            if let x = alpha(e) { c.errorRate.alpha = x }
            if c.errorRate.margin == 0 && c.errorRate.relativeMargin == 0, let node = e.entries["margin"]?.key ?? e.entries["relativeMargin"]?.key {
                reader.report(node, "\(e.path) needs a margin above 0: with none, a candidate could only pass by being proven strictly better")
            }
        }
        if let l = reader.mapping(f, "latency", allowed: ["enabled", "margin", "marginMs", "alpha"]) {
            if let b = reader.bool(l, "enabled") { c.latency.enabled = b }
            if let x = reader.number(l, "margin", in: 0...100) { c.latency.margin = x }
            if let x = reader.number(l, "marginMs", in: 0...3_600_000, unit: " ms") { c.latency.marginMs = x }
            if let x = alpha(l) { c.latency.alpha = x }
        }
        if let p = reader.mapping(f, "predictionDrift", allowed: ["enabled", "shareMargin", "threshold", "alpha"]) {
            if let b = reader.bool(p, "enabled") { c.predictionDrift.enabled = b }
            if let x = reader.number(p, "shareMargin", in: 0.001...1) { c.predictionDrift.shareMargin = x }
            if let x = reader.number(p, "threshold", in: 0.001...1) { c.predictionDrift.threshold = x }
            if let x = alpha(p) { c.predictionDrift.alpha = x }
        }
        if let o = reader.mapping(f, "outcome", allowed: ["enabled", "margin", "direction", "alpha"]) {
            if let b = reader.bool(o, "enabled") { c.outcome.enabled = b }
            if let x = reader.number(o, "margin", in: 0...10) { c.outcome.margin = x }
            if let d = reader.choice(o, "direction", ["increase", "decrease"]) { c.outcome.direction = d == "increase" ? .increase : .decrease }
            if let x = alpha(o) { c.outcome.alpha = x }
        }
        return c
    }

    func alpha(_ f: Fields, _ key: String = "alpha") -> Double? {
        guard let x = reader.number(f, key, in: 0...0.5) else { return nil }
        guard x > 0 else {
            reader.report(f[key], "\(f.child(key)) must be above 0")
            return nil
        }
        return x
    }
}
