import SlipwayStats

/// The verdict on a shadow (``ShadowStrategy``): the default analysis of the candidate's answers to
/// mirrored requests against the stable variant's (error rate, latency, prediction drift), plus the
/// agreement check — the share of mirrored requests whose answer matched, with an exact
/// (Clopper–Pearson) interval against `minAgreement`.
public struct ShadowAnalysis: Sendable {
    /// 1 − confidence of the agreement interval.
    public static let agreementAlpha = 0.01

    /// The shadow.
    public var strategy: ShadowStrategy
    /// The default analysis's settings.
    public var configuration: DefaultAnalysisConfiguration

    /// Creates the analysis.
    public init(strategy: ShadowStrategy, configuration: DefaultAnalysisConfiguration = DefaultAnalysisConfiguration()) {
        self.strategy = strategy
        self.configuration = configuration
    }

    /// One look.
    /// - Parameters:
    ///   - stable: the stable variant's answers to users.
    ///   - shadow: the candidate's answers to the mirrored copies.
    ///   - agreed: mirrored requests whose two answers agreed (within `tolerance`).
    ///   - compared: mirrored requests whose two answers were compared.
    /// - Throws: `RolloutError.invalidInput` for inconsistent counts.
    public func evaluate(stable: VariantSample, shadow: VariantSample, agreed: Int, compared: Int) throws(RolloutError) -> DefaultAnalysisResult {
        guard agreed >= 0, compared >= agreed else {
            throw RolloutError(
                .invalidInput, "agreement: \(agreed) agreeing answers out of \(compared) compared; agreed must be between 0 and compared")
        }
        let base = try DefaultAnalysis(configuration: configuration).evaluate(stable: stable, canary: shadow)
        var checks = base.checks
        checks.insert(agreementCheck(agreed: agreed, compared: compared), at: 0)
        let verdict: Verdict
        if checks.contains(where: { $0.verdict == .fail }) {
            verdict = .fail
        } else if checks.allSatisfy({ $0.verdict == .pass }) {
            verdict = .pass
        } else {
            verdict = .inconclusive
        }
        return DefaultAnalysisResult(verdict: verdict, checks: checks)
    }

    func agreementCheck(agreed: Int, compared: Int) -> DefaultAnalysisCheck {
        let target = strategy.minAgreement
        guard compared >= configuration.minSamples else {
            return DefaultAnalysisCheck(
                name: "agreement", verdict: .inconclusive,
                reason: "too few compared answers: \(compared); needs at least \(configuration.minSamples)", numbers: ["compared": Double(compared)])
        }
        let a = Double(agreed)
        let n = Double(compared)
        let half = Self.agreementAlpha / 2
        let low = agreed == 0 ? 0 : BetaDistribution(a: a, b: n - a + 1).ppf(half)
        let high = agreed == compared ? 1 : BetaDistribution(a: a + 1, b: n - a).ppf(1 - half)
        let numbers = ["agreement": a / n, "ciLow": low, "ciHigh": high, "minAgreement": target, "compared": n]
        let text = "\(percent(a / n)) of \(compared) answers agree (\(percent(low)) to \(percent(high)))"
        if low >= target {
            return DefaultAnalysisCheck(
                name: "agreement", verdict: .pass, reason: "\(text), at least the \(percent(target)) required", numbers: numbers)
        }
        if high < target {
            return DefaultAnalysisCheck(name: "agreement", verdict: .fail, reason: "\(text), below the \(percent(target)) required", numbers: numbers)
        }
        return DefaultAnalysisCheck(
            name: "agreement", verdict: .inconclusive, reason: "\(text); cannot tell yet whether it reaches \(percent(target))", numbers: numbers)
    }
}
