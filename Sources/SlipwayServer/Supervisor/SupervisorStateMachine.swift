import Foundation
import SlipwayCore
import SlipwayGateway

/// One variant of one endpoint.
struct VariantKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    var endpoint: String
    var variant: String

    static func < (lhs: VariantKey, rhs: VariantKey) -> Bool {
        (lhs.endpoint, lhs.variant) < (rhs.endpoint, rhs.variant)
    }

    var description: String { "\(endpoint)/\(variant)" }
}

/// What a generation of replicas runs. When any of it changes, new processes replace the old ones.
struct ReplicaSpec: Equatable, Sendable {
    var model: String
    var version: Int
    /// `.command` or `.builtin`.
    var backend: BackendSpec
    /// The version's artifact; nil when the version has none stored.
    var artifact: Digest?
    /// The name a single-file artifact gets inside the model folder.
    var artifactFileName: String

    var modelVersion: String { "\(model)@\(version)" }
}

/// A supervised deployment as the store describes it.
struct DesiredBackend: Equatable, Sendable {
    var spec: ReplicaSpec
    var replicas: Int
}

/// Everything needed to start one replica process.
struct ReplicaLaunch: Equatable, Sendable {
    var replica: Int
    var key: VariantKey
    var slot: Int
    var spec: ReplicaSpec
    var modelDir: String
}

/// How a replica process ended, or why it was stopped.
struct ProcessExit: Equatable, Sendable {
    var code: Int32?
    var signal: Int32?
    var reason: String

    /// Decodes a `waitpid` status.
    init(waitStatus status: Int32) {
        let low = status & 0x7f
        if low == 0 {
            code = (status >> 8) & 0xff
            reason = "exited with status \(code ?? 0)"
        } else {
            signal = low
            reason = "killed by signal \(low)\(Self.signalNames[low].map { " (\($0))" } ?? "")"
        }
    }

    init(code: Int32? = nil, signal: Int32? = nil, reason: String) {
        self.code = code
        self.signal = signal
        self.reason = reason
    }

    static let signalNames: [Int32: String] = [
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM",
    ]
}

/// What the supervisor's loop does next: the state machine decides, the loop performs.
enum SupervisorAction: Equatable, Sendable {
    /// Materialise a generation's artifact as its model folder; answer with ``SupervisorStateMachine/prepared(generation:result:now:)``.
    case prepareModel(generation: Int, spec: ReplicaSpec)
    /// Start a process; answer with ``SupervisorStateMachine/launched(replica:pid:port:now:)`` or `launchFailed`.
    case launch(ReplicaLaunch)
    /// Ask `GET /v2/health/ready`; answer with ``SupervisorStateMachine/probed(replica:pid:ready:now:)``.
    case probe(replica: Int, pid: Int32, port: Int)
    /// Send a signal to a replica's process group.
    case signal(pid: Int32, signal: Int32)
}

/// The decisions of the backend supervisor, without processes, sockets or clocks: which replicas to
/// start, probe, drain and stop, which generation serves a variant, and when an exited replica comes
/// back. Each transition takes the current instant; ``tick(now:)`` returns the actions that are due.
///
/// A variant has an *active* generation (the one the gateway routes to), at most one *pending*
/// generation (a redeploy whose replicas are starting), and *retiring* replicas (draining or
/// stopping). A pending generation becomes active once all its replicas are ready, or as soon as
/// one is ready when the active one has none; the replicas it replaces drain, then stop.
struct SupervisorStateMachine: Sendable {
    struct Settings: Sendable {
        var backoff = RestartBackoff()
        /// How often a starting replica is asked whether it is ready.
        var startingProbeInterval: Duration = .milliseconds(200)
        /// How often a ready replica is asked whether it is still ready.
        var readyProbeInterval: Duration = .seconds(1)
        /// Failed readiness checks in a row after which a ready replica is taken out and restarted.
        var probeFailureLimit = 3
        /// How long a replica may take to become ready before it is restarted.
        var startupTimeout: Duration = .seconds(120)
        /// How long a replica has between SIGTERM and SIGKILL.
        var gracePeriod: Duration = .seconds(5)
        /// How long a replica taken out of the routing table keeps running, for the requests it already has.
        var drainDelay: Duration = .seconds(2)
        /// How long after a failed materialisation of a model folder it is tried again.
        var modelRetryDelay: Duration = .seconds(30)
    }

    typealias Instant = ContinuousClock.Instant

    enum Phase: Equatable, Sendable {
        /// Waiting for the model folder, the first start or a restart.
        case waiting(until: Instant)
        /// A ``SupervisorAction/launch(_:)`` is being performed.
        case launching
        case starting(pid: Int32, port: Int, since: Instant)
        case ready(pid: Int32, port: Int, since: Instant)
        /// Out of the table; SIGTERM at `until`.
        case draining(pid: Int32, port: Int, until: Instant)
        /// SIGTERM is due (`killAt` nil) or sent; SIGKILL at `killAt`.
        case stopping(pid: Int32, port: Int, killAt: Instant?, killed: Bool)
    }

    struct Replica: Sendable {
        let id: Int
        let slot: Int
        let key: VariantKey
        let spec: ReplicaSpec
        var phase: Phase
        var backoff: RestartBackoff
        var launches = 0
        var backoffDelay: Duration?
        var lastExit: ProcessExit?
        var lastExitAt: Instant?
        var startedAt: Instant?
        /// Why the supervisor stopped it, to report when it exits.
        var stopReason: String?
        var probeInFlight = false
        var lastProbe: Instant?
        var probeFailures = 0

        var restarts: Int { max(launches - 1, 0) }

        var pid: Int32? {
            switch phase {
            case .starting(let pid, _, _), .ready(let pid, _, _), .draining(let pid, _, _), .stopping(let pid, _, _, _): pid
            case .waiting, .launching: nil
            }
        }

        var port: Int? {
            switch phase {
            case .starting(_, let port, _), .ready(_, let port, _), .draining(_, let port, _), .stopping(_, let port, _, _): port
            case .waiting, .launching: nil
            }
        }

        var isReady: Bool {
            if case .ready = phase { return true }
            return false
        }
    }

    enum ModelFolder: Equatable, Sendable {
        case needed
        case preparing
        case ready(String)
        case failed(String, retryAt: Instant)
    }

    struct Generation: Sendable {
        let id: Int
        let key: VariantKey
        let spec: ReplicaSpec
        var desired: Int
        var modelFolder: ModelFolder = .needed
        var replicas: [Replica] = []

        var readyCount: Int { replicas.count(where: \.isReady) }
    }

    struct VariantState: Sendable {
        var active: Generation?
        var pending: Generation?
        var retiring: [Replica] = []

        var isEmpty: Bool { active == nil && pending == nil && retiring.isEmpty }
    }

    let settings: Settings
    private(set) var variants: [VariantKey: VariantState] = [:]
    private(set) var shuttingDown = false
    private var nextID = 1

    init(settings: Settings = Settings()) {
        self.settings = settings
    }

    // MARK: Desired state

    /// Brings the generations in line with the store: new deployments get a generation, changed ones a
    /// pending generation, replica counts are scaled in place, and removed deployments retire.
    mutating func reconcile(_ desired: [VariantKey: DesiredBackend], now: Instant) {
        guard !shuttingDown else { return }
        for (key, want) in desired.sorted(by: { $0.key < $1.key }) {
            var state = variants[key] ?? VariantState()
            if var active = state.active, active.spec == want.spec {
                scale(&active, to: want.replicas, retiring: &state.retiring, serving: true, now: now)
                state.active = active
                if let pending = state.pending {
                    retire(pending, into: &state.retiring, serving: false, now: now)
                    state.pending = nil
                }
            } else if var pending = state.pending, pending.spec == want.spec {
                scale(&pending, to: want.replicas, retiring: &state.retiring, serving: false, now: now)
                state.pending = pending
            } else {
                let generation = newGeneration(key: key, spec: want.spec, replicas: want.replicas, now: now)
                if state.active == nil {
                    state.active = generation
                } else {
                    if let pending = state.pending { retire(pending, into: &state.retiring, serving: false, now: now) }
                    state.pending = generation
                }
            }
            variants[key] = state
        }
        for key in variants.keys where desired[key] == nil {
            retireAll(key, drain: true, now: now)
        }
    }

    /// Stops everything: every replica gets SIGTERM at the next tick (no draining) and nothing starts again.
    mutating func shutDown(now: Instant) {
        shuttingDown = true
        for key in variants.keys { retireAll(key, drain: false, now: now) }
        for key in variants.keys {
            for index in variants[key]!.retiring.indices {
                if case .draining(let pid, let port, _) = variants[key]!.retiring[index].phase {
                    variants[key]!.retiring[index].phase = .stopping(pid: pid, port: port, killAt: nil, killed: false)
                }
            }
        }
    }

    private mutating func retireAll(_ key: VariantKey, drain: Bool, now: Instant) {
        guard var state = variants[key] else { return }
        if let active = state.active { retire(active, into: &state.retiring, serving: drain, now: now) }
        if let pending = state.pending { retire(pending, into: &state.retiring, serving: false, now: now) }
        state.active = nil
        state.pending = nil
        variants[key] = state.isEmpty ? nil : state
    }

    private mutating func newGeneration(key: VariantKey, spec: ReplicaSpec, replicas: Int, now: Instant) -> Generation {
        var generation = Generation(id: takeID(), key: key, spec: spec, desired: 0)
        var none: [Replica] = []
        scale(&generation, to: replicas, retiring: &none, serving: false, now: now)
        return generation
    }

    /// Adds or removes replicas of a generation; the others keep running untouched (a rolling update
    /// moves replicas between two variants this way). New replicas take the lowest free slots; removal
    /// takes replicas that are not ready first, then the highest slots, so scaling down keeps as many
    /// ready replicas as it can.
    private mutating func scale(_ generation: inout Generation, to count: Int, retiring: inout [Replica], serving: Bool, now: Instant) {
        generation.desired = count
        while generation.replicas.count < count {
            let used = Set(generation.replicas.map(\.slot))
            let slot = (0...generation.replicas.count).first { !used.contains($0) } ?? generation.replicas.count
            let replica = Replica(
                id: takeID(), slot: slot, key: generation.key, spec: generation.spec, phase: .waiting(until: now), backoff: settings.backoff)
            generation.replicas.append(replica)
        }
        while generation.replicas.count > count {
            let victim = generation.replicas.indices.max { a, b in
                let (x, y) = (generation.replicas[a], generation.replicas[b])
                return (x.isReady ? 0 : 1, x.slot) < (y.isReady ? 0 : 1, y.slot)
            }
            guard let victim else { break }
            retire(generation.replicas.remove(at: victim), into: &retiring, serving: serving, now: now)
        }
        generation.replicas.sort { $0.slot < $1.slot }
    }

    private mutating func takeID() -> Int {
        defer { nextID += 1 }
        return nextID
    }

    private func retire(_ generation: Generation, into retiring: inout [Replica], serving: Bool, now: Instant) {
        for replica in generation.replicas { retire(replica, into: &retiring, serving: serving, now: now) }
    }

    /// Moves a replica out of its generation: a serving one drains first, a running one stops, one
    /// that has no process is forgotten.
    private func retire(_ replica: Replica, into retiring: inout [Replica], serving: Bool, now: Instant) {
        var replica = replica
        switch replica.phase {
        case .waiting:
            return
        case .launching, .draining, .stopping:
            break
        case .starting(let pid, let port, _):
            replica.phase = .stopping(pid: pid, port: port, killAt: nil, killed: false)
        case .ready(let pid, let port, _):
            replica.phase =
                serving
                ? .draining(pid: pid, port: port, until: now + settings.drainDelay) : .stopping(pid: pid, port: port, killAt: nil, killed: false)
        }
        retiring.append(replica)
    }

    // MARK: Time

    /// Everything that is due at `now`: model folders to prepare, replicas to start, readiness checks,
    /// signals. Also promotes a pending generation whose replicas are ready.
    mutating func tick(now: Instant) -> [SupervisorAction] {
        var actions: [SupervisorAction] = []
        for key in variants.keys.sorted() {
            var state = variants[key]!
            if var active = state.active {
                step(&active, now: now, actions: &actions)
                state.active = active
            }
            if var pending = state.pending {
                step(&pending, now: now, actions: &actions)
                state.pending = pending
                let activeReady = state.active?.readyCount ?? 0
                if pending.readyCount >= pending.desired || (activeReady == 0 && pending.readyCount > 0) {
                    if let active = state.active { retire(active, into: &state.retiring, serving: true, now: now) }
                    state.active = pending
                    state.pending = nil
                }
            }
            for index in state.retiring.indices {
                stepRetiring(&state.retiring[index], now: now, actions: &actions)
            }
            variants[key] = state.isEmpty ? nil : state
        }
        return actions
    }

    private func step(_ generation: inout Generation, now: Instant, actions: inout [SupervisorAction]) {
        switch generation.modelFolder {
        case .needed:
            generation.modelFolder = .preparing
            actions.append(.prepareModel(generation: generation.id, spec: generation.spec))
        case .failed(_, let retryAt) where now >= retryAt:
            generation.modelFolder = .preparing
            actions.append(.prepareModel(generation: generation.id, spec: generation.spec))
        default:
            break
        }
        for index in generation.replicas.indices {
            var replica = generation.replicas[index]
            switch replica.phase {
            case .waiting(let until):
                if case .ready(let folder) = generation.modelFolder, now >= until, !shuttingDown {
                    replica.phase = .launching
                    actions.append(
                        .launch(ReplicaLaunch(replica: replica.id, key: replica.key, slot: replica.slot, spec: replica.spec, modelDir: folder)))
                }
            case .launching:
                break
            case .starting(let pid, let port, let since):
                if now - since >= settings.startupTimeout {
                    replica.stopReason = "did not become ready within \(Self.format(settings.startupTimeout))"
                    replica.phase = .stopping(pid: pid, port: port, killAt: nil, killed: false)
                    signal(&replica, now: now, actions: &actions)
                } else {
                    probeIfDue(&replica, pid: pid, port: port, interval: settings.startingProbeInterval, now: now, actions: &actions)
                }
            case .ready(let pid, let port, _):
                probeIfDue(&replica, pid: pid, port: port, interval: settings.readyProbeInterval, now: now, actions: &actions)
            case .draining, .stopping:
                signal(&replica, now: now, actions: &actions)
            }
            generation.replicas[index] = replica
        }
    }

    private func stepRetiring(_ replica: inout Replica, now: Instant, actions: inout [SupervisorAction]) {
        signal(&replica, now: now, actions: &actions)
    }

    /// SIGTERM when a drain ends or a stop begins, SIGKILL when the grace period is over.
    private func signal(_ replica: inout Replica, now: Instant, actions: inout [SupervisorAction]) {
        switch replica.phase {
        case .draining(let pid, let port, let until) where now >= until:
            replica.phase = .stopping(pid: pid, port: port, killAt: now + settings.gracePeriod, killed: false)
            actions.append(.signal(pid: pid, signal: SIGTERM))
        case .stopping(let pid, let port, nil, _):
            replica.phase = .stopping(pid: pid, port: port, killAt: now + settings.gracePeriod, killed: false)
            actions.append(.signal(pid: pid, signal: SIGTERM))
        case .stopping(let pid, let port, .some(let killAt), false) where now >= killAt:
            replica.phase = .stopping(pid: pid, port: port, killAt: killAt, killed: true)
            actions.append(.signal(pid: pid, signal: SIGKILL))
        default:
            break
        }
    }

    private func probeIfDue(_ replica: inout Replica, pid: Int32, port: Int, interval: Duration, now: Instant, actions: inout [SupervisorAction]) {
        guard !replica.probeInFlight, replica.lastProbe.map({ now - $0 >= interval }) ?? true else { return }
        replica.probeInFlight = true
        actions.append(.probe(replica: replica.id, pid: pid, port: port))
    }

    // MARK: Answers

    /// A model folder is ready (its path) or could not be made (why).
    mutating func prepared(generation id: Int, result: Result<String, ModelFolderFailure>, now: Instant) {
        let retryDelay = settings.modelRetryDelay
        update(generation: id) { generation in
            switch result {
            case .success(let path): generation.modelFolder = .ready(path)
            case .failure(let failure): generation.modelFolder = .failed(failure.message, retryAt: now + retryDelay)
            }
        }
    }

    /// A process was started for a replica. False when the replica was forgotten meanwhile: the caller
    /// then stops the process itself.
    @discardableResult
    mutating func launched(replica id: Int, pid: Int32, port: Int, now: Instant) -> Bool {
        update(replica: id) { replica, retired in
            guard case .launching = replica.phase else { return }
            replica.launches += 1
            replica.startedAt = now
            replica.probeInFlight = false
            replica.lastProbe = nil
            replica.probeFailures = 0
            replica.stopReason = nil
            replica.phase = retired ? .stopping(pid: pid, port: port, killAt: nil, killed: false) : .starting(pid: pid, port: port, since: now)
        }
    }

    /// A process could not be started; the replica waits its back-off and tries again.
    mutating func launchFailed(replica id: Int, reason: String, now: Instant) {
        for key in variants.keys {
            variants[key]!.retiring.removeAll { $0.id == id && $0.phase == .launching }
        }
        update(replica: id) { replica, _ in
            guard case .launching = replica.phase else { return }
            replica.launches += 1
            replica.startedAt = now
            Self.ended(&replica, exit: ProcessExit(reason: "could not start: \(reason)"), now: now)
        }
    }

    /// The answer of a readiness check.
    mutating func probed(replica id: Int, pid: Int32, ready: Bool, now: Instant) {
        let failureLimit = settings.probeFailureLimit
        update(replica: id) { replica, _ in
            guard replica.pid == pid else { return }
            replica.probeInFlight = false
            replica.lastProbe = now
            switch replica.phase {
            case .starting(let pid, let port, _) where ready:
                replica.probeFailures = 0
                replica.phase = .ready(pid: pid, port: port, since: now)
            case .ready(let pid, let port, _):
                if ready {
                    replica.probeFailures = 0
                } else {
                    replica.probeFailures += 1
                    if replica.probeFailures >= failureLimit {
                        replica.stopReason = "did not answer \(replica.probeFailures) readiness checks in a row"
                        replica.phase = .stopping(pid: pid, port: port, killAt: nil, killed: false)
                    }
                }
            default:
                break
            }
        }
    }

    /// A replica's process ended. One of a generation starts again after its back-off; a retiring one is forgotten.
    mutating func exited(pid: Int32, exit: ProcessExit, now: Instant) {
        for key in variants.keys {
            variants[key]!.retiring.removeAll { $0.pid == pid }
            if variants[key]!.isEmpty { variants[key] = nil }
        }
        guard let id = allReplicas.first(where: { $0.pid == pid })?.id else { return }
        update(replica: id) { replica, _ in
            var exit = exit
            if let reason = replica.stopReason { exit.reason = "\(reason); \(exit.reason)" }
            Self.ended(&replica, exit: exit, now: now)
        }
    }

    private static func ended(_ replica: inout Replica, exit: ProcessExit, now: Instant) {
        let uptime = replica.startedAt.map { now - $0 } ?? .zero
        let delay = replica.backoff.delay(afterRunningFor: uptime)
        replica.backoffDelay = delay
        replica.lastExit = exit
        replica.lastExitAt = now
        replica.stopReason = nil
        replica.probeInFlight = false
        replica.phase = .waiting(until: now + delay)
    }

    private mutating func update(generation id: Int, _ change: (inout Generation) -> Void) {
        for key in variants.keys {
            if variants[key]!.active?.id == id { change(&variants[key]!.active!) }
            if variants[key]!.pending?.id == id { change(&variants[key]!.pending!) }
        }
    }

    /// Changes a replica wherever it is; `retired` tells whether it is retiring. False when there is no such replica.
    @discardableResult
    private mutating func update(replica id: Int, _ change: (inout Replica, _ retired: Bool) -> Void) -> Bool {
        for key in variants.keys {
            if let index = variants[key]!.active?.replicas.firstIndex(where: { $0.id == id }) {
                change(&variants[key]!.active!.replicas[index], false)
                return true
            }
            if let index = variants[key]!.pending?.replicas.firstIndex(where: { $0.id == id }) {
                change(&variants[key]!.pending!.replicas[index], false)
                return true
            }
            if let index = variants[key]!.retiring.firstIndex(where: { $0.id == id }) {
                change(&variants[key]!.retiring[index], true)
                return true
            }
        }
        return false
    }

    // MARK: Views

    /// Every replica, of every generation and retiring.
    var allReplicas: [Replica] {
        variants.values.flatMap { ($0.active?.replicas ?? []) + ($0.pending?.replicas ?? []) + $0.retiring }
    }

    /// The process ids that still have to be waited for.
    var livePIDs: [Int32] { allReplicas.compactMap(\.pid) }

    /// Whether no process runs or is being started.
    var isIdle: Bool { allReplicas.allSatisfy { $0.pid == nil && $0.phase != .launching } }

    /// The ready replicas of each variant's active generation: what the gateway routes to.
    func servingBackends(host: String = "127.0.0.1") -> [String: [String: [GatewayTable.Backend]]] {
        var result: [String: [String: [GatewayTable.Backend]]] = [:]
        for (key, state) in variants {
            guard let active = state.active else { continue }
            let ready = active.replicas.compactMap { replica -> GatewayTable.Backend? in
                guard case .ready(_, let port, _) = replica.phase else { return nil }
                return GatewayTable.Backend(host: host, port: port, modelName: active.spec.model, modelVersion: active.spec.modelVersion)
            }
            if !ready.isEmpty { result[key.endpoint, default: [:]][key.variant] = ready }
        }
        return result
    }

    /// The status of an endpoint's supervised variants, or nil when it has none.
    ///
    /// - Parameters:
    ///   - now: the current instant, to turn instants into dates relative to `wall`.
    ///   - logFile: the log file of a replica.
    func status(endpoint: String, now: Instant, wall: Date, logFile: (VariantKey, ReplicaSpec, Int) -> String) -> [String: BackendStatus]? {
        func date(_ instant: Instant) -> Date { wall.addingTimeInterval((instant - now).seconds) }
        func view(_ replica: Replica, serving: Bool) -> ReplicaStatus {
            var status = ReplicaStatus(
                slot: replica.slot, modelVersion: replica.spec.modelVersion, state: .waiting, serving: false, pid: replica.pid, port: replica.port,
                restarts: replica.restarts, startedAt: replica.pid != nil ? replica.startedAt.map(date) : nil,
                lastExit: replica.lastExit.map {
                    ReplicaExit(code: $0.code, signal: $0.signal, reason: $0.reason, at: date(replica.lastExitAt ?? now))
                },
                backoffSeconds: replica.backoffDelay?.seconds, logFile: logFile(replica.key, replica.spec, replica.slot))
            switch replica.phase {
            case .waiting(let until):
                status.state = .waiting
                if replica.launches > 0 { status.nextRestartAt = date(until) }
            case .launching, .starting: status.state = .starting
            case .ready:
                status.state = .ready
                status.ready = true
                status.serving = serving
            case .draining: status.state = .draining
            case .stopping: status.state = .stopping
            }
            return status
        }
        var result: [String: BackendStatus] = [:]
        for (key, state) in variants where key.endpoint == endpoint {
            guard let latest = state.pending ?? state.active else {
                guard let spec = state.retiring.first?.spec else { continue }
                result[key.variant] = BackendStatus(
                    kind: Self.kind(spec.backend), command: Self.command(spec.backend), modelVersion: spec.modelVersion, desiredReplicas: 0,
                    readyReplicas: 0, replicas: state.retiring.map { view($0, serving: false) })
                continue
            }
            var backend = BackendStatus(
                kind: Self.kind(latest.spec.backend), command: Self.command(latest.spec.backend), modelVersion: latest.spec.modelVersion,
                desiredReplicas: latest.desired, readyReplicas: state.active?.readyCount ?? 0)
            if let active = state.active, active.readyCount > 0 { backend.servingModelVersion = active.spec.modelVersion }
            switch latest.modelFolder {
            case .ready(let path): backend.modelDir = path
            case .failed(let message, _): backend.problem = message
            case .needed, .preparing: break
            }
            backend.replicas =
                (state.active?.replicas ?? []).map { view($0, serving: true) } + (state.pending?.replicas ?? []).map { view($0, serving: false) }
                + state.retiring.map { view($0, serving: false) }
            result[key.variant] = backend
        }
        return result.isEmpty ? nil : result
    }

    static func kind(_ backend: BackendSpec) -> String {
        switch backend {
        case .url: "url"
        case .command: "command"
        case .builtin: "builtin"
        }
    }

    static func command(_ backend: BackendSpec) -> String? {
        if case .command(let command) = backend { return command }
        return nil
    }

    static func format(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }
}

/// Why a model folder could not be made.
struct ModelFolderFailure: Error, Equatable, Sendable {
    var message: String
}
