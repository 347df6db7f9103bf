import Testing

@testable import SlipwayPipeline

/// One expression and the value GitHub gives it.
struct ExpressionCase: Sendable, CustomTestStringConvertible {
    var expression: String
    var expected: ExpressionValue

    init(_ expression: String, _ expected: ExpressionValue) {
        self.expression = expression
        self.expected = expected
    }

    var testDescription: String { expression }
}

private func c(_ expression: String, _ expected: ExpressionValue) -> ExpressionCase { ExpressionCase(expression, expected) }
private func c(_ expression: String, _ expected: Bool) -> ExpressionCase { ExpressionCase(expression, .bool(expected)) }
private func c(_ expression: String, _ expected: Double) -> ExpressionCase { ExpressionCase(expression, .number(expected)) }
private func c(_ expression: String, _ expected: String) -> ExpressionCase { ExpressionCase(expression, .string(expected)) }

// Semantics follow GitHub Actions documentation: expressions (literals, operators, loose equality,
// type conversion table, functions, object filters).

let literalCases: [ExpressionCase] = [
    c("null", .null),
    c("true", true),
    c("false", false),
    c("711", 711),
    c("-9.2", -9.2),
    c("0xff", 255),
    c("0xFF", 255),
    c("-2.99e-2", -0.0299),
    c("1E3", 1000),
    c("1.5e+3", 1500),
    c(".5", 0.5),
    c("+1", 1),
    c("0o17", 15),
    c("0b101", 5),
    c("Infinity", .infinity),
    c("-Infinity", -.infinity),
    c("NaN", .nan),
    c("'It''s open source!'", "It's open source!"),
    c("''", ""),
    c("''''", "'"),
    c("'日本語 ✓'", "日本語 ✓"),
    c("  'padded'  ", "padded"),
]

let equalityCases: [ExpressionCase] = [
    c("1 == 1", true),
    c("1 == 2", false),
    c("1 != 2", true),
    c("1 == 1.0", true),
    c("0 == -0", true),
    c("'' == 0", true),
    c("' ' == 0", true),
    c("null == 0", true),
    c("null == ''", true),
    c("null == false", true),
    c("null == null", true),
    c("'abc' == 'ABC'", true),
    c("'abc' != 'ABC'", false),
    c("'ÄÖÜ' == 'äöü'", true),
    c("'0x10' == 16", true),
    c("' 0xff ' == 255", true),
    c("'0o10' == 8", true),
    c("1 == '1.0'", true),
    c("' 42 ' == 42", true),
    c("'1e3' == 1000", true),
    c("'-0' == 0", true),
    c("'Infinity' == Infinity", true),
    c("'0x' == 0", false),
    c("'abc' == 0", false),
    c("'abc' != 0", true),
    c("'12abc' == 12", false),
    c("NaN == NaN", false),
    c("NaN != NaN", true),
    c("'NaN' == NaN", false),
    c("true == 1", true),
    c("false == 0", true),
    c("true == 2", false),
    c("'true' == true", false),
    c("'1' == true", true),
    c("'' == false", true),
    c("true == 'TRUE'", false),
    c("fromJSON('[]') == fromJSON('[]')", false),
    c("fromJSON('{}') == fromJSON('{}')", false),
    c("fromJSON('[]') == 0", false),
    c("fromJSON('[]') != fromJSON('[]')", true),
    c("fromJSON('[]') == fromJSON('{}')", false),
    c("github.event == github.event", true),
    c("github.event == github.EVENT", true),
    c("github.event == github['event']", true),
    c("github.event.issues == github.event.issues", true),
    c("github.event.issues[0] == github.event.issues[0]", true),
    c("github.event.issues[0] == github.event.issues[1]", false),
    c("github.event.fruits.* == github.event.fruits.*", false),
    c("matrix == github", false),
    c("github.event.number == 42", true),
    c("github.event.number == '42'", true),
    c("env.COUNT == 42", true),
]

let orderingCases: [ExpressionCase] = [
    c("1 < 2", true),
    c("2 < 1", false),
    c("1 <= 1", true),
    c("2 > 1", true),
    c("1 >= 2", false),
    c("1.002 > 1.001", true),
    c("'a' < 'b'", true),
    c("'B' > 'a'", true),
    c("'abc' < 'ABD'", true),
    c("'abc' <= 'ABC'", true),
    c("'abc' >= 'ABC'", true),
    c("'10' < '9'", true),
    c("'10' < 9", false),
    c("null < 1", true),
    c("'' < 1", true),
    c("true > false", true),
    c("false > true", false),
    c("true >= 1", true),
    c("'abc' < 1", false),
    c("'abc' >= 1", false),
    c("NaN < 1", false),
    c("NaN >= NaN", false),
    c("1 > NaN", false),
    c("fromJSON('[]') < 1", false),
    c("fromJSON('[]') >= fromJSON('[]')", false),
    c("github.event <= github.event", false),
    c("Infinity > 1e308", true),
    c("-Infinity < -1e308", true),
    c("matrix.python >= 3.10", true),
    c("matrix.python < '3.2'", true),
    c("steps.build.outputs.count > 2", true),
    c("needs.train.outputs.accuracy >= 0.9", true),
]

let logicalCases: [ExpressionCase] = [
    c("true && false", false),
    c("true && 'yes'", "yes"),
    c("'' && 'yes'", ""),
    c("0 || 'fallback'", "fallback"),
    c("'first' || 'second'", "first"),
    c("null || null", .null),
    c("false || 0", 0),
    c("1 && 2 && 3", 3),
    c("1 && 0 && 3", 0),
    c("!true", false),
    c("!0", true),
    c("!-0", true),
    c("!''", true),
    c("!'false'", false),
    c("!!'x'", true),
    c("!null", true),
    c("!NaN", true),
    c("!fromJSON('[]')", false),
    c("!fromJSON('{}')", false),
    c("true || fromJSON('not json')", true),
    c("false && fromJSON('not json')", false),
    c("github.event_name == 'push' && 'deploy' || 'skip'", "deploy"),
    c("github.event_name == 'pull_request' && 'deploy' || 'skip'", "skip"),
    c("matrix.gpu && 'cuda' || 'cpu'", "cpu"),
    c("github.event.empty && 'objects are truthy'", "objects are truthy"),
]

let precedenceCases: [ExpressionCase] = [
    c("!false == true", true),
    c("!(1 == 2)", true),
    c("1 < 2 == true", true),
    c("true || false && false", true),
    c("(true || false) && false", false),
    c("false && true || true", true),
    c("1 == 1 && 2 == 2", true),
    c("!1 < 1", true),
    c("'a' == 'A' == true", true),
    c("1 == 1 != false", true),
    c("((((1))))", 1),
    c("(github).event_name", "push"),
]

let propertyCases: [ExpressionCase] = [
    c("github.event_name", "push"),
    c("GITHUB.EVENT_NAME", "push"),
    c("github['event_name']", "push"),
    c("github['EVENT_NAME']", "push"),
    c("github.event.number", 42),
    c("github.missing", .null),
    c("github.missing.deeper", .null),
    c("github.event.nothing.deeper", .null),
    c("steps.build.outputs.version", "1.2.3"),
    c("steps.missing.outputs.version", .null),
    c("steps.build.outputs.missing", .null),
    c("steps.build-model.outputs.path", "models/m.bin"),
    c("needs.train.outputs.accuracy", "0.93"),
    c("needs.train.result == 'success'", true),
    c("github.event.issues[0].title", "Crash on start"),
    c("github.event.issues[1]['title']", "Docs typo"),
    c("github.event.issues[5]", .null),
    c("github.event.issues[-1]", .null),
    c("github.event.issues['1'].number", 2),
    c("github.event.issues[' 0x01 '].number", 2),
    c("github.event.issues[true].number", 2),
    c("github.event.issues[null].number", 1),
    c("github.event.issues[1.7].number", 2),
    c("github.event.issues['x']", .null),
    c("github.event.issues[fromJSON('[]')]", .null),
    c("github.event_name.length", .null),
    c("github.event_name[0]", .null),
    c("github[format('event{0}', '_name')]", "push"),
    c("matrix['os']", "ubuntu-latest"),
    c("env.EMPTY", ""),
    c("env.greeting", "Hello"),
    c("inputs.deploy", true),
    c("inputs.replicas", 3),
    c("secrets.TOKEN", "s3cr3t"),
    c("vars.UNSET", .null),
    c("github.event.sizes.large.cores", 16),
    c("fromJSON(steps.build.outputs.metrics).accuracy", 0.93),
]

let filterCases: [ExpressionCase] = [
    c("github.event.fruits.*.name", .array([.string("apple"), .string("orange"), .string("pear")])),
    c("github.event.fruits[*].quantity", .array([.number(1), .number(2), .number(1)])),
    c(
        "github.event.vegetables.*.ediblePortions",
        ExpressionFixtures.json(#"[["roots", "stems", "leaves"], ["leaves"], ["roots", "stems"]]"#)),
    c("github.event.vegetables.*.ediblePortions.*", ExpressionFixtures.json(#"["roots", "stems", "leaves", "leaves", "roots", "stems"]"#)),
    c("github.event.issues.*.labels.*.name", ExpressionFixtures.json(#"["bug", "ui", "docs"]"#)),
    c("github.event.issues.*.labels", ExpressionFixtures.json(#"[[{"name": "bug"}, {"name": "ui"}], [{"name": "docs"}]]"#)),
    c("github.event.issues.*.labels[0].name", ExpressionFixtures.json(#"["bug", "docs"]"#)),
    c("github.event.sizes.*.cores", .array([.number(2), .number(16)])),
    c("github.event.fruits.*.missing", .array([])),
    c("github.event.number.*", .array([])),
    c("github.event.empty.*", .array([])),
    c("github.event.fruits.*.name[0]", .array([])),
    c("contains(github.event.fruits.*.name, 'PEAR')", true),
    c("contains(github.event.fruits.*.name, 'kiwi')", false),
    c("join(github.event.fruits.*.name)", "apple,orange,pear"),
    c("join(github.event.fruits.*.quantity, '+')", "1+2+1"),
    c("toJSON(github.event.fruits.*.quantity)", "[\n  1,\n  2,\n  1\n]"),
    c("github.event.fruits.*.name[1]", .array([])),
    c("github.event.fruits.*[1]", .array([])),
]

let functionCases: [ExpressionCase] = [
    // contains
    c("contains('Hello world', 'WORLD')", true),
    c("contains('abc', '')", true),
    c("contains('abc', 'd')", false),
    c("contains(fromJSON('[1, 2, 3]'), 2)", true),
    c("contains(fromJSON('[1, 2, 3]'), '2')", true),
    c(#"contains(fromJSON('["a", "B"]'), 'b')"#, true),
    c("contains(fromJSON('[[1]]'), fromJSON('[1]'))", false),
    c("contains(github.event.issues, github.event.issues[0])", true),
    c("contains(fromJSON('[null]'), 0)", true),
    c("contains(123, 2)", true),
    c("contains(true, 'RU')", true),
    c("contains(null, '')", true),
    c("contains(github.event, 'issues')", false),
    c("contains('abc', fromJSON('[]'))", false),
    c("contains(github.ref, 'heads')", true),
    // startsWith / endsWith
    c("startsWith('Hello world', 'HELLO')", true),
    c("startsWith('Hello', 'world')", false),
    c("startsWith('', '')", true),
    c("startsWith(123, 12)", true),
    c("startsWith(fromJSON('[]'), '')", false),
    c("startsWith(github.ref, 'refs/tags/')", false),
    c("endsWith('report.PDF', '.pdf')", true),
    c("endsWith('x', 'xy')", false),
    c("endsWith(github.ref, '/MAIN')", true),
    c("endsWith(true, 'UE')", true),
    // format
    c("format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')", "Hello Mona the Octocat"),
    c("format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')", "{Hello Mona the Octocat!}"),
    c("format('{0}{0}', 'ab')", "abab"),
    c("format('{1}-{0}', 'a', 'b')", "b-a"),
    c("format('{{0}}', 'x')", "{0}"),
    c("format('{{{0}}}', 'x')", "{x}"),
    c("format('}}{{')", "}{"),
    c("format('')", ""),
    c("format('{00}', 'a')", "a"),
    c("format('plain', 'unused')", "plain"),
    c("format('{0}', null)", ""),
    c("format('{0}', true)", "true"),
    c("format('{0}', 1.0)", "1"),
    c("format('{0}', -2.0)", "-2"),
    c("format('{0}', 0.1)", "0.1"),
    c("format('{0}', -0)", "0"),
    c("format('{0}', 123456789)", "123456789"),
    c("format('{0}', 2.5e20)", "250000000000000000000"),
    c("format('{0}', 1e21)", "1e+21"),
    c("format('{0}', 1.5e300)", "1.5e+300"),
    c("format('{0}', 0.000001)", "0.000001"),
    c("format('{0}', 1e-7)", "1e-7"),
    c("format('{0}', 1.25e-8)", "1.25e-8"),
    c("format('{0}', 9007199254740993)", "9007199254740992"),
    c("format('{0}', 0x10)", "16"),
    c("format('{0}', NaN)", "NaN"),
    c("format('{0}', Infinity)", "Infinity"),
    c("format('{0}', -Infinity)", "-Infinity"),
    c("format('{0}', fromJSON('[1]'))", "[\n  1\n]"),
    c("format('{0} on {1}', matrix.python, matrix.os)", "3.11 on ubuntu-latest"),
    // join
    c(#"join(fromJSON('["a", "b"]'))"#, "a,b"),
    c(#"join(fromJSON('["a", "b"]'), ' | ')"#, "a | b"),
    c("join('single', ',')", "single"),
    c("join(fromJSON('[1, true, null, 2.5]'), '-')", "1-true--2.5"),
    c("join(fromJSON('[]'), ',')", ""),
    c("join(42)", "42"),
    c("join(null)", ""),
    c("join(fromJSON('[1, 2]'), 0)", "102"),
    // toJSON
    c("toJSON('x')", #""x""#),
    c("toJSON(null)", "null"),
    c("toJSON(1.5)", "1.5"),
    c("toJSON(true)", "true"),
    c("toJSON(fromJSON('[]'))", "[]"),
    c("toJSON(fromJSON('{}'))", "{}"),
    c(#"toJSON(fromJSON('{"b": {"c": [1, 2]}, "a": "x"}'))"#, "{\n  \"b\": {\n    \"c\": [\n      1,\n      2\n    ]\n  },\n  \"a\": \"x\"\n}"),
    c(#"toJSON(fromJSON('"tab\there \"quoted\" back\\slash"'))"#, #""tab\there \"quoted\" back\\slash""#),
    c("toJSON(matrix)", "{\n  \"os\": \"ubuntu-latest\",\n  \"python\": 3.11,\n  \"gpu\": false\n}"),
    c("toJson(1)", "1"),
    // fromJSON
    c("fromJSON('42')", 42),
    c("fromJSON('true')", true),
    c("fromJSON('null')", .null),
    c(#"fromJSON('"text"')"#, "text"),
    c("fromJSON('[1, 2]')[1]", 2),
    c(#"fromJSON('{"a": {"b": 1}}').a.b"#, 1),
    c(#"fromJSON('{"A": 1}').a"#, 1),
    c("fromJSON(' -1.5e3 ')", -1500),
    c(#"fromJSON('"\u00e9\ud83d\ude00"')"#, "é😀"),
    c(#"fromJSON('{"a": 1}') == fromJSON('{"a": 1}')"#, false),
    c("fromJSON(steps.build.outputs.count) == 3", true),
    c("fromJSON(inputs.replicas)", 3),
    c("FROMJSON('1')", 1),
    // status functions with a successful run so far
    c("success()", true),
    c("failure()", false),
    c("always()", true),
    c("cancelled()", false),
]

let allExpressionCases = literalCases + equalityCases + orderingCases + logicalCases + precedenceCases + propertyCases + filterCases + functionCases

@Suite("Expression evaluation")
struct ExpressionEvaluationTests {
    @Test("the case table covers at least 150 expressions")
    func tableSize() {
        #expect(allExpressionCases.count >= 150)
    }

    @Test("literals", arguments: literalCases)
    func literals(_ item: ExpressionCase) throws { try check(item) }

    @Test("loose equality", arguments: equalityCases)
    func equality(_ item: ExpressionCase) throws { try check(item) }

    @Test("ordering", arguments: orderingCases)
    func ordering(_ item: ExpressionCase) throws { try check(item) }

    @Test("logical operators return operands", arguments: logicalCases)
    func logical(_ item: ExpressionCase) throws { try check(item) }

    @Test("precedence", arguments: precedenceCases)
    func precedence(_ item: ExpressionCase) throws { try check(item) }

    @Test("property access", arguments: propertyCases)
    func properties(_ item: ExpressionCase) throws { try check(item) }

    @Test("object filters", arguments: filterCases)
    func filters(_ item: ExpressionCase) throws { try check(item) }

    @Test("functions", arguments: functionCases)
    func functions(_ item: ExpressionCase) throws { try check(item) }

    private func check(_ item: ExpressionCase) throws {
        let value = try ExpressionFixtures.evaluate(item.expression)
        #expect(sameValue(value, item.expected), "\(item.expression) gave \(value.jsonText), expected \(item.expected.jsonText)")
    }

    @Test("status functions read the execution status")
    func statusFunctions() throws {
        let failed = ExecutionStatus(failed: true)
        let cancelled = ExecutionStatus(cancelled: true)
        #expect(try ExpressionFixtures.evaluate("success()", status: failed) == .bool(false))
        #expect(try ExpressionFixtures.evaluate("failure()", status: failed) == .bool(true))
        #expect(try ExpressionFixtures.evaluate("always()", status: failed) == .bool(true))
        #expect(try ExpressionFixtures.evaluate("cancelled()", status: failed) == .bool(false))
        #expect(try ExpressionFixtures.evaluate("success()", status: cancelled) == .bool(false))
        #expect(try ExpressionFixtures.evaluate("cancelled()", status: cancelled) == .bool(true))
        #expect(try ExpressionFixtures.evaluate("failure()", status: cancelled) == .bool(false))
    }

    @Test("hashFiles calls the context's hasher with every pattern")
    func hashFilesDelegates() throws {
        let context = ExpressionContext(hashFiles: { patterns in "hash:" + patterns.joined(separator: "|") })
        let value = try Expression.parse("hashFiles('**/requirements.txt', format('{0}.lock', 'poetry'))").evaluate(in: context)
        #expect(value == .string("hash:**/requirements.txt|poetry.lock"))
    }

    @Test("hashFiles reports the hasher's failure and its absence")
    func hashFilesErrors() throws {
        struct Unreadable: Error, CustomStringConvertible { var description: String { "data/ is not readable" } }
        let failing = ExpressionContext(hashFiles: { _ in throw Unreadable() })
        let error = try #require(throws: ExpressionError.self) { try Expression.parse("hashFiles('data/**')").evaluate(in: failing) }
        #expect(error.message.contains("data/ is not readable"))
        #expect(error.message.contains("hashFiles('data/**')"))
        let missing = try #require(throws: ExpressionError.self) { try Expression.parse("1 && hashFiles('x')").evaluate(in: ExpressionContext()) }
        #expect(missing.message.contains("hashFiles() is not available here"))
        #expect(missing.offset == 5)
    }

    @Test("contexts are looked up case-insensitively and missing ones name those available")
    func contextLookup() throws {
        let context = ExpressionContext(contexts: ["GitHub": .object(["ref": .string("refs/heads/dev")]), "steps": .object([:])])
        #expect(try Expression.parse("github.REF").evaluate(in: context) == .string("refs/heads/dev"))
        let error = try #require(throws: ExpressionError.self) { try Expression.parse("true && matrix.os").evaluate(in: context) }
        #expect(error.offset == 8)
        #expect(error.message.contains("'matrix' is not available here"))
        #expect(error.message.contains("GitHub, steps"))
    }

    @Test("a restricted parse accepts only the allowed contexts")
    func restrictedContexts() throws {
        _ = try Expression.parse("github.ref && inputs.x", allowedContexts: ["github", "inputs"])
        let error = try #require(throws: ExpressionError.self) {
            try Expression.parse("github.ref && steps.x", allowedContexts: ["github", "inputs"])
        }
        #expect(error.offset == 14)
        #expect(error.message.contains("Unrecognized named-value: 'steps'"))
        #expect(error.message.contains("github, inputs"))
    }

    @Test("an expression knows whether it calls a status function and which contexts it reads")
    func introspection() throws {
        #expect(try Expression.parse("always() && github.ref == 'always()'").callsStatusFunction)
        #expect(try !Expression.parse("'failure()' == github.ref").callsStatusFunction)
        #expect(try Expression.parse("!Cancelled()").callsStatusFunction)
        #expect(try Expression.parse("matrix.os && steps.a.outputs.b || MATRIX.x").referencedContexts == ["matrix", "steps"])
    }
}
