import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `slipway runs cancel` and `slipway runs rerun [--failed]` against real `slipway run` child processes.
@Suite("Runs cancel and rerun", .timeLimit(.minutes(2)))
struct RunsCancelRerunTests {
    /// A step that records its process id and then sleeps as that same process.
    let long = """
        on: push
        jobs:
          long:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  echo $$ > sleeper.pid
                  exec sleep 300
          after:
            needs: long
            runs-on: ubuntu-latest
            steps:
              - run: echo after-ran

        """

    /// A succeeds with an output and counts its executions; B fails until the marker file exists (it creates it);
    /// C needs both and reads A's output.
    let flaky = """
        name: Flaky
        on: [push, workflow_dispatch]
        jobs:
          a:
            runs-on: ubuntu-latest
            outputs:
              v: ${{ steps.s.outputs.v }}
            steps:
              - id: s
                run: |
                  echo ran >> a-count.txt
                  echo "v=from-a" >> "$GITHUB_OUTPUT"
          b:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  echo ran >> b-count.txt
                  if [ ! -f second-attempt ]; then touch second-attempt; echo "b fails the first time"; exit 3; fi
                  echo b-passed
          c:
            needs: [a, b]
            runs-on: ubuntu-latest
            steps:
              - run: echo "c sees ${{ needs.a.outputs.v }}"

        """

    let dispatch = """
        on:
          workflow_dispatch:
            inputs:
              n:
                type: number
                required: true
              mode:
                default: fast
        jobs:
          show:
            runs-on: ubuntu-latest
            steps:
              - run: echo "n=${{ inputs.n }} mode=${{ inputs.mode }}" >> dispatch.log

        """

    func project(_ workflows: [String: String]) throws -> URL { try makeWorkflowProject("runs-cancel-rerun", workflows) }

    func object(_ text: String) throws -> [String: Any] { try jsonObject(text) }

    func record(_ id: String, in folder: URL) async throws -> [String: Any] {
        let show = try await runCLI(["runs", "show", id, "--json"], in: folder)
        #expect(show.status == 0, "\(show.stderr)")
        return try object(show.stdout)
    }

    func jobs(_ record: [String: Any]) -> [String: [String: Any]] {
        var jobs: [String: [String: Any]] = [:]
        for job in record["jobs"] as? [[String: Any]] ?? [] { if let key = job["key"] as? String { jobs[key] = job } }
        return jobs
    }

    /// `slipway run ARGS` in the background, its stdout in `run.out`.
    func startRun(_ arguments: [String], in folder: URL) throws -> Process {
        let process = Process()
        process.executableURL = slipwayExecutable()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_CONFIG", "SLIPWAY_DATA_DIR"] { environment[key] = nil }
        process.environment = environment
        let out = folder.appendingPathComponent("run.out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The sleeping step's process id, once it has started.
    func sleeper(in folder: URL, deadline: Date) async throws -> Int32 {
        let file = folder.appendingPathComponent("sleeper.pid")
        while Date() < deadline {
            if let text = try? String(contentsOf: file, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("the long step never started")
    }

    func latestRunID(in folder: URL) async throws -> String {
        let list = try await runCLI(["runs", "list", "--json"], in: folder)
        let runs = try #require(try object(list.stdout)["runs"] as? [[String: Any]])
        return try #require(runs.first?["id"] as? String)
    }

    func isGone(_ pid: Int32, deadline: Date) async throws -> Bool {
        while Date() < deadline {
            // A zombie is gone too: its parent may have ended before reaping it, and not every init reaps.
            if !isAlive(pid) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test("cancel stops a running slipway run: its record ends cancelled and the step's process is gone")
    func cancelRunning() async throws {
        let folder = try project(["long.yml": long])
        defer { try? FileManager.default.removeItem(at: folder) }
        let deadline = Date().addingTimeInterval(90)
        let process = try startRun(["run", "long.yml", "--json", "--cancel-grace", "2"], in: folder)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let sleeper = try await sleeper(in: folder, deadline: deadline)
        defer { kill(sleeper, SIGKILL) }
        let id = try await latestRunID(in: folder)

        // A run still in progress cannot be rerun.
        let rerun = try await runCLI(["runs", "rerun", id], in: folder)
        #expect(rerun.status != 0)
        #expect(rerun.stderr.contains("is still running"), "\(rerun.stderr)")

        let cancel = try await runCLI(["runs", "cancel", id, "--json"], in: folder)
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let summary = try object(cancel.stdout)
        #expect(summary["id"] as? String == id)
        #expect(summary["conclusion"] as? String == "cancelled")
        #expect((summary["jobs"] as? [String: [String: Any]])?["after"]?["conclusion"] as? String == "cancelled")

        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 1)
        #expect(try object(String(contentsOf: folder.appendingPathComponent("run.out"), encoding: .utf8))["conclusion"] as? String == "cancelled")
        #expect(try await isGone(sleeper, deadline: deadline), "the sleeping step survived the cancellation")

        let stored = try await record(id, in: folder)
        #expect(stored["state"] as? String == "completed")
        #expect(stored["conclusion"] as? String == "cancelled")
        #expect(jobs(stored)["long"]?["conclusion"] as? String == "cancelled")

        // Cancelling it again is an error that names its conclusion.
        let again = try await runCLI(["runs", "cancel", id], in: folder)
        #expect(again.status != 0)
        #expect(again.stderr.contains("already ended (cancelled)"), "\(again.stderr)")
    }

    @Test("a record left in progress by a process that is gone is marked cancelled; a stranger's pid is never signalled")
    func staleRecords() async throws {
        let folder = try project(["long.yml": long])
        defer { try? FileManager.default.removeItem(at: folder) }
        let deadline = Date().addingTimeInterval(90)
        let process = try startRun(["run", "long.yml"], in: folder)
        let sleeper = try await sleeper(in: folder, deadline: deadline)
        let id = try await latestRunID(in: folder)
        kill(process.processIdentifier, SIGKILL)
        kill(sleeper, SIGKILL)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try await record(id, in: folder)["state"] as? String == "in_progress")

        let rerun = try await runCLI(["runs", "rerun", id], in: folder)
        #expect(rerun.status != 0)
        #expect(rerun.stderr.contains("recorded as still running") && rerun.stderr.contains("runs cancel"), "\(rerun.stderr)")

        let cancel = try await runCLI(["runs", "cancel", id], in: folder)
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(cancel.stdout.contains("Run \(id) cancelled"), "\(cancel.stdout)")
        #expect(cancel.stderr.contains("marked cancelled"), "\(cancel.stderr)")
        let marked = try await record(id, in: folder)
        #expect(marked["state"] as? String == "completed")
        #expect(marked["conclusion"] as? String == "cancelled")
        #expect((marked["error"] as? String)?.contains("marked cancelled by `slipway runs cancel`") == true)
        let markedJobs = jobs(marked)
        #expect(markedJobs["long"]?["conclusion"] as? String == "cancelled")
        #expect(markedJobs["after"]?["conclusion"] as? String == "cancelled")
        #expect(markedJobs.values.allSatisfy { $0["state"] as? String == "completed" })

        // A record whose pid now belongs to another program: that program is left alone, the record is marked.
        let stranger = Process()
        stranger.executableURL = URL(fileURLWithPath: "/bin/sleep")
        stranger.arguments = ["60"]
        try stranger.run()
        defer { kill(stranger.processIdentifier, SIGKILL) }
        let runs = folder.appendingPathComponent(".slipway/runs")
        var copy = try object(String(contentsOf: runs.appendingPathComponent("\(id)/run.json"), encoding: .utf8))
        for (index, (pid, newID)) in [(stranger.processIdentifier, "7001"), (0, "7002"), (-1, "7003")].enumerated() {
            copy["id"] = newID
            copy["state"] = "in_progress"
            copy["pid"] = pid
            copy["error"] = nil
            copy["conclusion"] = nil
            copy["runNumber"] = 100 + index
            try FileManager.default.createDirectory(at: runs.appendingPathComponent(newID), withIntermediateDirectories: true)
            try JSONSerialization.data(withJSONObject: copy).write(to: runs.appendingPathComponent("\(newID)/run.json"))
            let result = try await runCLI(["runs", "cancel", newID, "--json"], in: folder)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try object(result.stdout)["conclusion"] as? String == "cancelled")
            #expect(try await record(newID, in: folder)["conclusion"] as? String == "cancelled")
        }
        #expect(stranger.isRunning, "runs cancel signalled a process that is not the run's")
    }

    @Test("rerun starts a new run of the same workflow with the same event and inputs, and says which run it reruns")
    func rerunSameInputs() async throws {
        let folder = try project(["dispatch.yml": dispatch])
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try await runCLI(["run", "dispatch.yml", "--event", "workflow_dispatch", "--input", "n=5", "--json"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        let id = try #require(try object(first.stdout)["id"] as? String)

        let rerun = try await runCLI(["runs", "rerun", id, "--json"], in: folder)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try object(rerun.stdout)
        let newID = try #require(summary["id"] as? String)
        #expect(newID != id)
        #expect(summary["conclusion"] as? String == "success")
        let stored = try await record(newID, in: folder)
        #expect(stored["rerunOf"] as? String == id)
        #expect(stored["event"] as? String == "workflow_dispatch")
        #expect(stored["inputs"] as? [String: String] == ["n": "5"])
        #expect(stored["workflow"] as? String == ".github/workflows/dispatch.yml")
        #expect(try await record(id, in: folder)["rerunOf"] == nil)
        let log = try String(contentsOf: folder.appendingPathComponent("dispatch.log"), encoding: .utf8)
        #expect(log == "n=5 mode=fast\nn=5 mode=fast\n")
        let text = try await runCLI(["runs", "show", newID], in: folder)
        #expect(text.stdout.contains("rerun of run \(id)"), "\(text.stdout)")
    }

    @Test("rerun --failed keeps succeeded jobs and their outputs, and runs failed jobs and those that need them")
    func rerunFailed() async throws {
        let folder = try project(["flaky.yml": flaky])
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try await runCLI(["run", "flaky.yml", "--json"], in: folder)
        #expect(first.status == 1, "\(first.stderr)")
        let firstSummary = try object(first.stdout)
        let id = try #require(firstSummary["id"] as? String)
        let firstJobs = try #require(firstSummary["jobs"] as? [String: [String: Any]])
        #expect(firstJobs["a"]?["conclusion"] as? String == "success")
        #expect(firstJobs["b"]?["conclusion"] as? String == "failure")
        #expect(firstJobs["c"]?["conclusion"] as? String == "skipped")

        let rerun = try await runCLI(["runs", "rerun", id, "--failed", "--json"], in: folder)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try object(rerun.stdout)
        let newID = try #require(summary["id"] as? String)
        #expect(summary["conclusion"] as? String == "success")
        let jobSummaries = try #require(summary["jobs"] as? [String: [String: Any]])
        #expect(jobSummaries["a"]?["outputs"] as? [String: String] == ["v": "from-a"])
        #expect(rerun.stderr.contains("reused: succeeded in run \(id)"), "\(rerun.stderr)")
        #expect(rerun.stderr.contains("c sees from-a"), "\(rerun.stderr)")

        // A ran once in all, B twice; C saw A's output.
        #expect(try String(contentsOf: folder.appendingPathComponent("a-count.txt"), encoding: .utf8) == "ran\n")
        #expect(try String(contentsOf: folder.appendingPathComponent("b-count.txt"), encoding: .utf8) == "ran\nran\n")
        let stored = try await record(newID, in: folder)
        #expect(stored["rerunOf"] as? String == id)
        let jobs = jobs(stored)
        #expect(jobs["a"]?["reusedFrom"] as? String == id)
        #expect(jobs["a"]?["conclusion"] as? String == "success")
        #expect((jobs["a"]?["steps"] as? [Any])?.isEmpty == true)
        #expect(jobs["b"]?["reusedFrom"] == nil && jobs["b"]?["conclusion"] as? String == "success")
        #expect(jobs["c"]?["reusedFrom"] == nil && jobs["c"]?["conclusion"] as? String == "success")
        let logs = try await runCLI(["runs", "logs", newID, "--job", "c"], in: folder)
        #expect(logs.stdout.contains("c sees from-a"))
        let text = try await runCLI(["runs", "show", newID], in: folder)
        #expect(text.stdout.contains("a: success (reused from run \(id))"), "\(text.stdout)")

        // Nothing failed in the rerun: --failed has nothing to do; a plain rerun runs every job again.
        let nothing = try await runCLI(["runs", "rerun", newID, "--failed"], in: folder)
        #expect(nothing.status != 0)
        #expect(nothing.stderr.contains("succeeded, so no job needs to run again"), "\(nothing.stderr)")
        let all = try await runCLI(["runs", "rerun", newID], in: folder)
        #expect(all.status == 0, "\(all.stderr)")
        #expect(try String(contentsOf: folder.appendingPathComponent("a-count.txt"), encoding: .utf8) == "ran\nran\n")
    }

    @Test("rerun --failed with matrix jobs: a job runs again when one of its legs failed; legs that all succeeded are reused")
    func rerunFailedMatrix() async throws {
        let matrix = """
            on: push
            jobs:
              stable:
                runs-on: ubuntu-latest
                strategy:
                  matrix:
                    os: [linux, mac]
                outputs:
                  last: ${{ steps.s.outputs.last }}
                steps:
                  - id: s
                    run: |
                      echo "${{ matrix.os }}" >> stable-count.txt
                      echo "last=${{ matrix.os }}" >> "$GITHUB_OUTPUT"
              shaky:
                runs-on: ubuntu-latest
                strategy:
                  fail-fast: false
                  matrix:
                    n: [1, 2]
                steps:
                  - run: |
                      echo "${{ matrix.n }}" >> shaky-count.txt
                      if [ "${{ matrix.n }}" = 2 ] && [ ! -f shaky-fixed ]; then touch shaky-fixed; exit 1; fi
              report:
                needs: [stable, shaky]
                if: always()
                runs-on: ubuntu-latest
                steps:
                  - run: echo "report ${{ needs.shaky.result }} after ${{ needs.stable.result }}" >> report.log

            """
        let folder = try project(["matrix.yml": matrix])
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try await runCLI(["run", "matrix.yml", "--json"], in: folder)
        #expect(first.status == 1, "\(first.stderr)")
        let id = try #require(try object(first.stdout)["id"] as? String)

        let rerun = try await runCLI(["runs", "rerun", id, "--failed", "--json"], in: folder)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let newID = try #require(try object(rerun.stdout)["id"] as? String)
        let jobs = jobs(try await record(newID, in: folder))
        #expect(jobs["stable (linux)"]?["reusedFrom"] as? String == id)
        #expect(jobs["stable (mac)"]?["reusedFrom"] as? String == id)
        #expect(jobs["shaky (1)"]?["reusedFrom"] == nil && jobs["shaky (1)"]?["conclusion"] as? String == "success")
        #expect(jobs["shaky (2)"]?["reusedFrom"] == nil && jobs["shaky (2)"]?["conclusion"] as? String == "success")
        #expect(jobs["report"]?["reusedFrom"] == nil)
        let stable = try String(contentsOf: folder.appendingPathComponent("stable-count.txt"), encoding: .utf8)
        #expect(stable.split(separator: "\n").count == 2, "stable ran again: \(stable)")
        let shaky = try String(contentsOf: folder.appendingPathComponent("shaky-count.txt"), encoding: .utf8)
        #expect(shaky.split(separator: "\n").sorted() == ["1", "1", "2", "2"])
        // The job that needs a rerun job ran again, although it had succeeded (always()).
        let report = try String(contentsOf: folder.appendingPathComponent("report.log"), encoding: .utf8)
        #expect(report == "report failure after success\nreport success after success\n")
    }

    @Test("hostile and stale input: unknown ids, paths as ids, bad options, a workflow gone or broken, masked inputs")
    func hostileInput() async throws {
        let folder = try project(["flaky.yml": flaky])
        defer { try? FileManager.default.removeItem(at: folder) }
        for command in ["cancel", "rerun"] {
            let unknown = try await runCLI(["runs", command, "12345"], in: folder)
            #expect(unknown.status != 0)
            #expect(unknown.stderr.contains("no run '12345'"), "\(unknown.stderr)")
            for id in ["../../etc", "..", "1/../2", "", "-1; rm -rf ."] {
                let hostile = try await runCLI(["runs", command, "--", id], in: folder)
                #expect(hostile.status != 0, "\(command) '\(id)' was accepted")
            }
        }
        let first = try await runCLI(["run", "flaky.yml", "--json"], in: folder)
        let id = try #require(try object(first.stdout)["id"] as? String)
        let wait = try await runCLI(["runs", "cancel", id, "--wait=-1"], in: folder)
        #expect(wait.status == 2 && wait.stderr.contains("--wait must be"), "\(wait.stderr)")
        let notANumber = try await runCLI(["runs", "cancel", id, "--wait", "nan"], in: folder)
        #expect(notANumber.status == 2 && notANumber.stderr.contains("--wait must be"), "\(notANumber.stderr)")
        let done = try await runCLI(["runs", "cancel", id, "--json"], in: folder)
        #expect(done.status != 0)
        #expect(done.stderr.contains("already ended (failure)"), "\(done.stderr)")
        #expect(try object(done.stdout)["error"] != nil)
        let parallel = try await runCLI(["runs", "rerun", id, "--parallel", "0"], in: folder)
        #expect(parallel.status == 2)
        let secret = try await runCLI(["runs", "rerun", id, "--secret", "UNSET_VARIABLE_FOR_RERUN_TEST"], in: folder)
        #expect(secret.status == 2 && secret.stderr.contains("is not set"))

        // The workflow file no longer parses, then no longer exists: a clear error, and nothing runs.
        let file = folder.appendingPathComponent(".github/workflows/flaky.yml")
        try "on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n".write(to: file, atomically: true, encoding: .utf8)
        let broken = try await runCLI(["runs", "rerun", id, "--failed"], in: folder)
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("no longer reads as a workflow") && broken.stderr.contains("flaky.yml:"), "\(broken.stderr)")
        try FileManager.default.removeItem(at: file)
        let gone = try await runCLI(["runs", "rerun", id], in: folder)
        #expect(gone.status != 0)
        #expect(gone.stderr.contains("does not exist"), "\(gone.stderr)")

        // Inputs recorded masked cannot be given again.
        try dispatch.write(to: folder.appendingPathComponent(".github/workflows/dispatch.yml"), atomically: true, encoding: .utf8)
        let masked = try await runCLI(
            ["run", "dispatch.yml", "--event", "workflow_dispatch", "--input", "n=1", "--input", "mode=hunter2-secret", "--json"], in: folder,
            environment: ["SLIPWAY_SECRET_PASSWORD": "hunter2-secret"])
        #expect(masked.status == 0, "\(masked.stderr)")
        let maskedID = try #require(try object(masked.stdout)["id"] as? String)
        let refused = try await runCLI(["runs", "rerun", maskedID], in: folder)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("recorded masked"), "\(refused.stderr)")

        let list = try await object(runCLI(["runs", "list", "--json"], in: folder).stdout)
        #expect((list["runs"] as? [[String: Any]])?.count == 2, "a refused rerun recorded a run")
    }
}
