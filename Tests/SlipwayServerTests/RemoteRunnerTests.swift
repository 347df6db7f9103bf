import Foundation
import SlipwayCore
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Remote runners: `slipway runner` processes taking jobs from a real server, with `slipway run --server` routing by
/// `runs-on` labels.
@Suite("Remote runners", .endToEnd, .timeLimit(.minutes(4)))
struct RemoteRunnerTests {
    func project(_ workflow: String, files: [String: String] = [:]) throws -> URL {
        let folder = try makeScratchFolder("remote")
        let directory = folder.appendingPathComponent(".slipway/workflows")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try workflow.write(to: directory.appendingPathComponent("flow.yml"), atomically: true, encoding: .utf8)
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return folder
    }

    func object(_ text: String) throws -> [String: Any] { try jsonObject(text) }

    let routed = """
        name: routed
        on: [push, workflow_dispatch]
        jobs:
          prepare:
            runs-on: [self-hosted, linux]
            outputs:
              where: ${{ steps.w.outputs.where }}
            steps:
              - id: w
                run: |
                  echo "where=${{ runner.name }}" >> "$GITHUB_OUTPUT"
                  mkdir -p out && echo "features from ${{ runner.name }}" > out/features.txt
              - uses: actions/upload-artifact@v4
                with: {name: features, path: out/}
          train:
            needs: prepare
            runs-on: [self-hosted, gpu, cuda12]
            outputs:
              where: ${{ steps.t.outputs.where }}
            steps:
              - uses: actions/download-artifact@v4
                with: {name: features, path: in}
              - id: t
                run: |
                  cat in/features.txt
                  cat params.txt
                  echo "token is $TOKEN"
                  echo "prepared on ${{ needs.prepare.outputs.where }}"
                  echo "where=$RUNNER_NAME" >> "$GITHUB_OUTPUT"
                  mkdir -p model && echo "weights from $RUNNER_NAME" > model/weights.txt
                env:
                  TOKEN: ${{ secrets.TOKEN }}
              - uses: actions/upload-artifact@v4
                with: {name: model, path: model/}
          tpu:
            runs-on: [self-hosted, tpu]
            steps:
              - run: echo "tpu job on $RUNNER_NAME"
          report:
            needs: [train, tpu]
            runs-on: [self-hosted, linux]
            steps:
              - uses: actions/download-artifact@v4
                with: {name: model, path: got}
              - run: |
                  cat got/weights.txt
                  echo "trained on ${{ needs.train.outputs.where }}"

        """

    @Test("jobs go to the runner that has all their labels; outputs, artifacts and masked logs cross between machines")
    func labelRouting() async throws {
        let server = try await ServerProcess(label: "runners")
        defer { server.cleanUp() }
        let folder = try project(routed, files: ["params.txt": "lr=0.1\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        // The runners' homes are elsewhere, as on other machines.
        let homes = try makeScratchFolder("remote-homes")
        defer { try? FileManager.default.removeItem(at: homes) }
        let gpuHome = homes.appendingPathComponent("gpu-home")
        let tpuHome = homes.appendingPathComponent("tpu-home")
        for home in [gpuHome, tpuHome] { try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true) }
        let environment = ["SLIPWAY_TOKEN": server.adminToken]
        let gpu = try BackgroundCLI(
            ["runner", "--server", server.url, "--labels", "gpu,cuda12", "--name", "gpu-runner"], in: gpuHome, environment: environment)
        let tpu = try BackgroundCLI(
            ["runner", "--server", server.url, "--labels", "tpu", "--name", "tpu-runner"], in: tpuHome, environment: environment)
        defer {
            gpu.signal(SIGKILL)
            tpu.signal(SIGKILL)
        }
        #expect(await gpu.wait { gpu.stdout.contains("registered") }, "\(gpu.stdout)\(gpu.stderr)")
        #expect(await tpu.wait { tpu.stdout.contains("registered") }, "\(tpu.stdout)\(tpu.stderr)")

        let run = try await runCLI(
            ["run", "flow.yml", "--server", server.url, "--json"], in: folder, environment: environment.merging(["SLIPWAY_SECRET_TOKEN": "s3cr3t-gpu-key"]) { $1 })
        #expect(run.status == 0, "\(run.stderr)\n--- gpu runner:\n\(gpu.stdout)\(gpu.stderr)")
        let result = try object(run.stdout)
        #expect(result["conclusion"] as? String == "success")
        let jobs = try #require(result["jobs"] as? [String: [String: Any]])
        let trainOutputs = jobs["train"]?["outputs"] as? [String: String]
        #expect(trainOutputs?["where"] == "gpu-runner")
        let prepareOutputs = jobs["prepare"]?["outputs"] as? [String: String]
        #expect(prepareOutputs?["where"]?.hasPrefix("local-") == true)

        // The run's record says where each job ran, and holds the remote steps and their logs.
        let id = try #require(result["id"] as? String)
        let show = try await runCLI(["runs", "show", id, "--json"], in: folder)
        let record = try object(show.stdout)
        let records = try #require(record["jobs"] as? [[String: Any]])
        let runners = Dictionary(uniqueKeysWithValues: records.map { ($0["key"] as? String ?? "", $0["runner"] as? String ?? "") })
        #expect(runners["train"] == "gpu-runner")
        #expect(runners["tpu"] == "tpu-runner")
        #expect(runners["report"]?.hasPrefix("local-") == true)
        let trainSteps = records.first { $0["key"] as? String == "train" }?["steps"] as? [[String: Any]] ?? []
        #expect(trainSteps.count == 3)

        let logs = try await runCLI(["runs", "logs", id], in: folder)
        #expect(logs.status == 0, "\(logs.stderr)")
        #expect(logs.stdout.contains("features from local-"), "the artifact from this machine reached the gpu runner:\n\(logs.stdout)")
        #expect(logs.stdout.contains("lr=0.1"), "the workspace reached the gpu runner")
        #expect(logs.stdout.contains("prepared on local-"))
        #expect(logs.stdout.contains("weights from gpu-runner"), "the artifact from the gpu runner came back")
        #expect(logs.stdout.contains("tpu job on tpu-runner"))
        #expect(logs.stdout.contains("token is ***"))
        for text in [run.stdout, run.stderr, logs.stdout, gpu.stdout] {
            #expect(!text.contains("s3cr3t-gpu-key"), "a secret leaked")
        }
        // Live output streamed from the runner.
        #expect(run.stderr.contains("train / ") && run.stderr.contains("started on remote runner gpu-runner"), "\(run.stderr)")
        // The runners stay registered and idle for more work.
        let list = try await server.call(.GET, "/api/v1/runners", token: server.adminToken)
        let listed = list.object["runners"] as? [[String: Any]] ?? []
        #expect(Set(listed.compactMap { $0["name"] as? String }) == ["gpu-runner", "tpu-runner"])
        #expect(listed.allSatisfy { $0["state"] as? String == "idle" })
    }

    @Test("a job waits visibly for a runner with its labels; an ephemeral runner takes one job and exits")
    func waitsForRunnerAndEphemeral() async throws {
        let server = try await ServerProcess(label: "runners-wait")
        defer { server.cleanUp() }
        let folder = try project(
            """
            on: push
            jobs:
              accelerate:
                runs-on: [self-hosted, fpga]
                steps:
                  - run: echo "ran on $RUNNER_NAME"
            """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let environment = ["SLIPWAY_TOKEN": server.adminToken]
        let run = try BackgroundCLI(["run", "flow.yml", "--server", server.url], in: folder, environment: environment)
        defer { run.signal(SIGKILL) }
        #expect(
            await run.wait { run.stdout.contains("waiting for a runner with labels [self-hosted, fpga] (no runner is registered") },
            "\(run.stdout)\(run.stderr)")
        #expect(run.process.isRunning)
        let home = folder.appendingPathComponent("fpga-home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let runner = try BackgroundCLI(
            ["runner", "--server", server.url, "--labels", "fpga", "--name", "fpga-once", "--ephemeral"], in: home, environment: environment)
        defer { runner.signal(SIGKILL) }
        #expect(await run.exit(within: 90) == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("ran on fpga-once"))
        #expect(await runner.exit(within: 30) == 0, "the ephemeral runner exits after its job: \(runner.stdout)\(runner.stderr)")
        let list = try await server.call(.GET, "/api/v1/runners", token: server.adminToken)
        #expect((list.object["runners"] as? [Any])?.isEmpty == true, "\(list.text)")
    }

    @Test("cancelling the run stops the job on the runner, which stays ready for the next one")
    func cancellation() async throws {
        let server = try await ServerProcess(label: "runners-cancel")
        defer { server.cleanUp() }
        let marker = try makeScratchFolder("remote-sleep")
        defer { try? FileManager.default.removeItem(at: marker) }
        let pidFile = marker.appendingPathComponent("sleep.pid")
        let folder = try project(
            """
            on: push
            jobs:
              long:
                runs-on: [self-hosted, gpu]
                steps:
                  - run: |
                      sleep 300 &
                      echo $! > "\(pidFile.path)"
                      echo "sleeping on $RUNNER_NAME"
                      wait
            """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let environment = ["SLIPWAY_TOKEN": server.adminToken]
        let home = folder.appendingPathComponent("gpu-home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let runner = try BackgroundCLI(["runner", "--server", server.url, "--labels", "gpu", "--name", "gpu-box"], in: home, environment: environment)
        defer { runner.signal(SIGKILL) }
        let run = try BackgroundCLI(["run", "flow.yml", "--server", server.url, "--cancel-grace", "1"], in: folder, environment: environment)
        defer { run.signal(SIGKILL) }
        #expect(await run.wait { run.stdout.contains("sleeping on gpu-box") }, "\(run.stdout)\(run.stderr)")
        run.signal(SIGINT)
        let status = await run.exit(within: 90)
        #expect(status != nil && status != 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("cancelled"), "\(run.stdout)")
        #expect(await runner.wait(seconds: 30) { runner.stdout.contains("Job long: cancelled") }, "\(runner.stdout)\(runner.stderr)")
        #expect(runner.process.isRunning)
        // No sleep is left behind on the runner.
        let leftover = try await runCLI(["runs", "list"], in: folder)
        #expect(leftover.status == 0)
        let pid = try #require(Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let gone = await runner.wait(seconds: 30) { !isAlive(pid) }
        #expect(gone, "the step's sleep (pid \(pid)) outlived the cancelled job")
        let list = try await server.call(.GET, "/api/v1/runners", token: server.adminToken)
        #expect((list.object["runners"] as? [[String: Any]])?.first?["state"] as? String == "idle", "\(list.text)")
        await runner.stop()
    }

    @Test("--remote-only sends every job to the runners, GitHub-hosted names included")
    func remoteOnly() async throws {
        let server = try await ServerProcess(label: "runners-only")
        defer { server.cleanUp() }
        let folder = try project(
            """
            on: push
            jobs:
              lint:
                runs-on: ubuntu-latest
                steps:
                  - run: echo "lint on $RUNNER_NAME"
              test:
                needs: lint
                runs-on: [self-hosted, linux]
                strategy:
                  matrix:
                    shard: [1, 2]
                steps:
                  - run: echo "shard ${{ matrix.shard }} on $RUNNER_NAME"
            """)
        defer { try? FileManager.default.removeItem(at: folder) }
        let environment = ["SLIPWAY_TOKEN": server.adminToken]
        let home = folder.appendingPathComponent("box-home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let runner = try BackgroundCLI(["runner", "--server", server.url, "--name", "build-box"], in: home, environment: environment)
        defer { runner.signal(SIGKILL) }
        let run = try await runCLI(["run", "flow.yml", "--server", server.url, "--remote-only", "--json"], in: folder, environment: environment)
        #expect(run.status == 0, "\(run.stderr)\n\(runner.stdout)")
        let id = try #require(try object(run.stdout)["id"] as? String)
        let record = try object(try await runCLI(["runs", "show", id, "--json"], in: folder).stdout)
        let jobs = try #require(record["jobs"] as? [[String: Any]])
        #expect(jobs.count == 3)
        #expect(jobs.allSatisfy { $0["runner"] as? String == "build-box" }, "\(jobs)")
        #expect(run.stderr.contains("shard 2 on build-box"))
        await runner.stop()
    }

    /// A job payload as `slipway run` sends it, with the given run id and workspace digest.
    func payload(runID: String, workspace: String?) throws -> String {
        var job: [String: Any] = [
            "runID": runID, "runNumber": 1, "key": "evil", "name": "evil", "jobId": "evil", "workflowFile": ".slipway/workflows/flow.yml",
            "workflowSource": "on: push\njobs:\n  evil:\n    runs-on: [self-hosted, hostile]\n    steps:\n      - run: echo ran\n",
            "event": "push", "inputs": [String: String](), "inputsContext": "{}", "secrets": [String: String](), "vars": [String: String](),
            "git": [String: String](), "actor": "mallory", "verbose": false, "cancelGraceMilliseconds": 1000, "needs": "{}", "strategy": "{}",
            "matrix": "{}", "env": [Any](), "timeoutMinutes": 1, "artifacts": [Any](),
        ]
        if let workspace { job["workspace"] = workspace }
        return String(decoding: try JSONSerialization.data(withJSONObject: job), as: UTF8.self)
    }

    @Test("a runner refuses a hostile job: a workspace archive reaching outside its folder, a run id that is a path")
    func hostileJobs() async throws {
        let server = try await ServerProcess(label: "runners-hostile")
        defer { server.cleanUp() }
        let scratch = try makeScratchFolder("remote-hostile")
        defer { try? FileManager.default.removeItem(at: scratch) }
        // An archive whose member has an absolute name: extracted as is, it would write outside the workspace.
        let target = scratch.appendingPathComponent("escaped.txt")
        try Data("written by the archive".utf8).write(to: target)
        let archive = scratch.appendingPathComponent("evil.tar")
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-cPf", archive.path, target.path]
        try tar.run()
        tar.waitUntilExit()
        try #require(tar.terminationStatus == 0)
        try FileManager.default.removeItem(at: target)
        let bytes = try Data(contentsOf: archive)
        let digest = Digest(of: bytes)
        let stored = try await server.call(.PUT, "/api/v1/artifacts/\(digest)", token: server.adminToken, body: ByteBuffer(data: bytes))
        #expect(stored.status == 200 || stored.status == 201, "\(stored.text)")

        let home = scratch.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let runner = try BackgroundCLI(
            ["runner", "--server", server.url, "--labels", "hostile", "--name", "careful"], in: home, environment: ["SLIPWAY_TOKEN": server.adminToken])
        defer { runner.signal(SIGKILL) }
        #expect(await runner.wait { runner.stdout.contains("registered") }, "\(runner.stdout)\(runner.stderr)")

        for (runID, workspace, expected) in [
            ("1", digest.description, "outside the workspace"), ("../../etc", nil, "is not a plain name"),
        ] {
            let body = try JSONSerialization.data(withJSONObject: [
                "name": "evil", "run": "1", "labels": ["self-hosted", "hostile"], "payload": try payload(runID: runID, workspace: workspace),
            ])
            let submitted = try await server.call(
                .POST, "/api/v1/pipeline-jobs", token: server.adminToken, json: String(decoding: body, as: UTF8.self))
            let id = try #require(submitted.object["id"] as? String, "\(submitted.text)")
            var status: [String: Any] = [:]
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                status = try await server.call(.GET, "/api/v1/pipeline-jobs/\(id)?wait=5", token: server.adminToken).object
                if status["state"] as? String == "completed" { break }
            }
            #expect(status["state"] as? String == "completed", "\(status)")
            let result = try jsonObject(status["result"] as? String ?? "")
            #expect(result["conclusion"] as? String == "failure")
            #expect((result["error"] as? String)?.contains(expected) == true, "\(result)")
        }
        #expect(!FileManager.default.fileExists(atPath: target.path), "the archive wrote outside the workspace")
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(".slipway-runner/etc").path))
        #expect(runner.process.isRunning, "the runner stays up for the next job")
    }

    @Test("run --server with a bad URL or without a token fails clearly; runner needs a server")
    func badInvocations() async throws {
        let folder = try project("on: push\njobs:\n  a:\n    runs-on: [self-hosted, gpu]\n    steps:\n      - run: echo hi\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let noServer = try await runCLI(["runner", "--labels", "gpu"], in: folder)
        #expect(noServer.status != 0)
        #expect(noServer.stderr.contains("--server"))
        let badURL = try await runCLI(["run", "flow.yml", "--server", "ftp://example"], in: folder)
        #expect(badURL.status != 0)
        #expect(badURL.stderr.contains("http://"))
        let remoteOnly = try await runCLI(["run", "flow.yml", "--remote-only"], in: folder)
        #expect(remoteOnly.status != 0)
        #expect(remoteOnly.stderr.contains("--remote-only needs"))
        let server = try await ServerProcess(label: "runners-token")
        defer { server.cleanUp() }
        let unauthorised = try await runCLI(["run", "flow.yml", "--server", server.url], in: folder)
        #expect(unauthorised.status != 0)
        #expect(unauthorised.stdout.contains("token"), "\(unauthorised.stdout)\(unauthorised.stderr)")
        let runnerUnauthorised = try await runCLI(["runner", "--server", server.url, "--labels", "gpu"], in: folder)
        #expect(runnerUnauthorised.status != 0)
        #expect(runnerUnauthorised.stderr.contains("token"), "\(runnerUnauthorised.stderr)")
    }
}
