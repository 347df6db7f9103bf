import Foundation

/// Where a metric's measurements come from.
public enum MetricProvider: Sendable, Codable, Equatable {
    /// The gateway's windowed per-variant metrics (no external system needed).
    case builtin(BuiltinMetric)
    /// A PromQL query; the result is a number or a vector (`result[0]`).
    case prometheus(PrometheusProvider)
    /// An HTTP GET whose JSON answer (or the part at `jsonPath`) is the result.
    case web(WebProvider)
    /// A command; exit status 0 is a Successful measurement, anything else Failed.
    case job(JobProvider)

    /// `builtin`, `prometheus`, `web` or `job`.
    public var name: String {
        switch self {
        case .builtin: "builtin"
        case .prometheus: "prometheus"
        case .web: "web"
        case .job: "job"
        }
    }

    /// The provider with `{{args.name}}` replaced by `bindings[name]` in its text fields.
    func substituting(_ bindings: [String: String]) -> MetricProvider {
        func sub(_ text: String) -> String {
            var out = text
            for (name, value) in bindings { out = out.replacingOccurrences(of: "{{args.\(name)}}", with: value) }
            return out
        }
        switch self {
        case .builtin: return self
        case .prometheus(var p):
            p.query = sub(p.query)
            p.address = p.address.map(sub)
            return .prometheus(p)
        case .web(var w):
            w.url = sub(w.url)
            w.jsonPath = w.jsonPath.map(sub)
            w.headers = w.headers.mapValues(sub)
            return .web(w)
        case .job(var j):
            j.command = j.command.map(sub)
            return .job(j)
        }
    }

    /// Every `{{args.name}}` name used in the provider's text fields.
    var argumentNames: Set<String> {
        var texts: [String] = []
        switch self {
        case .builtin: break
        case .prometheus(let p): texts = [p.query, p.address ?? ""]
        case .web(let w): texts = [w.url, w.jsonPath ?? ""] + Array(w.headers.values)
        case .job(let j): texts = j.command
        }
        var names = Set<String>()
        for text in texts { names.formUnion(Self.argumentNames(in: text)) }
        return names
    }

    static func argumentNames(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{args.") {
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { break }
            names.append(String(rest[..<close.lowerBound]).trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }

    private enum CodingKeys: String, CodingKey { case builtin, prometheus, web, job }

    /// Encoded as in YAML: `{"builtin": {...}}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let v = try c.decodeIfPresent(BuiltinMetric.self, forKey: .builtin) {
            self = .builtin(v)
        } else if let v = try c.decodeIfPresent(PrometheusProvider.self, forKey: .prometheus) {
            self = .prometheus(v)
        } else if let v = try c.decodeIfPresent(WebProvider.self, forKey: .web) {
            self = .web(v)
        } else {
            self = .job(try c.decode(JobProvider.self, forKey: .job))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .builtin(let v): try c.encode(v, forKey: .builtin)
        case .prometheus(let v): try c.encode(v, forKey: .prometheus)
        case .web(let v): try c.encode(v, forKey: .web)
        case .job(let v): try c.encode(v, forKey: .job)
        }
    }
}

/// A metric computed from the gateway's windowed per-variant data (``VariantSample``).
public struct BuiltinMetric: Sendable, Codable, Equatable {
    /// What is measured.
    public enum Kind: String, Sendable, Codable, Equatable, CaseIterable {
        /// errors / requests of the measured variant.
        case errorRate = "error-rate"
        /// A latency quantile (`quantile`, default p99) in milliseconds.
        case latency
        /// Requests answered (never guarded by `minSamples`).
        case requestCount = "request-count"
        /// Distance of the canary's prediction distribution from the stable variant's (`method`).
        case predictionDrift = "prediction-drift"
        /// Mean of a numeric outcome reported as feedback.
        case outcomeMean = "outcome-mean"
        /// Outcome successes / outcome trials (conversion rate).
        case conversion
    }

    /// Which latency figure.
    public enum Quantile: String, Sendable, Codable, Equatable, CaseIterable {
        case p50, p95, p99, mean
    }

    /// How prediction drift is measured.
    public enum DriftMethod: String, Sendable, Codable, Equatable, CaseIterable {
        /// Jensen–Shannon distance of the class (or bin) shares, natural log (0 = equal).
        case js
        /// Population stability index of the class (or bin) shares.
        case psi
        /// Two-sample Kolmogorov–Smirnov statistic D of numeric predictions (`result.pValue` has its p-value).
        case ks
        /// Chi-square test of the class counts; the result is the p-value.
        case chisquare
    }

    /// What is measured.
    public var kind: Kind
    /// For `latency`: which figure (default p99).
    public var quantile: Quantile?
    /// For `prediction-drift`: the method (default js).
    public var method: DriftMethod?
    /// Which variant's value is `result`: `canary` (default) or `stable`.
    public var variant: Variant
    /// Fewer requests than this in the measured variant (or in either, for drift) make the measurement
    /// Inconclusive (`nil`: `spec.defaultAnalysis.minSamples`, 200 by default).
    public var minSamples: Int?

    /// The side of the comparison.
    public enum Variant: String, Sendable, Codable, Equatable, CaseIterable {
        case canary, stable
    }

    /// Creates a builtin metric.
    public init(kind: Kind, quantile: Quantile? = nil, method: DriftMethod? = nil, variant: Variant = .canary, minSamples: Int? = nil) {
        self.kind = kind
        self.quantile = quantile
        self.method = method
        self.variant = variant
        self.minSamples = minSamples
    }
}

/// `prometheus: {address, query}`.
public struct PrometheusProvider: Sendable, Codable, Equatable {
    /// The server (`nil`: the one in Slipway's configuration).
    public var address: String?
    /// The PromQL query.
    public var query: String
    /// How long the query may take.
    public var timeout: RolloutDuration?

    /// Creates a provider.
    public init(address: String? = nil, query: String, timeout: RolloutDuration? = nil) {
        self.address = address
        self.query = query
        self.timeout = timeout
    }
}

/// `web: {url, jsonPath, headers}`: GET the URL; the JSON answer, or its part at `jsonPath`, is the result.
public struct WebProvider: Sendable, Codable, Equatable {
    public var url: String
    /// A JSON path such as `$.data.ok` or `{$.latency.p99}`.
    public var jsonPath: String?
    /// Request headers.
    public var headers: [String: String]
    /// How long the request may take.
    public var timeout: RolloutDuration?

    /// Creates a provider.
    public init(url: String, jsonPath: String? = nil, headers: [String: String] = [:], timeout: RolloutDuration? = nil) {
        self.url = url
        self.jsonPath = jsonPath
        self.headers = headers
        self.timeout = timeout
    }
}

/// `job: {command}`: run a command; exit status 0 succeeds.
public struct JobProvider: Sendable, Codable, Equatable {
    /// The program and its arguments (a single string is run by `/bin/sh -c`).
    public var command: [String]
    /// How long the command may run.
    public var timeout: RolloutDuration?

    /// Creates a provider.
    public init(command: [String], timeout: RolloutDuration? = nil) {
        self.command = command
        self.timeout = timeout
    }
}
