import ArgumentParser

@main
struct Slipway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slipway",
        abstract: "Take a model from a commit to production traffic safely.",
        discussion: """
            Slipway keeps a model registry with full lineage, content-addressed artifacts, aliases with \
            history and stage policies. Commands work on the embedded store in ./.slipway, or on a server \
            given by --server / SLIPWAY_SERVER (with --token / SLIPWAY_TOKEN). A running `slipway server` on \
            the same data folder is used automatically. Every command takes --json.
            """,
        version: "0.1.0",
        subcommands: [
            DemoCommand.self, ServerCommand.self, ModelsCommand.self, VersionsCommand.self, AliasCommand.self, StageCommand.self,
            SearchCommand.self, AuditCommand.self, TokenCommand.self, EndpointsCommand.self, DeployCommand.self, TrafficCommand.self,
            PredictionsCommand.self, TrainCommand.self, EvaluateCommand.self, ServeModelCommand.self,
            StatsCommand.self, RolloutCommand.self, DataCommand.self, DatasetsCommand.self, RunCommand.self, RunsCommand.self, RunnerCommand.self, SecretCommand.self, EnvironmentCommand.self, ApproveCommand.self,
        ]
    )
}
