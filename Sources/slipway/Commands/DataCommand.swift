import ArgumentParser

/// `slipway data …`: versioning and validation of data sets.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Version data sets next to your code and validate them before training.",
        discussion: "Versioning keeps large files out of git: 'add' writes a small PATH.slipway pointer to commit, the data goes to a content-addressed cache (.slipway/cache) and to remotes. See docs/data.md.",
        subcommands: [
            DataAddCommand.self, DataStatusCommand.self, DataCheckoutCommand.self, DataDiffCommand.self, DataListCommand.self,
            DataGarbageCommand.self, DataRemoteCommand.self, DataPushCommand.self, DataPullCommand.self, DataFetchCommand.self,
            DataValidateCommand.self,
        ]
    )
}
