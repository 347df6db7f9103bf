import Foundation
import SlipwayCore
import Testing

@testable import SlipwayPipeline

@Suite("Secret store")
struct SecretStoreTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("values round-trip, environments override the repository, and nothing is stored in clear")
    func roundTrip() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SecretStore.open(dataDir: dir, environment: [:])
        try store.set("API_TOKEN", value: "repo-value-123")
        try store.set("API_TOKEN", value: "prod-value-456", environment: "production")
        try store.set("MULTI", value: "line one\nline two")
        #expect(try store.values() == ["API_TOKEN": "repo-value-123", "MULTI": "line one\nline two"])
        #expect(try store.values(environment: "production") == ["API_TOKEN": "prod-value-456", "MULTI": "line one\nline two"])
        #expect(try store.list().map(\.name) == ["API_TOKEN", "MULTI"])
        #expect(try store.list(environment: "production").map(\.name) == ["API_TOKEN"])

        let reopened = try SecretStore.open(dataDir: dir, environment: [:])
        #expect(try reopened.values()["API_TOKEN"] == "repo-value-123")

        let enumerator = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard let data = try? Data(contentsOf: url) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            #expect(!text.contains("repo-value-123") && !text.contains("prod-value-456") && !text.contains("line two"), "\(url.path) holds a value")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("master.key").path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try store.delete("MULTI"))
        #expect(try !store.delete("MULTI"))
        #expect(try store.values().keys.sorted() == ["API_TOKEN"])
    }

    @Test("a master key from the environment, and a wrong key is refused with a clear message")
    func masterKeys() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let store = try SecretStore.open(dataDir: dir, environment: ["SLIPWAY_MASTER_KEY": key])
        try store.set("DB_PASSWORD", value: "hunter2-hunter2")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("master.key").path))
        #expect(try SecretStore.open(dataDir: dir, environment: ["SLIPWAY_MASTER_KEY": key]).values()["DB_PASSWORD"] == "hunter2-hunter2")

        let wrong = #expect(throws: GenericError.self) {
            _ = try SecretStore.open(dataDir: dir, environment: ["SLIPWAY_MASTER_KEY": "a different passphrase entirely"])
        }
        #expect(wrong?.message.contains("master key does not match") == true)
        #expect(throws: GenericError.self) { _ = try SecretStore.open(dataDir: dir, environment: ["SLIPWAY_MASTER_KEY": "short"]) }
    }

    @Test("a secret file renamed to another secret's name does not decrypt")
    func boundToName() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SecretStore.open(dataDir: dir, environment: [:])
        try store.set("A", value: "value-of-a")
        let repository = dir.appendingPathComponent("secrets/repository")
        var text = try String(contentsOf: repository.appendingPathComponent("A.secret"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\"name\":\"A\"", with: "\"name\":\"B\"")
        try text.write(to: repository.appendingPathComponent("B.secret"), atomically: true, encoding: .utf8)
        #expect(throws: GenericError.self) { _ = try store.values() }
    }

    @Test("a flipped byte is reported as damage, never returned")
    func corruption() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SecretStore.open(dataDir: dir, environment: [:])
        try store.set("TOKEN", value: "abcdefghijklmnop")
        let file = dir.appendingPathComponent("secrets/repository/TOKEN.secret")
        var text = try String(contentsOf: file, encoding: .utf8)
        let sealed = try #require(text.range(of: "\"sealed\":\""))
        let index = text.index(sealed.upperBound, offsetBy: 20)
        let replacement: Character = text[index] == "A" ? "B" : "A"
        text.replaceSubrange(index...index, with: String(replacement))
        try text.write(to: file, atomically: true, encoding: .utf8)
        let error = #expect(throws: GenericError.self) { _ = try store.values() }
        #expect(error?.kind == .corrupted)
    }

    @Test("bad names, empty and oversized values, and a key file others can read are refused")
    func badInput() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SecretStore.open(dataDir: dir, environment: [:])
        for name in ["", "1ABC", "GITHUB_TOKEN", "github_x", "A-B", "A B", "../X", "Ä"] {
            #expect(throws: GenericError.self, "\(name)") { try store.set(name, value: "v") }
        }
        for environment in ["", "..", "a/b", "prod env"] {
            #expect(throws: GenericError.self, "\(environment)") { try store.set("OK", value: "v", environment: environment) }
        }
        #expect(throws: GenericError.self) { try store.set("EMPTY", value: "") }
        #expect(throws: GenericError.self) { try store.set("BIG", value: String(repeating: "x", count: SecretStore.maximumValueSize + 1)) }
        #expect(try store.list().isEmpty)

        chmod(dir.appendingPathComponent("master.key").path, 0o644)
        let error = #expect(throws: GenericError.self) { _ = try SecretStore.open(dataDir: dir, environment: [:]) }
        #expect(error?.message.contains("chmod 600") == true)
    }
}

@Suite("Environments and approvals")
struct ApprovalTests {
    @Test("one reviewer decides once; outsiders and self-review are refused")
    func approvals() throws {
        let dir = try SecretStoreTests.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let environments = EnvironmentStore(dataDir: dir)
        try environments.save(DeploymentEnvironment(name: "production", reviewers: ["alice", "bob"], waitTimerSeconds: 600, preventSelfReview: true))
        #expect(try environments.get("production")?.reviewers == ["alice", "bob"])
        #expect(try environments.list().map(\.name) == ["production"])

        let book = ApprovalBook(dataDir: dir)
        _ = try book.request(run: "7", environment: "production", job: "deploy (a)", requestedBy: "alice")
        let joined = try book.request(run: "7", environment: "production", job: "deploy (b)", requestedBy: "alice")
        #expect(joined.jobs == ["deploy (a)", "deploy (b)"])
        #expect(try book.pending().map(\.run) == ["7"])

        let outsider = #expect(throws: GenericError.self) { _ = try book.decide(run: "7", environment: "production", reviewer: "mallory", approve: true) }
        #expect(outsider?.kind == .permissionDenied)
        let selfReview = #expect(throws: GenericError.self) { _ = try book.decide(run: "7", environment: "production", reviewer: "alice", approve: true) }
        #expect(selfReview?.message.contains("self-review") == true)
        #expect(try book.get(run: "7", environment: "production")?.state == .pending)

        let decision = try book.decide(run: "7", environment: "production", reviewer: "bob", approve: true, comment: "ship it")
        #expect(decision.state == .approved && decision.reviewer == "bob")
        let again = #expect(throws: GenericError.self) { _ = try book.decide(run: "7", environment: "production", reviewer: "bob", approve: false) }
        #expect(again?.kind == .failedPrecondition)
        #expect(try book.pending().isEmpty)
        #expect(throws: GenericError.self) { _ = try book.decide(run: "8", environment: "production", reviewer: "bob", approve: true) }
        #expect(throws: GenericError.self) { _ = try book.decide(run: "../7", environment: "production", reviewer: "bob", approve: true) }
        #expect(throws: GenericError.self) { _ = try book.decide(run: "7", environment: "staging", reviewer: "bob", approve: true) }
    }

    @Test("wait timers parse durations and refuse nonsense")
    func waitTimers() throws {
        #expect(try DeploymentEnvironment.waitTimer("90") == 90)
        #expect(try DeploymentEnvironment.waitTimer("10m") == 600)
        #expect(try DeploymentEnvironment.waitTimer("2h") == 7_200)
        #expect(try DeploymentEnvironment.waitTimer("30d") == 2_592_000)
        for text in ["", "-1m", "10x", "31d", "1.5h", "m"] {
            #expect(throws: GenericError.self, "\(text)") { _ = try DeploymentEnvironment.waitTimer(text) }
        }
    }
}
