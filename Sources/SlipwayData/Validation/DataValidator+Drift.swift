import Foundation
import SlipwayCore
import SlipwayStats

extension DataValidator {
    /// The statistic name a drift method reports.
    static func statisticName(_ method: DriftDetector.Method) -> String {
        switch method {
        case .kolmogorovSmirnov: "ks_p_value"
        case .wassersteinNormed: "wasserstein_distance_norm"
        case .chiSquare: "chisquare_p_value"
        case .proportionZTest: "z_test_p_value"
        case .jensenShannon: "jensenshannon_distance"
        }
    }

    /// The detector for one column: the schema's settings, with the column's threshold when it has one.
    static func detector(_ schema: DataSchema, column: DataSchema.Column) -> DriftDetector {
        var detector = DriftDetector(
            smallSampleLimit: schema.drift.smallSampleLimit, pValueThreshold: schema.drift.pValueThreshold,
            distanceThreshold: schema.drift.distanceThreshold, datasetDriftShare: schema.drift.datasetDriftShare)
        if let threshold = column.driftThreshold {
            detector.pValueThreshold = threshold
            detector.distanceThreshold = threshold
        }
        return detector
    }

    /// Drift of a categorical column from label counts, choosing and computing the test exactly as
    /// ``DriftDetector/detectColumn(name:reference:current:)`` does on the expanded labels.
    static func categoricalDrift(name: String, reference: [String: Int], current: [String: Int], detector: DriftDetector) throws(StatsError)
        -> ColumnDrift
    {
        let referenceTotal = reference.values.reduce(0, +)
        let currentTotal = current.values.reduce(0, +)
        guard referenceTotal > 0, currentTotal > 0 else {
            throw .tooFewObservations(what: "column \(name)", count: min(referenceTotal, currentTotal), minimum: 1)
        }
        let labels = Array(Set(reference.keys).union(current.keys)).sorted()
        let r = labels.map { Double(reference[$0] ?? 0) }
        let c = labels.map { Double(current[$0] ?? 0) }
        let method = detector.method(for: .categorical([]), referenceCount: referenceTotal, labels: labels.count)
        let p: Double
        switch method {
        case .jensenShannon:
            let d = try Divergence.jensenShannon(reference: r, current: c)
            return ColumnDrift(method: method, score: d, threshold: detector.distanceThreshold, drifted: d >= detector.distanceThreshold)
        case .chiSquare:
            // Goodness of fit of the current counts to the reference shares; a label unseen in the reference is drift.
            let scale = Double(currentTotal) / Double(referenceTotal)
            var chi2 = 0.0
            var impossible = false
            for i in labels.indices {
                let expected = r[i] * scale
                if expected == 0 {
                    if c[i] > 0 { impossible = true }
                    continue
                }
                chi2 += (c[i] - expected) * (c[i] - expected) / expected
            }
            p = impossible ? 0 : ChiSquare(df: Double(labels.count - 1)).sf(chi2)
        default:
            if labels.count < 2 {
                p = 1
            } else {
                let test = try? twoProportionZTest(
                    control: Proportion(successes: r[0], trials: Double(referenceTotal)),
                    treatment: Proportion(successes: c[0], trials: Double(currentTotal)))
                p = test?.pValue ?? 1
            }
        }
        return ColumnDrift(method: method, score: p, threshold: detector.pValueThreshold, drifted: p < detector.pValueThreshold)
    }

    func driftChecks(current: DataProfile, reference: DataProfile, schema: DataSchema) -> ([ValidationCheck], DriftSummary) {
        var checks: [ValidationCheck] = []
        var compared = 0
        var drifted = 0
        let columnVerdict: CheckVerdict = schema.drift.failOnColumnDrift ? .fail : .warn
        for (cur, ref) in zip(current.columns, reference.columns) where cur.column.drift != .none {
            let column = cur.column
            let name = column.name
            guard cur.present, ref.present else {
                checks.append(
                    ValidationCheck(
                        check: "drift", column: name, statistic: "drift", value: nil, threshold: nil, verdict: .fail,
                        message: "the column is missing from the \(cur.present ? "reference" : "data") file, so it cannot be compared"))
                continue
            }
            let detector = Self.detector(schema, column: column)
            let result: ColumnDrift
            var note = ""
            do {
                if column.drift == .numerical, let few = Self.fewValueCounts(reference: ref.fewNumbers, current: cur.fewNumbers) {
                    // Evidently's rule: a numerical column with at most five distinct values (reference and data together)
                    // is compared as categories (chi-square or z-test up to smallSampleLimit reference rows, Jensen–Shannon above).
                    result = try Self.categoricalDrift(name: name, reference: few.reference, current: few.current, detector: detector)
                    note = " (\(few.labels) distinct values: compared as categories)"
                } else if column.drift == .numerical {
                    let r = ref.numericSample?.values ?? []
                    let c = cur.numericSample?.values ?? []
                    result = ColumnDrift(try detector.detectColumn(name: name, reference: .numerical(r), current: .numerical(c)))
                    let exact = (ref.numericSample?.isExact ?? true) && (cur.numericSample?.isExact ?? true)
                    if !exact { note = " (on uniform samples of \(options.sampleLimit) values; the exact statistic may differ slightly)" }
                } else {
                    result = try Self.categoricalDrift(name: name, reference: ref.categoryCounts, current: cur.categoryCounts, detector: detector)
                }
            } catch {
                checks.append(
                    ValidationCheck(
                        check: "drift", column: name, statistic: "drift", value: nil, threshold: nil, verdict: .warn,
                        message: "not compared: \(error.description)"))
                continue
            }
            compared += 1
            if result.drifted { drifted += 1 }
            let relation = result.method.scoreIsPValue ? (result.drifted ? "<" : "≥") : (result.drifted ? "≥" : "<")
            checks.append(
                ValidationCheck(
                    check: "drift", column: name, statistic: Self.statisticName(result.method), value: result.score, threshold: result.threshold,
                    verdict: result.drifted ? columnVerdict : .pass,
                    message:
                        "\(result.drifted ? "drifted" : "no drift"): \(Self.statisticName(result.method)) \(Self.format(result.score)) \(relation) "
                        + "\(Self.format(result.threshold))" + note))
        }
        let share = compared > 0 ? Double(drifted) / Double(compared) : 0
        let threshold = schema.drift.datasetDriftShare
        let datasetDrift = compared > 0 && share >= threshold
        checks.append(
            ValidationCheck(
                check: "dataset_drift", statistic: "drifted_column_share", value: share, threshold: threshold, verdict: datasetDrift ? .fail : .pass,
                message:
                    "\(drifted) of \(compared) compared column(s) drifted (share \(Self.format(share)); the data set drifts at \(Self.format(threshold)))"
            ))
        return (checks, DriftSummary(columns: compared, driftedColumns: drifted, driftShare: share, threshold: threshold, datasetDrift: datasetDrift))
    }

    /// The value counts of a numerical column as label counts, when reference and data together have at most
    /// ``ColumnProfile/fewValuesLimit`` distinct values (and both have some); nil otherwise.
    static func fewValueCounts(reference: [Double: Int]?, current: [Double: Int]?) -> (reference: [String: Int], current: [String: Int], labels: Int)? {
        guard let reference, let current, !reference.isEmpty, !current.isEmpty else { return nil }
        let labels = Set(reference.keys).union(current.keys).count
        guard labels <= ColumnProfile.fewValuesLimit else { return nil }
        func label(_ value: Double) -> String {
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        }
        func relabel(_ counts: [Double: Int]) -> [String: Int] {
            Dictionary(counts.map { (label($0.key), $0.value) }, uniquingKeysWith: +)
        }
        return (relabel(reference), relabel(current), labels)
    }

    static func format(_ value: Double) -> String {
        if value != 0 && (abs(value) < 1e-4 || abs(value) >= 1e6) { return String(format: "%.4g", value) }
        return String(format: "%.4f", value)
    }
}

/// The drift outcome of one column.
struct ColumnDrift: Hashable {
    var method: DriftDetector.Method
    var score: Double
    var threshold: Double
    var drifted: Bool

    init(method: DriftDetector.Method, score: Double, threshold: Double, drifted: Bool) {
        self.method = method
        self.score = score
        self.threshold = threshold
        self.drifted = drifted
    }

    init(_ result: DriftDetector.ColumnResult) {
        self.init(method: result.method, score: result.score, threshold: result.threshold, drifted: result.drifted)
    }
}
