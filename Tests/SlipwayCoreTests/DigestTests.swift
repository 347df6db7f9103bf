import Foundation
import Testing

@testable import SlipwayCore

@Suite struct DigestTests {
    @Test func knownVectors() {
        #expect(Digest(of: Data()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest(of: Data("abc".utf8)).description == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func incrementalEqualsOneShot() {
        let data = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var hasher = DigestHasher()
        var offset = 0
        while offset < data.count {
            let end = min(offset + 4097, data.count)
            hasher.update(data[offset..<end])
            offset = end
        }
        #expect(hasher.count == Int64(data.count))
        #expect(hasher.finalize() == Digest(of: data))
    }

    @Test(arguments: [
        "", "sha256:", "sha256:abc", String(repeating: "g", count: 64), "sha512:" + String(repeating: "a", count: 64),
        String(repeating: "a", count: 63), String(repeating: "a", count: 65), "sha256:" + String(repeating: "é", count: 32),
    ])
    func rejectsMalformed(_ text: String) {
        #expect(Digest(text) == nil)
    }

    @Test func parsesAndNormalises() throws {
        let upper = String(repeating: "AB", count: 32)
        let digest = try #require(Digest("sha256:" + upper))
        #expect(digest.hex == upper.lowercased())
        #expect(Digest(digest.hex) == digest)
        let json = try JSONEncoder().encode(digest)
        #expect(try JSONDecoder().decode(Digest.self, from: json) == digest)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Digest.self, from: Data("\"nope\"".utf8)) }
    }
}

@Suite struct NamesTests {
    @Test(arguments: ["churn", "churn-classifier", "a", "Model_2.v1", String(repeating: "x", count: 256)])
    func acceptsModelNames(_ name: String) throws {
        try Names.validateModelName(name)
    }

    @Test(arguments: [
        "", " ", "-lead", ".hidden", "a b", "a/b", "a..b", "naïve", "a\u{0}b", "x;drop table", String(repeating: "x", count: 257), "../etc",
    ])
    func rejectsModelNames(_ name: String) {
        #expect(throws: GenericError.self) { try Names.validateModelName(name) }
    }

    @Test(arguments: ["3", "latest", "LATEST", "v3", "", "a b"])
    func rejectsAliases(_ alias: String) {
        #expect(throws: GenericError.self) { try Names.validateAlias(alias) }
    }

    @Test func acceptsAliases() throws {
        for alias in ["production", "staging", "champion", "challenger-2", "v1.0.0"] { try Names.validateAlias(alias) }
    }

    @Test func keysAndValues() throws {
        try Names.validateKey("team")
        try Names.validateKey("ünïcode key with spaces")
        #expect(throws: GenericError.self) { try Names.validateKey("") }
        #expect(throws: GenericError.self) { try Names.validateKey("bad\nkey") }
        #expect(throws: GenericError.self) { try Names.validateKey(String(repeating: "k", count: 251)) }
        try Names.validateValue(String(repeating: "v", count: 5000))
        #expect(throws: GenericError.self) { try Names.validateValue(String(repeating: "v", count: 5001)) }
    }
}

@Suite struct TimestampTests {
    @Test func roundTripsMilliseconds() throws {
        let now = Timestamp.now()
        #expect(Timestamp.date(millis: Timestamp.millis(now)) == now)
        let text = Timestamp.format(now)
        #expect(text.hasSuffix("Z"))
        #expect(try #require(Timestamp.parse(text)) == now)
    }

    @Test func parsesForms() throws {
        #expect(Timestamp.parse("2026-11-27T10:00:00Z").map(Timestamp.millis) == 1_795_773_600_000)
        #expect(Timestamp.parse("2026-11-27T10:00:00.250Z").map(Timestamp.millis) == 1_795_773_600_250)
        #expect(Timestamp.parse("1795773600000").map(Timestamp.millis) == 1_795_773_600_000)
        #expect(Timestamp.parse("2026-11-27") != nil)
        for bad in ["", "yesterday", "2026-13-45", "10:00"] { #expect(Timestamp.parse(bad) == nil) }
    }

    @Test func jsonUsesIsoDates() throws {
        struct Box: Codable, Equatable { var at: Date }
        let box = Box(at: Timestamp.date(millis: 1_795_773_600_123))
        let data = try SlipwayJSON.encoder().encode(box)
        #expect(String(decoding: data, as: UTF8.self) == #"{"at":"2026-11-27T10:00:00.123Z"}"#)
        #expect(try SlipwayJSON.decoder().decode(Box.self, from: data) == box)
        #expect(try SlipwayJSON.decoder().decode(Box.self, from: Data(#"{"at":1795773600123}"#.utf8)) == box)
    }
}

@Suite struct RoleTests {
    @Test func rolesAreOrdered() throws {
        #expect(Role.viewer < .editor && Role.editor < .approver && Role.approver < .admin)
        let viewer = Principal(name: "v", role: .viewer)
        #expect(throws: GenericError.self) { try viewer.require(.editor, for: "x") }
        try Principal(name: "a", role: .admin).require(.approver, for: "x")
        do {
            try viewer.require(.admin, for: "deleting a model")
        } catch {
            #expect(error.kind == .permissionDenied)
            #expect(error.message.contains("admin"))
        }
    }
}
