import Foundation
import SlipwayCore
import Testing

@testable import SlipwayPipeline

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Execution building blocks")
struct ExecutionUnitTests {
    @Test("the masker hides exact values, each line, base64 and URL-encoded forms, longest first")
    func masking() {
        let masker = SecretMasker(secrets: ["abc/def+1", "line-one\nline-two", "ab", ""])
        #expect(masker.mask("x abc/def+1 y") == "x *** y")
        #expect(masker.mask("line-one and line-two") == "*** and ***")
        #expect(masker.mask(Data("abc/def+1".utf8).base64EncodedString()) == "***")
        #expect(masker.mask("abc%2Fdef%2B1") == "***")
        // Values shorter than three characters are not masked.
        #expect(masker.mask("ab cd") == "ab cd")
        masker.add("abc/def+1-longer")
        #expect(masker.mask("abc/def+1-longer") == "***")
        #expect(masker.mask(["k": "v abc/def+1"]) == ["k": "v ***"])
    }

    @Test("environment files: NAME=value, heredocs, CRLF, and clear errors")
    func environmentFiles() throws {
        let parsed = try EnvironmentFiles.parseAssignments("A=1\r\nB=x=y\nM<<EOF\nl1\nl2\nEOF\n\nE=\n", label: "GITHUB_OUTPUT")
        #expect(parsed.map(\.name) == ["A", "B", "M", "E"])
        #expect(parsed.map(\.value) == ["1", "x=y", "l1\nl2", ""])
        #expect(throws: EnvironmentFiles.FormatError.self) { try EnvironmentFiles.parseAssignments("M<<EOF\nnever closed\n", label: "F") }
        #expect(throws: EnvironmentFiles.FormatError.self) { try EnvironmentFiles.parseAssignments("=value\n", label: "F") }
        #expect(throws: EnvironmentFiles.FormatError.self) { try EnvironmentFiles.parseAssignments("no equals sign\n", label: "F") }
        #expect(throws: EnvironmentFiles.FormatError.self) { try EnvironmentFiles.parseAssignments("M<<\nx\n", label: "F") }
        #expect(EnvironmentFiles.parsePath("/a\n\n  /b  \n") == ["/a", "/b"])

        let big = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-envfile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: big) }
        try Data(repeating: UInt8(ascii: "a"), count: EnvironmentFiles.maximumSize + 1).write(to: big)
        #expect(throws: EnvironmentFiles.FormatError.self) { try EnvironmentFiles.read(big, label: "GITHUB_ENV") }
        #expect(try EnvironmentFiles.read(big.appendingPathExtension("missing"), label: "X") == "")
    }

    @Test("workflow commands parse with properties and escapes")
    func commands() {
        let error = WorkflowCommand.parse("::error file=a.py,line=3,title=T%2C x::bad%0Athing %25")
        #expect(error?.name == "error")
        #expect(error?.properties["file"] == "a.py")
        #expect(error?.properties["title"] == "T, x")
        #expect(error?.message == "bad\nthing %")
        #expect(WorkflowCommand.parse("plain text") == nil)
        #expect(WorkflowCommand.parse(":: not a command") == nil)
        #expect(WorkflowCommand.parse("::endgroup::")?.name == "endgroup")

        let masker = SecretMasker()
        var processor = WorkflowCommandProcessor(masker: masker)
        #expect(processor.process("::add-mask::hidden-value") == .none)
        #expect(processor.process("show hidden-value") == .text("show ***"))
        #expect(processor.process("::stop-commands::tok") == .none)
        #expect(processor.process("::group::x") == .text("::group::x"))
        #expect(processor.process("::tok::") == .none)
        #expect(processor.process("::group::x") == .groupStart("x"))
        #expect(processor.process("::debug::d") == .debug("d"))
        if case .annotation(let annotation) = processor.process("::warning line=7::w") {
            #expect(annotation.level == "warning")
            #expect(annotation.line == 7)
        } else {
            Issue.record("::warning was not an annotation")
        }
    }

    @Test("dispatch inputs are typed, defaulted and checked, all problems at once")
    func inputs() throws {
        let declared = [
            DispatchInput(name: "flag", kind: .boolean), DispatchInput(name: "n", defaultValue: "1.5", kind: .number),
            DispatchInput(name: "c", defaultValue: "a", kind: .choice, options: ["a", "b"]), DispatchInput(name: "s", required: true),
        ]
        let object = try DispatchInputs.resolve(["flag": "TRUE", "s": "x"], declared: declared)
        #expect(object["flag"] == .bool(true))
        #expect(object["n"] == .number(1.5))
        #expect(object["c"] == .string("a"))
        #expect(object["s"] == .string("x"))
        do {
            _ = try DispatchInputs.resolve(["flag": "maybe", "n": "many", "c": "z", "other": "1"], declared: declared)
            Issue.record("bad inputs were accepted")
        } catch {
            for part in [
                "unknown input 'other'", "declared inputs: flag, n, c, s", "neither true nor false", "is a number", "must be one of a, b",
                "'s' is required",
            ] {
                #expect(error.message.contains(part), "\(error.message)")
            }
        }
        #expect(throws: DispatchInputs.InputError.self) { try DispatchInputs.resolve(["x": "1"], declared: []) }
    }

    @Test("hashFiles hashes the sorted files' digests, with exclusions, and is empty without matches")
    func hashFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-hash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        try Data("one".utf8).write(to: root.appendingPathComponent("a/x.txt"))
        try Data("two".utf8).write(to: root.appendingPathComponent("a/b/y.txt"))
        let both = try HashFiles.hash(["a/**/*.txt"], workspace: root)
        #expect(both.count == 64)
        #expect(try HashFiles.hash(["**/*.txt"], workspace: root) == both)
        let one = try HashFiles.hash(["a/**/*.txt", "!a/b/**"], workspace: root)
        #expect(one != both && one.count == 64)
        #expect(try HashFiles.hash(["*.none"], workspace: root) == "")
        let regex = try NSRegularExpression(pattern: HashFiles.globRegex("a/*.txt"))
        #expect(regex.firstMatch(in: "a/x.txt", range: NSRange(location: 0, length: 7)) != nil)
        #expect(regex.firstMatch(in: "a/b/x.txt", range: NSRange(location: 0, length: 9)) == nil)
    }

    @Test("shells resolve to GitHub's commands; unknown ones are refused")
    func shells() throws {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        #expect(try ShellCommand.resolve("bash", path: path).template == ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"])
        #expect(try ShellCommand.resolve("sh", path: path).template == ["sh", "-e", "{0}"])
        #expect(try ShellCommand.resolve(nil, path: path).template == ["bash", "-e", "{0}"])
        #expect(try ShellCommand.resolve(nil, path: "/nonexistent").template == ["sh", "-e", "{0}"])
        #expect(try ShellCommand.resolve("perl -w {0}", path: path).arguments(script: "/s") == ["perl", "-w", "/s"])
        #expect(throws: ShellCommand.ShellError.self) { try ShellCommand.resolve("zsh", path: path) }
        #expect(throws: ShellCommand.ShellError.self) { try ShellCommand.resolve("cmd", path: path) }
    }

    @Test("the local runner's labels and GitHub-hosted names")
    func labels() {
        let runner = LocalRunner.detect(extraLabels: ["Big-Disk", " "], capacity: 3)
        #expect(runner.capacity == 3)
        #expect(runner.labels.contains("self-hosted"))
        #expect(runner.labels.contains("big-disk"))
        #expect(runner.accepts(["self-hosted", "linux"]) == (runner.os == "Linux"))
        #expect(runner.accepts(["ubuntu-latest"]) == (runner.os == "Linux"))
        #expect(runner.accepts([runner.arch.lowercased()]))
        #expect(!runner.accepts(["windows-latest"]))
        #expect(!runner.accepts(["self-hosted", "tpu"]))
    }

    @Test("built-in actions: the registry refuses what it lacks with the supported list")
    func registry() throws {
        let registry = ActionRegistry.standard
        #expect(try registry.action(for: "actions/checkout@v4").name == "actions/checkout")
        #expect(try registry.action(for: "Actions/Setup-Python@v5").name == "actions/setup-python")
        do {
            _ = try registry.action(for: "slipway/train")
            Issue.record("slipway/train was accepted")
        } catch {
            #expect(error.message.contains("not available in this version"))
        }
        do {
            _ = try registry.action(for: "docker://alpine")
            Issue.record("docker action was accepted")
        } catch {
            #expect(error.message.contains("actions/upload-artifact"))
        }
    }

    @Test("a step process is stopped at its deadline with its whole process group")
    func processTimeout() async throws {
        let process = StepProcess(
            // Long sleeps: on a busy machine the step's task may not run for tens of seconds, and the timeout must still be
            // what ends the step.
            argv: ["/bin/sh", "-c", "sleep 900 & echo \"background $!\"; sleep 600"], environment: ["PATH": "/usr/bin:/bin"], directory: "/",
            deadline: .now + .milliseconds(800), grace: .milliseconds(200))
        var output = Data()
        let end = try await process.run(shouldInterrupt: { false }, onStart: { _ in }, output: { output.append($0) })
        #expect(end == .timedOut)
        let text = String(decoding: output, as: UTF8.self)
        let pid = try #require(text.split(separator: " ").last.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }, "\(text)")
        // The background child was in the step's process group: it is gone (once its new parent reaps it). Its pid may
        // belong to another process by then (pids wrap at 32768 on small machines and the suite starts thousands of
        // processes), so a live process counts only while it is still that `sleep 900`. SIGKILL takes effect when the
        // child next runs, so the verdict is always a look taken after the last pause, however long a busy machine
        // made that pause.
        let deadline = ContinuousClock.now + .seconds(10)
        var alive: Bool { kill(pid, 0) == 0 && !Self.isZombie(pid) && Self.commandLine(pid) == ["sleep", "900"] }
        var outlived = alive
        while outlived, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            outlived = alive
        }
        #expect(!outlived, "the background child \(pid) outlived the step")
    }

    /// The arguments a process was started with, or nil when it is gone.
    static func commandLine(_ pid: Int32) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        guard let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    @Test("a step process that ignores SIGINT is killed after the grace period")
    func processInterrupt() async throws {
        let process = StepProcess(
            argv: ["/bin/sh", "-c", "trap '' INT; echo ready; sleep 600"], environment: ["PATH": "/usr/bin:/bin"], directory: "/",
            deadline: .now + .seconds(900), grace: .milliseconds(300))
        let clock = ContinuousClock()
        let start = clock.now
        let end = try await process.run(shouldInterrupt: { clock.now - start > .milliseconds(200) }, onStart: { _ in }, output: { _ in })
        #expect(end == .interrupted)
        // Without the SIGKILL the step would last the full 600 s; the bound is generous for a busy machine.
        #expect(clock.now - start < .seconds(300))
    }

    @Test("lines split across chunks and CRLF endings")
    func lines() {
        var splitter = LineSplitter()
        #expect(splitter.feed(Data("a\r\nb".utf8)) == ["a"])
        #expect(splitter.feed(Data("c\n".utf8)) == ["bc"])
        #expect(splitter.feed(Data("tail".utf8)) == [])
        #expect(splitter.finish() == "tail")
    }

    @Test("the run store refuses hostile ids and paths, and lists newest first")
    func store() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = FileRunStore(dataDir: root)
        #expect(throws: RunStoreError.self) { try store.load("../etc") }
        #expect(throws: RunStoreError.self) { try store.load("") }
        let first = try store.newRunID()
        let second = try store.newRunID()
        #expect(first != second)
        for id in [first, second] {
            try store.save(
                RunRecord(id: id, workflow: "w.yml", workflowName: "W", runNumber: 1, event: "push", sha: "", ref: "", pid: 1, startedAt: Date()))
        }
        #expect(try store.list().map(\.id) == [second, first])
        #expect(throws: RunStoreError.self) { try store.appendLog(run: first, path: "../../escape.log", text: "x") }
        try store.appendLog(run: first, path: "logs/a/01.log", text: "one\n")
        try store.appendLog(run: first, path: "logs/a/01.log", text: "two\n")
        #expect(try store.log(run: first, path: "logs/a/01.log") == "one\ntwo\n")
        #expect(try store.nextRunNumber(workflow: "w.yml") == 2)
        // A corrupt record is a clear error, not a crash.
        try Data("{".utf8).write(to: root.appendingPathComponent("runs/\(first)/run.json"))
        #expect(throws: RunStoreError.self) { try store.load(first) }
    }

    @Test("status functions are found outside strings only")
    func statusFunctions() {
        #expect(conditionUsesStatusFunction("always()"))
        #expect(conditionUsesStatusFunction("${{ !Failure ( ) }}"))
        #expect(!conditionUsesStatusFunction("'always()' == 'x'"))
        #expect(!conditionUsesStatusFunction("github.always_on"))
        #expect(!conditionUsesStatusFunction(nil))
    }
}
