import SlipwayCore
import Foundation
import SlipwayStats
import Yams
import SlipwayYAML

extension SpecBuilder {
    static let scheduleKeys = [
        "interval", "count", "initialDelay", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit", "consecutiveSuccessLimit",
    ]
    static let metricKeys = ["name", "provider", "successCondition", "failureCondition", "judge"] + scheduleKeys

    // MARK: Templates

    func template(_ node: Node, key: Node, name: String, position: SourcePosition) {
        guard let f = reader.mapping(node, path: "spec", allowed: ["args", "metrics", "judge"], owner: key, what: "the template's spec") else {
            return
        }
        var args: [TemplateArgument] = []
        for (i, item) in (reader.list(f, "args") ?? []).enumerated() {
            let apath = "\(f.child("args"))[\(i)]"
            guard let af = reader.mapping(item, path: apath, allowed: ["name", "value"]) else { continue }
            guard let argName = reader.string(af, "name", required: true) else { continue }
            if args.contains(where: { $0.name == argName }) { reader.report(af["name"], "argument '\(argName)' is declared twice") }
            var value: String?
            if let v = af["value"], case .scalar(let s) = v { value = s.string }
            args.append(TemplateArgument(name: argName, value: value))
        }
        var judge: JudgeSpec?
        if let entry = f.entries["judge"] { judge = judgeSpec(entry.value, key: entry.key, path: f.child("judge")) }
        var metrics: [MetricSpec] = []
        var names: Set<String> = []
        for (i, item) in (reader.list(f, "metrics", required: true, nonEmpty: true) ?? []).enumerated() {
            let mpath = "\(f.child("metrics"))[\(i)]"
            guard let metric = metricSpec(item, path: mpath, judged: f.has("judge"), declared: Set(args.map(\.name))) else { continue }
            if !names.insert(metric.name).inserted {
                reader.report(item, "metric name '\(metric.name)' is used twice in template '\(name)'")
            }
            metrics.append(metric)
        }
        if let earlier = templates.first(where: { $0.template.name == name && !name.isEmpty }) {
            reader.report(at: position, "template '\(name)' is defined twice; the first one starts at line \(earlier.position.line)")
            return
        }
        templates.append((AnalysisTemplate(name: name, args: args, metrics: metrics, judge: judge), position))
    }

    func judgeSpec(_ node: Node, key: Node, path: String) -> JudgeSpec? {
        if case .scalar(let s) = node {
            guard s.string == JudgeSpec.Algorithm.mannWhitney.rawValue else {
                reader.report(node, "\(path) must be 'mannwhitney' or a mapping with 'algorithm', got '\(s.string)'")
                return nil
            }
            return JudgeSpec()
        }
        let keys = ["algorithm", "passThreshold", "marginalThreshold", "alpha"] + Self.scheduleKeys
        guard let f = reader.mapping(node, path: path, allowed: keys, owner: key) else { return nil }
        var judge = JudgeSpec()
        if let a = reader.choice(f, "algorithm", JudgeSpec.Algorithm.allCases.map(\.rawValue)) { judge.algorithm = JudgeSpec.Algorithm(rawValue: a)! }
        if let x = reader.number(f, "passThreshold", in: 0...100) { judge.passThreshold = x }
        if let x = reader.number(f, "marginalThreshold", in: 0...100) { judge.marginalThreshold = x }
        if judge.marginalThreshold > judge.passThreshold, let n = f["marginalThreshold"] {
            reader.report(
                n,
                "\(f.child("marginalThreshold")) (\(ConditionValue.format(judge.marginalThreshold))) must not exceed "
                    + "passThreshold (\(ConditionValue.format(judge.passThreshold)))"
            )
        }
        if let x = alpha(f) { judge.alpha = x }
        judge.policy = policy(f)
        return judge
    }

    func policy(_ f: Fields) -> MeasurementPolicy {
        var p = MeasurementPolicy()
        p.interval = reader.duration(f, "interval", positive: true)
        p.count = reader.integer(f, "count", in: 0...1_000_000)
        p.initialDelay = reader.duration(f, "initialDelay")
        if let n = reader.integer(f, "failureLimit", in: 0...1_000_000) { p.failureLimit = n }
        if let n = reader.integer(f, "inconclusiveLimit", in: 0...1_000_000) { p.inconclusiveLimit = n }
        if let n = reader.integer(f, "consecutiveErrorLimit", in: 0...1_000_000) { p.consecutiveErrorLimit = n }
        if let n = reader.integer(f, "consecutiveSuccessLimit", in: 0...1_000_000) { p.consecutiveSuccessLimit = n }
        if let count = p.count, count > 1, p.interval == nil, let k = f.entries["count"]?.key {
            reader.report(k, "\(f.child("count")) is \(count), which needs an 'interval' between the measurements")
        }
        if let count = p.count, count > 0, p.consecutiveSuccessLimit > count, let k = f.entries["consecutiveSuccessLimit"]?.key {
            reader.report(k, "\(f.child("consecutiveSuccessLimit")) (\(p.consecutiveSuccessLimit)) can never be reached with count \(count)")
        }
        return p
    }

    // MARK: Metrics

    func metricSpec(_ node: Node, path: String, judged: Bool, declared: Set<String>) -> MetricSpec? {
        guard let f = reader.mapping(node, path: path, allowed: Self.metricKeys) else { return nil }
        let name = reader.string(f, "name", required: true)
        let success = reader.condition(f, "successCondition")
        let failure = reader.condition(f, "failureCondition")
        var provider: MetricProvider?
        if let entry = f.entries["provider"] {
            provider = metricProvider(entry.value, key: entry.key, path: f.child("provider"), minSamplesAllowed: true)
        } else {
            reader.missing(f, "provider", "one of builtin, prometheus, web, job")
        }
        let schedule = policy(f)
        var options: JudgeMetricOptions?
        if let entry = f.entries["judge"] {
            if !judged {
                reader.report(
                    entry.key, "\(f.child("judge")) applies only in a template with a 'judge'; add 'judge: mannwhitney' to the template's spec")
            }
            options = judgeOptions(entry.value, key: entry.key, path: f.child("judge"))
        }
        if judged {
            for key in ["successCondition", "failureCondition"] + Self.scheduleKeys where f.has(key) {
                reader.report(
                    f.entries[key]!.key,
                    "\(f.child(key)): in a judged template the judge decides and schedules the measurements; "
                        + "set '\(key)' on the judge, or remove the judge"
                )
            }
            if let provider {
                switch provider {
                case .builtin(let b) where ![.errorRate, .latency].contains(b.kind):
                    reader.report(
                        f["provider"],
                        "\(f.child("provider")): the judge compares per-request samples of canary and stable; "
                            + "builtin '\(b.kind.rawValue)' has none (use error-rate or latency, or a prometheus or web metric)"
                    )
                case .job:
                    reader.report(
                        f["provider"], "\(f.child("provider")): a job has no samples to compare; the judge takes builtin, prometheus or web metrics")
                default: break
                }
            }
        }
        if case .job = provider, success != nil || failure != nil {
            let k = f.entries["successCondition"]?.key ?? f.entries["failureCondition"]?.key
            reader.report(k, "a job metric succeeds when its command exits with status 0; remove successCondition and failureCondition")
        }
        if let provider {
            for arg in provider.argumentNames.sorted() where !declared.contains(arg) {
                reader.report(
                    f["provider"], "\(f.child("provider")) uses {{args.\(arg)}}, but the template declares no argument '\(arg)' under spec.args")
            }
        }
        guard let name, let provider else { return nil }
        return MetricSpec(name: name, provider: provider, successCondition: success, failureCondition: failure, policy: schedule, judge: options)
    }

    func judgeOptions(_ node: Node, key: Node, path: String) -> JudgeMetricOptions? {
        let keys = ["direction", "critical", "weight", "allowedIncrease", "allowedDecrease", "criticalIncrease", "criticalDecrease"]
        guard let f = reader.mapping(node, path: path, allowed: keys, owner: key) else { return nil }
        var o = JudgeMetricOptions()
        if let d = reader.choice(f, "direction", ["increase", "decrease", "either"]) { o.direction = KayentaJudge.Direction(rawValue: d) }
        if let b = reader.bool(f, "critical") { o.critical = b }
        if let w = reader.number(f, "weight", in: 0...1e6) { o.weight = w }
        if let x = reader.number(f, "allowedIncrease", in: 0...1e6) { o.allowedIncrease = x }
        if let x = reader.number(f, "allowedDecrease", in: 0...1e6) { o.allowedDecrease = x }
        o.criticalIncrease = reader.number(f, "criticalIncrease", in: 0...1e6)
        o.criticalDecrease = reader.number(f, "criticalDecrease", in: 0...1e6)
        return o
    }

    static let providerKeys = ["builtin", "prometheus", "web", "job"]

    func metricProvider(_ node: Node, key: Node, path: String, minSamplesAllowed: Bool) -> MetricProvider? {
        guard let f = reader.mapping(node, path: path, allowed: Self.providerKeys, owner: key) else { return nil }
        let present = Self.providerKeys.filter { f.has($0) }
        guard let first = present.first else {
            reader.missing(f, "builtin", "a metric needs one provider: \(Self.providerKeys.joined(separator: ", "))")
            return nil
        }
        for extra in present.dropFirst() {
            reader.report(f.entries[extra]!.key, "a metric has exactly one provider, but '\(extra)' comes besides '\(first)'")
        }
        let entry = f.entries[first]!
        let ppath = f.child(first)
        switch first {
        case "builtin":
            guard
                let bf = reader.mapping(
                    entry.value, path: ppath, allowed: ["metric", "quantile", "method", "variant", "minSamples"], owner: entry.key)
            else { return nil }
            guard let kindText = reader.choice(bf, "metric", BuiltinMetric.Kind.allCases.map(\.rawValue), required: true),
                let kind = BuiltinMetric.Kind(rawValue: kindText)
            else { return nil }
            var metric = BuiltinMetric(kind: kind)
            if let q = reader.choice(bf, "quantile", BuiltinMetric.Quantile.allCases.map(\.rawValue)) {
                if kind == .latency {
                    metric.quantile = BuiltinMetric.Quantile(rawValue: q)
                } else {
                    reader.report(bf.entries["quantile"]!.key, "\(bf.child("quantile")) applies to the latency metric only")
                }
            }
            if let m = reader.choice(bf, "method", BuiltinMetric.DriftMethod.allCases.map(\.rawValue)) {
                if kind == .predictionDrift {
                    metric.method = BuiltinMetric.DriftMethod(rawValue: m)
                } else {
                    reader.report(bf.entries["method"]!.key, "\(bf.child("method")) applies to the prediction-drift metric only")
                }
            }
            if let v = reader.choice(bf, "variant", BuiltinMetric.Variant.allCases.map(\.rawValue)) {
                metric.variant = BuiltinMetric.Variant(rawValue: v)!
                if kind == .predictionDrift, let k = bf.entries["variant"]?.key {
                    reader.report(k, "\(bf.child("variant")): prediction drift always compares the canary with the stable variant")
                }
            }
            metric.minSamples = reader.integer(bf, "minSamples", in: 0...100_000_000)
            return .builtin(metric)
        case "prometheus":
            guard let pf = reader.mapping(entry.value, path: ppath, allowed: ["address", "query", "timeout"], owner: entry.key) else { return nil }
            let address = reader.string(pf, "address")
            if let address, let n = pf["address"] { checkURL(address, n, path: pf.child("address")) }
            guard let query = reader.string(pf, "query", required: true) else { return nil }
            return .prometheus(PrometheusProvider(address: address, query: query, timeout: reader.duration(pf, "timeout", positive: true)))
        case "web":
            guard let wf = reader.mapping(entry.value, path: ppath, allowed: ["url", "jsonPath", "headers", "timeout", "method"], owner: entry.key)
            else { return nil }
            if let m = reader.string(wf, "method"), m.uppercased() != "GET", let n = wf["method"] {
                reader.report(n, "\(wf.child("method")): the web provider sends GET requests only")
            }
            let url = reader.string(wf, "url", required: true)
            if let url, let n = wf["url"] { checkURL(url, n, path: wf.child("url")) }
            let headers = wf["headers"].map { self.headers($0, path: wf.child("headers")) } ?? [:]
            let jsonPath = reader.string(wf, "jsonPath")
            if let path = jsonPath, !path.contains("{{args."), let node = wf["jsonPath"] {
                do throws(JSONPath.SyntaxError) { _ = try JSONPath(path) } catch {
                    reader.report(node, "\(wf.child("jsonPath")): \(error.description)")
                }
            }
            guard let url else { return nil }
            return .web(
                WebProvider(
                    url: url, jsonPath: jsonPath, headers: headers, timeout: reader.duration(wf, "timeout", positive: true)))
        default:
            guard let jf = reader.mapping(entry.value, path: ppath, allowed: ["command", "timeout"], owner: entry.key) else { return nil }
            guard let commandNode = jf["command"] else {
                reader.missing(jf, "command", "a shell command, or a list of the program and its arguments")
                return nil
            }
            var command: [String] = []
            if case .sequence(let items) = commandNode {
                for (i, item) in items.enumerated() { if let s = reader.string(item, path: "\(jf.child("command"))[\(i)]") { command.append(s) } }
                if items.isEmpty { reader.report(commandNode, "\(jf.child("command")) must not be empty") }
            } else if let s = reader.string(commandNode, path: jf.child("command")) {
                command = ["/bin/sh", "-c", s]
            }
            guard !command.isEmpty else { return nil }
            return .job(JobProvider(command: command, timeout: reader.duration(jf, "timeout", positive: true)))
        }
    }

    func checkURL(_ text: String, _ node: Node, path: String) {
        // A URL with {{args.…}} is complete only once the arguments are substituted.
        guard !text.contains("{{") else { return }
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            reader.report(node, "\(path) must be an http:// or https:// URL, got '\(text)'")
            return
        }
    }

    func headers(_ node: Node, path: String) -> [String: String] {
        var result: [String: String] = [:]
        switch node {
        case .mapping(let mapping):
            for (k, v) in mapping {
                guard let key = k.string, case .scalar(let s) = v else {
                    reader.report(k, "\(path) maps header names to text values")
                    continue
                }
                result[key] = s.string
            }
        case .sequence(let items):
            // Argo's form: a list of {key, value}.
            for (i, item) in items.enumerated() {
                guard let hf = reader.mapping(item, path: "\(path)[\(i)]", allowed: ["key", "value"]) else { continue }
                if let k = reader.string(hf, "key", required: true), let v = reader.string(hf, "value", required: true) { result[k] = v }
            }
        default:
            reader.report(node, "\(path) must be a mapping of header names to values")
        }
        return result
    }

    // MARK: References

    /// Arguments the controller gives blue-green analyses: `endpoint`, `preview-variant`, `preview-url`, `gateway-url`.
    static let controllerArguments: Set<String> = ["endpoint", "preview-variant", "preview-url", "gateway-url"]

    /// Every template named by an analysis exists (in the file or the library) and gets its arguments.
    func checkReferences() {
        var available: [String: AnalysisTemplate] = [:]
        for t in library { available[t.name] = t }
        for (t, _) in templates { available[t.name] = t }
        for reference in references {
            guard let template = available[reference.name] else {
                var message = "analysis template '\(reference.name)' does not exist"
                if let close = Suggestion.closest(to: reference.name, in: Array(available.keys)) {
                    message += "; did you mean '\(close)'?"
                } else if available.isEmpty {
                    message += "; define it in this file as a document with kind: AnalysisTemplate"
                } else {
                    message += "; templates defined: \(available.keys.sorted().joined(separator: ", "))"
                }
                reader.report(reference.node, message)
                continue
            }
            // The controller passes these itself to the analyses of a blue-green rollout.
            var given = Set(reference.args.map(\.name))
            if case .blueGreen = rollout?.strategy { given.formUnion(Self.controllerArguments) }
            for arg in template.args where arg.value == nil && !given.contains(arg.name) {
                reader.report(reference.node, "template '\(template.name)' needs a value for argument '\(arg.name)'; add it under args")
            }
        }
        // Arguments that no named template declares are probably misspelt.
        var checked = Set<String>()
        for reference in references {
            let key = "\(reference.owner.line):\(reference.owner.column)"
            guard checked.insert(key).inserted else { continue }
            let siblings = references.filter { $0.owner == reference.owner }
            let declared = Set(siblings.compactMap { available[$0.name] }.flatMap { $0.args.map(\.name) })
            guard siblings.allSatisfy({ available[$0.name] != nil }) else { continue }
            for arg in reference.args where !declared.contains(arg.name) {
                var message = "argument '\(arg.name)' is not declared by \(siblings.map { "'\($0.name)'" }.joined(separator: ", "))"
                if let close = Suggestion.closest(to: arg.name, in: Array(declared)) { message += "; did you mean '\(close)'?" }
                reader.report(reference.argNodes[arg.name], message)
            }
        }
    }
}
