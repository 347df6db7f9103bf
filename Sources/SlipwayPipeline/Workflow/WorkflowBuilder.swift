import SlipwayCore
import Yams
import SlipwayYAML

/// Builds a `Workflow` from a composed YAML document, reporting every problem to its reader.
final class WorkflowBuilder {
    let reader: WorkflowReader

    init(reader: WorkflowReader) {
        self.reader = reader
    }

    static let workflowKeys = ["name", "run-name", "on", "env", "defaults", "concurrency", "permissions", "jobs"]

    /// The events GitHub Actions knows; others are refused, as GitHub refuses them.
    static let knownEvents = [
        "branch_protection_rule", "check_run", "check_suite", "create", "delete", "deployment", "deployment_status",
        "discussion", "discussion_comment", "fork", "gollum", "issue_comment", "issues", "label", "merge_group",
        "milestone", "page_build", "project", "project_card", "project_column", "public", "pull_request",
        "pull_request_review", "pull_request_review_comment", "pull_request_target", "push", "registry_package",
        "release", "repository_dispatch", "schedule", "status", "watch", "workflow_call", "workflow_dispatch",
        "workflow_run", "image_version",
    ]

    static let pushKeys = ["branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore"]
    static let inputKeys = ["description", "required", "default", "type", "options", "deprecationMessage"]

    /// The whole workflow, or nil when the root is not a mapping.
    func workflow(_ root: Node, file: String) -> Workflow? {
        guard let fields = reader.mapping(root, path: "", allowed: Self.workflowKeys, what: "the workflow") else { return nil }
        var workflow = Workflow(file: file)
        workflow.name = reader.text(fields, "name")
        workflow.runName = reader.template(fields, "run-name")
        if let on = fields["on"] {
            workflow.triggers = triggers(on)
        } else {
            reader.report(
                at: SourceLocation(line: 1, column: 1),
                "the workflow needs 'on:' (the events it runs for), e.g. 'on: [push, workflow_dispatch]'")
        }
        workflow.env = reader.textMapping(fields, "env")
        workflow.defaults = defaults(fields)
        workflow.concurrency = concurrency(fields)
        // `permissions` is accepted and ignored: the local runner has no token to scope.
        if let jobsNode = fields["jobs"] {
            workflow.jobs = jobs(jobsNode)
        } else {
            reader.report(at: SourceLocation(line: 1, column: 1), "the workflow has no 'jobs:'; add at least one job with steps")
        }
        checkNeeds(workflow.jobs, fields: fields)
        return workflow
    }

    // MARK: Triggers

    func triggers(_ node: Node) -> WorkflowTriggers {
        var triggers = WorkflowTriggers()
        func add(_ event: String, _ eventNode: Node, config: Node?) {
            guard Self.knownEvents.contains(event) else {
                var message = "'\(event)' is not an event GitHub Actions knows"
                if let close = Suggestion.closest(to: event, in: Self.knownEvents) { message += "; did you mean '\(close)'?" }
                reader.report(eventNode, message)
                return
            }
            switch event {
            case "push":
                triggers.push = config.flatMap { reader.isNull($0) ? nil : $0 }.map(push) ?? PushTrigger()
            case "workflow_dispatch":
                triggers.workflowDispatch = config.flatMap { reader.isNull($0) ? nil : $0 }.map(dispatch) ?? DispatchTrigger()
            default:
                if !triggers.otherEvents.contains(event) { triggers.otherEvents.append(event) }
            }
        }
        switch node {
        case .scalar(let s) where !reader.isNull(node):
            add(s.string, node, config: nil)
        case .sequence(let sequence):
            if sequence.isEmpty { reader.report(node, "on must name at least one event") }
            for item in sequence {
                guard let event = reader.text(item, path: "on[]") else { continue }
                add(event, item, config: nil)
            }
        case .mapping:
            guard let fields = reader.mapping(node, path: "on", allowed: nil) else { break }
            if fields.entries.isEmpty { reader.report(node, "on must name at least one event") }
            for entry in fields.entries {
                add(entry.key, entry.keyNode, config: entry.value)
            }
        default:
            reader.report(node, "on must be an event name, a list of events or a mapping of events to their settings, got \(reader.describe(node))")
        }
        return triggers
    }

    func push(_ node: Node) -> PushTrigger {
        var trigger = PushTrigger()
        guard let fields = reader.mapping(node, path: "on.push", allowed: Self.pushKeys) else { return trigger }
        func patterns(_ key: String) -> [String]? {
            guard let value = fields[key] else { return nil }
            return reader.textList(value, path: fields.child(key)) ?? []
        }
        trigger.branches = patterns("branches")
        trigger.branchesIgnore = patterns("branches-ignore")
        trigger.tags = patterns("tags")
        trigger.tagsIgnore = patterns("tags-ignore")
        trigger.paths = patterns("paths")
        trigger.pathsIgnore = patterns("paths-ignore")
        for (filter, ignore) in [("branches", "branches-ignore"), ("tags", "tags-ignore"), ("paths", "paths-ignore")]
        where fields.has(filter) && fields.has(ignore) {
            reader.report(
                fields.keyNode(ignore),
                "on.push cannot use both '\(filter)' and '\(ignore)' (GitHub refuses it); use '\(filter)' with '!' patterns to exclude")
        }
        return trigger
    }

    func dispatch(_ node: Node) -> DispatchTrigger {
        var trigger = DispatchTrigger()
        guard let fields = reader.mapping(node, path: "on.workflow_dispatch", allowed: ["inputs"]) else { return trigger }
        guard let inputsNode = fields["inputs"], !reader.isNull(inputsNode),
            let inputs = reader.mapping(inputsNode, path: "on.workflow_dispatch.inputs", allowed: nil)
        else { return trigger }
        for entry in inputs.entries {
            let path = "on.workflow_dispatch.inputs.\(entry.key)"
            if !WorkflowReader.isIdentifier(entry.key) {
                reader.report(
                    entry.keyNode,
                    "'\(entry.key)' is not a valid input name: it must start with a letter or '_' and contain only letters, digits, '-' and '_'")
            }
            var input = DispatchInput(name: entry.key)
            if reader.isNull(entry.value) {
                trigger.inputs.append(input)
                continue
            }
            guard let spec = reader.mapping(entry.value, path: path, allowed: Self.inputKeys) else { continue }
            input.description = reader.text(spec, "description", allowEmpty: true)
            input.required = reader.bool(spec, "required") ?? false
            if let typeNode = spec["type"], let type = reader.text(typeNode, path: spec.child("type")) {
                if let kind = DispatchInput.Kind(rawValue: type) {
                    input.kind = kind
                } else {
                    let kinds = ["string", "boolean", "number", "choice", "environment"]
                    var message = "\(spec.child("type")) must be one of \(kinds.joined(separator: ", ")), got '\(type)'"
                    if let close = Suggestion.closest(to: type, in: kinds) { message += "; did you mean '\(close)'?" }
                    reader.report(typeNode, message)
                }
            }
            if let optionsNode = spec["options"] {
                input.options = reader.textList(optionsNode, path: spec.child("options")) ?? []
                if input.kind != .choice {
                    reader.report(spec.keyNode("options"), "\(spec.child("options")) is only for inputs of type 'choice'")
                }
            }
            if input.kind == .choice && input.options.isEmpty && !spec.has("options") {
                reader.report(spec.keyNode("type") ?? entry.keyNode, "\(path) has type 'choice' but no 'options'; list the choices")
            }
            if let defaultNode = spec["default"], !reader.isNull(defaultNode), case .scalar(let s) = defaultNode {
                input.defaultValue = s.string
                switch input.kind {
                case .boolean:
                    if reader.boolValue(defaultNode) == nil && !["true", "false"].contains(s.string) {
                        reader.report(defaultNode, "\(spec.child("default")) of a boolean input must be true or false, got '\(s.string)'")
                    }
                case .number:
                    if WorkflowReader.coreNumber(s.string.workflowTrimmed) == nil {
                        reader.report(defaultNode, "\(spec.child("default")) of a number input must be a number, got '\(s.string)'")
                    }
                case .choice:
                    if !input.options.isEmpty && !input.options.contains(s.string) {
                        reader.report(
                            defaultNode,
                            "\(spec.child("default")) '\(s.string)' is not one of the options (\(input.options.joined(separator: ", ")))")
                    }
                case .string, .environment:
                    reader.checkExpressions(in: s.string, node: defaultNode, path: spec.child("default"))
                }
            } else if let defaultNode = spec["default"], !reader.isNull(defaultNode) {
                reader.report(defaultNode, "\(spec.child("default")) must be a single value, got \(reader.describe(defaultNode))")
            }
            trigger.inputs.append(input)
        }
        return trigger
    }

    // MARK: Shared settings

    /// `defaults: {run: {shell, working-directory}}`.
    func defaults(_ fields: YAMLFields) -> RunDefaults {
        var defaults = RunDefaults()
        guard let outer = reader.mapping(fields, "defaults", allowed: ["run"]),
            let run = reader.mapping(outer, "run", allowed: ["shell", "working-directory"])
        else { return defaults }
        defaults.shell = reader.text(run, "shell")
        defaults.workingDirectory = reader.template(run, "working-directory")
        return defaults
    }

    /// `concurrency:` as a group name or `{group, cancel-in-progress}`.
    func concurrency(_ fields: YAMLFields) -> ConcurrencySpec? {
        guard let node = fields["concurrency"] else { return nil }
        let path = fields.child("concurrency")
        if case .scalar = node {
            guard let group = reader.template(node, path: path) else { return nil }
            return ConcurrencySpec(group: group)
        }
        guard let spec = reader.mapping(node, path: path, allowed: ["group", "cancel-in-progress"]) else { return nil }
        guard let group = reader.template(spec, "group") else {
            if !spec.has("group") { reader.report(node, "\(path) needs 'group', the name of the concurrency group") }
            return nil
        }
        guard let cancel = reader.boolOrExpression(spec, "cancel-in-progress") else { return ConcurrencySpec(group: group) }
        if cancel == "true" || cancel == "false" { return ConcurrencySpec(group: group, cancelInProgress: cancel == "true") }
        return ConcurrencySpec(group: group, cancelInProgressExpression: cancel)
    }
}

extension String {
    var workflowTrimmed: String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
