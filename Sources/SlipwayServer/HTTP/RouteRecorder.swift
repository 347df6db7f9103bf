import HTTPTypes
import Hummingbird
import Synchronization

/// A router front that remembers every route added through it and passes it on to the real router.
///
/// Routes reach Hummingbird's trie, which cannot be listed afterwards; registering through this
/// front keeps a list that is exactly what the router serves. The OpenAPI test compares it with
/// the operations of `/api/v1/openapi.json`.
final class RouteRecorder<Context: RequestContext>: RouterMethods {
    /// One registered route: a method and a path template in OpenAPI's spelling (`/api/v1/models/{name}`).
    struct Route: Hashable, Sendable, CustomStringConvertible {
        var method: String
        var path: String

        var description: String { "\(method) \(path)" }
    }

    let router: Router<Context>
    private let recorded = Mutex<[Route]>([])

    init(_ router: Router<Context>) {
        self.router = router
    }

    /// Every route added so far, in the order it was added.
    var routes: [Route] { recorded.withLock { $0 } }

    @discardableResult func on<Responder: HTTPResponder>(
        _ path: RouterPath, method: HTTPRequest.Method, responder: Responder
    ) -> Self where Responder.Context == Context {
        // RouterPath spells captures the way OpenAPI does: `/api/v1/models/{name}`.
        let route = Route(method: method.rawValue, path: path.description)
        recorded.withLock { $0.append(route) }
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult func add(middleware: any MiddlewareProtocol<Request, Response, Context>) -> Self {
        router.add(middleware: middleware)
        return self
    }
}
