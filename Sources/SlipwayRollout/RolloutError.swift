public import SlipwayCore

/// The one error type of `SlipwayRollout`.
///
/// A spec that does not validate carries every problem found, each with its file, line and column,
/// so a user fixes them all in one go; nothing is started from an invalid spec.
public struct RolloutError: SlipwayError, Equatable {
    /// What went wrong.
    public enum Code: String, Sendable, Codable, Equatable {
        /// The rollout or template YAML is invalid; ``RolloutError/diagnostics`` lists every problem.
        case invalidSpec = "invalid_spec"
        /// A condition expression does not parse; fix the expression at the given column.
        case invalidCondition = "invalid_condition"
        /// A condition could not be evaluated against a measurement (wrong type, missing key, index out of range).
        case conditionEvaluation = "condition_evaluation"
        /// The data handed to an analysis is inconsistent (negative counts, errors above requests).
        case invalidInput = "invalid_input"
    }

    /// What went wrong.
    public var code: Code
    /// A sentence saying what was wrong and what to do.
    public var message: String
    /// For ``Code/invalidSpec``: every problem found, in file order.
    public var diagnostics: [RolloutDiagnostic]

    /// Creates an error.
    public init(_ code: Code, _ message: String, diagnostics: [RolloutDiagnostic] = []) {
        self.code = code
        self.message = message
        self.diagnostics = diagnostics
    }

    /// An invalid spec with all its problems; the message lists them one per line.
    public static func invalidSpec(_ diagnostics: [RolloutDiagnostic]) -> RolloutError {
        let sorted = diagnostics.sorted()
        let count = sorted.count
        let header = count == 1 ? "the rollout spec has 1 problem:" : "the rollout spec has \(count) problems:"
        return RolloutError(.invalidSpec, ([header] + sorted.map(\.description)).joined(separator: "\n"), diagnostics: sorted)
    }

    /// Every case is a problem with the input.
    public var kind: ErrorKind {
        switch code {
        case .invalidSpec, .invalidCondition, .invalidInput: .invalidArgument
        case .conditionEvaluation: .failedPrecondition
        }
    }
}

/// One problem in a spec file, at a position users can jump to.
public struct RolloutDiagnostic: Sendable, Codable, Equatable, Hashable, Comparable, CustomStringConvertible {
    /// The file name as given to the parser.
    public var file: String
    /// Line, starting at 1.
    public var line: Int
    /// Column, starting at 1, counted in Unicode scalars.
    public var column: Int
    /// What is wrong and how to fix it.
    public var message: String

    /// Creates a diagnostic.
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, the form editors and CI annotations recognise.
    public var description: String { "\(file):\(line):\(column): \(message)" }

    public static func < (a: RolloutDiagnostic, b: RolloutDiagnostic) -> Bool {
        (a.file, a.line, a.column, a.message) < (b.file, b.line, b.column, b.message)
    }
}
