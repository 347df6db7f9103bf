import Foundation

/// Logistic regression with an L2 penalty: a sigmoid for two classes, a multinomial softmax for more.
///
/// Features are standardised internally (the fitted ``StandardScaler`` is part of the model), and the
/// weights are found by L-BFGS on the mean log loss plus `l2 / 2 · ‖w‖²` (the intercepts are not
/// penalised). `C` is scikit-learn's inverse regularisation strength: `l2 = 1 / (C · n)` for n samples,
/// so the same `C` gives the same optimum as scikit-learn's `LogisticRegression`.
public struct LogisticRegression: Sendable {
    /// Training parameters, named as on the command line (`--param C=0.5`).
    public struct Parameters: Sendable, Equatable {
        /// Inverse regularisation strength, as in scikit-learn. Ignored when ``l2`` is set.
        public var c: Double = 1
        /// The L2 penalty on the mean loss; overrides ``c`` when set.
        public var l2: Double?
        /// The most L-BFGS iterations.
        public var maxIter = 1000
        /// Stop when the largest gradient component is at most this.
        public var tol = 1e-6

        public init() {}

        /// Parses `key=value` pairs: `C`, `l2`, `max_iter`, `tol`.
        public init(_ values: [String: String]) throws(ModelError) {
            for (key, value) in values {
                switch key {
                case "C", "c": c = try ParameterParsing.positive(key, value)
                case "l2": l2 = try ParameterParsing.nonNegative(key, value)
                case "max_iter": maxIter = try ParameterParsing.count(key, value, range: 1...1_000_000)
                case "tol": tol = try ParameterParsing.positive(key, value)
                default:
                    throw ModelError.invalidParameter("unknown parameter '\(key)' for logistic; use C, l2, max_iter or tol")
                }
            }
        }

        /// The effective penalty for `n` samples.
        public func penalty(samples n: Int) -> Double { l2 ?? 1 / (c * Double(max(n, 1))) }

        /// The parameters as stored in the model file.
        public func record(samples n: Int) -> [String: Double] {
            var out: [String: Double] = ["l2": penalty(samples: n), "max_iter": Double(maxIter), "tol": tol]
            if l2 == nil { out["C"] = c }
            return out
        }
    }

    /// Fits the model.
    ///
    /// - Parameters:
    ///   - rows: the features, one row per sample.
    ///   - classes: the class index of each sample, in `0..<classCount`.
    ///   - progress: called with the iteration and the objective value.
    /// - Returns: the weights and how the optimisation ended.
    public static func fit(
        rows: [[Double]], classes: [Int], classCount: Int, parameters: Parameters, progress: (Int, Double) -> Void = { _, _ in }
    ) -> (weights: LogisticWeights, iterations: Int, converged: Bool) {
        let scaler = StandardScaler(fitting: rows)
        let n = rows.count
        let f = scaler.mean.count
        let stride = f + 1
        var x = [Double](repeating: 0, count: n * f)
        for (i, row) in rows.enumerated() {
            let scaled = scaler.transform(row)
            for j in 0..<f { x[i * f + j] = scaled[j] }
        }
        let outputs = classCount == 2 ? 1 : classCount
        let lambda = parameters.penalty(samples: n)
        let invN = 1 / Double(n)
        var scores = [Double](repeating: 0, count: outputs)
        let objective = { (w: [Double], gradient: inout [Double]) -> Double in
            for i in gradient.indices { gradient[i] = 0 }
            var loss = 0.0
            for i in 0..<n {
                let base = i * f
                for k in 0..<outputs {
                    var z = w[k * stride + f]
                    for j in 0..<f { z += w[k * stride + j] * x[base + j] }
                    scores[k] = z
                }
                if outputs == 1 {
                    let z = scores[0]
                    let yi = Double(classes[i])
                    // log(1 + e^z) - y z, computed without overflow.
                    loss += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - yi * z
                    let residual = (1 / (1 + exp(-z)) - yi) * invN
                    for j in 0..<f { gradient[j] += residual * x[base + j] }
                    gradient[f] += residual
                } else {
                    let top = scores.max()!
                    var sum = 0.0
                    for k in 0..<outputs {
                        scores[k] = exp(scores[k] - top)
                        sum += scores[k]
                    }
                    let yi = classes[i]
                    loss += log(sum) - log(scores[yi])
                    for k in 0..<outputs {
                        let residual = (scores[k] / sum - (k == yi ? 1 : 0)) * invN
                        let offset = k * stride
                        for j in 0..<f { gradient[offset + j] += residual * x[base + j] }
                        gradient[offset + f] += residual
                    }
                }
            }
            loss *= invN
            var penalty = 0.0
            for k in 0..<outputs {
                for j in 0..<f {
                    let wkj = w[k * stride + j]
                    penalty += wkj * wkj
                    gradient[k * stride + j] += lambda * wkj
                }
            }
            return loss + 0.5 * lambda * penalty
        }
        let optimizer = LBFGS(memory: 10, maxIterations: parameters.maxIter, tolerance: parameters.tol)
        let result = optimizer.minimize(from: [Double](repeating: 0, count: outputs * stride), objective: objective, progress: progress)
        var coefficients: [[Double]] = []
        var intercepts: [Double] = []
        for k in 0..<outputs {
            coefficients.append(Array(result.x[(k * stride)..<(k * stride + f)]))
            intercepts.append(result.x[k * stride + f])
        }
        return (LogisticWeights(scaler: scaler, coefficients: coefficients, intercepts: intercepts), result.iterations, result.converged)
    }
}

/// The fitted weights of a ``LogisticRegression``, applied to standardised features.
public struct LogisticWeights: Sendable, Codable, Equatable {
    public var scaler: StandardScaler
    /// One row of coefficients per output: one output for two classes (the second class's log-odds), else one per class.
    public var coefficients: [[Double]]
    public var intercepts: [Double]

    public init(scaler: StandardScaler, coefficients: [[Double]], intercepts: [Double]) {
        self.scaler = scaler
        self.coefficients = coefficients
        self.intercepts = intercepts
    }

    /// The raw scores (log-odds or logits) of one row.
    public func scores(_ row: [Double]) -> [Double] {
        let scaled = scaler.transform(row)
        return coefficients.indices.map { k in
            var z = intercepts[k]
            let w = coefficients[k]
            for j in scaled.indices { z += w[j] * scaled[j] }
            return z
        }
    }
}

/// Parsing of `--param key=value` values with messages that name the key.
enum ParameterParsing {
    static func number(_ key: String, _ text: String) throws(ModelError) -> Double {
        guard let value = Double(text), value.isFinite else {
            throw ModelError.invalidParameter("parameter \(key)='\(text)' is not a number")
        }
        return value
    }

    static func positive(_ key: String, _ text: String) throws(ModelError) -> Double {
        let value = try number(key, text)
        guard value > 0 else { throw ModelError.invalidParameter("parameter \(key) must be greater than 0, got \(text)") }
        return value
    }

    static func nonNegative(_ key: String, _ text: String) throws(ModelError) -> Double {
        let value = try number(key, text)
        guard value >= 0 else { throw ModelError.invalidParameter("parameter \(key) must be 0 or more, got \(text)") }
        return value
    }

    static func count(_ key: String, _ text: String, range: ClosedRange<Int>) throws(ModelError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ModelError.invalidParameter(
                "parameter \(key) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }
}
