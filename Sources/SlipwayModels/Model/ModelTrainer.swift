import Foundation

/// Trains a built-in model from labeled data.
///
/// ```swift
/// let data = try LabeledData.load(csv: URL(fileURLWithPath: "train.csv"), target: "target")
/// let model = try ModelTrainer.train(.gbdt, on: data, parameters: ["max_iter": "200"])
/// try model.save(to: URL(fileURLWithPath: "models/cancer"))
/// ```
public enum ModelTrainer {
    /// One step of training, for progress output.
    public struct Progress: Sendable {
        /// The L-BFGS iteration or the boosting round.
        public var iteration: Int
        /// The training objective (logistic: penalised mean log loss; gbdt: mean log loss).
        public var loss: Double
    }

    /// The most classes a target may have.
    public static let maxClasses = 1000

    /// Trains a model.
    ///
    /// - Parameters:
    ///   - algorithm: `logistic` or `gbdt`.
    ///   - data: the training rows and labels.
    ///   - parameters: `key=value` training parameters (see ``LogisticRegression/Parameters`` and ``GradientBoosting/Parameters``).
    ///   - progress: called after each iteration.
    /// - Throws: ``ModelError`` for unknown or invalid parameters, fewer than two classes, or unusable data.
    public static func train(
        _ algorithm: Algorithm, on data: LabeledData, parameters: [String: String] = [:], progress: (Progress) -> Void = { _ in }
    ) throws(ModelError) -> BuiltinModel {
        guard !data.features.isEmpty else { throw ModelError.invalidData("there are no training rows") }
        let classLabels = ClassLabels.ordered(data.labels)
        guard classLabels.count >= 2 else {
            throw ModelError.invalidData(
                "the target column '\(data.target)' has only one class ('\(classLabels.first ?? "")'); a classifier needs at least two")
        }
        guard classLabels.count <= maxClasses else {
            throw ModelError.invalidData(
                "the target column '\(data.target)' has \(classLabels.count) different values; a classifier takes at most \(maxClasses) classes. Is it a continuous value?"
            )
        }
        let index = Dictionary(uniqueKeysWithValues: classLabels.enumerated().map { ($1, $0) })
        let classes = data.labels.map { index[$0]! }
        for (i, row) in data.features.enumerated() {
            if let j = row.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.invalidData("\(data.location(i)): feature '\(data.featureNames[j])' is not a finite number")
            }
        }
        let started = ContinuousClock.now
        var document: ModelDocument
        var iterations = 0
        var converged = true
        switch algorithm {
        case .logistic:
            let parsed = try LogisticRegression.Parameters(parameters)
            let fit = LogisticRegression.fit(rows: data.features, classes: classes, classCount: classLabels.count, parameters: parsed) {
                progress(Progress(iteration: $0, loss: $1))
            }
            iterations = fit.iterations
            converged = fit.converged
            document = ModelDocument(
                algorithm: .logistic, target: data.target, inputColumns: data.encoding.columns, classLabels: classLabels,
                params: parsed.record(samples: data.features.count), training: placeholderSummary, logistic: fit.weights)
        case .gbdt:
            let parsed = try GradientBoosting.Parameters(parameters)
            let ensemble = GradientBoosting.fit(rows: data.features, classes: classes, classCount: classLabels.count, parameters: parsed) {
                progress(Progress(iteration: $0, loss: $1))
            }
            iterations = parsed.maxIter
            document = ModelDocument(
                algorithm: .gbdt, target: data.target, inputColumns: data.encoding.columns, classLabels: classLabels, params: parsed.record,
                training: placeholderSummary, gbdt: ensemble)
        }
        let elapsed = started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let trained = try BuiltinModel(document: document)
        let report = try trained.evaluate(data)
        document.training = TrainingSummary(
            samples: data.features.count, features: data.featureNames.count, iterations: iterations, converged: converged,
            fitSeconds: (seconds * 1e6).rounded() / 1e6, accuracy: report.accuracy, logLoss: report.logLoss)
        return try BuiltinModel(document: document)
    }

    private static let placeholderSummary = TrainingSummary(
        samples: 0, features: 0, iterations: 0, converged: false, fitSeconds: 0, accuracy: 0, logLoss: 0)
}
