public import AsyncHTTPClient
import Foundation
public import NIOCore
import NIOFoundationCompat
public import NIOHTTP1
import SlipwayCore

/// One Slipway server's `/api/v1` API as its clients see it: requests with the bearer token, sent with a timeout,
/// answers read up to a limit and decoded with ``SlipwayJSON``, and every failure turned into a
/// ``ServerConnectionError`` that names the server and says what to check.
///
/// JSON calls go through ``call(_:_:query:body:as:timeout:limit:action:)``; streaming transfers (uploads, downloads)
/// build a ``request(_:_:query:)``, ``execute(_:timeout:)`` it and hand the answer to ``checked(_:to:)``.
///
/// ```swift
/// let server = ServerConnection(baseURL: "http://127.0.0.1:8420/", token: token)
/// let who = try await server.call(.GET, "whoami", as: Principal.self)
/// ```
public struct ServerConnection: Sendable {
    /// The server's URL without trailing slashes, e.g. `http://127.0.0.1:8420`.
    public let baseURL: String
    /// The bearer token sent with every request, if any.
    public let token: String?
    /// The client that sends the requests.
    public let http: HTTPClient
    /// Where the user set the URL, named in the message when the server cannot be reached (e.g. `--server`).
    public var urlSource: String
    /// What to do about a `401` or `403` answer, appended to its message; nil adds nothing.
    public var tokenHint: String?

    /// How long a JSON call may take unless its caller says otherwise.
    public static let defaultTimeout = TimeAmount.seconds(60)
    /// The most bytes of a JSON answer read unless its caller says otherwise (256 MiB).
    public static let answerLimit = 256 << 20
    /// The most bytes of an error answer read; the rest is ignored.
    public static let errorBodyLimit = 1 << 20
    /// How long connecting to a server may take, retries included, before a call says it cannot reach it.
    public static let connectTimeout = TimeAmount.seconds(5)

    /// The client connections use unless given one: like `HTTPClient.shared` (it is never shut down), but a
    /// server that does not accept connections fails a call after ``connectTimeout`` instead of at the call's own
    /// deadline (up to ten minutes for a transfer), so a mistyped `--server` or a stopped server is reported at once.
    public static let defaultClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = connectTimeout
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The hint for a refused token when the calls need the editor role.
    public static let editorTokenHint = "pass --token or set SLIPWAY_TOKEN to a token with the editor role"

    /// An answer with nothing to decode: what a call that answers `204 No Content` (or a body to ignore) returns.
    public struct Empty: Codable, Sendable, Equatable {
        /// Creates the empty answer.
        public init() {}
    }

    /// A connection to a server.
    /// - Parameters:
    ///   - baseURL: e.g. `http://127.0.0.1:8420`; trailing slashes are dropped.
    ///   - token: the bearer token (`--token` / `SLIPWAY_TOKEN`).
    ///   - http: the client to send requests with.
    ///   - urlSource: where the user set the URL, for the message when the server cannot be reached.
    ///   - tokenHint: what to do about a `401` or `403` answer (e.g. ``editorTokenHint``); nil adds nothing.
    public init(
        baseURL: String, token: String?, http: HTTPClient = ServerConnection.defaultClient, urlSource: String = "the server URL (--server or SLIPWAY_SERVER)",
        tokenHint: String? = nil
    ) {
        self.baseURL = Self.normalized(baseURL)
        self.token = token
        self.http = http
        self.urlSource = urlSource
        self.tokenHint = tokenHint
    }

    // MARK: URLs

    /// A server URL without its trailing slashes: `http://host:8420/` becomes `http://host:8420`.
    public static func normalized(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// Whether a text is an `http://` or `https://` URL with a host, i.e. something a server can be reached at.
    public static func isServerURL(_ text: String) -> Bool {
        (text.hasPrefix("http://") || text.hasPrefix("https://")) && URL(string: text)?.host.map { !$0.isEmpty } == true
    }

    // MARK: Requests

    /// A request for a path under `/api/v1/` with the bearer token.
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - path: the path below `/api/v1/`, its segments already escaped (it may carry a query of its own).
    ///   - query: query items, escaped here; a `+` is sent as `%2B`, so the server never reads it as a space.
    /// - Throws: ``ServerConnectionError`` (`invalidArgument`) when the base URL and path do not form a URL.
    public func request(_ method: HTTPMethod, _ path: String, query: [(String, String)] = []) throws(ServerConnectionError) -> HTTPClientRequest {
        var url = baseURL + "/api/v1/" + path
        let invalid = ServerConnectionError(.invalidArgument, "'\(url.prefix(300))' is not a valid URL; check \(urlSource)")
        if !query.isEmpty {
            guard var components = URLComponents(string: url) else { throw invalid }
            components.queryItems = (components.queryItems ?? []) + query.map { URLQueryItem(name: $0.0, value: $0.1) }
            // '+' in a query value would read as a space on the server.
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
            guard let text = components.string else { throw invalid }
            url = text
        }
        guard Self.isServerURL(url) else { throw invalid }
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    /// Sends a request and returns the answer as it arrives, whatever its status; its body is not read yet.
    /// - Parameters:
    ///   - request: a request from ``request(_:_:query:)``.
    ///   - timeout: how long the whole exchange may take.
    /// - Throws: ``ServerConnectionError`` (`unavailable`) when the server cannot be reached or does not answer in time.
    public func execute(_ request: HTTPClientRequest, timeout: TimeAmount = Self.defaultTimeout) async throws(ServerConnectionError)
        -> HTTPClientResponse
    {
        do {
            return try await http.execute(request, timeout: timeout)
        } catch {
            throw ServerConnectionError(
                .unavailable,
                "cannot reach the Slipway server at \(baseURL): \(Self.describe(error)). Is `slipway server` running? Check \(urlSource).")
        }
    }

    /// What went wrong reaching a server, in words: the system's text for a socket error (`Connection refused`)
    /// rather than NIO's wrapping of it, and plain words for the client's own timeouts.
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "no connection within \(connectTimeout.nanoseconds / 1_000_000_000) s"
            case .deadlineExceeded, .readTimeout: return "no answer in time"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: break
            }
        }
        return "\(error)"
    }

    /// Sends a JSON call and decodes its answer: the whole exchange most callers need.
    ///
    /// The body, if any, is encoded with ``SlipwayJSON``; a `2xx` answer is decoded as `type`, except that
    /// ``Empty`` is returned without reading the body, and `204 No Content` returns nil for any other type.
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - path: the path below `/api/v1/`, its segments already escaped.
    ///   - query: query items, escaped here.
    ///   - body: the request body, sent as JSON.
    ///   - type: the type of the answer.
    ///   - timeout: how long the whole exchange may take.
    ///   - limit: the most bytes of the answer read.
    ///   - action: what is asked, as a verb phrase for messages (e.g. `list missing objects`); by default the
    ///     method and path.
    /// - Returns: the decoded answer; nil for `204 No Content` unless `type` is ``Empty``.
    /// - Throws: ``ServerConnectionError``: `unavailable` when the server cannot be reached, the kind of the server's
    ///   error when it refuses, `tooLarge` for an answer over `limit`, `internal` for one that cannot be decoded.
    public func call<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: (some Encodable)? = Optional<Int>.none,
        as type: Answer.Type, timeout: TimeAmount = Self.defaultTimeout, limit: Int = Self.answerLimit, action: String? = nil
    ) async throws(ServerConnectionError) -> Answer? {
        let action = action ?? "\(method.rawValue) /api/v1/\(path)"
        var request = try request(method, path, query: query)
        if let body {
            let data: Data
            do { data = try SlipwayJSON.encoder().encode(body) } catch {
                throw ServerConnectionError(.internal, "cannot encode the request to \(action) as JSON: \(error)")
            }
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: data))
        }
        let response = try await execute(request, timeout: timeout)
        let buffer = try await self.body(of: response, to: action, limit: limit)
        if let empty = Empty() as? Answer { return empty }
        if response.status == .noContent { return nil }
        return try decode(type, from: buffer, answering: action)
    }

    // MARK: Answers

    /// Returns a `2xx` answer untouched (its body still to be streamed); reads any other answer's error body and
    /// throws the matching error.
    /// - Parameters:
    ///   - response: the answer from ``execute(_:timeout:)``.
    ///   - action: what was asked, as a verb phrase for the message (e.g. `send object sha256:…`).
    /// - Throws: ``ServerConnectionError`` of the kind the server named (else the kind of the status).
    public func checked(_ response: HTTPClientResponse, to action: String) async throws(ServerConnectionError) -> HTTPClientResponse {
        guard (200..<300).contains(Int(response.status.code)) else {
            let buffer = (try? await response.body.collect(upTo: Self.errorBodyLimit)) ?? ByteBuffer()
            throw failure(status: response.status, body: buffer, to: action)
        }
        return response
    }

    /// Reads a whole answer up to a limit and returns its body if its status is `2xx`.
    /// - Parameters:
    ///   - response: the answer from ``execute(_:timeout:)``.
    ///   - action: what was asked, as a verb phrase for the message.
    ///   - limit: the most bytes read.
    /// - Throws: ``ServerConnectionError``: the server's error for a refusal, `tooLarge` over the limit,
    ///   `unavailable` when the answer breaks off.
    public func body(of response: HTTPClientResponse, to action: String, limit: Int) async throws(ServerConnectionError) -> ByteBuffer {
        let response = try await checked(response, to: action)
        do {
            return try await response.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ServerConnectionError(
                .tooLarge,
                "the Slipway server at \(baseURL) answered the request to \(action) with more than \(limit) bytes, more than this client reads",
                status: Int(response.status.code))
        } catch {
            throw ServerConnectionError(
                .unavailable, "the answer of the Slipway server at \(baseURL) to the request to \(action) broke off: \(error); run the command again",
                status: Int(response.status.code))
        }
    }

    /// Decodes a `2xx` answer's body with ``SlipwayJSON``.
    /// - Parameters:
    ///   - type: the type of the answer.
    ///   - buffer: the body.
    ///   - action: what was asked, as a verb phrase for the message.
    /// - Throws: ``ServerConnectionError`` (`internal`) when the body is not that type in JSON.
    public func decode<Answer: Decodable>(_ type: Answer.Type, from buffer: ByteBuffer, answering action: String) throws(ServerConnectionError)
        -> Answer
    {
        do {
            return try SlipwayJSON.decoder().decode(type, from: buffer)
        } catch {
            throw ServerConnectionError(
                .internal, "the Slipway server at \(baseURL) answered the request to \(action) with something this client cannot read: \(error)")
        }
    }

    /// The error for an answer that is not `2xx`: the kind the server named (else the kind of the status), and a
    /// message with the server, the action, the status and the server's message (or the start of the body), plus
    /// ``tokenHint`` for `401` and `403` unless the server's message already names `SLIPWAY_TOKEN`.
    /// - Parameters:
    ///   - status: the answer's status.
    ///   - body: the answer's body (or its first ``errorBodyLimit`` bytes).
    ///   - action: what was asked, as a verb phrase (`store object sha256:…`, `POST /api/v1/runners`).
    public func failure(status: HTTPResponseStatus, body: ByteBuffer, to action: String) -> ServerConnectionError {
        let code = Int(status.code)
        let errorBody = Self.errorBody(in: body)
        let detail = errorBody?.error.message ?? Self.excerpt(of: body) ?? status.reasonPhrase
        var message = "the Slipway server at \(baseURL) refused to \(action) (HTTP \(code)): \(detail)"
        // The server's own message may already say where the token goes; say it once.
        if code == 401 || code == 403, let tokenHint, !detail.contains("SLIPWAY_TOKEN") { message += "; \(tokenHint)" }
        return ServerConnectionError(errorBody?.kind ?? ErrorKind(status: code), message, status: code, serverMessage: errorBody?.error.message)
    }

    /// The server's error body in an answer, if it holds one (`{"error": {"code": …, "message": …}}`).
    public static func errorBody(in buffer: ByteBuffer) -> ServerErrorBody? {
        try? JSONDecoder().decode(ServerErrorBody.self, from: buffer)
    }

    /// The first 300 characters of a body that is not an error body, control characters replaced, or nil if blank.
    static func excerpt(of buffer: ByteBuffer) -> String? {
        let text = String(decoding: buffer.readableBytesView.prefix(1200), as: UTF8.self)
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        let trimmed = printable.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : String(trimmed.prefix(300))
    }
}
