public import Foundation

extension ActionRegistry {
    /// Every built-in action: `actions/checkout` and `actions/setup-python`, the artifact actions, and the ML actions.
    ///
    /// - Parameters:
    ///   - executable: the `slipway` program the ML actions run (`slipway run` passes its own executable).
    ///   - dataDir: the run's data folder: artifacts are stored in `dataDir/artifacts`, and the ML actions' children get
    ///     it as `SLIPWAY_DATA_DIR` unless the step sets that. Nil: `$SLIPWAY_DATA_DIR`, else `.slipway` in the project.
    public static func slipway(executable: URL, dataDir: URL? = nil) -> ActionRegistry {
        var registry = ActionRegistry.standard
        let actions: [any BuiltinAction] = [
            UploadArtifactAction(dataDir: dataDir),
            DownloadArtifactAction(dataDir: dataDir),
            ValidateDataAction(executable: executable, dataDir: dataDir),
            TrainAction(executable: executable, dataDir: dataDir),
            EvaluateAction(executable: executable, dataDir: dataDir),
            CompareAction(executable: executable, dataDir: dataDir),
            RegisterAction(executable: executable, dataDir: dataDir),
            DeployAction(executable: executable, dataDir: dataDir),
            RolloutAction(executable: executable, dataDir: dataDir),
        ]
        for action in actions { registry.register(action) }
        return registry
    }
}
