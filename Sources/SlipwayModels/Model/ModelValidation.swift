import Foundation

/// The checks a model file must pass before it is used, so that a corrupt or hostile file is
/// refused with a message instead of crashing the process or predicting nonsense.
enum ModelValidation {
    /// How deeply arrays and objects may nest; the format itself needs 5 levels.
    static let maxNesting = 32
    static let maxFeatures = 1_000_000
    static let maxClasses = 10_000
    static let maxTotalNodes = 50_000_000

    /// Refuses deeply nested JSON before any decoder sees it.
    static func checkNesting(_ data: Data, source: String) throws(ModelError) {
        guard JSONNesting.depth(of: data, limit: maxNesting) <= maxNesting else {
            throw ModelError.invalidModel(path: source, message: "JSON nested more than \(maxNesting) levels deep; this is not a Slipway model file")
        }
    }

    static func validate(_ document: ModelDocument, source: String) throws(ModelError) {
        func fail(_ message: String) -> ModelError { ModelError.invalidModel(path: source, message: message) }
        guard document.formatVersion == ModelDocument.currentFormatVersion else {
            throw document.formatVersion > ModelDocument.currentFormatVersion
                ? fail(
                    "format_version \(document.formatVersion) was written by a newer Slipway; this one reads version \(ModelDocument.currentFormatVersion)"
                )
                : fail("format_version \(document.formatVersion) is not a model format; expected \(ModelDocument.currentFormatVersion)")
        }
        let featureCount = document.featureNames.count
        guard featureCount > 0, featureCount <= maxFeatures else {
            throw fail("feature_names must list 1 to \(maxFeatures) features, got \(featureCount)")
        }
        guard document.inputColumns.count <= maxFeatures else { throw fail("more than \(maxFeatures) input columns") }
        var columnNames = Set<String>()
        for column in document.inputColumns {
            guard columnNames.insert(column.name).inserted else { throw fail("input column '\(column.name)' is listed twice") }
            if let categories = column.categories {
                guard !categories.isEmpty, Set(categories).count == categories.count else {
                    throw fail("input column '\(column.name)' must list distinct categories")
                }
            }
        }
        guard FeatureEncoding(columns: document.inputColumns).featureNames == document.featureNames else {
            throw fail("feature_names do not match input_columns")
        }
        let classCount = document.classLabels.count
        guard classCount >= 2, classCount <= maxClasses, Set(document.classLabels).count == classCount else {
            throw fail("class_labels must list 2 to \(maxClasses) distinct labels, got \(classCount)")
        }
        if let bad = document.params.first(where: { !$0.value.isFinite }) { throw fail("parameter \(bad.key) is not a finite number") }
        let outputs = classCount == 2 ? 1 : classCount
        switch document.algorithm {
        case .logistic:
            guard let weights = document.logistic, document.gbdt == nil else {
                throw fail("a logistic model needs a 'logistic' section and no 'gbdt' section")
            }
            try validate(weights, features: featureCount, outputs: outputs, fail: fail)
        case .gbdt:
            guard let ensemble = document.gbdt, document.logistic == nil else {
                throw fail("a gbdt model needs a 'gbdt' section and no 'logistic' section")
            }
            try validate(ensemble, features: featureCount, outputs: outputs, fail: fail)
        }
    }

    private static func validate(_ weights: LogisticWeights, features: Int, outputs: Int, fail: (String) -> ModelError) throws(ModelError) {
        guard weights.scaler.mean.count == features, weights.scaler.scale.count == features else {
            throw fail("logistic.scaler must have \(features) means and scales")
        }
        guard weights.scaler.mean.allSatisfy(\.isFinite), weights.scaler.scale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw fail("logistic.scaler holds a non-finite mean or a scale that is not positive")
        }
        guard weights.coefficients.count == outputs, weights.intercepts.count == outputs else {
            throw fail("logistic needs \(outputs) rows of coefficients and \(outputs) intercepts for these classes")
        }
        for row in weights.coefficients {
            guard row.count == features else { throw fail("each row of logistic.coefficients must have \(features) values") }
            guard row.allSatisfy(\.isFinite) else { throw fail("logistic.coefficients holds a non-finite value") }
        }
        guard weights.intercepts.allSatisfy(\.isFinite) else { throw fail("logistic.intercepts holds a non-finite value") }
    }

    private static func validate(_ ensemble: TreeEnsemble, features: Int, outputs: Int, fail: (String) -> ModelError) throws(ModelError) {
        guard ensemble.baseline.count == outputs, ensemble.baseline.allSatisfy(\.isFinite) else {
            throw fail("gbdt.baseline must hold \(outputs) finite values")
        }
        guard ensemble.trees.count % outputs == 0 else { throw fail("gbdt.trees must hold \(outputs) trees per round") }
        var total = 0
        for (t, tree) in ensemble.trees.enumerated() {
            let n = tree.value.count
            total += n
            guard n > 0, total <= maxTotalNodes else { throw fail("gbdt.trees[\(t)] is empty, or the trees hold more than \(maxTotalNodes) nodes") }
            guard tree.feature.count == n, tree.threshold.count == n, tree.left.count == n, tree.right.count == n else {
                throw fail("gbdt.trees[\(t)] has arrays of different lengths")
            }
            for i in 0..<n {
                guard tree.value[i].isFinite else { throw fail("gbdt.trees[\(t)] node \(i) has a non-finite value") }
                if tree.left[i] == -1 {
                    guard tree.right[i] == -1 else { throw fail("gbdt.trees[\(t)] node \(i) has a right child but no left child") }
                    continue
                }
                // Children after their parent: every walk moves forward, so none can loop.
                guard tree.left[i] > i, tree.left[i] < n, tree.right[i] > i, tree.right[i] < n else {
                    throw fail("gbdt.trees[\(t)] node \(i) points to a child outside \(i + 1)..<\(n)")
                }
                guard tree.feature[i] >= 0, tree.feature[i] < features else {
                    throw fail("gbdt.trees[\(t)] node \(i) tests feature \(tree.feature[i]); the model has \(features)")
                }
                guard tree.threshold[i].isFinite else { throw fail("gbdt.trees[\(t)] node \(i) has a non-finite threshold") }
            }
        }
    }

    /// A decoding error as a short path and reason.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the document" : text
        }
        switch error {
        case .typeMismatch(_, let context): return "\(path(context)) has the wrong type"
        case .valueNotFound(_, let context): return "\(path(context)) is missing"
        case .keyNotFound(let key, let context): return "\(path(context)) has no field '\(key.stringValue)'"
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            return "\(path(context)): \(context.debugDescription)\(underlying)"
        @unknown default: return "\(error)"
        }
    }
}
