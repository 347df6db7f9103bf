import Foundation
import Testing

@testable import SlipwayGateway

/// The ids the gateway gives requests that bring none: fixed-length hex that sorts in arrival order, so the
/// prediction log's request index grows at its end.
struct RequestIdsTests {
    @Test func formatPutsTimeThenConnectionThenCounter() {
        let id = RequestIds.format(millis: 0x0193_4A5B_6C7D, connection: 0xABCD_EF01_2345, counter: 0x00FF)
        #expect(id == "01934a5b6c7d" + "abcdef012345" + "00ff")
        #expect(RequestIds.format(millis: 0, connection: 0, counter: 0) == String(repeating: "0", count: 28))
        // Only the low 48 bits of the time are written; every id keeps its length.
        #expect(RequestIds.format(millis: .max, connection: 0xFFFF_FFFF_FFFF, counter: .max) == String(repeating: "f", count: 28))
    }

    @Test func idsOfOneConnectionSortInCreationOrder() async throws {
        var ids = RequestIds()
        var made: [String] = []
        for round in 0..<3 {
            for _ in 0..<500 { made.append(ids.next()) }
            if round < 2 { try await Task.sleep(for: .milliseconds(15)) }
        }
        #expect(made.allSatisfy { $0.utf8.count == RequestIds.length && $0.utf8.allSatisfy { "0123456789abcdef".utf8.contains($0) } })
        #expect(Set(made).count == made.count, "ids repeat")
        // Within a millisecond the counter orders them; across the pauses the clock does.
        #expect(made == made.sorted(), "ids do not sort in the order they were made")
        let now = RequestIds.millisecondsNow()
        let stamped = UInt64(made.last!.prefix(12), radix: 16)!
        #expect(stamped <= now && now - stamped < 60_000, "the id's time \(stamped) is not the clock's \(now)")
    }

    @Test func connectionsGetDistinctIds() {
        var first = RequestIds()
        var second = RequestIds()
        let a = (0..<100).map { _ in first.next() }
        let b = (0..<100).map { _ in second.next() }
        #expect(Set(a).isDisjoint(with: b))
        #expect(Set(a.map { $0.dropFirst(12).prefix(12) }).count == 1, "one connection keeps its random part")
    }
}
