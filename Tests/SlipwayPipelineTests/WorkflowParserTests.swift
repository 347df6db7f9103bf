import Foundation
import Testing

@testable import SlipwayPipeline

/// Reads a fixture of `Workflows/parser/`.
func parserFixture(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: "Workflows/parser/\(name)", withExtension: nil))
    return try String(contentsOf: url, encoding: .utf8)
}

/// Parses `source`, failing the test with every diagnostic if it does not parse.
func parseWorkflow(_ source: String, file: String = "workflow.yml") throws -> Workflow {
    do {
        return try WorkflowParser.parse(file: file, source: source)
    } catch {
        Issue.record("unexpected diagnostics:\n\(error.description)")
        throw error
    }
}

/// The diagnostics of a workflow that must not parse.
func diagnostics(_ source: String, file: String = "workflow.yml") -> [WorkflowDiagnostic] {
    do {
        _ = try WorkflowParser.parse(file: file, source: source)
        Issue.record("the workflow parsed, but problems were expected")
        return []
    } catch {
        return error.diagnostics
    }
}

@Suite("Workflow parser")
struct WorkflowParserTests {
    @Test("a realistic ML pipeline parses into the model with GitHub's meaning")
    func mlPipeline() throws {
        let workflow = try parseWorkflow(try parserFixture("ml-pipeline.yml"), file: ".github/workflows/ml-pipeline.yml")
        #expect(workflow.file == ".github/workflows/ml-pipeline.yml")
        #expect(workflow.name == "ML pipeline")
        #expect(workflow.runName == "Train ${{ inputs.model }} on ${{ github.ref_name }}")

        // on:
        let push = try #require(workflow.triggers.push)
        #expect(push.branches == ["main", "release/**"])
        #expect(push.paths == ["src/**", "data/**", "!data/**.md"])
        #expect(push.branchesIgnore == nil && push.tags == nil && push.pathsIgnore == nil)
        let dispatch = try #require(workflow.triggers.workflowDispatch)
        #expect(dispatch.inputs.map(\.name) == ["model", "epochs", "dry-run", "target"])
        #expect(
            dispatch.inputs[0]
                == DispatchInput(name: "model", description: "Model to train", defaultValue: "churn", kind: .choice, options: ["churn", "fraud"]))
        #expect(dispatch.inputs[1].kind == .number && dispatch.inputs[1].defaultValue == "5")
        #expect(dispatch.inputs[2].kind == .boolean && dispatch.inputs[2].defaultValue == "false")
        #expect(dispatch.inputs[3].kind == .environment && dispatch.inputs[3].required)
        #expect(workflow.triggers.otherEvents == ["schedule"])

        // Workflow-level settings: scalars become their text, in file order.
        #expect(workflow.env.map(\.name) == ["PYTHONUNBUFFERED", "SEED", "VERBOSE", "MODEL"])
        #expect(workflow.env.map(\.value) == ["1", "42", "true", "${{ inputs.model || 'churn' }}"])
        #expect(workflow.defaults == RunDefaults(shell: "bash", workingDirectory: "ml"))
        #expect(workflow.concurrency == ConcurrencySpec(group: "ml-${{ github.ref }}", cancelInProgress: true))

        #expect(workflow.jobs.map(\.id) == ["quality", "validate", "train", "evaluate", "deploy-staging", "production"])

        let quality = try #require(workflow.job("quality"))
        #expect(quality.name == "Code quality")
        #expect(quality.runsOn == ["ubuntu-latest"])
        #expect(quality.location == SourceLocation(line: 49, column: 3))
        #expect(quality.steps.count == 2)
        #expect(quality.steps[0].uses == "actions/checkout@v4" && quality.steps[0].run == nil)
        #expect(quality.steps[0].location == SourceLocation(line: 53, column: 9))
        #expect(quality.steps[1].run?.hasPrefix("set -euo pipefail\nfor f in scripts/*.sh") == true)

        let validate = try #require(workflow.job("validate"))
        #expect(validate.needs == ["quality"])
        #expect(validate.runsOn == ["self-hosted", "linux"])
        #expect(validate.outputs.map(\.name) == ["rows"])
        #expect(validate.cache == JobCache(inputs: ["data/**", "schemas/*.json"], outputs: ["reports/validation.json"]))
        #expect(validate.steps[0].id == "check")
        #expect(validate.steps[0].with.map(\.name) == ["dataset", "min-rows", "strict"])
        #expect(validate.steps[0].with.map(\.value) == ["churn", "1000", "true"])

        let train = try #require(workflow.job("train"))
        #expect(train.needs == ["validate"])
        #expect(train.condition == "${{ needs.validate.outputs.rows > 0 }}")
        #expect(train.runsOn == ["gpu", "cuda12"])
        #expect(train.timeoutMinutes == "90")
        #expect(train.continueOnError == "${{ matrix.experimental }}")
        let strategy = try #require(train.strategy)
        #expect(!strategy.failFast)
        #expect(strategy.maxParallel == 2)
        guard case .literal(let dimensions, let include, let exclude) = strategy.matrix else {
            Issue.record("expected a literal matrix")
            return
        }
        #expect(dimensions.map(\.name) == ["python", "lr", "experimental"])
        #expect(dimensions[0].values == [.string("3.11"), .number(3.12)])
        #expect(dimensions[1].values == [.number(0.01), .number(0.001)])
        #expect(dimensions[2].values == [.bool(false)])
        #expect(exclude == [["python": .number(3.12), "lr": .number(0.01)]])
        #expect(include.count == 2)
        let legs = try MatrixExpansion.legs(of: strategy.matrix, in: ExpressionContext())
        #expect(
            legs.map { MatrixExpansion.legName(job: "train", leg: $0) } == [
                "train (3.11, 0.01, false, baseline)", "train (3.11, 0.001, false)", "train (3.12, 0.001, false)", "train (3.13, 0.1, true)",
            ])
        #expect(train.env.map(\.value) == ["${{ matrix.lr }}"])
        #expect(train.steps[1].id == "train")
        #expect(train.steps[1].name == "Train (${{ matrix.python }}, ${{ matrix.lr }})")
        #expect(train.steps[1].env.map(\.value) == ["0"])
        #expect(train.steps[1].timeoutMinutes == "60")
        #expect(train.steps[1].continueOnError == "false")

        let evaluate = try #require(workflow.job("evaluate"))
        #expect(evaluate.outputs.map(\.value) == ["${{ steps.compare.outputs.should_deploy }}"])

        let staging = try #require(workflow.job("deploy-staging"))
        #expect(staging.condition == "needs.evaluate.outputs.should_deploy == 'true'")
        #expect(staging.environment == EnvironmentRef(name: "staging"))
        #expect(staging.concurrency == ConcurrencySpec(group: "deploy-staging"))
        #expect(staging.steps[1].shell == "python")
        #expect(staging.steps[1].workingDirectory == "tests")
        #expect(staging.steps[1].run == "import sys\nprint(\"ok\")\n")

        let production = try #require(workflow.job("production"))
        #expect(production.needs == ["deploy-staging", "evaluate"])
        #expect(production.environment == EnvironmentRef(name: "production", url: "https://models.example.com/churn"))
        #expect(production.defaults == RunDefaults(shell: "sh"))
    }

    @Test("on: as a single event, a list, or a mapping with empty settings")
    func triggerForms() throws {
        let single = try parseWorkflow("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n")
        #expect(single.triggers.push == PushTrigger())
        #expect(single.triggers.workflowDispatch == nil)

        let list = try parseWorkflow("on: [push, workflow_dispatch, pull_request]\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n")
        #expect(list.triggers.push == PushTrigger())
        #expect(list.triggers.workflowDispatch == DispatchTrigger())
        #expect(list.triggers.otherEvents == ["pull_request"])

        let mapping = try parseWorkflow(
            """
            on:
              push:
                tags: v*
                paths-ignore: ['docs/**']
              workflow_dispatch:
              pull_request:
                branches: [main]
            jobs:
              a:
                runs-on: x
                steps:
                  - run: echo
            """)
        #expect(mapping.triggers.push == PushTrigger(tags: ["v*"], pathsIgnore: ["docs/**"]))
        #expect(mapping.triggers.workflowDispatch == DispatchTrigger())
        #expect(mapping.triggers.otherEvents == ["pull_request"])
    }

    @Test("needs as a string, if as a boolean, concurrency as a string, env values of every scalar type")
    func scalarForms() throws {
        let workflow = try parseWorkflow(
            """
            on: workflow_dispatch
            concurrency: nightly
            jobs:
              first:
                runs-on: linux
                steps:
                  - run: echo one
              second:
                needs: first
                if: false
                runs-on: linux
                env:
                  INT: 3
                  FLOAT: 2.50
                  BOOL: false
                  EMPTY:
                  QUOTED: "007"
                  HEX: 0x1F
                continue-on-error: true
                steps:
                  - run: echo two
                    if: always()
            """)
        #expect(workflow.concurrency == ConcurrencySpec(group: "nightly"))
        let second = try #require(workflow.job("second"))
        #expect(second.needs == ["first"])
        #expect(second.condition == "false")
        #expect(second.continueOnError == "true")
        #expect(second.env.map(\.value) == ["3", "2.50", "false", "", "007", "0x1F"])
        #expect(second.steps[0].condition == "always()")
    }

    @Test("a matrix written as one expression, and dimensions given by expressions, are kept for the run")
    func matrixExpressions() throws {
        let workflow = try parseWorkflow(
            """
            on: push
            jobs:
              plan:
                runs-on: linux
                outputs:
                  matrix: ${{ steps.p.outputs.matrix }}
                steps:
                  - id: p
                    run: echo "matrix={}" >> "$GITHUB_OUTPUT"
              whole:
                needs: plan
                runs-on: linux
                strategy:
                  matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}
                steps:
                  - run: echo
              dimension:
                needs: plan
                runs-on: linux
                strategy:
                  matrix:
                    os: ${{ fromJSON(needs.plan.outputs.os) }}
                    nested: [{name: a, size: 1}]
                steps:
                  - run: echo
            """)
        guard case .expression(let text)? = workflow.job("whole")?.strategy?.matrix else {
            Issue.record("expected a matrix expression")
            return
        }
        #expect(text == "${{ fromJSON(needs.plan.outputs.matrix) }}")
        guard case .literal(let dimensions, _, _)? = workflow.job("dimension")?.strategy?.matrix else {
            Issue.record("expected a literal matrix")
            return
        }
        #expect(dimensions[0].values == [.string("${{ fromJSON(needs.plan.outputs.os) }}")])
        #expect(dimensions[1].values == [.object(["name": .string("a"), "size": .number(1)])])
    }

    @Test("matrix values keep their YAML 1.2 types: int, float, bool, null, quoted text, nested values")
    func matrixValueTypes() throws {
        let workflow = try parseWorkflow(
            """
            on: push
            jobs:
              t:
                runs-on: linux
                strategy:
                  matrix:
                    v: [1, 2.5, true, null, ~, "3", yes, on, 1e3, -4, '', [a, 1], {k: v}]
                steps:
                  - run: echo
            """)
        guard case .literal(let dimensions, _, _)? = workflow.job("t")?.strategy?.matrix else {
            Issue.record("expected a literal matrix")
            return
        }
        #expect(
            dimensions[0].values == [
                .number(1), .number(2.5), .bool(true), .null, .null, .string("3"), .string("yes"), .string("on"), .number(1000), .number(-4),
                .string(""), .array([.string("a"), .number(1)]), .object(["k": .string("v")]),
            ])
    }

    @Test("YAML anchors and aliases of reasonable size are read like their targets")
    func aliases() throws {
        let workflow = try parseWorkflow(
            """
            on: push
            env: &common
              A: one
            jobs:
              a:
                runs-on: linux
                env: *common
                steps: &steps
                  - run: echo
              b:
                runs-on: linux
                steps: *steps
            """)
        #expect(workflow.job("a")?.env.map(\.value) == ["one"])
        #expect(workflow.job("b")?.steps.first?.run == "echo")
    }

    @Test("cancel-in-progress may be an expression, kept for the run")
    func cancelInProgressExpression() throws {
        let workflow = try parseWorkflow(
            """
            on: push
            concurrency:
              group: ci-${{ github.ref }}
              cancel-in-progress: ${{ github.ref != 'refs/heads/main' }}
            jobs:
              a:
                runs-on: linux
                concurrency: {group: a, cancel-in-progress: false}
                steps:
                  - run: echo
            """)
        #expect(
            workflow.concurrency
                == ConcurrencySpec(group: "ci-${{ github.ref }}", cancelInProgressExpression: "${{ github.ref != 'refs/heads/main' }}"))
        #expect(workflow.job("a")?.concurrency == ConcurrencySpec(group: "a", cancelInProgress: false))
    }

    @Test("permissions are accepted in every form and ignored")
    func permissions() throws {
        for permissions in ["read-all", "{}", "{contents: read, id-token: write}"] {
            _ = try parseWorkflow(
                "on: push\npermissions: \(permissions)\njobs:\n  a:\n    runs-on: x\n    permissions: write-all\n    steps:\n      - run: echo\n")
        }
    }
}
