public import SlipwayCore

/// What went wrong while reading data, training, evaluating, loading or serving a built-in model.
///
/// Every case says what to fix; ``kind`` tells the CLI and the HTTP boundary which exit code or status to use.
public enum ModelError: SlipwayError, Equatable {
    /// A CSV file is malformed at a given line (1-based, counting physical lines).
    case csv(source: String, line: Int, message: String)
    /// The data can be parsed but cannot be used as it is (no rows, a missing column, a bad value).
    case invalidData(String)
    /// A training parameter is unknown or out of range.
    case invalidParameter(String)
    /// A model directory or file is missing, malformed or inconsistent.
    case invalidModel(path: String, message: String)
    /// A prediction request does not fit the model (wrong number of features, non-finite values).
    case invalidInput(String)
    /// A file could not be read or written.
    case io(String)

    public var kind: ErrorKind {
        switch self {
        case .csv, .invalidData, .invalidParameter, .invalidModel, .invalidInput: .invalidArgument
        case .io: .unavailable
        }
    }

    public var message: String {
        switch self {
        case .csv(let source, let line, let message): "\(source):\(line): \(message)"
        case .invalidData(let message): message
        case .invalidParameter(let message): message
        case .invalidModel(let path, let message): "\(path): \(message)"
        case .invalidInput(let message): message
        case .io(let message): message
        }
    }
}
