import Foundation
import NIOCore
import Testing

@testable import SlipwayGateway

/// How the prediction log reads V2 messages: the span of a request's inputs, a response's prediction and confidence.
@Suite struct InferenceJSONTests {
    static func inputs(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { buffer in
            InferenceJSON.inputsRange(in: buffer).map { String(decoding: bytes[$0], as: UTF8.self) }
        }
    }

    static func answer(_ text: String) -> InferenceJSON.Answer {
        Array(text.utf8).withUnsafeBytes { InferenceJSON.answer(in: $0) }
    }

    @Test func findsTheInputsValueAsSent() {
        #expect(Self.inputs(#"{"inputs":[{"name":"x","data":[1,2]}]}"#) == #"[{"name":"x","data":[1,2]}]"#)
        #expect(
            Self.inputs(#" { "id" : "a\"}{[" , "parameters":{"inputs":1}, "inputs" : [ {"name":"x]","data":["\\",{"a":[]}]} ] , "z":null}"#)
                == #"[ {"name":"x]","data":["\\",{"a":[]}]} ]"#)
        #expect(Self.inputs(#"{"parameters":{"inputs":[1]}}"#) == nil)
        #expect(Self.inputs(#"{"inputs":[1,2"#) == nil)
        #expect(Self.inputs("not json") == nil)
        #expect(Self.inputs("") == nil)
    }

    @Test func readsTheFirstOutputsFirstValueAndTheConfidence() {
        // A classifier: a label output, then probabilities of shape [N, C].
        #expect(
            Self.answer(
                #"{"model_name":"m","outputs":[{"name":"label","shape":[2],"datatype":"INT64","data":[1,0]},{"name":"probabilities","shape":[2,3],"data":[0.1,0.7,0.2,0.9,0.05,0.05]}]}"#
            ) == .init(prediction: "1", confidence: 0.7))
        // Fields in any order, nested data, string labels with escapes.
        #expect(
            Self.answer(
                #"{"outputs":[{"data":[["caf\u00e9 \"au\" lait"]],"name":"label"},{"data":[[0.25,0.75],[1,0]],"shape":[2,2],"name":"predict_proba"}],"id":"x"}"#
            ) == .init(prediction: #"café "au" lait"#, confidence: 0.75))
        // One probability per row: a binary model's positive class.
        #expect(Self.answer(#"{"outputs":[{"name":"probability","shape":[3],"data":[0.2,0.9,0.4]}]}"#) == .init(prediction: "0.2", confidence: 0.8))
        // A regression output has a prediction and no confidence.
        #expect(Self.answer(#"{"outputs":[{"name":"price","shape":[1,1],"data":[[1234.5e-1]]}]}"#) == .init(prediction: "1234.5e-1", confidence: nil))
        // Scores that are not probabilities give no confidence.
        #expect(
            Self.answer(#"{"outputs":[{"name":"label","data":[true]},{"name":"probabilities","shape":[1,2],"data":[-3.2,4.1]}]}"#)
                == .init(prediction: "true"))
        // Nothing readable.
        #expect(Self.answer(#"{"outputs":[{"name":"label","data":[null]}]}"#) == .init())
        #expect(Self.answer(#"{"outputs":[{"name":"label","data":[]}]}"#) == .init())
        #expect(Self.answer(#"{"outputs":[]}"#) == .init())
        #expect(Self.answer(#"{"error":"bad input"}"#) == .init())
        #expect(Self.answer(#"{"outputs":[{"name":"label","data":["#) == .init())
        #expect(Self.answer("") == .init())
        // Keys are compared as sent; a name with escapes is unescaped before it is read.
        #expect(
            Self.answer(#"{"outputs":[{"name":"label","data":[2]},{"name":"pr\u006fba","shape":[1,+2],"data":[0.3,0.7]}]}"#)
                == .init(prediction: "2", confidence: 0.7))
        #expect(Self.answer(#"{"outp\u0075ts":[{"name":"label","data":[2]}]}"#) == .init())
        // A shape that is not a list of integers makes the output unreadable.
        #expect(Self.answer(#"{"outputs":[{"name":"label","shape":[1.5],"data":[3]}]}"#) == .init())
        #expect(Self.answer(#"{"outputs":[{"name":"label","shape":[99999999999999999999],"data":[3]}]}"#) == .init())
        #expect(Self.answer(#"{"outputs":[{"name":"label","shape":[-],"data":[3]}]}"#) == .init())
        #expect(Self.answer(#"{"outputs":[{"name":"label","shape":[],"data":[3]}]}"#) == .init(prediction: "3"))
        // Binary outputs carry no data in the JSON header.
        #expect(Self.answer(#"{"outputs":[{"name":"label","shape":[1],"parameters":{"binary_data_size":8}}]}"#) == .init())
    }

    @Test func partsAreWrittenInPlaceWithDecimalNumbers() {
        var buffer = ByteBuffer()
        buffer.writeParts(upTo: 128) { out in
            out.put("n=")
            for value in [0, 7, 10, 12_345, Int.max] {
                out.put(decimal: value)
                out.put(",")
            }
            out.put(String(repeating: "é", count: 3))
            out.put(ByteBuffer(string: "|end"))
        }
        #expect(buffer.readString(length: buffer.readableBytes) == "n=0,7,10,12345,\(Int.max),ééé|end")
    }
}
