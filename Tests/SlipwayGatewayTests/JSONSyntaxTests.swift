import Foundation
import Testing

@testable import SlipwayGateway

/// The gateway's byte-level JSON check: what it accepts must be what JSONSerialization accepts.
@Suite struct JSONSyntaxTests {
    static func valid(_ text: String) -> Bool { valid(Array(text.utf8)) }
    static func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { JSONSyntax.isValid($0) } }

    static func foundation(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil
    }

    static func v2(_ text: String, sticky: String? = nil) -> JSONSyntax.V2Request {
        Array(text.utf8).withUnsafeBytes { JSONSyntax.v2Request($0, stickyField: sticky) }
    }

    static let body = #"{"id":"r-1","inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,-1.4e-2,0]}],"#
        + #""parameters":{"user":"u\u00e9\n","n":12,"flag":true,"none":null},"outputs":[{"name":"predict"}],"text":"ünï\"\\/"}"#

    @Test func acceptsWellFormedDocuments() {
        for text in [
            "{}", "[]", " { } ", "0", "-0", "1.5e10", "-12.25E-3", "1E+2", "\"\"", "\"\\u0041\\ud83d\\ude00\"", "true", "false", "null",
            #"{"a":[1,{"b":[]},"c",null,true,false]}"#, "\t\r\n[ 1 , 2 ]\n", Self.body, "\"é🙂\"",
        ] {
            #expect(Self.valid(text), "\(text)")
            #expect(Self.foundation(Array(text.utf8)), "\(text)")
        }
    }

    @Test func rejectsMalformedAndTruncatedDocuments() {
        for text in [
            "", " ", "{", "}", "[", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "{'a':1}", "[01]", "[1.]", "[.5]", "[-]",
            "[1e]", "[+1]", "[NaN]", "[Infinity]", "[0x10]", "tru", "nul", "[true false]", "{} {}", "[1] x", "\"abc", "\"\\x\"", "\"\\u12\"",
            "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\u{01}b\"", "\"tab\there\"", "{\"a\":1 \"b\":2}", "[1 2]",
        ] {
            #expect(!Self.valid(text), "\(text)")
            #expect(!Self.foundation(Array(text.utf8)), "\(text)")
        }
        // Foundation on Linux lets a trailing comma through; RFC 8259 does not, and neither does the gateway.
        for text in ["[1,]", "{\"a\":1,}", "[[],]"] {
            #expect(!Self.valid(text), "\(text)")
        }
        let full = Array(Self.body.utf8)
        for length in 0..<full.count {
            #expect(!Self.valid(Array(full[..<length])), "the first \(length) bytes")
        }
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x80, 0x22], [0x22, 0xF0, 0x9F, 0x99, 0x22],
        ] {
            #expect(!Self.valid(bytes), "\(bytes)")
            #expect(!Self.foundation(bytes), "\(bytes)")
        }
        #expect(Self.valid([0x22, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x99, 0x82, 0x22]))
    }

    @Test func acceptsHugeNumbersAsText() {
        let digits = String(repeating: "9", count: 400)
        #expect(Self.valid("[\(digits)]"))
        #expect(Self.valid("[1e400, -1e-400, 0.\(digits)]"))
        #expect(Self.v2(#"{"inputs":[],"user":\#(digits)}"#, sticky: "user").stickyValue == digits)
    }

    @Test func limitsNesting() {
        let deep = String(repeating: "[", count: JSONSyntax.maxDepth) + String(repeating: "]", count: JSONSyntax.maxDepth)
        #expect(Self.valid(deep))
        let deeper = String(repeating: "[", count: JSONSyntax.maxDepth + 1) + String(repeating: "]", count: JSONSyntax.maxDepth + 1)
        #expect(!Self.valid(deeper))
        let objects = String(repeating: #"{"a":"#, count: 100_000) + "1" + String(repeating: "}", count: 100_000)
        #expect(!Self.valid(objects))
        #expect(!Self.v2(#"{"inputs":"# + String(repeating: "[", count: 100_000)).isValid)
    }

    @Test func checksV2RequestsAndReadsTheStickyField() {
        #expect(Self.v2(Self.body).isValid)
        #expect(!Self.v2(#"{"outputs":[]}"#).isValid)
        #expect(Self.v2(#"{"outputs":[]}"#).isObject)
        #expect(!Self.v2(#"{"inputs":{}}"#).isValid)
        #expect(!Self.v2(#"[{"inputs":[]}]"#).isValid)
        #expect(!Self.v2(#"{"inputs":[]"#).isValid)
        #expect(!Self.v2(#"{"inputs":[] } x"#).isValid)
        #expect(Self.v2(Self.body, sticky: "user").stickyValue == "ué\n")
        #expect(Self.v2(Self.body, sticky: "n").stickyValue == "12")
        #expect(Self.v2(Self.body, sticky: "flag").stickyValue == "1")
        #expect(Self.v2(Self.body, sticky: "none").stickyValue == nil)
        #expect(Self.v2(Self.body, sticky: "id").stickyValue == "r-1")
        #expect(Self.v2(Self.body, sticky: "text").stickyValue == "ünï\"\\/")
        #expect(Self.v2(Self.body, sticky: "inputs").stickyValue == nil)
        #expect(Self.v2(#"{"inputs":[],"user":"top","parameters":{"user":"inner"}}"#, sticky: "user").stickyValue == "top")
        #expect(Self.v2(#"{"inputs":[],"us\u0065r":"escaped key"}"#, sticky: "user").stickyValue == "escaped key")
        #expect(Self.v2(#"{"inputs":[],"user":"\ud83d\ude00"}"#, sticky: "user").stickyValue == "😀")
    }

    /// Random mutations of a valid body: the verdict must be JSONSerialization's on every one.
    @Test func agreesWithJSONSerializationOnMutatedBodies() {
        var generator = SeededGenerator(seed: 0x5EED)
        let original = Array(Self.body.utf8)
        let alphabet = Array(#"{}[]:,"\/0123456789.-+eEabfnrtu "#.utf8) + [0x00, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]
        var disagreements: [String] = []
        for _ in 0..<4_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let position = Int.random(in: 0..<max(bytes.count, 1), using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0 where !bytes.isEmpty: bytes[position] = alphabet.randomElement(using: &generator)!
                case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: min(position, bytes.count))
                default: if !bytes.isEmpty { bytes.remove(at: position) }
                }
            }
            if Self.valid(bytes) != Self.foundation(bytes) && !Self.hasTrailingComma(bytes) {
                disagreements.append(String(decoding: bytes, as: UTF8.self))
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, e.g. \(disagreements.prefix(3))")
    }
}

extension JSONSyntaxTests {
    /// Whether a comma is followed (after whitespace) by a closing bracket or brace, strings aside.
    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        var inString = false
        var escaped = false
        var afterComma = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                afterComma = false
            case UInt8(ascii: ","): afterComma = true
            case UInt8(ascii: "]"), UInt8(ascii: "}"): if afterComma { return true }
            case 0x20, 0x09, 0x0A, 0x0D: break
            default: afterComma = false
            }
        }
        return false
    }
}

/// A small deterministic generator (SplitMix64), so a failing mutation can be reproduced.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
