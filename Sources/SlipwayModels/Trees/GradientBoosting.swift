import Foundation

/// Gradient-boosted decision trees on binned features, in the manner of scikit-learn's
/// `HistGradientBoostingClassifier`.
///
/// Features are binned once into at most 255 quantile bins; each tree grows best-first from
/// per-node gradient histograms (the larger child's histogram is the parent's minus the smaller
/// child's). Two classes use the binary log loss with one tree per round; more classes use the
/// softmax loss with one tree per class per round. Training is deterministic.
public struct GradientBoosting: Sendable {
    /// Training parameters, named as on the command line (`--param learning_rate=0.05`).
    public struct Parameters: Sendable, Equatable {
        public var learningRate = 0.1
        /// Boosting rounds.
        public var maxIter = 100
        /// The most leaves per tree; nil for no limit (then ``maxDepth`` should be set).
        public var maxLeafNodes: Int? = 31
        /// The deepest a leaf may be (the root has depth 0); nil for no limit.
        public var maxDepth: Int?
        public var minSamplesLeaf = 20
        /// The L2 penalty on leaf values.
        public var l2Regularization = 0.0
        /// Bins per feature, 2 to 255.
        public var maxBins = 255
        /// Seeds the subsample used for bin edges on large data sets.
        public var randomState: UInt64 = 0

        public init() {}

        /// Parses `key=value` pairs: `learning_rate`, `max_iter`, `max_leaf_nodes`, `max_depth`,
        /// `min_samples_leaf`, `l2_regularization`, `max_bins`, `random_state` (`none` lifts a limit).
        public init(_ values: [String: String]) throws(ModelError) {
            for (key, value) in values {
                switch key {
                case "learning_rate": learningRate = try ParameterParsing.positive(key, value)
                case "max_iter": maxIter = try ParameterParsing.count(key, value, range: 1...100_000)
                case "max_leaf_nodes":
                    maxLeafNodes = value.lowercased() == "none" ? nil : try ParameterParsing.count(key, value, range: 2...65_536)
                case "max_depth":
                    maxDepth = value.lowercased() == "none" ? nil : try ParameterParsing.count(key, value, range: 1...64)
                case "min_samples_leaf": minSamplesLeaf = try ParameterParsing.count(key, value, range: 1...Int(Int32.max))
                case "l2_regularization": l2Regularization = try ParameterParsing.nonNegative(key, value)
                case "max_bins": maxBins = try ParameterParsing.count(key, value, range: 2...255)
                case "random_state":
                    guard let seed = UInt64(value) else {
                        throw ModelError.invalidParameter("parameter random_state must be a whole number of 0 or more, got '\(value)'")
                    }
                    randomState = seed
                default:
                    throw ModelError.invalidParameter(
                        "unknown parameter '\(key)' for gbdt; use learning_rate, max_iter, max_leaf_nodes, max_depth, min_samples_leaf, l2_regularization, max_bins or random_state"
                    )
                }
            }
            if maxLeafNodes == nil && maxDepth == nil {
                throw ModelError.invalidParameter("max_leaf_nodes=none needs a max_depth, or trees could grow one leaf per sample")
            }
        }

        /// The parameters as stored in the model file.
        public var record: [String: Double] {
            var out: [String: Double] = [
                "learning_rate": learningRate, "max_iter": Double(maxIter), "min_samples_leaf": Double(minSamplesLeaf),
                "l2_regularization": l2Regularization, "max_bins": Double(maxBins), "random_state": Double(randomState),
            ]
            if let maxLeafNodes { out["max_leaf_nodes"] = Double(maxLeafNodes) }
            if let maxDepth { out["max_depth"] = Double(maxDepth) }
            return out
        }
    }

    /// Fits the ensemble.
    ///
    /// - Parameters:
    ///   - rows: the features, one row per sample.
    ///   - classes: the class index of each sample, in `0..<classCount`.
    ///   - progress: called after each round with the round number and the training log loss.
    public static func fit(rows: [[Double]], classes: [Int], classCount: Int, parameters: Parameters, progress: (Int, Double) -> Void = { _, _ in })
        -> TreeEnsemble
    {
        let n = rows.count
        let featureCount = rows.first?.count ?? 0
        let binner = FeatureBinner(rows: rows, maxBins: parameters.maxBins, seed: parameters.randomState)
        var binned: [[UInt8]] = []
        binned.reserveCapacity(featureCount)
        for f in 0..<featureCount { binned.append(rows.map { binner.bin($0[f], feature: f) }) }
        let binCounts = binner.edges.map { $0.count + 1 }
        let outputs = classCount == 2 ? 1 : classCount
        let eps = 1e-15
        var counts = [Double](repeating: 0, count: classCount)
        for c in classes { counts[c] += 1 }
        let baseline: [Double]
        if outputs == 1 {
            let p = min(max(counts[1] / Double(n), eps), 1 - eps)
            baseline = [log(p / (1 - p))]
        } else {
            baseline = counts.map { log(max($0 / Double(n), eps)) }
        }
        var raw = [Double](repeating: 0, count: n * outputs)
        for i in 0..<n { for k in 0..<outputs { raw[i * outputs + k] = baseline[k] } }
        var grower = TreeGrower(binned: binned, binCounts: binCounts, edges: binner.edges, parameters: parameters, sampleCount: n)
        var trees: [DecisionTree] = []
        var gradients = [Double](repeating: 0, count: n)
        var hessians = [Double](repeating: 0, count: n)
        var probabilities = [Double](repeating: 0, count: n * outputs)
        for round in 1...parameters.maxIter {
            computeProbabilities(raw: raw, outputs: outputs, into: &probabilities)
            for k in 0..<outputs {
                for i in 0..<n {
                    let p = probabilities[i * outputs + k]
                    let y: Double = outputs == 1 ? Double(classes[i]) : (classes[i] == k ? 1 : 0)
                    gradients[i] = p - y
                    hessians[i] = max(p * (1 - p), 1e-16)
                }
                let tree = grower.grow(gradients: gradients, hessians: hessians) { sample, value in
                    raw[sample * outputs + k] += value
                }
                trees.append(tree)
            }
            computeProbabilities(raw: raw, outputs: outputs, into: &probabilities)
            progress(round, logLoss(probabilities: probabilities, classes: classes, outputs: outputs))
        }
        return TreeEnsemble(baseline: baseline, trees: trees)
    }

    static func computeProbabilities(raw: [Double], outputs: Int, into probabilities: inout [Double]) {
        let n = raw.count / outputs
        if outputs == 1 {
            for i in 0..<n { probabilities[i] = 1 / (1 + exp(-raw[i])) }
            return
        }
        for i in 0..<n {
            let base = i * outputs
            var top = -Double.infinity
            for k in 0..<outputs { top = max(top, raw[base + k]) }
            var sum = 0.0
            for k in 0..<outputs {
                let e = exp(raw[base + k] - top)
                probabilities[base + k] = e
                sum += e
            }
            for k in 0..<outputs { probabilities[base + k] /= sum }
        }
    }

    static func logLoss(probabilities: [Double], classes: [Int], outputs: Int) -> Double {
        var total = 0.0
        for (i, c) in classes.enumerated() {
            let p = outputs == 1 ? (c == 1 ? probabilities[i] : 1 - probabilities[i]) : probabilities[i * outputs + c]
            total -= log(max(p, 1e-15))
        }
        return total / Double(max(classes.count, 1))
    }
}
