public import Foundation
import SlipwayCore

/// What the ML actions share: JSON, numbers and files.
enum MLAction {
    /// Compact JSON with sorted keys.
    static func compactJSON(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A JSON number (not a boolean) as a Double.
    static func number(_ value: Any?) -> Double? {
        guard let value, let number = value as? NSNumber else { return nil }
        if String(describing: type(of: value)).contains("Bool") || String(cString: number.objCType) == "c" { return nil }
        return number.doubleValue
    }

    /// A number as an output: integers without a fraction, others in full precision.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// Writes `data` to `url` through a temporary sibling and a rename.
    static func writeAtomically(_ data: Data, to url: URL, action: String) throws(ActionError) {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.lowercased())")
            try data.write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                try? FileManager.default.removeItem(at: temporary)
                throw ActionError("cannot rename into \(url.path)")
            }
        } catch {
            throw ActionError("\(action): cannot write \(url.path): \(error)")
        }
    }

    /// Reads a metrics JSON object from a file in the workspace or from JSON text.
    static func metrics(_ text: String, inputs: ActionInputs, input: String) throws(ActionError) -> [String: Any] {
        let data: Data
        if text.hasPrefix("{") {
            data = Data(text.utf8)
        } else {
            let url = try inputs.path(input, text)
            do { data = try Data(contentsOf: url) } catch {
                throw ActionError("\(inputs.action): the input '\(input)': cannot read \(url.path): \(error.localizedDescription)")
            }
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ActionError("\(inputs.action): the input '\(input)' must be a JSON object of metrics (a file or JSON text)")
        }
        return object
    }
}

/// `slipway/validate-data`: `slipway data validate` on a data file against a schema.
///
/// Inputs: `schema`, `data` (required), `reference` (optional, for drift checks), `report` (optional path for the JSON
/// report), `fail-on-failure` (default true: failing checks fail the step). Outputs: `passed` (true/false), `report`
/// (the report's path), `failed` (the number of failed checks).
public struct ValidateDataAction: BuiltinAction {
    public var name: String { "slipway/validate-data" }
    /// The `slipway` program.
    public let cli: SlipwayCLI
    /// The action, running `executable` with `dataDir` as the default data folder.
    public init(executable: URL, dataDir: URL? = nil) { cli = SlipwayCLI(executable: executable, dataDir: dataDir) }

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let inputs = ActionInputs(name, invocation)
        let schema = try inputs.requiredPath("schema", "the schema JSON file")
        let data = try inputs.requiredPath("data", "the CSV or JSON Lines file to check")
        let reference = try inputs.optionalPath("reference")
        let failOnFailure = try inputs.bool("fail-on-failure", default: true)
        let report =
            try inputs.optionalPath("report") ?? invocation.temp.appendingPathComponent("validation-report-\(UUID().uuidString.prefix(8)).json")
        do { try FileManager.default.createDirectory(at: report.deletingLastPathComponent(), withIntermediateDirectories: true) } catch {
            throw ActionError("\(name): cannot create the folder of \(report.path)")
        }
        var arguments = ["data", "validate", "--schema", schema.path, "--data", data.path, "--output", report.path, "--json"]
        if let reference { arguments += ["--reference", reference.path] }
        let outcome = try await cli.run(arguments, invocation: invocation, action: name)
        guard outcome.status == 0 || outcome.status == 1, let json = outcome.json, let summary = json["summary"] as? [String: Any] else {
            throw ActionError("\(name): \(outcome.errorMessage)")
        }
        let passed = (summary["success"] as? Bool) ?? (outcome.status == 0)
        let failed = MLAction.number(summary["failed"]).map { Int($0) } ?? 0
        let checks = MLAction.number(summary["checks"]).map { Int($0) } ?? 0
        invocation.log("\(data.lastPathComponent): \(checks) checks, \(failed) failed: \(passed ? "PASS" : "FAIL") (report \(report.path))")
        if !passed, failOnFailure {
            throw ActionError(
                "\(name): \(failed) of \(checks) checks failed on \(data.lastPathComponent); see \(report.path) "
                    + "(set fail-on-failure: false to continue)"
            )
        }
        var result = ActionResult()
        result.outputs = ["passed": passed ? "true" : "false", "report": report.path, "failed": String(failed)]
        return result
    }
}

/// `slipway/train`: `slipway train` with the built-in trainer.
///
/// Inputs: `algorithm` (`logistic` or `gbdt`), `data` (CSV), `target` (the label column), `out` (the model folder),
/// `params` (optional, one `key=value` per line). Outputs: `model-dir` (absolute), `algorithm`.
public struct TrainAction: BuiltinAction {
    public var name: String { "slipway/train" }
    /// The `slipway` program.
    public let cli: SlipwayCLI
    /// The action, running `executable` with `dataDir` as the default data folder.
    public init(executable: URL, dataDir: URL? = nil) { cli = SlipwayCLI(executable: executable, dataDir: dataDir) }

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let inputs = ActionInputs(name, invocation)
        guard inputs.optional("algorithm") != nil else {
            throw ActionError("\(name): the input 'algorithm' is required; allowed: logistic, gbdt")
        }
        let algorithm = try inputs.choice("algorithm", ["logistic", "gbdt"], default: "logistic")
        let data = try inputs.requiredPath("data", "the training CSV file")
        let target = try inputs.required("target", "the column holding the labels")
        let out = try inputs.requiredPath("out", "the model folder to write")
        var arguments = ["train", "--algorithm", algorithm, "--data", data.path, "--target", target, "--out", out.path, "--json"]
        for pair in try inputs.keyValues("params") { arguments += ["--param", "\(pair.key)=\(pair.value)"] }
        _ = try await cli.json(arguments, invocation: invocation, action: name)
        var result = ActionResult()
        result.outputs = ["model-dir": out.path, "algorithm": algorithm]
        return result
    }
}

/// `slipway/evaluate`: `slipway evaluate` of a built-in model on labelled data.
///
/// Inputs: `model` (the model folder), `data` (CSV), `target` (optional: default the model's), `output` (optional file
/// for the metrics JSON). Outputs: `metrics` (the report as compact JSON) and each top-level numeric metric by name
/// (`accuracy`, `f1`, `precision`, `recall`, `roc_auc`, `log_loss`, …).
public struct EvaluateAction: BuiltinAction {
    public var name: String { "slipway/evaluate" }
    /// The `slipway` program.
    public let cli: SlipwayCLI
    /// The action, running `executable` with `dataDir` as the default data folder.
    public init(executable: URL, dataDir: URL? = nil) { cli = SlipwayCLI(executable: executable, dataDir: dataDir) }

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let inputs = ActionInputs(name, invocation)
        let model = try inputs.requiredPath("model", "the model folder written by slipway/train")
        let data = try inputs.requiredPath("data", "the labelled CSV file")
        let output = try inputs.optionalPath("output")
        var arguments = ["evaluate", "--model", model.path, "--data", data.path, "--json"]
        if let target = inputs.optional("target") { arguments += ["--target", target] }
        let report = try await cli.json(arguments, invocation: invocation, action: name)
        let compact = MLAction.compactJSON(report)
        if let output { try MLAction.writeAtomically(Data(compact.utf8), to: output, action: name) }
        var result = ActionResult()
        result.outputs["metrics"] = compact
        var summary: [String] = []
        for (key, value) in report.sorted(by: { $0.key < $1.key }) {
            guard let number = MLAction.number(value) else { continue }
            result.outputs[key] = MLAction.format(number)
            summary.append("\(key)=\(MLAction.format(number))")
        }
        invocation.log("Metrics: " + summary.joined(separator: " "))
        return result
    }
}

/// `slipway/compare`: compares new metrics with those of the version behind an alias.
///
/// Inputs: `metrics` (a metrics JSON file or JSON text), `model` (the registered model), `alias` (default `production`),
/// `metric` (default `accuracy`), `threshold` (the minimum improvement, default 0), `direction` (`higher` or `lower` is
/// better, default `higher`). Outputs: `should_deploy` (true when the model, alias or baseline metric does not exist
/// yet, or the candidate improves on the baseline by at least the threshold), `baseline` (empty without one),
/// `candidate`, `delta` (candidate − baseline).
public struct CompareAction: BuiltinAction {
    public var name: String { "slipway/compare" }
    /// The `slipway` program.
    public let cli: SlipwayCLI
    /// The action, running `executable` with `dataDir` as the default data folder.
    public init(executable: URL, dataDir: URL? = nil) { cli = SlipwayCLI(executable: executable, dataDir: dataDir) }

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let inputs = ActionInputs(name, invocation)
        let metricsText = try inputs.required("metrics", "a metrics JSON file or JSON text, e.g. steps.eval.outputs.metrics")
        var model = try inputs.required("model", "the registered model to compare with")
        var alias = inputs.optional("alias") ?? "production"
        if let at = model.firstIndex(of: "@") {
            alias = String(model[model.index(after: at)...])
            model = String(model[..<at])
        }
        let metric = inputs.optional("metric") ?? "accuracy"
        let threshold = try inputs.number("threshold", default: 0)
        let direction = try inputs.choice("direction", ["higher", "lower"], default: "higher")
        let metrics = try MLAction.metrics(metricsText, inputs: inputs, input: "metrics")
        guard let candidate = MLAction.number(metrics[metric]) else {
            let available = metrics.filter { MLAction.number($0.value) != nil }.keys.sorted()
            throw ActionError(
                "\(name): the metrics have no numeric '\(metric)'; set metric: to one of "
                    + (available.isEmpty ? "(none)" : available.joined(separator: ", "))
            )
        }
        var result = ActionResult()
        result.outputs = ["candidate": MLAction.format(candidate), "baseline": "", "delta": ""]
        let outcome = try await cli.run(["versions", "show", model, alias, "--json"], invocation: invocation, action: name)
        var baseline: Double?
        var baselineVersion = ""
        if outcome.status == 0, let json = outcome.json {
            baselineVersion = (json["version"]).map { "\($0)" } ?? ""
            baseline = MLAction.number(((json["lineage"] as? [String: Any])?["metrics"] as? [String: Any])?[metric])
            if baseline == nil {
                invocation.log("\(model)@\(alias) (version \(baselineVersion)) has no '\(metric)' metric: there is no baseline to beat")
            }
        } else if outcome.errorCode == "not_found" {
            invocation.log("\(model)@\(alias) does not exist yet (\(outcome.errorMessage)): there is no baseline to beat")
        } else {
            throw ActionError("\(name): cannot read \(model)@\(alias): \(outcome.errorMessage)")
        }
        guard let baseline else {
            result.outputs["should_deploy"] = "true"
            invocation.log("\(metric): candidate \(MLAction.format(candidate)), no baseline → deploy")
            return result
        }
        let delta = candidate - baseline
        let improvement = direction == "higher" ? delta : -delta
        let deploy = improvement >= threshold
        result.outputs["baseline"] = MLAction.format(baseline)
        result.outputs["delta"] = MLAction.format(delta)
        result.outputs["should_deploy"] = deploy ? "true" : "false"
        invocation.log(
            "\(metric): candidate \(MLAction.format(candidate)) vs \(model)@\(alias) (version \(baselineVersion)) \(MLAction.format(baseline)): "
                + "delta \(delta >= 0 ? "+" : "")\(MLAction.format(delta)), \(direction) is better, threshold \(MLAction.format(threshold)) → "
                + (deploy ? "deploy" : "keep the baseline"))
        return result
    }
}

/// `slipway/register`: registers a new version of a model (`slipway versions create`), creating the model if needed.
///
/// Inputs: `model`, `artifact` (the model file or folder), `metrics` (optional metrics JSON file: its top-level numbers
/// become the version's metrics), `params` (optional `key=value` lines), `data` (optional `.slipway` pointer of the
/// training data), `alias` (optional: pointed at the new version). Outputs: `version`, `model`.
public struct RegisterAction: BuiltinAction {
    public var name: String { "slipway/register" }
    /// The `slipway` program.
    public let cli: SlipwayCLI
    /// The action, running `executable` with `dataDir` as the default data folder.
    public init(executable: URL, dataDir: URL? = nil) { cli = SlipwayCLI(executable: executable, dataDir: dataDir) }

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let inputs = ActionInputs(name, invocation)
        let model = try inputs.required("model", "the registered model's name")
        let artifact = try inputs.requiredPath("artifact", "the model file or folder")
        var arguments = ["versions", "create", model, "--artifact", artifact.path, "--json"]
        if let text = inputs.optional("metrics") {
            let metrics = try MLAction.metrics(text, inputs: inputs, input: "metrics")
            for (key, value) in metrics.sorted(by: { $0.key < $1.key }) {
                guard let number = MLAction.number(value) else { continue }
                arguments += ["--metric", "\(key)=\(number)"]
            }
        }
        for pair in try inputs.keyValues("params") { arguments += ["--param", "\(pair.key)=\(pair.value)"] }
        if let data = try inputs.optionalPath("data") { arguments += ["--data", data.path] }
        let alias = inputs.optional("alias")
        let created = try await cli.run(["models", "create", model, "--json"], invocation: invocation, action: name)
        if created.status != 0, created.errorCode != "already_exists" {
            throw ActionError("\(name): cannot create the model '\(model)': \(created.errorMessage)")
        }
        let json = try await cli.json(arguments, invocation: invocation, action: name)
        guard let number = MLAction.number(json["version"]) else { throw ActionError("\(name): slipway versions create returned no version") }
        let version = MLAction.format(number)
        if let alias {
            _ = try await cli.json(["alias", "set", model, alias, version, "--json"], invocation: invocation, action: name)
        }
        invocation.log("Registered \(model) version \(version)" + (alias.map { " (\($0))" } ?? ""))
        var result = ActionResult()
        result.outputs = ["version": version, "model": model]
        return result
    }
}

/// `slipway/deploy`: serves a model version as a variant of an endpoint (`slipway deploy`), creating the endpoint if
/// it does not exist yet.
///
/// Inputs: `endpoint`, `variant`, `model` (`MODEL@VERSION` or `MODEL@ALIAS`), one backend — `builtin: true`, `backend`
/// (a URL) or `command` — and `replicas` (optional). Outputs: `variant`, `endpoint`.
public struct DeployAction: BuiltinAction {
    public var name: String { "slipway/deploy" }
    /// The `slipway` program.
    public let cli: SlipwayCLI
    /// The action, running `executable` with `dataDir` as the default data folder.
    public init(executable: URL, dataDir: URL? = nil) { cli = SlipwayCLI(executable: executable, dataDir: dataDir) }

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let inputs = ActionInputs(name, invocation)
        let endpoint = try inputs.required("endpoint", "the endpoint's name")
        let variant = try inputs.required("variant", "the variant's name, e.g. stable or canary")
        let model = try inputs.required("model", "MODEL@VERSION or MODEL@ALIAS")
        guard model.contains("@") else {
            throw ActionError("\(name): the input 'model' is '\(model)'; write MODEL@VERSION or MODEL@ALIAS (e.g. churn@3)")
        }
        let builtin = try inputs.bool("builtin", default: false)
        let backend = inputs.optional("backend")
        let command = inputs.optional("command")
        let chosen = [builtin, backend != nil, command != nil].filter { $0 }.count
        guard chosen == 1 else {
            throw ActionError("\(name): give exactly one backend: builtin: true, backend: URL or command: CMD (\(chosen) given)")
        }
        var arguments = ["deploy", endpoint, "--variant", variant, "--model", model, "--json"]
        if builtin { arguments.append("--builtin") }
        if let backend { arguments += ["--backend", backend] }
        if let command { arguments += ["--command", command] }
        if let replicas = try inputs.integer("replicas", minimum: 1) { arguments += ["--replicas", String(replicas)] }
        let created = try await cli.run(["endpoints", "create", endpoint, "--json"], invocation: invocation, action: name)
        if created.status != 0, created.errorCode != "already_exists" {
            throw ActionError("\(name): cannot create the endpoint '\(endpoint)': \(created.errorMessage)")
        }
        _ = try await cli.json(arguments, invocation: invocation, action: name)
        invocation.log("Deployed \(model) as \(endpoint)/\(variant)")
        var result = ActionResult()
        result.outputs = ["variant": variant, "endpoint": endpoint]
        return result
    }
}

/// `slipway/rollout`: starts a rollout from a YAML file (`slipway rollout start`) and, with `wait: true`, follows it.
///
/// Inputs: `file` (the rollout YAML), `wait` (default false), `poll-seconds` (default 2). Outputs: `name`, `phase`. A
/// rollout that ends (or already is) `Degraded` — aborted or failed analysis — fails the step.
public struct RolloutAction: BuiltinAction {
    public var name: String { "slipway/rollout" }
    /// The `slipway` program.
    public let cli: SlipwayCLI
    /// The action, running `executable` with `dataDir` as the default data folder.
    public init(executable: URL, dataDir: URL? = nil) { cli = SlipwayCLI(executable: executable, dataDir: dataDir) }

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let inputs = ActionInputs(name, invocation)
        let file = try inputs.requiredPath("file", "the rollout YAML file")
        let wait = try inputs.bool("wait", default: false)
        let poll = try inputs.number("poll-seconds", default: 2)
        guard poll > 0 else { throw ActionError("\(name): the input 'poll-seconds' must be greater than 0") }
        var status = try await cli.json(["rollout", "start", "--file", file.path, "--json"], invocation: invocation, action: name)
        guard let rollout = status["name"] as? String else { throw ActionError("\(name): slipway rollout start returned no rollout name") }
        var phase = (status["phase"] as? String) ?? ""
        invocation.log("Rollout \(rollout): \(phase)")
        while wait, phase == "Progressing" || phase == "Paused" {
            do { try await Task.sleep(nanoseconds: UInt64(poll * 1_000_000_000)) } catch { throw ActionError("\(name): cancelled") }
            status = try await cli.json(["rollout", "status", rollout, "--json"], invocation: invocation, action: name)
            let next = (status["phase"] as? String) ?? ""
            if next != phase { invocation.log("Rollout \(rollout): \(next)") }
            phase = next
        }
        if phase == "Degraded" {
            let reason = (status["reason"] as? String).map { ": \($0)" } ?? ""
            throw ActionError("\(name): rollout \(rollout) ended Degraded\(reason)")
        }
        var result = ActionResult()
        result.outputs = ["name": rollout, "phase": phase]
        return result
    }
}
