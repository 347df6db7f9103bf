import Foundation
import SlipwayStats

/// Measures a `builtin` metric from the gateway's windowed per-variant data, applying the
/// minimum-sample guard: with fewer than `minSamples` requests (outcomes, predictions) in a variant
/// the measurement is Inconclusive rather than a number computed from too little traffic.
///
/// The result is the measured variant's number; its fields carry both sides of the comparison:
/// `result.canary`, `result.stable`, `result.delta` (canary − stable), `result.ratio` (canary / stable),
/// `result.canaryRequests`, `result.stableRequests` — and for drift `result.js`, `result.psi`, `result.pValue`.
public enum BuiltinMetricEvaluator {
    /// The minimum-sample guard's default, in requests per variant.
    public static let defaultMinSamples = 200

    /// One measurement of `metric`.
    /// - Parameter defaultMinSamples: the guard when the metric sets no `minSamples` (the rollout's `defaultAnalysis.minSamples`).
    public static func measure(
        _ metric: BuiltinMetric, stable: VariantSample, canary: VariantSample, defaultMinSamples: Int = defaultMinSamples
    ) -> MeasurementOutcome {
        do throws(RolloutError) {
            try stable.validate("stable")
            try canary.validate("canary")
        } catch {
            return .error(error.message)
        }
        let minimum = metric.minSamples ?? defaultMinSamples
        let name = metric.variant.rawValue
        func pair(_ c: Double?, _ s: Double?, counts: (Double, Double)) -> MeasurementOutcome {
            let value = metric.variant == .canary ? c : s
            guard let value else { return .error("the \(name) variant has no data for \(metric.kind.rawValue)") }
            var fields: [String: Double] = ["canaryRequests": counts.0, "stableRequests": counts.1]
            if let c { fields["canary"] = c }
            if let s { fields["stable"] = s }
            if let c, let s {
                fields["delta"] = c - s
                if s != 0 { fields["ratio"] = c / s }
            }
            return .value(.measured(value, fields: fields.filter { $0.value.isFinite }))
        }
        let requestCounts = (Double(canary.requests), Double(stable.requests))
        switch metric.kind {
        case .requestCount:
            return pair(Double(canary.requests), Double(stable.requests), counts: requestCounts)
        case .errorRate:
            if let reason = trafficGuard(measured: metric.variant, stable: stable, canary: canary, minimum: minimum) {
                return .insufficientSamples(reason)
            }
            return pair(
                canary.requests > 0 ? canary.errorRate : nil, stable.requests > 0 ? stable.errorRate : nil, counts: requestCounts)
        case .latency:
            if let reason = trafficGuard(measured: metric.variant, stable: stable, canary: canary, minimum: minimum) {
                return .insufficientSamples(reason)
            }
            let q = metric.quantile ?? .p99
            return pair(latency(canary, q), latency(stable, q), counts: requestCounts)
        case .predictionDrift:
            return drift(metric.method ?? .js, stable: stable, canary: canary, minimum: minimum)
        case .outcomeMean:
            let counts = (canary.outcome?.values.count ?? 0, stable.outcome?.values.count ?? 0)
            let n = metric.variant == .canary ? counts.0 : counts.1
            guard n >= Double(minimum) else {
                return .insufficientSamples("too few outcomes: \(Int(n)) for the \(name) variant, fewer than minSamples \(minimum)")
            }
            func mean(_ s: VariantSample) -> Double? {
                guard let v = s.outcome?.values, v.count > 0 else { return nil }
                return v.sum / v.count
            }
            return pair(mean(canary), mean(stable), counts: counts)
        case .conversion:
            let counts = (Double(canary.outcome?.trials ?? 0), Double(stable.outcome?.trials ?? 0))
            let n = metric.variant == .canary ? counts.0 : counts.1
            guard n >= Double(minimum) else {
                return .insufficientSamples("too few outcomes: \(Int(n)) for the \(name) variant, fewer than minSamples \(minimum)")
            }
            func rate(_ s: VariantSample) -> Double? {
                guard let o = s.outcome, o.trials > 0 else { return nil }
                return Double(o.conversions) / Double(o.trials)
            }
            return pair(rate(canary), rate(stable), counts: counts)
        }
    }

    /// The guard on requests: the measured variant needs `minimum`, and so does the other one when it
    /// has any traffic (its numbers feed `result.delta` and `result.ratio`). A variant without traffic
    /// at all — the old stable after a blue-green switch — leaves the comparison fields out instead.
    static func trafficGuard(measured: BuiltinMetric.Variant, stable: VariantSample, canary: VariantSample, minimum: Int) -> String? {
        let (m, other) = measured == .canary ? (canary, stable) : (stable, canary)
        let otherName = measured == .canary ? "stable" : "canary"
        if m.requests < minimum {
            return "too little traffic: \(m.requests) requests to the \(measured.rawValue) variant, fewer than minSamples \(minimum)"
        }
        if other.requests > 0 && other.requests < minimum {
            return "too little traffic: \(other.requests) requests to the \(otherName) variant, fewer than minSamples \(minimum)"
        }
        return nil
    }

    /// A latency figure in milliseconds, from samples when there are some, else from the histogram quantiles.
    static func latency(_ s: VariantSample, _ q: BuiltinMetric.Quantile) -> Double? {
        if !s.latencyMs.isEmpty {
            if q == .mean { return s.latencyMs.reduce(0, +) / Double(s.latencyMs.count) }
            let sorted = s.latencyMs.sorted()
            let p: Double = q == .p50 ? 0.5 : q == .p95 ? 0.95 : 0.99
            return Binning.quantile(sorted: sorted, p)
        }
        guard let h = s.latencyQuantiles else { return nil }
        switch q {
        case .p50: return h.p50
        case .p95: return h.p95
        case .p99: return h.p99
        case .mean: return h.mean
        }
    }

    static func drift(_ method: BuiltinMetric.DriftMethod, stable: VariantSample, canary: VariantSample, minimum: Int) -> MeasurementOutcome {
        do throws(StatsError) {
            if method == .ks {
                let a = stable.predictionValues
                let b = canary.predictionValues
                guard a.count >= minimum, b.count >= minimum else {
                    return .insufficientSamples("too few numeric predictions: canary \(b.count), stable \(a.count); each needs \(minimum)")
                }
                let r = try ksTwoSample(a, b)
                return .value(.measured(r.d, fields: ["pValue": r.pValue, "d": r.d]))
            }
            let st = stable.predictionTotal
            let ct = canary.predictionTotal
            guard st >= minimum, ct >= minimum else {
                return .insufficientSamples("too few logged predictions: canary \(ct), stable \(st); each needs \(minimum)")
            }
            let labels = Set(stable.predictionCounts.keys).union(canary.predictionCounts.keys)
                .filter { stable.predictionCounts[$0, default: 0] + canary.predictionCounts[$0, default: 0] > 0 }.sorted()
            guard labels.count >= 2 else { return .value(.measured(method == .chisquare ? 1 : 0, fields: ["js": 0, "psi": 0, "pValue": 1])) }
            let s = labels.map { Double(stable.predictionCounts[$0, default: 0]) }
            let c = labels.map { Double(canary.predictionCounts[$0, default: 0]) }
            let js = try Divergence.jensenShannon(reference: s, current: c)
            let psi = try Divergence.psi(reference: s, current: c)
            let p = try chiSquareContingency([s, c]).pValue
            let value: Double
            switch method {
            case .js: value = js
            case .psi: value = psi
            default: value = p
            }
            return .value(.measured(value, fields: ["js": js, "psi": psi, "pValue": p]))
        } catch {
            return .error("prediction drift: \(error.description)")
        }
    }
}
