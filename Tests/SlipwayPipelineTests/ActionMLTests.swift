import Foundation
import Testing

@testable import SlipwayPipeline

/// The `slipway` program built next to the tests.
func actionSlipwayExecutable() -> URL {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("slipway")
    if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
    let candidates = [".build/debug/slipway", ".build/x86_64-unknown-linux-gnu/debug/slipway", ".build/aarch64-unknown-linux-gnu/debug/slipway"]
    for path in candidates where FileManager.default.isExecutableFile(atPath: path) { return URL(fileURLWithPath: path) }
    return beside
}

/// `examples/data/breast-cancer` of the package.
func breastCancerFolder() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/data/breast-cancer")
}

@Suite("ML actions", .serialized)
struct ActionMLTests {
    let executable = actionSlipwayExecutable()

    /// A workspace holding a copy of the example data, and an environment selecting a fresh data folder.
    func setUp(_ label: String) throws -> (ActionScratch, URL, [String: String]) {
        let scratch = try ActionScratch(label)
        let ws = try scratch.workspace("job")
        let data = ws.appendingPathComponent("data")
        try FileManager.default.copyItem(at: breastCancerFolder(), to: data)
        var environment = ProcessInfo.processInfo.environment
        for key in ["SLIPWAY_SERVER", "SLIPWAY_TOKEN", "SLIPWAY_CONFIG", "SLIPWAY_DATA_DIR"] { environment[key] = nil }
        environment["SLIPWAY_DATA_DIR"] = scratch.dataDir.path
        return (scratch, ws, environment)
    }

    @Test("validate-data passes on the example data and fails on a broken copy")
    func validate() async throws {
        let (scratch, ws, env) = try setUp("validate")
        defer { scratch.remove() }
        let log = ActionLog()
        let action = ValidateDataAction(executable: executable)
        let passed = try await action.run(
            scratch.invocation(
                ["schema": "data/data_schema.json", "data": "data/test.csv", "reference": "data/train.csv", "report": "reports/validation.json"],
                workspace: ws, environment: env, log: log))
        #expect(passed.outputs["passed"] == "true")
        #expect(passed.outputs["report"] == ws.appendingPathComponent("reports/validation.json").standardizedFileURL.resolvingSymlinksInPath().path)
        #expect(FileManager.default.fileExists(atPath: ws.appendingPathComponent("reports/validation.json").path))

        var lines = try String(contentsOf: ws.appendingPathComponent("data/test.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        var first = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        first[0] = "not-a-number"
        lines[1] = first.joined(separator: ",")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: ws.appendingPathComponent("data/broken.csv"))
        let inputs = ["schema": "data/data_schema.json", "data": "data/broken.csv"]
        let failed = try await action.run(
            scratch.invocation(inputs.merging(["fail-on-failure": "false"]) { $1 }, workspace: ws, environment: env, log: log))
        #expect(failed.outputs["passed"] == "false")
        #expect(Int(failed.outputs["failed"] ?? "0") ?? 0 >= 1)
        let error = await actionError(action, scratch.invocation(inputs, workspace: ws, environment: env, log: log))
        #expect(error?.contains("checks failed on broken.csv") == true, "\(error ?? "no error")")

        let missing = await actionError(
            action, scratch.invocation(["schema": "data/data_schema.json", "data": "data/absent.csv"], workspace: ws, environment: env, log: log))
        #expect(missing != nil && missing?.contains("absent.csv") == true, "\(missing ?? "no error")")
        let escape = await actionError(
            action, scratch.invocation(["schema": "../../etc/passwd", "data": "data/test.csv"], workspace: ws, environment: env, log: log))
        #expect(escape?.contains("'schema'") == true && escape?.contains("outside the workspace") == true)
    }

    @Test("train and evaluate on the example data give the model folder and the metrics")
    func trainAndEvaluate() async throws {
        let (scratch, ws, env) = try setUp("train")
        defer { scratch.remove() }
        let log = ActionLog()
        let trained = try await TrainAction(executable: executable).run(
            scratch.invocation(
                [
                    "algorithm": "gbdt", "data": "data/train.csv", "target": "target", "out": "models/cancer",
                    "params": "max_iter=20\n# comment\nlearning_rate = 0.2\n",
                ],
                workspace: ws, environment: env, log: log))
        let modelDir = try #require(trained.outputs["model-dir"])
        #expect(FileManager.default.fileExists(atPath: modelDir + "/slipway-model.json"))
        let evaluated = try await EvaluateAction(executable: executable).run(
            scratch.invocation(
                ["model": "models/cancer", "data": "data/test.csv", "target": "target", "output": "metrics/eval.json"], workspace: ws,
                environment: env, log: log))
        let accuracy = try #require(Double(evaluated.outputs["accuracy"] ?? ""))
        #expect(accuracy > 0.85 && accuracy <= 1)
        #expect(Double(evaluated.outputs["f1"] ?? "") != nil)
        let metrics = try #require(evaluated.outputs["metrics"])
        #expect(!metrics.contains("\n") && metrics.contains("\"accuracy\""))
        #expect(try String(contentsOf: ws.appendingPathComponent("metrics/eval.json"), encoding: .utf8) == metrics)
        #expect(log.text.contains("slipway train --algorithm gbdt"))

        let train = TrainAction(executable: executable)
        let unknown = await actionError(
            train,
            scratch.invocation(
                ["algorithm": "forest", "data": "data/train.csv", "target": "target", "out": "m"], workspace: ws, environment: env, log: log))
        #expect(unknown?.contains("allowed: logistic, gbdt") == true)
        let badParams = await actionError(
            train,
            scratch.invocation(
                ["algorithm": "logistic", "data": "data/train.csv", "target": "target", "out": "m", "params": "C"], workspace: ws, environment: env,
                log: log))
        #expect(badParams?.contains("key=value") == true)
        let badTarget = await actionError(
            train,
            scratch.invocation(
                ["algorithm": "logistic", "data": "data/train.csv", "target": "nope", "out": "m"], workspace: ws, environment: env, log: log))
        #expect(badTarget?.hasPrefix("slipway/train: ") == true && badTarget?.contains("nope") == true, "\(badTarget ?? "no error")")
        let noModel = await actionError(
            EvaluateAction(executable: executable), scratch.invocation(["data": "data/test.csv"], workspace: ws, environment: env, log: log))
        #expect(noModel?.contains("'model' is required") == true)
    }

    @Test("register gives versions 1 and 2, and compare decides against the version behind production")
    func registerAndCompare() async throws {
        let (scratch, ws, env) = try setUp("compare")
        defer { scratch.remove() }
        let log = ActionLog()
        try scratch.write("{\"accuracy\": 0.9, \"log_loss\": 0.2, \"average\": \"binary\"}", to: "metrics/base.json", in: ws)
        try scratch.write("weights-1", to: "model/weights.bin", in: ws)
        let compare = CompareAction(executable: executable)
        let fresh = try await compare.run(
            scratch.invocation(["metrics": "{\"accuracy\": 0.8}", "model": "cancer"], workspace: ws, environment: env, log: log))
        #expect(fresh.outputs["should_deploy"] == "true" && fresh.outputs["baseline"] == "" && fresh.outputs["candidate"] == "0.8")

        let register = RegisterAction(executable: executable)
        let first = try await register.run(
            scratch.invocation(
                ["model": "cancer", "artifact": "model", "metrics": "metrics/base.json", "params": "C=1.0", "alias": "production"], workspace: ws,
                environment: env, log: log))
        #expect(first.outputs["version"] == "1")
        try scratch.write("weights-2", to: "model/weights.bin", in: ws)
        let second = try await register.run(scratch.invocation(["model": "cancer", "artifact": "model"], workspace: ws, environment: env, log: log))
        #expect(second.outputs["version"] == "2")

        let worse = try await compare.run(
            scratch.invocation(
                ["metrics": "{\"accuracy\": 0.85}", "model": "cancer", "threshold": "0.01"], workspace: ws, environment: env, log: log))
        #expect(worse.outputs["should_deploy"] == "false" && worse.outputs["baseline"] == "0.9")
        #expect(abs((Double(worse.outputs["delta"] ?? "") ?? 0) + 0.05) < 1e-9)
        let slightly = try await compare.run(
            scratch.invocation(
                ["metrics": "{\"accuracy\": 0.905}", "model": "cancer", "threshold": "0.01"], workspace: ws, environment: env, log: log))
        #expect(slightly.outputs["should_deploy"] == "false")
        try scratch.write("{\"accuracy\": 0.95}", to: "metrics/new.json", in: ws)
        let better = try await compare.run(
            scratch.invocation(
                ["metrics": "metrics/new.json", "model": "cancer", "alias": "production", "threshold": "0.01"], workspace: ws, environment: env,
                log: log))
        #expect(better.outputs["should_deploy"] == "true" && better.outputs["candidate"] == "0.95")
        #expect(log.text.contains("accuracy: candidate 0.95 vs cancer@production (version 1) 0.9"))
        let lower = try await compare.run(
            scratch.invocation(
                ["metrics": "{\"log_loss\": 0.1}", "model": "cancer", "metric": "log_loss", "direction": "lower"], workspace: ws, environment: env,
                log: log))
        #expect(lower.outputs["should_deploy"] == "true")
        let noAlias = try await compare.run(
            scratch.invocation(["metrics": "{\"accuracy\": 0.1}", "model": "cancer", "alias": "staging"], workspace: ws, environment: env, log: log))
        #expect(noAlias.outputs["should_deploy"] == "true")

        let direction = await actionError(
            compare,
            scratch.invocation(["metrics": "{\"accuracy\": 1}", "model": "cancer", "direction": "up"], workspace: ws, environment: env, log: log))
        #expect(direction?.contains("'direction'") == true && direction?.contains("higher, lower") == true)
        let noModel = await actionError(compare, scratch.invocation(["metrics": "{\"accuracy\": 1}"], workspace: ws, environment: env, log: log))
        #expect(noModel?.contains("'model' is required") == true)
        let noMetric = await actionError(
            compare, scratch.invocation(["metrics": "{\"f1\": 1}", "model": "cancer"], workspace: ws, environment: env, log: log))
        #expect(noMetric?.contains("no numeric 'accuracy'") == true && noMetric?.contains("f1") == true)
        let boolean = await actionError(
            compare, scratch.invocation(["metrics": "{\"accuracy\": true}", "model": "cancer"], workspace: ws, environment: env, log: log))
        #expect(boolean?.contains("no numeric 'accuracy'") == true, "\(boolean ?? "no error")")
        let badJSON = await actionError(
            compare, scratch.invocation(["metrics": "{not json", "model": "cancer"], workspace: ws, environment: env, log: log))
        #expect(badJSON?.contains("JSON object") == true)
        let escape = await actionError(
            compare, scratch.invocation(["metrics": "../../../etc/passwd", "model": "cancer"], workspace: ws, environment: env, log: log))
        #expect(escape?.contains("outside the workspace") == true)
        let threshold = await actionError(
            compare,
            scratch.invocation(["metrics": "{\"accuracy\": 1}", "model": "cancer", "threshold": "lots"], workspace: ws, environment: env, log: log))
        #expect(threshold?.contains("'threshold'") == true)
        let registerNoModel = await actionError(register, scratch.invocation(["artifact": "model"], workspace: ws, environment: env, log: log))
        #expect(registerNoModel?.contains("'model' is required") == true)
        let registerEscape = await actionError(
            register, scratch.invocation(["model": "cancer", "artifact": "/etc"], workspace: ws, environment: env, log: log))
        #expect(registerEscape?.contains("outside the workspace") == true)
        let badName = await actionError(
            register, scratch.invocation(["model": "bad name!", "artifact": "model"], workspace: ws, environment: env, log: log))
        #expect(badName?.hasPrefix("slipway/register: ") == true)
    }

    @Test("deploy and rollout check their inputs and report the program's errors")
    func deployAndRollout() async throws {
        let (scratch, ws, env) = try setUp("deploy")
        defer { scratch.remove() }
        let log = ActionLog()
        let deploy = DeployAction(executable: executable)
        let two = await actionError(
            deploy,
            scratch.invocation(
                ["endpoint": "api", "variant": "stable", "model": "cancer@1", "builtin": "true", "backend": "http://127.0.0.1:1"], workspace: ws,
                environment: env, log: log))
        #expect(two?.contains("exactly one backend") == true)
        let noAt = await actionError(
            deploy,
            scratch.invocation(
                ["endpoint": "api", "variant": "stable", "model": "cancer", "builtin": "true"], workspace: ws, environment: env, log: log))
        #expect(noAt?.contains("MODEL@VERSION") == true)
        let replicas = await actionError(
            deploy,
            scratch.invocation(
                ["endpoint": "api", "variant": "stable", "model": "cancer@1", "builtin": "true", "replicas": "0"], workspace: ws, environment: env,
                log: log))
        #expect(replicas?.contains("'replicas'") == true)
        let missing = await actionError(
            deploy,
            scratch.invocation(
                ["endpoint": "api", "variant": "stable", "model": "ghost@1", "builtin": "true"], workspace: ws, environment: env, log: log))
        #expect(missing?.hasPrefix("slipway/deploy: ") == true && missing?.contains("ghost") == true, "\(missing ?? "no error")")

        let rollout = RolloutAction(executable: executable)
        #expect(
            await actionError(rollout, scratch.invocation([:], workspace: ws, environment: env, log: log))?.contains("'file' is required") == true)
        try scratch.write("kind: Rollout\nmetadata: {}\n", to: "rollout.yml", in: ws)
        let invalid = await actionError(
            rollout, scratch.invocation(["file": "rollout.yml", "wait": "true"], workspace: ws, environment: env, log: log))
        #expect(invalid?.hasPrefix("slipway/rollout: ") == true, "\(invalid ?? "no error")")
        let wait = await actionError(
            rollout, scratch.invocation(["file": "rollout.yml", "wait": "maybe"], workspace: ws, environment: env, log: log))
        #expect(wait?.contains("allowed: true or false") == true)
    }
}
