import Foundation

/// Classification metrics on plain arrays.
public enum Metrics {
    /// The area under the ROC curve: the probability that a random positive scores above a random
    /// negative, ties counting one half (the Mann-Whitney form, with average ranks for ties).
    ///
    /// - Returns: nil when there are no positives or no negatives.
    public static func rocAUC(scores: [Double], positives: [Bool]) -> Double? {
        let positiveCount = positives.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negativeCount = positives.count - positiveCount
        guard positiveCount > 0, negativeCount > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            // Ranks start..end (0-based) share their average, 1-based.
            let averageRank = Double(start + end) / 2 + 1
            for j in start...end where positives[order[j]] { rankSum += averageRank }
            start = end + 1
        }
        let p = Double(positiveCount)
        return (rankSum - p * (p + 1) / 2) / (p * Double(negativeCount))
    }

    /// The mean negative log probability of the true class, probabilities clipped to `[ε, 1-ε]`.
    public static func logLoss(probabilities: [[Double]], truth: [Int]) -> Double {
        let eps = Double.ulpOfOne
        var total = 0.0
        for (row, t) in zip(probabilities, truth) {
            total -= log(min(max(row[t], eps), 1 - eps))
        }
        return total / Double(max(truth.count, 1))
    }
}
