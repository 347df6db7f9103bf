/// The one error type of `SlipwayStats`.
///
/// Every case says what was wrong with the input and what the caller can do about it.
/// Functions in this module never return `NaN` for bad input: they throw one of these.
public enum StatsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A sample or count was too small for the method; collect at least `minimum` observations.
    case tooFewObservations(what: String, count: Int, minimum: Int)
    /// A value was NaN or infinite; remove or impute non-finite values before calling.
    case nonFiniteValue(what: String)
    /// A count was negative; counts must be zero or more.
    case negativeCount(what: String, value: Double)
    /// More successes than trials were given; check that successes and trials are not swapped.
    case successesExceedTrials(successes: Double, trials: Double)
    /// Weights did not sum to one (within 1e-6); normalise them or pass the intended split.
    case weightsDoNotSumToOne(sum: Double)
    /// A parameter was outside its valid range; pass a value inside `expected`.
    case parameterOutOfRange(name: String, value: Double, expected: String)
    /// Two inputs that must have the same length did not; pass arrays of equal length.
    case lengthMismatch(what: String, first: Int, second: Int)
    /// All observations were equal, so the statistic is undefined; the test needs some variation.
    case zeroVariance(what: String)
    /// The requested computation has no solution for these inputs; change the inputs as described.
    case noSolution(reason: String)

    /// A sentence saying what was wrong and what to do about it.
    public var description: String {
        switch self {
        case .tooFewObservations(let what, let count, let minimum):
            return "\(what) has \(count) observation(s) but needs at least \(minimum); collect more data before testing."
        case .nonFiniteValue(let what):
            return "\(what) contains NaN or an infinite value; remove or impute non-finite values."
        case .negativeCount(let what, let value):
            return "\(what) is negative (\(value)); counts must be zero or more."
        case .successesExceedTrials(let successes, let trials):
            return "successes (\(successes)) exceed trials (\(trials)); pass SUCCESSES/TRIALS with successes ≤ trials."
        case .weightsDoNotSumToOne(let sum):
            return "weights sum to \(sum), not 1; normalise them so they sum to 1."
        case .parameterOutOfRange(let name, let value, let expected):
            return "\(name) = \(value) is out of range; expected \(expected)."
        case .lengthMismatch(let what, let first, let second):
            return "\(what): lengths \(first) and \(second) differ; pass inputs of equal length."
        case .zeroVariance(let what):
            return "\(what) has zero variance, so the statistic is undefined; the test needs data that varies."
        case .noSolution(let reason):
            return "no solution: \(reason)"
        }
    }
}

extension StatsError {
    static func requireFinite(_ value: Double, _ what: String) throws(StatsError) {
        guard value.isFinite else { throw .nonFiniteValue(what: what) }
    }

    static func requireFinite(_ values: [Double], _ what: String) throws(StatsError) {
        for v in values where !v.isFinite { throw .nonFiniteValue(what: what) }
    }

    static func requireProbability(_ value: Double, _ name: String, open: Bool = true) throws(StatsError) {
        guard value.isFinite else { throw .nonFiniteValue(what: name) }
        if open {
            guard value > 0, value < 1 else { throw .parameterOutOfRange(name: name, value: value, expected: "0 < \(name) < 1") }
        } else {
            guard value >= 0, value <= 1 else { throw .parameterOutOfRange(name: name, value: value, expected: "0 ≤ \(name) ≤ 1") }
        }
    }

    static func requirePositive(_ value: Double, _ name: String) throws(StatsError) {
        guard value.isFinite else { throw .nonFiniteValue(what: name) }
        guard value > 0 else { throw .parameterOutOfRange(name: name, value: value, expected: "\(name) > 0") }
    }
}
