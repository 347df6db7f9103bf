import Foundation
import SlipwayStats

extension DefaultAnalysis {
    /// Runs a statistics call, naming the check when it throws.
    func stats<T>(_ check: String, _ body: () throws(StatsError) -> T) throws(StatsFailure) -> T {
        do throws(StatsError) { return try body() } catch { throw StatsFailure(check: check, message: error.description) }
    }

    // MARK: Error rate

    func errorRateCheck(_ stable: VariantSample, _ canary: VariantSample) throws(StatsFailure) -> DefaultAnalysisCheck {
        let cfg = configuration.errorRate
        let stableRate = stable.errorRate
        let canaryRate = canary.errorRate
        let tolerance = max(cfg.margin, cfg.relativeMargin * stableRate)
        // Agresti–Caffo: one error and one success added to each variant keep the variance positive
        // and the interval honest when errors are rare.
        let s = ArmStatistic.proportion(successes: Double(stable.errors + 1), trials: Double(stable.requests + 2))
        let c = ArmStatistic.proportion(successes: Double(canary.errors + 1), trials: Double(canary.requests + 2))
        let r = try stats("the error rate") { () throws(StatsError) in
            try sequentialEffect(control: s, treatment: c, scale: .absolute, alpha: cfg.alpha, tuning: configuration.sequentialTuning)
        }
        var numbers: [String: Double] = [
            "stableRate": stableRate, "canaryRate": canaryRate, "difference": canaryRate - stableRate, "ciLow": r.ciLow, "ciHigh": r.ciHigh,
            "margin": tolerance, "stableRequests": Double(stable.requests), "canaryRequests": Double(canary.requests),
        ]
        let rates = "canary \(percent(canaryRate)) vs stable \(percent(stableRate))"
        let interval = "\(percentPoints(r.ciLow)) to \(percentPoints(r.ciHigh))"
        if r.ciHigh < tolerance {
            return DefaultAnalysisCheck(
                name: "error-rate", verdict: .pass,
                reason: "\(rates); the difference is \(interval), below the \(percentPoints(tolerance, signed: false)) margin", numbers: numbers)
        }
        if r.ciLow > 0 && r.estimate > tolerance {
            return DefaultAnalysisCheck(
                name: "error-rate", verdict: .fail,
                reason:
                    "\(rates); the difference is \(interval), significantly above 0 and beyond the \(percentPoints(tolerance, signed: false)) margin",
                numbers: numbers)
        }
        // How many requests per variant would detect a change of the margin with 80 % power.
        if let n = try? PowerAnalysis.sampleSizeForProportions(
            baseline: min(max(stableRate, 0.001), 0.5), minimumDetectableEffect: tolerance, alpha: cfg.alpha, power: 0.8)
        {
            numbers["requestsNeeded"] = n.perArm
        }
        return DefaultAnalysisCheck(
            name: "error-rate", verdict: .inconclusive,
            reason: "\(rates); the difference is \(interval), which neither rules out nor shows an increase beyond the "
                + "\(percentPoints(tolerance, signed: false)) margin",
            numbers: numbers)
    }

    // MARK: Latency

    func latencyCheck(_ stable: VariantSample, _ canary: VariantSample) throws(StatsFailure) -> DefaultAnalysisCheck? {
        let cfg = configuration.latency
        if stable.latencyMs.isEmpty && canary.latencyMs.isEmpty { return nil }
        // Failed requests may have no latency, so half of the request guard is asked of the samples.
        let minimum = max(1, configuration.minSamples / 2)
        guard stable.latencyMs.count >= minimum, canary.latencyMs.count >= minimum else {
            return DefaultAnalysisCheck(
                name: "latency", verdict: .inconclusive,
                reason: "too few latency samples: canary \(canary.latencyMs.count), stable \(stable.latencyMs.count); each needs \(minimum)",
                numbers: ["stableSamples": Double(stable.latencyMs.count), "canarySamples": Double(canary.latencyMs.count)])
        }
        // Work on log latencies: the shift is then a ratio, and the margin a percentage.
        let logStable = stable.latencyMs.map { log(max($0, 0.001)) }
        let logCanary = canary.latencyMs.map { log(max($0, 0.001)) }
        let shift = try stats("the latency shift") { () throws(StatsError) in try hodgesLehmann(logStable, logCanary, alpha: cfg.alpha) }
        let test = try stats("the latency test") { () throws(StatsError) in
            try mannWhitneyU(logStable, logCanary, alternative: .greater)
        }
        let stableSorted = stable.latencyMs.sorted()
        let canarySorted = canary.latencyMs.sorted()
        let stableMedian = Binning.quantile(sorted: stableSorted, 0.5)
        let canaryMedian = Binning.quantile(sorted: canarySorted, 0.5)
        let tolerance = max(log1p(cfg.margin), log1p(cfg.marginMs / max(stableMedian, 0.001)))
        let numbers: [String: Double] = [
            "stableP50Ms": stableMedian, "canaryP50Ms": canaryMedian,
            "stableP99Ms": Binning.quantile(sorted: stableSorted, 0.99), "canaryP99Ms": Binning.quantile(sorted: canarySorted, 0.99),
            "ratio": exp(shift.estimate), "ratioLow": exp(shift.ciLow), "ratioHigh": exp(shift.ciHigh), "marginRatio": exp(tolerance),
            "pValue": test.pValue,
        ]
        let ratio = "canary/stable latency ×\(fixed(exp(shift.estimate), 3)) (\(fixed(exp(shift.ciLow), 3)) to \(fixed(exp(shift.ciHigh), 3)))"
        let margin = "+\(fixed((exp(tolerance) - 1) * 100, 1))%"
        if shift.ciHigh < tolerance {
            return DefaultAnalysisCheck(name: "latency", verdict: .pass, reason: "\(ratio), within the \(margin) margin", numbers: numbers)
        }
        if test.pValue < cfg.alpha / 2 && shift.estimate > tolerance {
            return DefaultAnalysisCheck(
                name: "latency", verdict: .fail,
                reason: "\(ratio), slower beyond the \(margin) margin (Mann–Whitney p = \(scientific(test.pValue)))", numbers: numbers)
        }
        return DefaultAnalysisCheck(
            name: "latency", verdict: .inconclusive, reason: "\(ratio) neither rules out nor shows a slow-down beyond \(margin)",
            numbers: numbers)
    }

    // MARK: Prediction drift

    func predictionDriftCheck(_ stable: VariantSample, _ canary: VariantSample) throws(StatsFailure) -> DefaultAnalysisCheck? {
        let cfg = configuration.predictionDrift
        let stableTotal = stable.predictionTotal
        let canaryTotal = canary.predictionTotal
        if stableTotal == 0 && canaryTotal == 0 { return nil }
        let minimum = configuration.minSamples
        guard stableTotal >= minimum, canaryTotal >= minimum else {
            return DefaultAnalysisCheck(
                name: "prediction-drift", verdict: .inconclusive,
                reason: "too few logged predictions: canary \(canaryTotal), stable \(stableTotal); each needs \(minimum)",
                numbers: ["stablePredictions": Double(stableTotal), "canaryPredictions": Double(canaryTotal)])
        }
        let labels = Set(stable.predictionCounts.keys).union(canary.predictionCounts.keys)
            .filter { stable.predictionCounts[$0, default: 0] + canary.predictionCounts[$0, default: 0] > 0 }.sorted()
        if labels.count < 2 {
            return DefaultAnalysisCheck(
                name: "prediction-drift", verdict: .pass, reason: "both variants predict only '\(labels.first ?? "")'", numbers: ["js": 0])
        }
        let s = labels.map { Double(stable.predictionCounts[$0, default: 0]) }
        let c = labels.map { Double(canary.predictionCounts[$0, default: 0]) }
        let chi = try stats("the chi-square test of predictions") { () throws(StatsError) in try chiSquareContingency([s, c]) }
        let js = try stats("the Jensen–Shannon distance") { () throws(StatsError) in try Divergence.jensenShannon(reference: s, current: c) }
        let psi = try stats("the PSI") { () throws(StatsError) in try Divergence.psi(reference: s, current: c) }
        // Equivalence: every class's share moves by less than the margin, with confidence sequences
        // at alpha split over the classes.
        let perClassAlpha = cfg.alpha / Double(labels.count)
        var largest = 0.0
        var largestLabel = labels[0]
        for (i, label) in labels.enumerated() {
            let a = ArmStatistic.proportion(successes: s[i] + 1, trials: Double(stableTotal) + 2)
            let b = ArmStatistic.proportion(successes: c[i] + 1, trials: Double(canaryTotal) + 2)
            let r = try stats("the share of '\(label)'") { () throws(StatsError) in
                try sequentialEffect(control: a, treatment: b, scale: .absolute, alpha: perClassAlpha, tuning: configuration.sequentialTuning)
            }
            let bound = max(abs(r.ciLow), abs(r.ciHigh))
            if bound > largest {
                largest = bound
                largestLabel = label
            }
        }
        let numbers: [String: Double] = [
            "js": js, "psi": psi, "chi2": chi.chi2, "pValue": chi.pValue, "largestShareChange": largest, "shareMargin": cfg.shareMargin,
            "threshold": cfg.threshold,
        ]
        let distances = "Jensen–Shannon \(fixed(js, 4)), PSI \(fixed(psi, 4)), chi-square p = \(scientific(chi.pValue))"
        if largest < cfg.shareMargin {
            return DefaultAnalysisCheck(
                name: "prediction-drift", verdict: .pass,
                reason: "every class share is within \(percentPoints(cfg.shareMargin, signed: false)) of stable (\(distances))", numbers: numbers)
        }
        if chi.pValue < cfg.alpha && js >= cfg.threshold {
            return DefaultAnalysisCheck(
                name: "prediction-drift", verdict: .fail,
                reason: "the prediction distribution moved (\(distances); threshold \(fixed(cfg.threshold, 3)))", numbers: numbers)
        }
        return DefaultAnalysisCheck(
            name: "prediction-drift", verdict: .inconclusive,
            reason: "the share of '\(largestLabel)' may have moved by up to \(percentPoints(largest, signed: false)) (\(distances))",
            numbers: numbers)
    }

    // MARK: Outcome

    func outcomeCheck(_ stable: VariantSample, _ canary: VariantSample) throws(StatsFailure) -> DefaultAnalysisCheck? {
        let cfg = configuration.outcome
        guard stable.outcome != nil || canary.outcome != nil else { return nil }
        let so = stable.outcome ?? OutcomeSummary()
        let co = canary.outcome ?? OutcomeSummary()
        let useConversion = so.trials > 0 || co.trials > 0
        let useMean = !useConversion && (so.values.count > 0 || co.values.count > 0)
        guard useConversion || useMean else { return nil }
        let stableCount = useConversion ? Double(so.trials) : so.values.count
        let canaryCount = useConversion ? Double(co.trials) : co.values.count
        let minimum = Double(configuration.minSamples)
        guard stableCount >= minimum, canaryCount >= minimum else {
            return DefaultAnalysisCheck(
                name: "outcome", verdict: .inconclusive,
                reason: "too few outcomes: canary \(Int(canaryCount)), stable \(Int(stableCount)); each needs \(Int(minimum))",
                numbers: ["stableOutcomes": stableCount, "canaryOutcomes": canaryCount])
        }
        let s: ArmStatistic
        let c: ArmStatistic
        if useConversion {
            s = .proportion(successes: Double(so.conversions + 1), trials: Double(so.trials + 2))
            c = .proportion(successes: Double(co.conversions + 1), trials: Double(co.trials + 2))
        } else {
            s = .mean(so.values)
            c = .mean(co.values)
        }
        guard s.mean != 0 else {
            return DefaultAnalysisCheck(
                name: "outcome", verdict: .inconclusive, reason: "the stable outcome mean is 0, so a relative change is undefined")
        }
        let r = try stats("the outcome") { () throws(StatsError) in
            try sequentialEffect(control: s, treatment: c, scale: .relative, alpha: cfg.alpha, tuning: configuration.sequentialTuning)
        }
        // Express everything as "improvement": positive is better.
        let sign = cfg.direction == .increase ? 1.0 : -1.0
        let low = sign > 0 ? r.ciLow : -r.ciHigh
        let high = sign > 0 ? r.ciHigh : -r.ciLow
        let estimate = sign * r.estimate
        let numbers: [String: Double] = [
            "stable": s.unadjustedMean, "canary": c.unadjustedMean, "lift": r.estimate, "ciLow": r.ciLow, "ciHigh": r.ciHigh, "margin": cfg.margin,
        ]
        let what = useConversion ? "conversion" : "outcome mean"
        let lift = "\(what) lift \(signedPercent(r.estimate)) (\(signedPercent(r.ciLow)) to \(signedPercent(r.ciHigh)))"
        if low > -cfg.margin {
            return DefaultAnalysisCheck(
                name: "outcome", verdict: .pass, reason: "\(lift), no worse than the \(fixed(cfg.margin * 100, 1))% margin", numbers: numbers)
        }
        if high < 0 && estimate < -cfg.margin {
            return DefaultAnalysisCheck(
                name: "outcome", verdict: .fail, reason: "\(lift), significantly worse beyond the \(fixed(cfg.margin * 100, 1))% margin",
                numbers: numbers)
        }
        return DefaultAnalysisCheck(
            name: "outcome", verdict: .inconclusive, reason: "\(lift) neither rules out nor shows a loss beyond \(fixed(cfg.margin * 100, 1))%",
            numbers: numbers)
    }
}

// MARK: Formatting

func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }

func signedPercent(_ x: Double) -> String { String(format: "%+.1f%%", x * 100) }

func percentPoints(_ x: Double, signed: Bool = true) -> String {
    String(format: signed ? "%+.2f points" : "%.2f points", x * 100)
}

func scientific(_ x: Double) -> String { x < 0.001 ? String(format: "%.1e", x) : String(format: "%.3f", x) }
