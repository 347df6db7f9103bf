import Foundation
import Testing

@testable import SlipwayPipeline

@Suite("Built-in actions in a workflow run", .serialized)
struct ActionWorkflowTests {
    @Test("an artifact moves between jobs and the ML steps feed compare through step outputs")
    func pipeline() async throws {
        let project = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-action-run-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: project) }
        try FileManager.default.copyItem(at: breastCancerFolder(), to: project.appendingPathComponent("data"))
        let yaml = """
            on: push
            jobs:
              build:
                runs-on: ubuntu-latest
                outputs:
                  digest: ${{ steps.up.outputs.artifact-digest }}
                steps:
                  - run: mkdir -p out/deep && echo hello > out/a.txt && echo deep > out/deep/b.txt
                  - id: up
                    uses: actions/upload-artifact@v4
                    with:
                      name: bundle
                      path: out/
              model:
                needs: build
                runs-on: ubuntu-latest
                outputs:
                  deploy: ${{ steps.compare.outputs.should_deploy }}
                  accuracy: ${{ steps.eval.outputs.accuracy }}
                steps:
                  - uses: actions/download-artifact@v4
                    with:
                      name: bundle
                      path: got
                  - run: test "$(cat got/a.txt)" = hello && test "$(cat got/deep/b.txt)" = deep
                  - uses: slipway/validate-data@v1
                    with:
                      schema: data/data_schema.json
                      data: data/train.csv
                  - uses: slipway/train@v1
                    with:
                      algorithm: logistic
                      data: data/train.csv
                      target: target
                      out: models/cancer
                  - id: eval
                    uses: slipway/evaluate@v1
                    with:
                      model: models/cancer
                      data: data/test.csv
                  - id: compare
                    uses: slipway/compare@v1
                    with:
                      metrics: ${{ steps.eval.outputs.metrics }}
                      model: cancer
                      threshold: "0.01"
            """
        let workflow = try WorkflowParser.parse(file: ".github/workflows/test.yml", source: yaml)
        let dataDir = project.appendingPathComponent(".slipway")
        let store = FileRunStore(dataDir: dataDir)
        var configuration = RunConfiguration(project: project, dataDir: dataDir, vars: [:], cancelGrace: .seconds(1))
        configuration.actions = .slipway(executable: actionSlipwayExecutable(), dataDir: dataDir)
        let record = try await WorkflowExecution(workflow: workflow, configuration: configuration, store: store, output: .silent).run()
        let errors = record.jobs.flatMap(\.steps).compactMap(\.error).joined(separator: "; ")
        #expect(record.conclusion == .success, "\(errors)")
        let build = try #require(record.jobs.first { $0.jobId == "build" })
        #expect(build.outputs["digest"]?.hasPrefix("sha256:") == true)
        let model = try #require(record.jobs.first { $0.jobId == "model" })
        #expect(model.outputs["deploy"] == "true")
        #expect((Double(model.outputs["accuracy"] ?? "") ?? 0) > 0.9)
    }
}
