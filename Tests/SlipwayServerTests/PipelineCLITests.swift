import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `slipway run` and `slipway runs` as real child processes.
@Suite("Pipeline CLI", .timeLimit(.minutes(2)))
struct PipelineCLITests {
    func project(_ workflows: [String: String]) throws -> URL { try makeWorkflowProject("pipeline", workflows) }

    func object(_ text: String) throws -> [String: Any] { try jsonObject(text) }

    let passing = """
        name: Pass
        on: [push, workflow_dispatch]
        jobs:
          build:
            runs-on: ubuntu-latest
            outputs:
              v: ${{ steps.s.outputs.v }}
            steps:
              - id: s
                run: |
                  echo "building with $TOKEN"
                  echo "v=7" >> "$GITHUB_OUTPUT"
                env:
                  TOKEN: ${{ secrets.TOKEN }}
          test:
            needs: build
            runs-on: ubuntu-latest
            strategy:
              matrix:
                py: ["3.10", "3.11"]
            steps:
              - run: echo "test ${{ matrix.py }} of ${{ needs.build.outputs.v }}"

        """

    @Test("run --json prints one object on stdout, exits 0 on success, and runs list/show/logs read the record")
    func runAndHistory() async throws {
        let folder = try project(["pass.yml": passing])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try await runCLI(["run", "pass.yml", "--json"], in: folder, environment: ["SLIPWAY_SECRET_TOKEN": "very-secret-token"])
        #expect(run.status == 0, "\(run.stderr)")
        let result = try object(run.stdout)
        #expect(result["conclusion"] as? String == "success")
        let id = try #require(result["id"] as? String)
        let jobs = try #require(result["jobs"] as? [String: [String: Any]])
        #expect(Set(jobs.keys) == ["build", "test (3.10)", "test (3.11)"])
        #expect((jobs["build"]?["outputs"] as? [String: String]) == ["v": "7"])
        #expect(jobs["build"]?["cached"] as? Bool == false)
        #expect(run.stderr.contains("building with ***"))
        #expect(!run.stderr.contains("very-secret-token"))

        let list = try await runCLI(["runs", "list", "--json"], in: folder)
        #expect(list.status == 0)
        let runs = try #require(try object(list.stdout)["runs"] as? [[String: Any]])
        #expect(runs.first?["id"] as? String == id)
        let table = try await runCLI(["runs", "list"], in: folder)
        #expect(table.stdout.contains(id) && table.stdout.contains("success"))

        let show = try await runCLI(["runs", "show", id, "--json"], in: folder)
        #expect(show.status == 0)
        let record = try object(show.stdout)
        #expect(record["workflow"] as? String == ".github/workflows/pass.yml")
        #expect((record["jobs"] as? [[String: Any]])?.count == 3)
        let text = try await runCLI(["runs", "show", id], in: folder)
        #expect(text.stdout.contains("test (3.11): success"))

        let logs = try await runCLI(["runs", "logs", id, "--job", "build"], in: folder)
        #expect(logs.status == 0)
        #expect(logs.stdout.contains("building with ***"))
        #expect(!logs.stdout.contains("very-secret-token"))
        #expect(!logs.stdout.contains("test 3.10"))
        let all = try await runCLI(["runs", "logs", id], in: folder)
        #expect(all.stdout.contains("test 3.10 of 7"))

        let missing = try await runCLI(["runs", "show", "12345"], in: folder)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no run '12345'"))
        let hostile = try await runCLI(["runs", "logs", "../../etc"], in: folder)
        #expect(hostile.status != 0)
        let noJob = try await runCLI(["runs", "logs", id, "--job", "nope"], in: folder)
        #expect(noJob.status != 0 && noJob.stderr.contains("has no job 'nope'"))
    }

    @Test("a failing run exits non-zero with conclusion failure; bad input is refused before anything runs")
    func failuresAndBadInput() async throws {
        let failing = """
            on: push
            jobs:
              broken:
                runs-on: ubuntu-latest
                steps:
                  - run: exit 4

            """
        let folder = try project(["fail.yml": failing, "pass.yml": passing])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try await runCLI(["run", "fail.yml", "--json"], in: folder)
        #expect(run.status == 1)
        let result = try object(run.stdout)
        #expect(result["conclusion"] as? String == "failure")
        #expect(run.stderr.contains("Process completed with exit code 4."))

        let unknown = try await runCLI(["run", "nothing.yml"], in: folder)
        #expect(unknown.status != 0 && unknown.stderr.contains("no workflow 'nothing.yml'"))
        let input = try await runCLI(["run", "pass.yml", "--event", "workflow_dispatch", "--input", "bogus=1"], in: folder)
        #expect(input.status == 2 && input.stderr.contains("unknown input 'bogus'"))
        let event = try await runCLI(["run", "pass.yml", "--event", "schedule"], in: folder)
        #expect(event.status == 2)
        let malformed = try await runCLI(["run", "pass.yml", "--input", "novalue"], in: folder)
        #expect(malformed.status == 2)
        let secret = try await runCLI(["run", "pass.yml", "--secret", "UNSET_VARIABLE_FOR_TEST"], in: folder)
        #expect(secret.status == 2 && secret.stderr.contains("is not set"))
        // Nothing ran for the refused invocations: only the failing run is recorded.
        let list = try await object(runCLI(["runs", "list", "--json"], in: folder).stdout)
        #expect((list["runs"] as? [[String: Any]])?.count == 1)

        try "on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n".write(
            to: folder.appendingPathComponent(".github/workflows/bad.yml"), atomically: true, encoding: .utf8)
        let bad = try await runCLI(["run", "bad.yml"], in: folder)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.yml:"))
    }

    @Test("without a workflow, every workflow whose trigger matches the event runs")
    func eventSelection() async throws {
        let dispatchOnly = """
            on: workflow_dispatch
            jobs:
              manual:
                runs-on: ubuntu-latest
                steps:
                  - run: echo manual

            """
        let folder = try project(["pass.yml": passing, "manual.yml": dispatchOnly])
        defer { try? FileManager.default.removeItem(at: folder) }
        let push = try await runCLI(["run", "--json"], in: folder)
        #expect(push.status == 0, "\(push.stderr)")
        let result = try object(push.stdout)
        #expect((result["jobs"] as? [String: Any])?.keys.contains("build") == true)
        let dispatch = try await runCLI(["run", "--event", "workflow_dispatch", "--json"], in: folder)
        #expect(dispatch.status == 0, "\(dispatch.stderr)")
        let both = try object(dispatch.stdout)
        #expect((both["runs"] as? [[String: Any]])?.count == 2)
    }

    @Test("SIGTERM cancels a run: the step gets SIGINT, always() steps still run, the conclusion is cancelled")
    func signalCancels() async throws {
        // The step runs for minutes so that it is still running however late this test gets to send the signal
        // on a loaded machine; the cancellation is what ends it.
        let long = """
            on: push
            jobs:
              long:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      trap 'echo interrupted-by-sigint; exit 130' INT
                      touch started
                      for i in $(seq 1 6000); do sleep 0.05; done
                  - if: always()
                    run: echo always-ran

            """
        let folder = try project(["long.yml": long])
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = slipwayExecutable()
        process.arguments = ["run", "long.yml", "--json", "--cancel-grace", "2"]
        process.currentDirectoryURL = folder
        let out = folder.appendingPathComponent("run.out")
        let err = folder.appendingPathComponent("run.err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("started").path), Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 1)
        let result = try object(String(contentsOf: out, encoding: .utf8))
        #expect(result["conclusion"] as? String == "cancelled")
        let id = try #require(result["id"] as? String)
        let logs = try await runCLI(["runs", "logs", id], in: folder)
        #expect(logs.stdout.contains("interrupted-by-sigint"))
        #expect(logs.stdout.contains("always-ran"))
    }

    @Test("cancel-in-progress across two slipway run processes; logs --follow streams until the run ends")
    func concurrencyAcrossProcesses() async throws {
        // The first run's step runs for minutes, so the second run always finds it in progress; cancelling ends it.
        let grouped = """
            on: push
            concurrency:
              group: deploy
              cancel-in-progress: true
            jobs:
              deploy:
                runs-on: ubuntu-latest
                steps:
                  - run: |
                      if [ -f first-done ]; then echo second-run; exit 0; fi
                      touch first-started
                      for i in $(seq 1 6000); do sleep 0.05; done
                      echo first-finished

            """
        let folder = try project(["deploy.yml": grouped])
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = Process()
        first.executableURL = slipwayExecutable()
        first.arguments = ["run", "deploy.yml", "--json", "--cancel-grace", "1"]
        first.currentDirectoryURL = folder
        let out = folder.appendingPathComponent("first.out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        first.standardOutput = try FileHandle(forWritingTo: out)
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("first-started").path), Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let runs = try await object(runCLI(["runs", "list", "--json"], in: folder).stdout)["runs"] as? [[String: Any]]
        let firstID = try #require(runs?.first?["id"] as? String)
        try Data().write(to: folder.appendingPathComponent("first-done"))
        let follow = Process()
        follow.executableURL = slipwayExecutable()
        follow.arguments = ["runs", "logs", firstID, "--follow"]
        follow.currentDirectoryURL = folder
        let followOut = folder.appendingPathComponent("follow.out")
        _ = FileManager.default.createFile(atPath: followOut.path, contents: nil)
        follow.standardOutput = try FileHandle(forWritingTo: followOut)
        follow.standardError = FileHandle.nullDevice
        try follow.run()

        let second = try await runCLI(["run", "deploy.yml", "--json"], in: folder)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("second-run"))
        while first.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let firstResult = try object(String(contentsOf: out, encoding: .utf8))
        #expect(firstResult["conclusion"] as? String == "cancelled")
        while follow.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!follow.isRunning)
        #expect(follow.terminationStatus == 0)
        #expect(!(try String(contentsOf: followOut, encoding: .utf8)).contains("first-finished"))
    }

    @Test("push selection uses the branch and the changed paths from git")
    func pathFilters() async throws {
        let src = """
            on:
              push:
                branches: [main]
                paths: ["src/**"]
            jobs:
              src:
                runs-on: ubuntu-latest
                steps:
                  - run: echo src-ran

            """
        let docs = """
            on:
              push:
                paths: ["docs/**"]
            jobs:
              docs:
                runs-on: ubuntu-latest
                steps:
                  - run: echo docs-ran

            """
        let folder = try project(["src.yml": src, "docs.yml": docs])
        defer { try? FileManager.default.removeItem(at: folder) }
        func git(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"] + arguments
            process.currentDirectoryURL = folder
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
        }
        try git(["init", "-q"])
        try "ignore\n".write(to: folder.appendingPathComponent(".gitignore"), atomically: true, encoding: .utf8)
        try git(["add", ".github", ".gitignore"])
        try git(["commit", "-q", "-m", "workflows"])
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("src"), withIntermediateDirectories: true)
        try "x\n".write(to: folder.appendingPathComponent("src/model.py"), atomically: true, encoding: .utf8)
        try git(["add", "src"])
        try git(["commit", "-q", "-m", "code"])
        let run = try await runCLI(["run", "--json"], in: folder, environment: ["SLIPWAY_DATA_DIR": folder.appendingPathComponent("ignore").path])
        #expect(run.status == 0, "\(run.stderr)")
        let result = try object(run.stdout)
        #expect((result["jobs"] as? [String: Any]).map { Set($0.keys) } == ["src"])
        #expect(run.stderr.contains("src-ran") && !run.stderr.contains("docs-ran"))
    }
}
