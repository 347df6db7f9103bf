import Testing

@testable import SlipwayPipeline

@Suite("Expression templates and conditions")
struct ExpressionTemplateTests {
    let context = ExpressionFixtures.context()

    @Test("render replaces every expression and converts values GitHub's way")
    func render() throws {
        #expect(try Template.render("echo ${{ env.GREETING }}, ${{ matrix.os }}!", in: context) == "echo Hello, ubuntu-latest!")
        #expect(try Template.render("n=${{ 3.0 }} x=${{ null }} b=${{ true }} f=${{ 0.5 }}", in: context) == "n=3 x= b=true f=0.5")
        #expect(try Template.render("${{ matrix.python }}-${{ inputs.replicas }}", in: context) == "3.11-3")
        #expect(try Template.render("${{ github.event.fruits[0] }}", in: context) == "{\n  \"name\": \"apple\",\n  \"quantity\": 1\n}")
        #expect(try Template.render("no expressions here", in: context) == "no expressions here")
        #expect(try Template.render("", in: context) == "")
        #expect(try Template.render("$${{ 1 }}${ {2}} {{3}}", in: context) == "$1${ {2}} {{3}}")
        #expect(try Template.render("${{1}}${{2}}", in: context) == "12")
        #expect(try Template.render("a\n${{ 'b' }}\nc", in: context) == "a\nb\nc")
    }

    @Test("quotes inside an expression may hold }} and doubled quotes")
    func quotesInsideExpressions() throws {
        #expect(try Template.render("${{ '}}' }}", in: context) == "}}")
        #expect(try Template.render("[${{ 'it''s }} here' }}]", in: context) == "[it's }} here]")
        #expect(try Template.render("${{ format('{{0}} {0}', '${{') }}", in: context) == "{0} ${{")
        #expect(try Template.render("${{ '''' }}${{ '' }}|", in: context) == "'|")
    }

    @Test("expressions(in:) lists each expression with the offset of its ${{")
    func listing() throws {
        let found = try Template.expressions(in: "é ${{ github.ref }} and ${{ '}}' }} end")
        #expect(found.map(\.offset) == [2, 24])
        #expect(found.map(\.expression.source) == [" github.ref ", " '}}' "])
        #expect(try Template.expressions(in: "plain text").isEmpty)
    }

    @Test("an unclosed expression or string is an error at its ${{")
    func unclosed() throws {
        let open = try #require(throws: ExpressionError.self) { try Template.expressions(in: "run ${{ github.ref") }
        #expect(open.offset == 4)
        #expect(open.message.contains("not closed with '}}'"))
        let string = try #require(throws: ExpressionError.self) { try Template.render("a ${{ 'b }}", in: context) }
        #expect(string.offset == 2)
        #expect(string.message.contains("a string inside it"))
        let second = try #require(throws: ExpressionError.self) { try Template.render("${{ 1 }} ${{ 2 ", in: context) }
        #expect(second.offset == 9)
    }

    @Test("errors inside a template carry offsets into the template")
    func offsetsInTemplates() throws {
        let parse = try #require(throws: ExpressionError.self) { try Template.expressions(in: "echo ${{ nosuch }}") }
        #expect(parse.offset == 9)
        let evaluation = try #require(throws: ExpressionError.self) { try Template.render("x ${{ fromJSON('{') }}", in: context) }
        #expect(evaluation.offset == 6)
        let condition = try #require(throws: ExpressionError.self) { try Template.condition("  ${{ 1 == }}", in: context) }
        #expect(condition.offset == 11)
        let bare = try #require(throws: ExpressionError.self) { try Template.condition("github.ref == )", in: context) }
        #expect(bare.offset == 14)
    }

    @Test("value(of:) keeps the type of a whole expression and renders anything else")
    func values() throws {
        #expect(try Template.value(of: "${{ matrix.python }}", in: context) == .number(3.11))
        #expect(try Template.value(of: "${{ inputs.deploy }}", in: context) == .bool(true))
        #expect(try Template.value(of: "${{ null }}", in: context) == .null)
        #expect(try Template.value(of: "${{ github.event.fruits.*.quantity }}", in: context) == .array([.number(1), .number(2), .number(1)]))
        #expect(try Template.value(of: "${{ fromJSON('{\"a\": 1}') }}", in: context) == .object(["a": .number(1)]))
        #expect(try Template.value(of: "v${{ matrix.python }}", in: context) == .string("v3.11"))
        #expect(try Template.value(of: " ${{ 1 }}", in: context) == .string(" 1"))
        #expect(try Template.value(of: "${{ 1 }}${{ 2 }}", in: context) == .string("12"))
        #expect(try Template.value(of: "plain", in: context) == .string("plain"))
    }

    @Test("conditions: empty means success(), bare and wrapped expressions, implicit success()")
    func conditions() throws {
        let ok = ExpressionFixtures.context()
        let failed = ExpressionFixtures.context(status: ExecutionStatus(failed: true))
        let cancelled = ExpressionFixtures.context(status: ExecutionStatus(cancelled: true))

        #expect(try Template.condition(nil, in: ok))
        #expect(try Template.condition("", in: ok))
        #expect(try Template.condition("  \n", in: ok))
        #expect(try !Template.condition(nil, in: failed))
        #expect(try !Template.condition("", in: cancelled))

        #expect(try Template.condition("github.event_name == 'push'", in: ok))
        #expect(try Template.condition("${{ github.event_name == 'push' }}", in: ok))
        #expect(try Template.condition("${{ github.event_name == 'PUSH' }}", in: ok))
        #expect(try Template.condition("\n  github.event_name == 'push'\n", in: ok))
        #expect(try !Template.condition("github.event_name == 'pull_request'", in: ok))
        #expect(try !Template.condition("0", in: ok))
        #expect(try !Template.condition("''", in: ok))
        #expect(try Template.condition("'false'", in: ok))
        #expect(try Template.condition("inputs.deploy", in: ok))
        #expect(try !Template.condition("matrix.gpu", in: ok))
        #expect(try Template.condition("fromJSON('[]')", in: ok))

        // Implicit success(): a failed or cancelled dependency skips, unless a status function is called.
        #expect(try !Template.condition("true", in: failed))
        #expect(try !Template.condition("${{ github.event_name == 'push' }}", in: failed))
        #expect(try Template.condition("always()", in: failed))
        #expect(try Template.condition("failure()", in: failed))
        #expect(try Template.condition("${{ failure() && github.ref == 'refs/heads/main' }}", in: failed))
        #expect(try Template.condition("!cancelled()", in: failed))
        #expect(try Template.condition("success() || failure()", in: failed))
        #expect(try !Template.condition("success()", in: failed))
        #expect(try !Template.condition("failure()", in: ok))
        #expect(try Template.condition("always()", in: cancelled))
        #expect(try Template.condition("cancelled()", in: cancelled))
        #expect(try !Template.condition("success() || failure()", in: cancelled))
        #expect(try !Template.condition("true", in: cancelled))
        // A status function inside a string does not count.
        #expect(try !Template.condition("github.ref != 'always()'", in: failed))
        // The implicit success() short-circuits: the rest is not evaluated after a failure.
        #expect(try !Template.condition("fromJSON('not json')", in: failed))
    }

    @Test("a condition with text around ${{ }} is a string, true when not empty")
    func mixedConditions() throws {
        let ok = ExpressionFixtures.context()
        let failed = ExpressionFixtures.context(status: ExecutionStatus(failed: true))
        #expect(try Template.condition("${{ false }} && true", in: ok))
        // Any text around the expression makes a string, even whitespace (a YAML `|` block's line break).
        #expect(try !Template.condition("${{ false }}", in: ok))
        #expect(try Template.condition("${{ false }}\n", in: ok))
        #expect(try Template.condition(" ${{ false }}", in: ok))
        #expect(try Template.condition("  ${{ github.event_name == 'pull_request' }}  ", in: ok))
        #expect(try Template.condition("${{ false }} ${{ false }}", in: ok))
        #expect(try !Template.condition("${{ false }} && true", in: failed))
        #expect(try Template.condition("${{ always() }} and more", in: failed))
        #expect(try !Template.condition("${{ '' }}${{ null }}", in: ok))
    }

    @Test("a condition that does not parse is an error")
    func badConditions() {
        #expect(throws: ExpressionError.self) { try Template.condition("github.ref ==", in: ExpressionFixtures.context()) }
        #expect(throws: ExpressionError.self) { try Template.condition("${{ nosuch }}", in: ExpressionFixtures.context()) }
        #expect(throws: ExpressionError.self) { try Template.condition("${{ true", in: ExpressionFixtures.context()) }
    }
}
