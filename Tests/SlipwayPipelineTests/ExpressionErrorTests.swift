import Testing

@testable import SlipwayPipeline

/// An expression that must fail, where, and with what in its message.
struct ExpressionFailure: Sendable, CustomTestStringConvertible {
    var expression: String
    var offset: Int
    var message: String

    init(_ expression: String, at offset: Int, _ message: String) {
        self.expression = expression
        self.offset = offset
        self.message = message
    }

    var testDescription: String { expression.isEmpty ? "(empty)" : expression }
}

let syntaxFailures: [ExpressionFailure] = [
    ExpressionFailure("", at: 0, "An expression was expected"),
    ExpressionFailure("   ", at: 3, "An expression was expected"),
    ExpressionFailure("(1", at: 2, "Expected ')' to close the '(' at position 1"),
    ExpressionFailure("1)", at: 1, "Unexpected symbol: ')'"),
    ExpressionFailure("1 2", at: 2, "Unexpected symbol: '2'"),
    ExpressionFailure("'abc", at: 0, "Unclosed string"),
    ExpressionFailure("github.ref == 'main", at: 14, "Unclosed string"),
    ExpressionFailure(#""abc""#, at: 0, "single quotes"),
    ExpressionFailure("foo.bar", at: 0, "Unrecognized named-value: 'foo'"),
    ExpressionFailure("1 == nosuch", at: 5, "The contexts available here are: github, env, vars, secrets"),
    ExpressionFailure("github.event.", at: 13, "A property name or '*' must follow '.'"),
    ExpressionFailure("github..event", at: 7, "A property name or '*' must follow '.'"),
    ExpressionFailure("github[1", at: 8, "Expected ']'"),
    ExpressionFailure("github[*", at: 8, "Unexpected end of expression"),
    ExpressionFailure("nosuch(1)", at: 0, "Unrecognized function: 'nosuch'"),
    ExpressionFailure("1 && lenght('x')", at: 5, "The functions are: contains, startsWith"),
    ExpressionFailure("contains('a')", at: 0, "Wrong number of arguments to 'contains': expected 2, got 1"),
    ExpressionFailure("startsWith('a', 'b', 'c')", at: 0, "expected 2, got 3"),
    ExpressionFailure("always(1)", at: 0, "expected 0, got 1"),
    ExpressionFailure("format()", at: 0, "expected at least 1, got 0"),
    ExpressionFailure("join(1, 2, 3)", at: 0, "expected 1 or 2, got 3"),
    ExpressionFailure("toJSON(1,)", at: 9, "Unexpected symbol: ')'"),
    ExpressionFailure("toJSON(1", at: 8, "Expected ')' to close the call of 'toJSON'"),
    ExpressionFailure("1 = 1", at: 2, "compare with '=='"),
    ExpressionFailure("true & false", at: 5, "use '&&'"),
    ExpressionFailure("true | false", at: 5, "use '||'"),
    ExpressionFailure("1 ==", at: 4, "Unexpected end of expression"),
    ExpressionFailure("!", at: 1, "Unexpected end of expression"),
    ExpressionFailure("0x1g", at: 0, "Unexpected symbol '0x1g': not a number"),
    ExpressionFailure("1.2.3", at: 0, "not a number"),
    ExpressionFailure("-x", at: 0, "not a number"),
    ExpressionFailure("1 + 2", at: 2, "not a number"),
    ExpressionFailure("@", at: 0, "Unexpected symbol '@'"),
    ExpressionFailure("github.ref ? 1 : 2", at: 11, "Unexpected symbol '?'"),
    ExpressionFailure("'é́' == nosuch", at: 8, "Unrecognized named-value"),
    ExpressionFailure("(", at: 1, "Unexpected end of expression"),
]

let evaluationFailures: [ExpressionFailure] = [
    ExpressionFailure("fromJSON('nope')", at: 0, "the text is not valid JSON"),
    ExpressionFailure("fromJSON('')", at: 0, "the JSON text is empty"),
    ExpressionFailure("fromJSON('[1, 2')", at: 0, "not closed with ']'"),
    ExpressionFailure(#"fromJSON('{"a" 1}')"#, at: 0, "expected ':' after the key \"a\""),
    ExpressionFailure("fromJSON('[1] x')", at: 0, "after the JSON value"),
    ExpressionFailure("fromJSON(github.event)", at: 0, "fromJSON needs JSON text, but was given an object"),
    ExpressionFailure("1 == 1 && fromJSON('{')", at: 10, "not valid JSON"),
    ExpressionFailure("format('{0')", at: 0, "is invalid"),
    ExpressionFailure("format('{1}', 'a')", at: 0, "refers to argument {1}, but only 1 argument was given"),
    ExpressionFailure("format('{0}')", at: 0, "but 0 arguments were given"),
    ExpressionFailure("format('}')", at: 0, "a lone '}'"),
    ExpressionFailure("format('{x}', 1)", at: 0, "'{' must start an argument reference"),
    ExpressionFailure("format('{ 0}', 1)", at: 0, "'{' must start an argument reference"),
    ExpressionFailure("format('{99999999999999999999}', 1)", at: 0, "refers to argument"),
    ExpressionFailure("hashFiles('**/*.py')", at: 0, "hashFiles() is not available here"),
]

@Suite("Expression errors and hostile input")
struct ExpressionErrorTests {
    @Test("syntax errors carry the offset and say what is wrong", arguments: syntaxFailures)
    func syntaxErrors(_ failure: ExpressionFailure) throws {
        let error = try #require(throws: ExpressionError.self) { try Expression.parse(failure.expression) }
        #expect(error.offset == failure.offset, "\(error.message)")
        #expect(error.message.contains(failure.message), "\(error.message)")
        #expect(error.message.contains("Located at position \(failure.offset + 1)"), "\(error.message)")
    }

    @Test("evaluation errors point at the call that failed", arguments: evaluationFailures)
    func evaluationErrors(_ failure: ExpressionFailure) throws {
        let expression = try Expression.parse(failure.expression)
        let error = try #require(throws: ExpressionError.self) { try expression.evaluate(in: ExpressionFixtures.context()) }
        #expect(error.offset == failure.offset, "\(error.message)")
        #expect(error.message.contains(failure.message), "\(error.message)")
    }

    @Test("10,000 nested parentheses are refused, not a stack overflow")
    func deepParentheses() throws {
        let text = String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)
        let error = try #require(throws: ExpressionError.self) { try Expression.parse(text) }
        #expect(error.message.contains("maximum expression depth of 50"))
        #expect(error.offset == 50)
    }

    @Test("other deep shapes are refused: negations, calls, indexes, property chains, comparison chains")
    func otherDeepShapes() throws {
        let shapes = [
            String(repeating: "!", count: 10_000) + "true",
            String(repeating: "toJSON(", count: 5_000) + "1" + String(repeating: ")", count: 5_000),
            "github" + String(repeating: "[github", count: 5_000) + String(repeating: "]", count: 5_000),
            "github" + String(repeating: ".a", count: 10_000),
            Array(repeating: "1", count: 10_000).joined(separator: " == "),
            "github.event" + String(repeating: ".*", count: 10_000),
            String(repeating: "(", count: 100_000),
        ]
        for text in shapes {
            let error = try #require(throws: ExpressionError.self) { try Expression.parse(text) }
            #expect(error.message.contains("maximum expression depth"))
        }
    }

    @Test("nesting up to the limit works")
    func nestingAtTheLimit() throws {
        let text = String(repeating: "(", count: 49) + "1" + String(repeating: ")", count: 49)
        #expect(try Expression.parse(text).evaluate(in: ExpressionContext()) == .number(1))
        let negations = String(repeating: "!", count: 48) + "true"
        #expect(try Expression.parse(negations).evaluate(in: ExpressionContext()) == .bool(true))
    }

    @Test("long flat chains of && and || evaluate without deep recursion")
    func longFlatChains() throws {
        let ors = Array(repeating: "0", count: 10_000).joined(separator: " || ") + " || 'last'"
        #expect(try Expression.parse(ors).evaluate(in: ExpressionContext()) == .string("last"))
        let ands = Array(repeating: "1", count: 10_000).joined(separator: " && ")
        #expect(try Expression.parse(ands).evaluate(in: ExpressionContext()) == .number(1))
    }

    @Test("deeply nested JSON is refused by fromJSON")
    func deepJSON() throws {
        let text = "fromJSON('" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "')"
        let error = try #require(throws: ExpressionError.self) { try Expression.parse(text).evaluate(in: ExpressionContext()) }
        #expect(error.message.contains("nested more than 256 levels"))
        let shallow = "toJSON(fromJSON('" + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "'))"
        let value = try Expression.parse(shallow).evaluate(in: ExpressionContext())
        #expect(value.stringValue.hasPrefix("[\n  [\n    ["))
    }

    @Test("very long strings are handled")
    func longStrings() throws {
        let long = String(repeating: "ab", count: 500_000)
        let contains = try Expression.parse("contains('\(long)x', 'BX')").evaluate(in: ExpressionContext())
        #expect(contains == .bool(true))
        let equal = try Expression.parse("'\(long)' == '\(long.uppercased())'").evaluate(in: ExpressionContext())
        #expect(equal == .bool(true))
        let quoted = String(repeating: "''", count: 100_000)
        #expect(try Expression.parse("'\(quoted)'").evaluate(in: ExpressionContext()) == .string(String(repeating: "'", count: 100_000)))
        let rendered = try Template.render("x${{ format('{0}{0}', '\(long)') }}y", in: ExpressionContext())
        #expect(rendered.utf8.count == 2_000_002)
    }

    @Test("large documents and templates stay fast enough to evaluate")
    func largeInputs() throws {
        let keys = (0..<50_000).map { #""key\#($0)": \#($0)"# }.joined(separator: ", ")
        let value = try Expression.parse("fromJSON('{\(keys)}').KEY49999").evaluate(in: ExpressionContext())
        #expect(value == .number(49_999))
        let template = String(repeating: "${{ matrix.os }},", count: 10_000)
        let rendered = try Template.render(template, in: ExpressionFixtures.context())
        #expect(rendered.split(separator: ",").count == 10_000)
        #expect(rendered.hasPrefix("ubuntu-latest,ubuntu-latest,"))
    }

    @Test("unicode text compares case-insensitively and offsets count Unicode scalars")
    func unicode() throws {
        let context = ExpressionContext()
        #expect(try Expression.parse("'ÉCOLE' == 'école'").evaluate(in: context) == .bool(true))
        #expect(try Expression.parse("contains('Ünïcödé text', 'ÏCÖ')").evaluate(in: context) == .bool(true))
        #expect(try Expression.parse("startsWith('🚀 launch', '🚀')").evaluate(in: context) == .bool(true))
        #expect(try Expression.parse("'日本' < '本'").evaluate(in: context) == .bool(true))
        #expect(try Expression.parse("'Straße' == 'STRASSE'").evaluate(in: context) == .bool(false))
        let error = try #require(throws: ExpressionError.self) { try Expression.parse("'👩‍👩‍👧' == @") }
        // 👩‍👩‍👧 is five scalars: quote + 5 + quote + space + == + space puts @ at scalar 11.
        #expect(error.offset == 11)
        #expect(try Expression.parse("'\u{0}\u{7F}\u{FFFF}' != ''").evaluate(in: context) == .bool(true))
    }

    @Test("garbage input gives an error, never a crash")
    func garbage() {
        let inputs = [
            "}}", "${{", "[", "]", ".", "*", "github.*.*.[", "'''", "\u{0}", "0x", "0o9", "1e", "1e+", "--1", "++1", "..5", "github[]", "format(,)",
        ]
        for input in inputs {
            #expect(throws: ExpressionError.self, "\(input)") { try Expression.parse(input).evaluate(in: ExpressionFixtures.context()) }
        }
    }
}
