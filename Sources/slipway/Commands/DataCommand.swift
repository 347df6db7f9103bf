import ArgumentParser

/// `slipway data …`: versioning and validation of data sets.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Version data sets next to your code and validate them before training.",
        subcommands: [DataValidateCommand.self]
    )
}
