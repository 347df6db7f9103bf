/// The latest record with each key hash of the active segment: open addressing with linear probing (at most
/// three quarters full), placed by the key hash's own bits (it is a hash already, so it is not hashed again
/// as a `Dictionary` would).
struct LatestByHash {
    private var hashes: [UInt64] = []
    /// ``empty`` marks a free slot.
    private var records: [UInt32] = []
    private var mask = 0
    private(set) var count = 0
    private static let empty = UInt32.max

    /// Makes room for `count` hashes without growing.
    mutating func reserve(_ count: Int) {
        var capacity = 16
        while 3 * capacity < 4 * count { capacity <<= 1 }
        if capacity > records.count { rehash(capacity) }
    }

    /// The latest record with `hash`.
    subscript(hash: UInt64) -> UInt32? {
        guard !records.isEmpty else { return nil }
        var slot = Self.slot(hash, mask)
        while records[slot] != Self.empty {
            if hashes[slot] == hash { return records[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Makes `record` the latest with `hash`; returns the one it replaces.
    mutating func update(_ record: UInt32, for hash: UInt64) -> UInt32? {
        precondition(record != Self.empty, "record numbers stop below \(Self.empty)")
        if 4 * (count + 1) > 3 * records.count { rehash(max(16, 2 * records.count)) }
        var slot = Self.slot(hash, mask)
        while records[slot] != Self.empty {
            if hashes[slot] == hash {
                defer { records[slot] = record }
                return records[slot]
            }
            slot = (slot + 1) & mask
        }
        hashes[slot] = hash
        records[slot] = record
        count += 1
        return nil
    }

    private static func slot(_ hash: UInt64, _ mask: Int) -> Int {
        // Fibonacci hashing: the high bits of the product depend on every bit of the hash.
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    private mutating func rehash(_ capacity: Int) {
        let oldHashes = hashes
        let oldRecords = records
        hashes = Array(repeating: 0, count: capacity)
        records = Array(repeating: Self.empty, count: capacity)
        mask = capacity - 1
        for index in oldRecords.indices where oldRecords[index] != Self.empty {
            var slot = Self.slot(oldHashes[index], mask)
            while records[slot] != Self.empty { slot = (slot + 1) & mask }
            hashes[slot] = oldHashes[index]
            records[slot] = oldRecords[index]
        }
    }
}
