import Foundation
import SlipwayCore
import Testing

@testable import SlipwayPipeline

/// Runs of whole workflows against real git repositories, hooks and runners.
@Suite("Workflow execution", .timeLimit(.minutes(2)))
struct ExecutionRunTests {
    func folder() throws -> URL { try scratchFolder("exec") }

    @discardableResult
    func git(_ arguments: [String], in directory: URL) throws -> String { try runGit(arguments, in: directory) ?? "" }

    func run(_ yaml: String, project: URL, configure: (inout RunConfiguration) -> Void = { _ in }, output: LiveOutput = .silent) async throws -> (
        RunRecord, FileRunStore
    ) {
        let workflow = try WorkflowParser.parse(file: ".github/workflows/test.yml", source: yaml)
        let store = FileRunStore(dataDir: project.appendingPathComponent(".slipway"))
        var configuration = RunConfiguration(
            project: project, dataDir: project.appendingPathComponent(".slipway"), vars: [:], cancelGrace: .seconds(1))
        configure(&configuration)
        let record = try await WorkflowExecution(workflow: workflow, configuration: configuration, store: store, output: output).run()
        return (record, store)
    }

    func logs(_ record: RunRecord, _ store: FileRunStore) -> String {
        record.jobs.flatMap(\.steps).compactMap(\.log).map { (try? store.log(run: record.id, path: $0)) ?? "" }.joined()
    }

    @Test("checkout gives a clean clone of HEAD; the push context comes from git")
    func checkoutAndGit() async throws {
        let project = try folder()
        defer { try? FileManager.default.removeItem(at: project) }
        try git(["init", "-q"], in: project)
        try "committed\n".write(to: project.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        try git(["add", "data.txt"], in: project)
        try git(["commit", "-q", "-m", "first commit"], in: project)
        try git(["remote", "add", "origin", "git@github.com:acme/models.git"], in: project)
        let sha = try git(["rev-parse", "HEAD"], in: project)
        try "uncommitted\n".write(to: project.appendingPathComponent("data.txt"), atomically: true, encoding: .utf8)
        try "new\n".write(to: project.appendingPathComponent("untracked.txt"), atomically: true, encoding: .utf8)

        let info = GitInfo.read(at: project)
        #expect(info.branch == "main")
        #expect(info.sha == sha)
        #expect(info.repository == "acme/models")
        #expect(Set(info.changedPaths ?? []).isSuperset(of: ["data.txt", "untracked.txt"]))

        let yaml = """
            on: push
            jobs:
              co:
                runs-on: ubuntu-latest
                steps:
                  - run: echo "before checkout $(cat data.txt)"
                  - uses: actions/checkout@v4
                  - run: |
                      echo "after checkout $(cat data.txt) in $GITHUB_WORKSPACE"
                      echo "sha ${{ github.sha }} ref ${{ github.ref }} repo ${{ github.repository }} msg ${{ github.event.head_commit.message }}"
                      test ! -e untracked.txt && echo "untracked not checked out"

            """
        let (record, store) = try await run(yaml, project: project)
        #expect(record.conclusion == .success)
        let text = logs(record, store)
        #expect(text.contains("before checkout uncommitted"))
        #expect(text.contains("after checkout committed"))
        #expect(text.contains("sha \(sha) ref refs/heads/main repo acme/models msg first commit"))
        #expect(text.contains("untracked not checked out"))
        #expect(!text.contains("in \(project.path)\n"))
        // The project itself is untouched.
        #expect(try String(contentsOf: project.appendingPathComponent("data.txt"), encoding: .utf8) == "uncommitted\n")
    }

    struct CacheHit: JobStartHook {
        func beforeStart(_ job: JobStartContext) async throws -> JobStartDecision {
            #expect(job.secretNames == ["API_KEY"])
            #expect(job.env["MODE"] == "fast")
            return job.key == "train" ? .finished(conclusion: .success, outputs: ["model": "m-1"], cached: true) : .run
        }
    }

    @Test("a hook before each job can finish it (a cache hit) with outputs its dependents see")
    func hooks() async throws {
        let project = try folder()
        defer { try? FileManager.default.removeItem(at: project) }
        let yaml = """
            on: push
            env:
              MODE: fast
            jobs:
              train:
                runs-on: ubuntu-latest
                outputs:
                  model: x
                steps:
                  - run: echo "training ran"
              deploy:
                needs: train
                runs-on: ubuntu-latest
                steps:
                  - run: echo "deploying ${{ needs.train.outputs.model }}"

            """
        let (record, store) = try await run(yaml, project: project) {
            $0.hooks = [CacheHit()]
            $0.secrets = ["API_KEY": "k-123456"]
        }
        #expect(record.conclusion == .success)
        #expect(record.job("train")?.cached == true)
        #expect(record.job("train")?.outputs == ["model": "m-1"])
        let text = logs(record, store)
        #expect(!text.contains("training ran"))
        #expect(text.contains("deploying m-1"))
        #expect(RunSummary(record).jobs["train"]?.cached == true)
    }

    struct GPURunner: PipelineRunner {
        var name = "gpu-box"
        var labels: Set<String> = ["self-hosted", "gpu", "cuda12"]
        var capacity = 1
        func accepts(_ requested: [String]) -> Bool { requested.allSatisfy { labels.contains($0.lowercased()) } }
    }

    @Test("jobs go to a runner with all their labels; one slot makes the second job wait, visibly")
    func runnersAndWaiting() async throws {
        let project = try folder()
        defer { try? FileManager.default.removeItem(at: project) }
        let yaml = """
            on: push
            jobs:
              one:
                runs-on: [self-hosted, gpu]
                environment: production
                steps:
                  - run: |
                      echo "one on $RUNNER_NAME"
                      sleep 1
              two:
                runs-on: [self-hosted, cuda12]
                steps:
                  - run: echo "two on ${{ runner.name }}"

            """
        let outputFile = project.appendingPathComponent("live.txt")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputFile)
        let (record, _) = try await run(yaml, project: project, configure: { $0.runners = [GPURunner()] }, output: LiveOutput(handle: handle))
        try handle.close()
        #expect(record.conclusion == .success)
        #expect(record.job("one")?.runner == "gpu-box")
        #expect(record.job("one")?.environment == "production")
        let live = try String(contentsOf: outputFile, encoding: .utf8)
        #expect(live.contains("waiting for a free runner"))
        #expect(live.contains("two on gpu-box"))
    }

    @Test("bad workflows are refused before a run is recorded")
    func refused() async throws {
        let project = try folder()
        defer { try? FileManager.default.removeItem(at: project) }
        let store = FileRunStore(dataDir: project.appendingPathComponent(".slipway"))
        let configuration = RunConfiguration(project: project, dataDir: project.appendingPathComponent(".slipway"), inputs: ["x": "1"], vars: [:])
        let job = Job(id: "a", needs: ["missing"], runsOn: ["linux"], steps: [Step(uses: "docker://alpine"), Step()])
        let execution = WorkflowExecution(workflow: Workflow(file: "w.yml", jobs: [job]), configuration: configuration, store: store)
        do {
            _ = try await execution.run()
            Issue.record("the workflow ran")
        } catch let error as PlanError {
            #expect(error.problems.count == 3, "\(error.problems)")
            #expect(error.description.contains("needs 'missing'"))
            #expect(error.description.contains("neither run: nor uses:"))
        }
        #expect(try store.list().isEmpty)
        // vars.yml that is not a map is a clear error.
        try FileManager.default.createDirectory(at: project.appendingPathComponent(".slipway"), withIntermediateDirectories: true)
        try "- a\n- b\n".write(to: project.appendingPathComponent(".slipway/vars.yml"), atomically: true, encoding: .utf8)
        #expect(throws: PlanError.self) { try WorkflowExecution.loadVars(dataDir: project.appendingPathComponent(".slipway")) }
        try "REGION: eu\nDEBUG: true\nN: 3\n".write(to: project.appendingPathComponent(".slipway/vars.yml"), atomically: true, encoding: .utf8)
        #expect(try WorkflowExecution.loadVars(dataDir: project.appendingPathComponent(".slipway")) == ["REGION": "eu", "DEBUG": "true", "N": "3"])
    }
}
