import SlipwayCore
import SlipwayStats
import Yams
import SlipwayYAML

extension SpecBuilder {
    static let strategyKeys = ["canary", "blueGreen", "experiment", "shadow", "rolling"]

    func rolloutStrategy(_ parent: Fields) -> RolloutStrategy? {
        guard parent.has("strategy") else {
            reader.missing(parent, "strategy", "one of \(Self.strategyKeys.joined(separator: ", "))")
            return nil
        }
        guard let f = reader.mapping(parent, "strategy", allowed: Self.strategyKeys) else { return nil }
        let present = Self.strategyKeys.filter { f.has($0) }
        guard let first = present.first else {
            reader.missing(f, "canary", "a rollout needs one strategy: \(Self.strategyKeys.joined(separator: ", "))")
            return nil
        }
        for extra in present.dropFirst() {
            reader.report(f.entries[extra]!.key, "a rollout has exactly one strategy, but '\(extra)' comes besides '\(first)'; remove one")
        }
        var chosen: RolloutStrategy?
        for name in present {
            let entry = f.entries[name]!
            let path = f.child(name)
            let strategy: RolloutStrategy?
            switch name {
            case "canary": strategy = canary(entry.value, key: entry.key, path: path).map(RolloutStrategy.canary)
            case "blueGreen": strategy = blueGreen(entry.value, key: entry.key, path: path).map(RolloutStrategy.blueGreen)
            case "experiment": strategy = experiment(entry.value, key: entry.key, path: path).map(RolloutStrategy.experiment)
            case "shadow": strategy = shadow(entry.value, key: entry.key, path: path).map(RolloutStrategy.shadow)
            default: strategy = rolling(entry.value, key: entry.key, path: path).map(RolloutStrategy.rolling)
            }
            if name == first { chosen = strategy }
        }
        return present.count == 1 ? chosen : nil
    }

    // MARK: Canary

    static let stepKinds = ["setWeight", "pause", "analysis", "setHeaderRoute", "setMirrorRoute"]

    func canary(_ node: Node, key: Node, path: String) -> CanaryStrategy? {
        if reader.isNull(node) { return CanaryStrategy(steps: []) }
        guard let f = reader.mapping(node, path: path, allowed: ["steps", "maxWeight", "analysis"], owner: key) else { return nil }
        let maxWeight = reader.number(f, "maxWeight", in: 0...100, unit: " (percent)") ?? 100
        if maxWeight == 0, let n = f["maxWeight"] { reader.report(n, "\(f.child("maxWeight")) must be above 0") }
        var steps: [CanaryStep] = []
        let items = reader.list(f, "steps") ?? []
        for (i, item) in items.enumerated() {
            let stepPath = "\(f.child("steps"))[\(i)]"
            if let step = canaryStep(item, path: stepPath, maxWeight: maxWeight) { steps.append(step) }
        }
        var background: BackgroundAnalysis?
        if let entry = f.entries["analysis"] {
            let bf = reader.mapping(entry.value, path: f.child("analysis"), allowed: ["templates", "args", "startingStep"], owner: entry.key)
            if let bf {
                let reference = analysisReference(bf, owner: entry.key)
                let start = reader.integer(bf, "startingStep", in: 0...Int.max) ?? 0
                if start > 0, start >= items.count, let n = bf["startingStep"] {
                    reader.report(
                        n,
                        "\(bf.child("startingStep")) is \(start), but the canary has \(items.count) step(s) (indexes 0 to \(max(items.count - 1, 0)))"
                    )
                }
                if let reference { background = BackgroundAnalysis(analysis: reference, startingStep: start) }
            }
        }
        return CanaryStrategy(steps: steps, maxWeight: maxWeight, analysis: background)
    }

    func canaryStep(_ node: Node, path: String, maxWeight: Double) -> CanaryStep? {
        guard case .mapping(let mapping) = node else {
            reader.report(node, "\(path) must be a step such as 'setWeight: 5' or 'pause: {duration: 10m}', got \(reader.describe(node))")
            return nil
        }
        guard let f = reader.mapping(node, path: path, allowed: Self.stepKinds, what: "step \(path)") else { return nil }
        let kinds = Self.stepKinds.filter { f.has($0) }
        guard mapping.count == 1, let kind = kinds.first else {
            if kinds.count > 1 {
                reader.report(node, "\(path) has \(kinds.joined(separator: " and ")); each step does one thing, so put them in separate steps")
            }
            return nil
        }
        let entry = f.entries[kind]!
        let stepPath = f.child(kind)
        switch kind {
        case "setWeight":
            guard let w = reader.number(entry.value, path: stepPath, in: 0...100, unit: " (percent)") else { return nil }
            if w > maxWeight {
                reader.report(entry.value, "\(stepPath) is \(ConditionValue.format(w)), above maxWeight \(ConditionValue.format(maxWeight))")
                return nil
            }
            return .setWeight(w)
        case "pause":
            if reader.isNull(entry.value) { return .pause(PauseStep()) }
            if case .scalar = entry.value {
                // `pause: 30m` is accepted as a short form of `pause: {duration: 30m}`.
                return reader.duration(entry.value, path: stepPath, positive: true).map { .pause(PauseStep(duration: $0)) }
            }
            guard let pf = reader.mapping(entry.value, path: stepPath, allowed: ["duration"], owner: entry.key) else { return nil }
            guard pf.has("duration") else { return .pause(PauseStep()) }
            return reader.duration(pf, "duration", positive: true).map { .pause(PauseStep(duration: $0)) }
        case "analysis":
            if reader.isNull(entry.value) { return .analysis(.default) }
            if case .scalar(let s) = entry.value {
                guard s.string == "default" else {
                    reader.report(entry.value, "\(stepPath) must be 'default' or a mapping with 'templates', got '\(s.string)'")
                    return nil
                }
                return .analysis(.default)
            }
            guard let af = reader.mapping(entry.value, path: stepPath, allowed: ["templates", "args"], owner: entry.key) else { return nil }
            return analysisReference(af, owner: entry.key).map { .analysis($0) }
        case "setHeaderRoute":
            guard let hf = reader.mapping(entry.value, path: stepPath, allowed: ["name", "match"], owner: entry.key) else { return nil }
            let name = reader.string(hf, "name", required: true)
            var matches: [HeaderMatch] = []
            for (i, item) in (reader.list(hf, "match") ?? []).enumerated() {
                let mpath = "\(hf.child("match"))[\(i)]"
                guard let mf = reader.mapping(item, path: mpath, allowed: ["headerName", "headerValue"]) else { continue }
                let header = reader.string(mf, "headerName", required: true)
                var exact: String?
                if let vf = reader.mapping(mf, "headerValue", allowed: ["exact", "prefix", "regex"]) {
                    for unsupported in ["prefix", "regex"] where vf.has(unsupported) {
                        reader.report(
                            vf.entries[unsupported]!.key, "\(vf.child(unsupported)): the gateway matches exact header values only; use 'exact'")
                    }
                    exact = reader.string(vf, "exact", required: !vf.has("prefix") && !vf.has("regex"))
                } else if !mf.has("headerValue") {
                    reader.missing(mf, "headerValue", "e.g. {exact: \"1\"}")
                }
                if let header, let exact { matches.append(HeaderMatch(headerName: header, exact: exact)) }
            }
            return name.map { .setHeaderRoute(HeaderRouteStep(name: $0, match: matches)) }
        default:  // setMirrorRoute
            guard let mf = reader.mapping(entry.value, path: stepPath, allowed: ["name", "percentage"], owner: entry.key) else { return nil }
            let name = reader.string(mf, "name", required: true)
            let percentage = reader.number(mf, "percentage", in: 0...100, unit: " (percent)")
            if percentage == 0, let n = mf["percentage"] {
                reader.report(n, "\(mf.child("percentage")) must be above 0; leave it out to remove the mirror")
            }
            return name.map { .setMirrorRoute(MirrorRouteStep(name: $0, percentage: percentage)) }
        }
    }

    /// `templates: [{templateName: x}]` and `args: [{name, value}]`; no templates means the default analysis.
    func analysisReference(_ f: Fields, owner: Node) -> AnalysisReference? {
        var args: [AnalysisArgument] = []
        var argNodes: [String: Node] = [:]
        for (i, item) in (reader.list(f, "args") ?? []).enumerated() {
            let apath = "\(f.child("args"))[\(i)]"
            guard let af = reader.mapping(item, path: apath, allowed: ["name", "value"]) else { continue }
            guard let name = reader.string(af, "name", required: true) else { continue }
            guard let valueNode = af["value"] else {
                reader.missing(af, "value")
                continue
            }
            guard case .scalar(let s) = valueNode else {
                reader.report(valueNode, "\(af.child("value")) must be a text value")
                continue
            }
            if argNodes[name] != nil { reader.report(af["name"], "argument '\(name)' is given twice") }
            args.append(AnalysisArgument(name: name, value: s.string))
            argNodes[name] = af["name"]
        }
        var templates: [TemplateReference] = []
        for (i, item) in (reader.list(f, "templates") ?? []).enumerated() {
            let tpath = "\(f.child("templates"))[\(i)]"
            guard let tf = reader.mapping(item, path: tpath, allowed: ["templateName", "clusterScope"]) else { continue }
            guard let name = reader.string(tf, "templateName", required: true), let node = tf["templateName"] else { continue }
            if templates.contains(where: { $0.templateName == name }) { reader.report(node, "template '\(name)' is named twice in this analysis") }
            templates.append(TemplateReference(templateName: name))
            references.append(PendingReference(name: name, node: node, args: args, argNodes: argNodes, owner: reader.position(owner)))
        }
        if templates.isEmpty, let first = args.first, let node = argNodes[first.name] {
            reader.report(node, "arguments are given but no template uses them; add 'templates' or remove 'args'")
        }
        return AnalysisReference(templates: templates, args: args)
    }

    func analysisReference(_ parent: Fields, _ key: String) -> AnalysisReference? {
        guard let entry = parent.entries[key] else { return nil }
        if reader.isNull(entry.value) { return .default }
        if case .scalar(let s) = entry.value, s.string == "default" { return .default }
        guard let f = reader.mapping(entry.value, path: parent.child(key), allowed: ["templates", "args"], owner: entry.key) else { return nil }
        return analysisReference(f, owner: entry.key)
    }

    // MARK: Blue-green

    func blueGreen(_ node: Node, key: Node, path: String) -> BlueGreenStrategy? {
        if reader.isNull(node) { return BlueGreenStrategy() }
        let keys = ["autoPromotionEnabled", "autoPromotionSeconds", "prePromotionAnalysis", "postPromotionAnalysis", "scaleDownDelaySeconds"]
        guard let f = reader.mapping(node, path: path, allowed: keys, owner: key) else { return nil }
        let auto = reader.bool(f, "autoPromotionEnabled") ?? true
        let seconds = reader.integer(f, "autoPromotionSeconds", in: 0...Int.max)
        if !auto, seconds != nil, let k = f.entries["autoPromotionSeconds"]?.key {
            reader.report(k, "autoPromotionSeconds has no effect when autoPromotionEnabled is false; remove one of them")
        }
        return BlueGreenStrategy(
            autoPromotionEnabled: auto, autoPromotionSeconds: seconds, prePromotionAnalysis: analysisReference(f, "prePromotionAnalysis"),
            postPromotionAnalysis: analysisReference(f, "postPromotionAnalysis"),
            scaleDownDelaySeconds: reader.integer(f, "scaleDownDelaySeconds", in: 0...86_400 * 7) ?? 30)
    }

    // MARK: Experiment

    func experiment(_ node: Node, key: Node, path: String) -> ExperimentStrategy? {
        let keys = [
            "weight", "primary", "guardrails", "mde", "relative", "baseline", "standardDeviation", "alpha", "power", "decision", "srmThreshold",
            "maxDuration", "segmentBy",
        ]
        guard let f = reader.mapping(node, path: path, allowed: keys, owner: key) else { return nil }
        let weight = reader.number(f, "weight", in: 0...100, unit: " (percent)") ?? 50
        if weight == 0 || weight == 100, let n = f["weight"] {
            reader.report(n, "\(f.child("weight")) must leave traffic to both variants (between 0 and 100, exclusive)")
        }
        var primary = ExperimentStrategy.PrimaryMetric()
        if let pf = reader.mapping(f, "primary", allowed: ["metric", "direction"]) {
            if let m = reader.choice(pf, "metric", ["conversion", "outcome-mean"], required: true) {
                primary.metric = BuiltinMetric.Kind(rawValue: m)!
            }
            if let d = reader.choice(pf, "direction", ["increase", "decrease"]) { primary.direction = d == "increase" ? .increase : .decrease }
        } else if !f.has("primary") {
            reader.missing(f, "primary", "the metric the test decides on, e.g. {metric: conversion}")
        }
        var guardrails: [BuiltinMetric.Kind] = [.errorRate, .latency]
        if let items = reader.list(f, "guardrails") {
            guardrails = []
            let allowed = ["error-rate", "latency", "prediction-drift"]
            for (i, item) in items.enumerated() {
                let gpath = "\(f.child("guardrails"))[\(i)]"
                guard let text = reader.string(item, path: gpath) else { continue }
                guard allowed.contains(text), let kind = BuiltinMetric.Kind(rawValue: text) else {
                    var message = "\(gpath) must be one of \(allowed.joined(separator: ", ")), got '\(text)'"
                    if let close = Suggestion.closest(to: text, in: allowed) { message += "; did you mean '\(close)'?" }
                    reader.report(item, message)
                    continue
                }
                guardrails.append(kind)
            }
        }
        let mde = reader.number(f, "mde", in: 0...1e12, required: true)
        if mde == 0, let n = f["mde"] { reader.report(n, "\(f.child("mde")) must be above 0") }
        let relative = reader.bool(f, "relative") ?? true
        let baseline = reader.number(f, "baseline", in: -1e15...1e15, required: true)
        if primary.metric == .conversion, let b = baseline, !(b > 0 && b < 1), let n = f["baseline"] {
            reader.report(n, "\(f.child("baseline")) is the expected conversion rate, strictly between 0 and 1; got \(ConditionValue.format(b))")
        }
        let sd = reader.number(f, "standardDeviation", in: 0...1e15)
        if primary.metric == .outcomeMean, sd == nil, !f.has("standardDeviation") {
            reader.missing(f, "standardDeviation", "the outcome's standard deviation sizes the test")
        }
        let significance = self.alpha(f) ?? 0.05
        let power = reader.number(f, "power", in: 0...1) ?? 0.8
        if power <= significance || power >= 1, let n = f["power"] {
            reader.report(n, "\(f.child("power")) must be above alpha (\(ConditionValue.format(significance))) and below 1")
        }
        let decision = reader.choice(f, "decision", ExperimentStrategy.Decision.allCases.map(\.rawValue)).flatMap(ExperimentStrategy.Decision.init)
        let srm = self.alpha(f, "srmThreshold") ?? 0.001
        let maxDuration = reader.duration(f, "maxDuration", positive: true)
        let segmentBy = reader.string(f, "segmentBy")
        if let segmentBy, segmentBy.utf8.count > 128 || segmentBy.contains(where: { $0.isNewline || $0 == "\0" }), let n = f["segmentBy"] {
            reader.report(n, "\(f.child("segmentBy")) must name one request input (a V2 input tensor) on one line, at most 128 bytes")
        }
        guard let mde, mde > 0, let baseline else { return nil }
        let spec = ExperimentStrategy(
            weight: weight, primary: primary, guardrails: guardrails, mde: mde, relative: relative, baseline: baseline, standardDeviation: sd,
            alpha: significance, power: power, decision: decision ?? .fixedHorizon, srmThreshold: srm, maxDuration: maxDuration,
            segmentBy: segmentBy)
        if weight > 0 && weight < 100 && power > significance && power < 1 && (primary.metric != .conversion || (baseline > 0 && baseline < 1)) {
            do throws(RolloutError) { _ = try spec.sampleSize() } catch { reader.report(f["mde"], "\(f.child("mde")): \(error.message)") }
        }
        return spec
    }

    // MARK: Shadow

    func shadow(_ node: Node, key: Node, path: String) -> ShadowStrategy? {
        let keys = ["percentage", "duration", "minAgreement", "tolerance", "analysis", "promote"]
        guard let f = reader.mapping(node, path: path, allowed: keys, owner: key) else { return nil }
        let percentage = reader.number(f, "percentage", in: 0...100, required: true, unit: " (percent)")
        if percentage == 0, let n = f["percentage"] { reader.report(n, "\(f.child("percentage")) must be above 0") }
        let duration = reader.duration(f, "duration", positive: true)
        let agreement = reader.number(f, "minAgreement", in: 0...1) ?? 0.95
        let tolerance = reader.number(f, "tolerance", in: 0...1e15) ?? 0
        let analysis = analysisReference(f, "analysis")
        let promote = reader.bool(f, "promote") ?? false
        guard let percentage, percentage > 0 else { return nil }
        return ShadowStrategy(
            percentage: percentage, duration: duration, minAgreement: agreement, tolerance: tolerance, analysis: analysis, promote: promote)
    }

    // MARK: Rolling

    func rolling(_ node: Node, key: Node, path: String) -> RollingStrategy? {
        if reader.isNull(node) { return RollingStrategy() }
        guard let f = reader.mapping(node, path: path, allowed: ["maxSurge", "maxUnavailable", "progressDeadlineSeconds"], owner: key) else {
            return nil
        }
        let surge = f["maxSurge"].map { replicaCount($0, path: f.child("maxSurge")) } ?? .percent(25)
        let unavailable = f["maxUnavailable"].map { replicaCount($0, path: f.child("maxUnavailable")) } ?? .percent(25)
        let deadline = f.has("progressDeadlineSeconds") ? reader.integer(f, "progressDeadlineSeconds", in: 1...86_400) : 600
        guard let surge, let unavailable, let deadline else { return nil }
        if surge.isZero && unavailable.isZero {
            reader.report(
                f.entries["maxUnavailable"]?.key ?? f.entries["maxSurge"]?.key ?? key,
                "maxSurge and maxUnavailable cannot both be 0: the update could never replace a replica")
            return nil
        }
        return RollingStrategy(maxSurge: surge, maxUnavailable: unavailable, progressDeadlineSeconds: deadline)
    }

    func replicaCount(_ node: Node, path: String) -> ReplicaCount? {
        if case .scalar(let s) = node, s.string.hasSuffix("%") {
            guard let p = Double(s.string.dropLast()), p >= 0, p <= 100 else {
                reader.report(node, "\(path) must be a whole number of replicas or a percentage from 0% to 100%, got '\(s.string)'")
                return nil
            }
            return .percent(p)
        }
        guard let n = reader.integer(node, path: path, in: 0...10_000) else { return nil }
        return .count(n)
    }
}
