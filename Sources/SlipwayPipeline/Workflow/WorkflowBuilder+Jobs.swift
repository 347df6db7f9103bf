import Yams
import SlipwayYAML

extension WorkflowBuilder {
    static let jobKeys = [
        "name", "needs", "if", "runs-on", "environment", "env", "defaults", "outputs", "strategy", "concurrency",
        "timeout-minutes", "continue-on-error", "steps", "services", "container", "cache", "permissions", "uses", "with", "secrets",
    ]
    static let stepKeys = ["id", "name", "if", "run", "uses", "with", "env", "shell", "working-directory", "continue-on-error", "timeout-minutes"]

    func jobs(_ node: Node) -> [Job] {
        guard let fields = reader.mapping(node, path: "jobs", allowed: nil) else { return [] }
        if fields.entries.isEmpty {
            reader.report(node, "the workflow has no jobs; add at least one job under 'jobs:'")
        }
        var jobs: [Job] = []
        for entry in fields.entries {
            if let job = job(entry.key, keyNode: entry.keyNode, value: entry.value) { jobs.append(job) }
        }
        return jobs
    }

    func job(_ id: String, keyNode: Node, value: Node) -> Job? {
        let path = "jobs.\(id)"
        if !WorkflowReader.isIdentifier(id) {
            reader.report(
                keyNode,
                "'\(id)' is not a valid job id: it must start with a letter or '_' and contain only letters, digits, '-' and '_'")
        }
        guard let fields = reader.mapping(value, path: path, allowed: Self.jobKeys) else { return nil }
        var job = Job(id: id, location: reader.location(keyNode))
        job.name = reader.template(fields, "name")
        if let needs = fields["needs"] {
            job.needs = reader.textList(needs, path: fields.child("needs")) ?? []
        }
        job.condition = reader.condition(fields, "if")
        if let runsOn = fields["runs-on"] {
            job.runsOn = self.runsOn(runsOn, path: fields.child("runs-on"))
        } else if !fields.has("uses") {
            reader.report(keyNode, "\(path) needs 'runs-on', the labels of the runner to use (e.g. 'runs-on: ubuntu-latest')")
        }
        job.environment = environment(fields)
        job.env = reader.textMapping(fields, "env")
        job.defaults = defaults(fields)
        job.outputs = reader.textMapping(fields, "outputs")
        if let strategy = fields["strategy"] {
            job.strategy = self.strategy(strategy, path: fields.child("strategy"))
        }
        job.concurrency = concurrency(fields)
        job.timeoutMinutes = reader.minutesOrExpression(fields, "timeout-minutes")
        job.continueOnError = reader.boolOrExpression(fields, "continue-on-error")
        job.cache = cache(fields)
        for key in ["services", "container"] {
            if let node = fields.keyNode(key) {
                reader.report(
                    node,
                    "\(fields.child(key)) is not supported by Slipway's local runner (jobs run directly on the runner); "
                        + "start the service in a step instead, or remove '\(key)'"
                )
            }
        }
        if let node = fields.keyNode("uses") {
            reader.report(
                node, "\(path).uses (calling a reusable workflow) is not supported by Slipway; copy the called workflow's jobs into this one")
        }
        for key in ["with", "secrets"] where !fields.has("uses") {
            if let node = fields.keyNode(key) {
                reader.report(node, "\(fields.child(key)) is only for jobs that call a reusable workflow with 'uses'")
            }
        }
        if let stepsNode = fields["steps"] {
            job.steps = steps(stepsNode, path: fields.child("steps"))
        } else if !fields.has("uses") {
            reader.report(keyNode, "\(path) has no 'steps'; add at least one step with 'run' or 'uses'")
        }
        return job
    }

    /// `runs-on:` as a label, a list of labels, or `{group, labels}` (Slipway has no runner groups:
    /// the group is accepted and the labels are used).
    func runsOn(_ node: Node, path: String) -> [String] {
        if case .mapping = node {
            guard let fields = reader.mapping(node, path: path, allowed: ["group", "labels"]) else { return [] }
            _ = reader.template(fields, "group")
            guard let labels = fields["labels"] else {
                if !fields.has("group") { reader.report(node, "\(path) needs 'labels' or 'group'") }
                return []
            }
            return reader.textList(labels, path: fields.child("labels"), checkTemplates: true) ?? []
        }
        return reader.textList(node, path: path, checkTemplates: true) ?? []
    }

    /// `environment:` as a name or `{name, url}`.
    func environment(_ fields: YAMLFields) -> EnvironmentRef? {
        guard let node = fields["environment"] else { return nil }
        let path = fields.child("environment")
        if case .scalar = node {
            return reader.template(node, path: path).map { EnvironmentRef(name: $0) }
        }
        guard let spec = reader.mapping(node, path: path, allowed: ["name", "url"]) else { return nil }
        guard let name = reader.template(spec, "name") else {
            if !spec.has("name") { reader.report(node, "\(path) needs 'name', the environment to deploy to") }
            return nil
        }
        return EnvironmentRef(name: name, url: reader.template(spec, "url"))
    }

    /// Slipway's `cache: {inputs: [globs], outputs: [paths]}`.
    func cache(_ fields: YAMLFields) -> JobCache? {
        guard let spec = reader.mapping(fields, "cache", allowed: ["inputs", "outputs"]) else { return nil }
        var cache = JobCache()
        if let inputs = spec["inputs"] { cache.inputs = reader.textList(inputs, path: spec.child("inputs"), checkTemplates: true) ?? [] }
        if let outputs = spec["outputs"] { cache.outputs = reader.textList(outputs, path: spec.child("outputs"), checkTemplates: true) ?? [] }
        if cache.inputs.isEmpty && !spec.has("inputs") {
            reader.report(spec.node, "\(spec.path) needs 'inputs', the globs of the files the job reads")
        }
        return cache
    }

    // MARK: Strategy

    func strategy(_ node: Node, path: String) -> Strategy? {
        guard let fields = reader.mapping(node, path: path, allowed: ["matrix", "fail-fast", "max-parallel"]) else { return nil }
        let failFast = reader.bool(fields, "fail-fast") ?? true
        let maxParallel = reader.integer(fields, "max-parallel", in: 1...10_000)
        guard let matrixNode = fields["matrix"] else {
            reader.report(node, "\(path) needs 'matrix'")
            return nil
        }
        guard let matrix = matrix(matrixNode, path: fields.child("matrix")) else { return nil }
        return Strategy(matrix: matrix, failFast: failFast, maxParallel: maxParallel)
    }

    func matrix(_ node: Node, path: String) -> MatrixSpec? {
        if case .scalar(let s) = node, !reader.isNull(node) {
            guard s.string.contains("${{") else {
                reader.report(
                    node, "\(path) must be a mapping of dimensions to lists of values, or one ${{ }} expression, got \(reader.describe(node))")
                return nil
            }
            reader.checkExpressions(in: s.string, node: node, path: path)
            return .expression(s.string)
        }
        guard let fields = reader.mapping(node, path: path, allowed: nil) else { return nil }
        var dimensions: [(name: String, values: [ExpressionValue])] = []
        var include: [ExpressionObject] = []
        var exclude: [ExpressionObject] = []
        var ok = true
        for entry in fields.entries {
            let entryPath = "\(path).\(entry.key)"
            switch entry.key {
            case "include", "exclude":
                guard let objects = matrixObjects(entry.value, path: entryPath) else {
                    ok = false
                    continue
                }
                if entry.key == "include" { include = objects } else { exclude = objects }
            default:
                if case .scalar(let s) = entry.value, s.string.contains("${{") {
                    reader.checkExpressions(in: s.string, node: entry.value, path: entryPath)
                    dimensions.append((entry.key, [.string(s.string)]))
                    continue
                }
                guard case .sequence(let sequence) = entry.value else {
                    reader.report(entry.value, "\(entryPath) must be a list of values, got \(reader.describe(entry.value))")
                    ok = false
                    continue
                }
                if sequence.isEmpty {
                    reader.report(entry.value, "\(entryPath) has no values; a matrix dimension needs at least one")
                    ok = false
                    continue
                }
                guard case .array(let values)? = reader.expressionValue(entry.value, path: entryPath) else {
                    ok = false
                    continue
                }
                dimensions.append((entry.key, values))
            }
        }
        if dimensions.isEmpty && include.isEmpty && ok {
            reader.report(node, "\(path) has no dimensions and no 'include'; it would run no jobs")
            return nil
        }
        // Exclude entries must name the matrix's dimensions, as GitHub checks.
        if let excludeNode = fields["exclude"], case .sequence(let items) = excludeNode {
            let names = Set(dimensions.map { $0.name.lowercased() })
            let hasExpression = dimensions.contains { $0.values.contains { $0.isExpressionText } }
            for (object, item) in zip(exclude, items) where !hasExpression {
                for key in object.keys where !names.contains(key.lowercased()) {
                    reader.report(item, "\(path).exclude names '\(key)', which is not a dimension of the matrix")
                }
            }
        }
        guard ok else { return nil }
        let spec = MatrixSpec.literal(dimensions: dimensions, include: include, exclude: exclude)
        let literal =
            !dimensions.contains { $0.values.contains { $0.containsExpressionText } }
            && !include.contains { ExpressionValue.object($0).containsExpressionText }
            && !exclude.contains { ExpressionValue.object($0).containsExpressionText }
        if literal {
            do throws(ExpressionError) {
                _ = try MatrixExpansion.expand(dimensions: dimensions, include: include, exclude: exclude)
            } catch {
                reader.report(node, "\(path): \(error.message)")
                return nil
            }
        }
        return spec
    }

    /// `include` or `exclude`: a list of mappings.
    func matrixObjects(_ node: Node, path: String) -> [ExpressionObject]? {
        guard case .sequence(let sequence) = node else {
            if case .scalar(let s) = node, s.string.contains("${{") {
                reader.report(
                    node,
                    "\(path) as one expression is not supported by Slipway; "
                        + "make the whole matrix one expression ('matrix: ${{ fromJSON(…) }}') instead"
                )
            } else {
                reader.report(node, "\(path) must be a list of mappings, got \(reader.describe(node))")
            }
            return nil
        }
        var objects: [ExpressionObject] = []
        for (index, item) in sequence.enumerated() {
            guard case .mapping = item else {
                reader.report(item, "\(path)[\(index)] must be a mapping of matrix keys to values, got \(reader.describe(item))")
                return nil
            }
            guard case .object(let object)? = reader.expressionValue(item, path: "\(path)[\(index)]") else { return nil }
            objects.append(object)
        }
        return objects
    }

    // MARK: Steps

    func steps(_ node: Node, path: String) -> [Step] {
        guard case .sequence(let sequence) = node else {
            reader.report(node, "\(path) must be a list of steps, got \(reader.describe(node))")
            return []
        }
        if sequence.isEmpty {
            reader.report(node, "\(path) is empty; a job needs at least one step")
        }
        var steps: [Step] = []
        var ids: [String: SourceLocation] = [:]
        for (index, item) in sequence.enumerated() {
            let stepPath = "\(path)[\(index)]"
            guard let fields = reader.mapping(item, path: stepPath, allowed: Self.stepKeys, what: "step \(index + 1) of \(path)") else { continue }
            var step = Step(location: reader.location(item))
            if let idNode = fields["id"], let id = reader.text(idNode, path: fields.child("id")) {
                if !WorkflowReader.isIdentifier(id) {
                    reader.report(
                        idNode,
                        "'\(id)' is not a valid step id: it must start with a letter or '_' and contain only letters, digits, '-' and '_'")
                } else if let first = ids[id.lowercased()] {
                    reader.report(idNode, "the step id '\(id)' is used twice in this job (first at line \(first.line)); step ids must be unique")
                } else {
                    ids[id.lowercased()] = reader.location(idNode)
                }
                step.id = id
            }
            step.name = reader.template(fields, "name")
            step.condition = reader.condition(fields, "if")
            step.run = reader.template(fields, "run")
            step.uses = reader.text(fields, "uses")
            switch (fields.has("run"), fields.has("uses")) {
            case (true, true):
                reader.report(fields.keyNode("uses"), "\(stepPath) has both 'run' and 'uses'; a step does one of them, split it into two steps")
            case (false, false):
                reader.report(item, "\(stepPath) needs 'run' (a script) or 'uses' (an action)")
            default:
                break
            }
            step.with = reader.textMapping(fields, "with")
            if fields.has("with") && !fields.has("uses") {
                reader.report(fields.keyNode("with"), "\(fields.child("with")) is only for steps with 'uses'")
            }
            step.env = reader.textMapping(fields, "env")
            step.shell = reader.template(fields, "shell")
            step.workingDirectory = reader.template(fields, "working-directory")
            step.continueOnError = reader.boolOrExpression(fields, "continue-on-error")
            step.timeoutMinutes = reader.minutesOrExpression(fields, "timeout-minutes")
            steps.append(step)
        }
        return steps
    }
}

extension ExpressionValue {
    /// A string holding a `${{ }}` expression.
    var isExpressionText: Bool {
        if case .string(let text) = self { return text.contains("${{") }
        return false
    }

    /// Whether any string inside holds a `${{ }}` expression.
    var containsExpressionText: Bool {
        switch self {
        case .string(let text): text.contains("${{")
        case .array(let items): items.contains { $0.containsExpressionText }
        case .object(let object): object.entries.contains { $0.value.containsExpressionText }
        case .null, .bool, .number: false
        }
    }
}
