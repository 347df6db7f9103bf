/// Turns a provider's outcome into a measurement phase with Argo Rollouts' rules:
///
/// - no conditions: Successful;
/// - only `successCondition`: Successful when it holds, Failed otherwise;
/// - only `failureCondition`: Failed when it holds, Successful otherwise;
/// - both: Failed when the failure condition holds, else Successful when the success condition
///   holds, else Inconclusive.
///
/// A condition that cannot be evaluated against the value (a missing field, a type mismatch) makes
/// the measurement an Error, as does a provider error; the minimum-sample guard makes it Inconclusive.
public enum MeasurementEvaluator {
    /// The phase and message of one measurement.
    public static func evaluate(
        _ outcome: MeasurementOutcome, successCondition: Condition?, failureCondition: Condition?
    ) -> (phase: AnalysisPhase, message: String?) {
        switch outcome {
        case .error(let message):
            return (.error, message)
        case .insufficientSamples(let message):
            return (.inconclusive, message)
        case .decided(let phase, let message):
            return (phase.isCompleted ? phase : .error, message)
        case .value(let value):
            var success = false
            var failure = false
            do throws(RolloutError) {
                if let successCondition { success = try successCondition.evaluate(result: value) }
                if let failureCondition { failure = try failureCondition.evaluate(result: value) }
            } catch {
                return (.error, error.message)
            }
            switch (successCondition, failureCondition) {
            case (nil, nil): return (.successful, nil)
            case (.some, nil): failure = !success
            case (nil, .some): success = !failure
            default: break
            }
            if failure { return (.failed, nil) }
            if !success { return (.inconclusive, "neither the success nor the failure condition holds") }
            return (.successful, nil)
        }
    }
}
