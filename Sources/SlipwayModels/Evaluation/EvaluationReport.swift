/// How well a classifier's predictions match the truth, as `slipway evaluate` prints it.
///
/// With two classes, precision, recall and F1 are those of the positive (second) class; with more,
/// they are the unweighted means over the classes (macro averages), and ``perClass`` lists each.
/// ROC AUC is the binary AUC, or the macro average of one-vs-rest AUCs; it is nil when the truth has
/// a single class. Log loss clips probabilities to `[ε, 1-ε]` with ε the spacing of doubles at 1.
public struct EvaluationReport: Sendable, Codable, Equatable {
    public struct ClassMetrics: Sendable, Codable, Equatable {
        public var label: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        /// How many samples truly have this class.
        public var support: Int
        /// One-vs-rest ROC AUC for this class; nil when the truth has no sample of it, or only samples of it.
        public var rocAuc: Double?

        enum CodingKeys: String, CodingKey {
            case label, precision, recall, f1, support
            case rocAuc = "roc_auc"
        }
    }

    /// Rows are the true classes, columns the predicted ones, both in ``classes`` order.
    public struct ConfusionMatrix: Sendable, Codable, Equatable {
        public var labels: [String]
        public var counts: [[Int]]
    }

    public var samples: Int
    public var classes: [String]
    /// "binary" (the metrics are the positive class's) or "macro".
    public var average: String
    /// The positive class, for two classes.
    public var positiveClass: String?
    public var accuracy: Double
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var rocAuc: Double?
    public var logLoss: Double
    public var perClass: [ClassMetrics]
    public var confusionMatrix: ConfusionMatrix

    enum CodingKeys: String, CodingKey {
        case samples, classes, average, accuracy, precision, recall, f1
        case positiveClass = "positive_class"
        case rocAuc = "roc_auc"
        case logLoss = "log_loss"
        case perClass = "per_class"
        case confusionMatrix = "confusion_matrix"
    }

    /// Computes the report.
    ///
    /// - Parameters:
    ///   - truth: the true label of each sample.
    ///   - predictions: the model's predictions, in the same order.
    ///   - classes: the model's classes, in the order of the probabilities.
    ///   - location: names a sample in error messages (for example its line in a CSV file).
    /// - Throws: ``ModelError/invalidData(_:)`` for a true label that is not one of `classes`, or no samples.
    public init(truth: [String], predictions: [Prediction], classes: [String], location: (Int) -> String = { "row \($0 + 1)" }) throws(ModelError) {
        guard !truth.isEmpty, truth.count == predictions.count else {
            throw ModelError.invalidData("there are no samples to evaluate, or not one prediction per sample")
        }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var trueIndex: [Int] = []
        trueIndex.reserveCapacity(truth.count)
        for (i, label) in truth.enumerated() {
            guard let k = index[label] else {
                throw ModelError.invalidData(
                    "\(location(i)): label '\(label)' is not one of the model's classes (\(classes.joined(separator: ", "))); was the model trained on this target?"
                )
            }
            trueIndex.append(k)
        }
        let predictedIndex = predictions.map { index[$0.label] ?? 0 }
        let k = classes.count
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (t, p) in zip(trueIndex, predictedIndex) { matrix[t][p] += 1 }
        let n = truth.count
        var perClass: [ClassMetrics] = []
        for c in 0..<k {
            let tp = matrix[c][c]
            let predicted = (0..<k).reduce(0) { $0 + matrix[$1][c] }
            let actual = matrix[c].reduce(0, +)
            let precision = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let recall = actual == 0 ? 0 : Double(tp) / Double(actual)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            let scores = predictions.map { $0.probabilities[c] }
            let auc = Metrics.rocAUC(scores: scores, positives: trueIndex.map { $0 == c })
            perClass.append(ClassMetrics(label: classes[c], precision: precision, recall: recall, f1: f1, support: actual, rocAuc: auc))
        }
        samples = n
        self.classes = classes
        accuracy = Double((0..<k).reduce(0) { $0 + matrix[$1][$1] }) / Double(n)
        logLoss = Metrics.logLoss(probabilities: predictions.map(\.probabilities), truth: trueIndex)
        confusionMatrix = ConfusionMatrix(labels: classes, counts: matrix)
        self.perClass = perClass
        if k == 2 {
            average = "binary"
            positiveClass = classes[1]
            precision = perClass[1].precision
            recall = perClass[1].recall
            f1 = perClass[1].f1
            rocAuc = perClass[1].rocAuc
        } else {
            average = "macro"
            positiveClass = nil
            precision = perClass.map(\.precision).reduce(0, +) / Double(k)
            recall = perClass.map(\.recall).reduce(0, +) / Double(k)
            f1 = perClass.map(\.f1).reduce(0, +) / Double(k)
            let aucs = perClass.compactMap(\.rocAuc)
            rocAuc = aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count)
        }
    }
}
