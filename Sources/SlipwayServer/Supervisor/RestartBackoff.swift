/// The delay before a replica that exited is started again: `initial`, doubling after each quick
/// exit up to `maximum`, and back to `initial` once a process stayed up for `resetAfter`.
///
/// ```swift
/// var backoff = RestartBackoff()
/// backoff.delay(afterRunningFor: .milliseconds(10))  // 0.5 s
/// backoff.delay(afterRunningFor: .milliseconds(10))  // 1 s
/// backoff.delay(afterRunningFor: .seconds(90))       // 0.5 s again
/// ```
struct RestartBackoff: Sendable, Equatable {
    var initial: Duration
    var maximum: Duration
    var resetAfter: Duration
    /// The delay given for the latest exit, nil before the first.
    private(set) var current: Duration?

    init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30), resetAfter: Duration = .seconds(60)) {
        self.initial = initial
        self.maximum = max(maximum, initial)
        self.resetAfter = resetAfter
    }

    /// The delay before the next start, after a process that ran for `uptime` ended.
    mutating func delay(afterRunningFor uptime: Duration) -> Duration {
        if uptime >= resetAfter { current = nil }
        let next = current.map { min($0 * 2, maximum) } ?? initial
        current = next
        return next
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
