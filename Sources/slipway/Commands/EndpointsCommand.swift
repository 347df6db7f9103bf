import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayGateway

struct EndpointsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoints",
        abstract: "Create, list, show and delete inference endpoints.",
        discussion: "Clients call POST /v2/models/ENDPOINT/infer on the gateway; `deploy` puts model versions behind an endpoint as variants.",
        subcommands: [Create.self, List.self, Show.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an endpoint.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(name: .long, help: "The header that carries the sticky key (default X-User-Id).") var stickyHeader: String?
        @Option(name: .long, help: "Or a cookie that carries it.") var stickyCookie: String?
        @Option(name: .long, help: "Or a JSON body field that carries it.") var stickyField: String?
        @Option(name: .long, help: "The largest request body in bytes (default 8 MiB).") var maxBodyBytes: Int?
        @Option(name: .long, help: "Seconds a backend may take (default 30).") var timeout: Double?
        @Option(name: .long, help: "What the prediction log keeps of features: off, hashed, full (default hashed).") var featureLogging: String?
        @Option(name: .long, help: "The variant that gets all traffic once deployed (default stable).") var variant: String = "stable"
        @Option(name: .long) var description: String = ""

        func run() async throws {
            try await Output.run(json: global.json) {
                var settings = EndpointSettings()
                let keys = [stickyHeader.map { "header:\($0)" }, stickyCookie.map { "cookie:\($0)" }, stickyField.map { "json:\($0)" }].compactMap { $0 }
                guard keys.count <= 1 else { throw GenericError(.invalidArgument, "give one of --sticky-header, --sticky-cookie, --sticky-field") }
                if let key = keys.first { settings.stickyKey = try StickyKeySource(parsing: key) }
                if let maxBodyBytes { settings.maxBodyBytes = maxBodyBytes }
                if let timeout { settings.timeoutSeconds = timeout }
                if let featureLogging {
                    guard let value = FeatureLogging(rawValue: featureLogging) else {
                        throw GenericError(.invalidArgument, "--feature-logging must be off, hashed or full")
                    }
                    settings.featureLogging = value
                }
                try settings.validate()
                let status = try await global.client().createEndpoint(name: name, description: description, settings: settings, initialVariant: variant)
                if global.json { Output.json(status) } else { Output.line("Created endpoint \(name); deploy a model to variant '\(variant)' next.") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List endpoints with their variants and weights.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Output.run(json: global.json) {
                let endpoints = try await global.client().endpoints()
                struct List: Encodable { var endpoints: [Endpoint] }
                if global.json { Output.json(List(endpoints: endpoints)); return }
                Output.table(
                    ["ENDPOINT", "VARIANTS", "WEIGHTS", "STICKY KEY"],
                    endpoints.map { endpoint in
                        [
                            endpoint.name, endpoint.deployments.map { "\($0.variant)=\($0.modelVersion)" }.joined(separator: " "),
                            EndpointsCommand.weights(endpoint), endpoint.settings.stickyKey.description,
                        ]
                    })
            }
        }
    }

    static func weights(_ endpoint: Endpoint) -> String {
        endpoint.policy.split.weights.sorted { $0.key < $1.key }.map { "\($0.key)=\(EndpointsCommand.number($0.value))" }.joined(separator: " ")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    static func describe(_ status: EndpointStatus) {
        let endpoint = status.endpoint
        Output.line("Endpoint:    \(endpoint.name) (revision \(endpoint.revision))")
        Output.line("Sticky key:  \(endpoint.settings.stickyKey)  limit \(endpoint.settings.maxBodyBytes) bytes  timeout \(endpoint.settings.timeoutSeconds)s")
        Output.line("Weights:     \(weights(endpoint))")
        for route in endpoint.policy.headerRoutes { Output.line("Route:       \(route.header)=\(route.value) -> \(route.variant)") }
        for mirror in endpoint.policy.mirrors { Output.line("Mirror:      \(number(mirror.percent))% -> \(mirror.variant)") }
        if endpoint.deployments.isEmpty { Output.line("Variants:    none deployed yet") }
        Output.table(
            ["VARIANT", "MODEL", "BACKEND", "REQUESTS", "ERRORS", "P50 MS", "P99 MS"],
            endpoint.deployments.map { deployment in
                let live = status.live[deployment.variant]
                let backend: String
                switch deployment.backend {
                case .url(let url, _): backend = url
                case .command(let command): backend = "command: \(command)"
                case .builtin: backend = "builtin"
                }
                return [
                    deployment.variant, deployment.modelVersion, backend, String(live?.requests ?? 0), String(live?.errors ?? 0),
                    String(format: "%.2f", live?.latencyP50Ms ?? 0), String(format: "%.2f", live?.latencyP99Ms ?? 0),
                ]
            })
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an endpoint, its policy and live per-variant metrics.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let status = try await global.client().endpoint(name)
                if global.json { Output.json(status) } else { EndpointsCommand.describe(status) }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an endpoint and its deployments.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() async throws {
            try await Output.run(json: global.json) {
                try await global.client().deleteEndpoint(name)
                if global.json { Output.json(["deleted": name]) } else { Output.line("Deleted endpoint \(name).") }
            }
        }
    }
}

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Serve a model version as a variant of an endpoint.",
        discussion: """
            Give one backend. --backend URL names a model server that is already running; the URL may end in /v2/models/NAME to \
            name the model the backend knows, otherwise the registered model's name is used. --builtin and --command CMD are \
            supervised: `slipway server` runs REPLICAS processes of Slipway's model server (serve-model) or of CMD (with /bin/sh -c).

            Each supervised process gets $PORT (a free port on 127.0.0.1 to listen on), $MODEL_DIR (the version's artifact, written \
            out once), $SLIPWAY_MODEL_NAME, $SLIPWAY_MODEL_VERSION, $SLIPWAY_ENDPOINT, $SLIPWAY_VARIANT, $SLIPWAY_REPLICA, and the \
            server's environment without SLIPWAY_* variables. A command must answer GET /v2/health/ready with 200 once it can serve, \
            and POST /v2/models/$SLIPWAY_MODEL_NAME/infer. A replica gets traffic once it is ready and is restarted with a growing \
            delay when it exits; a redeploy switches to the new replicas once they are ready. Their output goes to \
            DATA_DIR/runtime/logs/; `slipway endpoints show NAME --json` lists them under "backends".

            Examples:
              slipway deploy churn-api --variant canary --model churn@2 --backend http://127.0.0.1:9000/v2/models/churn-b
              slipway deploy churn-api --variant stable --model churn@3 --builtin --replicas 2
              slipway deploy churn-api --variant stable --model churn@3 --command 'python3 serve.py'
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument var endpoint: String
    @Option(name: .long, help: "The variant name (stable, canary, blue, green, shadow, …).") var variant: String
    @Option(name: .long, help: "MODEL@VERSION or MODEL@ALIAS.") var model: String
    @Option(name: .long, help: "The URL of a model server that is already running.") var backend: String?
    @Option(name: .long, help: "A command `slipway server` starts and supervises ($PORT, $MODEL_DIR).") var command: String?
    @Flag(name: .long, help: "Serve with Slipway's built-in model server, supervised by `slipway server`.") var builtin = false
    @Option(name: .long, help: "Processes of a supervised backend (1-64).") var replicas: Int = 1

    func run() async throws {
        try await Output.run(json: global.json) {
            let chosen = [backend != nil, command != nil, builtin].filter { $0 }.count
            guard chosen == 1 else { throw GenericError(.invalidArgument, "give exactly one of --backend URL, --command CMD, --builtin") }
            let spec: BackendSpec = backend.map { .url($0, modelName: nil) } ?? command.map { .command($0) } ?? .builtin
            let client = try global.client()
            let status = try await client.deploy(endpoint: endpoint, variant: variant, model: model, backend: spec, replicas: replicas)
            if global.json { Output.json(status) } else {
                Output.line("Deployed \(model) as \(endpoint)/\(variant). Weights: \(EndpointsCommand.weights(status.endpoint))")
                if backend == nil {
                    Output.line(
                        client is InProcessClient
                            ? "Its replicas run inside `slipway server`; start it on this data folder to serve the variant."
                            : "`slipway server` starts \(replicas) replica(s); `slipway endpoints show \(endpoint) --json` shows them under \"backends\".")
                }
            }
        }
    }
}

struct TrafficCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic",
        abstract: "Split, switch, mirror and route an endpoint's traffic; every change is atomic.",
        subcommands: [Set.self, Switch.self, Mirror.self, Route.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", 
            abstract: "Set the weights, e.g. `slipway traffic set churn-api stable=90 canary=10` (they must add up to 100).")
        @OptionGroup var global: GlobalOptions
        @Argument var endpoint: String
        @Argument(help: "variant=percent pairs") var weights: [String]

        func run() async throws {
            try await Output.run(json: global.json) {
                var parsed: [(String, Double)] = []
                for pair in weights {
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let weight = Double(parts[1]) else {
                        throw GenericError(.invalidArgument, "'\(pair)' must be variant=percent, e.g. canary=10")
                    }
                    parsed.append((parts[0], weight))
                }
                let status = try await global.client().setWeights(endpoint: endpoint, weights: parsed)
                if global.json { Output.json(status) } else { Output.line("\(endpoint): \(EndpointsCommand.weights(status.endpoint))") }
            }
        }
    }

    struct Switch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "switch", abstract: "Send all traffic to one variant at once (blue-green switch, rollback).")
        @OptionGroup var global: GlobalOptions
        @Argument var endpoint: String
        @Argument var variant: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let status = try await global.client().switchTraffic(endpoint: endpoint, to: variant)
                if global.json { Output.json(status) } else { Output.line("\(endpoint): all traffic to \(variant)") }
            }
        }
    }

    struct Mirror: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mirror", abstract: "Mirror a share of the traffic to a variant (0 stops it).")
        @OptionGroup var global: GlobalOptions
        @Argument var endpoint: String
        @Option(name: .long) var to: String
        @Option(name: .long) var percent: Double = 100

        func run() async throws {
            try await Output.run(json: global.json) {
                let status = try await global.client().mirror(endpoint: endpoint, to: to, percent: percent)
                if global.json { Output.json(status) } else { Output.line("\(endpoint): mirroring \(EndpointsCommand.number(percent))% to \(to)") }
            }
        }
    }

    struct Route: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "route", abstract: "Send requests with a header value to a variant, e.g. --header X-Group=internal --to canary.")
        @OptionGroup var global: GlobalOptions
        @Argument var endpoint: String
        @Option(name: .long, help: "NAME=VALUE") var header: String
        @Option(name: .long, help: "The variant (omit with --remove).") var to: String?
        @Flag(name: .long, help: "Remove the route.") var remove = false

        func run() async throws {
            try await Output.run(json: global.json) {
                let parts = header.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw GenericError(.invalidArgument, "--header must be NAME=VALUE") }
                guard remove != (to != nil) else { throw GenericError(.invalidArgument, "give --to VARIANT, or --remove") }
                let status = try await global.client().route(endpoint: endpoint, header: parts[0], value: parts[1], to: remove ? nil : to)
                if global.json { Output.json(status) } else {
                    Output.line(remove ? "\(endpoint): removed the route for \(header)" : "\(endpoint): \(header) -> \(to!)")
                }
            }
        }
    }
}
