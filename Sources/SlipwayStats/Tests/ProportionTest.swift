import Foundation

/// The result of a two-proportion z-test.
public struct ProportionTestResult: Sendable, Hashable, Codable {
    /// The z statistic with the pooled standard error, positive when treatment converts more.
    public var z: Double
    /// The p-value for the chosen alternative.
    public var pValue: Double
    /// Lower end of the unpooled Wald confidence interval for treatment − control.
    public var ciLow: Double
    /// Upper end of the unpooled Wald confidence interval for treatment − control.
    public var ciHigh: Double
    /// Absolute lift, p_treatment − p_control.
    public var liftAbsolute: Double
    /// Relative lift, (p_treatment − p_control) / p_control (infinite when the control rate is 0).
    public var liftRelative: Double
    /// The control conversion rate.
    public var controlRate: Double
    /// The treatment conversion rate.
    public var treatmentRate: Double
}

/// A count of successes out of trials, validated.
public struct Proportion: Sendable, Hashable, Codable {
    /// Number of successes, 0 ≤ successes ≤ trials.
    public let successes: Double
    /// Number of trials, ≥ 1.
    public let trials: Double

    /// Creates a validated count.
    /// - Throws: `StatsError` for negative or non-finite counts, no trials, or successes above trials.
    public init(successes: Double, trials: Double) throws(StatsError) {
        try StatsError.requireFinite(successes, "successes")
        try StatsError.requireFinite(trials, "trials")
        guard successes >= 0 else { throw .negativeCount(what: "successes", value: successes) }
        guard trials >= 0 else { throw .negativeCount(what: "trials", value: trials) }
        guard trials >= 1 else { throw .tooFewObservations(what: "trials", count: Int(trials), minimum: 1) }
        guard successes <= trials else { throw .successesExceedTrials(successes: successes, trials: trials) }
        self.successes = successes
        self.trials = trials
    }

    /// Parses `SUCCESSES/TRIALS`, e.g. `"120/1000"`.
    public init(parsing text: String) throws(StatsError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let s = Double(parts[0].trimmingCharacters(in: .whitespaces)),
            let n = Double(parts[1].trimmingCharacters(in: .whitespaces))
        else { throw .parameterOutOfRange(name: "proportion", value: .nan, expected: "SUCCESSES/TRIALS, e.g. 120/1000, got '\(text)'") }
        try self.init(successes: s, trials: n)
    }

    /// successes / trials.
    public var rate: Double { successes / trials }
}

/// The two-proportion z-test: pooled standard error for the statistic (as statsmodels'
/// `proportions_ztest`), unpooled Wald interval for the difference (as `confint_proportions_2indep(method="wald")`).
///
/// ```swift
/// let r = try twoProportionZTest(control: .init(successes: 100, trials: 1000),
///                                treatment: .init(successes: 130, trials: 1000))
/// ```
/// - Parameters:
///   - control: control successes and trials.
///   - treatment: treatment successes and trials.
///   - alpha: 1 − confidence level of the interval, in (0, 1).
///   - alternative: the alternative hypothesis (treatment versus control).
/// - Throws: `StatsError.zeroVariance` when both arms are all successes or all failures.
public func twoProportionZTest(
    control: Proportion, treatment: Proportion, alpha: Double = 0.05, alternative: Alternative = .twoSided
) throws(StatsError) -> ProportionTestResult {
    try StatsError.requireProbability(alpha, "alpha")
    let n1 = control.trials
    let n2 = treatment.trials
    let inv1 = 1 / n1
    let inv2 = 1 / n2
    let f1 = n1 - control.successes  // failures, exact for counts below 2^53
    let f2 = n2 - treatment.successes
    let p1 = control.successes * inv1
    let p2 = treatment.successes * inv2
    let q1 = f1 * inv1
    let q2 = f2 * inv2
    let pooled = (control.successes + treatment.successes) / (n1 + n2)
    let pooledFailures = (f1 + f2) / (n1 + n2)
    let pooledVariance = pooled * pooledFailures * (inv1 + inv2)
    guard pooledVariance > 0 else { throw .zeroVariance(what: "pooled conversion rate (all successes or all failures)") }
    // Subtract the smaller of the two representations so rates near 1 do not cancel.
    let diff = pooled <= 0.5 ? p2 - p1 : q1 - q2
    let z = diff / pooledVariance.squareRoot()
    let p: Double
    switch alternative {
    case .twoSided: p = min(1, 2 * Normal.sf(abs(z)))
    case .greater: p = Normal.sf(z)
    case .less: p = Normal.cdf(z)
    }
    let se = (p1 * q1 * inv1 + p2 * q2 * inv2).squareRoot()
    let ciLow: Double
    let ciHigh: Double
    switch alternative {
    case .twoSided:
        let q = Normal.isf(alpha / 2)
        ciLow = diff - q * se
        ciHigh = diff + q * se
    case .greater:
        ciLow = diff - Normal.isf(alpha) * se
        ciHigh = 1
    case .less:
        ciLow = -1
        ciHigh = diff + Normal.isf(alpha) * se
    }
    let rel = p1 == 0 ? (diff == 0 ? 0 : Double.infinity) : diff / p1
    return ProportionTestResult(
        z: z, pValue: p, ciLow: ciLow, ciHigh: ciHigh, liftAbsolute: diff, liftRelative: rel, controlRate: p1, treatmentRate: p2)
}

/// Runs many two-proportion z-tests at once, splitting large batches over the available cores.
///
/// Results are in input order and identical to calling ``twoProportionZTest(control:treatment:alpha:alternative:)`` per pair.
/// - Throws: the first `StatsError` of any pair (by index).
public func twoProportionZTests(
    controls: [Proportion], treatments: [Proportion], alpha: Double = 0.05, alternative: Alternative = .twoSided
) throws(StatsError) -> [ProportionTestResult] {
    guard controls.count == treatments.count else {
        throw .lengthMismatch(what: "controls and treatments", first: controls.count, second: treatments.count)
    }
    try StatsError.requireProbability(alpha, "alpha")
    let n = controls.count
    if n == 0 { return [] }
    let placeholder = ProportionTestResult(z: 0, pValue: 1, ciLow: 0, ciHigh: 0, liftAbsolute: 0, liftRelative: 0, controlRate: 0, treatmentRate: 0)
    var results = [ProportionTestResult](repeating: placeholder, count: n)
    let chunks = n >= 4096 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
    let chunkSize = (n + chunks - 1) / chunks
    var firstError: (index: Int, error: StatsError)?
    results.withUnsafeMutableBufferPointer { buffer in
        let out = UnsafeSendableBuffer(base: buffer.baseAddress!)
        let errors = ErrorSlots(count: chunks)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * chunkSize
            let end = min(n, start + chunkSize)
            guard start < end else { return }
            for i in start..<end {
                do throws(StatsError) {
                    out.base[i] = try twoProportionZTest(control: controls[i], treatment: treatments[i], alpha: alpha, alternative: alternative)
                } catch {
                    errors.set(chunk, (i, error))
                    return
                }
            }
        }
        firstError = errors.first()
    }
    if let firstError { throw firstError.error }
    return results
}

/// A pointer shared by the workers of ``twoProportionZTests(controls:treatments:alpha:alternative:)``.
/// Safe because every worker writes a disjoint index range and the pointer outlives `concurrentPerform`.
struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// One error slot per worker, each written by its own worker only; read after all workers finished.
final class ErrorSlots: @unchecked Sendable {
    // Safe: slot `i` is written only by worker `i`, and `first()` runs after `concurrentPerform` returns.
    private var slots: [(Int, StatsError)?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ worker: Int, _ value: (Int, StatsError)) { slots[worker] = value }

    func first() -> (index: Int, error: StatsError)? {
        slots.compactMap { $0 }.min { $0.0 < $1.0 }.map { (index: $0.0, error: $0.1) }
    }
}
