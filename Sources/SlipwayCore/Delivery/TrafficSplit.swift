/// How an endpoint's traffic is divided among its variants, as an assignment of 10,000 buckets.
///
/// A request's sticky key hashes to a bucket (GrowthBook's v2 hash, so a team moving from
/// GrowthBook keeps its assignment) and the bucket's owner serves it. Changing the weights moves
/// as few buckets as possible: a variant that shrinks gives up its highest buckets, a variant that
/// grows takes free buckets in order. When a canary grows from 5% to 25%, only the users that move
/// into the canary change variant; everyone else keeps theirs.
///
/// A pure value: no clock, no I/O; the gateway swaps a whole new table atomically. The hashing of
/// keys to buckets lives with the gateway (`TrafficSplit+Hashing.swift`).
public struct TrafficSplit: Sendable, Equatable, Codable {
    /// The number of buckets: weights are in hundredths of a percent of it.
    public static let bucketCount = 10_000

    /// Variant names, in the order they were first given weight.
    public private(set) var variants: [String]
    /// For each bucket, the index into ``variants`` of its owner.
    private var owners: [UInt16]

    /// A split with all traffic on one variant.
    public init(allTo variant: String) {
        variants = [variant]
        owners = Array(repeating: 0, count: Self.bucketCount)
    }

    /// A split with the given weights, laid out in the order given.
    public init(weights: [(String, Double)]) throws(GenericError) {
        let first = try Self.validate(weights)
        self.init(allTo: first)
        try apply(weights)
    }

    /// The share of traffic of each variant, in percent (rounded to 0.01).
    public var weights: [String: Double] {
        var counts = [Int](repeating: 0, count: variants.count)
        for owner in owners { counts[Int(owner)] += 1 }
        var result: [String: Double] = [:]
        for (index, name) in variants.enumerated() where counts[index] > 0 {
            result[name] = Double(counts[index]) * 100 / Double(Self.bucketCount)
        }
        return result
    }

    /// The variant owning a bucket.
    public func variant(forBucket bucket: Int) -> String {
        variants[Int(owners[bucket])]
    }

    /// The position in ``variants`` of the variant owning a bucket.
    public func variantIndex(forBucket bucket: Int) -> Int {
        Int(owners[bucket])
    }

    /// Changes the weights, moving as few buckets as possible. Weights are percentages that must add
    /// up to 100 (to 0.01); a variant left out gets 0. Returns how many buckets changed owner.
    @discardableResult
    public mutating func apply(_ weights: [(String, Double)]) throws(GenericError) -> Int {
        _ = try Self.validate(weights)
        for (name, _) in weights where !variants.contains(name) {
            guard variants.count < Int(UInt16.max) else { throw GenericError(.invalidArgument, "too many variants") }
            variants.append(name)
        }
        var target = [Int](repeating: 0, count: variants.count)
        var assigned = 0
        for (name, weight) in weights {
            let buckets = Int((weight * Double(Self.bucketCount) / 100).rounded())
            target[variants.firstIndex(of: name)!] = buckets
            assigned += buckets
        }
        // Rounding can leave a bucket or two over or under: settle it on the largest weight.
        if assigned != Self.bucketCount, let largest = target.indices.max(by: { target[$0] < target[$1] }) {
            target[largest] += Self.bucketCount - assigned
        }
        var current = [Int](repeating: 0, count: variants.count)
        for owner in owners { current[Int(owner)] += 1 }
        // Shrinking variants free their highest buckets.
        var free: [Int] = []
        var excess = zip(current, target).map { max($0 - $1, 0) }
        for bucket in stride(from: Self.bucketCount - 1, through: 0, by: -1) {
            let owner = Int(owners[bucket])
            if excess[owner] > 0 {
                excess[owner] -= 1
                free.append(bucket)
            }
        }
        free.sort()
        // Growing variants take freed buckets in order.
        var cursor = 0
        for (index, want) in target.enumerated() where want > current[index] {
            for _ in 0..<(want - current[index]) {
                owners[free[cursor]] = UInt16(index)
                cursor += 1
            }
        }
        return free.count
    }

    static func validate(_ weights: [(String, Double)]) throws(GenericError) -> String {
        guard let first = weights.first?.0 else { throw GenericError(.invalidArgument, "give at least one variant weight") }
        var seen = Set<String>()
        var total = 0.0
        for (name, weight) in weights {
            guard !name.isEmpty else { throw GenericError(.invalidArgument, "a variant name is empty") }
            guard seen.insert(name).inserted else { throw GenericError(.invalidArgument, "variant '\(name)' is given twice") }
            guard weight.isFinite, weight >= 0, weight <= 100 else {
                throw GenericError(.invalidArgument, "weight \(weight) for '\(name)' must be between 0 and 100")
            }
            guard (weight * 100).rounded() == weight * 100 || abs((weight * 100).rounded() - weight * 100) < 1e-6 else {
                throw GenericError(.invalidArgument, "weight \(weight) for '\(name)' has more than two decimals")
            }
            total += weight
        }
        guard abs(total - 100) < 0.005 else {
            let described = weights.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            throw GenericError(.invalidArgument, "weights must add up to 100, but \(described) adds up to \(total)")
        }
        return first
    }

    private enum CodingKeys: String, CodingKey { case variants, ranges }

    /// Encoded as runs `[start, end, variantIndex]` so a stored table stays small.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        variants = try c.decode([String].self, forKey: .variants)
        let ranges = try c.decode([[Int]].self, forKey: .ranges)
        owners = Array(repeating: 0, count: Self.bucketCount)
        var covered = 0
        for range in ranges {
            guard range.count == 3, range[0] == covered, range[1] > range[0], range[1] <= Self.bucketCount, range[2] >= 0,
                range[2] < variants.count
            else {
                throw DecodingError.dataCorruptedError(forKey: .ranges, in: c, debugDescription: "bucket ranges must tile 0..<10000 in order")
            }
            for bucket in range[0]..<range[1] { owners[bucket] = UInt16(range[2]) }
            covered = range[1]
        }
        guard covered == Self.bucketCount, !variants.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .ranges, in: c, debugDescription: "bucket ranges must cover 0..<10000")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(variants, forKey: .variants)
        var ranges: [[Int]] = []
        var start = 0
        for bucket in 1...Self.bucketCount where bucket == Self.bucketCount || owners[bucket] != owners[start] {
            ranges.append([start, bucket, Int(owners[start])])
            start = bucket
        }
        try c.encode(ranges, forKey: .ranges)
    }
}
