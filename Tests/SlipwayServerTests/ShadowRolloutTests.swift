import Foundation
import NIOCore
import NIOHTTP1
import SlipwayCore
import SlipwayRollout
import SlipwayServer
import SlipwayStore
import Testing

/// Shadow tests end to end: a real `slipway server` child mirrors live traffic to the candidate, the gateway
/// compares the answers and the controller judges them.
@Suite(.timeLimit(.minutes(20)), .endToEnd) struct ShadowRolloutTests {
    /// - Parameter duration: how long the shadow mirrors; a pass needs enough agreeing answers for the interval's
    ///   lower end to clear 95%, and the test's one client connection sends fewer on a loaded machine. Without one,
    ///   the first clear verdict ends the shadow.
    static func yaml(version: Int, promote: Bool = false, duration: String? = nil) -> String {
        """
        kind: Rollout
        metadata: {name: tumor-shadow}
        spec:
          endpoint: tumor
          candidate: {model: cancer, version: \(version), backend: builtin, variant: shadow}
          strategy:
            shadow:
              percentage: 100
              \(duration.map { "duration: \($0)" } ?? "# no duration")
              minAgreement: 0.95
              promote: \(promote)
          defaultAnalysis: {minSamples: 30, errorRate: {margin: 0.1}}
        """
    }

    @Test func aShadowOfTheSameModelPassesWaitsAtItsGateAndPromoteCompletesIt() async throws {
        let server = try await RolloutTests.prepare("shadow-same")
        defer { server.cleanUp() }
        // No duration: the shadow passes once enough agreeing answers have come, however long a loaded machine takes.
        let started = try await RolloutTests.start(server, Self.yaml(version: 2))
        #expect(started.status == 201, "\(started.text)")
        let gated = try await RolloutTests.withTraffic(server) {
            try await RolloutTests.waitFor(server, "tumor-shadow", seconds: 240, "the shadow's gate") { !$0.phase.isRunning || $0.phase == .paused }
        }
        #expect(gated.phase == .paused && gated.reason.contains("promote to switch traffic to the candidate"), "\(gated.reason)")
        let report = try #require(gated.shadow?.report)
        #expect(report.verdict == .pass && report.agreementRate == 1 && report.compared >= 30)
        #expect(report.checks.map(\.name).first == "agreement" && report.candidateLatencyP99Ms != nil)
        #expect(gated.shadow?.mirroring == false && gated.shadow?.passed == true)
        // Users never got the candidate's answers, and the mirror is gone.
        #expect(try await RolloutTests.weights(server) == ["stable": 100])
        let endpoint = try await server.call(.GET, "/api/v1/endpoints/tumor", token: RolloutTests.token(server))
        #expect(!endpoint.text.contains("\"mirrors\":[{"))

        let printed = try await SupervisorTests.CLI(server: server).run(["rollout", "status", "tumor-shadow"])
        for text in ["Shadow:    passed", "verdict: Pass; agreement 100.00% of", "latency p99: stable", "check agreement: Pass"] {
            #expect(printed.contains(text), "\(text) in \(printed)")
        }

        let promoted = try await server.call(.POST, "/api/v1/rollouts/tumor-shadow/promote", token: RolloutTests.token(server))
        #expect(promoted.status == 200, "\(promoted.text)")
        let done = try await RolloutTests.status(server, "tumor-shadow")
        #expect(done.phase == .healthy && done.shadow?.report?.verdict == .pass)
        #expect(try await RolloutTests.weights(server) == ["shadow": 100])
        #expect(try await RolloutTests.production(server) == 2)
    }

    @Test func aModelTrainedOnFlippedLabelsFailsOnAgreement() async throws {
        let server = try await RolloutTests.prepare("shadow-flipped")
        defer { server.cleanUp() }
        // Version 3 learns the opposite labels.
        let train = try String(contentsOf: SupervisorTests.data.appendingPathComponent("train.csv"), encoding: .utf8)
        var lines = train.split(separator: "\n").map(String.init)
        for i in lines.indices.dropFirst() {
            var cells = lines[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            cells[cells.count - 1] = cells[cells.count - 1].trimmingCharacters(in: .whitespaces) == "1" ? "0" : "1"
            lines[i] = cells.joined(separator: ",")
        }
        let flipped = server.folder.appendingPathComponent("flipped.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: flipped, atomically: true, encoding: .utf8)
        let trained = try await runCLI(
            ["train", "--algorithm", "logistic", "--data", flipped.path, "--target", "target", "--out", "flipped"], in: server.folder)
        try #require(trained.status == 0, "\(trained.stderr)")
        try await SupervisorTests.CLI(server: server).run(["versions", "create", "cancer", "--artifact", "flipped", "--no-probe"])

        // No duration: the shadow ends at its first clear verdict, however long a loaded machine takes to mirror enough
        // answers (a fixed duration that is too short for it ends inconclusive instead).
        let started = try await RolloutTests.start(server, Self.yaml(version: 3, promote: true))
        #expect(started.status == 201, "\(started.text)")
        let final = try await RolloutTests.withTraffic(server) {
            try await RolloutTests.waitFor(server, "tumor-shadow", seconds: 240, "the verdict") { !$0.phase.isRunning }
        }
        #expect(final.phase == .degraded && final.reason.hasPrefix("shadow failed: agreement"), "\(final.reason)")
        let report = try #require(final.shadow?.report)
        #expect(report.verdict == .fail && (report.agreementRate ?? 1) < 0.5)
        #expect(try await RolloutTests.weights(server) == ["stable": 100])
        #expect(try await RolloutTests.production(server) != 3)
    }
}
