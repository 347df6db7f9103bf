public import SlipwayCore
import SlipwayStats

extension TrafficSplit {
    /// The bucket of a sticky key under an endpoint's seed: GrowthBook's v2 hash scaled to 10,000 buckets.
    public static func bucket(key: String, seed: String) -> Int {
        let hash = Bucketing.hash(seed: seed, value: key, version: 2) ?? 0
        return min(Int(hash * Double(bucketCount)), bucketCount - 1)
    }

    /// The variant for a sticky key.
    public func variant(forKey key: String, seed: String) -> String {
        variant(forBucket: Self.bucket(key: key, seed: seed))
    }
}
