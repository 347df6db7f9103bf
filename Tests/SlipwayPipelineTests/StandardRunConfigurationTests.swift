import Foundation
import SlipwayCore
import Testing

@testable import SlipwayPipeline

/// `RunConfiguration.standard`: the configuration `slipway run` and the demo build, running real workflows in real git
/// projects with a real secret store, approvals and job cache.
@Suite("Standard run configuration", .timeLimit(.minutes(2)))
struct StandardRunConfigurationTests {
    /// A git project with a `slipway` program of its own in `tools/` (a shell script that says what it was asked).
    func project() throws -> (project: URL, executable: URL) {
        let project = try scratchFolder("standard-config")
        try "payload\n".write(to: project.appendingPathComponent("input.txt"), atomically: true, encoding: .utf8)
        try runGit(["init", "-q"], in: project)
        try runGit(["add", "input.txt"], in: project)
        try runGit(["commit", "-q", "-m", "first"], in: project)
        let tools = try scratchFolder("standard-tools")
        let executable = tools.appendingPathComponent("slipway")
        try "#!/bin/sh\necho \"tool slipway says: $*\"\n".write(to: executable, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
        return (project, executable)
    }

    func logs(_ record: RunRecord, _ store: FileRunStore, job: String) -> String {
        (record.job(job)?.steps ?? []).compactMap(\.log).map { (try? store.log(run: record.id, path: $0)) ?? "" }.joined()
    }

    static let workflow = """
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            cache:
              inputs: [input.txt]
              outputs: [built.txt]
            outputs:
              size: ${{ steps.size.outputs.size }}
            steps:
              - id: size
                run: |
                  wc -c < input.txt > built.txt
                  echo "size=$(tr -d ' ' < built.txt)" >> "$GITHUB_OUTPUT"
                  slipway build --fast
                  test "$REPO_TOKEN" = "given-token" && echo "repository token: given one wins"
                env:
                  REPO_TOKEN: ${{ secrets.REPO_TOKEN }}
          deploy:
            needs: build
            runs-on: ubuntu-latest
            environment: production
            steps:
              - run: |
                  test "$DEPLOY_KEY" = "production-key" && echo "deploy key: the environment's own"
                  echo "masked: $DEPLOY_KEY"
                  echo "deploying size ${{ needs.build.outputs.size }}"
                env:
                  DEPLOY_KEY: ${{ secrets.DEPLOY_KEY }}
        """

    @Test("stored and given secrets, environment secrets after approval, the job cache and this slipway on PATH")
    func runsAWorkflow() async throws {
        let (project, executable) = try project()
        defer {
            try? FileManager.default.removeItem(at: project)
            try? FileManager.default.removeItem(at: executable.deletingLastPathComponent())
        }
        let dataDir = project.appendingPathComponent(".slipway")
        let secrets = try SecretStore.open(dataDir: dataDir, environment: [:])
        try secrets.set("REPO_TOKEN", value: "stored-token")
        try secrets.set("DEPLOY_KEY", value: "production-key", environment: "production")
        try EnvironmentStore(dataDir: dataDir).save(DeploymentEnvironment(name: "production", reviewers: ["bob"]))
        let book = ApprovalBook(dataDir: dataDir)
        let approver = Task {
            while !Task.isCancelled {
                for request in (try? book.pending()) ?? [] {
                    _ = try? book.decide(run: request.run, environment: request.environment, reviewer: "bob", approve: true, comment: "fine")
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        defer { approver.cancel() }

        var environment = ProcessInfo.processInfo.environment
        environment["SLIPWAY_MASTER_KEY"] = nil
        let workflow = try WorkflowParser.parse(file: ".github/workflows/build.yml", source: Self.workflow)
        let store = FileRunStore(dataDir: dataDir)
        var records: [RunRecord] = []
        for _ in 1...2 {
            // No store passed: the data folder's is opened because it has a `secrets` folder.
            let configuration = try RunConfiguration.standard(
                project: project, dataDir: dataDir, secrets: ["REPO_TOKEN": "given-token"], executable: executable, environment: environment,
                approvalPollInterval: .milliseconds(20), actor: "alice")
            #expect(configuration.secrets == ["REPO_TOKEN": "given-token"])
            #expect(configuration.baseEnvironment["PATH"]?.hasPrefix(executable.deletingLastPathComponent().path + ":") == true)
            #expect(configuration.hooks.count == 2 && configuration.hooks.first is ApprovalHook && configuration.hooks.last is JobCacheHook)
            #expect(configuration.dispatcher == nil && configuration.remoteOnly == false)
            records.append(try await WorkflowExecution(workflow: workflow, configuration: configuration, store: store).run())
        }
        for record in records { #expect(record.conclusion == .success, "\(record.jobs.map { "\($0.key): \($0.conclusion?.rawValue ?? "-")" })") }
        let first = records[0]
        #expect(first.job("build")?.cached == false)
        #expect(first.job("build")?.outputs["size"] == "8")
        let buildLog = logs(first, store, job: "build")
        #expect(buildLog.contains("tool slipway says: build --fast"))
        #expect(buildLog.contains("repository token: given one wins"))
        let deployLog = logs(first, store, job: "deploy")
        #expect(deployLog.contains("deploy key: the environment's own"))
        #expect(deployLog.contains("deploying size 8"))
        #expect(deployLog.contains("masked: ***") && !deployLog.contains("production-key"))
        #expect(try book.get(run: first.id, environment: "production")?.reviewer == "bob")
        // The second run restores the build job from the cache and still deploys.
        #expect(records[1].job("build")?.cached == true)
        #expect(records[1].job("build")?.outputs["size"] == "8")
        #expect(records[1].job("deploy")?.conclusion == .success)
        #expect(try String(contentsOf: project.appendingPathComponent("built.txt"), encoding: .utf8).contains("8"))
    }

    @Test("cache off, forced jobs, options set afterwards, and an existing PATH entry not repeated")
    func options() async throws {
        let (project, executable) = try project()
        defer {
            try? FileManager.default.removeItem(at: project)
            try? FileManager.default.removeItem(at: executable.deletingLastPathComponent())
        }
        let dataDir = project.appendingPathComponent(".slipway")
        let tools = executable.deletingLastPathComponent().path
        let environment = ["PATH": tools + ":/usr/bin:/bin", "HOME": project.path]
        var configuration = try RunConfiguration.standard(
            project: project, dataDir: dataDir, event: "workflow_dispatch", inputs: ["size": "3"], executable: executable, environment: environment,
            cache: false, force: ["build"])
        #expect(configuration.baseEnvironment["PATH"] == tools + ":/usr/bin:/bin")
        #expect(configuration.event == "workflow_dispatch" && configuration.inputs == ["size": "3"])
        #expect(configuration.secrets.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dataDir.appendingPathComponent("secrets").path), "no store is created when none is asked for")
        let cache = try #require(configuration.hooks.last as? JobCacheHook)
        #expect(cache.enabled == false && cache.force == ["build"])
        #expect(try configuration.environmentSecrets?("production") == [:])
        configuration.parallelism = 1
        configuration.cancelGrace = .seconds(1)
        let workflow = try WorkflowParser.parse(
            file: ".github/workflows/w.yml",
            source: """
                on:
                  workflow_dispatch:
                    inputs:
                      size: {required: true}
                jobs:
                  build:
                    runs-on: ubuntu-latest
                    cache:
                      inputs: [input.txt]
                    steps:
                      - run: slipway size ${{ inputs.size }}
                """)
        let store = FileRunStore(dataDir: dataDir)
        for _ in 1...2 {
            let record = try await WorkflowExecution(workflow: workflow, configuration: configuration, store: store).run()
            #expect(record.conclusion == .success)
            #expect(record.job("build")?.cached == false)
            #expect(logs(record, store, job: "build").contains("tool slipway says: size 3"))
        }
    }

    @Test("a master key that does not open the stored secrets fails before anything runs")
    func wrongMasterKey() throws {
        let (project, executable) = try project()
        defer {
            try? FileManager.default.removeItem(at: project)
            try? FileManager.default.removeItem(at: executable.deletingLastPathComponent())
        }
        let dataDir = project.appendingPathComponent(".slipway")
        try SecretStore.open(dataDir: dataDir, environment: [:]).set("TOKEN", value: "kept")
        for key in ["too short", "another passphrase that is long enough"] {
            #expect(throws: (any Error).self) {
                _ = try RunConfiguration.standard(
                    project: project, dataDir: dataDir, executable: executable, environment: ["SLIPWAY_MASTER_KEY": key, "PATH": "/usr/bin"])
            }
        }
        // The key file still opens them.
        let configuration = try RunConfiguration.standard(
            project: project, dataDir: dataDir, executable: executable, environment: ["PATH": "/usr/bin"])
        #expect(configuration.secrets == ["TOKEN": "kept"])
        // A data folder that cannot hold the job cache (a file in its place) is refused.
        let blocked = project.appendingPathComponent("blocked")
        try Data("not a folder".utf8).write(to: blocked)
        #expect(throws: (any Error).self) {
            _ = try RunConfiguration.standard(project: project, dataDir: blocked, executable: executable, environment: ["PATH": "/usr/bin"])
        }
    }
}
