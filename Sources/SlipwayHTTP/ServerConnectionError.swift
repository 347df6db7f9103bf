public import SlipwayCore

/// Why a call to a Slipway server failed: the server could not be reached, refused the request, or answered with
/// something this client cannot read.
///
/// ``message`` names the server and says what to do; callers with their own error type (the data remote's
/// `DataError`, the CLI's `GenericError`) wrap ``kind`` and ``message``.
public struct ServerConnectionError: SlipwayError, Equatable {
    /// The kind of failure: the server's own error code when it sent one, else the kind of the HTTP status.
    public var kind: ErrorKind
    /// The whole message: which server, what it was asked, what went wrong, and what to check.
    public var message: String
    /// The HTTP status, when the server answered.
    public var status: Int?
    /// The message of the server's error body (`{"error": {"code", "message"}}`), when it sent one.
    public var serverMessage: String?

    /// Creates an error of a kind with a message.
    /// - Parameters:
    ///   - kind: the kind of failure.
    ///   - message: a message that names the server and says what to do.
    ///   - status: the HTTP status, when the server answered.
    ///   - serverMessage: the message of the server's error body, when it sent one.
    public init(_ kind: ErrorKind, _ message: String, status: Int? = nil, serverMessage: String? = nil) {
        self.kind = kind
        self.message = message
        self.status = status
        self.serverMessage = serverMessage
    }
}

/// The error body of the `/api/v1` API: `{"error": {"code": "not_found", "message": "…"}}`.
public struct ServerErrorBody: Decodable, Sendable, Equatable {
    /// The inner object of an error body.
    public struct Detail: Decodable, Sendable, Equatable {
        /// The ``ErrorKind`` raw value, e.g. `not_found` (absent from some older answers).
        public var code: String?
        /// What went wrong, in the server's words.
        public var message: String
    }

    /// The error.
    public var error: Detail

    /// The kind the server named, if it is one this client knows.
    public var kind: ErrorKind? { error.code.flatMap(ErrorKind.init(rawValue:)) }
}
