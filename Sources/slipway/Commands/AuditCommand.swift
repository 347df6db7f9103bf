import ArgumentParser
import Foundation
import SlipwayRegistry
import SlipwayStore
import SlipwayClient
import SlipwayCore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Every change, newest first: who did what, with the state before and after.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Only changes to this model.") var model: String?
    @Option(name: .long, help: "At most this many (1-10000).") var limit: Int = 50

    func run() async throws {
        try await Output.run(json: global.json) {
            let events = try await global.client().audit(model: model, limit: limit)
            struct Events: Encodable {
                var events: [AuditEvent]
            }
            if global.json { Output.json(Events(events: events)); return }
            Output.table(
                ["ID", "WHEN", "WHO", "ACTION", "MODEL", "VERSION"],
                events.map { [String($0.id), Output.date($0.at), $0.actor, $0.action, $0.model ?? "-", $0.version.map(String.init) ?? "-"] })
        }
    }
}
