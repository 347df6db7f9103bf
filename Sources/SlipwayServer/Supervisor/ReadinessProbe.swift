import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Asks a replica `GET http://127.0.0.1:PORT/v2/health/ready`; a 200 answer within the timeout means ready.
struct ReadinessProbe: Sendable {
    let client: HTTPClient
    var timeout: TimeAmount = .seconds(2)

    func isReady(port: Int) async -> Bool {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v2/health/ready")
        request.method = .GET
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try await response.body.collect(upTo: 64 << 10)
            return response.status.code == 200
        } catch {
            return false
        }
    }
}
