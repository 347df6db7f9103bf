import Foundation
import SlipwayModels
import Testing

@Suite struct InferenceHandlerTests {
    static let model = try! ModelTrainer.train(.logistic, on: ExampleData.blobs(samples: 90, seed: 21))
    static let handler = InferenceHandler(model: model, name: "blobs", version: "3")

    static func response(_ json: String) throws -> [String: Any] {
        let data = try handler.infer(Data(json.utf8))
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func output(_ response: [String: Any], _ name: String) -> [String: Any]? {
        (response["outputs"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    /// The probabilities of a response, read with JSONDecoder, which parses doubles exactly.
    static func probabilities(_ json: String) throws -> [Double]? {
        struct Body: Decodable {
            struct Output: Decodable {
                var name: String
                var data: [Double]?

                enum CodingKeys: String, CodingKey { case name, data }

                init(from decoder: any Decoder) throws {
                    let container = try decoder.container(keyedBy: CodingKeys.self)
                    name = try container.decode(String.self, forKey: .name)
                    data = try? container.decode([Double].self, forKey: .data)
                }
            }
            var outputs: [Output]
        }
        let data = try handler.infer(Data(json.utf8))
        return try JSONDecoder().decode(Body.self, from: data).outputs.first { $0.name == "probabilities" }?.data
    }

    @Test func metadataDescribesTheTensors() {
        let metadata = Self.handler.metadata()
        #expect(metadata.name == "blobs" && metadata.versions == ["3"] && metadata.platform == "slipway")
        #expect(metadata.inputs == [TensorMetadata(name: "features", datatype: "FP64", shape: [-1, 3])])
        #expect(metadata.outputs.map(\.name) == ["label", "probabilities"])
        #expect(metadata.outputs[0].datatype == "BYTES")
        #expect(metadata.outputs[1].shape == [-1, 3])
    }

    @Test func oneMatrixTensorFlatOrNested() throws {
        let expected = try Self.model.predict(features: [[0, 4, 1], [4, 0, 0]])
        for data in ["[0, 4, 1, 4, 0, 0]", "[[0, 4, 1], [4, 0, 0]]"] {
            let request =
                #"{"id": "r1", "parameters": {"x": 1}, "inputs": [{"name": "input-0", "shape": [2, 3], "datatype": "FP32", "data": \#(data)}]}"#
            let response = try Self.response(request)
            #expect(response["model_name"] as? String == "blobs")
            #expect(response["model_version"] as? String == "3")
            #expect(response["id"] as? String == "r1")
            let label = try #require(Self.output(response, "label"))
            #expect(label["data"] as? [String] == expected.map(\.label))
            #expect(label["shape"] as? [Int] == [2])
            let probabilities = try #require(Self.output(response, "probabilities"))
            #expect(probabilities["shape"] as? [Int] == [2, 3])
            #expect(probabilities["datatype"] as? String == "FP64")
            #expect(try Self.probabilities(request) == expected.flatMap(\.probabilities))
        }
    }

    @Test func oneTensorPerFeatureInAnyOrder() throws {
        let request = #"""
            {"inputs": [
              {"name": "z", "shape": [2], "datatype": "FP64", "data": [1, 0]},
              {"name": "x", "shape": [2, 1], "datatype": "INT64", "data": [[0], [4]]},
              {"name": "y", "shape": [2], "datatype": "FP64", "data": [4, 0]}]}
            """#
        let response = try Self.response(request)
        let expected = try Self.model.predict(features: [[0, 4, 1], [4, 0, 0]])
        #expect(try Self.probabilities(request) == expected.flatMap(\.probabilities))
        #expect((response["id"] as? String)?.isEmpty == false)
    }

    @Test func requestedOutputsOnly() throws {
        let response = try Self.response(
            #"{"inputs": [{"name": "f", "shape": [1, 3], "datatype": "FP64", "data": [0, 4, 1]}], "outputs": [{"name": "label"}]}"#)
        #expect((response["outputs"] as? [[String: Any]])?.count == 1)
    }

    @Test func integerClassLabelsAreINT64() throws {
        let (train, _) = try ExampleData.breastCancer()
        let model = try ModelTrainer.train(.logistic, on: train)
        let handler = InferenceHandler(model: model, name: "cancer", version: "1")
        #expect(handler.metadata().outputs[0].datatype == "INT64")
        let row = train.features[0].map { "\($0)" }.joined(separator: ",")
        let data = try handler.infer(Data(#"{"inputs": [{"name": "f", "shape": [1, 30], "datatype": "FP64", "data": [\#(row)]}]}"#.utf8))
        let response = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let label = try #require(Self.output(response, "label"))
        #expect(label["datatype"] as? String == "INT64")
        #expect(label["data"] as? [Int] == [Int(train.labels[0])!])
    }

    @Test(arguments: [
        ("{", "malformed"),
        (#"{"inputs": []}"#, "no inputs"),
        (#"{"inputs": [{"name": "f", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}]}"#, "[N, 3]"),
        (#"{"inputs": [{"name": "f", "shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3]}]}"#, "needs 6 values"),
        (#"{"inputs": [{"name": "f", "shape": [1, 3], "datatype": "BYTES", "data": ["a", "b", "c"]}]}"#, "datatype BYTES"),
        (#"{"inputs": [{"name": "f", "shape": [1, 3], "datatype": "FP64", "data": [1, true, 3]}]}"#, "only numbers"),
        (#"{"inputs": [{"name": "f", "shape": [1, 3], "datatype": "FP64", "data": [1, null, 3]}]}"#, "only numbers"),
        (#"{"inputs": [{"name": "f", "shape": [-1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}"#, "negative"),
        (#"{"inputs": [{"name": "f", "shape": [4611686018427387904, 4], "datatype": "FP64", "data": [1]}]}"#, "impossible shape"),
        (
            #"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "y", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "w", "shape": [1], "datatype": "FP64", "data": [1]}]}"#,
            "not a feature"
        ),
        (
            #"{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "y", "shape": [2], "datatype": "FP64", "data": [1, 2]}, {"name": "z", "shape": [1], "datatype": "FP64", "data": [1]}]}"#,
            "rows"
        ),
        (#"{"inputs": [{"name": "f", "shape": [1, 3], "datatype": "FP64", "data": [0, 4, 1]}], "outputs": [{"name": "logits"}]}"#, "unknown output"),
        (#"{"inputs": [{"name": "f", "shape": [1, 3], "datatype": "FP64", "data": [[[[[[[[[[1]]]]]]]]]]}]}"#, "nested"),
        ("[" + String(repeating: "[", count: 100_000), "nested too deeply"),
    ])
    func badRequestsAreExplained(body: String, phrase: String) {
        #expect {
            _ = try Self.handler.infer(Data(body.utf8))
        } throws: { error in
            guard case .invalidInput(let message) = error as? ModelError else { return false }
            return message.contains(phrase)
        }
    }
}
