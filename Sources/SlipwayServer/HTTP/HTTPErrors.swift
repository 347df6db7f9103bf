import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SlipwayCore

extension ErrorKind {
    /// The HTTP status of an error kind.
    var status: HTTPResponse.Status {
        switch self {
        case .invalidArgument: .badRequest
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .notFound: .notFound
        case .alreadyExists: .conflict
        case .failedPrecondition: .conflict
        case .tooLarge: .contentTooLarge
        case .corrupted: .internalServerError
        case .internal: .internalServerError
        case .unavailable: .serviceUnavailable
        }
    }

    /// MLflow's `error_code` for an error kind.
    var mlflowCode: String {
        switch self {
        case .invalidArgument: "INVALID_PARAMETER_VALUE"
        case .unauthenticated: "UNAUTHENTICATED"
        case .permissionDenied: "PERMISSION_DENIED"
        case .notFound: "RESOURCE_DOES_NOT_EXIST"
        case .alreadyExists: "RESOURCE_ALREADY_EXISTS"
        case .failedPrecondition: "INVALID_STATE"
        case .tooLarge: "REQUEST_LIMIT_EXCEEDED"
        case .corrupted: "DATA_LOSS"
        case .internal: "INTERNAL_ERROR"
        case .unavailable: "TEMPORARILY_UNAVAILABLE"
        }
    }
}

/// Turns any error into a JSON answer: `{"error": {"code", "message"}}` on the native API and
/// MLflow's `{"error_code", "message"}` under `/api/2.0/mlflow`. Internal failures are logged with
/// their detail and answered with a generic message, so nothing internal leaks.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var (kind, message) = Self.classify(error)
            if let error = error as? HTTPError, error.status == .notFound, error.body == nil {
                if request.uri.path.removingPercentEncoding == nil {
                    // The router cannot decode the path, so no route could match: the request is at fault, not the route
                    // table. (The same test as `PathParameter.decode`.)
                    kind = .invalidArgument
                    message =
                        "the path '\(request.uri.path.prefix(200))' is not valid percent-encoded UTF-8; percent-encode names in paths (a literal % is %25)"
                } else {
                    // The router found no route for the method and path.
                    message = "no route for \(request.method.rawValue) \(request.uri.path)"
                    if request.uri.path.hasPrefix("/api/v1/") { message += "; GET /api/v1/openapi.json lists the API" }
                }
            }
            if kind == .internal || kind == .unavailable || kind == .corrupted {
                context.logger.error("request failed", metadata: ["slipway.path": "\(request.uri.path)", "slipway.error": "\(error)"])
            }
            let mlflow = request.uri.path.hasPrefix("/api/2.0/mlflow") || request.uri.path.hasPrefix("/ajax-api/2.0/mlflow")
            let shown = kind == .internal ? "internal error; the server log has the details" : message
            let body: [String: Any] =
                mlflow ? ["error_code": kind.mlflowCode, "message": shown] : ["error": ["code": kind.rawValue, "message": shown]]
            let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            var status = kind.status
            if mlflow, kind == .alreadyExists { status = .badRequest }
            if mlflow, kind == .failedPrecondition { status = .badRequest }
            var headers: HTTPFields = [.contentType: "application/json"]
            if kind == .unauthenticated { headers[.wwwAuthenticate] = "Bearer" }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    static func classify(_ error: any Error) -> (ErrorKind, String) {
        switch error {
        case let error as any SlipwayError:
            return (error.kind, error.message)
        case is NIOTooManyBytesError:
            return (.tooLarge, "the request body is over the server's limit; artifacts go to /api/v1/artifacts, which streams")
        case let error as HTTPError:
            let kind = ErrorKind(status: Int(error.status.code))
            return (kind, error.body ?? error.status.reasonPhrase)
        case let error as DecodingError:
            return (.invalidArgument, "malformed request body: \(describe(error))")
        default:
            return (.internal, "\(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)) should be \(jsonName(type))"
        case .valueNotFound(let type, let context): return "\(path(context)) is missing (\(jsonName(type)))"
        case .keyNotFound(let key, let context): return "\(path(context)): missing field '\(key.stringValue)'"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// What a Swift type is called in JSON: "a JSON object" rather than `Dictionary<String, Any>`.
    static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type, is Int32.Type: return "a whole number"
        case is Double.Type, is Float.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Dictionary") { return "a JSON object" }
            if name.hasPrefix("Array") { return "a JSON array" }
            return name
        }
    }
}
