/// Deterministic assignment of units to experiment arms with the hashes GrowthBook and other
/// SDKs use, so assignments survive a move to Slipway.
public enum Bucketing {
    /// 32-bit FNV-1a over the string's UTF-16 code units (as GrowthBook's JavaScript SDK,
    /// identical to its Python SDK for text in the Basic Multilingual Plane).
    public static func fnv1a32(_ text: String) -> UInt32 {
        fnv1a32(continuing: 0x811C_9DC5, text)
    }

    /// FNV-1a over `text`'s UTF-16 code units, continuing from `hash` (the hash of what came before it), so
    /// `fnv1a32(continuing: fnv1a32(a), b) == fnv1a32(a + b)` without building `a + b`.
    public static func fnv1a32(continuing hash: UInt32, _ text: String) -> UInt32 {
        var text = text
        // ASCII text (the usual user id) has one UTF-16 unit per UTF-8 byte: read the bytes in place.
        let ascii: UInt32? = text.withUTF8 { bytes in
            var hash = hash
            for byte in bytes {
                guard byte < 0x80 else { return nil }
                hash ^= UInt32(byte)
                hash = hash &* 0x0100_0193
            }
            return hash
        }
        if let ascii { return ascii }
        var result = hash
        for unit in text.utf16 {
            result ^= UInt32(unit)
            result = result &* 0x0100_0193
        }
        return result
    }

    /// 32-bit FNV-1a over raw bytes.
    public static func fnv1a32<Bytes: Sequence>(bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return hash
    }

    /// GrowthBook's bucketing hash, a number in [0, 1).
    ///
    /// Version 1: `(fnv1a32(value + seed) % 1000) / 1000`.
    /// Version 2: `(fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000`.
    /// - Returns: `nil` for an unknown version (as the SDKs do).
    public static func hash(seed: String, value: String, version: Int) -> Double? {
        switch version {
        case 1: return Double(fnv1a32(value + seed) % 1000) / 1000
        case 2: return Double(hashV2(seed: seed, value: value) % 10000) / 10000
        default: return nil
        }
    }

    /// `fnv1a32(String(fnv1a32(seed + value)))`, the integer under GrowthBook's version 2 hash, computed
    /// without building either string.
    public static func hashV2(seed: String, value: String) -> UInt32 {
        var inner = fnv1a32(continuing: fnv1a32(seed), value)
        // The decimal digits of the inner hash, most significant first.
        var digits: (UInt64, UInt64) = (0, 0)
        var count = 0
        repeat {
            let digit = UInt64(inner % 10) + 0x30
            if count < 8 { digits.0 |= digit << UInt64(8 * count) } else { digits.1 |= digit << UInt64(8 * (count - 8)) }
            count += 1
            inner /= 10
        } while inner > 0
        var hash: UInt32 = 0x811C_9DC5
        for index in stride(from: count - 1, through: 0, by: -1) {
            let digit = index < 8 ? (digits.0 >> UInt64(8 * index)) & 0xFF : (digits.1 >> UInt64(8 * (index - 8))) & 0xFF
            hash ^= UInt32(digit)
            hash = hash &* 0x0100_0193
        }
        return hash
    }

    /// MurmurHash3 x86 32-bit of the UTF-8 bytes of `text`.
    public static func murmur3x86_32(_ text: String, seed: UInt32 = 0) -> UInt32 {
        murmur3x86_32(bytes: Array(text.utf8), seed: seed)
    }

    /// MurmurHash3 x86 32-bit of raw bytes.
    public static func murmur3x86_32(bytes data: [UInt8], seed: UInt32 = 0) -> UInt32 {
        let c1: UInt32 = 0xcc9e_2d51
        let c2: UInt32 = 0x1b87_3593
        var h = seed
        let blocks = data.count / 4
        for i in 0..<blocks {
            let base = i * 4
            var k = UInt32(data[base]) | UInt32(data[base + 1]) << 8 | UInt32(data[base + 2]) << 16 | UInt32(data[base + 3]) << 24
            k = k &* c1
            k = (k << 15) | (k >> 17)
            k = k &* c2
            h ^= k
            h = (h << 13) | (h >> 19)
            h = h &* 5 &+ 0xe654_6b64
        }
        let tail = blocks * 4
        var k: UInt32 = 0
        let remaining = data.count & 3
        if remaining >= 3 { k ^= UInt32(data[tail + 2]) << 16 }
        if remaining >= 2 { k ^= UInt32(data[tail + 1]) << 8 }
        if remaining >= 1 {
            k ^= UInt32(data[tail])
            k = k &* c1
            k = (k << 15) | (k >> 17)
            k = k &* c2
            h ^= k
        }
        h ^= UInt32(truncatingIfNeeded: data.count)
        h ^= h >> 16
        h = h &* 0x85eb_ca6b
        h ^= h >> 13
        h = h &* 0xc2b2_ae35
        h ^= h >> 16
        return h
    }

    /// The [start, end) range of the hash space per arm, GrowthBook's `getBucketRanges`.
    /// - Parameters:
    ///   - weights: share per arm, summing to 1 (within 0.01, as GrowthBook); equal when `nil`.
    ///   - coverage: the share of traffic included in the experiment, clamped to [0, 1].
    /// - Throws: `StatsError.weightsDoNotSumToOne` instead of silently using equal weights.
    public static func bucketRanges(arms: Int, coverage: Double = 1, weights: [Double]? = nil) throws(StatsError) -> [ClosedOpenRange] {
        guard arms >= 1 else { throw .tooFewObservations(what: "arms", count: arms, minimum: 1) }
        let c = min(1, max(0, coverage.isNaN ? 0 : coverage))
        let w = weights ?? Array(repeating: 1 / Double(arms), count: arms)
        guard w.count == arms else { throw .lengthMismatch(what: "arms and weights", first: arms, second: w.count) }
        try StatsError.requireFinite(w, "weights")
        let sum = w.reduce(0, +)
        guard sum >= 0.99, sum <= 1.01 else { throw .weightsDoNotSumToOne(sum: sum) }
        var cumulative = 0.0
        var ranges: [ClosedOpenRange] = []
        for weight in w {
            let start = cumulative
            cumulative += weight
            ranges.append(ClosedOpenRange(lower: start, upper: start + c * weight))
        }
        return ranges
    }

    /// The arm whose range holds `hash`, or `nil` when the unit falls outside the coverage.
    public static func chooseArm(hash: Double, ranges: [ClosedOpenRange]) -> Int? {
        ranges.firstIndex { hash >= $0.lower && hash < $0.upper }
    }

    /// A half-open interval [lower, upper) of the unit hash space.
    public struct ClosedOpenRange: Sendable, Hashable, Codable {
        /// Inclusive lower end.
        public var lower: Double
        /// Exclusive upper end.
        public var upper: Double
    }
}
