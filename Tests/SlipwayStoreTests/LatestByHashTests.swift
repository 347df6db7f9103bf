import Testing

@testable import SlipwayStoreSQLite

/// The active segment's table of the latest record per key hash, against a dictionary doing the same.
@Suite struct LatestByHashTests {
    @Test func agreesWithADictionaryThroughGrowthAndCollidingSlots() {
        var generator = SystemRandomNumberGenerator()
        var table = LatestByHash()
        var reference: [UInt64: UInt32] = [:]
        // Hashes from a small pool repeat (updates), hashes that differ only in high bits share low bits, and 0 and
        // UInt64.max are ordinary keys.
        let pool: [UInt64] = (0..<500).map { _ in generator.next() } + (0..<64).map { UInt64($0) << 58 } + [0, .max]
        for record in 0..<20_000 {
            let hash = record % 4 == 0 ? generator.next() : pool[Int.random(in: 0..<pool.count, using: &generator)]
            let replaced = table.update(UInt32(record), for: hash)
            #expect(replaced == reference.updateValue(UInt32(record), forKey: hash))
            if record % 997 == 0 {
                for key in pool { #expect(table[key] == reference[key]) }
                #expect(table[generator.next()] == nil)
            }
        }
        #expect(table.count == reference.count)
        for (key, value) in reference { #expect(table[key] == value) }
    }

    @Test func reservingKeepsEverythingAndAnEmptyTableFindsNothing() {
        var table = LatestByHash()
        #expect(table[42] == nil)
        for record in 0..<100 { _ = table.update(UInt32(record), for: UInt64(record) &* 0x9E37_79B9) }
        table.reserve(100_000)
        for record in 0..<100 { #expect(table[UInt64(record) &* 0x9E37_79B9] == UInt32(record)) }
        #expect(table.count == 100)
    }
}
