import ArgumentParser

/// `slipway data validate`: schema, quality and drift checks, usable as a pipeline gate.
struct DataValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a data set against a schema and a reference data set."
    )

    func run() async throws {
        throw ValidationError("data validation is not built yet")
    }
}
