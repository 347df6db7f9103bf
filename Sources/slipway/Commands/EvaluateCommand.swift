import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayModels

/// `slipway evaluate`: scores a built-in model on labeled data.
struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a built-in model on a labeled CSV file: accuracy, precision, recall, F1, ROC AUC, log loss, confusion matrix.",
        discussion: """
            With two classes, precision, recall and F1 are the positive (second) class's; with more, they are \
            macro averages and each class is listed. The CSV's columns are matched to the model's by name.
            """
    )

    @Option(name: .long, help: "The model directory (holding slipway-model.json).") var model: String
    @Option(name: .long, help: "The labeled data: a CSV file with a header row.") var data: String
    @Option(name: .long, help: "The column holding the true labels (default: the model's target).") var target: String?
    @Flag(name: .long, help: "Print the report as one JSON document.") var json = false

    func run() async throws {
        try await Output.run(json: json) {
            let loaded = try BuiltinModel.load(from: URL(fileURLWithPath: model))
            let column = target ?? loaded.document.target
            let labeled = try LabeledData.load(
                csv: URL(fileURLWithPath: data), target: column, encoding: FeatureEncoding(columns: loaded.document.inputColumns))
            let report = try loaded.evaluate(labeled)
            if json {
                Output.json(report)
                return
            }
            func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "n/a" }
            Output.line("model     \(model) (\(loaded.document.algorithm.rawValue), \(report.classes.count) classes)")
            Output.line("data      \(data): \(report.samples) rows")
            let scope = report.positiveClass.map { "positive class \($0)" } ?? "macro average"
            Output.table(
                ["metric", "value"],
                [
                    ["accuracy", number(report.accuracy)],
                    ["precision", "\(number(report.precision)) (\(scope))"],
                    ["recall", "\(number(report.recall)) (\(scope))"],
                    ["f1", "\(number(report.f1)) (\(scope))"],
                    ["roc_auc", number(report.rocAuc) + (report.classes.count > 2 ? " (one-vs-rest, macro)" : "")],
                    ["log_loss", number(report.logLoss)],
                ])
            Output.line()
            Output.table(
                ["class", "precision", "recall", "f1", "support", "roc_auc"],
                report.perClass.map { [$0.label, number($0.precision), number($0.recall), number($0.f1), "\($0.support)", number($0.rocAuc)] })
            Output.line()
            Output.line("confusion matrix (rows: true class, columns: predicted class)")
            let matrix = report.confusionMatrix
            Output.table([""] + matrix.labels, zip(matrix.labels, matrix.counts).map { [$0] + $1.map(String.init) })
        }
    }
}
