import Foundation

/// One prediction: the most probable class and the probability of every class.
public struct Prediction: Sendable, Codable, Equatable {
    public var label: String
    /// In the order of ``ModelDocument/classLabels``.
    public var probabilities: [Double]

    public init(label: String, probabilities: [Double]) {
        self.label = label
        self.probabilities = probabilities
    }
}

/// A trained built-in model, checked and ready to predict.
///
/// ```swift
/// let model = try BuiltinModel.load(from: URL(fileURLWithPath: "models/cancer"))
/// let predictions = try model.predict(features: [[17.99, 10.38, …]])
/// print(predictions[0].label, predictions[0].probabilities)
/// ```
public struct BuiltinModel: Sendable {
    /// What the model file holds.
    public let document: ModelDocument

    /// Checks a document and wraps it.
    ///
    /// - Throws: ``ModelError/invalidModel(path:message:)`` when any part is inconsistent
    ///   (dimensions, indices, non-finite numbers, an unknown format version).
    public init(document: ModelDocument, source: String = "model") throws(ModelError) {
        try ModelValidation.validate(document, source: source)
        self.document = document
    }

    public var classLabels: [String] { document.classLabels }
    public var featureNames: [String] { document.featureNames }
    public var featureCount: Int { document.featureNames.count }

    /// Predicts the class and class probabilities of each row.
    ///
    /// - Parameter features: one row per sample, with ``featureCount`` finite numbers in ``featureNames`` order.
    /// - Throws: ``ModelError/invalidInput(_:)`` for a row of the wrong length or with a non-finite value.
    public func predict(features: [[Double]]) throws(ModelError) -> [Prediction] {
        var result: [Prediction] = []
        result.reserveCapacity(features.count)
        for (index, row) in features.enumerated() {
            guard row.count == featureCount else {
                throw ModelError.invalidInput(
                    "row \(index) has \(row.count) features; the model expects \(featureCount) (\(Self.preview(featureNames)))")
            }
            if let j = row.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.invalidInput("row \(index), feature '\(featureNames[j])' is \(row[j]); features must be finite numbers")
            }
            let probabilities = self.probabilities(row)
            var best = 0
            for k in probabilities.indices where probabilities[k] > probabilities[best] { best = k }
            result.append(Prediction(label: classLabels[best], probabilities: probabilities))
        }
        return result
    }

    /// The class probabilities of one valid row.
    func probabilities(_ row: [Double]) -> [Double] {
        let scores: [Double]
        switch document.algorithm {
        case .logistic: scores = document.logistic!.scores(row)
        case .gbdt: scores = document.gbdt!.scores(row)
        }
        if scores.count == 1 {
            let p = 1 / (1 + exp(-scores[0]))
            return [1 - p, p]
        }
        let top = scores.max()!
        let exps = scores.map { exp($0 - top) }
        let sum = exps.reduce(0, +)
        return exps.map { $0 / sum }
    }

    /// Evaluates the model on labeled data.
    ///
    /// - Throws: ``ModelError/invalidData(_:)`` when a label is not one of the model's classes.
    public func evaluate(_ data: LabeledData) throws(ModelError) -> EvaluationReport {
        let predictions = try predict(features: data.features)
        return try EvaluationReport(truth: data.labels, predictions: predictions, classes: classLabels, location: data.location)
    }

    static func preview(_ names: [String]) -> String {
        names.count <= 6 ? names.joined(separator: ", ") : names.prefix(5).joined(separator: ", ") + ", … \(names.last!)"
    }
}
