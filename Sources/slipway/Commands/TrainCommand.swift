import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayModels

/// `slipway train`: trains a built-in model on a CSV file and writes its model directory.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a built-in model (logistic regression or gradient-boosted trees) on a CSV file.",
        discussion: """
            Every column but --target is a feature: numeric columns as they are, text columns one-hot encoded. \
            The target may hold numbers or text labels, with two or more classes. The model directory gets \
            slipway-model.json, which `slipway evaluate` and `slipway serve-model` read.

            Parameters (--param key=value, repeatable):
              logistic: C (1.0, as scikit-learn), l2 (overrides C), max_iter (1000), tol (1e-6)
              gbdt:     learning_rate (0.1), max_iter (100), max_leaf_nodes (31), max_depth (none),
                        min_samples_leaf (20), l2_regularization (0), max_bins (255), random_state (0)
            """
    )

    @Option(name: .long, help: "The algorithm: logistic or gbdt.") var algorithm: String
    @Option(name: .long, help: "The training data: a CSV file with a header row.") var data: String
    @Option(name: .long, help: "The column holding the class labels.") var target: String
    @Option(name: .long, help: "The model directory to write.") var out: String
    @Option(name: .customLong("param"), help: "A training parameter as key=value (repeatable).") var params: [String] = []
    @Flag(name: .long, help: "Print one JSON document instead of text.") var json = false

    struct Result: Encodable {
        var modelDir: String
        var algorithm: String
        var target: String
        var classes: [String]
        var featureNames: [String]
        var params: [String: Double]
        var training: TrainingSummary

        enum CodingKeys: String, CodingKey {
            case algorithm, target, classes, params, training
            case modelDir = "model_dir"
            case featureNames = "feature_names"
        }
    }

    func run() async throws {
        try await Output.run(json: json) {
            guard let algorithm = Algorithm(rawValue: algorithm.lowercased()) else {
                throw GenericError(.invalidArgument, "--algorithm '\(algorithm)' is not known; use logistic or gbdt")
            }
            let parameters = try keyValues(params, what: "--param")
            let training = try LabeledData.load(csv: URL(fileURLWithPath: data), target: target)
            if !json {
                let classes = Set(training.labels).count
                Output.note(
                    "training \(algorithm.rawValue) on \(training.features.count) rows × \(training.featureNames.count) features, \(classes) classes")
            }
            let quiet = json
            let model = try ModelTrainer.train(algorithm, on: training, parameters: parameters) { step in
                guard !quiet, step.iteration == 1 || step.iteration % 10 == 0 else { return }
                Output.note(String(format: "  %@ %4d  loss %.6f", algorithm == .gbdt ? "round" : "iteration", step.iteration, step.loss))
            }
            let directory = URL(fileURLWithPath: out)
            try model.save(to: directory)
            let document = model.document
            if json {
                Output.json(
                    Result(
                        modelDir: directory.path, algorithm: algorithm.rawValue, target: target, classes: document.classLabels,
                        featureNames: document.featureNames, params: document.params, training: document.training))
            } else {
                let summary = document.training
                if !summary.converged {
                    Output.note("warning: the optimiser stopped at max_iter=\(summary.iterations) before meeting tol; raise --param max_iter")
                }
                Output.line("trained \(algorithm.rawValue) model in \(directory.path)/\(ModelDocument.fileName)")
                Output.line("  classes         \(document.classLabels.joined(separator: ", "))")
                Output.line("  samples         \(summary.samples) × \(summary.features) features")
                Output.line("  iterations      \(summary.iterations)\(summary.converged ? "" : " (not converged)")")
                Output.line(String(format: "  train accuracy  %.4f", summary.accuracy))
                Output.line(String(format: "  train log loss  %.4f", summary.logLoss))
                Output.line(String(format: "  fit time        %.3f s", summary.fitSeconds))
            }
        }
    }
}
