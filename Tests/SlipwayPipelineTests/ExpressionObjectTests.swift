import Testing

@testable import SlipwayPipeline

@Suite("Expression objects")
struct ExpressionObjectTests {
    @Test("keys keep insertion order and are looked up case-insensitively")
    func caseInsensitiveLookup() {
        var object: ExpressionObject = ["event_name": .string("push"), "ref": .string("refs/heads/main")]
        #expect(object["EVENT_NAME"] == .string("push"))
        object["Ref"] = .string("refs/heads/dev")
        #expect(object.keys == ["event_name", "ref"])
        #expect(object["ref"] == .string("refs/heads/dev"))
        object["ref"] = nil
        #expect(object.keys == ["event_name"])
    }

    @Test("truthiness follows GitHub's rules")
    func truthiness() {
        #expect(!ExpressionValue.null.isTruthy)
        #expect(!ExpressionValue.number(0).isTruthy)
        #expect(!ExpressionValue.number(.nan).isTruthy)
        #expect(!ExpressionValue.string("").isTruthy)
        #expect(ExpressionValue.string("false").isTruthy)
        #expect(ExpressionValue.array([]).isTruthy)
        #expect(ExpressionValue.object(ExpressionObject()).isTruthy)
    }
}
