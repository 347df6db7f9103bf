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
///
/// A client that sends nothing for ``idleTimeout`` while no answer is due (an idle keep-alive
/// connection, or one stalled in the middle of a request head or body) is disconnected; a backend that
/// does not answer within its endpoint's timeout gets its connection closed and the client a 504.
public final class Gateway: Sendable {
    private let table: NIOLockedValueBox<GatewayTable>
    /// Changes with every ``update(_:)``: fast paths keep what they prepared from a table until it changes.
    private let generation = Atomic<UInt64>(0)
    private let group: any EventLoopGroup
    let counters: GatewayCounters
    /// Per-variant request counts, errors, latency, predictions and outcomes.
    public let metrics: LiveMetrics
    let logger: Logger
    private let serverChannel: NIOLockedValueBox<(any Channel)?>
    /// The most mirrored requests one client connection keeps in flight; more are dropped and counted.
    let mirrorQueueLimit: Int
    /// How long an upstream may take to answer, at most (an endpoint's own timeout may be shorter).
    let upstreamTimeout: TimeAmount
    /// Where answered requests are logged, if anywhere.
    let predictions: (any PredictionSink)?
    /// The same sink when it is a ``PredictionLog``, which can hash features on its writer.
    let predictionLog: PredictionLog?
    /// How long a client connection may send nothing while no answer is due before it is closed.
    public let idleTimeout: TimeAmount
    /// Requests (and mirrored copies) received and not answered yet; ``stop(gracePeriod:)`` waits for them.
    private let inFlight = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)
    /// Set once a routing table is installed: `GET /v2/health/ready` answers 200 from then on.
    private let ready = Atomic<Bool>(false)
    /// The open client connections, closed by ``stop(gracePeriod:)``.
    private let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    /// How client connections are served.
    private let io: DataPlaneIO
    /// The address listened on, once started.
    private let boundAddress = NIOLockedValueBox<SocketAddress?>(nil)
    #if os(Linux)
    /// The client connections' own `epoll` threads, when they serve them.
    private let epoll = NIOLockedValueBox<EpollGateway?>(nil)
    #endif

    /// How the data plane serves client connections.
    public enum DataPlaneIO: String, Sendable {
        /// Threads of the gateway's own on `epoll` for the common inference request, handing every other
        /// connection to NIO (Linux); NIO alone elsewhere.
        case automatic
        /// SwiftNIO channels for every connection.
        case nio
    }

    /// - Parameters:
    ///   - mirrorQueueLimit: the most mirrored copies one client connection keeps in flight.
    ///   - upstreamTimeout: the longest any backend may take (an endpoint's own timeout may be shorter).
    ///   - predictions: where answered requests are logged (a ``PredictionLog``), if anywhere.
    ///   - idleTimeout: how long a client connection may stay silent while no answer is due (default 60 s).
    ///   - io: how client connections are served (by default the `epoll` threads on Linux; the server takes it
    ///     from `SLIPWAY_GATEWAY_IO`).
    public init(
        table: GatewayTable? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
        mirrorQueueLimit: Int = 64, upstreamTimeout: TimeAmount = .seconds(3600), predictions: (any PredictionSink)? = nil,
        idleTimeout: TimeAmount = .seconds(60), io: DataPlaneIO = .automatic
    ) {
        self.io = io
        self.predictions = predictions
        self.predictionLog = predictions as? PredictionLog
        self.idleTimeout = idleTimeout
        let log = predictions as? PredictionLog
        self.metrics = LiveMetrics(droppedPredictions: { log?.dropped ?? 0 })
        self.table = NIOLockedValueBox(table ?? GatewayTable())
        self.ready.store(table != nil, ordering: .relaxed)
        self.group = group
        self.logger = logger
        self.counters = GatewayCounters()
        self.serverChannel = NIOLockedValueBox(nil)
        self.mirrorQueueLimit = mirrorQueueLimit
        self.upstreamTimeout = upstreamTimeout
    }

    /// The table requests are routed with right now.
    public var currentTable: GatewayTable { table.withLockedValue { $0 } }

    /// A number that changes whenever the table does (read before ``currentTable``, it tells a cache built
    /// from that table when to rebuild).
    var tableGeneration: UInt64 { generation.load(ordering: .acquiring) }

    /// Replaces the routing table in one step. The first table installed makes the gateway ready.
    public func update(_ newTable: GatewayTable) {
        table.withLockedValue { $0 = newTable }
        generation.add(1, ordering: .releasing)
        ready.store(true, ordering: .releasing)
    }

    /// Whether a routing table is installed (given to ``init(table:group:logger:mirrorQueueLimit:upstreamTimeout:predictions:idleTimeout:)``
    /// or by ``update(_:)``): until then `GET /v2/health/ready` answers 503.
    public var isReady: Bool { ready.load(ordering: .acquiring) }

    /// The version `GET /v2` reports in the V2 server metadata.
    public static let version = "0.1.0"

    /// The address the data plane listens on, once started.
    public var localAddress: SocketAddress? { boundAddress.withLockedValue { $0 } }

    /// Binds and starts serving; returns the port (useful with port 0).
    public func start(host: String, port: Int) async throws -> Int {
        #if os(Linux)
        if io == .automatic {
            let epoll = try EpollGateway(gateway: self, host: host, port: port, threads: System.coreCount) { [self] fd, bytes in
                adopt(fd, bytes)
            }
            epoll.start()
            self.epoll.withLockedValue { $0 = epoll }
            boundAddress.withLockedValue { $0 = try? SocketAddress.makeAddressResolvingHost(host, port: epoll.port) }
            return epoll.port
        }
        #endif
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try configure(channel) }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        serverChannel.withLockedValue { $0 = channel }
        boundAddress.withLockedValue { $0 = channel.localAddress }
        return channel.localAddress?.port ?? port
    }

    /// A client connection's pipeline: the fast path for the common inference request, then the full HTTP path.
    private func configure(_ channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
        // The common inference request is forwarded from its bytes; the rest go on to the HTTP pipeline.
        let fastPath = GatewayFastPath(gateway: self)
        try channel.pipeline.syncOperations.addHandler(fastPath)
        // Answers carry their own Content-Length and headers that came through a parser or are the
        // gateway's own, so the encoder neither adds framing headers nor validates them again.
        var encoding = HTTPResponseEncoder.Configuration()
        encoding.automaticallySetFramingHeaders = false
        // No pipelining assistance or error handler: the handler answers pipelined requests in
        // order itself, and answers a request the parser cannot read after the ones before it.
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
            withEncoderConfiguration: encoding)
        let handler = GatewayHandler(gateway: self)
        handler.fastPath = fastPath
        try channel.pipeline.syncOperations.addHandler(handler)
        track(channel)
    }

    /// Serves a client connection on NIO from here on: `bytes` are what it sent and was not answered yet.
    private func adopt(_ fd: CInt, _ bytes: ByteBuffer) {
        ClientBootstrap(group: group)
            .channelOption(.autoRead, value: false)
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try configure(channel) }
            }
            .withConnectedSocket(fd)
            .whenComplete { [logger] result in
                switch result {
                case .success(let channel):
                    channel.eventLoop.execute {
                        // The bytes already read go first; only then does the channel read the socket.
                        if bytes.readableBytes > 0 {
                            channel.pipeline.syncOperations.fireChannelRead(NIOAny(bytes))
                            channel.pipeline.syncOperations.fireChannelReadComplete()
                        }
                        channel.setOption(.autoRead, value: true).whenFailure { _ in channel.close(promise: nil) }
                    }
                case .failure(let error):
                    logger.warning("gateway could not hand a connection over: \(error)")
                }
            }
    }

    /// Stops gracefully: closes the listening socket, lets the requests in flight finish (their answers
    /// close their connections) for up to `gracePeriod`, then closes every client connection. Every
    /// answer written has been handed to the prediction log when this returns: close the log after it.
    public func stop(gracePeriod: TimeAmount = .seconds(10)) async {
        draining.store(true, ordering: .relaxed)
        let channel = serverChannel.withLockedValue { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
        #if os(Linux)
        let epoll = self.epoll.withLockedValue { $0 }
        epoll?.stopAccepting()
        #endif
        let deadline = NIODeadline.now() + gracePeriod
        while inFlight.load(ordering: .relaxed) > 0, NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        #if os(Linux)
        await epoll?.close()
        self.epoll.withLockedValue { $0 = nil }
        #endif
        boundAddress.withLockedValue { $0 = nil }
        let open = connections.withLockedValue { Array($0.values) }
        for connection in open { connection.close(promise: nil) }
        for connection in open { try? await connection.closeFuture.get() }
    }

    /// Whether ``stop(gracePeriod:)`` has begun: answers then close their connections.
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    func beginRequest() { inFlight.add(1, ordering: .relaxed) }
    func endRequest() { inFlight.subtract(1, ordering: .relaxed) }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        connections.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [connections] _ in connections.withLockedValue { $0[id] = nil } }
        if isDraining { channel.close(promise: nil) }
    }

    /// Counters of the data plane (requests, errors, mirrored, dropped mirrors).
    public var statistics: GatewayCounters.Snapshot { counters.snapshot() }
}

/// Monotonic counters, safe to bump from any event loop: one atomic each, so bumping one takes no lock.
public final class GatewayCounters: Sendable {
    private let requests = Atomic<Int>(0)
    private let errors = Atomic<Int>(0)
    private let mirrored = Atomic<Int>(0)
    private let mirrorsDropped = Atomic<Int>(0)
    private let retries = Atomic<Int>(0)

    public struct Snapshot: Sendable, Equatable {
        public var requests = 0
        public var errors = 0
        public var mirrored = 0
        public var mirrorsDropped = 0
        public var retries = 0
    }

    /// One of the counters.
    enum Counter {
        case requests, errors, mirrored, mirrorsDropped, retries
    }

    func bump(_ counter: Counter) {
        switch counter {
        case .requests: requests.add(1, ordering: .relaxed)
        case .errors: errors.add(1, ordering: .relaxed)
        case .mirrored: mirrored.add(1, ordering: .relaxed)
        case .mirrorsDropped: mirrorsDropped.add(1, ordering: .relaxed)
        case .retries: retries.add(1, ordering: .relaxed)
        }
    }

    func snapshot() -> Snapshot {
        Snapshot(
            requests: requests.load(ordering: .relaxed), errors: errors.load(ordering: .relaxed), mirrored: mirrored.load(ordering: .relaxed),
            mirrorsDropped: mirrorsDropped.load(ordering: .relaxed), retries: retries.load(ordering: .relaxed))
    }
}
