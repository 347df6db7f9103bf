/// A regression tree stored as flat arrays, parents before children.
///
/// Node `i` is a leaf when `left[i] == -1`; otherwise a row goes to `left[i]` when
/// `row[feature[i]] <= threshold[i]` and to `right[i]` otherwise. Leaves hold their score in `value`.
/// Children always have larger indices than their parent, so a walk always ends.
public struct DecisionTree: Sendable, Codable, Equatable {
    public var feature: [Int]
    public var threshold: [Double]
    public var left: [Int]
    public var right: [Int]
    public var value: [Double]

    public init(feature: [Int] = [], threshold: [Double] = [], left: [Int] = [], right: [Int] = [], value: [Double] = []) {
        self.feature = feature
        self.threshold = threshold
        self.left = left
        self.right = right
        self.value = value
    }

    /// The number of nodes.
    public var nodeCount: Int { value.count }

    /// The number of leaves.
    public var leafCount: Int { left.reduce(0) { $0 + ($1 == -1 ? 1 : 0) } }

    /// The score of one row.
    @inline(__always) public func predict(_ row: [Double]) -> Double {
        var node = 0
        while left[node] >= 0 {
            node = row[feature[node]] <= threshold[node] ? left[node] : right[node]
        }
        return value[node]
    }

    /// Appends a leaf and returns its index.
    mutating func addNode() -> Int {
        feature.append(0)
        threshold.append(0)
        left.append(-1)
        right.append(-1)
        value.append(0)
        return value.count - 1
    }
}

/// The trees of a gradient-boosted model and the baseline scores they correct.
public struct TreeEnsemble: Sendable, Codable, Equatable {
    /// The starting score per output: log-odds of the second class for two classes, log priors otherwise.
    public var baseline: [Double]
    /// The trees in boosting order; tree `i` adds to output `i % baseline.count`.
    public var trees: [DecisionTree]

    public init(baseline: [Double], trees: [DecisionTree]) {
        self.baseline = baseline
        self.trees = trees
    }

    /// The raw scores of one row.
    public func scores(_ row: [Double]) -> [Double] {
        var scores = baseline
        let outputs = baseline.count
        for (i, tree) in trees.enumerated() { scores[i % outputs] += tree.predict(row) }
        return scores
    }
}
