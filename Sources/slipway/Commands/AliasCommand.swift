import ArgumentParser
import SlipwayRegistry
import SlipwayStore
import SlipwayClient
import Foundation
import SlipwayCore

struct AliasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias",
        abstract: "Point aliases (production, staging, champion…) at versions and answer what served when.",
        subcommands: [Set.self, Get.self, Delete.self, History.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Point an alias at a version (recorded in its history).")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument var alias: String
        @Argument var version: Int
        @Option(name: .long, help: "Why, for the history.") var reason: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let event = try await global.client().setAlias(model, alias: alias, version: version, reason: reason)
                if global.json { Output.json(event); return }
                Output.line("\(model)@\(alias): \(event.fromVersion.map(String.init) ?? "none") -> \(version)")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "The version an alias points at, now or --at a past instant.")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument var alias: String
        @Option(name: .long, help: "An instant: ISO 8601 (2026-11-27T10:00:00Z, 2026-11-27) or milliseconds since 1970.") var at: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let client = try global.client()
                if let at {
                    guard let instant = Timestamp.parse(at) else {
                        throw GenericError(.invalidArgument, "--at '\(at)' is not a timestamp; use ISO 8601 or milliseconds since 1970")
                    }
                    let version = try await client.alias(model, alias: alias, at: instant)
                    struct Answer: Encodable {
                        var model: String
                        var alias: String
                        var at: Date
                        var version: Int?
                    }
                    if global.json { Output.json(Answer(model: model, alias: alias, at: instant, version: version)); return }
                    Output.line(version.map { "\(model)@\(alias) pointed at version \($0) at \(Output.date(instant))" }
                        ?? "\(model)@\(alias) pointed at no version at \(Output.date(instant))")
                    return
                }
                let version = try await client.alias(model, alias: alias)
                if global.json { Output.json(version) } else { Output.line("\(model)@\(alias) -> \(version.version)") }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove an alias (recorded in its history).")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument var alias: String
        @Option(name: .long, help: "Why, for the history.") var reason: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let event = try await global.client().deleteAlias(model, alias: alias, reason: reason)
                if global.json { Output.json(event) } else { Output.line("Removed \(model)@\(alias) (was \(event.fromVersion.map(String.init) ?? "none")).") }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "history", abstract: "Every move of an alias (or of all aliases of a model): who, when, from, to, why.")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument var alias: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let events = try await global.client().aliasHistory(model, alias: alias)
                struct History: Encodable {
                    var events: [AliasEvent]
                }
                if global.json { Output.json(History(events: events)); return }
                AliasCommand.printHistory(events)
            }
        }
    }

    static func printHistory(_ events: [AliasEvent]) {
        Output.table(
            ["WHEN", "ALIAS", "FROM", "TO", "BY", "REASON"],
            events.map {
                [
                    Output.date($0.at), $0.alias, $0.fromVersion.map(String.init) ?? "-", $0.toVersion.map(String.init) ?? "-", $0.actor,
                    $0.reason ?? "",
                ]
            })
    }
}
