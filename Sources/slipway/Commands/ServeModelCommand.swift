import ArgumentParser
import Foundation
import Logging
import SlipwayCore
import SlipwayModels
import SlipwayServer

/// `slipway serve-model`: serves a built-in model over the Open Inference Protocol.
struct ServeModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-model",
        abstract: "Serve a built-in model over the Open Inference Protocol (KServe V2 REST).",
        discussion: """
            Routes: GET /v2/health/live, GET /v2/health/ready, GET /v2/models/NAME, GET /v2/models/NAME/ready, \
            POST /v2/models/NAME/infer. An infer request sends one FP64 tensor of shape [N, F], or one tensor per \
            feature named like it, of shape [N]; the answer has the outputs label [N] and probabilities [N, C]. \
            SIGTERM or SIGINT stops the server gracefully.
            """
    )

    @Option(name: .long, help: "The model directory (holding slipway-model.json).") var model: String
    @Option(name: .long, help: "The port (0 picks a free one).") var port: Int = 8080
    @Option(name: .long, help: "The address to bind.") var host: String = "127.0.0.1"
    @Option(name: .long, help: "Write {\"url\": URL} to this file once the server listens.") var readyFile: String?
    @Option(name: .long, help: "The model name in URLs (default: the model directory's name).") var name: String?
    @Option(name: .long, help: "The model version reported in metadata and answers.") var modelVersion: String = "1"
    @Option(name: .long, help: "The log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Flag(name: .long, help: "Print one JSON document ({\"url\", \"model\", \"version\"}) once listening.") var json = false

    struct Listening: Encodable {
        var url: String
        var model: String
        var version: String
    }

    func run() async throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else { throw ValidationError("--log-level '\(logLevel)' is not a level") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "slipway.model-server")
        let directory = URL(fileURLWithPath: model)
        let servedName = name ?? directory.standardizedFileURL.lastPathComponent
        let json = self.json
        let version = modelVersion
        try await Output.run(json: json) {
            try Names.validateModelName(servedName)
            try await BuiltinModelServer.run(
                modelDir: directory, host: host, port: port, name: servedName, version: version,
                readyFile: readyFile.map { URL(fileURLWithPath: $0) }, logger: logger
            ) { url in
                if json {
                    Output.json(Listening(url: url, model: servedName, version: version))
                } else {
                    Output.line("serving model \(servedName) version \(version) on \(url)")
                }
            }
        }
    }
}
