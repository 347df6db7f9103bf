public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOHTTP1
public import NIOPosix
import Synchronization

/// The data plane: an HTTP/1.1 proxy on SwiftNIO in front of model servers.
///
/// It speaks the Open Inference Protocol's paths (`/v2/models/{endpoint}/infer`, `/v2/health/*`,
/// `/v2/models/{endpoint}`), passes `/endpoints/{endpoint}/…` through unchanged, routes each request
/// with the endpoint's ``EndpointRoutes``, keeps one keep-alive upstream connection per client
/// connection and backend (on the same event loop, so no thread hops), and mirrors a share of the
/// traffic asynchronously. The routing table is swapped atomically with ``update(_:)``: a request
/// in flight finishes on the table it started with.
public final class Gateway: Sendable {
    private let table: NIOLockedValueBox<GatewayTable>
    private let group: any EventLoopGroup
    let counters: GatewayCounters
    /// Per-variant request counts, errors and latency.
    public let metrics = LiveMetrics()
    let logger: Logger
    private let serverChannel: NIOLockedValueBox<(any Channel)?>
    /// The most mirrored requests one client connection keeps in flight; more are dropped and counted.
    let mirrorQueueLimit: Int
    /// How long an upstream may take to answer, at most (an endpoint's own timeout may be shorter).
    let upstreamTimeout: TimeAmount
    /// Where answered requests are logged, if anywhere.
    let predictions: (any PredictionSink)?

    public init(
        table: GatewayTable = GatewayTable(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        mirrorQueueLimit: Int = 64, upstreamTimeout: TimeAmount = .seconds(3600), predictions: (any PredictionSink)? = nil
    ) {
        self.predictions = predictions
        self.table = NIOLockedValueBox(table)
        self.group = group
        self.logger = logger
        self.counters = GatewayCounters()
        self.serverChannel = NIOLockedValueBox(nil)
        self.mirrorQueueLimit = mirrorQueueLimit
        self.upstreamTimeout = upstreamTimeout
    }

    /// The table requests are routed with right now.
    public var currentTable: GatewayTable { table.withLockedValue { $0 } }

    /// Replaces the routing table in one step.
    public func update(_ newTable: GatewayTable) {
        table.withLockedValue { $0 = newTable }
    }

    /// Binds and starts serving; returns the port (useful with port 0).
    public func start(host: String, port: Int) async throws -> Int {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(GatewayHandler(gateway: self))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        serverChannel.withLockedValue { $0 = channel }
        return channel.localAddress?.port ?? port
    }

    /// Stops accepting connections and closes the listening socket.
    public func stop() async {
        let channel = serverChannel.withLockedValue { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
    }

    /// Counters of the data plane (requests, errors, mirrored, dropped mirrors).
    public var statistics: GatewayCounters.Snapshot { counters.snapshot() }
}

/// Monotonic counters, safe to bump from any event loop.
public final class GatewayCounters: Sendable {
    private let state = Mutex(Snapshot())

    public struct Snapshot: Sendable, Equatable {
        public var requests = 0
        public var errors = 0
        public var mirrored = 0
        public var mirrorsDropped = 0
        public var retries = 0
    }

    func bump(_ path: WritableKeyPath<Snapshot, Int>) {
        state.withLock { $0[keyPath: path] += 1 }
    }

    func snapshot() -> Snapshot { state.withLock { $0 } }
}
