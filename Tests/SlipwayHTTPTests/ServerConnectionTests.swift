import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore
import Testing

@testable import SlipwayHTTP

/// What the test server's `echo` route saw.
private struct Echo: Decodable {
    var method: String
    var uri: String
    var authorization: String
    var contentType: String
    var body: String
}

private struct Named: Decodable, Equatable {
    var name: String
}

/// The error a call throws, nil if it succeeds; any error of another type is an issue.
private func failure(_ body: () async throws -> Void) async -> ServerConnectionError? {
    do {
        try await body()
        return nil
    } catch let error as ServerConnectionError {
        return error
    } catch {
        Issue.record("expected a ServerConnectionError, got \(error)")
        return nil
    }
}

@Suite("Server connection against a real HTTP server", .timeLimit(.minutes(2)))
struct ServerConnectionTests {
    @Test("requests go under /api/v1 with the bearer token, JSON bodies and escaped query items")
    func requestBuilding() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        let connection = ServerConnection(baseURL: server.url + "//", token: "slw_secret")
        #expect(connection.baseURL == server.url)

        struct Body: Encodable {
            var when: Date
            var name: String
        }
        let echo = try #require(
            try await connection.call(
                .POST, "echo", query: [("filter", "name = 'a+b'"), ("orderBy", "x&y=z"), ("note", "é ?#")],
                body: Body(when: Date(timeIntervalSince1970: 0), name: "fraud"), as: Echo.self))
        #expect(echo.method == "POST")
        #expect(echo.authorization == "Bearer slw_secret")
        #expect(echo.contentType == "application/json")
        #expect(echo.body == #"{"name":"fraud","when":"1970-01-01T00:00:00.000Z"}"#)
        #expect(echo.uri.hasPrefix("/api/v1/echo?"))
        #expect(!echo.uri.contains("+") && echo.uri.contains("%2B"), "a '+' must not reach the server as a space: \(echo.uri)")
        let items = try #require(URLComponents(string: echo.uri)?.queryItems)
        #expect(items.map(\.name) == ["filter", "orderBy", "note"])
        #expect(items.map(\.value) == ["name = 'a+b'", "x&y=z", "é ?#"])

        // Without a token, no Authorization header; a query in the path is kept.
        let anonymous = ServerConnection(baseURL: server.url, token: nil)
        let plain = try #require(try await anonymous.call(.GET, "echo?after=3&wait=1", as: Echo.self))
        #expect(plain.authorization == "" && plain.contentType == "" && plain.uri == "/api/v1/echo?after=3&wait=1")
    }

    @Test("204 is nil, or Empty when the caller asks for nothing")
    func noContent() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        let connection = ServerConnection(baseURL: server.url, token: nil)
        #expect(try await connection.call(.DELETE, "empty", as: Named.self) == nil)
        #expect(try await connection.call(.DELETE, "empty", as: ServerConnection.Empty.self) == ServerConnection.Empty())
        // Empty ignores whatever body a 2xx answer has.
        #expect(try await connection.call(.GET, "malformed", as: ServerConnection.Empty.self) == ServerConnection.Empty())
    }

    @Test("an error body becomes an error of the kind the server named, with its message")
    func errorBodies() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        let connection = ServerConnection(baseURL: server.url, token: "slw_viewer", tokenHint: ServerConnection.editorTokenHint)

        let missing = try #require(await failure { _ = try await connection.call(.GET, "missing", as: Named.self) })
        #expect(missing.kind == .notFound && missing.status == 404)
        #expect(missing.serverMessage == "model 'ghost' does not exist")
        #expect(missing.message == "the Slipway server at \(server.url) refused to GET /api/v1/missing (HTTP 404): model 'ghost' does not exist")

        // The server's code wins over the status (409 is also failed_precondition); an unknown code falls back to it.
        let conflict = try #require(await failure { _ = try await connection.call(.POST, "conflict", as: Named.self) })
        #expect(conflict.kind == .alreadyExists)
        let future = try #require(await failure { _ = try await connection.call(.POST, "unknown-code", as: Named.self) })
        #expect(future.kind == .failedPrecondition && future.serverMessage == "a newer server said no")

        // 401 and 403 carry the token hint when the connection has one.
        let denied = try #require(await failure { _ = try await connection.call(.PUT, "denied", as: Named.self) })
        #expect(denied.kind == .permissionDenied)
        #expect(denied.message.hasSuffix("this call needs the editor role; pass --token or set SLIPWAY_TOKEN to a token with the editor role"))
        #expect(!missing.message.contains("SLIPWAY_TOKEN"))
        // A server message that already says where the token goes is not repeated.
        let noToken = try #require(await failure { _ = try await connection.call(.GET, "no-token", as: Named.self) })
        #expect(noToken.kind == .unauthenticated && noToken.message.components(separatedBy: "SLIPWAY_TOKEN").count == 2, "\(noToken.message)")
        let plain = ServerConnection(baseURL: server.url, token: nil)
        let deniedPlain = try #require(await failure { _ = try await plain.call(.PUT, "denied", as: Named.self) })
        #expect(!deniedPlain.message.contains("SLIPWAY_TOKEN"))
    }

    @Test("a body that is not an error body is quoted, cleaned and cut; a blank one gives the status")
    func nonJSONErrors() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        let connection = ServerConnection(baseURL: server.url, token: nil)

        let broken = try #require(await failure { _ = try await connection.call(.GET, "broken", as: Named.self) })
        #expect(broken.kind == .internal && broken.status == 500 && broken.serverMessage == nil)
        #expect(broken.message.contains("(HTTP 500): <html> [31mupstream fell over</html>"), "\(broken.message)")
        #expect(!broken.message.contains("\u{1B}"), "control characters from the server never reach the terminal")

        let blank = try #require(await failure { _ = try await connection.call(.GET, "blank", as: Named.self) })
        #expect(blank.kind == .internal && blank.message.hasSuffix("(HTTP 502): Bad Gateway"))

        // An error body over the limit is not read whole; the status still decides.
        let huge = try #require(await failure { _ = try await connection.call(.GET, "huge-error", as: Named.self) })
        #expect(huge.kind == .internal && huge.status == 500 && huge.message.count < 500)
    }

    @Test("an answer over the limit, malformed JSON and JSON of another shape are clear errors")
    func unreadableAnswers() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        let connection = ServerConnection(baseURL: server.url, token: nil)

        let tooLarge = try #require(await failure { _ = try await connection.call(.GET, "huge", as: [Int].self, limit: 1 << 20) })
        #expect(tooLarge.kind == .tooLarge && tooLarge.message.contains("more than 1048576 bytes"), "\(tooLarge.message)")
        let whole = try #require(try await connection.call(.GET, "huge", as: [Int].self))
        #expect(whole.count == (3 << 19) + 1)

        let malformed = try #require(await failure { _ = try await connection.call(.GET, "malformed", as: Named.self) })
        #expect(malformed.kind == .internal)
        #expect(
            malformed.message.hasPrefix(
                "the Slipway server at \(server.url) answered the request to GET /api/v1/malformed with something this client cannot read"))
        let shape = try #require(await failure { _ = try await connection.call(.GET, "wrong-shape", as: Named.self) })
        #expect(shape.kind == .internal && shape.message.contains("cannot read"))
    }

    @Test("a closed port or a silent server is unavailable, naming the server and what to check")
    func unreachable() async throws {
        let port = try await TestAPIServer.closedPort()
        let connection = ServerConnection(baseURL: "http://127.0.0.1:\(port)", token: nil, urlSource: "--server")
        // The client keeps trying to connect until the timeout, then reports the last refusal.
        let refused = try #require(await failure { _ = try await connection.call(.GET, "whoami", as: Named.self, timeout: .seconds(3)) })
        #expect(refused.kind == .unavailable && refused.status == nil)
        #expect(refused.message.hasPrefix("cannot reach the Slipway server at http://127.0.0.1:\(port): "))
        #expect(refused.message.hasSuffix("Is `slipway server` running? Check --server."))

        // With a call deadline far away, the connect timeout still reports a closed port within seconds.
        let started = ContinuousClock.now
        let soon = try #require(await failure { _ = try await connection.call(.GET, "whoami", as: Named.self, timeout: .seconds(600)) })
        #expect(soon.kind == .unavailable && ContinuousClock.now - started < .seconds(60), "a closed port took \(ContinuousClock.now - started)")
        // The system's words for the refusal, not NIO's wrapping of it.
        #expect(soon.message.contains(": Connection refused. Is `slipway server` running?") && !soon.message.contains("errno"), "\(soon.message)")

        let server = try await TestAPIServer()
        defer { server.stop() }
        let patient = ServerConnection(baseURL: server.url, token: nil)
        let silent = try #require(await failure { _ = try await patient.call(.GET, "silent", as: Named.self, timeout: .milliseconds(300)) })
        #expect(silent.kind == .unavailable && silent.message.contains(server.url))
    }

    @Test("a URL that cannot be a server is refused before anything is sent")
    func invalidURLs() async throws {
        for base in ["ftp://example.com", "http://", "not a url", ""] {
            let connection = ServerConnection(baseURL: base, token: nil)
            let error = try #require(await failure { _ = try connection.request(.GET, "whoami") }, "\(base)")
            #expect(error.kind == .invalidArgument, "\(base)")
        }
        #expect(ServerConnection.isServerURL("https://slipway.example.com:8420/base"))
        #expect(!ServerConnection.isServerURL("https://"))
        #expect(!ServerConnection.isServerURL("file:///tmp/x"))
        #expect(ServerConnection.normalized("http://h:1///") == "http://h:1")
    }

    @Test("raw requests stream a 2xx body untouched and turn anything else into the server's error")
    func rawExchanges() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        let connection = ServerConnection(baseURL: server.url, token: "slw_secret")

        let response = try await connection.checked(try await connection.execute(try connection.request(.GET, "bytes")), to: "send the bytes")
        var received = Data()
        for try await buffer in response.body { received.append(contentsOf: buffer.readableBytesView) }
        #expect(received == TestAPIServer.bytes)

        let refused = try #require(
            await failure {
                let response = try await connection.execute(try connection.request(.GET, "missing"))
                _ = try await connection.checked(response, to: "send object x")
            })
        #expect(refused.kind == .notFound && refused.message.contains("refused to send object x (HTTP 404)"))

        let body = try await connection.body(of: try await connection.execute(try connection.request(.GET, "echo")), to: "echo", limit: 1 << 16)
        let echo = try connection.decode(Echo.self, from: body, answering: "echo")
        #expect(echo.authorization == "Bearer slw_secret" && echo.method == "GET")
    }

    @Test("error bodies: the shape the server sends, and the shapes it must not be mistaken for")
    func errorBodyDecoding() {
        func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
        let full = ServerConnection.errorBody(in: buffer(#"{"error": {"code": "not_found", "message": "gone"}}"#))
        #expect(full?.kind == .notFound && full?.error.message == "gone")
        let noCode = ServerConnection.errorBody(in: buffer(#"{"error": {"message": "gone"}}"#))
        #expect(noCode?.error.code == nil && noCode?.kind == nil && noCode?.error.message == "gone")
        for hostile in [
            #"{"error": "gone"}"#, #"{"error": {"code": "not_found"}}"#, #"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"}"#,
            "[]", "null", "", "{", "\u{0}\u{1}",
        ] {
            #expect(ServerConnection.errorBody(in: buffer(hostile)) == nil, "\(hostile)")
        }
        let connection = ServerConnection(baseURL: "http://127.0.0.1:1", token: nil)
        let mlflow = connection.failure(status: .badRequest, body: buffer(#"{"error_code": "INVALID_PARAMETER_VALUE", "message": "bad"}"#), to: "x")
        #expect(mlflow.kind == .invalidArgument && mlflow.serverMessage == nil && mlflow.message.contains("INVALID_PARAMETER_VALUE"))
    }
}
