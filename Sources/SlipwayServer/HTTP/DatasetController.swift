import Hummingbird
import SlipwayCore
import SlipwayRegistry

/// Registered datasets under `/api/v1/datasets`: register one (idempotent by name and digest), list
/// them or find one by name and digest (names are paths such as `data/train.csv`, so they go in the query).
struct DatasetController {
    let registry: Registry

    struct DatasetList: Codable {
        var datasets: [Dataset]
    }

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.post("datasets", use: register)
        group.get("datasets", use: list)
    }

    /// 201 with the new dataset, or 200 with the one registered before under the same name and digest.
    @Sendable func register(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try await request.decodeJSON(NewDataset.self, context: context)
        let (dataset, created) = try await registry.registerDataset(body, by: principal)
        return try jsonResponse(dataset, status: created ? .created : .ok)
    }

    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = request.uri.queryParameters
        let name = query["name"].map(String.init)
        var limit = 100
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw GenericError(.invalidArgument, "limit must be a whole number between 1 and 1000, got '\(text)'")
            }
            limit = value
        }
        if let text = query["digest"] {
            guard let digest = Digest(String(text)) else {
                throw GenericError(.invalidArgument, "digest '\(text)' is not a SHA-256 digest (sha256: and 64 hex digits)")
            }
            guard let name else { throw GenericError(.invalidArgument, "a digest needs the dataset's name (?name=…&digest=…)") }
            return try jsonResponse(DatasetList(datasets: [try await registry.dataset(name, digest: digest, by: principal)]))
        }
        return try jsonResponse(DatasetList(datasets: try await registry.datasets(named: name, limit: limit, by: principal)))
    }
}
