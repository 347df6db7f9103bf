import Foundation

/// One token of an expression.
struct ExpressionToken: Sendable {
    enum Kind: Sendable, Equatable {
        case number(Double)
        case string(String)
        /// A name: a context, property, function or keyword (`true`, `false`, `null`, `NaN`, `Infinity`).
        case word(String)
        /// An operator or punctuation: `( ) [ ] , . * ! < <= > >= == != && ||`.
        case symbol(String)
        case end
    }

    var kind: Kind
    /// Offset of the token's first character, in Unicode scalars.
    var offset: Int
    /// The token as written.
    var text: String

    /// Whether a `.` after this token dereferences it (rather than starting a number like `.5`).
    var endsValue: Bool {
        switch kind {
        case .number, .string, .word: true
        case .symbol(let symbol): symbol == ")" || symbol == "]" || symbol == "*"
        case .end: false
        }
    }
}

/// Splits expression text into tokens.
struct ExpressionLexer {
    private let scalars: [Unicode.Scalar]
    private let source: String

    init(_ source: String) {
        self.source = source
        scalars = Array(source.unicodeScalars)
    }

    func tokenize() throws(ExpressionError) -> [ExpressionToken] {
        var tokens: [ExpressionToken] = []
        var position = 0
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar.properties.isWhitespace {
                position += 1
                continue
            }
            let start = position
            let previousEndsValue = tokens.last?.endsValue ?? false
            switch scalar {
            case "'":
                var text = String.UnicodeScalarView()
                position += 1
                var closed = false
                while position < scalars.count {
                    if scalars[position] == "'" {
                        if position + 1 < scalars.count, scalars[position + 1] == "'" {
                            text.append("'")
                            position += 2
                            continue
                        }
                        position += 1
                        closed = true
                        break
                    }
                    text.append(scalars[position])
                    position += 1
                }
                guard closed else {
                    throw ExpressionSyntax.error("Unclosed string: a string that starts with ' must end with '", at: start, in: source)
                }
                tokens.append(ExpressionToken(kind: .string(String(text)), offset: start, text: slice(start, position)))
            case "\"":
                throw ExpressionSyntax.error(
                    "Unexpected symbol '\"': strings are written in single quotes ('text'; a quote inside is written '')", at: start, in: source)
            case "(", ")", "[", "]", ",", "*":
                position += 1
                tokens.append(ExpressionToken(kind: .symbol(String(scalar)), offset: start, text: String(scalar)))
            case ".":
                if !previousEndsValue, position + 1 < scalars.count, Self.isDigit(scalars[position + 1]) {
                    tokens.append(try number(from: &position))
                } else {
                    position += 1
                    tokens.append(ExpressionToken(kind: .symbol("."), offset: start, text: "."))
                }
            case "!", "<", ">", "=":
                position += 1
                var symbol = String(scalar)
                if position < scalars.count, scalars[position] == "=" {
                    symbol += "="
                    position += 1
                }
                guard symbol != "=" else {
                    throw ExpressionSyntax.error("Unexpected symbol '=': compare with '=='", at: start, in: source)
                }
                tokens.append(ExpressionToken(kind: .symbol(symbol), offset: start, text: symbol))
            case "&", "|":
                guard position + 1 < scalars.count, scalars[position + 1] == scalar else {
                    throw ExpressionSyntax.error("Unexpected symbol '\(scalar)': use '\(scalar)\(scalar)'", at: start, in: source)
                }
                position += 2
                tokens.append(ExpressionToken(kind: .symbol("\(scalar)\(scalar)"), offset: start, text: "\(scalar)\(scalar)"))
            case "-", "+", "0"..."9":
                tokens.append(try number(from: &position))
            default:
                guard Self.isNameStart(scalar) else {
                    throw ExpressionSyntax.error("Unexpected symbol '\(scalar)'", at: start, in: source)
                }
                position += 1
                while position < scalars.count, Self.isNamePart(scalars[position]) { position += 1 }
                let word = slice(start, position)
                tokens.append(ExpressionToken(kind: .word(word), offset: start, text: word))
            }
        }
        tokens.append(ExpressionToken(kind: .end, offset: scalars.count, text: ""))
        return tokens
    }

    /// Reads a number literal: decimal with optional fraction and exponent, `0x`/`0o`/`0b`,
    /// an optional sign, or `[+-]Infinity`.
    private func number(from position: inout Int) throws(ExpressionError) -> ExpressionToken {
        let start = position
        if scalars[position] == "-" || scalars[position] == "+" { position += 1 }
        while position < scalars.count {
            let scalar = scalars[position]
            if Self.isNamePart(scalar) && scalar != "-" || scalar == "." {
                position += 1
            } else if scalar == "-" || scalar == "+", position > start, scalars[position - 1] == "e" || scalars[position - 1] == "E",
                !slice(start, position).lowercased().contains("0x")
            {
                position += 1
            } else {
                break
            }
        }
        let text = slice(start, position)
        guard let value = ExpressionNumber.parse(text, trimming: false) else {
            throw ExpressionSyntax.error("Unexpected symbol '\(text)': not a number", at: start, in: source)
        }
        return ExpressionToken(kind: .number(value), offset: start, text: text)
    }

    private func slice(_ start: Int, _ end: Int) -> String {
        String(String.UnicodeScalarView(scalars[start..<end]))
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    static func isNameStart(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
    }

    /// Names may contain `-` (`steps.build-model.outputs`).
    static func isNamePart(_ scalar: Unicode.Scalar) -> Bool {
        isNameStart(scalar) || isDigit(scalar) || scalar == "-"
    }
}

/// Error messages for syntax errors, in the form GitHub uses.
enum ExpressionSyntax {
    static func error(_ message: String, at offset: Int, in source: String) -> ExpressionError {
        ExpressionError(message: "\(message). Located at position \(offset + 1) within expression: \(excerpt(source))", offset: offset)
    }

    /// The expression text for a message, shortened when it is long.
    static func excerpt(_ source: String) -> String {
        let trimmed = source.trimmingCharacters(in: .whitespaces)
        guard trimmed.unicodeScalars.count > 200 else { return trimmed }
        return String(String.UnicodeScalarView(trimmed.unicodeScalars.prefix(200))) + "…"
    }
}

/// Builds the syntax tree. Precedence from tightest: `()`, `[]` and `.`, `!`, `< <= > >=`,
/// `== !=`, `&&`, `||`; binary operators associate to the left.
struct ExpressionParser {
    /// The deepest nesting accepted (GitHub's own limit is of the same size). Deeper input is an
    /// error rather than a risk to the stack.
    static let maximumDepth = 50

    private let tokens: [ExpressionToken]
    private let source: String
    private let allowedContexts: [String]
    private var index = 0
    /// Open parentheses, brackets, calls and `!` around the token being parsed.
    private var nesting = 0

    init(tokens: [ExpressionToken], source: String, allowedContexts: [String]) {
        self.tokens = tokens
        self.source = source
        self.allowedContexts = allowedContexts
    }

    /// A node and the depth of the tree under it.
    private typealias Parsed = (node: ExpressionNode, depth: Int)

    mutating func parse() throws(ExpressionError) -> ExpressionNode {
        if case .end = current.kind {
            throw ExpressionSyntax.error("An expression was expected", at: current.offset, in: source)
        }
        let parsed = try parseOr()
        guard case .end = current.kind else { throw unexpected(current) }
        return parsed.node
    }

    private var current: ExpressionToken { tokens[index] }

    private func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(let value) = current.kind { return value == symbol }
        return false
    }

    private mutating func advance() -> ExpressionToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func unexpected(_ token: ExpressionToken) -> ExpressionError {
        if case .end = token.kind {
            return ExpressionSyntax.error("Unexpected end of expression", at: token.offset, in: source)
        }
        return ExpressionSyntax.error("Unexpected symbol: '\(token.text)'", at: token.offset, in: source)
    }

    private func checkDepth(_ depth: Int, at offset: Int) throws(ExpressionError) {
        guard depth <= Self.maximumDepth else {
            throw ExpressionSyntax.error("Exceeded the maximum expression depth of \(Self.maximumDepth)", at: offset, in: source)
        }
    }

    private mutating func enter(at offset: Int) throws(ExpressionError) {
        nesting += 1
        try checkDepth(nesting, at: offset)
    }

    private mutating func parseOr() throws(ExpressionError) -> Parsed {
        let first = try parseAnd()
        guard isSymbol("||") else { return first }
        var operands = [first.node]
        var depth = first.depth
        while isSymbol("||") {
            _ = advance()
            let next = try parseAnd()
            operands.append(next.node)
            depth = max(depth, next.depth)
        }
        try checkDepth(depth + 1, at: first.node.offset)
        return (.or(operands, offset: first.node.offset), depth + 1)
    }

    private mutating func parseAnd() throws(ExpressionError) -> Parsed {
        let first = try parseEquality()
        guard isSymbol("&&") else { return first }
        var operands = [first.node]
        var depth = first.depth
        while isSymbol("&&") {
            _ = advance()
            let next = try parseEquality()
            operands.append(next.node)
            depth = max(depth, next.depth)
        }
        try checkDepth(depth + 1, at: first.node.offset)
        return (.and(operands, offset: first.node.offset), depth + 1)
    }

    private mutating func parseEquality() throws(ExpressionError) -> Parsed {
        var left = try parseComparison()
        while isSymbol("==") || isSymbol("!=") {
            let token = advance()
            let right = try parseComparison()
            let depth = max(left.depth, right.depth) + 1
            try checkDepth(depth, at: token.offset)
            left = (.comparison(token.text == "==" ? .equal : .notEqual, left.node, right.node, offset: token.offset), depth)
        }
        return left
    }

    private mutating func parseComparison() throws(ExpressionError) -> Parsed {
        var left = try parseUnary()
        while let op = ["<", "<=", ">", ">="].first(where: isSymbol), let comparison = ComparisonOperator(rawValue: op) {
            let token = advance()
            let right = try parseUnary()
            let depth = max(left.depth, right.depth) + 1
            try checkDepth(depth, at: token.offset)
            left = (.comparison(comparison, left.node, right.node, offset: token.offset), depth)
        }
        return left
    }

    private mutating func parseUnary() throws(ExpressionError) -> Parsed {
        guard isSymbol("!") else { return try parsePostfix() }
        let token = advance()
        try enter(at: token.offset)
        let operand = try parseUnary()
        nesting -= 1
        try checkDepth(operand.depth + 1, at: token.offset)
        return (.not(operand.node, offset: token.offset), operand.depth + 1)
    }

    private mutating func parsePostfix() throws(ExpressionError) -> Parsed {
        var base = try parsePrimary()
        while true {
            if isSymbol(".") {
                let dot = advance()
                let name = advance()
                switch name.kind {
                case .word(let word):
                    try checkDepth(base.depth + 1, at: dot.offset)
                    base = (.index(base.node, .literal(.string(word), offset: name.offset), offset: dot.offset), base.depth + 1)
                case .symbol("*"):
                    try checkDepth(base.depth + 1, at: dot.offset)
                    base = (.wildcard(base.node, offset: dot.offset), base.depth + 1)
                default:
                    throw ExpressionSyntax.error(
                        "Unexpected symbol: '\(name.text)'. A property name or '*' must follow '.'", at: name.offset, in: source)
                }
            } else if isSymbol("[") {
                let bracket = advance()
                if isSymbol("*") {
                    _ = advance()
                    guard isSymbol("]") else { throw unexpected(current) }
                    _ = advance()
                    try checkDepth(base.depth + 1, at: bracket.offset)
                    base = (.wildcard(base.node, offset: bracket.offset), base.depth + 1)
                    continue
                }
                try enter(at: bracket.offset)
                let key = try parseOr()
                nesting -= 1
                guard isSymbol("]") else {
                    throw ExpressionSyntax.error("Expected ']' to close the '[' at position \(bracket.offset + 1)", at: current.offset, in: source)
                }
                _ = advance()
                let depth = max(base.depth, key.depth) + 1
                try checkDepth(depth, at: bracket.offset)
                base = (.index(base.node, key.node, offset: bracket.offset), depth)
            } else {
                return base
            }
        }
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Parsed {
        let token = advance()
        switch token.kind {
        case .number(let value):
            return (.literal(.number(value), offset: token.offset), 1)
        case .string(let text):
            return (.literal(.string(text), offset: token.offset), 1)
        case .symbol("("):
            try enter(at: token.offset)
            let inner = try parseOr()
            nesting -= 1
            guard isSymbol(")") else {
                throw ExpressionSyntax.error("Expected ')' to close the '(' at position \(token.offset + 1)", at: current.offset, in: source)
            }
            _ = advance()
            return inner
        case .word(let word):
            if isSymbol("(") { return try parseCall(name: word, token: token) }
            switch word {
            case "true": return (.literal(.bool(true), offset: token.offset), 1)
            case "false": return (.literal(.bool(false), offset: token.offset), 1)
            case "null": return (.literal(.null, offset: token.offset), 1)
            case "NaN": return (.literal(.number(.nan), offset: token.offset), 1)
            case "Infinity": return (.literal(.number(.infinity), offset: token.offset), 1)
            default: break
            }
            let folded = word.lowercased()
            guard let name = allowedContexts.first(where: { $0.lowercased() == folded }) else {
                throw ExpressionSyntax.error(
                    "Unrecognized named-value: '\(word)'. The contexts available here are: \(allowedContexts.joined(separator: ", "))",
                    at: token.offset, in: source)
            }
            return (.context(name, offset: token.offset), 1)
        default:
            throw unexpected(token)
        }
    }

    private mutating func parseCall(name: String, token: ExpressionToken) throws(ExpressionError) -> Parsed {
        guard let function = ExpressionFunction(named: name) else {
            let available = ExpressionFunction.allCases.map(\.rawValue).joined(separator: ", ")
            throw ExpressionSyntax.error("Unrecognized function: '\(name)'. The functions are: \(available)", at: token.offset, in: source)
        }
        let open = advance()
        try enter(at: open.offset)
        var arguments: [ExpressionNode] = []
        var depth = 0
        if !isSymbol(")") {
            while true {
                let argument = try parseOr()
                arguments.append(argument.node)
                depth = max(depth, argument.depth)
                if isSymbol(",") {
                    _ = advance()
                    continue
                }
                break
            }
        }
        nesting -= 1
        guard isSymbol(")") else {
            if case .end = current.kind {
                throw ExpressionSyntax.error("Expected ')' to close the call of '\(name)'", at: current.offset, in: source)
            }
            throw unexpected(current)
        }
        _ = advance()
        let count = arguments.count
        if count < function.minimumArguments || function.maximumArguments.map({ count > $0 }) ?? false {
            let expected: String =
                switch (function.minimumArguments, function.maximumArguments) {
                case (let minimum, let maximum?) where minimum == maximum: "\(minimum)"
                case (let minimum, let maximum?): "\(minimum) or \(maximum)"
                case (let minimum, nil): "at least \(minimum)"
                }
            throw ExpressionSyntax.error(
                "Wrong number of arguments to '\(function.rawValue)': expected \(expected), got \(count); call it as \(function.signature)",
                at: token.offset, in: source)
        }
        try checkDepth(depth + 1, at: token.offset)
        return (.call(function, arguments, offset: token.offset), depth + 1)
    }
}
