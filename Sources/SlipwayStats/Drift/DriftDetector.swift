import Foundation

/// Per-column drift detection with default tests chosen like Evidently's data-drift preset,
/// and dataset drift when the share of drifted columns reaches a threshold.
///
/// | column | reference rows ≤ 1000 | reference rows > 1000 |
/// |---|---|---|
/// | numerical | two-sample KS, drift when p < 0.05 | Wasserstein distance / reference std, drift when ≥ 0.1 |
/// | categorical, ≤ 2 labels | two-proportion z-test, drift when p < 0.05 | Jensen–Shannon distance, drift when ≥ 0.1 |
/// | categorical, > 2 labels | chi-square goodness of fit, drift when p < 0.05 | Jensen–Shannon distance, drift when ≥ 0.1 |
public struct DriftDetector: Sendable, Hashable {
    /// One column of a dataset.
    public enum Column: Sendable, Hashable {
        /// Numerical values.
        case numerical([Double])
        /// Category labels.
        case categorical([String])
    }

    /// The test applied to a column.
    public enum Method: String, Sendable, Hashable, Codable {
        /// Two-sample Kolmogorov–Smirnov test (p-value).
        case kolmogorovSmirnov = "ks"
        /// Wasserstein-1 distance divided by the reference standard deviation.
        case wassersteinNormed = "wasserstein"
        /// Chi-square goodness of fit of current label counts to reference shares (p-value).
        case chiSquare = "chisquare"
        /// Two-proportion z-test on the share of the first label (p-value).
        case proportionZTest = "z"
        /// Jensen–Shannon distance between label shares (natural log).
        case jensenShannon = "jensenshannon"

        /// `true` when the score is a p-value (drift below the threshold); `false` for a distance (drift at or above it).
        public var scoreIsPValue: Bool { self == .kolmogorovSmirnov || self == .chiSquare || self == .proportionZTest }
    }

    /// The outcome for one column.
    public struct ColumnResult: Sendable, Hashable, Codable {
        /// Column name.
        public var name: String
        /// The test used.
        public var method: Method
        /// The p-value or distance.
        public var score: Double
        /// The threshold it was compared with.
        public var threshold: Double
        /// Whether the column drifted.
        public var drifted: Bool
    }

    /// The outcome for the dataset.
    public struct Result: Sendable, Hashable, Codable {
        /// Per-column results, sorted by column name.
        public var columns: [ColumnResult]
        /// Share of drifted columns.
        public var driftShare: Double
        /// `true` when the drift share is at least the dataset threshold.
        public var datasetDrift: Bool
    }

    /// Reference row count up to which the statistical tests are used (default 1000).
    public var smallSampleLimit: Int
    /// Significance level of the p-value tests (default 0.05).
    public var pValueThreshold: Double
    /// Drift threshold of the distances (default 0.1).
    public var distanceThreshold: Double
    /// Dataset drift when this share of columns drifted (default 0.5).
    public var datasetDriftShare: Double

    /// Creates a detector with Evidently's defaults.
    public init(smallSampleLimit: Int = 1000, pValueThreshold: Double = 0.05, distanceThreshold: Double = 0.1, datasetDriftShare: Double = 0.5) {
        self.smallSampleLimit = smallSampleLimit
        self.pValueThreshold = pValueThreshold
        self.distanceThreshold = distanceThreshold
        self.datasetDriftShare = datasetDriftShare
    }

    /// The default test for a column with `referenceCount` rows and (for categorical columns) `labels` distinct labels.
    public func method(for column: Column, referenceCount: Int, labels: Int = 0) -> Method {
        switch column {
        case .numerical:
            return referenceCount <= smallSampleLimit ? .kolmogorovSmirnov : .wassersteinNormed
        case .categorical:
            if referenceCount > smallSampleLimit { return .jensenShannon }
            return labels > 2 ? .chiSquare : .proportionZTest
        }
    }

    /// Tests every column present in both datasets.
    /// - Throws: `StatsError` when a column is empty, has mismatched kinds, or holds non-finite numbers.
    public func detect(reference: [String: Column], current: [String: Column]) throws(StatsError) -> Result {
        var results: [ColumnResult] = []
        for name in reference.keys.sorted() {
            guard let ref = reference[name], let cur = current[name] else { continue }
            results.append(try detectColumn(name: name, reference: ref, current: cur))
        }
        guard !results.isEmpty else { throw .tooFewObservations(what: "columns present in both datasets", count: 0, minimum: 1) }
        let drifted = results.filter(\.drifted).count
        let share = Double(drifted) / Double(results.count)
        return Result(columns: results, driftShare: share, datasetDrift: share >= datasetDriftShare)
    }

    /// Tests one column.
    public func detectColumn(name: String, reference: Column, current: Column) throws(StatsError) -> ColumnResult {
        switch (reference, current) {
        case (.numerical(let r), .numerical(let c)):
            guard !r.isEmpty, !c.isEmpty else { throw .tooFewObservations(what: "column \(name)", count: min(r.count, c.count), minimum: 1) }
            let m = method(for: reference, referenceCount: r.count)
            if m == .kolmogorovSmirnov {
                let p = try ksTwoSample(r, c).pValue
                return ColumnResult(name: name, method: m, score: p, threshold: pValueThreshold, drifted: p < pValueThreshold)
            }
            let w = try wassersteinNormed(reference: r, current: c)
            return ColumnResult(name: name, method: m, score: w, threshold: distanceThreshold, drifted: w >= distanceThreshold)
        case (.categorical(let r), .categorical(let c)):
            guard !r.isEmpty, !c.isEmpty else { throw .tooFewObservations(what: "column \(name)", count: min(r.count, c.count), minimum: 1) }
            let labels = Array(Set(r).union(c)).sorted()
            let refCounts = counts(r, labels)
            let curCounts = counts(c, labels)
            let m = method(for: reference, referenceCount: r.count, labels: labels.count)
            switch m {
            case .jensenShannon:
                let d = try Divergence.jensenShannon(reference: refCounts, current: curCounts)
                return ColumnResult(name: name, method: m, score: d, threshold: distanceThreshold, drifted: d >= distanceThreshold)
            case .chiSquare:
                // Goodness of fit of current counts to reference shares; a label unseen in the reference is drift.
                let scale = Double(c.count) / Double(r.count)
                var chi2 = 0.0
                var impossible = false
                for i in labels.indices {
                    let e = refCounts[i] * scale
                    if e == 0 {
                        if curCounts[i] > 0 { impossible = true }
                        continue
                    }
                    chi2 += (curCounts[i] - e) * (curCounts[i] - e) / e
                }
                let p = impossible ? 0 : ChiSquare(df: Double(labels.count - 1)).sf(chi2)
                return ColumnResult(name: name, method: m, score: p, threshold: pValueThreshold, drifted: p < pValueThreshold)
            default:
                // Two-proportion z-test on the share of the first label.
                let p: Double
                if labels.count < 2 {
                    p = 1
                } else {
                    let first = labels[0]
                    let rs = Double(r.filter { $0 == first }.count)
                    let cs = Double(c.filter { $0 == first }.count)
                    let test = try? twoProportionZTest(
                        control: Proportion(successes: rs, trials: Double(r.count)), treatment: Proportion(successes: cs, trials: Double(c.count)))
                    p = test?.pValue ?? 1
                }
                return ColumnResult(name: name, method: .proportionZTest, score: p, threshold: pValueThreshold, drifted: p < pValueThreshold)
            }
        default:
            throw .parameterOutOfRange(name: "column \(name)", value: .nan, expected: "the same kind (numerical or categorical) in both datasets")
        }
    }

    func counts(_ values: [String], _ labels: [String]) -> [Double] {
        var map: [String: Double] = [:]
        for v in values { map[v, default: 0] += 1 }
        return labels.map { map[$0] ?? 0 }
    }
}
