import Foundation
import SlipwayModels
import Testing

@Suite struct TrainingTests {
    @Test func logisticRegressionOnBreastCancer() throws {
        let (train, test) = try ExampleData.breastCancer()
        #expect(train.features.count == 455 && test.features.count == 114)
        let model = try ModelTrainer.train(.logistic, on: train)
        #expect(model.document.training.converged)
        let report = try model.evaluate(test)
        #expect(report.accuracy >= 0.94)
        #expect(report.rocAuc! > 0.98)
        #expect(model.classLabels == ["0", "1"])
    }

    @Test func gradientBoostingOnBreastCancer() throws {
        let (train, test) = try ExampleData.breastCancer()
        let model = try ModelTrainer.train(.gbdt, on: train)
        let report = try model.evaluate(test)
        #expect(report.accuracy >= 0.94)
        #expect(report.rocAuc! > 0.97)
        #expect(model.document.gbdt!.trees.count == 100)
        #expect(model.document.gbdt!.trees.allSatisfy { $0.leafCount <= 31 })
    }

    @Test(arguments: Algorithm.allCases)
    func multiClassDigits(algorithm: Algorithm) throws {
        let (train, test) = try ExampleData.digits()
        // Fewer rounds than the default keep the test quick; the benchmark runs the defaults.
        let parameters = algorithm == .gbdt ? ["max_iter": "25"] : [:]
        let model = try ModelTrainer.train(algorithm, on: train, parameters: parameters)
        #expect(model.classLabels == (0...9).map(String.init))
        let report = try model.evaluate(test)
        #expect(report.accuracy >= 0.9)
        #expect(report.average == "macro" && report.perClass.count == 10)
        #expect(report.confusionMatrix.counts.joined().reduce(0, +) == 360)
        if algorithm == .gbdt { #expect(model.document.gbdt!.trees.count == 250) }
    }

    @Test(arguments: Algorithm.allCases)
    func textLabelsWithThreeClasses(algorithm: Algorithm) throws {
        let train = ExampleData.blobs(samples: 300, seed: 1)
        let test = ExampleData.blobs(samples: 90, seed: 2)
        let model = try ModelTrainer.train(algorithm, on: train, parameters: algorithm == .gbdt ? ["max_iter": "30", "min_samples_leaf": "5"] : [:])
        #expect(model.classLabels == ["east", "north", "south"])
        let report = try model.evaluate(test)
        #expect(report.accuracy >= 0.95)
        let predictions = try model.predict(features: [[0, 4, 1], [4, 0, 0]])
        #expect(predictions.map(\.label) == ["north", "east"])
        for prediction in predictions { #expect(abs(prediction.probabilities.reduce(0, +) - 1) < 1e-12) }
    }

    @Test func trainingIsDeterministic() throws {
        let (train, _) = try ExampleData.breastCancer()
        for algorithm in Algorithm.allCases {
            let parameters = algorithm == .gbdt ? ["max_iter": "20"] : [:]
            let first = try ModelTrainer.train(algorithm, on: train, parameters: parameters)
            let second = try ModelTrainer.train(algorithm, on: train, parameters: parameters)
            var a = first.document
            var b = second.document
            a.training.fitSeconds = 0
            b.training.fitSeconds = 0
            #expect(a == b)
        }
    }

    @Test func parametersChangeTheModel() throws {
        let (train, _) = try ExampleData.breastCancer()
        let loose = try ModelTrainer.train(.logistic, on: train, parameters: ["C": "100"])
        let tight = try ModelTrainer.train(.logistic, on: train, parameters: ["C": "0.01"])
        let norm = { (model: BuiltinModel) in model.document.logistic!.coefficients[0].map { $0 * $0 }.reduce(0, +) }
        #expect(norm(loose) > norm(tight) * 10)
        let shallow = try ModelTrainer.train(.gbdt, on: train, parameters: ["max_depth": "1", "max_iter": "5", "max_leaf_nodes": "none"])
        #expect(shallow.document.gbdt!.trees.allSatisfy { $0.nodeCount == 3 })
        #expect(shallow.document.params["max_depth"] == 1 && shallow.document.params["max_leaf_nodes"] == nil)
    }

    @Test(arguments: [
        (Algorithm.logistic, ["alpha": "1"], "unknown parameter 'alpha'"),
        (Algorithm.logistic, ["C": "-1"], "greater than 0"),
        (Algorithm.gbdt, ["max_iter": "ten"], "whole number"),
        (Algorithm.gbdt, ["max_bins": "300"], "2 to 255"),
        (Algorithm.gbdt, ["learning_rate": "nan"], "not a number"),
    ])
    func badParametersAreRefused(algorithm: Algorithm, parameters: [String: String], phrase: String) throws {
        let data = ExampleData.blobs(samples: 30, seed: 3)
        #expect {
            _ = try ModelTrainer.train(algorithm, on: data, parameters: parameters)
        } throws: { error in
            guard case .invalidParameter(let message) = error as? ModelError else { return false }
            return message.contains(phrase)
        }
    }

    @Test func oneClassIsRefused() {
        var data = ExampleData.blobs(samples: 12, seed: 4)
        data.labels = data.labels.map { _ in "same" }
        #expect {
            _ = try ModelTrainer.train(.logistic, on: data)
        } throws: { error in
            (error as? ModelError)?.message.contains("only one class") == true
        }
    }

    @Test func predictRefusesRowsThatDoNotFit() throws {
        let model = try ModelTrainer.train(.logistic, on: ExampleData.blobs(samples: 30, seed: 5))
        #expect(throws: ModelError.self) { _ = try model.predict(features: [[1, 2]]) }
        #expect(throws: ModelError.self) { _ = try model.predict(features: [[1, .nan, 2]]) }
        #expect(try model.predict(features: []).isEmpty)
    }
}
