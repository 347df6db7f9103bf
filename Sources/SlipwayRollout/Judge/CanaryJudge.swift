public import SlipwayStats

/// Runs a judged template (`judge: mannwhitney`): every metric's canary samples are compared with
/// the stable variant's by ``KayentaJudge`` and the verdict becomes one measurement — Successful
/// when the score reaches `passThreshold`, Inconclusive when it reaches `marginalThreshold`,
/// Failed below that or when a critical metric fails.
public enum CanaryJudge {
    /// Per-request error indicators are capped at this many per variant (keeping the error rate).
    public static let maximumIndicatorSamples = 100_000

    /// Samples of one metric for both variants.
    public typealias Samples = (baseline: [Double], canary: [Double])

    /// The per-request samples of a builtin metric: latencies, or 0/1 error indicators.
    /// - Returns: nil for metrics without per-request samples.
    public static func samples(of metric: BuiltinMetric, stable: VariantSample, canary: VariantSample) -> Samples? {
        switch metric.kind {
        case .latency: return (stable.latencyMs, canary.latencyMs)
        case .errorRate: return (indicators(stable), indicators(canary))
        default: return nil
        }
    }

    static func indicators(_ s: VariantSample) -> [Double] {
        var n = s.requests
        var e = s.errors
        if n > maximumIndicatorSamples {
            e = Int((Double(e) * Double(maximumIndicatorSamples) / Double(n)).rounded())
            n = maximumIndicatorSamples
        }
        return [Double](repeating: 1, count: e) + [Double](repeating: 0, count: n - e)
    }

    /// The judge's measurement for a template.
    /// - Parameters:
    ///   - template: a template with a `judge`.
    ///   - stable, canary: the window's data, for builtin metrics.
    ///   - external: samples of prometheus and web metrics by metric name (the controller queries them per variant).
    ///   - defaultMinSamples: the minimum-sample guard for metrics that set none.
    /// - Returns: the outcome and, when the judge ran, its per-metric result.
    public static func measure(
        _ template: AnalysisTemplate, stable: VariantSample, canary: VariantSample, external: [String: Samples] = [:],
        defaultMinSamples: Int = BuiltinMetricEvaluator.defaultMinSamples
    ) -> (outcome: MeasurementOutcome, result: KayentaJudge.Result?) {
        guard let spec = template.judge else {
            return (.error("template '\(template.name)' has no judge"), nil)
        }
        var metrics: [KayentaJudge.Metric] = []
        var samples: [String: (baseline: [Double], canary: [Double])] = [:]
        for m in template.metrics {
            let data: Samples?
            var minimum = defaultMinSamples
            if case .builtin(let b) = m.provider {
                data = Self.samples(of: b, stable: stable, canary: canary)
                minimum = b.minSamples ?? defaultMinSamples
            } else {
                data = external[m.name]
            }
            guard let data else { return (.error("no samples for metric '\(m.name)'"), nil) }
            guard data.baseline.count >= minimum, data.canary.count >= minimum else {
                return (
                    .insufficientSamples(
                        "too little traffic to judge '\(m.name)': canary \(data.canary.count), "
                            + "stable \(data.baseline.count) samples; each needs \(minimum)"
                    ),
                    nil
                )
            }
            samples[m.name] = data
            let o = m.judge ?? JudgeMetricOptions()
            var direction = o.direction ?? .either
            if o.direction == nil, case .builtin(let b) = m.provider, [.errorRate, .latency].contains(b.kind) { direction = .increase }
            metrics.append(
                KayentaJudge.Metric(
                    name: m.name, direction: direction, critical: o.critical, weight: o.weight, allowedIncrease: o.allowedIncrease,
                    allowedDecrease: o.allowedDecrease, criticalIncrease: o.criticalIncrease, criticalDecrease: o.criticalDecrease))
        }
        let judge = KayentaJudge(metrics: metrics, alpha: spec.alpha, passThreshold: spec.passThreshold, marginalThreshold: spec.marginalThreshold)
        do throws(StatsError) {
            let result = try judge.judge(samples)
            let phase: AnalysisPhase
            switch result.verdict {
            case .pass: phase = .successful
            case .marginal: phase = .inconclusive
            case .fail: phase = .failed
            }
            let details = result.metrics.map { m in
                "\(m.name) \(m.classification.rawValue)" + (m.pValue.map { " (p = \(scientific($0)))" } ?? "") + (m.failsCanary ? ", critical" : "")
            }
            let message = "score \(fixed(result.score, 1)) (\(result.verdict.rawValue)): " + details.joined(separator: ", ")
            return (.decided(phase, message: message), result)
        } catch {
            return (.error("the judge could not compare the samples: \(error.description)"), nil)
        }
    }
}
