import Foundation
import Testing

/// `slipway secret`, `slipway env` and `slipway approve` as child processes on a real data folder:
/// values go in through stdin or a file and never come out again.
@Suite(.timeLimit(.minutes(3))) struct SecretCLITests {
    @Test func secretValuesGoInButNeverComeOut() async throws {
        let root = try makeScratchFolder("secret-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let dataDir = root.appendingPathComponent("store").path
        let value = "s3cr3t-value-\(UUID().uuidString)"
        func cli(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
            let result = try await runCLI(arguments + ["--data-dir", dataDir], in: root, environment: environment, stdin: stdin)
            #expect(!result.stdout.contains(value) && !result.stderr.contains(value), "\(arguments) printed the value")
            return result
        }

        let stored = try await cli(["secret", "set", "API_TOKEN"], stdin: Data((value + "\n").utf8))
        #expect(stored.status == 0, "\(stored.stderr)")
        try Data(value.utf8).write(to: root.appendingPathComponent("value.txt"))
        let fromFile = try await cli(["secret", "set", "DEPLOY_KEY", "--env", "production", "--file", "value.txt", "--json"])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")

        let listed = try await cli(["secret", "list", "--json"])
        #expect(listed.status == 0)
        let names = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["API_TOKEN"])
        let production = try await cli(["secret", "list", "--env", "production"])
        #expect(production.stdout.contains("DEPLOY_KEY"))

        for arguments in [["secret", "set", "GITHUB_TOKEN"], ["secret", "set", "1BAD"], ["secret", "set", "EMPTY"], ["secret", "delete", "NOPE"]] {
            let refused = try await cli(arguments, stdin: Data())
            #expect(refused.status != 0, "\(arguments) was accepted")
            #expect(refused.stderr.contains("error:"), "\(arguments): \(refused.stderr)")
        }
        let missingFile = try await cli(["secret", "set", "X", "--file", "absent.txt"])
        #expect(missingFile.status != 0 && missingFile.stderr.contains("absent.txt"))

        let store = root.appendingPathComponent("store")
        let enumerator = FileManager.default.enumerator(at: store, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            let text = String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self)
            #expect(!text.contains(value), "\(url.path) holds the value in clear")
        }
        let deleted = try await cli(["secret", "delete", "API_TOKEN"])
        #expect(deleted.status == 0)
        #expect(try await cli(["secret", "list"]).stdout.contains("No secrets."))
    }

    @Test func environmentsAreCreatedAndApprovalsNeedAWaitingRun() async throws {
        let root = try makeScratchFolder("env-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let dataDir = root.appendingPathComponent("store").path
        func cli(_ arguments: [String], user: String = "carol") async throws -> (status: Int32, stdout: String, stderr: String) {
            try await runCLI(arguments + ["--data-dir", dataDir], in: root, environment: ["USER": user])
        }
        let created = try await cli(["env", "create", "production", "--reviewers", "alice,bob", "--wait-timer", "10m", "--prevent-self-review", "--branches", "main", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let environment = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any]
        #expect(environment?["reviewers"] as? [String] == ["alice", "bob"])
        #expect(environment?["waitTimerSeconds"] as? Int == 600)
        #expect(try await cli(["env", "list"]).stdout.contains("alice,bob"))
        #expect(try await cli(["env", "show", "production"]).stdout.contains("prevent self-review: yes"))

        for arguments in [
            ["env", "create", "bad name"], ["env", "create", "x", "--wait-timer", "forever"], ["env", "create", "y", "--prevent-self-review"],
            ["env", "show", "absent"], ["approve", "12", "--env", "production"], ["approve", "12"], ["approve", "../12", "--env", "production"],
        ] {
            let refused = try await cli(arguments)
            #expect(refused.status != 0, "\(arguments) was accepted")
            #expect(refused.stderr.contains("error"), "\(arguments): \(refused.stderr)")
        }
        #expect(try await cli(["approve"]).stdout.contains("Nothing waits for approval."))
        #expect(try await cli(["env", "delete", "production"]).status == 0)
        #expect(try await cli(["env", "list"]).stdout.contains("No environments."))
    }
}
