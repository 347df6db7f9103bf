/// Parses MLflow's search filter language into a ``SearchFilter`` and `order_by` terms into ``SearchOrder``s.
///
/// The filter language is a conjunction of comparisons:
///
/// ```
/// name LIKE 'iris%' AND tags.team = 'nlp' AND metrics.accuracy >= 0.9 AND version_number IN (1, 2)
/// ```
///
/// - Keys: the attributes of ``SearchAttribute`` (bare, or prefixed with `attributes.`, `attribute.` or `attr.`;
///   `version` and `timestamp` are accepted as aliases of `version_number` and `creation_timestamp`),
///   `tags.<key>` / `tag.<key>`, `metrics.<key>` / `metric.<key>` and `params.<key>` / `param.<key>`.
///   The key part may be quoted with backticks or double quotes: ``tags.`my key` ``, `params."lr.max"`.
/// - Operators: `=`, `!=` (also `<>`), `<`, `<=`, `>`, `>=`, `LIKE`, `ILIKE`, `IN`, `NOT IN`.
///   Keywords, prefixes and attribute names are case-insensitive; `OR` is not supported.
/// - Values: strings in single or double quotes, numbers (`3`, `-0.5`, `1e-3`) and, after `IN` / `NOT IN`,
///   a non-empty parenthesised list of strings or numbers.
///
/// Inside quotes, a doubled quote stands for itself (`'it''s'`) and backslash escapes are
/// `\\`, `\'`, `\"`, `` \` ``, `\n`, `\r` and `\t`. `\%` and `\_` keep their backslash so that a
/// `LIKE` pattern can match a literal `%` or `_`. Raw control characters are rejected everywhere
/// except for tabs and line breaks between tokens.
///
/// Each key kind accepts certain operators and values:
///
/// | Key | Operators | Value |
/// |---|---|---|
/// | `metrics.<key>` | `=` `!=` `<` `<=` `>` `>=` | a number |
/// | `tags.<key>`, `params.<key>`, text attributes | `=` `!=` `LIKE` `ILIKE` `IN` `NOT IN` | a string |
/// | `version_number`, `creation_timestamp`, `last_updated_timestamp` | `=` `!=` `<` `<=` `>` `>=` `IN` `NOT IN` | a number, or a string holding one |
///
/// A filter may be at most ``maximumLength`` characters long and hold at most ``maximumClauses`` clauses.
public enum SearchFilterParser {
    /// The longest filter or order term accepted, in characters.
    public static let maximumLength = 10_000
    /// The most clauses a filter may join with `AND`.
    public static let maximumClauses = 100
    /// The most terms an `order_by` list may hold.
    public static let maximumOrderTerms = 100

    /// Parses a filter string.
    ///
    /// - Parameter text: The filter, such as `name = 'iris' AND metrics.accuracy > 0.9`.
    ///   An empty or all-whitespace string is the empty filter, which matches everything.
    /// - Returns: The filter's clauses in the order written.
    /// - Throws: ``SearchFilterError`` naming the first problem and its column.
    ///
    /// ```swift
    /// let filter = try SearchFilterParser.parse("tags.team = 'nlp' AND version_number >= 3")
    /// // filter.clauses[1] == SearchClause(key: .attribute(.version), op: .greaterOrEqual, value: .number(3))
    /// ```
    public static func parse(_ text: String) throws(SearchFilterError) -> SearchFilter {
        var scanner = try FilterScanner(text, context: nil)
        scanner.skipWhitespace()
        if scanner.atEnd { return SearchFilter() }
        var clauses: [SearchClause] = []
        while true {
            scanner.skipWhitespace()
            if clauses.count == maximumClauses {
                throw scanner.error(
                    "too many clauses",
                    "a filter may join at most \(maximumClauses) clauses with AND",
                    at: scanner.position
                )
            }
            clauses.append(try scanner.clause())
            scanner.skipWhitespace()
            if scanner.atEnd { break }
            try scanner.conjunction()
        }
        return SearchFilter(clauses: clauses)
    }

    /// Parses `order_by` terms.
    ///
    /// - Parameter terms: Terms such as `name`, `version_number DESC`, `metrics.accuracy DESC` or
    ///   `tags.team`. The direction (`ASC` or `DESC`, case-insensitive) defaults to ascending. Besides the
    ///   attribute names, `timestamp` stands for `creation_timestamp` and `version` for `version_number`.
    /// - Returns: One ``SearchOrder`` per term, in the order given.
    /// - Throws: ``SearchFilterError`` whose message names the term (counted from 1) and whose column
    ///   is within that term.
    public static func parseOrder(_ terms: [String]) throws(SearchFilterError) -> [SearchOrder] {
        if terms.count > maximumOrderTerms {
            throw SearchFilterError(
                message: "too many order terms (\(terms.count)): at most \(maximumOrderTerms) are allowed",
                column: 1
            )
        }
        var orders: [SearchOrder] = []
        orders.reserveCapacity(terms.count)
        for (index, term) in terms.enumerated() {
            var scanner = try FilterScanner(term, context: "order term \(index + 1)")
            orders.append(try scanner.orderTerm())
        }
        return orders
    }
}

/// A problem found while parsing a search filter or an order term.
///
/// The ``message`` says what was wrong, where, and what is accepted there, for example
/// `unexpected token 'AN' at column 17: expected AND`.
public struct SearchFilterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A sentence naming the problem, its column and what would be accepted instead.
    public var message: String
    /// The 1-based position, in characters, of the problem; one past the last character when the input ended too soon.
    public var column: Int

    public init(message: String, column: Int) {
        self.message = message
        self.column = column
    }

    public var description: String { message }
}

// MARK: - Scanner

/// A cursor over the Unicode scalars of one filter or order term.
private struct FilterScanner {
    /// How a key's values are typed and compared.
    private enum KeyKind {
        case metric
        case text
        case numericAttribute
    }

    /// A value as written, before it is checked against its key.
    private enum RawValue {
        case string(String)
        case number(lexeme: String, value: Double)
    }

    private let text: String
    private let scalars: [Unicode.Scalar]
    /// Names the input in messages when it is not the whole filter ("order term 2").
    private let context: String?
    private(set) var position = 0

    init(_ text: String, context: String?) throws(SearchFilterError) {
        self.text = text
        self.context = context
        var characters = 0
        for _ in text {
            characters += 1
            if characters > SearchFilterParser.maximumLength {
                let prefix = context.map { "\($0): " } ?? ""
                let what = context == nil ? "filter" : "term"
                throw SearchFilterError(
                    message: "\(prefix)\(what) too long at column \(characters): "
                        + "at most \(SearchFilterParser.maximumLength) characters are allowed",
                    column: characters
                )
            }
        }
        scalars = Array(text.unicodeScalars)
        if let offset = scalars.firstIndex(where: { Self.isControl($0) && !Self.isWhitespace($0) }) {
            throw error(
                "control character \(Self.codePoint(scalars[offset]))",
                "remove it; only spaces, tabs and line breaks may separate tokens",
                at: offset
            )
        }
    }

    var atEnd: Bool { position >= scalars.count }

    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private func peek(_ distance: Int) -> Unicode.Scalar? {
        let index = position + distance
        return index < scalars.count ? scalars[index] : nil
    }

    mutating func skipWhitespace() {
        while let scalar = current, Self.isWhitespace(scalar) { position += 1 }
    }

    // MARK: Grammar

    /// `key operator value`
    mutating func clause() throws(SearchFilterError) -> SearchClause {
        let (key, display) = try key()
        skipWhitespace()
        let operatorStart = position
        let op = try comparisonOperator()
        let kind = Self.kind(of: key)
        guard Self.operators(for: kind).contains(op) else {
            throw error(
                "operator \(op.rawValue) is not supported for \(display)",
                "use one of " + Self.operators(for: kind).map(\.rawValue).joined(separator: ", "),
                at: operatorStart
            )
        }
        skipWhitespace()
        if op == .in || op == .notIn {
            return SearchClause(key: key, op: op, value: try list(for: kind, display: display))
        }
        let valueStart = position
        if current == "(" {
            throw error("unexpected list", "a parenthesised list may only follow IN or NOT IN", at: valueStart)
        }
        let raw = try value()
        return SearchClause(key: key, op: op, value: try typed(raw, kind: kind, display: display, at: valueStart))
    }

    /// `key [ASC | DESC]`, filling the whole input.
    mutating func orderTerm() throws(SearchFilterError) -> SearchOrder {
        skipWhitespace()
        if atEnd {
            throw error("empty order term", "expected a key such as name, version_number DESC or metrics.accuracy DESC", at: position)
        }
        let (key, _) = try key()
        skipWhitespace()
        var ascending = true
        if !atEnd {
            let start = position
            switch readWord()?.uppercased() {
            case "ASC": ascending = true
            case "DESC": ascending = false
            default: throw unexpected(at: start, expected: "expected ASC, DESC or the end of the term")
            }
            skipWhitespace()
            if !atEnd {
                throw unexpected(at: position, expected: "expected the end of the term after the direction")
            }
        }
        return SearchOrder(key: key, ascending: ascending)
    }

    /// Consumes `AND` between clauses.
    mutating func conjunction() throws(SearchFilterError) {
        let start = position
        switch readWord()?.uppercased() {
        case "AND":
            skipWhitespace()
            if atEnd {
                throw error("unexpected end of filter after AND", "expected another clause such as name = 'iris'", at: position)
            }
        case "OR":
            throw error("OR is not supported", "clauses can only be joined with AND", at: start)
        default:
            throw unexpected(at: start, expected: "expected AND")
        }
    }

    // MARK: Keys

    /// Reads a key, returning it with its spelling for messages.
    private mutating func key() throws(SearchFilterError) -> (SearchKey, String) {
        let start = position
        guard let scalar = current, Self.isWordScalar(scalar) else {
            throw unexpected(
                at: start,
                expected: "expected a key such as name, version_number, tags.<key>, metrics.<key> or params.<key>"
            )
        }
        while let scalar = current, Self.isWordScalar(scalar) { position += 1 }
        let head = string(from: start, to: position)
        guard current == "." else {
            return (.attribute(try attribute(named: head, at: start)), Self.shortened(head))
        }
        position += 1
        let nameStart = position
        let name: String
        switch current {
        case "`", "\"":
            name = try quoted()
        case let scalar? where Self.isWordScalar(scalar) || scalar == ".":
            while let scalar = current, Self.isWordScalar(scalar) || scalar == "." { position += 1 }
            name = string(from: nameStart, to: position)
        default:
            throw unexpected(at: nameStart, expected: "expected a key name after '\(head).', bare or quoted with ` or \"")
        }
        if name.isEmpty {
            throw error("empty key name after '\(head).'", "expected a non-empty name", at: nameStart)
        }
        let display = "\(Self.shortened(head)).\(Self.shortened(name))"
        switch head.lowercased() {
        case "attributes", "attribute", "attr": return (.attribute(try attribute(named: name, at: nameStart)), display)
        case "tags", "tag": return (.tag(name), display)
        case "metrics", "metric": return (.metric(name), display)
        case "params", "param": return (.param(name), display)
        default:
            throw error(
                "unknown key prefix '\(Self.shortened(head))'",
                "expected attributes., tags., metrics. or params. (or attribute., attr., tag., metric., param.)",
                at: start
            )
        }
    }

    private func attribute(named name: String, at offset: Int) throws(SearchFilterError) -> SearchAttribute {
        let lowered = name.lowercased()
        switch lowered {
        case "version": return .version
        case "timestamp": return .creationTimestamp
        default:
            if let attribute = SearchAttribute(rawValue: lowered) { return attribute }
            throw error(
                "unknown attribute '\(Self.shortened(name))'",
                "expected one of " + SearchAttribute.allCases.map(\.rawValue).joined(separator: ", ")
                    + ", or a prefixed key such as tags.<key>, metrics.<key> or params.<key>",
                at: offset
            )
        }
    }

    // MARK: Operators

    private mutating func comparisonOperator() throws(SearchFilterError) -> SearchOperator {
        let start = position
        let expected = "expected an operator: =, !=, <>, <, <=, >, >=, LIKE, ILIKE, IN or NOT IN"
        switch current {
        case "=":
            if peek(1) == "=" {
                throw error("unexpected token '=='", "use = to test equality", at: start)
            }
            position += 1
            return .equal
        case "!":
            guard peek(1) == "=" else { throw unexpected(at: start, expected: expected) }
            position += 2
            return .notEqual
        case "<":
            let op: SearchOperator =
                switch peek(1) {
                case "=": .lessOrEqual
                case ">": .notEqual
                default: .less
                }
            position += op == .less ? 1 : 2
            return op
        case ">":
            let op: SearchOperator = peek(1) == "=" ? .greaterOrEqual : .greater
            position += op == .greater ? 1 : 2
            return op
        default:
            break
        }
        switch readWord()?.uppercased() {
        case "LIKE": return .like
        case "ILIKE": return .ilike
        case "IN": return .in
        case "NOT":
            skipWhitespace()
            let inStart = position
            guard readWord()?.uppercased() == "IN" else {
                throw unexpected(at: inStart, expected: "expected IN after NOT; NOT IN is the only negated operator")
            }
            return .notIn
        default:
            position = start
            throw unexpected(at: start, expected: expected)
        }
    }

    // MARK: Values

    /// Reads a string or a number.
    private mutating func value() throws(SearchFilterError) -> RawValue {
        let start = position
        switch current {
        case "'", "\"":
            return .string(try quoted())
        case let scalar? where Self.startsNumber(scalar, next: peek(1), afterNext: peek(2)):
            return try number()
        default:
            throw unexpected(at: start, expected: "expected a value: a quoted string such as 'iris' or a number such as 0.9")
        }
    }

    private mutating func number() throws(SearchFilterError) -> RawValue {
        let start = position
        let end = Self.numberEnd(in: scalars, from: start) ?? start
        position = end
        if let scalar = current, Self.isWordScalar(scalar) || scalar == "." {
            var stop = end
            while stop < scalars.count, Self.isWordScalar(scalars[stop]) || scalars[stop] == "." { stop += 1 }
            throw error(
                "malformed number '\(Self.shortened(string(from: start, to: stop)))'",
                "expected a number such as 3, -0.5 or 1e-3",
                at: start
            )
        }
        let lexeme = string(from: start, to: end)
        guard let value = Double(lexeme), value.isFinite else {
            throw error("number '\(Self.shortened(lexeme))' is out of range", "expected a finite number", at: start)
        }
        return .number(lexeme: lexeme, value: value)
    }

    /// `( item, item, ... )` after IN or NOT IN.
    private mutating func list(for kind: KeyKind, display: String) throws(SearchFilterError) -> SearchValue {
        guard current == "(" else {
            throw unexpected(at: position, expected: "expected '(' starting a list such as ('a', 'b') after IN")
        }
        let open = position
        position += 1
        skipWhitespace()
        if current == ")" {
            throw error("empty list", "IN and NOT IN need at least one value, such as ('a')", at: open)
        }
        var items: [String] = []
        while true {
            skipWhitespace()
            let itemStart = position
            if atEnd {
                throw error("unterminated list starting", "add a closing ')'", at: open)
            }
            let raw = try value()
            items.append(try listItem(raw, kind: kind, display: display, at: itemStart))
            skipWhitespace()
            switch current {
            case ",":
                position += 1
            case ")":
                position += 1
                return .list(items)
            case nil:
                throw error("unterminated list starting", "add a closing ')'", at: open)
            default:
                throw unexpected(at: position, expected: "expected ',' or ')' in the list")
            }
        }
    }

    // MARK: Typing

    private static func kind(of key: SearchKey) -> KeyKind {
        switch key {
        case .metric: .metric
        case .tag, .param: .text
        case .attribute(.version), .attribute(.creationTimestamp), .attribute(.lastUpdatedTimestamp): .numericAttribute
        case .attribute: .text
        }
    }

    private static func operators(for kind: KeyKind) -> [SearchOperator] {
        switch kind {
        case .metric: [.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual]
        case .text: [.equal, .notEqual, .like, .ilike, .in, .notIn]
        case .numericAttribute: [.equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .in, .notIn]
        }
    }

    private func typed(_ raw: RawValue, kind: KeyKind, display: String, at offset: Int) throws(SearchFilterError) -> SearchValue {
        switch (kind, raw) {
        case (.metric, .number(_, let value)), (.numericAttribute, .number(_, let value)):
            return .number(value)
        case (.metric, .string):
            throw error("\(display) compares numbers but the value is a string", "expected an unquoted number such as 0.9", at: offset)
        case (.numericAttribute, .string(let string)):
            return .number(try numeric(string, display: display, at: offset))
        case (.text, .string(let string)):
            return .string(string)
        case (.text, .number(let lexeme, _)):
            throw error(
                "\(display) compares strings but the value is the number \(Self.shortened(lexeme))",
                "expected a quoted string such as '\(Self.shortened(lexeme))'",
                at: offset
            )
        }
    }

    private func listItem(_ raw: RawValue, kind: KeyKind, display: String, at offset: Int) throws(SearchFilterError) -> String {
        switch (kind, raw) {
        case (.text, .string(let string)): return string
        case (.text, .number(let lexeme, _)): return lexeme
        case (_, .number(_, let value)): return Self.render(value)
        case (_, .string(let string)): return Self.render(try numeric(string, display: display, at: offset))
        }
    }

    /// Converts a quoted number such as `'3'` for a numeric attribute.
    private func numeric(_ string: String, display: String, at offset: Int) throws(SearchFilterError) -> Double {
        let digits = Array(string.unicodeScalars)
        if let first = digits.first, Self.startsNumber(first, next: digits.dropFirst().first, afterNext: digits.dropFirst(2).first),
            Self.numberEnd(in: digits, from: 0) == digits.count, let value = Double(string), value.isFinite
        {
            return value
        }
        throw error(
            "\(display) compares numbers but '\(Self.shortened(string))' is not a number",
            "expected a number such as 3 or '3'",
            at: offset
        )
    }

    /// Renders a number for a list: integers without a fraction, others in Swift's shortest form.
    private static func render(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return String(value)
    }

    // MARK: Lexing

    /// Reads a quoted string or name starting at the current quote, consuming the closing quote.
    private mutating func quoted() throws(SearchFilterError) -> String {
        let open = position
        guard let quote = current else { return "" }
        position += 1
        var result = String.UnicodeScalarView()
        while true {
            guard let scalar = current else {
                throw error("unterminated string starting", "add a closing \(quote)", at: open)
            }
            switch scalar {
            case quote:
                if peek(1) == quote {
                    result.append(quote)
                    position += 2
                } else {
                    position += 1
                    return String(result)
                }
            case "\\":
                guard let escaped = peek(1) else {
                    throw error("unterminated string starting", "add a closing \(quote)", at: open)
                }
                switch escaped {
                case "\\", "'", "\"", "`": result.append(escaped)
                case "n": result.append("\n")
                case "r": result.append("\r")
                case "t": result.append("\t")
                case "%", "_":
                    result.append("\\")
                    result.append(escaped)
                default:
                    throw error(
                        "unknown escape '\\\(Self.printable(escaped))'",
                        "expected one of \\\\ \\' \\\" \\` \\n \\r \\t \\% \\_",
                        at: position
                    )
                }
                position += 2
            default:
                if Self.isControl(scalar) {
                    throw error(
                        "control character \(Self.codePoint(scalar)) inside quotes",
                        "write it as an escape such as \\n or \\t",
                        at: position
                    )
                }
                result.append(scalar)
                position += 1
            }
        }
    }

    /// Reads a run of ASCII letters that ends at a word boundary; restores the position and returns nil otherwise.
    private mutating func readWord() -> String? {
        let start = position
        while let scalar = current, scalar.isASCII, scalar.properties.isAlphabetic { position += 1 }
        if position == start { return nil }
        if let scalar = current, Self.isWordScalar(scalar) || scalar == "." {
            position = start
            return nil
        }
        return string(from: start, to: position)
    }

    /// The end of the number at `start`: `[+-]digits[.digits][e[+-]digits]` or `[+-].digits[...]`.
    private static func numberEnd(in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start
        func digits() -> Int {
            let from = index
            while index < scalars.count, scalars[index].isASCIIDigit { index += 1 }
            return index - from
        }
        if index < scalars.count, scalars[index] == "-" || scalars[index] == "+" { index += 1 }
        var mantissa = digits()
        if index < scalars.count, scalars[index] == "." {
            index += 1
            mantissa += digits()
        }
        if mantissa == 0 { return nil }
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            let beforeExponent = index
            index += 1
            if index < scalars.count, scalars[index] == "-" || scalars[index] == "+" { index += 1 }
            if digits() == 0 { index = beforeExponent }
        }
        return index
    }

    private static func startsNumber(_ scalar: Unicode.Scalar, next: Unicode.Scalar?, afterNext: Unicode.Scalar?) -> Bool {
        func digitOrPoint(_ first: Unicode.Scalar?, _ second: Unicode.Scalar?) -> Bool {
            guard let first else { return false }
            return first.isASCIIDigit || (first == "." && second?.isASCIIDigit == true)
        }
        if scalar == "-" || scalar == "+" { return digitOrPoint(next, afterNext) }
        return digitOrPoint(scalar, next)
    }

    // MARK: Character classes

    /// Letters, digits, marks, `_`, `-` and `/`: what a bare key is made of (with `.` after its prefix).
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            return scalar.properties.isAlphabetic || scalar.isASCIIDigit || scalar == "_" || scalar == "-" || scalar == "/"
        }
        if scalar.properties.isAlphabetic { return true }
        switch scalar.properties.generalCategory {
        case .decimalNumber, .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    private static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r"
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    // MARK: Errors

    private func string(from start: Int, to end: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<end])
        return String(view)
    }

    /// The 1-based character column of a scalar offset.
    private func column(of offset: Int) -> Int {
        let view = text.unicodeScalars
        guard let index = view.index(view.startIndex, offsetBy: offset, limitedBy: view.endIndex) else {
            return text.count + 1
        }
        return text.distance(from: text.startIndex, to: index) + 1
    }

    /// An error reading `<problem> at column <n>: <hint>`, prefixed with the context if any.
    func error(_ problem: String, _ hint: String, at offset: Int) -> SearchFilterError {
        let column = column(of: offset)
        let prefix = context.map { "\($0): " } ?? ""
        return SearchFilterError(message: "\(prefix)\(problem) at column \(column): \(hint)", column: column)
    }

    /// An error naming what was found at `offset`.
    private func unexpected(at offset: Int, expected: String) -> SearchFilterError {
        error("unexpected " + describe(at: offset), expected, at: offset)
    }

    /// Describes the token at `offset` for a message: `end of filter`, `token 'AN'`, `string "x"`.
    private func describe(at offset: Int) -> String {
        guard offset < scalars.count else { return "end of " + (context == nil ? "filter" : "term") }
        let first = scalars[offset]
        var end = offset + 1
        if first == "'" || first == "\"" || first == "`" {
            return "quoted text starting with \(first)"
        } else if Self.isWordScalar(first) || first == "." {
            while end < scalars.count, Self.isWordScalar(scalars[end]) || scalars[end] == "." { end += 1 }
        } else if "=!<>".unicodeScalars.contains(first) {
            while end < scalars.count, "=!<>".unicodeScalars.contains(scalars[end]) { end += 1 }
        }
        if Self.isControl(first) { return "character \(Self.codePoint(first))" }
        return "token '\(Self.shortened(string(from: offset, to: end)))'"
    }

    private static func shortened(_ string: String) -> String {
        let limit = 40
        var count = 0
        var index = string.startIndex
        while index < string.endIndex {
            if count == limit { return String(string[..<index]) + "…" }
            count += 1
            index = string.index(after: index)
        }
        return string
    }

    private static func printable(_ scalar: Unicode.Scalar) -> String {
        isControl(scalar) ? codePoint(scalar) : String(scalar)
    }

    private static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
