import Foundation

/// Sorting of `Double` arrays by an LSD radix sort (six 11-bit digits) on the order-preserving
/// bit pattern, several times faster than a comparison sort on large samples.
/// The caller must exclude NaN; −0 sorts as +0.
enum FastSort {
    static let digitBits: UInt64 = 11
    static let buckets = 1 << 11
    static let passes = 6

    static func sorted(_ values: [Double]) -> [Double] {
        if values.count < 4096 { return values.sorted() }
        let n = values.count
        let keys = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: n)
        let scratch = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: n)
        let histograms = UnsafeMutableBufferPointer<Int>.allocate(capacity: buckets * passes)
        defer {
            keys.deallocate()
            scratch.deallocate()
            histograms.deallocate()
        }
        histograms.initialize(repeating: 0)
        // One read pass builds the keys and all six digit histograms.
        values.withUnsafeBufferPointer { src in
            for i in 0..<n {
                let v = src[i] == 0 ? 0 : src[i]
                let bits = v.bitPattern
                let key = bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
                keys[i] = key
                for pass in 0..<passes {
                    histograms[pass * buckets + Int((key >> (UInt64(pass) &* digitBits)) & 0x7FF)] &+= 1
                }
            }
        }
        var source = keys
        var target = scratch
        for pass in 0..<passes {
            let shift = UInt64(pass) &* digitBits
            let base = pass * buckets
            // A digit shared by every key leaves the order unchanged.
            if histograms[base + Int((source[0] >> shift) & 0x7FF)] == n { continue }
            var sum = 0
            for d in 0..<buckets {
                let c = histograms[base + d]
                histograms[base + d] = sum
                sum &+= c
            }
            for i in 0..<n {
                let key = source[i]
                let slot = base + Int((key >> shift) & 0x7FF)
                target[histograms[slot]] = key
                histograms[slot] &+= 1
            }
            swap(&source, &target)
        }
        return [Double](unsafeUninitializedCapacity: n) { out, count in
            for i in 0..<n {
                let key = source[i]
                let bits = key & (1 << 63) != 0 ? key & ~(1 << 63) : ~key
                out[i] = Double(bitPattern: bits)
            }
            count = n
        }
    }
}

extension FastSort {
    /// Sorts two arrays, on two threads when both are large.
    static func sortedPair(_ a: [Double], _ b: [Double]) -> ([Double], [Double]) {
        guard a.count >= 200_000 && b.count >= 200_000 && ProcessInfo.processInfo.activeProcessorCount > 1 else {
            return (sorted(a), sorted(b))
        }
        let results = PairSlots()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            if index == 0 { results.first = sorted(a) } else { results.second = sorted(b) }
        }
        return (results.first, results.second)
    }
}

/// The two outputs of ``FastSort/sortedPair(_:_:)``.
final class PairSlots: @unchecked Sendable {
    // Safe: each slot is written by exactly one worker of `concurrentPerform`, and read after it returns.
    var first: [Double] = []
    var second: [Double] = []
}
