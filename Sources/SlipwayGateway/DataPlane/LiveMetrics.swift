import Foundation
import Histogram
import NIOCore
import Synchronization

/// What the gateway has seen of one variant since it started.
public struct VariantMetrics: Sendable, Codable, Equatable {
    public var requests: Int
    public var errors: Int
    public var errorRate: Double
    public var latencyP50Ms: Double
    public var latencyP95Ms: Double
    public var latencyP99Ms: Double
    /// Copies of requests mirrored to this variant.
    public var mirrored: Int
    /// How many answers predicted each class or value (at most 50 labels, the rest under `other`).
    public var predictions: [String: Int]
    /// Feedback received with a numeric outcome for this variant's answers.
    public var outcomeCount: Int
    /// The mean of those outcomes; absent when there is none.
    public var outcomeMean: Double?
    /// The last 60 seconds (see ``VariantWindow``).
    public var window: VariantWindow?
}

extension VariantMetrics {
    private enum CodingKeys: String, CodingKey {
        case requests, errors, errorRate, latencyP50Ms, latencyP95Ms, latencyP99Ms, mirrored, predictions, outcomeCount, outcomeMean, window
    }

    /// Decodes the fields added after the first release leniently, so older servers' answers still read.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requests = try container.decode(Int.self, forKey: .requests)
        errors = try container.decode(Int.self, forKey: .errors)
        errorRate = try container.decode(Double.self, forKey: .errorRate)
        latencyP50Ms = try container.decode(Double.self, forKey: .latencyP50Ms)
        latencyP95Ms = try container.decode(Double.self, forKey: .latencyP95Ms)
        latencyP99Ms = try container.decode(Double.self, forKey: .latencyP99Ms)
        mirrored = try container.decode(Int.self, forKey: .mirrored)
        predictions = try container.decodeIfPresent([String: Int].self, forKey: .predictions) ?? [:]
        outcomeCount = try container.decodeIfPresent(Int.self, forKey: .outcomeCount) ?? 0
        outcomeMean = try container.decodeIfPresent(Double.self, forKey: .outcomeMean)
        window = try container.decodeIfPresent(VariantWindow.self, forKey: .window)
    }
}

/// Per-endpoint, per-variant request counts, errors, latency, predictions and outcomes. Recorded on the
/// data plane's event loops, read by the control plane and the rollout controller.
///
/// Two views: totals since the gateway started (``snapshot(endpoint:)``, Prometheus) and a sliding window
/// (``window(endpoint:seconds:)``) kept as a ring of 10-second buckets covering the last 10 minutes.
/// Latency goes into HdrHistograms in microseconds: three significant digits for the totals, two (1%)
/// for the buckets, which keeps a variant's ring under a megabyte.
public final class LiveMetrics: Sendable {
    /// The length of one bucket of the sliding window.
    public static let bucketSeconds = 10
    /// How many buckets the ring keeps: 10 minutes.
    public static let bucketCount = 60
    /// The most distinct prediction labels a variant keeps; later ones are counted as ``otherLabel``.
    public static let labelLimit = 50
    public static let otherLabel = "other"
    /// Longer labels are cut to this many characters.
    static let labelLength = 100
    static let highestMicros: UInt64 = 3_600_000_000

    /// Each endpoint's variants, each with its own lock: the event loops find a variant's slot once per
    /// connection (``slot(endpoint:variant:)``) and then record into it without hashing names or sharing a
    /// lock with other variants.
    private let slots = Mutex<[String: [String: Slot]]>([:])
    /// Monotonic nanoseconds; injected by tests to move time.
    private let now: @Sendable () -> UInt64
    /// Records the prediction log dropped, for `slipway_prediction_log_dropped_total`.
    private let droppedPredictions: @Sendable () -> Int

    /// One variant's series behind its own lock.
    final class Slot: Sendable {
        let endpoint: String
        let variant: String
        fileprivate let series = Mutex(Series())

        init(endpoint: String, variant: String) {
            self.endpoint = endpoint
            self.variant = variant
        }
    }

    public convenience init() {
        self.init(droppedPredictions: { 0 })
    }

    init(
        now: @escaping @Sendable () -> UInt64 = { NIODeadline.now().uptimeNanoseconds },
        droppedPredictions: @escaping @Sendable () -> Int
    ) {
        self.now = now
        self.droppedPredictions = droppedPredictions
    }

    /// The slot of an endpoint's variant, made on first use.
    func slot(endpoint: String, variant: String) -> Slot {
        slots.withLock { all in
            if let slot = all[endpoint]?[variant] { return slot }
            let slot = Slot(endpoint: endpoint, variant: variant)
            all[endpoint, default: [:]][variant] = slot
            return slot
        }
    }

    private func series(endpoint: String) -> [String: Series] {
        let found = slots.withLock { all in all[endpoint] ?? [:] }
        return found.mapValues { slot in slot.series.withLock { $0 } }
    }

    // MARK: Recording

    /// Records one answer users got.
    func record(endpoint: String, variant: String, micros: UInt64, failed: Bool, prediction: String? = nil) {
        record(slot(endpoint: endpoint, variant: variant), micros: micros, failed: failed, prediction: prediction)
    }

    /// Records one answer users got, in a slot found before.
    func record(_ slot: Slot, micros: UInt64, failed: Bool, prediction: String? = nil) {
        let epoch = now() / Self.bucketNanos
        slot.series.withLock { $0.recordPrimary(epoch: epoch, micros: micros, failed: failed, prediction: prediction) }
    }

    /// Records one mirrored copy sent to a variant.
    func recordMirror(endpoint: String, variant: String) {
        let epoch = now() / Self.bucketNanos
        slot(endpoint: endpoint, variant: variant).series.withLock { $0.recordMirrorSent(epoch: epoch) }
    }

    /// Records a variant's answer to a mirrored copy.
    func recordMirrorAnswer(endpoint: String, variant: String, micros: UInt64, failed: Bool, prediction: String?) {
        let epoch = now() / Self.bucketNanos
        slot(endpoint: endpoint, variant: variant).series.withLock {
            $0.recordMirrorAnswer(epoch: epoch, micros: micros, failed: failed, prediction: prediction)
        }
    }

    /// Records whether a mirrored variant's prediction matched the primary answer's.
    func recordAgreement(endpoint: String, variant: String, agreed: Bool) {
        let epoch = now() / Self.bucketNanos
        slot(endpoint: endpoint, variant: variant).series.withLock { series in
            series.withBucket(epoch) { bucket in
                bucket.compared += 1
                if agreed { bucket.agreed += 1 }
            }
        }
    }

    /// Records feedback posted for one of a variant's answers, in the bucket of the moment it arrives.
    ///
    /// - Parameters:
    ///   - outcome: the numeric outcome, if the feedback had one.
    ///   - correct: whether the ground truth equals the logged prediction, when both are known.
    public func recordFeedback(endpoint: String, variant: String, outcome: Double?, correct: Bool?) {
        guard outcome?.isFinite ?? true, outcome != nil || correct != nil else { return }
        let epoch = now() / Self.bucketNanos
        slot(endpoint: endpoint, variant: variant).series.withLock { $0.recordFeedback(epoch: epoch, outcome: outcome, correct: correct) }
    }

    // MARK: Reading

    /// The metrics of each variant of an endpoint since the gateway started, each with its last 60 seconds.
    public func snapshot(endpoint: String) -> [String: VariantMetrics] {
        let epoch = now() / Self.bucketNanos
        return series(endpoint: endpoint).mapValues { $0.totals(window: $0.window(epoch: epoch, buckets: 6, latencySamples: false)) }
    }

    /// Every endpoint's metrics since the gateway started (without windows).
    public func snapshot() -> [String: [String: VariantMetrics]] {
        let all = slots.withLock { $0 }
        return all.mapValues { $0.mapValues { slot in slot.series.withLock { $0.totals(window: nil) } } }
    }

    /// What each variant of an endpoint did in the last `seconds` (rounded up to whole 10-second buckets,
    /// between 10 and 600). Variants the gateway has seen but that were idle in the window are listed with zeros.
    ///
    /// ```swift
    /// let last5Minutes = gateway.metrics.window(endpoint: "churn", seconds: 300)
    /// if let canary = last5Minutes["canary"], canary.requests >= 100 { … }
    /// ```
    public func window(endpoint: String, seconds: Int, latencySamples: Bool = false) -> [String: VariantWindow] {
        let buckets = min(max((seconds + Self.bucketSeconds - 1) / Self.bucketSeconds, 1), Self.bucketCount)
        let epoch = now() / Self.bucketNanos
        return series(endpoint: endpoint).mapValues { $0.window(epoch: epoch, buckets: buckets, latencySamples: latencySamples) }
    }

    /// The most latency samples a window hands out per variant.
    public static let maximumLatencySamples = 20_000

    /// Every recorded latency of a histogram in milliseconds (each at its bucket's middle value), thinned
    /// evenly to at most ``maximumLatencySamples``.
    static func latencySamples(_ histogram: WindowHistogram?) -> [Double] {
        guard let histogram, histogram.totalCount > 0 else { return [] }
        let total = Double(histogram.totalCount)
        let keep = min(1, Double(maximumLatencySamples) / total)
        var samples: [Double] = []
        samples.reserveCapacity(min(Int(histogram.totalCount), maximumLatencySamples))
        var carried = 0.0
        for value in histogram.recordedValues() {
            let exact = Double(value.count) * keep + carried
            let count = Int(exact)
            carried = exact - Double(count)
            guard count > 0 else { continue }
            let ms = Double(histogram.medianEquivalentForValue(value.value)) / 1000
            samples.append(contentsOf: repeatElement(ms, count: count))
        }
        return samples
    }

    /// The Prometheus text exposition of these metrics, with the current weights.
    public func prometheus(weights: [String: [String: Double]]) -> String {
        var lines: [String] = []
        func label(_ endpoint: String, _ variant: String) -> String {
            "endpoint=\"\(Self.escape(endpoint))\",variant=\"\(Self.escape(variant))\""
        }
        let all = snapshot().sorted { $0.key < $1.key }.map { ($0.key, $0.value.sorted { $0.key < $1.key }) }
        lines.append("# HELP slipway_requests_total Requests answered by the gateway, per endpoint and variant.")
        lines.append("# TYPE slipway_requests_total counter")
        for (endpoint, variants) in all {
            for (variant, m) in variants { lines.append("slipway_requests_total{\(label(endpoint, variant))} \(m.requests)") }
        }
        lines.append("# HELP slipway_request_errors_total Requests answered with an error (5xx or no backend).")
        lines.append("# TYPE slipway_request_errors_total counter")
        for (endpoint, variants) in all {
            for (variant, m) in variants { lines.append("slipway_request_errors_total{\(label(endpoint, variant))} \(m.errors)") }
        }
        lines.append("# HELP slipway_mirrored_requests_total Copies of requests mirrored to a variant.")
        lines.append("# TYPE slipway_mirrored_requests_total counter")
        for (endpoint, variants) in all {
            for (variant, m) in variants { lines.append("slipway_mirrored_requests_total{\(label(endpoint, variant))} \(m.mirrored)") }
        }
        lines.append("# HELP slipway_request_latency_seconds Latency quantiles per endpoint and variant.")
        lines.append("# TYPE slipway_request_latency_seconds summary")
        for (endpoint, variants) in all {
            for (variant, m) in variants {
                for (q, ms) in [("0.5", m.latencyP50Ms), ("0.95", m.latencyP95Ms), ("0.99", m.latencyP99Ms)] {
                    lines.append("slipway_request_latency_seconds{\(label(endpoint, variant)),quantile=\"\(q)\"} \(ms / 1000)")
                }
                lines.append("slipway_request_latency_seconds_count{\(label(endpoint, variant))} \(m.requests)")
            }
        }
        lines.append("# HELP slipway_predictions_total Answers per predicted class or value (at most 50 labels per variant, then \"other\").")
        lines.append("# TYPE slipway_predictions_total counter")
        for (endpoint, variants) in all {
            for (variant, m) in variants {
                for (prediction, count) in m.predictions.sorted(by: { $0.key < $1.key }) {
                    lines.append("slipway_predictions_total{\(label(endpoint, variant)),prediction=\"\(Self.escape(prediction))\"} \(count)")
                }
            }
        }
        lines.append("# HELP slipway_traffic_weight The share of an endpoint's traffic a variant gets, in percent.")
        lines.append("# TYPE slipway_traffic_weight gauge")
        for (endpoint, variants) in weights.sorted(by: { $0.key < $1.key }) {
            for (variant, weight) in variants.sorted(by: { $0.key < $1.key }) {
                lines.append("slipway_traffic_weight{\(label(endpoint, variant))} \(weight)")
            }
        }
        lines.append("# HELP slipway_prediction_log_dropped_total Prediction records dropped because the log's buffer was full.")
        lines.append("# TYPE slipway_prediction_log_dropped_total counter")
        lines.append("slipway_prediction_log_dropped_total \(droppedPredictions())")
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static let bucketNanos = UInt64(bucketSeconds) * 1_000_000_000

    static func milliseconds<Count>(_ histogram: Histogram<Count>?, _ percentile: Double) -> Double {
        guard let histogram, histogram.totalCount > 0 else { return 0 }
        return Double(histogram.valueAtPercentile(percentile)) / 1000
    }
}

// MARK: - Series

extension LiveMetrics {
    typealias WindowHistogram = Histogram<UInt32>

    static func windowHistogram() -> WindowHistogram {
        WindowHistogram(lowestDiscernibleValue: 1, highestTrackableValue: highestMicros, numberOfSignificantValueDigits: .two)
    }

    /// Answers of one kind (primary or mirrored) in one bucket.
    struct Tally: Sendable {
        var answers = 0
        var errors = 0
        var latency: WindowHistogram?
        var predictions: [String: Int] = [:]

        mutating func add(micros: UInt64, failed: Bool, label: String?) {
            answers += 1
            if failed { errors += 1 }
            if latency == nil { latency = LiveMetrics.windowHistogram() }
            latency?.record(min(micros, LiveMetrics.highestMicros))
            if let label { predictions[label, default: 0] += 1 }
        }

        mutating func add(_ other: Tally) {
            answers += other.answers
            errors += other.errors
            if let histogram = other.latency, histogram.totalCount > 0 {
                if latency == nil { latency = LiveMetrics.windowHistogram() }
                latency?.add(histogram)
            }
            predictions.merge(other.predictions, uniquingKeysWith: +)
        }

        mutating func reset() {
            answers = 0
            errors = 0
            latency?.reset()
            predictions.removeAll(keepingCapacity: true)
        }
    }

    /// Ten seconds of one variant.
    struct Bucket: Sendable {
        var epoch: UInt64 = .max
        var primary = Tally()
        var mirror = Tally()
        var sent = 0
        var outcomes = 0
        var outcomeSum = 0.0
        var outcomeSumOfSquares = 0.0
        var correct = 0
        var incorrect = 0
        var compared = 0
        var agreed = 0

        mutating func reset(epoch: UInt64) {
            self.epoch = epoch
            primary.reset()
            mirror.reset()
            sent = 0
            outcomes = 0
            outcomeSum = 0
            outcomeSumOfSquares = 0
            correct = 0
            incorrect = 0
            compared = 0
            agreed = 0
        }
    }

    /// One variant: totals since start, and the ring of buckets.
    struct Series: Sendable {
        var requests = 0
        var errors = 0
        var mirrored = 0
        var latency = Histogram<UInt64>(highestTrackableValue: LiveMetrics.highestMicros, numberOfSignificantValueDigits: .three)
        var predictions: [String: Int] = [:]
        var outcomes = 0
        var outcomeSum = 0.0
        /// The labels this variant has predicted, at most ``LiveMetrics/labelLimit``.
        var labels: Set<String> = []
        var ring: [Bucket] = []

        /// The bucket of `epoch`, emptied first if it still holds an older epoch.
        mutating func withBucket(_ epoch: UInt64, _ body: (inout Bucket) -> Void) {
            if ring.isEmpty { ring = Array(repeating: Bucket(), count: LiveMetrics.bucketCount) }
            let slot = Int(epoch % UInt64(LiveMetrics.bucketCount))
            if ring[slot].epoch != epoch { ring[slot].reset(epoch: epoch) }
            body(&ring[slot])
        }

        /// The label a prediction is counted under.
        mutating func label(_ prediction: String?) -> String? {
            guard var text = prediction else { return nil }
            if text.utf8.count > LiveMetrics.labelLength { text = String(text.prefix(LiveMetrics.labelLength)) }
            if labels.contains(text) { return text }
            guard labels.count < LiveMetrics.labelLimit else { return LiveMetrics.otherLabel }
            labels.insert(text)
            return text
        }

        mutating func recordPrimary(epoch: UInt64, micros: UInt64, failed: Bool, prediction: String?) {
            requests += 1
            if failed { errors += 1 }
            latency.record(min(micros, LiveMetrics.highestMicros))
            let label = label(prediction)
            if let label { predictions[label, default: 0] += 1 }
            withBucket(epoch) { $0.primary.add(micros: micros, failed: failed, label: label) }
        }

        mutating func recordMirrorSent(epoch: UInt64) {
            mirrored += 1
            withBucket(epoch) { $0.sent += 1 }
        }

        mutating func recordMirrorAnswer(epoch: UInt64, micros: UInt64, failed: Bool, prediction: String?) {
            let label = label(prediction)
            withBucket(epoch) { $0.mirror.add(micros: micros, failed: failed, label: label) }
        }

        mutating func recordFeedback(epoch: UInt64, outcome: Double?, correct: Bool?) {
            if let outcome {
                outcomes += 1
                outcomeSum += outcome
            }
            withBucket(epoch) { bucket in
                if let outcome {
                    bucket.outcomes += 1
                    bucket.outcomeSum += outcome
                    bucket.outcomeSumOfSquares += outcome * outcome
                }
                switch correct {
                case true?: bucket.correct += 1
                case false?: bucket.incorrect += 1
                case nil: break
                }
            }
        }

        func totals(window: VariantWindow?) -> VariantMetrics {
            VariantMetrics(
                requests: requests, errors: errors, errorRate: requests == 0 ? 0 : Double(errors) / Double(requests),
                latencyP50Ms: LiveMetrics.milliseconds(latency, 50), latencyP95Ms: LiveMetrics.milliseconds(latency, 95),
                latencyP99Ms: LiveMetrics.milliseconds(latency, 99), mirrored: mirrored, predictions: predictions, outcomeCount: outcomes,
                outcomeMean: outcomes == 0 ? nil : outcomeSum / Double(outcomes), window: window)
        }

        /// The sum of the newest `buckets` buckets up to `epoch`.
        func window(epoch: UInt64, buckets: Int, latencySamples: Bool) -> VariantWindow {
            var sum = Bucket()
            let oldest = epoch >= UInt64(buckets - 1) ? epoch - UInt64(buckets - 1) : 0
            for bucket in ring where bucket.epoch != .max && bucket.epoch >= oldest && bucket.epoch <= epoch {
                sum.primary.add(bucket.primary)
                sum.mirror.add(bucket.mirror)
                sum.sent += bucket.sent
                sum.outcomes += bucket.outcomes
                sum.outcomeSum += bucket.outcomeSum
                sum.outcomeSumOfSquares += bucket.outcomeSumOfSquares
                sum.correct += bucket.correct
                sum.incorrect += bucket.incorrect
                sum.compared += bucket.compared
                sum.agreed += bucket.agreed
            }
            let mirror: MirrorStatistics? =
                sum.sent == 0 && sum.mirror.answers == 0 && sum.compared == 0
                ? nil
                : MirrorStatistics(
                    sent: sum.sent, answers: sum.mirror.answers, errors: sum.mirror.errors,
                    latencyP50Ms: LiveMetrics.milliseconds(sum.mirror.latency, 50), latencyP95Ms: LiveMetrics.milliseconds(sum.mirror.latency, 95),
                    latencyP99Ms: LiveMetrics.milliseconds(sum.mirror.latency, 99), predictions: sum.mirror.predictions, compared: sum.compared,
                    agreed: sum.agreed)
            return VariantWindow(
                seconds: buckets * LiveMetrics.bucketSeconds, requests: sum.primary.answers, errors: sum.primary.errors,
                latencyP50Ms: LiveMetrics.milliseconds(sum.primary.latency, 50), latencyP95Ms: LiveMetrics.milliseconds(sum.primary.latency, 95),
                latencyP99Ms: LiveMetrics.milliseconds(sum.primary.latency, 99), predictions: sum.primary.predictions,
                outcomes: OutcomeStatistics(
                    count: sum.outcomes, sum: sum.outcomeSum, sumOfSquares: sum.outcomeSumOfSquares, correct: sum.correct, incorrect: sum.incorrect),
                mirror: mirror, latencySamplesMs: latencySamples ? LiveMetrics.latencySamples(sum.primary.latency) : nil)
        }
    }
}
