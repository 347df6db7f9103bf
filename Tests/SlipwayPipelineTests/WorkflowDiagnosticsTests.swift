import Foundation
import Testing

@testable import SlipwayPipeline

/// One workflow with one problem, where it is, and words the message must contain.
struct DiagnosticCase: CustomTestStringConvertible, Sendable {
    var label: String
    var source: String
    var line: Int
    var column: Int
    var words: [String]

    var testDescription: String { label }
}

/// A job with one step, to embed where a valid job is needed.
let okJob = """
      ok:
        runs-on: linux
        steps:
          - run: echo ok
    """

@Suite("Workflow diagnostics")
struct WorkflowDiagnosticsTests {
    static let cases: [DiagnosticCase] = [
        DiagnosticCase(
            label: "unknown key, with a suggestion and the allowed keys",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    enviroment: prod\n    steps:\n      - run: echo\n",
            line: 5, column: 5, words: ["unknown key 'enviroment' in jobs.a", "did you mean 'environment'?", "Allowed keys: name, needs, if"]),
        DiagnosticCase(
            label: "unknown top-level key",
            source: "on: push\nvariables:\n  A: b\njobs:\n\(okJob)\n",
            line: 2, column: 1, words: ["unknown key 'variables' in the workflow", "Allowed keys: name, run-name, on, env"]),
        DiagnosticCase(
            label: "unknown step key",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: echo\n        args: x\n",
            line: 7, column: 9, words: ["unknown key 'args' in step 1 of jobs.a.steps"]),
        DiagnosticCase(
            label: "wrong type: timeout-minutes",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    timeout-minutes: soon\n    steps:\n      - run: echo\n",
            line: 5, column: 22, words: ["jobs.a.timeout-minutes must be a number of minutes or a ${{ }} expression, got 'soon'"]),
        DiagnosticCase(
            label: "wrong type: steps as a mapping",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      run: echo\n",
            line: 6, column: 7, words: ["jobs.a.steps must be a list of steps, got a mapping"]),
        DiagnosticCase(
            label: "wrong type: fail-fast",
            source:
                "on: push\njobs:\n  a:\n    runs-on: linux\n    strategy:\n      fail-fast: maybe\n      matrix:\n        x: [1]\n    steps:\n      - run: echo\n",
            line: 6, column: 18, words: ["jobs.a.strategy.fail-fast must be true or false, got 'maybe'"]),
        DiagnosticCase(
            label: "invalid job id",
            source: "on: push\njobs:\n  1st:\n    runs-on: linux\n    steps:\n      - run: echo\n",
            line: 3, column: 3, words: ["'1st' is not a valid job id", "start with a letter or '_'"]),
        DiagnosticCase(
            label: "invalid step id",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - id: my step\n        run: echo\n",
            line: 6, column: 13, words: ["'my step' is not a valid step id"]),
        DiagnosticCase(
            label: "duplicate step id",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - id: s\n        run: echo\n      - id: s\n        run: echo\n",
            line: 8, column: 13, words: ["the step id 's' is used twice in this job (first at line 6)"]),
        DiagnosticCase(
            label: "needs on a missing job, with a suggestion",
            source:
                "on: push\njobs:\n  build:\n    runs-on: linux\n    steps:\n      - run: echo\n  test:\n    needs: [biuld]\n    runs-on: linux\n    steps:\n      - run: echo\n",
            line: 8, column: 13, words: ["jobs.test.needs names 'biuld', which is not a job of this workflow", "did you mean 'build'?"]),
        DiagnosticCase(
            label: "cycle in needs, named in order",
            source:
                "on: push\njobs:\n  a:\n    needs: c\n    runs-on: linux\n    steps:\n      - run: echo\n  b:\n    needs: a\n    runs-on: linux\n    steps:\n      - run: echo\n  c:\n    needs: [b]\n    runs-on: linux\n    steps:\n      - run: echo\n",
            line: 4, column: 12, words: ["jobs.a.needs forms a cycle: a → c → b → a"]),
        DiagnosticCase(
            label: "a job that needs itself",
            source: "on: push\njobs:\n  a:\n    needs: [a]\n    runs-on: linux\n    steps:\n      - run: echo\n",
            line: 4, column: 13, words: ["forms a cycle: a → a"]),
        DiagnosticCase(
            label: "an expression that does not parse, at its column",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: echo ${{ github.sha ==  }}\n",
            line: 6, column: 38, words: ["jobs.a.steps[0].run: the expression does not parse", "Unexpected end of expression"]),
        DiagnosticCase(
            label: "an expression that is not closed",
            source: "on: push\nenv:\n  A: x-${{ github.sha\njobs:\n\(okJob)\n",
            line: 3, column: 8, words: ["env.A: the expression does not parse", "not closed"]),
        DiagnosticCase(
            label: "an expression in a block scalar, on its own line",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: |\n          echo one\n          echo ${{ 1 + }}\n",
            line: 8, column: 22, words: ["jobs.a.steps[0].run: the expression does not parse", "'+'"]),
        DiagnosticCase(
            label: "a bare if condition that does not parse",
            source: "on: push\njobs:\n  a:\n    if: github.ref == 'main' &&\n    runs-on: linux\n    steps:\n      - run: echo\n",
            line: 4, column: 32, words: ["jobs.a.if: the condition does not parse"]),
        DiagnosticCase(
            label: "a literal matrix that expands to nothing",
            source:
                "on: push\njobs:\n  a:\n    runs-on: linux\n    strategy:\n      matrix:\n        os: [linux]\n        exclude:\n          - os: linux\n    steps:\n      - run: echo\n",
            line: 7, column: 9, words: ["jobs.a.strategy.matrix: the matrix expands to no jobs"]),
        DiagnosticCase(
            label: "a matrix over 256 jobs",
            source:
                "on: push\njobs:\n  a:\n    runs-on: linux\n    strategy:\n      matrix:\n        x: [\((1...20).map(String.init).joined(separator: ", "))]\n        y: [\((1...13).map(String.init).joined(separator: ", "))]\n    steps:\n      - run: echo\n",
            line: 7, column: 9, words: ["the matrix expands to 260 jobs; GitHub allows at most 256"]),
        DiagnosticCase(
            label: "a matrix dimension without values",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    strategy:\n      matrix:\n        os: []\n    steps:\n      - run: echo\n",
            line: 7, column: 13, words: ["jobs.a.strategy.matrix.os has no values"]),
        DiagnosticCase(
            label: "an exclude naming no dimension",
            source:
                "on: push\njobs:\n  a:\n    runs-on: linux\n    strategy:\n      matrix:\n        os: [linux, mac]\n        exclude:\n          - arch: arm\n    steps:\n      - run: echo\n",
            line: 9, column: 13, words: ["exclude names 'arch', which is not a dimension of the matrix"]),
        DiagnosticCase(
            label: "a workflow without jobs",
            source: "on: push\njobs: {}\n",
            line: 2, column: 7, words: ["the workflow has no jobs"]),
        DiagnosticCase(
            label: "a workflow without the jobs key",
            source: "on: push\nname: x\n",
            line: 1, column: 1, words: ["the workflow has no 'jobs:'"]),
        DiagnosticCase(
            label: "a workflow without on",
            source: "jobs:\n\(okJob)\n",
            line: 1, column: 1, words: ["the workflow needs 'on:'"]),
        DiagnosticCase(
            label: "a job without steps",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n",
            line: 3, column: 3, words: ["jobs.a has no 'steps'"]),
        DiagnosticCase(
            label: "a job with an empty list of steps",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps: []\n",
            line: 5, column: 12, words: ["jobs.a.steps is empty"]),
        DiagnosticCase(
            label: "a job without runs-on",
            source: "on: push\njobs:\n  a:\n    steps:\n      - run: echo\n",
            line: 3, column: 3, words: ["jobs.a needs 'runs-on'"]),
        DiagnosticCase(
            label: "an empty file",
            source: "\n# nothing here\n",
            line: 1, column: 1, words: ["the workflow file is empty"]),
        DiagnosticCase(
            label: "a YAML syntax error at Yams' position",
            source: "on: push\njobs:\n  a:\n    runs-on: [linux\n    steps:\n      - run: echo\n",
            line: 5, column: 10, words: ["invalid YAML"]),
        DiagnosticCase(
            label: "a tab used for indentation",
            source: "on: push\njobs:\n\ta:\n",
            line: 3, column: 1, words: ["invalid YAML"]),
        DiagnosticCase(
            label: "a duplicate key, at its second occurrence",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    runs-on: mac\n    steps:\n      - run: echo\n",
            line: 5, column: 5, words: ["the key 'runs-on' appears twice in the same mapping (first at line 4)"]),
        DiagnosticCase(
            label: "a duplicate job id",
            source: "on: push\njobs:\n\(okJob)\n\(okJob)\n",
            line: 7, column: 3, words: ["the key 'ok' appears twice"]),
        DiagnosticCase(
            label: "a duplicate key in a step, at its second occurrence",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: echo\n        name: one\n        name: two\n",
            line: 8, column: 9, words: ["the key 'name' appears twice in the same mapping (first at line 7)"]),
        DiagnosticCase(
            label: "with on a run step",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: echo\n        with:\n          x: 1\n",
            line: 7, column: 9, words: ["jobs.a.steps[0].with is only for steps with 'uses'"]),
        DiagnosticCase(
            label: "cancel-in-progress that is neither a boolean nor an expression",
            source: "on: push\nconcurrency:\n  group: g\n  cancel-in-progress: sometimes\njobs:\n\(okJob)\n",
            line: 4, column: 23, words: ["concurrency.cancel-in-progress must be true, false or a ${{ }} expression, got 'sometimes'"]),
        DiagnosticCase(
            label: "a reusable workflow call",
            source: "on: push\njobs:\n  call:\n    uses: org/repo/.github/workflows/x.yml@v1\n",
            line: 4, column: 5, words: ["calling a reusable workflow) is not supported by Slipway"]),
        DiagnosticCase(
            label: "an unquoted condition starting with '!', which YAML reads as a tag",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: echo\n        if: !cancelled()\n",
            line: 7, column: 13, words: ["jobs.a.steps[0].if starts with '!cancelled()', which YAML reads as a tag; put the value in quotes"]),
        DiagnosticCase(
            label: "a step with both run and uses",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: echo\n        uses: actions/checkout@v4\n",
            line: 7, column: 9, words: ["jobs.a.steps[0] has both 'run' and 'uses'"]),
        DiagnosticCase(
            label: "a step with neither run nor uses",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    steps:\n      - name: nothing\n",
            line: 6, column: 9, words: ["jobs.a.steps[0] needs 'run' (a script) or 'uses' (an action)"]),
        DiagnosticCase(
            label: "branches together with branches-ignore",
            source: "on:\n  push:\n    branches: [main]\n    branches-ignore: [dev]\njobs:\n\(okJob)\n",
            line: 4, column: 5, words: ["on.push cannot use both 'branches' and 'branches-ignore'"]),
        DiagnosticCase(
            label: "paths together with paths-ignore",
            source: "on:\n  push:\n    paths-ignore: [docs]\n    paths: [src]\njobs:\n\(okJob)\n",
            line: 3, column: 5, words: ["on.push cannot use both 'paths' and 'paths-ignore'"]),
        DiagnosticCase(
            label: "a choice default that is not an option",
            source:
                "on:\n  workflow_dispatch:\n    inputs:\n      size:\n        type: choice\n        options: [small, large]\n        default: medium\njobs:\n\(okJob)\n",
            line: 7, column: 18, words: ["default 'medium' is not one of the options (small, large)"]),
        DiagnosticCase(
            label: "an input type GitHub does not have",
            source: "on:\n  workflow_dispatch:\n    inputs:\n      n:\n        type: integer\njobs:\n\(okJob)\n",
            line: 5, column: 15, words: ["type must be one of string, boolean, number, choice, environment, got 'integer'"]),
        DiagnosticCase(
            label: "a boolean input with a default that is not a boolean",
            source: "on:\n  workflow_dispatch:\n    inputs:\n      b:\n        type: boolean\n        default: yes\njobs:\n\(okJob)\n",
            line: 6, column: 18, words: ["of a boolean input must be true or false"]),
        DiagnosticCase(
            label: "an unknown event, with a suggestion",
            source: "on: [psuh]\njobs:\n\(okJob)\n",
            line: 1, column: 6, words: ["'psuh' is not an event GitHub Actions knows; did you mean 'push'?"]),
        DiagnosticCase(
            label: "services are not supported locally",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    services:\n      db:\n        image: postgres\n    steps:\n      - run: echo\n",
            line: 5, column: 5, words: ["jobs.a.services is not supported by Slipway's local runner"]),
        DiagnosticCase(
            label: "a container is not supported locally",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    container: node:20\n    steps:\n      - run: echo\n",
            line: 5, column: 5, words: ["jobs.a.container is not supported by Slipway's local runner"]),
        DiagnosticCase(
            label: "a root that is not a mapping",
            source: "- on: push\n",
            line: 1, column: 1, words: ["the workflow must be a mapping"]),
        DiagnosticCase(
            label: "several YAML documents",
            source: "on: push\njobs:\n\(okJob)\n---\non: push\n",
            line: 7, column: 1, words: ["invalid YAML", "but found another document"]),
        DiagnosticCase(
            label: "an env value that is a mapping",
            source: "on: push\nenv:\n  A:\n    b: c\njobs:\n\(okJob)\n",
            line: 4, column: 5, words: ["env.A must be a text, number or boolean value, got a mapping"]),
        DiagnosticCase(
            label: "a cache without inputs",
            source: "on: push\njobs:\n  a:\n    runs-on: linux\n    cache:\n      outputs: [out]\n    steps:\n      - run: echo\n",
            line: 6, column: 7, words: ["jobs.a.cache needs 'inputs'"]),
        DiagnosticCase(
            label: "max-parallel below 1",
            source:
                "on: push\njobs:\n  a:\n    runs-on: linux\n    strategy:\n      max-parallel: 0\n      matrix:\n        x: [1]\n    steps:\n      - run: echo\n",
            line: 6, column: 21, words: ["jobs.a.strategy.max-parallel must be between 1 and"]),
    ]

    @Test("each kind of problem is reported with its file, line and column", arguments: cases)
    func diagnostic(_ example: DiagnosticCase) throws {
        let found = diagnostics(example.source, file: "wf.yml")
        let matching = found.filter { diagnostic in example.words.allSatisfy { diagnostic.message.contains($0) } }
        guard let diagnostic = matching.first else {
            Issue.record("no diagnostic with \(example.words); got:\n\(found.map(\.description).joined(separator: "\n"))")
            return
        }
        #expect(diagnostic.file == "wf.yml")
        #expect(
            SourceLocation(line: diagnostic.line, column: diagnostic.column) == SourceLocation(line: example.line, column: example.column),
            "\(diagnostic)")
        #expect(diagnostic.description.hasPrefix("wf.yml:\(diagnostic.line):\(diagnostic.column): "))
    }

    @Test("every problem of a file is reported at once, in file order")
    func allAtOnce() throws {
        let found = diagnostics(try parserFixture("all-errors.yml"), file: "all-errors.yml")
        let summary = found.map { "\($0.line):\($0.column) \($0.message)" }
        let expected: [(Int, Int, String)] = [
            (3, 3, "'pushh' is not an event GitHub Actions knows"),
            (9, 18, "default 'xl' is not one of the options (s, m)"),
            (10, 1, "unknown key 'envv' in the workflow"),
            (13, 3, "'2build' is not a valid job id"),
            (15, 12, "jobs.2build.needs names 'deploy', which is not a job"),
            (16, 22, "jobs.2build.timeout-minutes must be a number of minutes"),
            (19, 31, "jobs.2build.steps[0].run: the expression does not parse"),
            (20, 13, "the step id 'compile' is used twice in this job (first at line 18)"),
            (22, 9, "jobs.2build.steps[1] has both 'run' and 'uses'"),
            (24, 12, "jobs.lint.needs forms a cycle: lint → test → lint"),
            (28, 9, "jobs.lint.strategy.matrix: the matrix expands to no jobs"),
            (33, 3, "jobs.test has no 'steps'"),
            (36, 5, "unknown key 'step' in jobs.test"),
        ]
        #expect(found.count == expected.count, "\(summary.joined(separator: "\n"))")
        let positions = found.map { [$0.line, $0.column] }
        #expect(zip(positions, positions.dropFirst()).allSatisfy { !$1.lexicographicallyPrecedes($0) }, "sorted by position")
        for (line, column, words) in expected {
            #expect(
                found.contains { $0.line == line && $0.column == column && $0.message.contains(words) },
                "missing \(line):\(column) \(words) in\n\(summary.joined(separator: "\n"))")
        }
        #expect(found.allSatisfy { $0.file == "all-errors.yml" })
    }
}
