import ArgumentParser
import Foundation
import SlipwayRegistry
import SlipwayStore
import SlipwayClient
import SlipwayCore

struct StageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage",
        abstract: "Move versions through lifecycle stages under the registry's policy.",
        subcommands: [Transition.self, Approve.self]
    )

    struct Transition: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "transition", 
            abstract: "Move a version to a stage; refused (exit 1) with the rule that failed when the policy does not allow it.")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument var version: Int
        @Argument(help: "The stage, e.g. Staging, Production, Archived.") var stage: String
        @Flag(name: .long, help: "Archive the other versions in that stage.") var archiveExisting = false

        func run() async throws {
            try await Output.run(json: global.json) {
                let moved = try await global.client().transitionStage(model, version, to: stage, archiveExisting: archiveExisting)
                if global.json { Output.json(moved) } else { Output.line("\(moved.reference) is now in \(moved.stage).") }
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a version for a stage (approver role; not the registrant).")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument var version: Int
        @Option(name: .long, help: "The stage the approval is for.") var stage: String = "Production"
        @Option(name: .long) var comment: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let approved = try await global.client().approve(model, version, stage: stage, comment: comment)
                if global.json { Output.json(approved) } else { Output.line("Approved \(approved.reference) for \(stage).") }
            }
        }
    }
}
