import Foundation
import SlipwayModels
import Testing

@Suite struct MetricsTests {
    static func close(_ a: Double?, _ b: Double, tolerance: Double = 1e-12) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= tolerance
    }

    static func predictions(_ probabilities: [[Double]], classes: [String]) -> [Prediction] {
        probabilities.map { row in
            var best = 0
            for k in row.indices where row[k] > row[best] { best = k }
            return Prediction(label: classes[best], probabilities: row)
        }
    }

    @Test func handComputedBinaryMetrics() throws {
        // Positives score 0.35 and 0.8, negatives 0.1 and 0.4: 3 of the 4 pairs are ordered, so AUC = 0.75.
        #expect(Metrics.rocAUC(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true]) == 0.75)
        // A tie between a positive and a negative counts one half.
        #expect(Metrics.rocAUC(scores: [0.5, 0.5], positives: [true, false]) == 0.5)
        #expect(Metrics.rocAUC(scores: [0.1, 0.9], positives: [true, true]) == nil)
        // -(ln 0.5 + ln 0.25) / 2
        #expect(Self.close(Metrics.logLoss(probabilities: [[0.5, 0.5], [0.75, 0.25]], truth: [1, 1]), (log(2) + log(4)) / 2))
        // A zero probability for the truth is clipped, not infinite.
        #expect(Metrics.logLoss(probabilities: [[1, 0]], truth: [1]).isFinite)

        let truth = ["no", "yes", "yes", "no", "yes"]
        let predicted = Self.predictions([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]], classes: ["no", "yes"])
        let report = try EvaluationReport(truth: truth, predictions: predicted, classes: ["no", "yes"])
        // Predicted: no, yes, no, yes, yes. TP = 2, FP = 1, FN = 1, TN = 1.
        #expect(report.confusionMatrix.counts == [[1, 1], [1, 2]])
        #expect(report.accuracy == 0.6)
        #expect(Self.close(report.precision, 2.0 / 3))
        #expect(Self.close(report.recall, 2.0 / 3))
        #expect(Self.close(report.f1, 2.0 / 3))
        #expect(report.positiveClass == "yes" && report.average == "binary")
        // Scores of yes: negatives 0.1, 0.7; positives 0.8, 0.4, 0.9 → pairs ordered: 0.8>both, 0.4>0.1, 0.9>both = 5 of 6.
        #expect(Self.close(report.rocAuc, 5.0 / 6))
    }

    /// Fixed predictions scored by scikit-learn (tools/model_fixtures/generate.py, scikit-learn 1.9.1).
    @Test func binaryMatchesScikitLearn() throws {
        let truth = [0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1].map(String.init)
        let p1 = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.4, 0.65, 0.99, 0.02, 0.55, 0.3]
        let report = try EvaluationReport(
            truth: truth, predictions: Self.predictions(p1.map { [1 - $0, $0] }, classes: ["0", "1"]), classes: ["0", "1"])
        #expect(Self.close(report.accuracy, 0.6666666666666666))
        #expect(Self.close(report.precision, 0.8))
        #expect(Self.close(report.recall, 0.5714285714285714))
        #expect(Self.close(report.f1, 0.6666666666666666))
        #expect(Self.close(report.rocAuc, 0.7428571428571429))
        #expect(Self.close(report.logLoss, 0.5252928049404944))
        #expect(report.confusionMatrix.counts == [[4, 1], [3, 4]])
    }

    @Test func multiClassMatchesScikitLearn() throws {
        let truth = [0, 1, 2, 2, 1, 0, 2, 1, 0, 2].map(String.init)
        let probabilities: [[Double]] = [
            [0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3], [0.25, 0.25, 0.5],
            [0.5, 0.3, 0.2], [0.05, 0.05, 0.9], [0.1, 0.8, 0.1], [0.4, 0.4, 0.2], [0.2, 0.2, 0.6],
        ]
        let classes = ["0", "1", "2"]
        let report = try EvaluationReport(truth: truth, predictions: Self.predictions(probabilities, classes: classes), classes: classes)
        #expect(Self.close(report.accuracy, 0.8))
        #expect(Self.close(report.precision, 0.8055555555555555))
        #expect(Self.close(report.recall, 0.8055555555555555))
        #expect(Self.close(report.f1, 0.8055555555555555))
        #expect(Self.close(report.rocAuc, 0.9156746031746031))
        #expect(Self.close(report.logLoss, 0.6599682516882622))
        #expect(report.confusionMatrix.counts == [[3, 0, 0], [0, 2, 1], [0, 1, 3]])
        #expect(zip(report.perClass.map(\.f1), [1.0, 0.6666666666666666, 0.75]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(report.perClass.map(\.support) == [3, 3, 4])
        #expect(report.positiveClass == nil && report.average == "macro")
    }

    @Test func unknownTrueLabelsAreExplained() {
        #expect {
            _ = try EvaluationReport(
                truth: ["a", "c"], predictions: Self.predictions([[1, 0], [0, 1]], classes: ["a", "b"]), classes: ["a", "b"],
                location: { "line \($0 + 2)" })
        } throws: { error in
            (error as? ModelError)?.message.contains("line 3: label 'c'") == true
        }
    }

    @Test func reportEncodesWithSnakeCaseKeys() throws {
        let report = try EvaluationReport(
            truth: ["0", "1"], predictions: Self.predictions([[0.8, 0.2], [0.3, 0.7]], classes: ["0", "1"]), classes: ["0", "1"])
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        for key in ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "confusion_matrix", "per_class", "positive_class"] {
            #expect(object?[key] != nil, "missing \(key)")
        }
        #expect(try JSONDecoder().decode(EvaluationReport.self, from: JSONEncoder().encode(report)) == report)
    }
}
