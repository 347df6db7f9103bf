/// One analysis run: the metrics of one or more templates (or the default analysis) measured over
/// time, each judged by its conditions and limits, the run judged by its worst metric.
///
/// A pure state machine: the caller takes the measurements the run says are due, records them
/// with the time elapsed since the run started, and reads the phase. The rules are Argo Rollouts':
///
/// - a metric is **Failed** once more than `failureLimit` measurements failed, **Inconclusive** once
///   more than `inconclusiveLimit` were inconclusive, **Error** once more than `consecutiveErrorLimit`
///   measurements in a row errored (checked in that order);
/// - otherwise it is **Successful** once it has `count` measurements (errors do not count), or
///   — with `consecutiveSuccessLimit` — as soon as that many in a row succeeded (reaching `count`
///   without that makes it Inconclusive);
/// - a metric without `count` and with an `interval` runs until the run is terminated, and is then Successful;
/// - as soon as one metric is Failed, Error or Inconclusive the run terminates: metrics still
///   running stop, and the run's phase is the worst of its metrics (Successful < Inconclusive < Error < Failed).
///
/// ```swift
/// var run = AnalysisRun(template: template)
/// for name in run.due(at: 0) { try run.record(.value(.number(0.01)), for: name, at: 0) }
/// run.phase   // .running, .successful, .failed…
/// ```
public struct AnalysisRun: Sendable, Codable, Equatable {
    /// Seconds before a measurement that errored is retried (Argo's default).
    public static let errorRetrySeconds = 10.0

    /// What one metric of the run measures and how it is judged.
    public struct Entry: Sendable, Codable, Equatable {
        public var name: String
        public var policy: MeasurementPolicy
        public var successCondition: Condition?
        public var failureCondition: Condition?

        /// Creates an entry.
        public init(name: String, policy: MeasurementPolicy, successCondition: Condition? = nil, failureCondition: Condition? = nil) {
            self.name = name
            self.policy = policy
            self.successCondition = successCondition
            self.failureCondition = failureCondition
        }
    }

    /// The state of one metric.
    public struct MetricResult: Sendable, Codable, Equatable {
        public var name: String
        public var phase: AnalysisPhase = .pending
        public var measurements: [Measurement] = []
        /// Measurements that completed other than with an error.
        public var count = 0
        public var successful = 0
        public var failed = 0
        public var inconclusive = 0
        public var error = 0
        public var consecutiveError = 0
        public var consecutiveSuccess = 0
        /// Why the metric ended as it did.
        public var message: String?

        init(name: String) { self.name = name }
    }

    /// The metrics, in order.
    public private(set) var entries: [Entry]
    /// Their state, in the same order.
    public private(set) var results: [MetricResult]
    /// The run's phase.
    public private(set) var phase: AnalysisPhase = .running
    /// Why the run ended as it did.
    public private(set) var message: String?
    /// `true` once the run was terminated or a metric ended it early.
    public private(set) var isTerminating = false

    /// A run of the given metrics.
    public init(entries: [Entry]) {
        self.entries = entries
        self.results = entries.map { MetricResult(name: $0.name) }
        if entries.isEmpty { phase = .successful }
    }

    /// A run of one template: its metrics, or its judge as a single entry named after the template.
    public init(template: AnalysisTemplate) {
        self.init(templates: [template])
    }

    /// A run of several templates together (a step naming more than one). Metric names that two
    /// templates share are prefixed with the template name (`template.metric`).
    public init(templates: [AnalysisTemplate]) {
        var entries: [Entry] = []
        var names: [String: Int] = [:]
        for t in templates where t.judge == nil { for m in t.metrics { names[m.name, default: 0] += 1 } }
        for t in templates {
            if let judge = t.judge {
                entries.append(Entry(name: t.name, policy: judge.policy))
            } else {
                for m in t.metrics {
                    let name = names[m.name, default: 0] > 1 ? "\(t.name).\(m.name)" : m.name
                    entries.append(Entry(name: name, policy: m.policy, successCondition: m.successCondition, failureCondition: m.failureCondition))
                }
            }
        }
        self.init(entries: entries)
    }

    /// A run of the built-in default analysis: one entry, `default`, measured every `interval` until
    /// one look decides or `count` looks were inconclusive.
    public init(defaultAnalysis configuration: DefaultAnalysisConfiguration) {
        self.init(entries: [Entry(name: DefaultAnalysis.metricName, policy: configuration.policy)])
    }

    /// The state of a metric by name.
    public subscript(_ name: String) -> MetricResult? { results.first { $0.name == name } }

    // MARK: Scheduling

    /// The metrics that should be measured now, `now` being seconds since the run started.
    public func due(at now: Double) -> [String] {
        guard !phase.isCompleted, !isTerminating else { return [] }
        return entries.indices.compactMap { i in
            guard let next = nextMeasurement(i), next <= now else { return nil }
            return entries[i].name
        }
    }

    /// The earliest time (seconds since the start) at which a metric is due, or `nil` when none will be.
    public func nextDue() -> Double? {
        guard !phase.isCompleted, !isTerminating else { return nil }
        return entries.indices.compactMap { nextMeasurement($0) }.min()
    }

    private func nextMeasurement(_ i: Int) -> Double? {
        let entry = entries[i]
        let result = results[i]
        guard !result.phase.isCompleted else { return nil }
        guard let last = result.measurements.last else { return entry.policy.initialDelay?.seconds ?? 0 }
        if let count = entry.policy.effectiveCount, result.count >= count { return nil }
        if last.phase == .error { return last.at + Self.errorRetrySeconds }
        guard let interval = entry.policy.interval else { return nil }
        return last.at + interval.seconds
    }

    // MARK: Transitions

    /// Records one measurement of a metric and re-assesses the run.
    /// - Returns: the measurement as recorded (with its phase).
    /// - Throws: `RolloutError.invalidInput` for a metric the run does not have.
    @discardableResult
    public mutating func record(_ outcome: MeasurementOutcome, for name: String, at now: Double) throws(RolloutError) -> Measurement {
        guard let i = entries.firstIndex(where: { $0.name == name }) else {
            throw RolloutError(.invalidInput, "the analysis run has no metric '\(name)'; it has \(entries.map(\.name).joined(separator: ", "))")
        }
        let entry = entries[i]
        let (phase, message) = MeasurementEvaluator.evaluate(
            outcome, successCondition: entry.successCondition, failureCondition: entry.failureCondition)
        var value: ConditionValue?
        if case .value(let v) = outcome { value = v }
        let measurement = Measurement(phase: phase, value: value, message: message, at: now)
        guard !results[i].phase.isCompleted, !self.phase.isCompleted else { return measurement }
        var r = results[i]
        r.measurements.append(measurement)
        switch phase {
        case .successful:
            r.successful += 1
            r.consecutiveSuccess += 1
        case .failed:
            r.failed += 1
            r.consecutiveSuccess = 0
        case .inconclusive:
            r.inconclusive += 1
            r.consecutiveSuccess = 0
        default:
            r.error += 1
            r.consecutiveError += 1
            r.consecutiveSuccess = 0
        }
        if phase != .error {
            r.count += 1
            r.consecutiveError = 0
        }
        r.message = message ?? r.message
        results[i] = r
        reassess()
        return measurement
    }

    /// Stops the run (the rollout moved on, was aborted, or the step ended): metrics still running
    /// end Successful and the run takes the worst completed phase.
    public mutating func terminate() {
        guard !phase.isCompleted else { return }
        isTerminating = true
        reassess()
    }

    private mutating func reassess() {
        for i in results.indices {
            let (p, why) = Self.assess(results[i], entries[i].policy, terminating: isTerminating)
            if p != results[i].phase {
                results[i].phase = p
                if let why { results[i].message = why }
            }
        }
        // A metric that ended Failed, Error or Inconclusive ends the whole run.
        if !isTerminating, results.contains(where: { [.failed, .error, .inconclusive].contains($0.phase) }) {
            isTerminating = true
            for i in results.indices {
                let (p, why) = Self.assess(results[i], entries[i].policy, terminating: true)
                results[i].phase = p
                if let why, p != .successful { results[i].message = why }
            }
        }
        let completed = results.filter { $0.phase.isCompleted }
        let worst = completed.max { $0.phase < $1.phase }
        if isTerminating || completed.count == results.count {
            phase = worst?.phase ?? .successful
            if let worst, worst.phase != .successful {
                message = "metric '\(worst.name)' \(worst.phase.rawValue.lowercased())" + (worst.message.map { ": \($0)" } ?? "")
            }
        } else {
            phase = .running
        }
    }

    static func assess(_ r: MetricResult, _ policy: MeasurementPolicy, terminating: Bool) -> (AnalysisPhase, String?) {
        if r.phase.isCompleted { return (r.phase, nil) }
        if r.measurements.isEmpty { return (terminating ? .successful : .pending, nil) }
        if r.failed > policy.failureLimit {
            return (.failed, "\(r.failed) failed measurement(s), more than failureLimit \(policy.failureLimit)")
        }
        if r.inconclusive > policy.inconclusiveLimit {
            return (.inconclusive, "\(r.inconclusive) inconclusive measurement(s), more than inconclusiveLimit \(policy.inconclusiveLimit)")
        }
        if r.consecutiveError > policy.consecutiveErrorLimit {
            return (.error, "\(r.consecutiveError) errors in a row, more than consecutiveErrorLimit \(policy.consecutiveErrorLimit)")
        }
        if policy.consecutiveSuccessLimit > 0, r.consecutiveSuccess >= policy.consecutiveSuccessLimit {
            return (.successful, nil)
        }
        if let count = policy.effectiveCount, r.count >= count {
            if policy.consecutiveSuccessLimit > 0 {
                return (.inconclusive, "\(count) measurement(s) taken without \(policy.consecutiveSuccessLimit) successful in a row")
            }
            return (.successful, nil)
        }
        return (terminating ? .successful : .running, nil)
    }
}
