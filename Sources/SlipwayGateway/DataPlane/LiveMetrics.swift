import Foundation
import Histogram
import Synchronization

/// What the gateway has seen of one variant since it started.
public struct VariantMetrics: Sendable, Codable, Equatable {
    public var requests: Int
    public var errors: Int
    public var errorRate: Double
    public var latencyP50Ms: Double
    public var latencyP95Ms: Double
    public var latencyP99Ms: Double
    public var mirrored: Int
}

/// Per-endpoint, per-variant request counts, errors and latency histograms (HdrHistogram, microseconds,
/// three significant digits). Recorded on the data plane's event loops, read by the control plane.
public final class LiveMetrics: Sendable {
    struct Series {
        var requests = 0
        var errors = 0
        var mirrored = 0
        var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = Mutex<[String: [String: Series]]>([:])

    public init() {}

    /// Records one answered request.
    func record(endpoint: String, variant: String, micros: UInt64, failed: Bool) {
        state.withLock { all in
            var series = all[endpoint]?[variant] ?? Series()
            series.requests += 1
            if failed { series.errors += 1 }
            _ = series.latency.record(min(micros, 3_600_000_000))
            all[endpoint, default: [:]][variant] = series
        }
    }

    /// Records one mirrored copy sent to a variant.
    func recordMirror(endpoint: String, variant: String) {
        state.withLock { all in all[endpoint, default: [:]][variant, default: Series()].mirrored += 1 }
    }

    /// The metrics of each variant of an endpoint.
    public func snapshot(endpoint: String) -> [String: VariantMetrics] {
        state.withLock { all in
            (all[endpoint] ?? [:]).mapValues { series in
                VariantMetrics(
                    requests: series.requests, errors: series.errors,
                    errorRate: series.requests == 0 ? 0 : Double(series.errors) / Double(series.requests),
                    latencyP50Ms: Double(series.latency.valueAtPercentile(50)) / 1000,
                    latencyP95Ms: Double(series.latency.valueAtPercentile(95)) / 1000,
                    latencyP99Ms: Double(series.latency.valueAtPercentile(99)) / 1000,
                    mirrored: series.mirrored)
            }
        }
    }

    /// Every endpoint's metrics.
    public func snapshot() -> [String: [String: VariantMetrics]] {
        let endpoints = state.withLock { Array($0.keys) }
        var result: [String: [String: VariantMetrics]] = [:]
        for endpoint in endpoints { result[endpoint] = snapshot(endpoint: endpoint) }
        return result
    }

    /// The Prometheus text exposition of these metrics, with the current weights.
    public func prometheus(weights: [String: [String: Double]]) -> String {
        var lines: [String] = []
        func label(_ endpoint: String, _ variant: String) -> String {
            "endpoint=\"\(Self.escape(endpoint))\",variant=\"\(Self.escape(variant))\""
        }
        let all = snapshot()
        lines.append("# HELP slipway_requests_total Requests answered by the gateway, per endpoint and variant.")
        lines.append("# TYPE slipway_requests_total counter")
        for (endpoint, variants) in all.sorted(by: { $0.key < $1.key }) {
            for (variant, m) in variants.sorted(by: { $0.key < $1.key }) { lines.append("slipway_requests_total{\(label(endpoint, variant))} \(m.requests)") }
        }
        lines.append("# HELP slipway_request_errors_total Requests answered with an error (5xx or no backend).")
        lines.append("# TYPE slipway_request_errors_total counter")
        for (endpoint, variants) in all.sorted(by: { $0.key < $1.key }) {
            for (variant, m) in variants.sorted(by: { $0.key < $1.key }) { lines.append("slipway_request_errors_total{\(label(endpoint, variant))} \(m.errors)") }
        }
        lines.append("# HELP slipway_mirrored_requests_total Copies of requests mirrored to a variant.")
        lines.append("# TYPE slipway_mirrored_requests_total counter")
        for (endpoint, variants) in all.sorted(by: { $0.key < $1.key }) {
            for (variant, m) in variants.sorted(by: { $0.key < $1.key }) { lines.append("slipway_mirrored_requests_total{\(label(endpoint, variant))} \(m.mirrored)") }
        }
        lines.append("# HELP slipway_request_latency_seconds Latency quantiles per endpoint and variant.")
        lines.append("# TYPE slipway_request_latency_seconds summary")
        for (endpoint, variants) in all.sorted(by: { $0.key < $1.key }) {
            for (variant, m) in variants.sorted(by: { $0.key < $1.key }) {
                for (q, ms) in [("0.5", m.latencyP50Ms), ("0.95", m.latencyP95Ms), ("0.99", m.latencyP99Ms)] {
                    lines.append("slipway_request_latency_seconds{\(label(endpoint, variant)),quantile=\"\(q)\"} \(ms / 1000)")
                }
                lines.append("slipway_request_latency_seconds_count{\(label(endpoint, variant))} \(m.requests)")
            }
        }
        lines.append("# HELP slipway_traffic_weight The share of an endpoint's traffic a variant gets, in percent.")
        lines.append("# TYPE slipway_traffic_weight gauge")
        for (endpoint, variants) in weights.sorted(by: { $0.key < $1.key }) {
            for (variant, weight) in variants.sorted(by: { $0.key < $1.key }) { lines.append("slipway_traffic_weight{\(label(endpoint, variant))} \(weight)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
