import Foundation
import NIOCore
import SlipwayCore

/// What a fast path prepares from the routing table once per table instead of once per request: each
/// endpoint found by its name's bytes, and for the common policy (the sticky key in a header, no header
/// routes) the lower-case names of the two headers routing reads and each split variant's backends by
/// position. Routing such a request then reads the head once and hashes nothing but its sticky key.
///
/// One cache per thread (or connection); it notices a new table by ``Gateway/tableGeneration``, one atomic
/// load per request, and rebuilds itself from it.
struct RoutingCache {
    final class Entry {
        let name: String
        let nameBytes: [UInt8]
        let endpoint: GatewayTable.Endpoint
        /// The lower-case names of the sticky-key header and the pin header when routing reads nothing else
        /// (the sticky key is a header and there are no header routes); nil when ``EndpointRoutes/route(_:)`` decides.
        let headers: (sticky: [UInt8], pin: [UInt8])?
        /// For each variant of the split, by its position in ``TrafficSplit/variants``: its name and ready
        /// backends, or nil when it has no deployment or no ready backend (the full path answers those).
        let variants: [(name: String, backends: [GatewayTable.Backend])?]

        init(name: String, endpoint: GatewayTable.Endpoint) {
            self.name = name
            self.nameBytes = Array(name.utf8)
            self.endpoint = endpoint
            let routes = endpoint.routes
            if case .header(let sticky) = routes.stickyKey, routes.headerRoutes.isEmpty {
                headers = (Array(sticky.lowercased().utf8), Array(routes.pinHeader.lowercased().utf8))
            } else {
                headers = nil
            }
            variants = routes.split.variants.map { variant in
                guard routes.deployed.contains(variant), let backends = endpoint.replicas[variant], !backends.isEmpty else { return nil }
                return (variant, backends)
            }
        }
    }

    private var generation: UInt64?
    private var entries: [Entry] = []
    /// The entries by name, when there are too many to compare one by one.
    private var byName: [String: Entry] = [:]
    private static let linearLimit = 8

    /// The endpoint whose name is `name`, from the gateway's current table.
    mutating func entry(_ gateway: Gateway, named name: UnsafeRawBufferPointer) -> Entry? {
        let current = gateway.tableGeneration
        if current != generation {
            entries = gateway.currentTable.endpoints.map { Entry(name: $0.key, endpoint: $0.value) }
            byName = entries.count > Self.linearLimit ? Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) }) : [:]
            generation = current
        }
        guard !name.isEmpty else { return nil }
        if entries.count > Self.linearLimit { return byName[String(decoding: name, as: UTF8.self)] }
        for entry in entries where entry.nameBytes.count == name.count {
            if entry.nameBytes.withUnsafeBytes({ memcmp($0.baseAddress!, name.baseAddress!, name.count) }) == 0 { return entry }
        }
        return nil
    }
}
