import Foundation

/// The result of a two-proportion z-test.
public struct ProportionTestResult: Sendable, Hashable, Codable {
    /// The z statistic with the pooled standard error, positive when treatment converts more.
    public var z: Double
    /// The p-value for the chosen alternative.
    public var pValue: Double
    /// Lower end of the unpooled Wald confidence interval for treatment − control (−1 for a `.less` test).
    public var ciLow: Double
    /// Upper end of the unpooled Wald confidence interval for treatment − control (+1 for a `.greater` test).
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
    let quantile = Normal.isf(alternative == .twoSided ? alpha / 2 : alpha)
    guard let result = proportionTest(control.successes, control.trials, treatment.successes, treatment.trials, quantile, alternative) else {
        throw .zeroVariance(what: "pooled conversion rate (all successes or all failures)")
    }
    return result
}

/// The arithmetic of the two-proportion z-test on validated counts; `nil` when the pooled variance is 0.
/// `quantile` is the normal quantile of the interval (z_{1−α/2} two-sided, z_{1−α} one-sided).
@inline(__always)
func proportionTest(_ s1: Double, _ n1: Double, _ s2: Double, _ n2: Double, _ quantile: Double, _ alternative: Alternative)
    -> ProportionTestResult?
{
    let inv1 = 1 / n1
    let inv2 = 1 / n2
    let f1 = n1 - s1  // failures, exact for counts below 2^53
    let f2 = n2 - s2
    let p1 = s1 * inv1
    let p2 = s2 * inv2
    let q1 = f1 * inv1
    let q2 = f2 * inv2
    let invTotal = 1 / (n1 + n2)
    let pooled = (s1 + s2) * invTotal
    let pooledFailures = (f1 + f2) * invTotal
    let pooledVariance = pooled * pooledFailures * (inv1 + inv2)
    guard pooledVariance > 0 else { return nil }
    // Subtract the smaller of the two representations so rates near 1 do not cancel.
    let diff = pooled <= 0.5 ? p2 - p1 : q1 - q2
    let z = diff / pooledVariance.squareRoot()
    let p: Double
    switch alternative {
    case .twoSided: p = min(1, erfc(abs(z) * Normal.invSqrt2))
    case .greater: p = Normal.sf(z)
    case .less: p = Normal.cdf(z)
    }
    let halfWidth = quantile * (p1 * q1 * inv1 + p2 * q2 * inv2).squareRoot()
    let ciLow: Double
    let ciHigh: Double
    switch alternative {
    case .twoSided:
        ciLow = diff - halfWidth
        ciHigh = diff + halfWidth
    case .greater:
        ciLow = diff - halfWidth
        ciHigh = 1
    case .less:
        ciLow = -1
        ciHigh = diff + halfWidth
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
    let chunks = n >= 4096 ? min(ProcessInfo.processInfo.activeProcessorCount, 8) : 1
    let chunkSize = (n + chunks - 1) / chunks
    let quantile = Normal.isf(alternative == .twoSided ? alpha / 2 : alpha)
    var firstFailure: Int?
    // Every slot is written before it is read: on failure the partly filled array is discarded.
    let results = [ProportionTestResult](unsafeUninitializedCapacity: n) { buffer, initializedCount in
        let out = UnsafeSendableBuffer(base: buffer.baseAddress!)
        let failures = FailureSlots(count: chunks)
        controls.withUnsafeBufferPointer { c in
            treatments.withUnsafeBufferPointer { t in
                let cs = UnsafeSendableInput(base: c.baseAddress!)
                let ts = UnsafeSendableInput(base: t.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let start = chunk * chunkSize
                    let end = min(n, start + chunkSize)
                    guard start < end else { return }
                    for i in start..<end {
                        let a = cs.base[i]
                        let b = ts.base[i]
                        guard let r = proportionTest(a.successes, a.trials, b.successes, b.trials, quantile, alternative) else {
                            failures.set(chunk, i)
                            // Keep the rest of the chunk initialised so the array stays valid until it is discarded.
                            for j in i..<end { (out.base + j).initialize(to: .unavailable) }
                            return
                        }
                        (out.base + i).initialize(to: r)
                    }
                }
            }
        }
        initializedCount = n
        firstFailure = failures.first()
    }
    if let firstFailure {
        throw .zeroVariance(what: "pooled conversion rate of pair \(firstFailure) (all successes or all failures)")
    }
    return results
}

extension ProportionTestResult {
    /// Filler for slots of a batch that failed; never returned to callers.
    static let unavailable = ProportionTestResult(
        z: 0, pValue: 1, ciLow: 0, ciHigh: 0, liftAbsolute: 0, liftRelative: 0, controlRate: 0, treatmentRate: 0)
}

/// A pointer shared by the workers of ``twoProportionZTests(controls:treatments:alpha:alternative:)``.
/// Safe because every worker writes a disjoint index range and the pointer outlives `concurrentPerform`.
struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// Read-only input shared by the workers of ``twoProportionZTests(controls:treatments:alpha:alternative:)``.
/// Safe because the array outlives `concurrentPerform` and is only read.
struct UnsafeSendableInput<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
}

/// One failure slot per worker, each written by its own worker only; read after all workers finished.
final class FailureSlots: @unchecked Sendable {
    // Safe: slot `i` is written only by worker `i`, and `first()` runs after `concurrentPerform` returns.
    private var slots: [Int?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ worker: Int, _ index: Int) { slots[worker] = index }

    func first() -> Int? { slots.compactMap { $0 }.min() }
}
