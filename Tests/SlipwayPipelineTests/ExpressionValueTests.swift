import Foundation
import Testing

@testable import SlipwayPipeline

@Suite("Expression values: conversions and JSON")
struct ExpressionValueTests {
    @Test("numberValue follows GitHub's conversion table")
    func numbers() {
        #expect(ExpressionValue.null.numberValue == 0)
        #expect(ExpressionValue.bool(true).numberValue == 1)
        #expect(ExpressionValue.bool(false).numberValue == 0)
        #expect(ExpressionValue.string("").numberValue == 0)
        #expect(ExpressionValue.string(" \t42\n").numberValue == 42)
        #expect(ExpressionValue.string("0x1F").numberValue == 31)
        #expect(ExpressionValue.string("-2.5e2").numberValue == -250)
        #expect(ExpressionValue.string("-Infinity").numberValue == -.infinity)
        #expect(ExpressionValue.string("1_000").numberValue.isNaN)
        #expect(ExpressionValue.string("-0x10").numberValue.isNaN)
        #expect(ExpressionValue.string("inf").numberValue.isNaN)
        #expect(ExpressionValue.string("nan").numberValue.isNaN)
        #expect(ExpressionValue.string("0x1p3").numberValue.isNaN)
        #expect(ExpressionValue.array([]).numberValue.isNaN)
        #expect(ExpressionValue.object(ExpressionObject()).numberValue.isNaN)
    }

    @Test("stringValue follows GitHub's conversion table")
    func strings() {
        #expect(ExpressionValue.null.stringValue == "")
        #expect(ExpressionValue.bool(false).stringValue == "false")
        #expect(ExpressionValue.number(42).stringValue == "42")
        #expect(ExpressionValue.number(-0.0).stringValue == "0")
        #expect(ExpressionValue.number(0.1 + 0.2).stringValue == "0.30000000000000004")
        #expect(ExpressionValue.number(1e20).stringValue == "100000000000000000000")
        #expect(ExpressionValue.number(123e-20).stringValue == "1.23e-18")
        #expect(ExpressionValue.number(-1.5e25).stringValue == "-1.5e+25")
        #expect(ExpressionValue.number(1.7976931348623157e308).stringValue == "1.7976931348623157e+308")
        #expect(ExpressionValue.number(Double.leastNonzeroMagnitude).stringValue == "5e-324")
        #expect(ExpressionValue.array([.number(1), .string("a")]).stringValue == "[\n  1,\n  \"a\"\n]")
    }

    @Test("jsonText is compact or indented, keeps key order and escapes strings")
    func jsonText() {
        let value = ExpressionValue.object([
            "z": .array([.number(1), .bool(true), .null]),
            "a": .string("line\nbreak \"q\" \\ \u{1} é"),
            "empty": .object(ExpressionObject()),
            "nan": .number(.nan),
        ])
        #expect(value.jsonText == #"{"z":[1,true,null],"a":"line\nbreak \"q\" \\ \u0001 é","empty":{},"nan":null}"#)
        #expect(
            value.jsonText(pretty: true)
                == "{\n  \"z\": [\n    1,\n    true,\n    null\n  ],\n  \"a\": \"line\\nbreak \\\"q\\\" \\\\ \\u0001 é\",\n  \"empty\": {},\n  \"nan\": null\n}"
        )
    }

    @Test("parsing JSON keeps key order and round-trips")
    func parsing() throws {
        let text = #"{"b": [1, 2.5, -3e2, true, false, null], "a": {"nested": "\u00e9\n"}, "B": 7}"#
        let value = try ExpressionValue(parsingJSON: text)
        guard case .object(let object) = value else {
            Issue.record("expected an object")
            return
        }
        // "B" replaces "b" (keys are case-insensitive), keeping the first position.
        #expect(object.keys == ["b", "a"])
        #expect(object["a"] == .object(["nested": .string("é\n")]))
        #expect(try ExpressionValue(parsingJSON: value.jsonText) == value)
        #expect(try ExpressionValue(parsingJSON: value.jsonText(pretty: true)) == value)
    }

    @Test(
        "malformed JSON is refused with the position of the problem",
        arguments: [
            ("", 0), ("{", 1), ("[1,]", 3), ("{\"a\":}", 5), ("01", 1), ("1.", 2), ("-", 1), ("\"\\x\"", 1), ("\"a", 0), ("tru", 0), ("[1 2]", 3),
            ("{\"a\" 1}", 5), ("\"\u{1}\"", 1), ("NaN", 0), ("'a'", 0),
        ])
    func malformedJSON(_ text: String, _ offset: Int) throws {
        let error = try #require(throws: ExpressionError.self) { try ExpressionValue(parsingJSON: text) }
        #expect(error.offset == offset, "\(text): \(error.message)")
        #expect(error.message.contains("of the JSON text"))
    }

    @Test("Foundation JSON objects convert, with booleans kept apart from numbers")
    func foundationObjects() throws {
        let data = Data(#"{"flag": true, "count": 1, "ratio": 0.5, "name": "x", "list": [false, 0, null], "nested": {"b": 2, "a": 1}}"#.utf8)
        let object = try JSONSerialization.jsonObject(with: data)
        let value = try #require(ExpressionValue(jsonObject: object))
        #expect(
            value
                == .object([
                    "count": .number(1), "flag": .bool(true), "list": .array([.bool(false), .number(0), .null]), "name": .string("x"),
                    "nested": .object(["a": .number(1), "b": .number(2)]), "ratio": .number(0.5),
                ]))
        #expect(ExpressionValue(jsonObject: true) == .bool(true))
        #expect(ExpressionValue(jsonObject: 3) == .number(3))
        #expect(ExpressionValue(jsonObject: Date()) == nil)
        let back = try JSONSerialization.data(withJSONObject: value.jsonObject, options: [.sortedKeys])
        #expect(try ExpressionValue(parsingJSON: String(decoding: back, as: UTF8.self)) == value)
    }

    @Test("string maps become objects with sorted or given key order")
    func stringMaps() {
        #expect(ExpressionValue(strings: ["b": "2", "a": "1"]) == .object(["a": .string("1"), "b": .string("2")]))
        let ordered = ExpressionObject(orderedStrings: [(name: "z", value: "1"), (name: "a", value: "2"), (name: "Z", value: "3")])
        #expect(ordered.keys == ["z", "a"])
        #expect(ordered["z"] == .string("3"))
    }
}
