import Foundation
import Hummingbird
import SlipwayCore
import SlipwayStore

/// Routes for `slipway data push|pull|fetch` against a server:
/// `POST /api/v1/artifacts/missing` takes `{"digests": ["sha256:…", …]}` (at most ``maximumDigests``)
/// and answers `{"missing": [...]}`, the digests the artifact store does not hold, in the order given.
/// One request replaces a `HEAD` per object, so a push of 100,000 files asks once per batch.
struct DataRoutes {
    let artifacts: any ArtifactStore
    /// The most digests one request may ask about.
    static let maximumDigests = 10_000

    struct MissingRequest: Decodable {
        var digests: [Digest]
    }

    struct MissingResponse: Encodable {
        var missing: [Digest]
    }

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.post("artifacts/missing", use: missing)
    }

    @Sendable func missing(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.viewer, for: "reading artifacts")
        let body = try await request.decodeJSON(MissingRequest.self, context: context)
        guard body.digests.count <= Self.maximumDigests else {
            throw GenericError(
                .invalidArgument, "the request asks about \(body.digests.count) digests; send at most \(Self.maximumDigests) per request")
        }
        var seen = Set<Digest>()
        var missing: [Digest] = []
        for digest in body.digests where seen.insert(digest).inserted {
            if try await !artifacts.contains(digest) { missing.append(digest) }
        }
        return try jsonResponse(MissingResponse(missing: missing))
    }
}
