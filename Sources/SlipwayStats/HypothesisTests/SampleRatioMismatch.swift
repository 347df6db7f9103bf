import Foundation

/// The result of a sample-ratio-mismatch check.
public struct SRMResult: Sendable, Hashable, Codable {
    /// The chi-square goodness-of-fit statistic.
    public var chi2: Double
    /// Its p-value with (arms − 1) degrees of freedom.
    public var pValue: Double
    /// `true` when p < threshold and every arm has at least the minimum count.
    public var isMismatch: Bool
    /// `false` when some arm has fewer units than the minimum; the check then never reports a mismatch.
    public var hasEnoughData: Bool
    /// The expected count per arm under the configured split.
    public var expected: [Double]
}

/// Sample-ratio-mismatch check: a chi-square goodness-of-fit test of observed arm counts against
/// the configured traffic split (as `scipy.stats.chisquare` and GrowthBook's `check_srm`).
///
/// ```swift
/// let r = try srmCheck(counts: [5100, 4900])   // equal split by default
/// r.isMismatch                                  // false (p ≈ 0.0455 > 0.001)
/// ```
/// - Parameters:
///   - counts: units observed per arm (at least two arms).
///   - weights: intended share per arm, summing to 1 (within 1e-6); equal shares when `nil`.
///   - threshold: mismatch when p < threshold (default 0.001).
///   - minimumCount: arms below this count make the result `hasEnoughData == false`.
/// - Throws: `StatsError` for negative or non-finite counts, weights that are not positive or do not sum to 1.
public func srmCheck(counts: [Double], weights: [Double]? = nil, threshold: Double = 0.001, minimumCount: Double = 0) throws(StatsError)
    -> SRMResult
{
    guard counts.count >= 2 else { throw .tooFewObservations(what: "arms", count: counts.count, minimum: 2) }
    try StatsError.requireFinite(counts, "counts")
    for c in counts where c < 0 { throw .negativeCount(what: "arm count", value: c) }
    try StatsError.requireProbability(threshold, "threshold")
    let w = weights ?? Array(repeating: 1 / Double(counts.count), count: counts.count)
    guard w.count == counts.count else { throw .lengthMismatch(what: "counts and weights", first: counts.count, second: w.count) }
    try StatsError.requireFinite(w, "weights")
    for x in w where x <= 0 { throw .parameterOutOfRange(name: "weight", value: x, expected: "every weight > 0") }
    let sum = w.reduce(0, +)
    guard abs(sum - 1) <= 1e-6 else { throw .weightsDoNotSumToOne(sum: sum) }
    let total = counts.reduce(0, +)
    guard total > 0 else { throw .tooFewObservations(what: "all arms together", count: 0, minimum: 1) }
    let expected = w.map { $0 / sum * total }
    var chi2 = 0.0
    for i in counts.indices {
        let d = counts[i] - expected[i]
        chi2 += d * d / expected[i]
    }
    let p = ChiSquare(df: Double(counts.count - 1)).sf(chi2)
    let enough = counts.allSatisfy { $0 >= minimumCount }
    return SRMResult(chi2: chi2, pValue: p, isMismatch: enough && p < threshold, hasEnoughData: enough, expected: expected)
}

/// The result of a chi-square test of independence on a contingency table.
public struct ChiSquareTestResult: Sendable, Hashable, Codable {
    /// The chi-square statistic (Yates-corrected for 2×2 tables when requested).
    public var chi2: Double
    /// Its p-value.
    public var pValue: Double
    /// Degrees of freedom, (rows − 1)(columns − 1).
    public var dof: Int
    /// Expected counts under independence.
    public var expected: [[Double]]
}

/// Chi-square test of independence on a rows × columns table of counts, as
/// `scipy.stats.chi2_contingency` (Yates' continuity correction when dof = 1, on by default).
/// - Throws: `StatsError` for ragged tables, negative or non-finite counts, or a zero row or column total.
public func chiSquareContingency(_ table: [[Double]], yatesCorrection: Bool = true) throws(StatsError) -> ChiSquareTestResult {
    guard table.count >= 1, let width = table.first?.count else { throw .tooFewObservations(what: "table rows", count: 0, minimum: 1) }
    for row in table {
        guard row.count == width else { throw .lengthMismatch(what: "table rows", first: width, second: row.count) }
        try StatsError.requireFinite(row, "table")
        for v in row where v < 0 { throw .negativeCount(what: "table cell", value: v) }
    }
    let rowTotals = table.map { $0.reduce(0, +) }
    let columnTotals = (0..<width).map { j in table.reduce(0) { $0 + $1[j] } }
    let total = rowTotals.reduce(0, +)
    for (i, r) in rowTotals.enumerated() where r == 0 {
        throw .noSolution(reason: "row \(i + 1) has no counts, so its expected frequencies are 0; drop empty rows")
    }
    for (j, c) in columnTotals.enumerated() where c == 0 {
        throw .noSolution(reason: "column \(j + 1) has no counts, so its expected frequencies are 0; drop empty columns")
    }
    let expected = rowTotals.map { r in columnTotals.map { c in r * c / total } }
    let dof = (table.count - 1) * (width - 1)
    if dof == 0 {
        return ChiSquareTestResult(chi2: 0, pValue: 1, dof: 0, expected: expected)
    }
    var chi2 = 0.0
    for i in table.indices {
        for j in 0..<width {
            var d = table[i][j] - expected[i][j]
            if dof == 1 && yatesCorrection {
                // Shrink |O − E| by ½ but never past zero.
                let magnitude = max(0, abs(d) - 0.5)
                d = magnitude
            }
            chi2 += d * d / expected[i][j]
        }
    }
    return ChiSquareTestResult(chi2: chi2, pValue: ChiSquare(df: Double(dof)).sf(chi2), dof: dof, expected: expected)
}

/// Parses a table written as rows separated by `/` and cells by `,`, e.g. `"50,30,20/40,35,25"`.
public func parseContingencyTable(_ text: String) throws(StatsError) -> [[Double]] {
    var rows: [[Double]] = []
    for row in text.split(separator: "/") {
        var cells: [Double] = []
        for cell in row.split(separator: ",") {
            guard let v = Double(cell.trimmingCharacters(in: .whitespaces)) else {
                throw .parameterOutOfRange(name: "table cell", value: .nan, expected: "a number, got '\(cell)'")
            }
            cells.append(v)
        }
        rows.append(cells)
    }
    return rows
}
