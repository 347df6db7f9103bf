import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayPipeline
import SlipwayServer

/// The options of `slipway run` that `slipway runs rerun` takes too.
struct RunOptions: ParsableArguments {
    @Option(name: .long, help: "A secret whose value is in the environment variable of that name (repeatable).") var secret: [String] = []
    @Option(name: .long, help: "Jobs run at once on this machine (default: the number of cores).") var parallel: Int?
    @Option(name: .long, help: "A label added to the local runner's detected ones (repeatable).") var label: [String] = []
    @Option(name: .long, help: "Seconds between SIGINT and SIGKILL when a step is cancelled.") var cancelGrace: Double = 7.5
    @Flag(name: .long, help: "Show ::debug:: lines.") var verbose = false
    @Flag(name: .long, help: "Neither use nor store cached job results (jobs with cache:).") var noCache = false
    @Option(name: .long, help: "Run this job even when its cached result matches (a job id or leg name; repeatable).") var force: [String] = []
    @Flag(
        name: .long,
        help: "Run every job on remote runners (`slipway runner`) of --server, none on this machine. Without it, only jobs whose runs-on labels this machine lacks go to them."
    ) var remoteOnly = false
}

/// How a run started from the command line is set up, in one place for `slipway run` and `slipway runs rerun`.
///
/// Setting up happens in two steps. `init` checks the options, finds the project and the data folder and reads the
/// secrets given through the environment; it opens nothing, so a command can still refuse its arguments (an unknown
/// workflow) first. ``launcher()`` then builds what every run of the invocation shares: the standard configuration
/// (`RunConfiguration.standard`: stored secrets, approvals and the job cache, the built-in actions, the steps' environment
/// with this `slipway` first on `PATH`, the remote runners), with the options applied, plus the live output, the run
/// store, and the cancellation by SIGINT and SIGTERM.
struct RunSetup {
    /// The project folder: the current folder.
    let project: URL
    /// The data folder, absolute.
    let dataDir: URL
    let options: RunOptions
    /// `--json`: the live output goes to stderr, the result to stdout.
    let json: Bool
    /// The environment of this process.
    let environment: [String: String]
    /// Secrets from the environment: every `SLIPWAY_SECRET_<NAME>` and each `--secret NAME`.
    let environmentSecrets: [String: String]
    /// The control plane whose remote runners take jobs (`--server` or `$SLIPWAY_SERVER`), if any.
    let controlPlane: ControlPlane?

    /// Checks the options and reads the secrets given through the environment.
    /// - Throws: `GenericError(.invalidArgument)` for a bad option or a `--secret` whose variable is not set.
    init(global: GlobalOptions, options: RunOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let parallel = options.parallel, parallel < 1 { throw GenericError(.invalidArgument, "--parallel must be at least 1") }
        guard options.cancelGrace >= 0, options.cancelGrace.isFinite else {
            throw GenericError(.invalidArgument, "--cancel-grace must be a number of seconds ≥ 0")
        }
        var secrets: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("SLIPWAY_SECRET_") && name.count > 15 {
            secrets[String(name.dropFirst(15))] = value
        }
        for name in options.secret {
            guard let value = environment[name] else {
                throw GenericError(.invalidArgument, "--secret \(name): the environment variable \(name) is not set (export it first)")
            }
            secrets[name] = value
        }
        let project = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var dataDir = try global.configuration().dataDir
        if !dataDir.path.hasPrefix("/") { dataDir = project.appendingPathComponent(dataDir.path) }
        self.project = project
        self.dataDir = dataDir
        self.options = options
        self.json = global.json
        self.environment = environment
        self.environmentSecrets = secrets
        if let url = global.server ?? environment["SLIPWAY_SERVER"].flatMap({ $0.isEmpty ? nil : $0 }) {
            controlPlane = try ControlPlane(baseURL: url, token: global.token ?? environment["SLIPWAY_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        } else {
            guard !options.remoteOnly else {
                throw GenericError(.invalidArgument, "--remote-only needs the server whose runners take the jobs: pass --server URL or set SLIPWAY_SERVER")
            }
            controlPlane = nil
        }
    }

    /// Reads the stored secrets and builds what the runs of this invocation share; from here on SIGINT and SIGTERM
    /// cancel the current run instead of ending the process.
    /// - Throws: when the secret store cannot be opened (a wrong master key) or the job cache cannot be created.
    func launcher() throws -> Launcher {
        var base = try RunConfiguration.standard(
            project: project, dataDir: dataDir, secrets: environmentSecrets, executable: Self.executable(), environment: environment,
            cache: !options.noCache, force: Set(options.force),
            dispatcher: controlPlane.map { ServerJobDispatcher(plane: $0, project: project, dataDir: dataDir) }, remoteOnly: options.remoteOnly)
        base.parallelism = options.parallel
        base.extraLabels = options.label
        base.cancelGrace = .milliseconds(Int64(options.cancelGrace * 1000))
        base.verbose = options.verbose
        return Launcher(
            base: base, live: LiveOutput(handle: json ? .standardError : .standardOutput, verbose: options.verbose),
            store: FileRunStore(dataDir: dataDir), signals: SignalCancellation())
    }

    /// This program's own executable (for steps and actions that run `slipway`).
    static func executable() -> URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }

    /// Runs workflows with what ``RunSetup/launcher()`` built.
    struct Launcher {
        /// What every run of the invocation shares (`RunConfiguration.standard` with the options applied): secrets,
        /// approvals and the job cache, the built-in actions, the steps' environment, the remote runners.
        let base: RunConfiguration
        let live: LiveOutput
        let store: FileRunStore
        let signals: SignalCancellation

        /// The configuration of one run.
        func configuration(event: String, inputs: [String: String]) -> RunConfiguration {
            var configuration = base
            configuration.event = event
            configuration.inputs = inputs
            return configuration
        }

        /// Runs one workflow until it ends (a SIGINT or SIGTERM cancels it) and returns its record.
        /// - Parameter rerun: for `slipway runs rerun`: its hook goes before the others and marks the record.
        /// - Throws: `GenericError(.invalidArgument)` when the workflow or its inputs cannot run; nothing ran then.
        func run(_ workflow: Workflow, event: String, inputs: [String: String], rerun: RerunHook? = nil) async throws -> RunRecord {
            var configuration = configuration(event: event, inputs: inputs)
            var runStore: any RunStore = store
            if let rerun {
                configuration.hooks.insert(rerun, at: 0)
                runStore = rerun.store(wrapping: store)
            }
            let execution = WorkflowExecution(workflow: workflow, configuration: configuration, store: runStore, output: live)
            signals.current = execution
            defer { signals.current = nil }
            do {
                return try await execution.run()
            } catch let error as PlanError {
                throw GenericError(.invalidArgument, error.description)
            } catch let error as DispatchInputs.InputError {
                throw GenericError(.invalidArgument, error.description)
            }
        }

        /// Whether a SIGINT or SIGTERM arrived.
        var cancelled: Bool { signals.cancelled }

        /// Stops turning signals into cancellations.
        func stop() { signals.stop() }
    }
}
