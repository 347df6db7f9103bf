/// Measures metrics whose provider is outside the gateway: `prometheus`, `web` and `job`.
public struct MetricProviders: Sendable {
    /// Creates the providers.
    public init() {}

    /// Whether the controller can measure metrics of this provider.
    public static func supports(_ provider: MetricProvider) -> Bool {
        if case .builtin = provider { return true }
        return false
    }

    /// One measurement of `metric` from its provider.
    public func measure(_ provider: MetricProvider, metric: String) async -> MeasurementOutcome {
        .error("metric '\(metric)': the \(provider.name) provider is not yet supported by the controller")
    }
}
