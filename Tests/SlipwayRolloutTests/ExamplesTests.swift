import Foundation
import SlipwayCore
import SlipwayRollout
import Testing

@Suite struct ExamplesTests {
    static var exampleFiles: [URL] {
        let folder = repositoryRoot.appendingPathComponent("examples/rollouts")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test func thereAreExamplesOfEveryStrategy() throws {
        var strategies: Set<String> = []
        for url in Self.exampleFiles {
            let document = try RolloutParser().parse(String(contentsOf: url, encoding: .utf8), file: url.lastPathComponent)
            if let rollout = document.rollout { strategies.insert(rollout.strategy.name) }
        }
        #expect(strategies == ["canary", "blueGreen", "experiment", "shadow", "rolling"])
    }

    @Test(arguments: exampleFiles)
    func exampleParsesWithoutErrors(url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        let problems = diagnostics(text, file: url.lastPathComponent)
        #expect(problems.isEmpty, "\(problems.map(\.description).joined(separator: "\n"))")
        // Every example survives storage as JSON unchanged.
        let document = try RolloutParser().parse(text, file: url.lastPathComponent)
        let data = try JSONEncoder().encode(document)
        #expect(try JSONDecoder().decode(RolloutDocument.self, from: data) == document)
    }

    @Test func classicCanarySchedule() throws {
        let url = repositoryRoot.appendingPathComponent("examples/rollouts/canary.yml")
        let (rollout, templates) = try RolloutParser().parseRollout(String(contentsOf: url, encoding: .utf8), file: "canary.yml")
        #expect(rollout.name == "fraud-scorer-v8")
        #expect(rollout.endpoint == "fraud-scorer")
        #expect(rollout.candidate.reference == .version(8))
        #expect(rollout.candidate.backend == .builtin)
        guard case .canary(let canary) = rollout.strategy else {
            Issue.record("expected a canary")
            return
        }
        let weights = canary.steps.compactMap { step -> Double? in if case .setWeight(let w) = step { w } else { nil } }
        #expect(weights == [5, 25, 50, 100])
        let pauses = canary.steps.compactMap { step -> Double? in if case .pause(let p) = step { p.duration?.seconds } else { nil } }
        #expect(pauses == [1800, 3600, 7200])
        #expect(canary.steps.contains(.analysis(.default)))
        #expect(canary.analysis?.analysis.templates.map(\.templateName) == ["error-rate-and-latency"])
        #expect(templates.map(\.name) == ["error-rate-and-latency", "canary-judge"])
        #expect(templates[1].judge?.algorithm == .mannWhitney)
        #expect(templates[1].metrics.map(\.judge?.critical) == [true, true])
        #expect(rollout.referencedTemplates == ["error-rate-and-latency", "canary-judge"])
    }
}
