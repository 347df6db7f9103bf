import Foundation

/// Pass, fail or inconclusive: the verdict of the default analysis and of each of its checks.
public enum Verdict: String, Sendable, Codable, Equatable, CaseIterable {
    case pass = "Pass"
    case fail = "Fail"
    case inconclusive = "Inconclusive"

    /// The measurement phase the verdict stands for.
    public var phase: AnalysisPhase {
        switch self {
        case .pass: .successful
        case .fail: .failed
        case .inconclusive: .inconclusive
        }
    }
}

/// One check of the default analysis, with its reason and the numbers behind it.
public struct DefaultAnalysisCheck: Sendable, Codable, Equatable {
    /// `error-rate`, `latency`, `prediction-drift` or `outcome`.
    public var name: String
    public var verdict: Verdict
    /// One sentence with the numbers that decided.
    public var reason: String
    /// The statistics (rates, interval ends, margins, p-values, distances), all finite.
    public var numbers: [String: Double]

    /// Creates a check result.
    public init(name: String, verdict: Verdict, reason: String, numbers: [String: Double] = [:]) {
        self.name = name
        self.verdict = verdict
        self.reason = reason
        self.numbers = numbers.filter { $0.value.isFinite }
    }
}

/// The result of one look of the default analysis.
public struct DefaultAnalysisResult: Sendable, Codable, Equatable {
    /// Fail when any check fails; Pass when every applicable check passes; Inconclusive otherwise.
    public var verdict: Verdict
    /// The checks that applied (a check without data in both variants is left out).
    public var checks: [DefaultAnalysisCheck]

    /// The verdict and the reasons of the checks that decided it, on one line.
    public var summary: String {
        let deciding = checks.filter { $0.verdict == verdict }
        let reasons = (deciding.isEmpty ? checks : deciding).map { "\($0.name): \($0.reason)" }
        return "\(verdict.rawValue) — " + reasons.joined(separator: "; ")
    }
}

/// The controller's built-in verdict on a candidate against the stable variant, used when a step
/// says `analysis: default` (or names no templates).
///
/// Every check is a three-way decision on an effect with a confidence interval and a practical margin:
///
/// - **Pass** when the interval shows the candidate is at most `margin` worse;
/// - **Fail** when it is significantly worse *and* its estimate is beyond the margin;
/// - **Inconclusive** otherwise — notably when the minimum-sample guard finds too little traffic.
///
/// | check | effect | interval |
/// |---|---|---|
/// | error rate | canary − stable rate (Agresti–Caffo: one error and one success added per variant) | always-valid confidence sequence |
/// | latency | Hodges–Lehmann shift of log latency (a latency ratio) | Mann–Whitney test and the Hodges–Lehmann interval |
/// | prediction drift | class shares | chi-square test and Jensen–Shannon distance to fail, per-class confidence sequences to pass |
/// | outcome | relative lift of conversion or mean | always-valid confidence sequence |
///
/// The confidence sequences stay valid however often the analysis looks, which keeps false
/// promotions rare when a step looks every minute.
public struct DefaultAnalysis: Sendable {
    /// The name of the single metric of a default-analysis run.
    public static let metricName = "default"

    /// The settings.
    public var configuration: DefaultAnalysisConfiguration

    /// Creates the analysis.
    public init(configuration: DefaultAnalysisConfiguration = DefaultAnalysisConfiguration()) {
        self.configuration = configuration
    }

    /// One look: the candidate (`canary`) against `stable`, over the same window.
    /// - Throws: `RolloutError.invalidInput` for inconsistent counts.
    public func evaluate(stable: VariantSample, canary: VariantSample) throws(RolloutError) -> DefaultAnalysisResult {
        try stable.validate("stable")
        try canary.validate("canary")
        let c = configuration
        let minimum = c.minSamples
        if stable.requests < minimum || canary.requests < minimum {
            let check = DefaultAnalysisCheck(
                name: "traffic", verdict: .inconclusive,
                reason: "too little traffic to decide: canary \(canary.requests), stable \(stable.requests) requests; "
                    + "each needs at least \(minimum)",
                numbers: ["canaryRequests": Double(canary.requests), "stableRequests": Double(stable.requests), "minSamples": Double(minimum)])
            return DefaultAnalysisResult(verdict: .inconclusive, checks: [check])
        }
        var checks: [DefaultAnalysisCheck] = []
        do throws(StatsFailure) {
            if c.errorRate.enabled { checks.append(try errorRateCheck(stable, canary)) }
            if c.latency.enabled, let check = try latencyCheck(stable, canary) { checks.append(check) }
            if c.predictionDrift.enabled, let check = try predictionDriftCheck(stable, canary) { checks.append(check) }
            if c.outcome.enabled, let check = try outcomeCheck(stable, canary) { checks.append(check) }
        } catch {
            throw RolloutError(.invalidInput, "the default analysis could not compute \(error.check): \(error.message)")
        }
        let verdict: Verdict
        if checks.contains(where: { $0.verdict == .fail }) {
            verdict = .fail
        } else if !checks.isEmpty, checks.allSatisfy({ $0.verdict == .pass }) {
            verdict = .pass
        } else {
            verdict = .inconclusive
        }
        return DefaultAnalysisResult(verdict: verdict, checks: checks)
    }

    /// One look as a measurement of a default-analysis run (``AnalysisRun/init(defaultAnalysis:)``).
    public func measure(stable: VariantSample, canary: VariantSample) -> MeasurementOutcome {
        do throws(RolloutError) {
            return Self.outcome(of: try evaluate(stable: stable, canary: canary))
        } catch {
            return .error(error.message)
        }
    }

    /// A look's result as a measurement outcome: Pass is Successful, Fail is Failed, Inconclusive is Inconclusive.
    public static func outcome(of result: DefaultAnalysisResult) -> MeasurementOutcome {
        .decided(result.verdict.phase, message: result.summary)
    }
}

/// A statistics call that failed inside a check.
struct StatsFailure: Error {
    var check: String
    var message: String
}
