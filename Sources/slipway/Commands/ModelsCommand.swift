import ArgumentParser
import SlipwayRegistry
import SlipwayClient
import Foundation
import SlipwayCore
import SlipwayStore

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Create, list, show, rename, tag and delete registered models.",
        subcommands: [Create.self, List.self, Show.self, Update.self, Rename.self, Tag.self, Untag.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Register a new model name.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The model name: letters, digits, '_', '-', '.'.") var name: String
        @Option(name: .long, help: "A description.") var description: String = ""
        @Option(name: .long, help: "A tag as key=value (repeatable).") var tag: [String] = []

        func run() async throws {
            try await Output.run(json: global.json) {
                let model = try await global.client().createModel(
                    NewModel(name: name, description: description, tags: try keyValues(tag, what: "--tag")))
                if global.json { Output.json(model) } else { Output.line("Created model \(model.name).") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List models, optionally filtered.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "A filter such as \"name LIKE 'fraud%' AND tags.team = 'risk'\".") var filter: String = ""
        @Option(name: .long, help: "Order, e.g. 'name DESC' (repeatable).") var orderBy: [String] = []
        @Option(name: .long, help: "At most this many (1-10000).") var limit: Int = 100
        @Option(name: .long, help: "The token of the next page from a previous answer.") var pageToken: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let page = try await global.client().searchModels(filter: filter, orderBy: orderBy, limit: limit, pageToken: pageToken)
                if global.json { Output.json(page); return }
                Output.table(
                    ["NAME", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION"],
                    page.items.map {
                        [
                            $0.name, $0.latestVersion.map(String.init) ?? "-",
                            $0.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                            Output.date($0.updatedAt), $0.description,
                        ]
                    })
                if let next = page.nextPageToken { Output.note("more: --page-token \(next)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a model with its aliases and tags.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let model = try await global.client().model(name)
                if global.json { Output.json(model); return }
                Output.line("Model:       \(model.name)")
                Output.line("Description: \(model.description)")
                Output.line("Created:     \(Output.date(model.createdAt)) by \(model.createdBy)")
                Output.line("Latest:      \(model.latestVersion.map(String.init) ?? "none")")
                for (alias, version) in model.aliases.sorted(by: { $0.key < $1.key }) { Output.line("Alias:       \(alias) -> \(version)") }
                for (key, value) in model.tags.sorted(by: { $0.key < $1.key }) { Output.line("Tag:         \(key)=\(value)") }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Change a model's description.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(name: .long) var description: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let model = try await global.client().updateModel(name, description: description)
                if global.json { Output.json(model) } else { Output.line("Updated \(model.name).") }
            }
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a model; versions, aliases and history follow.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Argument var newName: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let model = try await global.client().renameModel(name, to: newName)
                if global.json { Output.json(model) } else { Output.line("Renamed \(name) to \(model.name).") }
            }
        }
    }

    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tag", abstract: "Set a model tag.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Argument(help: "key=value") var pair: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let (key, value) = try keyValues([pair], what: "tag").first!
                try await global.client().setModelTag(name, key: key, value: value)
                if global.json { Output.json(["model": name, "key": key, "value": value]) } else { Output.line("Tagged \(name) \(key)=\(value).") }
            }
        }
    }

    struct Untag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "untag", abstract: "Remove a model tag.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Argument var key: String

        func run() async throws {
            try await Output.run(json: global.json) {
                try await global.client().deleteModelTag(name, key: key)
                if global.json { Output.json(["model": name, "key": key]) } else { Output.line("Removed tag \(key) from \(name).") }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a model and its versions (admin; refused while aliases point at them).")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await Output.run(json: global.json) {
                try await global.client().deleteModel(name)
                if global.json { Output.json(["deleted": name]) } else { Output.line("Deleted model \(name).") }
            }
        }
    }
}
