import SlipwayCore
/// A problem in a condition's text, at a position within it.
public struct ConditionSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Offset of the problem in the condition, in Unicode scalars from 0.
    public var offset: Int
    /// What is wrong.
    public var message: String

    /// Creates a syntax error.
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    /// `column N: message`, with the column counted from 1.
    public var description: String { "column \(offset + 1): \(message)" }
}

/// The operators of the condition language.
enum ConditionOperator: String, Sendable, Hashable {
    case or = "||"
    case and = "&&"
    case not = "!"
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case plus = "+"
    case minus = "-"
    case times = "*"
    case divide = "/"
    case remainder = "%"
}

/// The syntax tree of a condition; every node keeps the offset of its operator or start.
indirect enum ConditionNode: Sendable, Hashable {
    case literal(ConditionValue, at: Int)
    case result(at: Int)
    case member(ConditionNode, String, at: Int)
    case index(ConditionNode, ConditionNode, at: Int)
    case unary(ConditionOperator, ConditionNode, at: Int)
    case binary(ConditionOperator, ConditionNode, ConditionNode, at: Int)
    case call(String, [ConditionNode], at: Int)
}

/// A token of the condition language.
struct ConditionToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case number(Double)
        case string(String)
        case identifier(String)
        case symbol(String)
        case end
    }

    var kind: Kind
    var offset: Int
}

/// Splits a condition into tokens.
struct ConditionLexer {
    static let symbols = ["&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")", "[", "]", ".", ","]

    static func tokens(_ source: String) throws(ConditionSyntaxError) -> [ConditionToken] {
        let scalars = Array(source.unicodeScalars)
        var tokens: [ConditionToken] = []
        var i = 0
        func isDigit(_ s: Unicode.Scalar) -> Bool { s >= "0" && s <= "9" }
        func isIdentifierStart(_ s: Unicode.Scalar) -> Bool { s == "_" || (s.isASCII && s.properties.isAlphabetic) }
        while i < scalars.count {
            let c = scalars[i]
            if c.properties.isWhitespace {
                i += 1
                continue
            }
            let start = i
            if isDigit(c) {
                while i < scalars.count, isDigit(scalars[i]) { i += 1 }
                if i + 1 < scalars.count, scalars[i] == ".", isDigit(scalars[i + 1]) {
                    i += 1
                    while i < scalars.count, isDigit(scalars[i]) { i += 1 }
                }
                if i < scalars.count, scalars[i] == "e" || scalars[i] == "E" {
                    var j = i + 1
                    if j < scalars.count, scalars[j] == "+" || scalars[j] == "-" { j += 1 }
                    if j < scalars.count, isDigit(scalars[j]) {
                        i = j
                        while i < scalars.count, isDigit(scalars[i]) { i += 1 }
                    }
                }
                let text = String(String.UnicodeScalarView(scalars[start..<i]))
                guard let value = Double(text) else { throw ConditionSyntaxError(offset: start, message: "'\(text)' is not a number") }
                if i < scalars.count, isIdentifierStart(scalars[i]) {
                    throw ConditionSyntaxError(offset: i, message: "a number must not be followed directly by a name")
                }
                tokens.append(ConditionToken(kind: .number(value), offset: start))
                continue
            }
            if isIdentifierStart(c) {
                while i < scalars.count, isIdentifierStart(scalars[i]) || isDigit(scalars[i]) { i += 1 }
                tokens.append(ConditionToken(kind: .identifier(String(String.UnicodeScalarView(scalars[start..<i]))), offset: start))
                continue
            }
            if c == "'" || c == "\"" {
                i += 1
                var text = String.UnicodeScalarView()
                var closed = false
                while i < scalars.count {
                    if scalars[i] == "\\", i + 1 < scalars.count {
                        text.append(scalars[i + 1])
                        i += 2
                        continue
                    }
                    if scalars[i] == c {
                        closed = true
                        i += 1
                        break
                    }
                    text.append(scalars[i])
                    i += 1
                }
                guard closed else { throw ConditionSyntaxError(offset: start, message: "the string starting here is not closed with \(c)") }
                tokens.append(ConditionToken(kind: .string(String(text)), offset: start))
                continue
            }
            let rest = String(String.UnicodeScalarView(scalars[i..<min(i + 2, scalars.count)]))
            if let symbol = symbols.first(where: { rest.hasPrefix($0) }) {
                tokens.append(ConditionToken(kind: .symbol(symbol), offset: start))
                i += symbol.unicodeScalars.count
                continue
            }
            if c == "=" {
                throw ConditionSyntaxError(offset: start, message: "'=' is not an operator; compare with '=='")
            }
            if c == "&" || c == "|" {
                throw ConditionSyntaxError(offset: start, message: "'\(c)' is not an operator; use '\(c)\(c)'")
            }
            throw ConditionSyntaxError(offset: start, message: "unexpected character '\(c)'")
        }
        tokens.append(ConditionToken(kind: .end, offset: scalars.count))
        return tokens
    }
}

/// A recursive-descent parser for the condition grammar (lowest precedence first):
///
///     or         := and (("||" | "or") and)*
///     and        := not (("&&" | "and") not)*
///     not        := ("!" | "not") not | comparison
///     comparison := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
///     sum        := product (("+" | "-") product)*
///     product    := unary (("*" | "/" | "%") unary)*
///     unary      := "-" unary | "+" unary | postfix
///     postfix    := primary ("." name | "[" or "]")*
///     primary    := number | string | true | false | null | NaN | Inf | result | name "(" arguments ")" | "(" or ")"
struct ConditionParser {
    static let functions: [String: ClosedRange<Int>] = [
        "len": 1...1, "isNaN": 1...1, "isInf": 1...1, "abs": 1...1, "min": 1...64, "max": 1...64, "asFloat": 1...1, "asInt": 1...1,
    ]

    private var tokens: [ConditionToken]
    private var position = 0

    init(tokens: [ConditionToken]) {
        self.tokens = tokens
    }

    static func parse(_ source: String) throws(ConditionSyntaxError) -> ConditionNode {
        let tokens = try ConditionLexer.tokens(source)
        if tokens.count == 1 { throw ConditionSyntaxError(offset: 0, message: "the condition is empty") }
        var parser = ConditionParser(tokens: tokens)
        let node = try parser.parseOr()
        guard case .end = parser.current.kind else {
            throw ConditionSyntaxError(
                offset: parser.current.offset, message: "unexpected \(parser.describe(parser.current)) after a complete expression")
        }
        return node
    }

    private var current: ConditionToken { tokens[position] }

    private mutating func advance() -> ConditionToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func isSymbol(_ s: String) -> Bool { current.kind == .symbol(s) }
    private func isWord(_ w: String) -> Bool { current.kind == .identifier(w) }

    private func describe(_ token: ConditionToken) -> String {
        switch token.kind {
        case .number(let x): "number \(ConditionValue.format(x))"
        case .string(let s): "string '\(s)'"
        case .identifier(let name): "'\(name)'"
        case .symbol(let s): "'\(s)'"
        case .end: "end of the condition"
        }
    }

    private mutating func expect(_ symbol: String, _ context: String) throws(ConditionSyntaxError) {
        guard isSymbol(symbol) else {
            throw ConditionSyntaxError(offset: current.offset, message: "expected '\(symbol)' \(context), found \(describe(current))")
        }
        _ = advance()
    }

    private mutating func parseOr() throws(ConditionSyntaxError) -> ConditionNode {
        var left = try parseAnd()
        while isSymbol("||") || isWord("or") {
            let op = advance()
            left = .binary(.or, left, try parseAnd(), at: op.offset)
        }
        return left
    }

    private mutating func parseAnd() throws(ConditionSyntaxError) -> ConditionNode {
        var left = try parseNot()
        while isSymbol("&&") || isWord("and") {
            let op = advance()
            left = .binary(.and, left, try parseNot(), at: op.offset)
        }
        return left
    }

    private mutating func parseNot() throws(ConditionSyntaxError) -> ConditionNode {
        if isSymbol("!") || isWord("not") {
            let op = advance()
            return .unary(.not, try parseNot(), at: op.offset)
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(ConditionSyntaxError) -> ConditionNode {
        let left = try parseSum()
        let comparisons: [String: ConditionOperator] = [
            "==": .equal, "!=": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
        ]
        guard case .symbol(let s) = current.kind, let op = comparisons[s] else { return left }
        let token = advance()
        let right = try parseSum()
        if case .symbol(let next) = current.kind, comparisons[next] != nil {
            throw ConditionSyntaxError(
                offset: current.offset, message: "comparisons cannot be chained; write 'a < b && b < c' instead of 'a < b < c'")
        }
        return .binary(op, left, right, at: token.offset)
    }

    private mutating func parseSum() throws(ConditionSyntaxError) -> ConditionNode {
        var left = try parseProduct()
        while isSymbol("+") || isSymbol("-") {
            let token = advance()
            left = .binary(token.kind == .symbol("+") ? .plus : .minus, left, try parseProduct(), at: token.offset)
        }
        return left
    }

    private mutating func parseProduct() throws(ConditionSyntaxError) -> ConditionNode {
        var left = try parseUnary()
        while isSymbol("*") || isSymbol("/") || isSymbol("%") {
            let token = advance()
            let op: ConditionOperator = token.kind == .symbol("*") ? .times : token.kind == .symbol("/") ? .divide : .remainder
            left = .binary(op, left, try parseUnary(), at: token.offset)
        }
        return left
    }

    private mutating func parseUnary() throws(ConditionSyntaxError) -> ConditionNode {
        if isSymbol("-") {
            let token = advance()
            return .unary(.minus, try parseUnary(), at: token.offset)
        }
        if isSymbol("+") {
            _ = advance()
            return try parseUnary()
        }
        return try parsePostfix()
    }

    private mutating func parsePostfix() throws(ConditionSyntaxError) -> ConditionNode {
        var node = try parsePrimary()
        while true {
            if isSymbol(".") {
                let dot = advance()
                guard case .identifier(let name) = current.kind else {
                    throw ConditionSyntaxError(offset: current.offset, message: "expected a field name after '.', found \(describe(current))")
                }
                _ = advance()
                node = .member(node, name, at: dot.offset)
            } else if isSymbol("[") {
                let bracket = advance()
                let index = try parseOr()
                try expect("]", "to close the index opened at column \(bracket.offset + 1)")
                node = .index(node, index, at: bracket.offset)
            } else {
                return node
            }
        }
    }

    private mutating func parsePrimary() throws(ConditionSyntaxError) -> ConditionNode {
        let token = current
        switch token.kind {
        case .number(let x):
            _ = advance()
            return .literal(.number(x), at: token.offset)
        case .string(let s):
            _ = advance()
            return .literal(.string(s), at: token.offset)
        case .symbol("("):
            _ = advance()
            let inner = try parseOr()
            try expect(")", "to close the parenthesis opened at column \(token.offset + 1)")
            return inner
        case .identifier(let name):
            _ = advance()
            switch name {
            case "result": return .result(at: token.offset)
            case "true": return .literal(.bool(true), at: token.offset)
            case "false": return .literal(.bool(false), at: token.offset)
            case "null", "nil": return .literal(.null, at: token.offset)
            case "NaN": return .literal(.number(.nan), at: token.offset)
            case "Inf": return .literal(.number(.infinity), at: token.offset)
            default: break
            }
            guard isSymbol("(") else {
                if ["and", "or", "not"].contains(name) {
                    throw ConditionSyntaxError(offset: token.offset, message: "'\(name)' needs an operand before it")
                }
                throw ConditionSyntaxError(
                    offset: token.offset, message: "unknown name '\(name)'; a condition reads the measurement as 'result'" + Self.suggestion(name))
            }
            guard let arity = Self.functions[name] else {
                throw ConditionSyntaxError(
                    offset: token.offset,
                    message: "unknown function '\(name)'; available: \(Self.functions.keys.sorted().joined(separator: ", "))"
                        + Self.suggestion(name))
            }
            _ = advance()
            var arguments: [ConditionNode] = []
            if !isSymbol(")") {
                arguments.append(try parseOr())
                while isSymbol(",") {
                    _ = advance()
                    arguments.append(try parseOr())
                }
            }
            try expect(")", "to close the arguments of \(name)()")
            guard arity.contains(arguments.count) else {
                let expected = arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "at least \(arity.lowerBound)"
                throw ConditionSyntaxError(offset: token.offset, message: "\(name)() takes \(expected) argument(s), got \(arguments.count)")
            }
            return .call(name, arguments, at: token.offset)
        case .end:
            throw ConditionSyntaxError(offset: token.offset, message: "the condition ends where a value was expected")
        case .symbol(let s):
            throw ConditionSyntaxError(offset: token.offset, message: "expected a value, found '\(s)'")
        }
    }

    static func suggestion(_ name: String) -> String {
        let candidates = ["result", "true", "false", "and", "or", "not"] + functions.keys.sorted()
        if let close = Suggestion.closest(to: name, in: candidates) { return "; did you mean '\(close)'?" }
        return ""
    }
}
