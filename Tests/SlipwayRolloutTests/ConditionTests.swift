import Foundation
import SlipwayRollout
import Testing

@Suite struct ConditionTests {
    func holds(_ source: String, _ result: ConditionValue = .number(0.01)) throws -> Bool {
        try Condition(source).evaluate(result: result)
    }

    @Test func comparisonsAndArithmetic() throws {
        #expect(try holds("result < 0.02"))
        #expect(try !holds("result >= 0.02"))
        #expect(try holds("result * 100 == 1"))
        #expect(try holds("result + 1 > 1 && result - 1 < 0"))
        #expect(try holds("10 % 3 == 1", .null))
        #expect(try holds("-result < 0"))
        #expect(try holds("2 * (3 + 4) == 14", .null))
        #expect(try holds("1e-3 < result"))
        #expect(try holds("result != 0.5"))
    }

    @Test func precedence() throws {
        // * binds tighter than +, comparisons tighter than &&, && tighter than ||.
        #expect(try holds("1 + 2 * 3 == 7", .null))
        #expect(try holds("true || false && false", .null))
        #expect(try !holds("(true || false) && false", .null))
        #expect(try holds("false && false || true", .null))
        // `!` and `not` apply to a whole comparison.
        #expect(try holds("!result > 5"))
        #expect(try holds("not result > 5 and result > 0"))
        #expect(try !holds("not (result > 5 or result > 0)"))
        #expect(try holds("!!true", .null))
        #expect(try holds("- 2 * 3 == -6", .null))
    }

    @Test func fieldsIndexesAndFunctions() throws {
        let builtin = ConditionValue.measured(0.03, fields: ["stable": 0.01, "delta": 0.02])
        #expect(try holds("result > 0.02 && result.delta >= 0.02 && result.stable < 0.02", builtin))
        #expect(try holds("result.delta / result.stable == 2", builtin))
        let vector = ConditionValue.array([.number(0.97), .number(12)])
        #expect(try holds("result[0] >= 0.95 && result[1] < 20 && len(result) == 2", vector))
        #expect(try holds("result[-1] == 12", vector))
        #expect(try holds("result[0] == 0.5", .number(0.5)))
        let map = ConditionValue.map(["p99": .number(420), "status": .string("ok")])
        #expect(try holds("result.p99 < 500 && result['status'] == 'ok' && result.status == \"ok\"", map))
        #expect(try holds("isNaN(result)", .number(.nan)))
        #expect(try holds("!isNaN(result) && !isInf(result)"))
        #expect(try holds("isInf(result)", .number(.infinity)))
        #expect(try holds("abs(result - 0.02) < 0.011"))
        #expect(try holds("max(result, 5, 2) == 5 && min(result) == 0.01"))
        #expect(try holds("max(result) == 12", vector))
        #expect(try holds("asFloat(result) > 1 && asInt(result) == 3", .string("3.7")))
        #expect(try holds("result == null", .null))
        #expect(try holds("result == true", .bool(true)))
    }

    @Test(arguments: [
        ("", 0, "the condition is empty"),
        ("result <", 8, "the condition ends where a value was expected"),
        ("result = 1", 7, "'=' is not an operator; compare with '=='"),
        ("result & 1", 7, "'&' is not an operator; use '&&'"),
        ("(result > 1", 11, "expected ')' to close the parenthesis opened at column 1, found end of the condition"),
        ("result[0 > 1", 12, "expected ']' to close the index opened at column 7, found end of the condition"),
        ("reslt > 1", 0, "unknown name 'reslt'; a condition reads the measurement as 'result'; did you mean 'result'?"),
        ("lenght(result) > 1", 0, "unknown function 'lenght'; available: abs, asFloat, asInt, isInf, isNaN, len, max, min"),
        ("len(result, 1) > 0", 0, "len() takes 1 argument(s), got 2"),
        ("1 < result < 2", 11, "comparisons cannot be chained; write 'a < b && b < c' instead of 'a < b < c'"),
        ("result > 1 result", 11, "unexpected 'result' after a complete expression"),
        ("'open", 0, "the string starting here is not closed with '"),
        ("result # 1", 7, "unexpected character '#'"),
        ("3result", 1, "a number must not be followed directly by a name"),
        ("result and", 10, "the condition ends where a value was expected"),
    ])
    func syntaxErrors(source: String, offset: Int, message: String) {
        guard case .failure(let error) = Condition.parse(source) else {
            Issue.record("'\(source)' parsed")
            return
        }
        #expect(error.offset == offset)
        #expect(error.message == message)
    }

    @Test func invalidConditionThrowsWithTheColumn() {
        #expect {
            try Condition("result <")
        } throws: { error in
            (error as? RolloutError)?.message == "condition 'result <': column 9: the condition ends where a value was expected"
        }
    }

    @Test func evaluationErrors() {
        func message(_ source: String, _ result: ConditionValue) -> String? {
            do {
                _ = try Condition(source).evaluate(result: result)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(
            message("result[2] > 0", .array([.number(1)]))
                == "condition 'result[2] > 0' at column 7: index 2 is out of range; the result has 1 value(s)")
        #expect(
            message("result.p95 > 0", .map(["p99": .number(1)]))?.contains("the result has no field 'p95'; it has p99. Did you mean 'p99'?") == true)
        #expect(
            message("result > 1", .map(["a": .number(1), "b": .number(2)]))
                == "condition 'result > 1' at column 8: '>' needs numbers, got a map ({a: 1, b: 2})")
        #expect(message("result + 1", .number(1)) == "condition 'result + 1' at column 1: the condition gives a number (2), not true or false")
        #expect(message("result && true", .number(1))?.contains("'&&' needs true or false on its left, got a number") == true)
        #expect(message("result == 'x'", .number(1))?.contains("cannot compare a number with a string") == true)
        #expect(message("len(result) > 0", .number(1))?.contains("len() needs an array, a map or a string") == true)
    }

    @Test func shortCircuit() throws {
        // The right side would fail (no such field) but is never evaluated.
        #expect(try !holds("false && result.missing > 0", .map([:])))
        #expect(try holds("true || result.missing > 0", .map([:])))
    }

    @Test func codableAsText() throws {
        let c = try Condition("result[0] >= 0.95")
        let data = try JSONEncoder().encode(c)
        #expect(String(decoding: data, as: UTF8.self) == #""result[0] >= 0.95""#)
        #expect(try JSONDecoder().decode(Condition.self, from: data) == c)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Condition.self, from: Data(#""result >""#.utf8)) }
    }

    @Test func valuesRoundTripThroughJSON() throws {
        let value = ConditionValue.map(["a": .array([.number(1), .number(.nan), .string("x"), .bool(true), .null]), "b": .number(-.infinity)])
        let decoded = try JSONDecoder().decode(ConditionValue.self, from: JSONEncoder().encode(value))
        #expect(decoded.description == value.description)
    }
}
