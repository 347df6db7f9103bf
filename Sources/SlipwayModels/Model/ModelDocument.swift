/// The algorithms of the built-in models.
public enum Algorithm: String, Sendable, Codable, CaseIterable {
    /// L2-regularised logistic regression (``LogisticRegression``).
    case logistic
    /// Gradient-boosted decision trees on binned features (``GradientBoosting``).
    case gbdt
}

/// How a training run went, stored with the model.
public struct TrainingSummary: Sendable, Codable, Equatable {
    public var samples: Int
    public var features: Int
    /// L-BFGS iterations (logistic) or boosting rounds (gbdt).
    public var iterations: Int
    /// Whether the optimiser met its tolerance (always true for gbdt, which runs a fixed number of rounds).
    public var converged: Bool
    public var fitSeconds: Double
    /// Accuracy on the training data.
    public var accuracy: Double
    /// Mean log loss on the training data.
    public var logLoss: Double

    public init(samples: Int, features: Int, iterations: Int, converged: Bool, fitSeconds: Double, accuracy: Double, logLoss: Double) {
        self.samples = samples
        self.features = features
        self.iterations = iterations
        self.converged = converged
        self.fitSeconds = fitSeconds
        self.accuracy = accuracy
        self.logLoss = logLoss
    }

    enum CodingKeys: String, CodingKey {
        case samples, features, iterations, converged, accuracy
        case fitSeconds = "fit_seconds"
        case logLoss = "log_loss"
    }
}

/// The contents of `slipway-model.json`: everything needed to predict, and how the model was made.
///
/// ```json
/// {"format_version": 1, "algorithm": "logistic", "target": "target",
///  "input_columns": [{"name": "mean_radius"}, …], "feature_names": ["mean_radius", …],
///  "class_labels": ["0", "1"], "params": {"C": 1, …}, "training": {…}, "logistic": {…}}
/// ```
public struct ModelDocument: Sendable, Codable, Equatable {
    /// The format this version of Slipway writes and reads.
    public static let currentFormatVersion = 1
    /// The file name inside a model directory.
    public static let fileName = "slipway-model.json"

    public var formatVersion: Int
    public var algorithm: Algorithm
    /// The label column the model was trained to predict.
    public var target: String
    /// The CSV columns the model reads and how they become features.
    public var inputColumns: [InputColumn]
    /// The names of the numeric features, in the order `predict` expects them.
    public var featureNames: [String]
    /// The classes, in the order of the probabilities; with two, the second is the positive class.
    public var classLabels: [String]
    /// The training parameters in effect.
    public var params: [String: Double]
    public var training: TrainingSummary
    /// The weights, when ``algorithm`` is `logistic`.
    public var logistic: LogisticWeights?
    /// The trees, when ``algorithm`` is `gbdt`.
    public var gbdt: TreeEnsemble?

    public init(
        algorithm: Algorithm, target: String, inputColumns: [InputColumn], classLabels: [String], params: [String: Double],
        training: TrainingSummary, logistic: LogisticWeights? = nil, gbdt: TreeEnsemble? = nil
    ) {
        self.formatVersion = Self.currentFormatVersion
        self.algorithm = algorithm
        self.target = target
        self.inputColumns = inputColumns
        self.featureNames = FeatureEncoding(columns: inputColumns).featureNames
        self.classLabels = classLabels
        self.params = params
        self.training = training
        self.logistic = logistic
        self.gbdt = gbdt
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case algorithm, target
        case inputColumns = "input_columns"
        case featureNames = "feature_names"
        case classLabels = "class_labels"
        case params, training, logistic, gbdt
    }
}
