import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayData

/// `slipway datasets …`: data sets registered in the store, which model versions name in their lineage.
struct DatasetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "Register tracked data sets and list them.",
        discussion: """
            A dataset is a path tracked with `slipway data add` (its PATH.slipway pointer), registered with its \
            content digest and what Slipway reads from it: rows, columns and their types, and the date range of a \
            time column. `slipway versions create --data PATH.slipway` registers the data and records it in the \
            version's lineage.
            """,
        subcommands: [Register.self, List.self, Show.self]
    )

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "register", abstract: "Register a tracked path (PATH or PATH.slipway) as a dataset.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The tracked data path or its .slipway pointer.") var path: String
        @Option(name: .long, help: "A column holding each row's time; its first and last values become the date range.") var timeColumn: String?
        @Option(name: .long, help: "A description.") var description: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let workspace = try DataWorkspace.find(from: FileManager.default.currentDirectoryPath)
                let draft = try workspace.newDataset(path, timeColumn: timeColumn, description: description)
                let dataset = try await global.client().registerDataset(draft)
                if global.json { Output.json(dataset) } else { DatasetsCommand.print(dataset) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List registered datasets, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Only this dataset name (a tracked path such as data/train.csv).") var name: String?
        @Option(name: .long, help: "At most this many (1-1000).") var limit: Int = 100

        func run() async throws {
            try await Output.run(json: global.json) {
                let datasets = try await global.client().datasets(name: name, limit: limit)
                if global.json {
                    Output.json(["datasets": datasets])
                    return
                }
                Output.table(
                    ["NAME", "DIGEST", "SIZE", "ROWS", "COLUMNS", "DATES", "REGISTERED"],
                    datasets.map { d in
                        [
                            d.name, d.digest.short, ProgressBar.size(d.size), d.rows.map(String.init) ?? "-", "\(d.columns.count)",
                            d.dateFrom.map { "\($0) – \(d.dateTo ?? "")" } ?? "-", Output.date(d.createdAt),
                        ]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a dataset: the latest of its name, or the one with --digest.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The dataset's name (a tracked path such as data/train.csv).") var name: String
        @Option(name: .long, help: "The content digest (sha256:…).") var digest: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                var wanted: Digest?
                if let digest {
                    guard let parsed = Digest(digest) else { throw GenericError(.invalidArgument, "--digest '\(digest)' is not a SHA-256 digest") }
                    wanted = parsed
                }
                let dataset = try await global.client().dataset(name, digest: wanted)
                if global.json { Output.json(dataset) } else { DatasetsCommand.print(dataset) }
            }
        }
    }

    static func print(_ d: Dataset) {
        Output.line("Dataset:  \(d.name) (\(d.kind), \(ProgressBar.size(d.size)), \(d.files) file\(d.files == 1 ? "" : "s"))")
        Output.line("Digest:   \(d.digest)")
        if let rows = d.rows { Output.line("Rows:     \(rows)") }
        if !d.columns.isEmpty {
            Output.line("Columns:  " + d.columns.prefix(12).map { "\($0.name) (\($0.type))" }.joined(separator: ", ")
                + (d.columns.count > 12 ? ", … \(d.columns.count - 12) more" : ""))
        }
        if let from = d.dateFrom { Output.line("Dates:    \(from) – \(d.dateTo ?? "") (column \(d.timeColumn ?? "-"))") }
        if let description = d.description { Output.line("About:    \(description)") }
        Output.line("Registered \(Output.date(d.createdAt)) by \(d.createdBy)")
    }
}
