import NIOCore
import NIOPosix

/// A keep-alive connection to one backend for the gateway's fast path: requests go out as bytes the
/// fast path built, answers come back as bytes with the few facts about them read in one pass (status,
/// framing, the header lines the gateway replaces). No HTTP codec in the pipeline, no futures per
/// exchange. One exchange at a time, on the event loop of the client connection that owns it.
final class RawUpstreamConnection {
    let channel: any Channel
    let handler: RawUpstreamHandler

    init(channel: any Channel, handler: RawUpstreamHandler) {
        self.channel = channel
        self.handler = handler
    }

    var isUsable: Bool { channel.isActive && !handler.closing }
    var isBusy: Bool { handler.isBusy }

    /// Connects to a backend on an event loop.
    static func connect(to backend: GatewayTable.Backend, on eventLoop: any EventLoop) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.maxMessagesPerRead, value: 4)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawUpstreamHandler())
                }
            }
            .connect(host: backend.host, port: backend.port)
    }
}

/// What the fast path is told when an exchange ends.
protocol RawUpstreamOwner: AnyObject {
    /// The backend answered; the answer's parts are readable on `handler.answer` during this call only.
    func upstreamAnswered(_ handler: RawUpstreamHandler)
    /// The exchange failed after the request went out (the connection broke, the answer was not HTTP,
    /// or the backend took longer than the timeout).
    func upstreamFailed(_ handler: RawUpstreamHandler, timedOut: Bool, reason: String)
}

/// Sends one request's bytes and reads the answer with a ``RawAnswerReader``.
final class RawUpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private weak var owner: (any RawUpstreamOwner)?
    private var context: ChannelHandlerContext?
    private var busy = false
    private var input = ByteBuffer()
    private var deadline = NIODeadline.distantFuture
    private var timer: Scheduled<Void>?
    private var timerDeadline = NIODeadline.distantFuture
    private(set) var closing = false
    /// The answer, valid while the owner is told about it.
    private(set) var answer = RawAnswerReader()

    var isBusy: Bool { busy }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    /// Sends a request; `owner` is told once, on this connection's event loop, how it ended.
    func send(_ request: ByteBuffer, timeout: TimeAmount, owner: any RawUpstreamOwner) -> Bool {
        guard let context, !busy, !closing else { return false }
        busy = true
        self.owner = owner
        deadline = .now() + timeout
        if timer == nil || deadline < timerDeadline { arm(context) }
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
        return true
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerDeadline = .distantFuture
            guard busy, let context = self.context else { return }
            if NIODeadline.now() >= deadline {
                closing = true
                fail(timedOut: true, "the backend did not answer in time")
                context.close(promise: nil)
            } else {
                arm(context)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        guard busy else {
            // Bytes nobody asked for: the connection is no longer in step with the backend.
            closing = true
            context.close(promise: nil)
            return
        }
        input.append(&part)
        parse(context, atEnd: false)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        timer?.cancel()
        timer = nil
        if busy { parse(context, atEnd: true) }
        if busy { fail(timedOut: false, "the backend closed the connection") }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closing = true
        fail(timedOut: false, "\(error)")
        context.close(promise: nil)
    }

    private func fail(timedOut: Bool, _ reason: String) {
        guard busy else { return }
        busy = false
        deadline = .distantFuture
        input.moveReaderIndex(forwardBy: input.readableBytes)
        let owner = self.owner
        self.owner = nil
        owner?.upstreamFailed(self, timedOut: timedOut, reason: reason)
    }

    /// Reads the answer in `input` when it is complete, and tells the owner.
    private func parse(_ context: ChannelHandlerContext, atEnd: Bool) {
        guard busy else { return }
        switch answer.read(&input, atEnd: atEnd) {
        case .incomplete:
            return
        case .failed(let reason):
            closing = true
            fail(timedOut: false, reason)
            context.close(promise: nil)
        case .complete(let closes):
            busy = false
            deadline = .distantFuture
            if closes {
                closing = true
                context.close(promise: nil)
            }
            let owner = self.owner
            self.owner = nil
            owner?.upstreamAnswered(self)
            answer.release()
        }
    }
}

/// Reads a backend's answer from the bytes received: its status line and header lines are kept as they
/// came, with the lines the gateway replaces (framing, hop-by-hop and its own headers) noted, and the
/// body collected whole (by `Content-Length`, chunked, or up to the end of the connection). Interim (1xx)
/// answers are skipped.
struct RawAnswerReader {
    /// The status code.
    private(set) var status = 0
    /// The status line after `HTTP/1.x ` (the code and reason), and the header lines, as received.
    private(set) var head = ByteBuffer()
    /// Where the status text ends in ``head`` (before its CRLF); header lines follow it.
    private(set) var statusEnd = 0
    /// Header lines of ``head`` the gateway does not pass on (offsets into ``head``).
    private(set) var dropped: [Range<Int>] = []
    /// The body, unframed.
    private(set) var body = ByteBuffer()
    /// The answer's `Inference-Header-Content-Length`, when it has a usable one.
    private(set) var inferenceHeaderLength: Int?

    enum Outcome {
        /// More bytes are needed.
        case incomplete
        /// The answer cannot be read (or ended early); the connection is of no further use.
        case failed(String)
        /// The answer is in ``head`` and ``body``; `closes` when the connection cannot carry another exchange.
        case complete(closes: Bool)
    }

    /// Reads an answer from the start of `input` (all of whose bytes belong to this exchange); `atEnd` when
    /// the backend closed the connection after them. A complete answer's bytes are consumed.
    mutating func read(_ input: inout ByteBuffer, atEnd: Bool) -> Outcome {
        let ended = "the backend closed the connection in the middle of its answer"
        while true {
            let parsed = input.withUnsafeReadableBytes { bytes in readHead(bytes) }
            switch parsed {
            case .incomplete:
                return atEnd ? .failed(ended) : .incomplete
            case .invalid(let reason):
                return .failed("the backend's answer is not HTTP: \(reason)")
            case .interim(let end):
                input.moveReaderIndex(forwardBy: end)
                continue
            case .complete(let headEnd, let framing, let keepAlive):
                var closes = !keepAlive
                var bodyBytes: ByteBuffer
                switch framing {
                case .length(let length):
                    guard input.readableBytes - headEnd >= length else { return atEnd ? .failed(ended) : .incomplete }
                    bodyBytes = input.getSlice(at: input.readerIndex + headEnd, length: length) ?? ByteBuffer()
                    if input.readableBytes - headEnd > length { closes = true }
                case .untilClose:
                    guard atEnd else { return .incomplete }
                    bodyBytes = input.getSlice(at: input.readerIndex + headEnd, length: input.readableBytes - headEnd) ?? ByteBuffer()
                case .chunked:
                    let decoded = input.withUnsafeReadableBytes { bytes in Self.dechunk(bytes, from: headEnd) }
                    switch decoded {
                    case .incomplete:
                        return atEnd ? .failed(ended) : .incomplete
                    case .invalid:
                        return .failed("the backend's chunked answer is malformed")
                    case .complete(let decodedBody, let end):
                        bodyBytes = decodedBody
                        if end < input.readableBytes { closes = true }
                    }
                }
                if atEnd { closes = true }
                // The status line without its version, and the header lines, as they came.
                head = input.getSlice(at: input.readerIndex + 9, length: headEnd - 9 - 2) ?? ByteBuffer()
                body = bodyBytes
                input.moveReaderIndex(forwardBy: input.readableBytes)
                return .complete(closes: closes)
            }
        }
    }

    /// Lets go of the answer's bytes (so the connection's input buffer is not shared when it is next written).
    mutating func release() {
        head = ByteBuffer()
        body = ByteBuffer()
    }

    private enum Framing {
        case length(Int)
        case chunked
        case untilClose
    }

    private enum Parsed {
        case incomplete
        case invalid(String)
        case complete(headEnd: Int, framing: Framing, keepAlive: Bool)
        /// An interim (1xx) answer ending at the offset: skipped.
        case interim(Int)
    }

    /// Reads the head of the answer at the start of `bytes`; sets ``status``, ``statusEnd``, ``dropped``
    /// and ``inferenceHeaderLength``.
    private mutating func readHead(_ bytes: UnsafeRawBufferPointer) -> Parsed {
        var bareLF = false
        guard let end = RawHTTP.headEnd(bytes, bareLF: &bareLF) else {
            if bareLF { return .invalid("a line ends without CR") }
            if bytes.count > 80 << 10 { return .invalid("the head is longer than 80 KiB") }
            return .incomplete
        }
        // "HTTP/1.1 200 OK\r\n": version, space, three digits.
        guard end >= 14, RawHTTP.equals(bytes, 0..<7, "http/1."), bytes[7] == UInt8(ascii: "1") || bytes[7] == UInt8(ascii: "0"),
            bytes[8] == UInt8(ascii: " "), let code = RawHTTP.decimal(bytes, 9..<12), code >= 100,
            bytes[12] == UInt8(ascii: " ") || bytes[12] == UInt8(ascii: "\r")
        else { return .invalid("no status line") }
        let http10 = bytes[7] == UInt8(ascii: "0")
        guard let lineEnd = RawHTTP.memchrIndex(bytes, UInt8(ascii: "\n"), from: 0) else { return .invalid("no status line") }
        for index in 9..<(lineEnd - 1) where bytes[index] < 0x20 && bytes[index] != 0x09 || bytes[index] == 0x7F {
            return .invalid("a control character in the status line")
        }
        if code < 200 {
            guard code != 101 else { return .invalid("the backend switched protocols") }
            return .interim(end)
        }
        status = code
        statusEnd = lineEnd - 1 - 9
        dropped.removeAll(keepingCapacity: true)
        inferenceHeaderLength = nil
        var length: Int?
        var chunked = false
        var otherCoding = false
        var conflicting = false
        var close = false
        var keepAliveAsked = false
        let well = RawHTTP.forEachField(bytes, (lineEnd + 1)..<end) { name, value, line in
            let relative = (line.lowerBound - 9)..<(line.upperBound - 9)
            switch name.count {
            case 10:
                if RawHTTP.equals(bytes, name, "connection") {
                    if RawHTTP.listContains(bytes, value, "close") { close = true }
                    if RawHTTP.listContains(bytes, value, "keep-alive") { keepAliveAsked = true }
                    dropped.append(relative)
                } else if RawHTTP.equals(bytes, name, "keep-alive") {
                    dropped.append(relative)
                }
            case 12:
                if RawHTTP.equals(bytes, name, "x-request-id") { dropped.append(relative) }
            case 14:
                if RawHTTP.equals(bytes, name, "content-length") {
                    let parsed = RawHTTP.decimal(bytes, value)
                    if parsed == nil || (length != nil && length != parsed) { conflicting = true }
                    length = parsed
                    dropped.append(relative)
                }
            case 17:
                if RawHTTP.equals(bytes, name, "transfer-encoding") {
                    if RawHTTP.equals(bytes, value, "chunked") { chunked = true } else { otherCoding = true }
                    dropped.append(relative)
                } else if RawHTTP.equals(bytes, name, "x-slipway-variant") {
                    dropped.append(relative)
                }
            case 23:
                if RawHTTP.equals(bytes, name, "x-slipway-model-version") { dropped.append(relative) }
            case 31:
                if RawHTTP.equals(bytes, name, "inference-header-content-length") { inferenceHeaderLength = RawHTTP.decimal(bytes, value) }
            default: break
            }
            return true
        }
        guard well else { return .invalid("a malformed header line") }
        guard !otherCoding, !conflicting else { return .invalid("unusable framing headers") }
        let keepAlive = !close && (!http10 || keepAliveAsked)
        let framing: Framing
        if code == 204 || code == 304 {
            framing = .length(0)
        } else if chunked {
            framing = .chunked
        } else if let length {
            framing = .length(length)
        } else {
            framing = .untilClose
        }
        if case .untilClose = framing { return .complete(headEnd: end, framing: framing, keepAlive: false) }
        return .complete(headEnd: end, framing: framing, keepAlive: keepAlive)
    }

    private enum Dechunked {
        case incomplete
        case invalid
        case complete(ByteBuffer, end: Int)
    }

    /// The body of a chunked answer whose chunks start at `start`, once the last chunk and trailers are in.
    private static func dechunk(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Dechunked {
        var index = start
        var ranges: [Range<Int>] = []
        var total = 0
        while true {
            guard let newline = RawHTTP.memchrIndex(bytes, UInt8(ascii: "\n"), from: index) else { return .incomplete }
            guard newline > index, bytes[newline - 1] == UInt8(ascii: "\r") else { return .invalid }
            var size = 0
            var cursor = index
            var digits = 0
            while cursor < newline - 1 {
                let byte = bytes[cursor]
                let value: Int
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A") + 10)
                default: value = -1
                }
                if value < 0 { break }
                digits += 1
                guard digits <= 15 else { return .invalid }
                size = size * 16 + value
                cursor += 1
            }
            guard digits > 0 else { return .invalid }
            if cursor < newline - 1, bytes[cursor] != UInt8(ascii: ";"), bytes[cursor] != UInt8(ascii: " "), bytes[cursor] != 0x09 { return .invalid }
            index = newline + 1
            if size == 0 {
                // Trailer lines, then the blank line.
                while true {
                    guard let end = RawHTTP.memchrIndex(bytes, UInt8(ascii: "\n"), from: index) else { return .incomplete }
                    guard end > index, bytes[end - 1] == UInt8(ascii: "\r") else { return .invalid }
                    let blank = end - 1 == index
                    index = end + 1
                    if blank { break }
                }
                var body = ByteBufferAllocator().buffer(capacity: total)
                for range in ranges { body.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[range])) }
                return .complete(body, end: index)
            }
            guard bytes.count - index >= size + 2 else { return .incomplete }
            guard bytes[index + size] == UInt8(ascii: "\r"), bytes[index + size + 1] == UInt8(ascii: "\n") else { return .invalid }
            ranges.append(index..<(index + size))
            total += size
            index += size + 2
        }
    }
}
