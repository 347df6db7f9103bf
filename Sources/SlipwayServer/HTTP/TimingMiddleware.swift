import Foundation
import HTTPTypes
import Hummingbird

/// Adds `Server-Timing: app;dur=<milliseconds>` to every answer: the time the server spent on the
/// request from routing to a complete response, so a client can tell server time from network time.
///
/// Registered first, it also covers the error and auth middlewares; errors have already been turned
/// into answers by then, so they are timed too.
struct TimingMiddleware<Context: RequestContext>: RouterMiddleware {
    static var headerName: HTTPField.Name { HTTPField.Name("Server-Timing")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[Self.headerName] = "app;dur=\(Self.milliseconds(ContinuousClock.now - start))"
        return response
    }

    /// A duration in milliseconds with three decimals (microsecond resolution).
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return String(format: "%.3f", Double(micros) / 1000)
    }
}
