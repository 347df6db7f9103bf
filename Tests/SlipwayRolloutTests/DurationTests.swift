import SlipwayRollout
import Testing

@Suite struct DurationTests {
    @Test(arguments: [("30s", 30.0), ("10m", 600), ("1h", 3600), ("1h30m", 5400), ("500ms", 0.5), ("2d", 172_800), ("90", 90)])
    func parses(text: String, seconds: Double) throws {
        #expect(try RolloutDuration(parsing: text).seconds == seconds)
    }

    @Test(arguments: ["", "10", "1h30m"])
    func roundTrips(text: String) throws {
        guard !text.isEmpty else { return }
        let d = try RolloutDuration(parsing: text)
        #expect(try RolloutDuration(parsing: d.description) == d)
    }

    @Test(arguments: ["abc", "10x", "30m1h", "1h1h", "-5s", "m"])
    func rejects(text: String) {
        #expect(throws: RolloutError.self) { try RolloutDuration(parsing: text) }
    }

    @Test func canonicalText() throws {
        #expect(RolloutDuration(seconds: 5400).description == "1h30m")
        #expect(RolloutDuration(seconds: 0).description == "0s")
        #expect(RolloutDuration(seconds: 0.25).description == "250ms")
    }
}
