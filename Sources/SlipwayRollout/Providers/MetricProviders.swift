public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1

/// Measures metrics whose provider is outside the gateway: `prometheus`, `web` and `job`.
///
/// - `prometheus`: one instant query (`GET {address}/api/v1/query`), read by ``prometheusOutcome(status:body:)``.
/// - `web`: a GET whose JSON answer, or the part of it at `jsonPath`, is the result (at most 1 MiB).
/// - `job`: a command run without a shell in its own process group; exit status 0 is a Successful
///   measurement, anything else Failed with the last lines of its standard error.
///
/// HTTP goes through one client, shared by the whole process (`HTTPClient.shared` unless another is given);
/// the shared client lives as long as the process and is never shut down by Slipway.
public struct MetricProviders: Sendable {
    /// The Prometheus server of metrics that name no `address` (the server's `prometheus.url`).
    public let prometheusURL: String?
    /// The HTTP client of the `prometheus` and `web` providers.
    let client: HTTPClient

    /// How long a `prometheus` query may take when the metric gives no `timeout`.
    public static let defaultPrometheusTimeout: Duration = .seconds(30)
    /// How long a `web` request may take when the metric gives no `timeout`.
    public static let defaultWebTimeout: Duration = .seconds(10)
    /// How long a `job` may run when the metric gives no `timeout`.
    public static let defaultJobTimeout: Duration = .seconds(300)
    /// The largest answer a `web` or `prometheus` provider reads.
    public static let maxAnswerBytes = 1 << 20

    /// Creates the providers.
    /// - Parameters:
    ///   - prometheusURL: the Prometheus server used by metrics without `address`, such as `http://127.0.0.1:9090`.
    ///   - httpClient: the client for HTTP providers (default: the process-wide shared client).
    public init(prometheusURL: String? = nil, httpClient: HTTPClient = .shared) {
        self.prometheusURL = prometheusURL.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        self.client = httpClient
    }

    /// Whether the controller can measure metrics of this provider.
    public static func supports(_ provider: MetricProvider) -> Bool {
        switch provider {
        case .builtin, .prometheus, .web, .job: true
        }
    }

    /// One measurement of `metric` from its provider.
    public func measure(_ provider: MetricProvider, metric: String) async -> MeasurementOutcome {
        let outcome: MeasurementOutcome
        switch provider {
        case .builtin:
            return .error("metric '\(metric)': builtin metrics are measured from the gateway's window, not by an external provider")
        case .prometheus(let prometheus): outcome = await measure(prometheus)
        case .web(let web): outcome = await measure(web)
        case .job(let job): outcome = await measure(job)
        }
        if case .error(let message) = outcome { return .error("metric '\(metric)': \(message)") }
        return outcome
    }

    // MARK: Prometheus

    /// One instant query.
    func measure(_ provider: PrometheusProvider) async -> MeasurementOutcome {
        guard let address = provider.address ?? prometheusURL else {
            return .error(
                "no Prometheus server to ask: give the metric prometheus.address, or start the server with --prometheus-url "
                    + "(SLIPWAY_PROMETHEUS_URL, or prometheus.url in slipway.yml)")
        }
        let timeout = provider.timeout.map { Duration.seconds($0.seconds) } ?? Self.defaultPrometheusTimeout
        guard let url = Self.prometheusQueryURL(address: address, query: provider.query, timeout: timeout) else {
            return .error("the Prometheus address '\(address)' is not an http:// or https:// URL")
        }
        switch await get(url, headers: [:], timeout: timeout, shownAs: "Prometheus at \(address)") {
        case .success(let answer): return Self.prometheusOutcome(status: answer.status, body: answer.body)
        case .failure(let failure): return .error(failure.message)
        }
    }

    /// `{address}/api/v1/query?query=…&timeout=…`, or nil when the address is not an HTTP URL.
    static func prometheusQueryURL(address: String, query: String, timeout: Duration) -> String? {
        var base = address
        while base.hasSuffix("/") { base.removeLast() }
        guard var components = URLComponents(string: base + "/api/v1/query"), components.scheme == "http" || components.scheme == "https",
            components.host?.isEmpty == false
        else { return nil }
        components.queryItems = [
            URLQueryItem(name: "query", value: query), URLQueryItem(name: "timeout", value: "\(max(1, Int(timeout.components.seconds)))s"),
        ]
        // URLComponents leaves '+' alone in a query, which Prometheus would read as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string
    }

    /// The measurement an answer of Prometheus' query API stands for:
    ///
    /// - a scalar: its number (`result < 0.05`, and `result[0]` as well);
    /// - a vector: the array of its sample values in Prometheus' order, as in Argo Rollouts. A vector of one
    ///   sample acts as its number in every comparison and function (`result < 0.05`, `result[0] < 0.05`,
    ///   `isNaN(result)`), and `len(result)` counts the samples;
    /// - an empty vector: an empty array, as in Argo Rollouts — `len(result) == 0 || result[0] < 0.05`
    ///   handles it, and a condition reading `result[0]` alone makes the measurement an Error (retried);
    /// - a string: the text;
    /// - NaN and ±Inf stay numbers (`isNaN(result)`, `isInf(result)`);
    /// - a matrix (a range query): an Error, as the provider makes instant queries only;
    /// - `status: error`: an Error with Prometheus' `errorType` and `error` text.
    public static func prometheusOutcome(status: Int, body: Data) -> MeasurementOutcome {
        let document: ConditionValue
        do {
            document = try ConditionValue.decodeJSON(body)
        } catch {
            return .error("Prometheus answered \(status) with something that is not JSON: '\(error.start)'")
        }
        guard case .map(let top) = document else { return .error("Prometheus answered \(status) with an unexpected document: \(document)") }
        if case .string(let state)? = top["status"], state == "error" {
            let kind: String = if case .string(let t)? = top["errorType"] { t } else { "error" }
            let text: String = if case .string(let t)? = top["error"] { t } else { "no error text" }
            return .error("the Prometheus query failed (\(kind)): \(text)")
        }
        guard (200..<300).contains(status) else { return .error("Prometheus answered \(status): \(String(describing: document).prefix(300))") }
        guard case .map(let data)? = top["data"], case .string(let type)? = data["resultType"], let result = data["result"] else {
            return .error("the Prometheus answer has no data.resultType and data.result; is the address a Prometheus server?")
        }
        switch (type, result) {
        case ("scalar", .array(let pair)):
            guard pair.count == 2, let x = sampleValue(pair[1]) else { return .error("Prometheus returned a malformed scalar: \(result)") }
            return .value(.number(x))
        case ("string", .array(let pair)):
            guard pair.count == 2, case .string(let text) = pair[1] else { return .error("Prometheus returned a malformed string: \(result)") }
            return .value(.string(text))
        case ("vector", .array(let samples)):
            var values: [Double] = []
            for sample in samples {
                guard case .map(let fields) = sample else { return .error("Prometheus returned a malformed sample: \(sample)") }
                guard case .array(let pair)? = fields["value"], pair.count == 2, let x = sampleValue(pair[1]) else {
                    if fields["histogram"] != nil {
                        return .error("the query returns native histogram samples; reduce them to numbers, e.g. with histogram_quantile()")
                    }
                    return .error("Prometheus returned a malformed sample: \(sample)")
                }
                values.append(x)
            }
            return .value(.array(values.map { .number($0) }))
        case ("matrix", _):
            return .error("the query returns a range vector (matrix); write an instant query, e.g. rate(x[5m]) instead of x[5m]")
        default:
            return .error("Prometheus returned a result of type '\(type)' that Slipway cannot read")
        }
    }

    /// A sample's value: Prometheus sends numbers as strings (`"0.05"`, `"NaN"`, `"+Inf"`).
    private static func sampleValue(_ value: ConditionValue) -> Double? {
        switch value {
        case .number(let x): return x
        case .string(let text): return Double(text)
        default: return nil
        }
    }

    // MARK: Web

    /// One GET whose JSON answer, or the part at `jsonPath`, is the value.
    func measure(_ provider: WebProvider) async -> MeasurementOutcome {
        guard let parsed = URL(string: provider.url), parsed.scheme == "http" || parsed.scheme == "https", parsed.host?.isEmpty == false else {
            return .error("web.url '\(provider.url)' is not an http:// or https:// URL")
        }
        var path: JSONPath?
        if let text = provider.jsonPath {
            do { path = try JSONPath(text) } catch { return .error(error.description) }
        }
        let timeout = provider.timeout.map { Duration.seconds($0.seconds) } ?? Self.defaultWebTimeout
        let answer: HTTPAnswer
        switch await get(provider.url, headers: provider.headers, timeout: timeout, shownAs: "GET \(Self.redacted(provider.url))") {
        case .success(let a): answer = a
        case .failure(let failure): return .error(failure.message)
        }
        guard (200..<300).contains(answer.status) else {
            let start = String(decoding: answer.body.prefix(200), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            return .error("GET \(Self.redacted(provider.url)) answered \(answer.status)" + (start.isEmpty ? "" : ": \(start)"))
        }
        let document: ConditionValue
        do {
            document = try ConditionValue.decodeJSON(answer.body)
        } catch {
            return .error("the answer of GET \(Self.redacted(provider.url)) is not JSON; it starts with '\(error.start)'")
        }
        guard let path else { return .value(document) }
        do { return .value(try path.select(in: document)) } catch { return .error(error.description) }
    }

    /// The URL without user name, password or query, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.user = nil
        components.password = nil
        let hadQuery = components.query != nil
        components.query = nil
        return (components.string ?? url) + (hadQuery ? "?…" : "")
    }

    // MARK: Job

    /// Runs the command; its exit status decides.
    func measure(_ provider: JobProvider) async -> MeasurementOutcome {
        let timeout = provider.timeout.map { Duration.seconds($0.seconds) } ?? Self.defaultJobTimeout
        let shown = provider.command.joined(separator: " ").prefix(120)
        let result: JobRunner.Result
        do { result = try await JobRunner().run(provider.command, timeout: timeout) } catch { return .error(error.description) }
        let tail = result.stderrTail.isEmpty ? "" : ": \(result.stderrTail)"
        switch result.termination {
        case .exited(0):
            return .decided(.successful, message: "command '\(shown)' exited with status 0")
        case .exited(let code):
            return .decided(.failed, message: "command '\(shown)' exited with status \(code)\(tail)")
        case .signaled(let signal):
            return .decided(.failed, message: "command '\(shown)' was ended by signal \(signal)\(tail)")
        case .timedOut:
            return .decided(
                .failed,
                message: "command '\(shown)' ran longer than its timeout of \(RolloutDuration(seconds: timeout.seconds)) and was killed\(tail)")
        case .cancelled:
            return .error("command '\(shown)' was stopped because the controller is shutting down")
        }
    }

    // MARK: HTTP

    struct HTTPAnswer: Sendable {
        var status: Int
        var body: Data
    }

    struct HTTPFailure: Error {
        var message: String
    }

    /// One GET with a deadline, reading at most ``maxAnswerBytes``.
    func get(_ url: String, headers: [String: String], timeout: Duration, shownAs: String) async -> Result<HTTPAnswer, HTTPFailure> {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "slipway-rollout")
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request.headers.replaceOrAdd(name: name, value: value) }
        let nanos = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let deadline = NIODeadline.now() + .nanoseconds(max(1, nanos))
        let shownTimeout = RolloutDuration(seconds: timeout.seconds)
        do {
            let response = try await client.execute(request, deadline: deadline)
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > Self.maxAnswerBytes {
                return .failure(HTTPFailure(message: "\(shownAs): the answer has \(length) bytes, more than the limit of 1 MiB"))
            }
            var body = Data()
            for try await chunk in response.body {
                guard body.count + chunk.readableBytes <= Self.maxAnswerBytes else {
                    return .failure(HTTPFailure(message: "\(shownAs): the answer is larger than the limit of 1 MiB"))
                }
                body.append(contentsOf: chunk.readableBytesView)
                if NIODeadline.now() > deadline {
                    return .failure(HTTPFailure(message: "\(shownAs) did not answer within \(shownTimeout)"))
                }
            }
            return .success(HTTPAnswer(status: Int(response.status.code), body: body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .failure(HTTPFailure(message: "\(shownAs) did not answer within \(shownTimeout)"))
        } catch {
            if NIODeadline.now() >= deadline { return .failure(HTTPFailure(message: "\(shownAs) did not answer within \(shownTimeout)")) }
            return .failure(HTTPFailure(message: "\(shownAs) failed: \(error)"))
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
