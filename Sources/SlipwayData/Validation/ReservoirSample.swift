/// A uniform random sample of at most `capacity` values from a stream (Vitter's algorithm R).
///
/// While the stream has no more than `capacity` values the sample holds all of them, in order, so any
/// statistic computed from it is exact; above that it holds a uniform sample drawn with a fixed seed,
/// so the same input gives the same sample on every run.
struct ReservoirSample {
    let capacity: Int
    private(set) var values: [Double] = []
    /// How many values the stream has had.
    private(set) var seen = 0
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Whether the sample holds every value seen.
    var isExact: Bool { seen <= capacity }

    mutating func add(_ value: Double) {
        seen += 1
        if values.count < capacity {
            values.append(value)
            return
        }
        let slot = Int(nextRandom() % UInt64(seen))
        if slot < capacity { values[slot] = value }
    }

    /// SplitMix64.
    private mutating func nextRandom() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
