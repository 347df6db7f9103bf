#if os(Linux)
import CSlipwayLinux
import Foundation
import Glibc
import Logging
import NIOCore
import Synchronization

/// The gateway's client connections on Linux, served by a few threads of its own on `epoll` rather than
/// by SwiftNIO's channels: the common inference request (what ``GatewayFastPath`` forwards) costs a read,
/// a send, a read and a send, with fixed per-connection buffers and no channel pipeline in between.
///
/// Each worker thread has its own `epoll` set, takes new connections from the shared listening socket,
/// and keeps its own pool of keep-alive connections to backends, so a request never leaves the thread it
/// arrived on. A request is routed and answered with ``FastExchange``, exactly as on the NIO fast path.
///
/// Anything else goes to NIO: when a connection sends a request the fast path does not forward (another
/// path or method, HTTP/1.0, chunked or compressed bodies, endpoints with mirroring, an invalid V2 body, a
/// backend that cannot be connected to, a host name instead of an address), the connection is handed, with
/// the bytes it sent and nothing answered yet, to the NIO pipeline every connection had before (its own
/// fast path first, then the full HTTP path), which serves it from then on.
///
/// Timeouts are checked by a sweep every 100 ms: a backend that takes longer than its timeout gets its
/// connection closed and the client a 504; a client silent for the gateway's idle timeout while no answer
/// is due is disconnected.
final class EpollGateway: @unchecked Sendable {
    private let listener: CInt
    private let workers: [EpollWorker]
    /// The port listened on.
    let port: Int

    /// Binds and listens; ``start()`` starts the worker threads.
    init(gateway: Gateway, host: String, port: Int, threads: Int, adopt: @escaping @Sendable (CInt, ByteBuffer) -> Void) throws {
        let (listener, bound) = try Self.listen(host: host, port: port)
        self.listener = listener
        self.port = bound
        var workers: [EpollWorker] = []
        do {
            for _ in 0..<max(1, threads) {
                workers.append(try EpollWorker(gateway: gateway, listener: listener, adopt: adopt))
            }
        } catch {
            for worker in workers { worker.release() }
            Glibc.close(listener)
            throw error
        }
        self.workers = workers
    }

    func start() {
        for worker in workers {
            // Named "slipway-gateway" by the worker itself (as `ps -L` and `perf` show it).
            let thread = Thread { worker.run() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Stops taking connections: the port refuses new ones from now on.
    func stopAccepting() {
        for worker in workers { worker.stopAccepting() }
        Glibc.shutdown(listener, CInt(SHUT_RDWR))
    }

    /// Closes every connection and stops the threads.
    func close() async {
        for worker in workers { worker.stop() }
        while !workers.allSatisfy({ $0.hasExited }) {
            try? await Task.sleep(for: .milliseconds(2))
        }
        for worker in workers { worker.release() }
        Glibc.close(listener)
    }

    struct SystemError: Error, CustomStringConvertible {
        var call: String
        var code: CInt
        var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
    }

    private static func listen(host: String, port: Int) throws -> (CInt, Int) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = CInt(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &found)
        guard resolved == 0, let info = found else {
            throw SystemError(call: "resolving '\(host)'", code: resolved == EAI_SYSTEM ? errno : EINVAL)
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.pointee.ai_family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", code: errno) }
        var one: CInt = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SystemError(call: "binding \(host):\(port)", code: code)
        }
        guard Glibc.listen(fd, 1024) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SystemError(call: "listen", code: code)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SystemError(call: "getsockname", code: code)
        }
        let boundPort: UInt16
        if CInt(storage.ss_family) == AF_INET6 {
            boundPort = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_port } }
        } else {
            boundPort = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port } }
        }
        return (fd, Int(UInt16(bigEndian: boundPort)))
    }
}

/// A client connection on a worker.
private final class EpollClient {
    let fd: CInt
    let tag: UInt32
    var input = ByteBuffer()
    /// Answer bytes the socket did not take yet.
    var output = ByteBuffer()
    enum State {
        /// Reading the next request.
        case ready
        /// A request is with its backend.
        case forwarding
        /// The last answer is being written; the connection closes after it.
        case closing
        /// Closed, or handed to NIO.
        case gone
    }
    var state = State.ready
    var upstream: EpollUpstream?
    var exchange = FastExchange()
    /// The answer in `output` ends a request the gateway still counts as in flight.
    var endsRequestOnDrain = false
    var lastActive: NIODeadline
    var requestIds = RequestIds()
    var spread = Int.random(in: 0..<1024)
    var slots = MetricSlots()
    var watchesWrites = false

    init(fd: CInt, tag: UInt32, now: NIODeadline) {
        self.fd = fd
        self.tag = tag
        self.lastActive = now
    }
}

/// A connection to a backend on a worker: in its pool while idle, or carrying one client's request.
private final class EpollUpstream {
    let fd: CInt
    let tag: UInt32
    let backend: GatewayTable.Backend
    var connecting: Bool
    var client: EpollClient?
    var input = ByteBuffer()
    var output = ByteBuffer()
    var reader = RawAnswerReader()
    var deadline = NIODeadline.distantFuture
    /// When connecting gives up.
    var connectDeadline: NIODeadline
    /// Whether any byte of the current request was taken by the socket.
    var sentAny = false
    var watchesWrites = false
    var closed = false

    init(fd: CInt, tag: UInt32, backend: GatewayTable.Backend, connecting: Bool, connectDeadline: NIODeadline) {
        self.fd = fd
        self.tag = tag
        self.backend = backend
        self.connecting = connecting
        self.connectDeadline = connectDeadline
    }
}

/// One thread's connections and its `epoll` set.
private final class EpollWorker: @unchecked Sendable {
    private let gateway: Gateway
    private let epfd: CInt
    private let wake: CInt
    private let listener: CInt
    private let adopt: @Sendable (CInt, ByteBuffer) -> Void
    private let stopping = Atomic<Bool>(false)
    private let accepting = Atomic<Bool>(true)
    private let exited = Atomic<Bool>(false)
    /// This thread's lane of the prediction log: its records reach the log without a lock.
    private let lane: PredictionLog.Lane?

    private enum Slot {
        case client(EpollClient)
        case upstream(EpollUpstream)
    }

    /// Connections by descriptor.
    private var slots: [Slot?] = []
    private var nextTag: UInt32 = 1
    /// Idle keep-alive connections by backend (a short list searched in order: comparing backends is cheaper
    /// than hashing one).
    private var idle: [(backend: GatewayTable.Backend, connections: [EpollUpstream])] = []
    /// Backends' socket addresses; nil for hosts that are not numeric addresses (NIO resolves those).
    private var addresses: [GatewayTable.Backend: Address?] = [:]
    private var now = NIODeadline.now()
    /// The routing table as this thread's requests use it.
    private var routing = RoutingCache()
    private var nextSweep = NIODeadline.now()
    private var listenerPaused = false
    /// Where the bytes of each request sent upstream, and of each answer, are built before they are sent;
    /// only what a socket does not take at once is copied to the connection.
    private var scratch = ByteBufferAllocator().buffer(capacity: 64 << 10)
    /// Read buffers of connections that have nothing buffered, for the next connection that reads: an idle
    /// keep-alive connection holds no buffer.
    private var spareBuffers: [ByteBuffer] = []
    private static let spareLimit = 256
    /// A buffer with no storage of its own, for connections that hold none.
    private static let noBuffer = ByteBufferAllocator().buffer(capacity: 0)

    private static let readSize = 16 << 10
    /// Idle connections kept per backend.
    private static let poolLimit = 64
    private static let connectTimeout = TimeAmount.seconds(5)

    init(gateway: Gateway, listener: CInt, adopt: @escaping @Sendable (CInt, ByteBuffer) -> Void) throws {
        self.gateway = gateway
        self.listener = listener
        self.adopt = adopt
        epfd = epoll_create1(CSlipwayEpollCloexec)
        guard epfd >= 0 else { throw EpollGateway.SystemError(call: "epoll_create1", code: errno) }
        wake = eventfd(0, CSlipwayEventfdFlags)
        guard wake >= 0 else {
            let code = errno
            Glibc.close(epfd)
            throw EpollGateway.SystemError(call: "eventfd", code: code)
        }
        // Once nothing can fail any more: ``release()`` retires it.
        lane = gateway.predictionLog?.makeLane()
        control(EPOLL_CTL_ADD, wake, tag: 0, events: CSlipwayEpollIn)
        control(EPOLL_CTL_ADD, listener, tag: 0, events: CSlipwayEpollIn | CSlipwayEpollExclusive)
    }

    var hasExited: Bool { exited.load(ordering: .acquiring) }

    /// Called from another thread.
    func stopAccepting() {
        accepting.store(false, ordering: .releasing)
        var event = epoll_event()
        epoll_ctl(epfd, EPOLL_CTL_DEL, listener, &event)
    }

    /// Called from another thread: the worker closes its connections and its thread ends.
    func stop() {
        stopping.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = Glibc.write(wake, &one, 8)
    }

    /// Closes the worker's descriptors once its thread has ended.
    /// Called once the thread has ended, or when it never started.
    func release() {
        if let lane { gateway.predictionLog?.retire(lane) }
        Glibc.close(wake)
        Glibc.close(epfd)
    }

    // MARK: The loop

    func run() {
        CSlipwayNameThread("slipway-gateway")
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while !stopping.load(ordering: .acquiring) {
            let count = epoll_wait(epfd, events, CInt(capacity), 100)
            now = .now()
            if count < 0 {
                if errno == EINTR { continue }
                gateway.logger.error("gateway worker stopped: epoll_wait failed: \(String(cString: strerror(errno)))")
                break
            }
            for index in 0..<Int(count) {
                let event = events[index]
                let fd = CInt(bitPattern: UInt32(truncatingIfNeeded: event.data.u64))
                let tag = UInt32(truncatingIfNeeded: event.data.u64 >> 32)
                if tag == 0 {
                    if fd == listener {
                        acceptConnections()
                    } else {
                        var value: UInt64 = 0
                        _ = Glibc.read(wake, &value, 8)
                    }
                    continue
                }
                guard Int(fd) < slots.count, let slot = slots[Int(fd)] else { continue }
                switch slot {
                case .client(let client):
                    guard client.tag == tag else { continue }
                    clientEvent(client, event.events)
                case .upstream(let upstream):
                    guard upstream.tag == tag else { continue }
                    upstreamEvent(upstream, event.events)
                }
            }
            if now >= nextSweep {
                sweep()
                nextSweep = now + .milliseconds(100)
            }
        }
        closeEverything()
        exited.store(true, ordering: .releasing)
    }

    private func control(_ operation: CInt, _ fd: CInt, tag: UInt32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = UInt64(UInt32(bitPattern: fd)) | UInt64(tag) << 32
        epoll_ctl(epfd, operation, fd, &event)
    }

    private func place(_ fd: CInt, _ slot: Slot) {
        let index = Int(fd)
        if index >= slots.count { slots.append(contentsOf: repeatElement(nil, count: index + 64 - slots.count)) }
        slots[index] = slot
    }

    private func takeTag() -> UInt32 {
        nextTag &+= 1
        if nextTag == 0 { nextTag = 1 }
        return nextTag
    }

    private static func setNoDelay(_ fd: CInt) {
        var one: CInt = 1
        setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
    }

    private func acceptConnections() {
        for _ in 0..<8 {
            let fd = CSlipwayAccept(listener)
            if fd < 0 {
                let code = errno
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                    // Out of descriptors: stop being told about the listener until the next sweep.
                    var event = epoll_event()
                    epoll_ctl(epfd, EPOLL_CTL_DEL, listener, &event)
                    listenerPaused = true
                    gateway.logger.warning("gateway cannot accept connections: \(String(cString: strerror(code)))")
                }
                return
            }
            guard accepting.load(ordering: .acquiring), !gateway.isDraining else {
                Glibc.close(fd)
                continue
            }
            Self.setNoDelay(fd)
            let client = EpollClient(fd: fd, tag: takeTag(), now: now)
            place(fd, .client(client))
            control(EPOLL_CTL_ADD, fd, tag: client.tag, events: CSlipwayEpollIn | CSlipwayEpollRdHup)
        }
    }

    // MARK: Reading and writing

    private enum ReadResult {
        case data(filled: Bool)
        case wouldBlock
        case end
    }

    /// One `recv` into the end of `buffer` (a socket's own call: cheaper than `read`, which goes through the file layer).
    private static func readSome(_ fd: CInt, into buffer: inout ByteBuffer) -> ReadResult {
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex > 0, buffer.readerIndex >= buffer.capacity / 2 {
            buffer.discardReadBytes()
        }
        while true {
            var result: Int = 0
            var space = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: readSize) { pointer in
                space = pointer.count
                result = Glibc.recv(fd, pointer.baseAddress, pointer.count, 0)
                return max(result, 0)
            }
            if result > 0 { return .data(filled: result == space) }
            if result == 0 { return .end }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .end
            }
        }
    }

    private enum WriteResult {
        case done
        case partial
        case failed
    }

    /// Sends as much of `buffer` as the socket takes, consuming it.
    private static func sendSome(_ fd: CInt, _ buffer: inout ByteBuffer) -> WriteResult {
        while buffer.readableBytes > 0 {
            let sent = buffer.withUnsafeReadableBytes { bytes in Glibc.send(fd, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL)) }
            if sent > 0 {
                buffer.moveReaderIndex(forwardBy: sent)
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .partial
            default: return .failed
            }
        }
        return .done
    }

    private func watchWrites(_ client: EpollClient, _ on: Bool) {
        guard client.watchesWrites != on else { return }
        client.watchesWrites = on
        control(EPOLL_CTL_MOD, client.fd, tag: client.tag, events: CSlipwayEpollIn | CSlipwayEpollRdHup | (on ? CSlipwayEpollOut : 0))
    }

    private func watchWrites(_ upstream: EpollUpstream, _ on: Bool) {
        guard upstream.watchesWrites != on else { return }
        upstream.watchesWrites = on
        control(EPOLL_CTL_MOD, upstream.fd, tag: upstream.tag, events: CSlipwayEpollIn | CSlipwayEpollRdHup | (on ? CSlipwayEpollOut : 0))
    }

    // MARK: Clients

    private func clientEvent(_ client: EpollClient, _ events: UInt32) {
        if events & CSlipwayEpollOut != 0 {
            clientWritable(client)
            guard client.state != .gone else { return }
        }
        if events & (CSlipwayEpollIn | CSlipwayEpollHup | CSlipwayEpollErr | CSlipwayEpollRdHup) != 0 {
            clientReadable(client)
        }
    }

    private func clientReadable(_ client: EpollClient) {
        if client.input.capacity == 0 { client.input = spareBuffers.popLast() ?? ByteBufferAllocator().buffer(capacity: Self.readSize) }
        reading: for _ in 0..<4 {
            switch Self.readSome(client.fd, into: &client.input) {
            case .data(let filled):
                client.lastActive = now
                if !filled { break reading }
            case .wouldBlock:
                break reading
            case .end:
                closeClient(client)
                return
            }
        }
        if client.input.readableBytes > GatewayFastPath.inputLimit {
            closeClient(client)
            return
        }
        process(client)
    }

    private func clientWritable(_ client: EpollClient) {
        switch Self.sendSome(client.fd, &client.output) {
        case .partial:
            client.lastActive = now
            return
        case .failed:
            closeClient(client)
            return
        case .done:
            client.lastActive = now
            client.output = Self.noBuffer
            watchWrites(client, false)
            if client.endsRequestOnDrain {
                client.endsRequestOnDrain = false
                gateway.endRequest()
            }
            if client.state == .closing {
                closeClient(client)
            } else {
                process(client)
            }
        }
    }

    /// Handles the requests waiting in the client's input, then lets go of its read buffer if nothing is left in it.
    private func process(_ client: EpollClient) {
        processRequests(client)
        if client.state == .ready, client.input.readableBytes == 0, client.input.capacity > 0 {
            var buffer = client.input
            client.input = Self.noBuffer
            if spareBuffers.count < Self.spareLimit, buffer.capacity <= 4 * Self.readSize {
                buffer.clear()
                spareBuffers.append(buffer)
            }
        }
    }

    /// Handles the requests waiting in the client's input, one at a time.
    private func processRequests(_ client: EpollClient) {
        while client.state == .ready, client.output.readableBytes == 0, client.input.readableBytes > 0 {
            let step = client.input.withUnsafeReadableBytes { GatewayFastPath.classify($0) }
            switch step {
            case .wait:
                return
            case .passThrough, .handOver:
                handOff(client)
                return
            case .forward(let request):
                guard client.input.readableBytes >= request.length else {
                    // A large body streams through the full path rather than being held here.
                    if request.length > GatewayFastPath.bodyLimit { handOff(client) }
                    return
                }
                if !forward(client, request) {
                    handOff(client)
                    return
                }
            }
        }
    }

    /// Gives the connection, with the bytes it sent that are not answered yet, to the NIO pipeline.
    private func handOff(_ client: EpollClient) {
        client.state = .gone
        var event = epoll_event()
        epoll_ctl(epfd, EPOLL_CTL_DEL, client.fd, &event)
        slots[Int(client.fd)] = nil
        let rest = client.input
        client.input = ByteBuffer()
        adopt(client.fd, rest)
    }

    private func forward(_ client: EpollClient, _ request: GatewayFastPath.Request) -> Bool {
        scratch.clear()
        guard
            let prepared = FastExchange.prepare(
                gateway, input: client.input, request: request, routing: &routing, requestIds: &client.requestIds, spread: &client.spread,
                into: &scratch),
            let backend = prepared.exchange.backend,
            let upstream = pooled(backend) ?? connect(backend)
        else { return false }
        client.exchange = prepared.exchange
        client.state = .forwarding
        client.upstream = upstream
        upstream.client = client
        upstream.deadline = now + prepared.timeout
        upstream.sentAny = false
        gateway.beginRequest()
        if upstream.connecting {
            upstream.output.clear()
            upstream.output.writeBuffer(&scratch)
            return true
        }
        return sendRequest(upstream)
    }

    /// Sends the request built in `scratch`; what the socket does not take waits in the connection's output.
    private func sendRequest(_ upstream: EpollUpstream) -> Bool {
        let before = scratch.readableBytes
        let result = Self.sendSome(upstream.fd, &scratch)
        if scratch.readableBytes < before { upstream.sentAny = true }
        if case .partial = result {
            upstream.output.clear()
            upstream.output.writeBuffer(&scratch)
        }
        return settle(upstream, result)
    }

    /// Sends what waits in the upstream connection's output.
    private func flushUpstream(_ upstream: EpollUpstream) -> Bool {
        let before = upstream.output.readableBytes
        let result = Self.sendSome(upstream.fd, &upstream.output)
        if upstream.output.readableBytes < before { upstream.sentAny = true }
        return settle(upstream, result)
    }

    /// After a send: on a failure the client is answered (when part of its request went out) or left for the
    /// full path, and false is returned when it should go there.
    private func settle(_ upstream: EpollUpstream, _ result: WriteResult) -> Bool {
        switch result {
        case .done:
            watchWrites(upstream, false)
            return true
        case .partial:
            watchWrites(upstream, true)
            return true
        case .failed:
            if upstream.sentAny {
                brokenUpstream(upstream, "the connection broke while the request was sent")
                return true
            }
            // Nothing was sent: the full path connects (and retries on the stable variant) itself.
            if let client = upstream.client {
                detach(client)
                closeUpstream(upstream)
                gateway.endRequest()
                client.state = .ready
            } else {
                closeUpstream(upstream)
            }
            return false
        }
    }

    /// Answers a client whose exchange failed after its request went out.
    private func exchangeFailed(_ client: EpollClient, timedOut: Bool, _ reason: String) {
        detach(client)
        scratch.clear()
        let keepAlive = client.exchange.failed(gateway, timedOut: timedOut, reason: reason, slots: &client.slots, lane: lane, into: &scratch)
        finish(client, keepAlive: keepAlive)
    }

    private func detach(_ client: EpollClient) {
        client.upstream?.client = nil
        client.upstream = nil
    }

    /// Writes the answer built in `scratch` and moves on to the next request (or closes the connection after
    /// the answer).
    private func finish(_ client: EpollClient, keepAlive: Bool) {
        client.input.moveReaderIndex(forwardBy: min(client.exchange.length, client.input.readableBytes))
        client.exchange = FastExchange()
        client.state = keepAlive ? .ready : .closing
        switch Self.sendSome(client.fd, &scratch) {
        case .done:
            gateway.endRequest()
            client.lastActive = now
            if client.state == .closing {
                closeClient(client)
            } else {
                process(client)
            }
        case .partial:
            client.output.clear()
            client.output.writeBuffer(&scratch)
            client.endsRequestOnDrain = true
            watchWrites(client, true)
        case .failed:
            gateway.endRequest()
            closeClient(client)
        }
    }

    private func closeClient(_ client: EpollClient) {
        guard client.state != .gone else { return }
        if client.state == .forwarding {
            gateway.endRequest()
            if let upstream = client.upstream {
                detach(client)
                closeUpstream(upstream)
            }
        }
        if client.endsRequestOnDrain {
            client.endsRequestOnDrain = false
            gateway.endRequest()
        }
        client.state = .gone
        slots[Int(client.fd)] = nil
        Glibc.close(client.fd)
    }

    // MARK: Backends

    private enum Address {
        case v4(sockaddr_in)
        case v6(sockaddr_in6)
    }

    private func address(_ backend: GatewayTable.Backend) -> Address? {
        if let known = addresses[backend] { return known }
        var address: Address?
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, backend.host, &v4) == 1 {
            var socket = sockaddr_in()
            socket.sin_family = sa_family_t(AF_INET)
            socket.sin_port = UInt16(truncatingIfNeeded: backend.port).bigEndian
            socket.sin_addr = v4
            address = .v4(socket)
        } else if inet_pton(AF_INET6, backend.host, &v6) == 1 {
            var socket = sockaddr_in6()
            socket.sin6_family = sa_family_t(AF_INET6)
            socket.sin6_port = UInt16(truncatingIfNeeded: backend.port).bigEndian
            socket.sin6_addr = v6
            address = .v6(socket)
        }
        if addresses.count > 1024 { addresses.removeAll() }
        addresses[backend] = .some(address)
        return address
    }

    /// A new connection to a backend (connecting, or connected already as loopback often is); nil when it
    /// cannot be started here.
    private func connect(_ backend: GatewayTable.Backend) -> EpollUpstream? {
        guard (1...65535).contains(backend.port), let address = address(backend) else { return nil }
        let family: CInt
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        }
        let fd = socket(family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        Self.setNoDelay(fd)
        var result: CInt
        switch address {
        case .v4(var socket):
            result = withUnsafePointer(to: &socket) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(var socket):
            result = withUnsafePointer(to: &socket) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        let connecting = result != 0
        if connecting, errno != EINPROGRESS {
            Glibc.close(fd)
            return nil
        }
        let upstream = EpollUpstream(fd: fd, tag: takeTag(), backend: backend, connecting: connecting, connectDeadline: now + Self.connectTimeout)
        place(fd, .upstream(upstream))
        upstream.watchesWrites = connecting
        control(EPOLL_CTL_ADD, fd, tag: upstream.tag, events: CSlipwayEpollIn | CSlipwayEpollRdHup | (connecting ? CSlipwayEpollOut : 0))
        return upstream
    }

    private func upstreamEvent(_ upstream: EpollUpstream, _ events: UInt32) {
        if upstream.connecting {
            guard events & (CSlipwayEpollOut | CSlipwayEpollErr | CSlipwayEpollHup) != 0 else { return }
            var code: CInt = 0
            var length = socklen_t(MemoryLayout<CInt>.size)
            getsockopt(upstream.fd, SOL_SOCKET, SO_ERROR, &code, &length)
            if code != 0 || events & (CSlipwayEpollErr | CSlipwayEpollHup) != 0 {
                connectFailed(upstream)
                return
            }
            upstream.connecting = false
            let client = upstream.client
            if !flushUpstream(upstream), let client { handOff(client) }
            return
        }
        if events & CSlipwayEpollOut != 0 {
            let client = upstream.client
            if !flushUpstream(upstream), let client {
                handOff(client)
                return
            }
            if upstream.closed { return }
        }
        if events & (CSlipwayEpollIn | CSlipwayEpollHup | CSlipwayEpollErr | CSlipwayEpollRdHup) != 0 {
            upstreamReadable(upstream)
        }
    }

    /// Connecting failed before any byte was sent: the full path answers (connecting and retrying itself).
    private func connectFailed(_ upstream: EpollUpstream) {
        let client = upstream.client
        closeUpstream(upstream)
        guard let client, client.state == .forwarding else { return }
        detach(client)
        gateway.endRequest()
        client.state = .ready
        handOff(client)
    }

    private func upstreamReadable(_ upstream: EpollUpstream) {
        var atEnd = false
        reading: for _ in 0..<8 {
            switch Self.readSome(upstream.fd, into: &upstream.input) {
            case .data(let filled):
                if !filled { break reading }
            case .wouldBlock:
                break reading
            case .end:
                atEnd = true
                break reading
            }
        }
        guard let client = upstream.client else {
            // An idle connection the backend closed, or bytes nobody asked for: either way it is done.
            closeUpstream(upstream)
            return
        }
        switch upstream.reader.read(&upstream.input, atEnd: atEnd) {
        case .incomplete:
            return
        case .failed(let reason):
            brokenUpstream(upstream, reason)
        case .complete(let closes):
            detach(client)
            scratch.clear()
            let keepAlive = client.exchange.answered(gateway, upstream.reader, slots: &client.slots, lane: lane, into: &scratch)
            upstream.reader.release()
            if closes || atEnd || upstream.output.readableBytes > 0 {
                closeUpstream(upstream)
            } else {
                park(upstream)
            }
            finish(client, keepAlive: keepAlive)
        }
    }

    /// The exchange on a connection failed after the request went out: the client gets a 502.
    private func brokenUpstream(_ upstream: EpollUpstream, _ reason: String) {
        let client = upstream.client
        closeUpstream(upstream)
        if let client, client.state == .forwarding { exchangeFailed(client, timedOut: false, reason) }
    }

    /// Where a backend's idle connections are in ``idle``.
    private func poolIndex(_ backend: GatewayTable.Backend) -> Int? {
        idle.firstIndex { $0.backend.port == backend.port && $0.backend == backend }
    }

    /// An idle connection to the backend from the pool. One the backend closed shows up as readable and its
    /// event closes it, which takes it out of the pool.
    private func pooled(_ backend: GatewayTable.Backend) -> EpollUpstream? {
        guard let index = poolIndex(backend) else { return nil }
        return idle[index].connections.popLast()
    }

    private func park(_ upstream: EpollUpstream) {
        upstream.deadline = .distantFuture
        upstream.input.clear()
        let backend = upstream.backend
        guard let index = poolIndex(backend) else {
            // Backends come and go with deployments: forget the ones with no idle connections first.
            if idle.count >= 256 { idle.removeAll { $0.connections.isEmpty } }
            idle.append((backend, [upstream]))
            return
        }
        guard idle[index].connections.count < Self.poolLimit else {
            closeUpstream(upstream)
            return
        }
        idle[index].connections.append(upstream)
    }

    private func closeUpstream(_ upstream: EpollUpstream) {
        guard !upstream.closed else { return }
        upstream.closed = true
        upstream.client = nil
        slots[Int(upstream.fd)] = nil
        Glibc.close(upstream.fd)
        if let entry = poolIndex(upstream.backend), let index = idle[entry].connections.firstIndex(where: { $0 === upstream })
        {
            idle[entry].connections.remove(at: index)
        }
    }

    // MARK: Time

    /// Timeouts, and a paused listener's return.
    private func sweep() {
        if listenerPaused, accepting.load(ordering: .acquiring) {
            listenerPaused = false
            control(EPOLL_CTL_ADD, listener, tag: 0, events: CSlipwayEpollIn | CSlipwayEpollExclusive)
        }
        let idleTimeout = gateway.idleTimeout
        for slot in slots {
            guard case .client(let client) = slot else { continue }
            switch client.state {
            case .forwarding:
                guard let upstream = client.upstream else { continue }
                if upstream.connecting, now >= upstream.connectDeadline {
                    connectFailed(upstream)
                } else if now >= upstream.deadline {
                    closeUpstream(upstream)
                    exchangeFailed(client, timedOut: true, "the backend did not answer in time")
                }
            case .ready, .closing:
                if now - client.lastActive >= idleTimeout { closeClient(client) }
            case .gone:
                break
            }
        }
    }

    private func closeEverything() {
        for slot in slots {
            switch slot {
            case .client(let client): closeClient(client)
            case .upstream(let upstream): closeUpstream(upstream)
            case nil: break
            }
        }
        idle = []
    }
}
#endif
