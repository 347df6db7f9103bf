import ArgumentParser
import Foundation
import SlipwayRegistry
import SlipwayStore
import SlipwayClient
import SlipwayCore

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search model versions (or models) with MLflow's filter language.",
        discussion: """
            Filters join clauses with AND: name = 'churn' AND tags.team = 'nlp' AND metrics.accuracy >= 0.9 \
            AND params.max_depth IN ('6', '8') AND source LIKE 's3://%'. Operators: = != < <= > >= LIKE ILIKE IN NOT IN.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The filter (empty matches everything).") var filter: String = ""
    @Flag(name: .long, help: "Search registered models instead of versions.") var models = false
    @Option(name: .long, help: "Order, e.g. 'metrics.accuracy DESC' (repeatable).") var orderBy: [String] = []
    @Option(name: .long, help: "At most this many (1-10000).") var limit: Int = 100
    @Option(name: .long, help: "The token of the next page.") var pageToken: String?

    func run() async throws {
        try await Output.run(json: global.json) {
            let client = try global.client()
            if models {
                let page = try await client.searchModels(filter: filter, orderBy: orderBy, limit: limit, pageToken: pageToken)
                if global.json { Output.json(page); return }
                Output.table(["NAME", "LATEST", "DESCRIPTION"], page.items.map { [$0.name, $0.latestVersion.map(String.init) ?? "-", $0.description] })
                if let next = page.nextPageToken { Output.note("more: --page-token \(next)") }
                return
            }
            let page = try await client.searchVersions(filter: filter, orderBy: orderBy, limit: limit, pageToken: pageToken)
            if global.json { Output.json(page); return }
            VersionsCommand.printTable(page.items)
            if let next = page.nextPageToken { Output.note("more: --page-token \(next)") }
        }
    }
}
