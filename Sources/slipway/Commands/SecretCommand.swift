import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayPipeline
import SlipwayServer

/// `slipway secret …`: encrypted workflow secrets.
struct SecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Store, list and delete workflow secrets.",
        discussion: """
            Secrets are encrypted with AES-GCM under the key in $SLIPWAY_MASTER_KEY (base64 of 32 bytes, or a \
            passphrase of at least 16 characters) or, without it, under a key file created in the data folder with \
            mode 0600. Workflows read them as `secrets.NAME`; an environment's secrets (--env) reach only jobs that \
            name that environment, after its reviewers approve. Values never appear on the command line, in \
            listings or in logs: `set` reads the value from stdin or from --file.
            """,
        subcommands: [Set.self, List.self, Delete.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", 
            abstract: "Store a secret; the value comes from stdin (one trailing newline removed) or --file (kept exactly).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The secret's name: letters, digits and _, not starting with a digit or GITHUB_.") var name: String
        @Option(name: .long, help: "Store it for this environment only.") var env: String?
        @Option(name: .long, help: "Read the value from this file instead of stdin.") var file: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                try SecretStore.validate(name: name)
                let value = try readValue()
                let store = try SecretStore.open(dataDir: global.configuration().dataDir)
                try store.set(name, value: value, environment: env)
                let scope = env.map { "environment \($0)" } ?? "the repository"
                if global.json {
                    Output.json(["name": name, "environment": env ?? "", "stored": "true"])
                } else {
                    Output.line("Stored secret \(name) for \(scope).")
                }
            }
        }

        private func readValue() throws -> String {
            if let file {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw GenericError(.invalidArgument, "cannot read the secret's value from \(file)")
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw GenericError(.invalidArgument, "\(file) is not UTF-8 text; store binary values base64-encoded")
                }
                return text
            }
            if isatty(STDIN_FILENO) != 0 { Output.note("Enter the value of \(name), then press Ctrl-D:") }
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard var text = String(data: data, encoding: .utf8) else {
                throw GenericError(.invalidArgument, "the value on stdin is not UTF-8 text; store binary values base64-encoded")
            }
            if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
            return text
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List secret names (never values).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "List this environment's secrets instead of the repository's.") var env: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let entries = try SecretStore.open(dataDir: global.configuration().dataDir).list(environment: env)
                if global.json { Output.json(entries); return }
                if entries.isEmpty { Output.line("No secrets."); return }
                Output.table(["NAME", "UPDATED"], entries.map { [$0.name, Timestamp.format($0.updatedAt)] })
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a secret.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The secret's name.") var name: String
        @Option(name: .long, help: "Delete the environment's secret of this name.") var env: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let removed = try SecretStore.open(dataDir: global.configuration().dataDir).delete(name, environment: env)
                guard removed else { throw GenericError(.notFound, "there is no secret \(name)\(env.map { " in environment \($0)" } ?? "")") }
                if global.json { Output.json(["name": name, "deleted": "true"]) } else { Output.line("Deleted secret \(name).") }
            }
        }
    }
}
