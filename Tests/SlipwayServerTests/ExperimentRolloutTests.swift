import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SlipwayCore
import SlipwayRollout
import SlipwayServer
import SlipwayStore
import SlipwayStats
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// An A/B experiment end to end: a real `slipway server` child, users with distinct sticky keys sent through its
/// gateway, conversions drawn from known rates per variant and posted as feedback, and the controller deciding
/// on the prediction log's counts.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct ExperimentRolloutTests {
    /// The stable variant converts 10% of users, the candidate 16%.
    static let rates = ["stable": 0.10, "canary": 0.16]

    static let strategy = ExperimentStrategy(guardrails: [.errorRate], mde: 0.6, baseline: 0.1, alpha: 0.05, power: 0.8)

    static let yaml = """
        kind: Rollout
        metadata: {name: tumor-ab}
        spec:
          endpoint: tumor
          candidate: {model: cancer, version: 2, backend: builtin}
          strategy:
            experiment:
              weight: 50
              primary: {metric: conversion}
              guardrails: [error-rate]
              mde: 0.6
              baseline: 0.1
              alpha: 0.05
              power: 0.8
              decision: fixed-horizon
        """

    /// One user's request: which variant answered, and the request id to post feedback for.
    struct Answer: Sendable {
        var user: Int
        var variant: String
        var requestId: String
    }

    /// Sends users `range` through the gateway, four at a time, each with its own sticky key.
    static func send(_ gateway: String, users range: Range<Int>) async throws -> [Answer] {
        let body = try SupervisorTests.inferenceBody(rows: 1)
        return try await withThrowingTaskGroup(of: [Answer].self) { group in
            for lane in 0..<4 {
                group.addTask {
                    var answers: [Answer] = []
                    for user in range where user % 4 == lane {
                        var request = HTTPClientRequest(url: gateway + "/v2/models/tumor/infer")
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.headers.add(name: "X-User-Id", value: "user-\(user)")
                        request.body = .bytes(ByteBuffer(string: body))
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok, let variant = response.headers.first(name: "X-Slipway-Variant"),
                            let id = response.headers.first(name: "X-Request-Id")
                        else { throw TestFailure("user \(user): \(response.status) without variant or request id") }
                        answers.append(Answer(user: user, variant: variant, requestId: id))
                    }
                    return answers
                }
            }
            var all: [Answer] = []
            for try await part in group { all += part }
            return all.sorted { $0.user < $1.user }
        }
    }

    /// Whether a user converted: drawn from the rate of the variant that answered, seeded by the user.
    static func converted(_ answer: Answer) -> Bool {
        var generator = SeededGenerator(seed: 20_261_127 &+ UInt64(answer.user))
        return generator.uniform() < (rates[answer.variant] ?? 0)
    }

    /// Posts every answer's outcome in batches, retrying items the prediction log has not written yet.
    static func postFeedback(_ server: ServerProcess, _ answers: [Answer]) async throws {
        var pending = answers
        let deadline = Date().addingTimeInterval(60)
        while !pending.isEmpty {
            var refused: [Answer] = []
            for start in stride(from: 0, to: pending.count, by: 500) {
                let batch = Array(pending[start..<min(start + 500, pending.count)])
                let items = batch.map { #"{"requestId": "\#($0.requestId)", "outcome": \#(converted($0) ? 1 : 0)}"# }
                let reply = try await server.call(
                    .POST, "/api/v1/endpoints/tumor/feedback", token: RolloutTests.token(server),
                    json: #"{"feedback": [\#(items.joined(separator: ","))]}"#)
                guard reply.status == 200 else { throw TestFailure("feedback: \(reply.status) \(reply.text)") }
                let results = reply.object["results"] as? [[String: Any]] ?? []
                for (answer, result) in zip(batch, results) where result["error"] != nil { refused.append(answer) }
            }
            pending = refused
            if !pending.isEmpty {
                guard Date() < deadline else { throw TestFailure("\(pending.count) answers never reached the prediction log") }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    @Test func anExperimentWithABetterCandidateIsPromotedWithTheNumbersOfSlipwayStats() async throws {
        let server = try await RolloutTests.prepare("experiment-ab")
        defer { server.cleanUp() }
        let gateway = try server.gatewayURL()
        let plan = try Self.strategy.sampleSize()

        let started = try await RolloutTests.start(server, Self.yaml)
        #expect(started.status == 201, "\(started.text)")
        var status = try await RolloutTests.waitFor(server, "tumor-ab", seconds: 60, "the split") { $0.experiment?.startedAt != nil }
        #expect(status.experiment?.plannedStableUnits == plan.stable && status.experiment?.plannedCandidateUnits == plan.candidate)
        #expect(try await RolloutTests.weights(server) == ["stable": 50, "canary": 50])

        // A first round below the plan: the controller looks and goes on collecting.
        var answers = try await Self.send(gateway, users: 0..<200)
        try await Self.postFeedback(server, answers)
        status = try await RolloutTests.waitFor(server, "tumor-ab", seconds: 60, "a look at 200 units") {
            ($0.experiment?.report.map { $0.stable.units + $0.candidate.units } ?? 0) == 200
        }
        #expect(status.phase == .progressing && status.experiment?.report?.outcome == .running)

        // The rest of the sample while the rollout is paused, so that the decisive look sees all of it.
        let paused = try await server.call(.POST, "/api/v1/rollouts/tumor-ab/pause", token: RolloutTests.token(server))
        #expect(paused.status == 200, "\(paused.text)")
        var next = 200
        while answers.count(where: { $0.variant == "stable" }) < plan.stable || answers.count(where: { $0.variant == "canary" }) < plan.candidate {
            let more = try await Self.send(gateway, users: next..<(next + 200))
            try await Self.postFeedback(server, more)
            answers += more
            next += 200
        }
        #expect(Set(answers.map(\.variant)) == ["stable", "canary"])
        let resumed = try await server.call(.POST, "/api/v1/rollouts/tumor-ab/resume", token: RolloutTests.token(server))
        #expect(resumed.status == 200, "\(resumed.text)")

        // What the statistics say for the counts sent.
        let arms = ["stable", "canary"].map { variant in
            let mine = answers.filter { $0.variant == variant }
            return (units: Double(mine.count), conversions: Double(mine.count(where: { Self.converted($0) })))
        }
        let expected = try frequentistEffect(
            control: .proportion(successes: arms[0].conversions, trials: arms[0].units),
            treatment: .proportion(successes: arms[1].conversions, trials: arms[1].units), scale: .relative, alpha: 0.05)
        try #require(expected.ciLow > 0, "the seeded outcomes should show the lift: \(expected)")

        status = try await RolloutTests.waitFor(server, "tumor-ab", seconds: 60, "the decision") { !$0.phase.isRunning }
        #expect(status.phase == .healthy && status.reason.contains("experiment won"), "\(status.reason)")
        let report = try #require(status.experiment?.report)
        #expect(report.outcome == .promote && report.method == "fixed-horizon")
        #expect(Double(report.stable.units) == arms[0].units && Double(report.candidate.units) == arms[1].units)
        #expect(Double(report.stable.conversions) == arms[0].conversions && Double(report.candidate.conversions) == arms[1].conversions)
        #expect(report.stable.requests == Int(arms[0].units) && report.candidate.requests == Int(arms[1].units))
        for (got, want) in [(report.lift, expected.estimate), (report.ciLow, expected.ciLow), (report.ciHigh, expected.ciHigh), (report.pValue, expected.pValue)] {
            let value = try #require(got)
            #expect(abs(value - want) <= 1e-9 * max(abs(want), 1e-300), "\(value) vs \(want)")
        }
        let bayes = try betaBinomialTest(
            control: Proportion(successes: arms[0].conversions, trials: arms[0].units),
            treatment: Proportion(successes: arms[1].conversions, trials: arms[1].units))
        #expect(abs((report.chanceToWin ?? 0) - bayes.chanceToWin) <= 1e-9)
        #expect((report.srmPValue ?? 0) > 0.001)

        // `rollout status` prints the report.
        let printed = try await SupervisorTests.CLI(server: server).run(["rollout", "status", "tumor-ab"])
        for text in ["outcome: promote the candidate", "stable: \(Int(arms[0].units))/\(plan.stable) units", "lift: +", "chance to win:", "sample ratio: p ="] {
            #expect(printed.contains(text), "\(text) in \(printed)")
        }

        // Promoted: all traffic to the candidate and the production alias on version 2.
        #expect(try await RolloutTests.weights(server) == ["canary": 100])
        #expect(try await RolloutTests.production(server) == 2)
    }

    @Test func aKilledServerResumesTheExperimentWithItsStartPlanAndCounts() async throws {
        let first = try await RolloutTests.prepare("experiment-kill")
        defer { first.cleanUp() }
        let started = try await RolloutTests.start(first, Self.yaml)
        #expect(started.status == 201, "\(started.text)")
        let split = try await RolloutTests.waitFor(first, "tumor-ab", seconds: 60, "the split") { $0.experiment?.startedAt != nil }
        let answers = try await Self.send(try first.gatewayURL(), users: 0..<150)
        try await Self.postFeedback(first, answers)
        let looked = try await RolloutTests.waitFor(first, "tumor-ab", seconds: 60, "a look at 150 units") {
            ($0.experiment?.report.map { $0.stable.units + $0.candidate.units } ?? 0) == 150
        }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()

        // The restarted server goes on with the stored start and plan, and its looks count the same logged answers.
        let second = try await ServerProcess(label: "experiment-kill", folder: first.folder)
        defer { second.cleanUp() }
        let resumed = try await RolloutTests.waitFor(second, "tumor-ab", seconds: 60, "a look after the restart") {
            ($0.experiment?.looks ?? 0) > (looked.experiment?.looks ?? 0)
        }
        #expect(resumed.phase == .progressing && resumed.experiment?.startedAt == split.experiment?.startedAt)
        #expect(resumed.experiment?.plannedStableUnits == split.experiment?.plannedStableUnits)
        #expect(resumed.experiment?.report?.stable.units == looked.experiment?.report?.stable.units)
        #expect(resumed.experiment?.report?.candidate.conversions == looked.experiment?.report?.candidate.conversions)
        let history = try await RolloutTests.history(second, "tumor-ab")
        #expect(history.filter { $0.action == "rollout.deploy" || $0.action == "rollout.step" }.count == 2)

        let aborted = try await second.call(.POST, "/api/v1/rollouts/tumor-ab/abort", token: RolloutTests.token(second))
        #expect(aborted.status == 200, "\(aborted.text)")
        let weights = try await RolloutTests.weights(second)
        #expect(weights["stable"] == 100 && (weights["canary"] ?? 0) == 0, "\(weights)")
    }

    @Test func malformedExperimentsAreRefusedWithNothingStarted() async throws {
        let server = try await RolloutTests.prepare("experiment-bad")
        defer { server.cleanUp() }
        let bad = [
            Self.yaml.replacingOccurrences(of: "mde: 0.6", with: "mde: 40"),
            Self.yaml.replacingOccurrences(of: "weight: 50", with: "weight: 100"),
            Self.yaml + "\n      segmentBy: [x]",
            Self.yaml.replacingOccurrences(of: "baseline: 0.1", with: "baseline: two"),
        ]
        for yaml in bad {
            let reply = try await RolloutTests.start(server, yaml)
            #expect((400..<500).contains(reply.status), "\(reply.status) \(reply.text)")
        }
        let list = try await server.call(.GET, "/api/v1/rollouts", token: RolloutTests.token(server))
        #expect(!list.text.contains("tumor-ab"))
    }
}
