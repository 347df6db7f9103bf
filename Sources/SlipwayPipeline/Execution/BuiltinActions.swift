public import Foundation

/// What a built-in action gets when a `uses:` step runs.
public struct ActionInvocation: Sendable {
    /// `with:` values, rendered, by name.
    public var inputs: [String: String]
    /// The job's workspace before the step.
    public var workspace: URL
    /// The project folder `slipway run` started in.
    public var project: URL
    /// The run's folder (for worktrees and other files the run owns).
    public var runFolder: URL
    /// A folder for this step's temporary files.
    public var temp: URL
    /// The job key, for per-job folders.
    public var jobKey: String
    public var git: GitInfo
    /// The step's environment.
    public var environment: [String: String]
    /// Writes a line to the step's log.
    public var log: @Sendable (String) -> Void

    public init(
        inputs: [String: String], workspace: URL, project: URL, runFolder: URL, temp: URL, jobKey: String, git: GitInfo, environment: [String: String],
        log: @escaping @Sendable (String) -> Void
    ) {
        self.inputs = inputs
        self.workspace = workspace
        self.project = project
        self.runFolder = runFolder
        self.temp = temp
        self.jobKey = jobKey
        self.git = git
        self.environment = environment
        self.log = log
    }
}

/// What a built-in action changes for the steps after it.
public struct ActionResult: Sendable {
    /// `steps.<id>.outputs`.
    public var outputs: [String: String] = [:]
    /// Folders to put first on `PATH`.
    public var pathAdditions: [String] = []
    /// Variables for later steps (as `GITHUB_ENV` would set them).
    public var environment: [String: String] = [:]
    /// A new workspace for the job (checkout).
    public var workspace: URL?

    public init() {}
}

/// An action failure, with a message for the user.
public struct ActionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// A `uses:` action built into Slipway.
public protocol BuiltinAction: Sendable {
    /// The `uses:` name without a version (`actions/checkout`).
    var name: String { get }
    /// Runs the action.
    func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult
}

/// The table of built-in actions that `uses:` may name.
public struct ActionRegistry: Sendable {
    /// Every action Slipway supports or will support, for error messages.
    public static let supported = [
        "actions/checkout", "actions/setup-python", "actions/upload-artifact", "actions/download-artifact", "slipway/validate-data",
        "slipway/train", "slipway/evaluate", "slipway/compare", "slipway/register", "slipway/deploy", "slipway/rollout",
    ]

    private var actions: [String: any BuiltinAction]

    /// The registry with the given actions.
    public init(_ actions: [any BuiltinAction]) {
        var table: [String: any BuiltinAction] = [:]
        for action in actions { table[action.name.lowercased()] = action }
        self.actions = table
    }

    /// The actions of this version: `actions/checkout` and `actions/setup-python`.
    public static let standard = ActionRegistry([CheckoutAction(), SetupPythonAction()])

    /// Adds or replaces an action.
    public mutating func register(_ action: any BuiltinAction) { actions[action.name.lowercased()] = action }

    /// The action a `uses:` reference names (`actions/checkout@v4`).
    /// - Throws: a message listing what is supported when the reference names anything else.
    public func action(for reference: String) throws(ActionError) -> any BuiltinAction {
        let trimmed = reference.trimmingCharacters(in: .whitespaces)
        let name = String(trimmed.split(separator: "@", maxSplits: 1).first ?? "").lowercased()
        if let action = actions[name] { return action }
        let available = actions.keys.sorted()
        if Self.supported.contains(name) {
            throw ActionError(
                "uses: \(trimmed) is not available in this version of Slipway; available now: \(available.joined(separator: ", "))")
        }
        throw ActionError(
            "uses: \(trimmed) is not supported: Slipway runs only its built-in actions (\(Self.supported.joined(separator: ", "))); "
                + "available now: \(available.joined(separator: ", ")). Replace the step with a run: step")
    }
}

/// `actions/checkout`: the job's workspace becomes a clean checkout of the run's commit.
///
/// In a git repository it is a fresh clone (sharing the project's objects) of the commit `HEAD` pointed at when the
/// run started, in the run's folder, so uncommitted changes are not part of it. `with: path:` puts it in a sub-folder of
/// that workspace. Outside a git repository the project folder itself stays the workspace.
public struct CheckoutAction: BuiltinAction {
    public var name: String { "actions/checkout" }
    public init() {}

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        var result = ActionResult()
        guard let root = invocation.git.root, let sha = invocation.git.sha else {
            invocation.log("\(invocation.project.path) is not a git repository with a commit: the project folder is the workspace")
            result.workspace = invocation.project
            return result
        }
        let base = invocation.runFolder.appendingPathComponent("workspace").appendingPathComponent(invocation.jobKey.slug)
        var target = base
        if let path = invocation.inputs["path"], !path.isEmpty {
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw ActionError("actions/checkout: path '\(path)' must stay inside the workspace")
            }
            target = base.appendingPathComponent(path)
        }
        try? FileManager.default.removeItem(at: target)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw ActionError("actions/checkout: cannot create \(target.path): \(error.localizedDescription)")
        }
        invocation.log("Checking out \(sha) into \(target.path)")
        guard
            GitInfo.git(["clone", "--quiet", "--shared", "--no-checkout", root, target.path], in: invocation.project) != nil
                || FileManager.default.fileExists(atPath: target.appendingPathComponent(".git").path)
        else { throw ActionError("actions/checkout: git clone of \(root) failed") }
        guard runGit(["checkout", "--quiet", "--detach", sha], in: target) else {
            throw ActionError("actions/checkout: cannot check out \(sha) in \(target.path)")
        }
        result.workspace = invocation.inputs["path"].map { _ in base } ?? target
        if !FileManager.default.fileExists(atPath: base.path) { result.workspace = target }
        return result
    }

    private func runGit(_ arguments: [String], in directory: URL) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// `actions/setup-python`: checks that the requested Python exists on this machine and puts it first on `PATH`.
///
/// `python-version: "3.11"` is found as `python3.11` on `PATH`, or as `python3` when `python3 --version` says 3.11.
/// `3`, `3.x` or no version accept any `python3`. Nothing is downloaded: a version that is not installed is an error.
/// Outputs: `python-version` (the full version) and `python-path`.
public struct SetupPythonAction: BuiltinAction {
    public var name: String { "actions/setup-python" }
    public init() {}

    public func run(_ invocation: ActionInvocation) async throws(ActionError) -> ActionResult {
        let requested = (invocation.inputs["python-version"] ?? "").trimmingCharacters(in: .whitespaces)
        var wanted = requested.hasSuffix(".x") ? String(requested.dropLast(2)) : requested
        if wanted.lowercased().hasPrefix("python") { wanted = String(wanted.dropFirst(6)) }
        let path = invocation.environment["PATH"] ?? "/usr/bin:/bin"
        var candidates = ["python3"]
        if !wanted.isEmpty, wanted != "3" {
            let parts = wanted.split(separator: ".")
            if parts.count >= 2 { candidates.insert("python\(parts[0]).\(parts[1])", at: 0) }
        }
        var tried: [String] = []
        for candidate in candidates {
            let program = StepProcess.resolve(candidate, path: path)
            guard program.hasPrefix("/"), FileManager.default.isExecutableFile(atPath: program) else { continue }
            guard let version = Self.version(of: program) else { continue }
            tried.append("\(candidate) (\(version))")
            guard wanted.isEmpty || version == wanted || version.hasPrefix(wanted + ".") else { continue }
            let bin = invocation.temp.appendingPathComponent("python-\(version)").appendingPathComponent("bin")
            do {
                try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
                for link in ["python", "python3"] {
                    try? FileManager.default.removeItem(at: bin.appendingPathComponent(link))
                    try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(link).path, withDestinationPath: program)
                }
            } catch {
                throw ActionError("actions/setup-python: cannot prepare \(bin.path): \(error.localizedDescription)")
            }
            invocation.log("Using Python \(version) at \(program)")
            var result = ActionResult()
            result.pathAdditions = [bin.path]
            result.outputs = ["python-version": version, "python-path": program]
            return result
        }
        let found = tried.isEmpty ? "no python3 on PATH" : "found \(tried.joined(separator: ", "))"
        throw ActionError(
            "actions/setup-python: Python \(requested.isEmpty ? "3" : requested) is not installed on this machine (\(found)); "
                + "install it (e.g. python\(wanted)) or change python-version")
    }

    /// `3.11.4` from `python --version`.
    static func version(of program: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("Python ") else { return nil }
        return String(text.dropFirst(7))
    }
}
