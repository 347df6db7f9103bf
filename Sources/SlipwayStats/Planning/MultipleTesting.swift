/// Corrections of p-values for testing several hypotheses at once.
public enum MultipleTesting {
    /// Holm–Bonferroni step-down adjusted p-values (as statsmodels `multipletests(method="holm")`),
    /// in the input order.
    /// - Throws: `StatsError` unless every p-value is in [0, 1].
    public static func holm(_ pValues: [Double]) throws(StatsError) -> [Double] {
        try validate(pValues)
        let m = pValues.count
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
        var adjusted = Array(repeating: 0.0, count: m)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            let value = min(1, Double(m - rank) * pValues[index])
            running = max(running, value)
            adjusted[index] = running
        }
        return adjusted
    }

    /// Benjamini–Hochberg step-up adjusted p-values controlling the false discovery rate
    /// (as statsmodels `multipletests(method="fdr_bh")`), in the input order.
    /// - Throws: `StatsError` unless every p-value is in [0, 1].
    public static func benjaminiHochberg(_ pValues: [Double]) throws(StatsError) -> [Double] {
        try validate(pValues)
        let m = pValues.count
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
        var adjusted = Array(repeating: 0.0, count: m)
        var running = 1.0
        for rank in stride(from: m - 1, through: 0, by: -1) {
            let index = order[rank]
            let value = pValues[index] * Double(m) / Double(rank + 1)
            running = min(running, value)
            adjusted[index] = min(1, running)
        }
        return adjusted
    }

    static func validate(_ p: [Double]) throws(StatsError) {
        guard !p.isEmpty else { throw .tooFewObservations(what: "p-values", count: 0, minimum: 1) }
        for v in p {
            try StatsError.requireProbability(v, "p-value", open: false)
        }
    }
}

/// Holm–Bonferroni adjusted p-values; see ``MultipleTesting/holm(_:)``.
public func holm(_ pValues: [Double]) throws(StatsError) -> [Double] { try MultipleTesting.holm(pValues) }

/// Benjamini–Hochberg adjusted p-values; see ``MultipleTesting/benjaminiHochberg(_:)``.
public func benjaminiHochberg(_ pValues: [Double]) throws(StatsError) -> [Double] { try MultipleTesting.benjaminiHochberg(pValues) }
