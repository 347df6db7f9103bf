import Foundation
import SlipwayModels
import Testing

@Suite struct ModelFileTests {
    static let smallData = ExampleData.blobs(samples: 90, seed: 11)

    static func trained(_ algorithm: Algorithm) throws -> BuiltinModel {
        try ModelTrainer.train(algorithm, on: smallData, parameters: algorithm == .gbdt ? ["max_iter": "10", "min_samples_leaf": "5"] : [:])
    }

    @Test(arguments: Algorithm.allCases)
    func saveAndLoadGiveIdenticalPredictions(algorithm: Algorithm) throws {
        let (train, test) = try ExampleData.breastCancer()
        let model = try ModelTrainer.train(algorithm, on: train, parameters: algorithm == .gbdt ? ["max_iter": "30"] : [:])
        let directory = try TemporaryDirectory()
        let modelDir = directory.url.appendingPathComponent("cancer")
        try model.save(to: modelDir)
        let loaded = try BuiltinModel.load(from: modelDir)
        #expect(loaded.document == model.document)
        #expect(try loaded.predict(features: test.features) == model.predict(features: test.features))
        // Saving the loaded model writes the same bytes: the numbers round-trip exactly.
        #expect(try loaded.encoded() == model.encoded())
        // Saving again replaces the model in place.
        try loaded.save(to: modelDir)
        #expect(try BuiltinModel.load(from: modelDir).document == model.document)
        #expect(try FileManager.default.contentsOfDirectory(atPath: modelDir.path) == [ModelDocument.fileName])
        // The file itself can be named too.
        let viaFile = try BuiltinModel.load(from: modelDir.appendingPathComponent(ModelDocument.fileName))
        #expect(viaFile.document == model.document)
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: modelDir.appendingPathComponent(ModelDocument.fileName))) as? [String: Any]
        for key in ["format_version", "algorithm", "feature_names", "class_labels", "params", "training", algorithm.rawValue] {
            #expect(object?[key] != nil, "missing \(key)")
        }
    }

    /// Replaces one top-level part of a valid model file and expects the load to fail with `phrase`.
    func expectRejected(_ algorithm: Algorithm, phrase: String, _ edit: (inout [String: Any]) -> Void) throws {
        var object = try #require(JSONSerialization.jsonObject(with: Self.trained(algorithm).encoded()) as? [String: Any])
        edit(&object)
        let data = try JSONSerialization.data(withJSONObject: object)
        #expect {
            _ = try BuiltinModel.decode(data, source: "hostile.json")
        } throws: { error in
            guard case .invalidModel(let path, let message) = error as? ModelError else { return false }
            return path == "hostile.json" && message.contains(phrase)
        }
    }

    @Test func inconsistentDocumentsAreRejected() throws {
        try expectRejected(.logistic, phrase: "newer Slipway") { $0["format_version"] = 99 }
        try expectRejected(.logistic, phrase: "class_labels") { $0["class_labels"] = ["only"] }
        try expectRejected(.logistic, phrase: "class_labels") { $0["class_labels"] = ["a", "a", "b"] }
        try expectRejected(.logistic, phrase: "feature_names do not match") { $0["feature_names"] = ["x", "y", "q"] }
        try expectRejected(.logistic, phrase: "wrong type") { $0["algorithm"] = 3 }
        try expectRejected(.logistic, phrase: "logistic") { $0["algorithm"] = "gbdt" }
        try expectRejected(.logistic, phrase: "coefficients") { object in
            var weights = object["logistic"] as! [String: Any]
            weights["coefficients"] = [[1.0, 2.0]]
            object["logistic"] = weights
        }
        try expectRejected(.logistic, phrase: "scale") { object in
            var weights = object["logistic"] as! [String: Any]
            weights["scaler"] = ["mean": [0.0, 0.0, 0.0], "scale": [1.0, 0.0, 1.0]]
            object["logistic"] = weights
        }
    }

    @Test func treesThatLoopOrPointOutsideAreRejected() throws {
        func editFirstTree(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
            { object in
                var ensemble = object["gbdt"] as! [String: Any]
                var trees = ensemble["trees"] as! [[String: Any]]
                trees[0][key] = value
                ensemble["trees"] = trees
                object["gbdt"] = ensemble
            }
        }
        let tree = try #require(Self.trained(.gbdt).document.gbdt?.trees.first)
        #expect(tree.nodeCount >= 3)
        var loop = tree.left
        loop[0] = 0
        try expectRejected(.gbdt, phrase: "child outside", editFirstTree("left", loop))
        var outside = tree.right
        outside[0] = 10_000
        try expectRejected(.gbdt, phrase: "child outside", editFirstTree("right", outside))
        var feature = tree.feature
        feature[0] = 3
        try expectRejected(.gbdt, phrase: "tests feature 3", editFirstTree("feature", feature))
        try expectRejected(.gbdt, phrase: "different lengths", editFirstTree("value", [0.5]))
        try expectRejected(.gbdt, phrase: "trees per round") { object in
            var ensemble = object["gbdt"] as! [String: Any]
            ensemble["trees"] = Array((ensemble["trees"] as! [Any]).dropLast())
            object["gbdt"] = ensemble
        }
    }

    @Test func hostileBytesAreRejectedWithoutCrashing() throws {
        let valid = String(decoding: try Self.trained(.logistic).encoded(), as: UTF8.self)
        let cases: [(String, String)] = [
            (String(repeating: "[", count: 200_000), "nested more than"),
            ("{\"a\":" + String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_001), "nested more than"),
            ("", "not a Slipway model file"),
            ("not json", "not a Slipway model file"),
            (String(valid.prefix(valid.count / 2)), "not a Slipway model file"),
            (valid.replacingOccurrences(of: "\"intercepts\" : [", with: "\"intercepts\" : [NaN, "), "not a Slipway model file"),
            (valid.replacingOccurrences(of: "\"intercepts\" : [", with: "\"intercepts\" : [1e999, "), "intercepts"),
            ("[1, 2, 3]", "not a Slipway model file"),
        ]
        for (text, phrase) in cases {
            #expect {
                _ = try BuiltinModel.decode(Data(text.utf8), source: "m.json")
            } throws: { error in
                guard let error = error as? ModelError, case .invalidModel = error else { return false }
                return error.message.contains(phrase) || (phrase == "intercepts" && error.message.contains("not a Slipway model file"))
            }
        }
        // A huge array: more class labels than a model may have.
        try expectRejected(.logistic, phrase: "class_labels") { $0["class_labels"] = (0..<20_000).map(String.init) }
    }

    @Test func missingDirectoriesAndFilesAreExplained() throws {
        let directory = try TemporaryDirectory()
        #expect {
            _ = try BuiltinModel.load(from: directory.url.appendingPathComponent("nope"))
        } throws: { error in
            (error as? ModelError)?.message.contains("no such model directory") == true
        }
        #expect {
            _ = try BuiltinModel.load(from: directory.url)
        } throws: { error in
            (error as? ModelError)?.message.contains("no model file") == true
        }
    }
}
