import ArgumentParser
import Foundation
import SlipwayRegistry
import SlipwayStore
import SlipwayClient
import SlipwayCore

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create bearer tokens for the API (admin only).", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", 
            abstract: "Create a token with a role; the secret is printed once and only its hash is stored.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "viewer, editor, approver or admin.") var role: String
        @Option(name: .long, help: "Who the token is for; actions are recorded under this name.") var name: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                guard let parsed = Role(rawValue: role.lowercased()) else {
                    throw GenericError(.invalidArgument, "--role '\(role)' is not one of viewer, editor, approver, admin")
                }
                let issued = try await global.client().createToken(name: name ?? "\(parsed.rawValue)-token", role: parsed)
                if global.json { Output.json(issued) } else {
                    Output.line(issued.token)
                    Output.note("Token \(issued.id) for \(issued.name) with role \(issued.role.rawValue). Keep it secret; it is not shown again.")
                }
            }
        }
    }
}
