import Testing

@testable import SlipwayPipeline

/// Contexts shared by the expression tests: a push event with issues, fruits and vegetables (the
/// object-filter examples of GitHub's documentation), step and job outputs, a matrix and inputs.
enum ExpressionFixtures {
    static func json(_ text: String) -> ExpressionValue {
        (try? ExpressionValue(parsingJSON: text)) ?? .null
    }

    static let event = json(
        #"""
        {
          "number": 42,
          "issues": [
            {"title": "Crash on start", "number": 1, "labels": [{"name": "bug"}, {"name": "ui"}]},
            {"title": "Docs typo", "number": 2, "labels": [{"name": "docs"}]}
          ],
          "fruits": [
            {"name": "apple", "quantity": 1},
            {"name": "orange", "quantity": 2},
            {"name": "pear", "quantity": 1}
          ],
          "vegetables": [
            {"name": "carrot", "ediblePortions": ["roots", "stems", "leaves"]},
            {"name": "cabbage", "ediblePortions": ["leaves"]},
            {"name": "onion", "ediblePortions": ["roots", "stems"]}
          ],
          "sizes": {"small": {"cores": 2}, "large": {"cores": 16}},
          "empty": {},
          "nothing": null
        }
        """#)

    static let contexts: [String: ExpressionValue] = [
        "github": .object([
            "event_name": .string("push"),
            "ref": .string("refs/heads/main"),
            "sha": .string("4f2a9c0"),
            "event": event,
        ]),
        "env": .object(["GREETING": .string("Hello"), "EMPTY": .string(""), "COUNT": .string("42")]),
        "matrix": .object(["os": .string("ubuntu-latest"), "python": .number(3.11), "gpu": .bool(false)]),
        "steps": .object([
            "build": .object([
                "outputs": .object(["version": .string("1.2.3"), "count": .string("3"), "metrics": .string(#"{"accuracy": 0.93, "loss": 0.12}"#)]),
                "outcome": .string("success"),
            ]),
            "build-model": .object(["outputs": .object(["path": .string("models/m.bin")])]),
        ]),
        "needs": .object(["train": .object(["result": .string("success"), "outputs": .object(["accuracy": .string("0.93")])])]),
        "inputs": .object(["deploy": .bool(true), "replicas": .number(3), "target": .string("staging")]),
        "secrets": .object(["TOKEN": .string("s3cr3t")]),
        "vars": .object([:]),
    ]

    static func context(status: ExecutionStatus = ExecutionStatus()) -> ExpressionContext {
        ExpressionContext(contexts: contexts, status: status)
    }

    static func evaluate(_ text: String, status: ExecutionStatus = ExecutionStatus()) throws -> ExpressionValue {
        try Expression.parse(text).evaluate(in: context(status: status))
    }
}

/// Equality that treats NaN as equal to NaN, for expected values.
func sameValue(_ lhs: ExpressionValue, _ rhs: ExpressionValue) -> Bool {
    switch (lhs, rhs) {
    case (.number(let left), .number(let right)) where left.isNaN && right.isNaN: true
    case (.array(let left), .array(let right)): left.count == right.count && zip(left, right).allSatisfy { sameValue($0, $1) }
    case (.object(let left), .object(let right)):
        left.entries.count == right.entries.count && zip(left.entries, right.entries).allSatisfy { $0.key == $1.key && sameValue($0.value, $1.value) }
    default: lhs == rhs
    }
}
