import Foundation
import SlipwayCore
import Testing

@testable import SlipwayPipeline

/// What a conformance workflow must produce: `Workflows/conformance/NAME.expected.json` next to `NAME.yml`.
struct ConformanceExpectation: Decodable {
    struct JobExpectation: Decodable {
        var conclusion: Conclusion
        /// Compared exactly when given.
        var outputs: [String: String]?
        /// Each step's conclusion, in order, when given.
        var steps: [Conclusion]?
        /// Whether the result came from the job cache, when given.
        var cached: Bool?
    }

    /// A second run of the workflow in the same project and data folder, after the first. Both runs then have a job
    /// cache (`JobCacheHook`), as `slipway run` has.
    struct SecondRun: Decodable {
        /// Files written (or replaced) in the project before the second run.
        var files: [String: String]?
        /// Files and folders removed from the project before the second run.
        var remove: [String]?
        /// The secrets of the second run (default: those of the first).
        var secrets: [String: String]?
        var conclusion: Conclusion?
        var jobs: [String: JobExpectation]?
        var logContains: [String]?
        var logExcludes: [String]?
        var filesExist: [String]?
        var fileContents: [String: String]?
    }

    var event: String?
    var inputs: [String: String]?
    var secrets: [String: String]?
    var vars: [String: String]?
    var parallel: Int?
    /// Files created in the project before the run.
    var files: [String: String]?
    /// Cancel the run once this file exists in the project.
    var cancelWhen: String?
    /// The run must be refused before it starts, with a message containing this.
    var error: String?
    var conclusion: Conclusion?
    var jobs: [String: JobExpectation]?
    /// Lines (substrings) that must appear in the masked logs, errors, annotations, outputs and summaries.
    var logContains: [String]?
    /// Substrings that must not appear there.
    var logExcludes: [String]?
    /// Files that must exist in the project after the run.
    var filesExist: [String]?
    /// Files whose whole text after the run must be this.
    var fileContents: [String: String]?
    /// Run the workflow again and check that run too.
    var second: SecondRun?
}

@Suite("Workflow conformance", .timeLimit(.minutes(2)))
struct ConformanceTests {
    static var folder: URL? { Bundle.module.url(forResource: "Workflows", withExtension: nil)?.appendingPathComponent("conformance") }

    static func names() -> [String] {
        guard let folder, let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return files.filter { $0.hasSuffix(".yml") }.map { String($0.dropLast(4)) }.sorted()
    }

    @Test("there are at least 50 conformance workflows, each with its expectation")
    func inventory() throws {
        let names = Self.names()
        #expect(names.count >= 50)
        for name in names {
            let expected = try #require(Self.folder).appendingPathComponent("\(name).expected.json")
            #expect(FileManager.default.fileExists(atPath: expected.path), "\(name) has no expected.json")
        }
    }

    @Test("conformance workflow", arguments: names())
    func conformance(name: String) async throws {
        let folder = try #require(Self.folder)
        let source = try String(contentsOf: folder.appendingPathComponent("\(name).yml"), encoding: .utf8)
        let expected = try JSONDecoder().decode(
            ConformanceExpectation.self, from: Data(contentsOf: folder.appendingPathComponent("\(name).expected.json")))
        let project = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-conformance-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: project.appendingPathComponent(".github/workflows"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: project) }
        try source.write(to: project.appendingPathComponent(".github/workflows/\(name).yml"), atomically: true, encoding: .utf8)
        for (path, contents) in expected.files ?? [:] {
            let file = project.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: file, atomically: true, encoding: .utf8)
        }
        let file = ".github/workflows/\(name).yml"
        let workflow = try WorkflowParser.parse(file: file, source: source)
        let dataDir = project.appendingPathComponent(".slipway")
        let store = FileRunStore(dataDir: dataDir)
        // A second run needs the job cache that `slipway run` has; each run gets its own hook, as each process would.
        let hooks: () throws -> [any JobStartHook] = { expected.second == nil ? [] : [try JobCacheHook(dataDir: dataDir)] }
        var configuration = RunConfiguration(
            project: project, dataDir: dataDir, event: expected.event ?? "push", inputs: expected.inputs ?? [:], secrets: expected.secrets ?? [:],
            vars: expected.vars ?? [:], parallelism: expected.parallel ?? 4, cancelGrace: .seconds(1), hooks: try hooks(), git: GitInfo(),
            actor: "tester")
        let execution = WorkflowExecution(workflow: workflow, configuration: configuration, store: store)
        if let message = expected.error {
            do {
                _ = try await execution.run()
                Issue.record("\(name): the run started; expected the error '\(message)'")
            } catch {
                #expect("\(error)".contains(message), "\(name): \(error)")
            }
            return
        }
        let watcher: Task<Void, Never>? = expected.cancelWhen.map { marker in
            Task {
                let path = project.appendingPathComponent(marker).path
                while !Task.isCancelled {
                    if FileManager.default.fileExists(atPath: path) {
                        execution.cancel()
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
        }
        let record = try await execution.run()
        watcher?.cancel()

        verify(
            record, store: store, project: project, label: name, conclusion: expected.conclusion, jobs: expected.jobs,
            logContains: expected.logContains, logExcludes: expected.logExcludes, filesExist: expected.filesExist,
            fileContents: expected.fileContents)

        guard let second = expected.second else { return }
        for path in second.remove ?? [] { try FileManager.default.removeItem(at: project.appendingPathComponent(path)) }
        for (path, contents) in second.files ?? [:] {
            let file = project.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: file, atomically: true, encoding: .utf8)
        }
        configuration.secrets = second.secrets ?? configuration.secrets
        configuration.hooks = try hooks()
        let again = try await WorkflowExecution(workflow: workflow, configuration: configuration, store: store).run()
        #expect(again.id != record.id)
        verify(
            again, store: store, project: project, label: "\(name) (second run)", conclusion: second.conclusion, jobs: second.jobs,
            logContains: second.logContains, logExcludes: second.logExcludes, filesExist: second.filesExist, fileContents: second.fileContents)
    }

    /// Checks a finished run against what its expectation says.
    func verify(
        _ record: RunRecord, store: FileRunStore, project: URL, label name: String, conclusion: Conclusion?,
        jobs: [String: ConformanceExpectation.JobExpectation]?, logContains: [String]?, logExcludes: [String]?, filesExist: [String]?,
        fileContents: [String: String]?
    ) {
        var log = ""
        for job in record.jobs {
            log += "\(job.error ?? "")\n\(job.summary)\n"
            log += job.outputs.values.joined(separator: "\n") + "\n"
            for step in job.steps {
                log += (step.error ?? "") + "\n" + step.outputs.values.joined(separator: "\n") + "\n"
                if let path = step.log { log += (try? store.log(run: record.id, path: path)) ?? "" }
            }
        }
        log += record.annotations.map { "\($0.level): \($0.title.map { "\($0): " } ?? "")\($0.message)" }.joined(separator: "\n")
        log += "\n" + (record.error ?? "")
        let context = "\(name):\n\(log)\njobs: \(record.jobs.map { "\($0.key)=\($0.conclusion?.rawValue ?? "-")" })"

        if let conclusion { #expect(record.conclusion == conclusion, "\(context)") }
        for (key, job) in jobs ?? [:] {
            guard let actual = record.job(key) else {
                Issue.record("\(name): no job '\(key)' in \(record.jobs.map(\.key))")
                continue
            }
            #expect(actual.conclusion == job.conclusion, "\(name): job \(key)\n\(context)")
            if let outputs = job.outputs { #expect(actual.outputs == outputs, "\(name): outputs of \(key)") }
            if let steps = job.steps { #expect(actual.steps.map { $0.conclusion ?? .skipped } == steps, "\(name): steps of \(key)\n\(context)") }
            if let cached = job.cached { #expect(actual.cached == cached, "\(name): cached of \(key)\n\(context)") }
        }
        if let jobs { #expect(Set(record.jobs.map(\.key)) == Set(jobs.keys), "\(name): job keys") }
        for text in logContains ?? [] { #expect(log.contains(text), "\(name): the log lacks '\(text)'\n\(context)") }
        for text in logExcludes ?? [] { #expect(!log.contains(text), "\(name): the log shows '\(text)'\n\(context)") }
        for path in filesExist ?? [] {
            #expect(FileManager.default.fileExists(atPath: project.appendingPathComponent(path).path), "\(name): \(path) missing")
        }
        for (path, text) in fileContents ?? [:] {
            let actual = try? String(contentsOf: project.appendingPathComponent(path), encoding: .utf8)
            #expect(actual == text, "\(name): \(path) holds \(actual.map { "'\($0)'" } ?? "nothing")")
        }
    }
}
