/// The kinds of failure every module's error maps onto.
///
/// Each module has its own error type; the HTTP boundary and the CLI only need to know the kind
/// (which becomes a status code, an MLflow `error_code` or an exit code) and the message.
public enum ErrorKind: String, Sendable, Codable, CaseIterable {
    /// The request was malformed or named something invalid (HTTP 400).
    case invalidArgument = "invalid_argument"
    /// No credentials, or unknown credentials (HTTP 401).
    case unauthenticated
    /// The credentials are valid but their role is too weak (HTTP 403).
    case permissionDenied = "permission_denied"
    /// The thing named does not exist (HTTP 404).
    case notFound = "not_found"
    /// Something with that name already exists (HTTP 409).
    case alreadyExists = "already_exists"
    /// The state does not allow the change, e.g. a policy rule failed (HTTP 409).
    case failedPrecondition = "failed_precondition"
    /// The request body is over the configured limit (HTTP 413).
    case tooLarge = "too_large"
    /// Stored data does not match its digest (HTTP 500, never served).
    case corrupted
    /// Something failed that the user cannot fix by changing the request (HTTP 500).
    case `internal`
    /// A dependency (the database, the disk) is not available right now (HTTP 503).
    case unavailable
}

extension ErrorKind {
    /// The kind of an HTTP status (for the client side).
    public init(status: Int) {
        switch status {
        case 400: self = .invalidArgument
        case 401: self = .unauthenticated
        case 403: self = .permissionDenied
        case 404: self = .notFound
        case 409: self = .failedPrecondition
        case 413: self = .tooLarge
        case 503: self = .unavailable
        default: self = .internal
        }
    }
}

/// An error that knows its ``ErrorKind`` and a message that tells the user what to do.
public protocol SlipwayError: Error, CustomStringConvertible, Sendable {
    var kind: ErrorKind { get }
    var message: String { get }
}

extension SlipwayError {
    public var description: String { message }
}

/// An error as it arrives from a remote Slipway server, or one raised by shared code.
public struct GenericError: SlipwayError, Equatable {
    public var kind: ErrorKind
    public var message: String

    public init(_ kind: ErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
