import ArgumentParser

/// `slipway run`: runs a workflow locally.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow from .slipway/workflows or .github/workflows."
    )

    func run() async throws {
        throw ValidationError("slipway run is not available yet")
    }
}
