import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `slipway run` with content-cached jobs, stored secrets and a protected environment, as real child
/// processes on a real project folder.
@Suite("Pipeline cache, secrets and approvals", .timeLimit(.minutes(3)))
struct PipelineCacheApprovalTests {
    static let workflow = """
        name: ml
        on: [push, workflow_dispatch]
        jobs:
          train:
            runs-on: self-hosted
            cache:
              inputs: [data/**]
              outputs: [model.txt]
            outputs:
              rows: ${{ steps.t.outputs.rows }}
            steps:
              - id: t
                run: |
                  echo ran >> executions.log
                  wc -l < data/in.csv | tr -d ' ' > model.txt
                  echo "rows=$(cat model.txt)" >> "$GITHUB_OUTPUT"
                  echo "token is $API_TOKEN"
                env:
                  API_TOKEN: ${{ secrets.API_TOKEN }}
          deploy:
            needs: train
            runs-on: self-hosted
            environment: production
            steps:
              - run: echo "deploying ${{ needs.train.outputs.rows }} rows with key $DEPLOY_KEY"
                env:
                  DEPLOY_KEY: ${{ secrets.DEPLOY_KEY }}

        """

    static func project() throws -> URL {
        let root = try makeScratchFolder("pipeline-cache")
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".slipway/workflows"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("data"), withIntermediateDirectories: true)
        try workflow.write(to: root.appendingPathComponent(".slipway/workflows/ml.yml"), atomically: true, encoding: .utf8)
        try "a,b\n1,2\n".write(to: root.appendingPathComponent("data/in.csv"), atomically: true, encoding: .utf8)
        return root
    }

    static func jobs(_ stdout: String) throws -> [String: [String: Any]] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "not JSON: \(stdout)")
        return try #require(object["jobs"] as? [String: [String: Any]])
    }

    static func executions(_ root: URL) -> Int {
        ((try? String(contentsOf: root.appendingPathComponent("executions.log"), encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test func unchangedJobsAreRestoredFromTheCacheAndChangesRunAgain() async throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(at: root) }
        let secret = "tok-\(UUID().uuidString)"
        #expect(try await runCLI(["secret", "set", "API_TOKEN"], in: root, stdin: Data(secret.utf8)).status == 0)

        let first = try await runCLI(["run", "ml", "--json"], in: root)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Self.jobs(first.stdout)["train"]?["cached"] as? Bool == false)
        #expect(first.stderr.contains("token is ***") && !first.stderr.contains(secret) && !first.stdout.contains(secret))
        #expect(Self.executions(root) == 1)

        try FileManager.default.removeItem(at: root.appendingPathComponent("model.txt"))
        let second = try await runCLI(["run", "ml", "--json"], in: root)
        #expect(second.status == 0, "\(second.stderr)")
        let cached = try Self.jobs(second.stdout)["train"]
        #expect(cached?["cached"] as? Bool == true)
        #expect((cached?["outputs"] as? [String: String])?["rows"] == "2")
        #expect(Self.executions(root) == 1, "the cached job ran again")
        #expect(try String(contentsOf: root.appendingPathComponent("model.txt"), encoding: .utf8) == "2\n", "the output was not restored")

        #expect(try await runCLI(["run", "ml", "--no-cache"], in: root).status == 0)
        #expect(Self.executions(root) == 2)
        #expect(try await runCLI(["run", "ml", "--force", "train"], in: root).status == 0)
        #expect(Self.executions(root) == 3)

        try "a,b\n1,2\n3,4\n".write(to: root.appendingPathComponent("data/in.csv"), atomically: true, encoding: .utf8)
        let changed = try await runCLI(["run", "ml", "--json"], in: root)
        #expect(try Self.jobs(changed.stdout)["train"]?["cached"] as? Bool == false)
        #expect(Self.executions(root) == 4)
        #expect(try String(contentsOf: root.appendingPathComponent("model.txt"), encoding: .utf8) == "3\n")

        // Nothing the cache keeps holds the secret.
        let cacheFolder = root.appendingPathComponent(".slipway")
        let enumerator = FileManager.default.enumerator(at: cacheFolder, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            let text = String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self)
            #expect(!text.contains(secret), "\(url.path) holds the secret")
        }
    }

    /// Starts `slipway run` in the background as `user`.
    static func startRun(_ root: URL, user: String) throws -> BackgroundCLI {
        try BackgroundCLI(["run", "ml", "--json"], in: root, environment: ["USER": user])
    }

    /// The run waiting for approval, polled with a deadline.
    static func waitingRun(_ root: URL) async throws -> String {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let pending = try await runCLI(["approve", "--json"], in: root)
            if let list = try? JSONSerialization.jsonObject(with: Data(pending.stdout.utf8)) as? [[String: Any]], let run = list.first?["run"] as? String {
                return run
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("no run asked for approval within 60 s")
    }

    @Test func aProtectedEnvironmentWaitsForAReviewerAndOnlyThenGetsItsSecrets() async throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(at: root) }
        let key = "deploy-key-\(UUID().uuidString)"
        #expect(try await runCLI(["secret", "set", "DEPLOY_KEY", "--env", "production"], in: root, stdin: Data(key.utf8)).status == 0)
        #expect(try await runCLI(["secret", "set", "API_TOKEN"], in: root, stdin: Data("repository-token".utf8)).status == 0)
        let created = try await runCLI(["env", "create", "production", "--reviewers", "alice,bob", "--prevent-self-review"], in: root)
        #expect(created.status == 0, "\(created.stderr)")

        let run = try Self.startRun(root, user: "carol")
        defer { run.signal(SIGKILL) }
        let id = try await Self.waitingRun(root)
        let outsider = try await runCLI(["approve", id, "--env", "production"], in: root, environment: ["USER": "mallory"])
        #expect(outsider.status != 0 && outsider.stderr.contains("not a reviewer"))
        #expect(run.process.isRunning, "the run did not wait for its approval")
        let approved = try await runCLI(["approve", id, "--env", "production", "--comment", "ship it"], in: root, environment: ["USER": "bob"])
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(await run.exit(within: 120) == 0)
        let stdout = run.stdout
        let stderr = run.stderr
        #expect(try Self.jobs(stdout)["deploy"]?["conclusion"] as? String == "success")
        #expect(stderr.contains("approved by bob: ship it"))
        #expect(stderr.contains("rows with key ***"), "the environment secret did not reach the job masked: \(stderr)")
        #expect(!stderr.contains(key) && !stdout.contains(key))
        let again = try await runCLI(["approve", id, "--env", "production"], in: root, environment: ["USER": "alice"])
        #expect(again.status != 0, "a second decision was accepted")
    }

    @Test func aRejectedDeploymentFailsTheJobWithTheReviewersWords() async throws {
        let root = try Self.project()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try await runCLI(["env", "create", "production", "--reviewers", "alice"], in: root).status == 0)
        let run = try Self.startRun(root, user: "carol")
        defer { run.signal(SIGKILL) }
        let id = try await Self.waitingRun(root)
        let rejected = try await runCLI(["approve", id, "--env", "production", "--reject", "--comment", "metrics look off"], in: root, environment: ["USER": "alice"])
        #expect(rejected.status == 0, "\(rejected.stderr)")
        #expect(await run.exit(within: 120) == 1)
        let stdout = run.stdout
        #expect(try Self.jobs(stdout)["deploy"]?["conclusion"] as? String == "failure")
        #expect(run.stderr.contains("rejected by alice: metrics look off"))
    }
}
