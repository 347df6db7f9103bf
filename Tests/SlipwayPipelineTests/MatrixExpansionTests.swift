import Testing

@testable import SlipwayPipeline

/// The legs of the matrix of job `job` in a small workflow whose `strategy.matrix` is `matrix`
/// (YAML indented by eight spaces).
func matrixLegs(_ matrix: String, context: ExpressionContext = ExpressionContext()) throws -> [ExpressionObject] {
    let source = """
        on: push
        jobs:
          job:
            runs-on: linux
            strategy:
              matrix:
        \(matrix)
            steps:
              - run: echo
        """
    let workflow = try parseWorkflow(source)
    let spec = try #require(workflow.job("job")?.strategy?.matrix)
    return try MatrixExpansion.legs(of: spec, in: context)
}

@Suite("Matrix expansion")
struct MatrixExpansionTests {
    @Test("the cartesian product comes in GitHub's documented order, the first dimension varying slowest")
    func productOrder() throws {
        // GitHub's example: version [10, 12, 14] × os [ubuntu-latest, windows-latest].
        let legs = try matrixLegs("        version: [10, 12, 14]\n        os: [ubuntu-latest, windows-latest]")
        let expected: [ExpressionObject] = [
            ["version": .number(10), "os": .string("ubuntu-latest")], ["version": .number(10), "os": .string("windows-latest")],
            ["version": .number(12), "os": .string("ubuntu-latest")], ["version": .number(12), "os": .string("windows-latest")],
            ["version": .number(14), "os": .string("ubuntu-latest")], ["version": .number(14), "os": .string("windows-latest")],
        ]
        #expect(legs == expected)
    }

    @Test("GitHub's documented include example: added values may be overwritten, original ones never")
    func documentedInclude() throws {
        let legs = try matrixLegs(
            """
                    fruit: [apple, pear]
                    animal: [cat, dog]
                    include:
                      - color: green
                      - color: pink
                        animal: cat
                      - fruit: apple
                        shape: circle
                      - fruit: banana
                      - fruit: banana
                        animal: cat
            """)
        let expected: [ExpressionObject] = [
            ["fruit": .string("apple"), "animal": .string("cat"), "color": .string("pink"), "shape": .string("circle")],
            ["fruit": .string("apple"), "animal": .string("dog"), "color": .string("green"), "shape": .string("circle")],
            ["fruit": .string("pear"), "animal": .string("cat"), "color": .string("pink")],
            ["fruit": .string("pear"), "animal": .string("dog"), "color": .string("green")],
            ["fruit": .string("banana")],
            ["fruit": .string("banana"), "animal": .string("cat")],
        ]
        #expect(legs == expected)
    }

    @Test("GitHub's documented example of expanding one configuration: npm 6 only for windows and node 16")
    func documentedExpansion() throws {
        let legs = try matrixLegs(
            """
                    os: [windows-latest, ubuntu-latest]
                    node: [14, 16]
                    include:
                      - os: windows-latest
                        node: 16
                        npm: 6
            """)
        #expect(legs.count == 4)
        #expect(legs[1] == ["os": .string("windows-latest"), "node": .number(16), "npm": .number(6)])
        #expect(legs.filter { $0["npm"] != nil }.count == 1)
    }

    @Test("GitHub's documented exclude example: partial matches remove 3 of 12 combinations")
    func documentedExclude() throws {
        let legs = try matrixLegs(
            """
                    os: [macos-latest, windows-latest]
                    version: [12, 14, 16]
                    environment: [staging, production]
                    exclude:
                      - os: macos-latest
                        version: 12
                        environment: production
                      - os: windows-latest
                        version: 16
            """)
        #expect(legs.count == 9)
        #expect(!legs.contains { $0["os"] == .string("macos-latest") && $0["version"] == .number(12) && $0["environment"] == .string("production") })
        #expect(!legs.contains { $0["os"] == .string("windows-latest") && $0["version"] == .number(16) })
        #expect(legs.first == ["os": .string("macos-latest"), "version": .number(12), "environment": .string("staging")])
    }

    @Test("GitHub's documented include-only matrix makes one leg per entry")
    func includeOnly() throws {
        let legs = try matrixLegs(
            """
                    include:
                      - site: production
                        datacenter: site-a
                      - site: staging
                        datacenter: site-b
            """)
        #expect(
            legs == [
                ["site": .string("production"), "datacenter": .string("site-a")], ["site": .string("staging"), "datacenter": .string("site-b")],
            ])
        #expect(legs.map { MatrixExpansion.legName(job: "deploy", leg: $0) } == ["deploy (production, site-a)", "deploy (staging, site-b)"])
    }

    @Test("include is applied after exclude and can add an excluded combination back")
    func includeAfterExclude() throws {
        let legs = try matrixLegs(
            """
                    os: [linux, mac]
                    py: [3.11]
                    exclude:
                      - os: mac
                    include:
                      - os: mac
                        py: 3.11
                        note: back
            """)
        #expect(legs == [["os": .string("linux"), "py": .number(3.11)], ["os": .string("mac"), "py": .number(3.11), "note": .string("back")]])
    }

    @Test("an include entry matching an original value adds to every such combination, and a later one overwrites an added key")
    func overwriteAddedKeys() throws {
        let legs = try matrixLegs(
            """
                    os: [linux, mac]
                    include:
                      - runner: small
                      - os: mac
                        runner: large
            """)
        #expect(legs == [["os": .string("linux"), "runner": .string("small")], ["os": .string("mac"), "runner": .string("large")]])
    }

    @Test("exclude entries compare whole values, objects included")
    func excludeObjects() throws {
        let legs = try matrixLegs(
            """
                    target: [{os: linux, arch: x64}, {os: linux, arch: arm64}]
                    mode: [debug, release]
                    exclude:
                      - target: {os: linux, arch: arm64}
                        mode: debug
            """)
        #expect(legs.count == 3)
        #expect(MatrixExpansion.legName(job: "build", leg: legs[0]) == "build (linux, x64, debug)")
        #expect(MatrixExpansion.legName(job: "build", leg: legs[2]) == "build (linux, arm64, release)")
    }

    @Test("leg names list values in order: dimensions then included keys, whole numbers without .0")
    func legNames() {
        #expect(
            MatrixExpansion.legName(job: "test", leg: ["python": .string("3.11"), "os": .string("ubuntu-latest")]) == "test (3.11, ubuntu-latest)")
        #expect(MatrixExpansion.legName(job: "test", leg: ["v": .number(3.10), "n": .number(16), "b": .bool(true)]) == "test (3.1, 16, true)")
        #expect(MatrixExpansion.legName(job: "test", leg: ExpressionObject()) == "test")
        #expect(MatrixExpansion.legName(job: "Unit tests", leg: ["list": .array([.string("a"), .number(2)])]) == "Unit tests (a, 2)")
    }

    @Test("a matrix given as one expression is evaluated, then expanded with the same rules")
    func expressionMatrix() throws {
        let context = ExpressionContext(contexts: [
            "needs": .object([
                "plan": .object(["outputs": .object(["matrix": .string(#"{"os":["linux","mac"],"include":[{"os":"mac","xcode":"15"}]}"#)])])
            ])
        ])
        let legs = try MatrixExpansion.legs(of: .expression("${{ fromJSON(needs.plan.outputs.matrix) }}"), in: context)
        #expect(legs == [["os": .string("linux")], ["os": .string("mac"), "xcode": .string("15")]])

        let dimension = try MatrixExpansion.legs(
            of: .literal(dimensions: [(name: "os", values: [.string("${{ fromJSON('[\"a\",\"b\"]') }}")])], include: [], exclude: []),
            in: ExpressionContext())
        #expect(dimension == [["os": .string("a")], ["os": .string("b")]])
    }

    @Test("a matrix expression that is not an object, or expands to nothing, is an error")
    func expressionMatrixErrors() throws {
        #expect(throws: ExpressionError.self) { try MatrixExpansion.legs(of: .expression("${{ fromJSON('[1]') }}"), in: ExpressionContext()) }
        #expect(throws: ExpressionError.self) {
            try MatrixExpansion.legs(of: .expression("${{ fromJSON('{\"os\": []}') }}"), in: ExpressionContext())
        }
        let nothing = #"${{ fromJSON('{"os":["a"],"exclude":[{"os":"a"}]}') }}"#
        do {
            _ = try MatrixExpansion.legs(of: .expression(nothing), in: ExpressionContext())
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("expands to no jobs"))
        }
    }

    @Test("at most 256 legs, and a product too large to enumerate is refused without enumerating it")
    func limits() throws {
        let values = (0..<16).map { ExpressionValue.number(Double($0)) }
        let exactly = try MatrixExpansion.expand(dimensions: [("a", values), ("b", values)], include: [], exclude: [])
        #expect(exactly.count == 256)
        #expect(throws: ExpressionError.self) {
            try MatrixExpansion.expand(dimensions: [("a", values), ("b", values)], include: [["a": .number(99)]], exclude: [])
        }
        let huge = (0..<20).map { (name: "d\($0)", values: values) }
        do {
            _ = try MatrixExpansion.expand(dimensions: huge, include: [], exclude: [])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("more than 65536 combinations"))
        }
    }
}
