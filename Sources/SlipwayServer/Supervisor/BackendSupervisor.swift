import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
public import ServiceLifecycle
import SlipwayCore
public import SlipwayGateway
public import SlipwayStore
import Synchronization

/// Runs the model servers of the deployments whose backend is a command (`slipway deploy --command`)
/// or Slipway's built-in model server (`--builtin`), inside `slipway server`.
///
/// For each such deployment it keeps `replicas` processes running, each on a free port (`$PORT`) with
/// the version's artifact in `$MODEL_DIR`; a replica joins the gateway's routing table once it
/// answers `GET /v2/health/ready`, leaves it at once when it exits or stops answering, and is
/// started again with an exponential back-off. A redeploy starts the new replicas first, swaps the
/// table when they are ready, then drains and stops the old ones. A change of the replica count alone
/// adds or removes replicas and leaves the others running (rolling updates rely on it). On shutdown
/// every replica gets SIGTERM, then SIGKILL after a grace period; a watchdog in each replica's
/// process group kills the group if the server dies without shutting down (see ``ReplicaProcess``).
///
/// The decisions are made by ``SupervisorStateMachine``; this service performs them: it reads the
/// store, starts and signals processes, asks for readiness, and tells `onChange` (the gateway's
/// reload) when the set of ready replicas changed.
public final class BackendSupervisor: Service, Sendable {
    /// How replicas are run. The defaults suit most model servers.
    public struct Configuration: Sendable {
        /// The data folder: model folders go to `runtime/models/`, replica logs to `runtime/logs/`.
        public var dataDir: URL
        /// The `slipway` executable that runs `serve-model` for built-in backends (default: this process's executable).
        public var executable: String?
        /// Time between SIGTERM and SIGKILL when a replica is stopped (default 5 s).
        public var gracePeriod: Duration = .seconds(5)
        /// How long a replica taken out of the routing table keeps running before SIGTERM, so the
        /// requests it already has finish (default 2 s).
        public var drainDelay: Duration = .seconds(2)
        /// How long a replica may take to answer its first readiness check before it is restarted (default 120 s).
        public var startupTimeout: Duration = .seconds(120)
        /// The first restart delay, doubled after each quick exit (default 0.5 s).
        public var restartDelay: Duration = .milliseconds(500)
        /// The longest restart delay (default 30 s).
        public var maximumRestartDelay: Duration = .seconds(30)
        /// How long a replica must stay up for its restart delay to start over (default 60 s).
        public var restartDelayReset: Duration = .seconds(60)
        /// How often a ready replica's readiness is checked (default 1 s).
        public var readinessInterval: Duration = .seconds(1)
        /// Failed readiness checks in a row that take a ready replica out and restart it (default 3).
        public var readinessFailures = 3
        /// How often the deployments are read again even without a change notification (default 10 s).
        public var resyncInterval: Duration = .seconds(10)

        public init(dataDir: URL, executable: String? = nil) {
            self.dataDir = dataDir
            self.executable = executable
        }

        var settings: SupervisorStateMachine.Settings {
            var settings = SupervisorStateMachine.Settings()
            settings.backoff = RestartBackoff(initial: restartDelay, maximum: maximumRestartDelay, resetAfter: restartDelayReset)
            settings.readyProbeInterval = readinessInterval
            settings.probeFailureLimit = max(readinessFailures, 1)
            settings.startupTimeout = startupTimeout
            settings.gracePeriod = gracePeriod
            settings.drainDelay = drainDelay
            return settings
        }
    }

    let store: any MetadataStore
    let folders: ModelFolders
    let configuration: Configuration
    let logger: Logger
    let onChange: @Sendable () async -> Void
    let executable: String
    let logsFolder: URL
    /// The server's environment without Slipway's own variables (tokens, server address, data folder).
    let baseEnvironment: [String: String]
    private let machine: Mutex<SupervisorStateMachine>
    private let published = Mutex<[String: [String: [GatewayTable.Backend]]]>([:])
    private let reconcileRequested = Atomic<Bool>(true)
    private let shutdownRequested = Atomic<Bool>(false)
    private let clock = ContinuousClock()
    private static let tick: Duration = .milliseconds(100)

    /// - Parameters:
    ///   - store: where the endpoints and versions are.
    ///   - artifacts: where the versions' artifacts are.
    ///   - configuration: the data folder and timings.
    ///   - logger: for starts, exits and restarts (never the replicas' own output, which goes to their log files).
    ///   - onChange: called when the set of ready replicas changed; the server reloads the gateway's table.
    public init(
        store: any MetadataStore, artifacts: any ArtifactStore, configuration: Configuration, logger: Logger,
        onChange: @escaping @Sendable () async -> Void
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.onChange = onChange
        let runtime = configuration.dataDir.appendingPathComponent("runtime")
        self.folders = ModelFolders(root: runtime.appendingPathComponent("models"), artifacts: artifacts)
        self.logsFolder = runtime.appendingPathComponent("logs")
        self.executable = configuration.executable ?? ReplicaProcess.currentExecutable()
        self.baseEnvironment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLIPWAY_") }
        self.machine = Mutex(SupervisorStateMachine(settings: configuration.settings))
    }

    /// Reads the deployments again at the next step (call it after every endpoint change).
    public func reconcile() {
        reconcileRequested.store(true, ordering: .releasing)
    }

    /// The ready replicas the gateway routes to, by endpoint and variant.
    public func readyBackends() -> [String: [String: [GatewayTable.Backend]]] {
        published.withLock { $0 }
    }

    /// The supervised variants of an endpoint and their replicas, or nil when it has none.
    ///
    /// A replica is `serving` when it is in the routing table the gateway was last given.
    public func status(endpoint: String) -> [String: BackendStatus]? {
        let routed = published.withLock { $0[endpoint] ?? [:] }
        let now = clock.now
        let wall = Date()
        guard var result = machine.withLock({ $0.status(endpoint: endpoint, now: now, wall: wall, logFile: logFile) }) else { return nil }
        for (variant, var backend) in result {
            let ports = Set(routed[variant]?.map(\.port) ?? [])
            for index in backend.replicas.indices {
                let replica = backend.replicas[index]
                backend.replicas[index].serving = replica.state == .ready && replica.port.map(ports.contains) == true
            }
            backend.readyReplicas = backend.replicas.count(where: \.serving)
            backend.servingModelVersion = routed[variant]?.first?.modelVersion
            result[variant] = backend
        }
        return result
    }

    // MARK: Running

    /// Supervises until graceful shutdown or cancellation, then stops every replica and returns once they are gone.
    public func run() async throws {
        let watchdog: (read: Int32, write: Int32)
        do {
            watchdog = try ReplicaProcess.makeWatchdogPipe()
        } catch {
            throw GenericError(.unavailable, "the backend supervisor cannot start: \(error.description)")
        }
        var clientConfiguration = HTTPClient.Configuration(timeout: .init(connect: .seconds(1), read: .seconds(2)))
        clientConfiguration.connectionPool = .init(idleTimeout: .seconds(5))
        // A replica that does not listen yet is answered "not ready" at once, not after retries.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        let probe = ReadinessProbe(client: client)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                await supervise(group: &group, probe: probe, watchdog: watchdog.read)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.shutdownRequested.store(true, ordering: .releasing)
        }
        try? await client.shutdown()
        close(watchdog.read)
        close(watchdog.write)
    }

    private func supervise(group: inout DiscardingTaskGroup, probe: ReadinessProbe, watchdog: Int32) async {
        var artifacts: [String: (digest: Digest, fileName: String)] = [:]
        var nextResync = clock.now
        var stopping = false
        while true {
            if !stopping, shutdownRequested.load(ordering: .acquiring) || Task.isCancelled {
                stopping = true
                let count = machine.withLock { state in
                    state.shutDown(now: clock.now)
                    return state.livePIDs.count
                }
                if count > 0 { logger.info("stopping supervised replicas", metadata: ["slipway.replicas": "\(count)"]) }
            }
            if !stopping, reconcileRequested.exchange(false, ordering: .acquiringAndReleasing) || clock.now >= nextResync {
                if let desired = await desiredBackends(cache: &artifacts) {
                    machine.withLock { $0.reconcile(desired, now: clock.now) }
                    nextResync = clock.now + configuration.resyncInterval
                } else {
                    nextResync = clock.now + .seconds(1)
                }
            }
            reapExited()
            let actions = machine.withLock { $0.tick(now: clock.now) }
            let serving = machine.withLock { $0.servingBackends() }
            let changed = published.withLock { current in
                guard current != serving else { return false }
                current = serving
                return true
            }
            if changed && !stopping { await onChange() }
            for action in actions { perform(action, group: &group, probe: probe, watchdog: watchdog) }
            if stopping && machine.withLock({ $0.isIdle }) { return }
            if Task.isCancelled {
                // Sleeping is not possible in a cancelled task, and the replicas must still be waited for.
                usleep(50_000)
            } else {
                try? await Task.sleep(for: Self.tick)
            }
        }
    }

    /// The supervised deployments in the store, or nil (logged) when the store cannot be read.
    private func desiredBackends(cache: inout [String: (digest: Digest, fileName: String)]) async -> [VariantKey: DesiredBackend]? {
        do {
            var desired: [VariantKey: DesiredBackend] = [:]
            for endpoint in try await store.endpoints() {
                for deployment in endpoint.deployments {
                    if case .url = deployment.backend { continue }
                    if cache[deployment.modelVersion] == nil,
                        let version = try await store.version(model: deployment.model, version: deployment.version),
                        let digest = version.artifactDigest
                    {
                        cache[deployment.modelVersion] = (digest, ModelFolders.fileName(fromSource: version.source))
                    }
                    let artifact = cache[deployment.modelVersion]
                    let spec = ReplicaSpec(
                        model: deployment.model, version: deployment.version, backend: deployment.backend, artifact: artifact?.digest,
                        artifactFileName: artifact?.fileName ?? "model")
                    desired[VariantKey(endpoint: endpoint.name, variant: deployment.variant)] = DesiredBackend(
                        spec: spec, replicas: max(deployment.replicas, 1))
                }
            }
            return desired
        } catch {
            logger.error("cannot read the deployments; supervised replicas stay as they are", metadata: ["slipway.error": "\(error)"])
            return nil
        }
    }

    /// Collects the replicas that ended and kills what is left of their process groups.
    private func reapExited() {
        for pid in machine.withLock({ $0.livePIDs }) {
            guard let exit = ReplicaProcess.reap(pid) else { continue }
            ReplicaProcess.signalGroup(pid, SIGKILL)
            let replica = machine.withLock { state in
                let replica = state.allReplicas.first { $0.pid == pid }
                state.exited(pid: pid, exit: exit, now: clock.now)
                return replica.map { ($0, state.allReplicas.first { $0.id == replica?.id }) }
            }
            guard let (before, after) = replica else { continue }
            var metadata = metadata(before.key, before.spec, before.slot)
            metadata["slipway.pid"] = "\(pid)"
            metadata["slipway.exit"] = "\(exit.reason)"
            if case .stopping = before.phase, before.stopReason == nil {
                logger.debug("replica stopped", metadata: metadata)
                continue
            }
            if case .draining = before.phase {
                logger.debug("replica stopped", metadata: metadata)
                continue
            }
            if let reason = before.stopReason { metadata["slipway.exit"] = "\(reason); \(exit.reason)" }
            if let line = ReplicaProcess.lastLine(of: logFile(before.key, before.spec, before.slot)) { metadata["slipway.last_output"] = "\(line)" }
            if let delay = after?.backoffDelay {
                metadata["slipway.restart_in"] = "\(SupervisorStateMachine.format(delay))"
                logger.warning("replica exited; it will be restarted", metadata: metadata)
            } else {
                logger.warning("replica exited", metadata: metadata)
            }
        }
    }

    private func perform(_ action: SupervisorAction, group: inout DiscardingTaskGroup, probe: ReadinessProbe, watchdog: Int32) {
        switch action {
        case .prepareModel(let generation, let spec):
            group.addTask { [self] in
                let result: Result<String, ModelFolderFailure>
                do throws(ModelFolderFailure) {
                    result = .success(try await folders.prepare(spec))
                } catch {
                    logger.error(
                        "cannot prepare a model folder", metadata: ["slipway.model": "\(spec.modelVersion)", "slipway.error": "\(error.message)"])
                    result = .failure(error)
                }
                machine.withLock { $0.prepared(generation: generation, result: result, now: clock.now) }
            }
        case .launch(let launch):
            self.launch(launch, watchdog: watchdog)
        case .probe(let replica, let pid, let port):
            group.addTask { [self] in
                let ready = await probe.isReady(port: port)
                machine.withLock { $0.probed(replica: replica, pid: pid, ready: ready, now: clock.now) }
            }
        case .signal(let pid, let signal):
            ReplicaProcess.signalGroup(pid, signal)
        }
    }

    private func launch(_ launch: ReplicaLaunch, watchdog: Int32) {
        var metadata = metadata(launch.key, launch.spec, launch.slot)
        do {
            let port = try ReplicaProcess.freePort()
            let path = logFile(launch.key, launch.spec, launch.slot)
            let log = try ReplicaProcess.openLog(path)
            defer { close(log) }
            ReplicaProcess.write(
                "=== \(Timestamp.format(Date())) slipway: starting \(launch.spec.modelVersion) for \(launch.key) (replica \(launch.slot)) on port \(port)\n",
                to: log)
            let pid = try ReplicaProcess.spawn(
                command: command(for: launch.spec), environment: environment(for: launch, port: port), log: log, watchdog: watchdog)
            let known = machine.withLock { $0.launched(replica: launch.replica, pid: pid, port: port, now: clock.now) }
            if !known {
                ReplicaProcess.signalGroup(pid, SIGKILL)
                _ = ReplicaProcess.reapBlocking(pid)
                return
            }
            metadata["slipway.pid"] = "\(pid)"
            metadata["slipway.port"] = "\(port)"
            logger.info("replica started", metadata: metadata)
        } catch {
            metadata["slipway.error"] = "\(error.description)"
            logger.error("cannot start a replica", metadata: metadata)
            machine.withLock { $0.launchFailed(replica: launch.replica, reason: error.description, now: clock.now) }
        }
    }

    // MARK: Replica settings

    /// The shell command a replica runs: the deployment's command, or `slipway serve-model` for a built-in backend.
    func command(for spec: ReplicaSpec) -> String {
        switch spec.backend {
        case .command(let command):
            return command
        case .builtin, .url:
            return "exec \(ReplicaProcess.shellQuoted(executable)) serve-model --model \"$MODEL_DIR\" --port \"$PORT\" "
                + "--name \"$SLIPWAY_MODEL_NAME\" --model-version \"$SLIPWAY_MODEL_VERSION\""
        }
    }

    /// The server's environment without Slipway's own variables, plus what the replica needs to know.
    func environment(for launch: ReplicaLaunch, port: Int) -> [String: String] {
        var environment = baseEnvironment
        environment["PORT"] = String(port)
        environment["MODEL_DIR"] = launch.modelDir
        environment["SLIPWAY_MODEL_NAME"] = launch.spec.model
        environment["SLIPWAY_MODEL_VERSION"] = String(launch.spec.version)
        environment["SLIPWAY_ENDPOINT"] = launch.key.endpoint
        environment["SLIPWAY_VARIANT"] = launch.key.variant
        environment["SLIPWAY_REPLICA"] = String(launch.slot)
        return environment
    }

    /// `<data-dir>/runtime/logs/<endpoint>.<variant>.v<version>.<slot>.log`.
    func logFile(_ key: VariantKey, _ spec: ReplicaSpec, _ slot: Int) -> String {
        func safe(_ text: String) -> String {
            String(text.prefix(100).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
        }
        return logsFolder.appendingPathComponent("\(safe(key.endpoint)).\(safe(key.variant)).v\(spec.version).\(slot).log").path
    }

    private func metadata(_ key: VariantKey, _ spec: ReplicaSpec, _ slot: Int) -> Logger.Metadata {
        [
            "slipway.endpoint": "\(key.endpoint)", "slipway.variant": "\(key.variant)", "slipway.model": "\(spec.modelVersion)",
            "slipway.replica": "\(slot)",
        ]
    }
}
