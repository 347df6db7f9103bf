import Foundation

/// What every job of one run shares: the configuration, the record, the output, the masker and the contexts that do not
/// depend on the job.
final class RunEnvironment: Sendable {
    let configuration: RunConfiguration
    let workflow: Workflow
    let runID: String
    let runNumber: Int
    let store: any RunStore
    let output: LiveOutput
    let masker: SecretMasker
    let recorder: RunRecorder
    /// `<data folder>/runs/<id>`.
    let runFolder: URL
    /// `RUNNER_TEMP`: the run's temporary files (scripts, env files), removed when the run ends.
    let temp: URL
    let git: GitInfo
    /// Cancelled when the run is cancelled.
    let runScope: CancelScope
    /// `::debug::` shown.
    let debug: Bool
    /// The typed `inputs` context.
    let inputs: ExpressionObject
    let vars: [String: String]
    let pool: RunnerPool
    let actor: String
    /// The run's part of the `github` context.
    private let githubBase: ExpressionObject

    init(
        configuration: RunConfiguration, workflow: Workflow, runID: String, runNumber: Int, store: any RunStore, output: LiveOutput,
        masker: SecretMasker, recorder: RunRecorder, runFolder: URL, git: GitInfo, inputs: ExpressionObject, vars: [String: String],
        pool: RunnerPool, runScope: CancelScope
    ) {
        self.configuration = configuration
        self.workflow = workflow
        self.runID = runID
        self.runNumber = runNumber
        self.store = store
        self.output = output
        self.masker = masker
        self.recorder = recorder
        self.runFolder = runFolder
        self.temp = runFolder.appendingPathComponent("tmp")
        self.git = git
        self.runScope = runScope
        self.debug =
            configuration.verbose || configuration.secrets["ACTIONS_STEP_DEBUG"]?.lowercased() == "true"
            || vars["ACTIONS_STEP_DEBUG"]?.lowercased() == "true"
        self.inputs = inputs
        self.vars = vars
        self.pool = pool
        let actor = configuration.actor ?? configuration.baseEnvironment["USER"] ?? NSUserName()
        self.actor = actor
        let repository = git.repository ?? "local/\(configuration.project.standardizedFileURL.lastPathComponent)"
        let ref = git.branch.map { "refs/heads/\($0)" } ?? git.tag.map { "refs/tags/\($0)" } ?? ""
        githubBase = Self.githubBase(
            configuration: configuration, workflow: workflow, git: git, runID: runID, runNumber: runNumber, actor: actor, repository: repository,
            sha: git.sha ?? String(repeating: "0", count: 40), ref: ref, refName: git.branch ?? git.tag ?? "",
            defaultInputs: Self.defaultInputTexts(workflow))
    }

    var repository: String {
        git.repository ?? "local/\(configuration.project.standardizedFileURL.lastPathComponent)"
    }

    var sha: String { git.sha ?? String(repeating: "0", count: 40) }

    var ref: String {
        if let branch = git.branch { return "refs/heads/\(branch)" }
        if let tag = git.tag { return "refs/tags/\(tag)" }
        return ""
    }

    var refName: String { git.branch ?? git.tag ?? "" }

    /// The `github` context for a job and step: the run's part, built once, plus the job, action and workspace.
    func githubContext(job: String, action: String, workspace: String) -> ExpressionValue {
        var github = githubBase
        github["workspace"] = .string(workspace)
        github["job"] = .string(job)
        github["action"] = .string(action)
        return .object(github)
    }

    /// What the `github` context holds for every job of the run.
    private static func githubBase(
        configuration: RunConfiguration, workflow: Workflow, git: GitInfo, runID: String, runNumber: Int, actor: String,
        repository: String, sha: String, ref: String, refName: String, defaultInputs: [String: String]
    ) -> ExpressionObject {
        var event = ExpressionObject()
        if configuration.event == "workflow_dispatch" {
            event["inputs"] = .strings(configuration.inputs.merging(defaultInputs) { given, _ in given })
            event["ref"] = .string(ref)
        } else if configuration.event == "push" {
            event["ref"] = .string(ref)
            event["before"] = .string(git.parentSHA ?? String(repeating: "0", count: 40))
            event["after"] = .string(sha)
            if let message = git.commitMessage {
                var author = ExpressionObject()
                author["name"] = .string(git.authorName ?? "")
                author["email"] = .string(git.authorEmail ?? "")
                var commit = ExpressionObject()
                commit["id"] = .string(sha)
                commit["message"] = .string(message)
                commit["timestamp"] = .string(git.commitTimestamp ?? "")
                commit["author"] = .object(author)
                event["head_commit"] = .object(commit)
            }
        }
        var repo = ExpressionObject()
        repo["full_name"] = .string(repository)
        repo["name"] = .string(String(repository.split(separator: "/").last ?? ""))
        event["repository"] = .object(repo)
        var github = ExpressionObject()
        github["event_name"] = .string(configuration.event)
        github["event"] = .object(event)
        github["sha"] = .string(sha)
        github["ref"] = .string(ref)
        github["ref_name"] = .string(refName)
        github["ref_type"] = .string(git.branch != nil ? "branch" : git.tag != nil ? "tag" : "")
        github["head_ref"] = .string("")
        github["base_ref"] = .string("")
        github["repository"] = .string(repository)
        github["repository_owner"] = .string(String(repository.split(separator: "/").first ?? ""))
        github["workspace"] = .string("")
        github["run_id"] = .string(runID)
        github["run_number"] = .string(String(runNumber))
        github["run_attempt"] = .string("1")
        github["actor"] = .string(actor)
        github["triggering_actor"] = .string(actor)
        github["job"] = .string("")
        github["action"] = .string("")
        github["workflow"] = .string(workflow.name ?? workflow.file)
        github["workflow_ref"] = .string("\(repository)/\(workflow.file)@\(ref)")
        github["server_url"] = .string("https://github.com")
        github["api_url"] = .string("https://api.github.com")
        github["token"] = .string("")
        return github
    }

    /// Declared dispatch inputs' defaults as text (for `github.event.inputs`).
    private static func defaultInputTexts(_ workflow: Workflow) -> [String: String] {
        var map: [String: String] = [:]
        for input in workflow.triggers.workflowDispatch?.inputs ?? [] { map[input.name] = input.defaultValue ?? "" }
        return map
    }

    /// The contexts every expression of the run can see.
    func baseContexts(job: String, workspace: String) -> [String: ExpressionValue] {
        [
            "github": githubContext(job: job, action: "", workspace: workspace), "vars": .strings(vars), "secrets": .strings(configuration.secrets),
            "inputs": .object(inputs),
        ]
    }

    /// `hashFiles` over a workspace.
    func hashFiles(workspace: URL) -> @Sendable ([String]) throws -> String {
        { patterns in try HashFiles.hash(patterns, workspace: workspace) }
    }
}
