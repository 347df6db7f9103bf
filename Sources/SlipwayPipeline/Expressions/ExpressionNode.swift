/// The syntax tree of a parsed expression. Every node remembers where it starts in the source text
/// (in Unicode scalars) so that evaluation errors can point at it.
indirect enum ExpressionNode: Sendable {
    /// `null`, `true`, `false`, a number or a string.
    case literal(ExpressionValue, offset: Int)
    /// A context by name (`github`, `matrix`, …).
    case context(String, offset: Int)
    /// `base.name`, `base['name']` or `base[expression]`.
    case index(ExpressionNode, ExpressionNode, offset: Int)
    /// `base.*` or `base[*]`: an object filter.
    case wildcard(ExpressionNode, offset: Int)
    /// `!operand`.
    case not(ExpressionNode, offset: Int)
    /// `lhs op rhs` for the comparison operators.
    case comparison(ComparisonOperator, ExpressionNode, ExpressionNode, offset: Int)
    /// `a && b && …` (evaluated left to right, stopping at the first falsy operand).
    case and([ExpressionNode], offset: Int)
    /// `a || b || …` (evaluated left to right, stopping at the first truthy operand).
    case or([ExpressionNode], offset: Int)
    /// `name(arguments…)`.
    case call(ExpressionFunction, [ExpressionNode], offset: Int)

    var offset: Int {
        switch self {
        case .literal(_, let offset), .context(_, let offset), .index(_, _, let offset), .wildcard(_, let offset), .not(_, let offset),
            .comparison(_, _, _, let offset), .and(_, let offset), .or(_, let offset), .call(_, _, let offset):
            offset
        }
    }

    /// Calls `visit` on this node and every node below it.
    func forEach(_ visit: (ExpressionNode) -> Void) {
        visit(self)
        switch self {
        case .literal, .context: break
        case .index(let base, let key, _):
            base.forEach(visit)
            key.forEach(visit)
        case .wildcard(let base, _), .not(let base, _):
            base.forEach(visit)
        case .comparison(_, let lhs, let rhs, _):
            lhs.forEach(visit)
            rhs.forEach(visit)
        case .and(let operands, _), .or(let operands, _), .call(_, let operands, _):
            for operand in operands { operand.forEach(visit) }
        }
    }
}

/// `==`, `!=`, `<`, `<=`, `>`, `>=`.
enum ComparisonOperator: String, Sendable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
}

/// The built-in functions, with their argument counts.
enum ExpressionFunction: String, Sendable, CaseIterable {
    case contains, startsWith, endsWith, format, join, toJSON, fromJSON, hashFiles
    case success, failure, always, cancelled

    /// The function named `name`, compared case-insensitively as GitHub does (`toJson` is `toJSON`).
    init?(named name: String) {
        let folded = name.lowercased()
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == folded }) else { return nil }
        self = match
    }

    var minimumArguments: Int {
        switch self {
        case .contains, .startsWith, .endsWith: 2
        case .format, .join, .toJSON, .fromJSON, .hashFiles: 1
        case .success, .failure, .always, .cancelled: 0
        }
    }

    /// Nil for no upper bound.
    var maximumArguments: Int? {
        switch self {
        case .contains, .startsWith, .endsWith, .join: 2
        case .toJSON, .fromJSON: 1
        case .format, .hashFiles: nil
        case .success, .failure, .always, .cancelled: 0
        }
    }

    /// `success()`, `failure()`, `always()` and `cancelled()`: a condition calling one of them has
    /// no implicit `success() &&`.
    var isStatusFunction: Bool {
        switch self {
        case .success, .failure, .always, .cancelled: true
        default: false
        }
    }

    /// How the function is called, for error messages: `contains(search, item)`.
    var signature: String {
        switch self {
        case .contains: "contains(search, item)"
        case .startsWith: "startsWith(searchString, searchValue)"
        case .endsWith: "endsWith(searchString, searchValue)"
        case .format: "format(string, replaceValue0, replaceValue1, …)"
        case .join: "join(array, optionalSeparator)"
        case .toJSON: "toJSON(value)"
        case .fromJSON: "fromJSON(value)"
        case .hashFiles: "hashFiles(path, …)"
        case .success, .failure, .always, .cancelled: "\(rawValue)()"
        }
    }
}
