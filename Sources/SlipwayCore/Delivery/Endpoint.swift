public import Foundation

/// A named inference endpoint: the deployments (variants) behind it and the policy that splits,
/// routes and mirrors its traffic. Clients call `/v2/models/{endpoint}/infer` on the gateway.
public struct Endpoint: Sendable, Codable, Equatable {
    public var name: String
    public var description: String
    public var settings: EndpointSettings
    public var policy: TrafficPolicy
    /// The variants deployed behind the endpoint, by variant name (filled on read).
    public var deployments: [Deployment]
    /// Increases with every change; a policy update names the revision it was based on.
    public var revision: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var createdBy: String

    public init(
        name: String, description: String = "", settings: EndpointSettings = EndpointSettings(), policy: TrafficPolicy,
        deployments: [Deployment] = [], revision: Int = 1, createdAt: Date, updatedAt: Date, createdBy: String
    ) {
        self.name = name
        self.description = description
        self.settings = settings
        self.policy = policy
        self.deployments = deployments
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.createdBy = createdBy
    }

    /// The deployment of a variant, if any.
    public func deployment(_ variant: String) -> Deployment? { deployments.first { $0.variant == variant } }
}

/// How an endpoint treats requests.
public struct EndpointSettings: Sendable, Codable, Equatable {
    /// Where the sticky key comes from (default: the `X-User-Id` header).
    public var stickyKey: StickyKeySource
    /// The largest request body accepted (413 above it).
    public var maxBodyBytes: Int
    /// How long a backend may take to answer.
    public var timeoutSeconds: Double
    /// What the prediction log keeps of the request's features.
    public var featureLogging: FeatureLogging

    public init(
        stickyKey: StickyKeySource = .header("X-User-Id"), maxBodyBytes: Int = 8 << 20, timeoutSeconds: Double = 30,
        featureLogging: FeatureLogging = .hashed
    ) {
        self.stickyKey = stickyKey
        self.maxBodyBytes = maxBodyBytes
        self.timeoutSeconds = timeoutSeconds
        self.featureLogging = featureLogging
    }

    /// Checks the bounds of each setting.
    public func validate() throws(GenericError) {
        guard (1024...(1 << 30)).contains(maxBodyBytes) else {
            throw GenericError(.invalidArgument, "the request size limit must be between 1 KiB and 1 GiB, got \(maxBodyBytes) bytes")
        }
        guard timeoutSeconds.isFinite, timeoutSeconds > 0, timeoutSeconds <= 3600 else {
            throw GenericError(.invalidArgument, "the timeout must be between 0 and 3600 seconds, got \(timeoutSeconds)")
        }
        switch stickyKey {
        case .header(let name), .cookie(let name), .jsonField(let name):
            guard !name.isEmpty, name.count <= 128, name.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                throw GenericError(.invalidArgument, "the sticky key name '\(name)' must be 1 to 128 printable ASCII characters")
            }
        }
    }
}

/// Where a request's sticky key comes from.
public enum StickyKeySource: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    case header(String)
    case cookie(String)
    /// A top-level field of the JSON body (or of `parameters` in a V2 inference request).
    case jsonField(String)

    public var description: String {
        switch self {
        case .header(let name): "header:\(name)"
        case .cookie(let name): "cookie:\(name)"
        case .jsonField(let name): "json:\(name)"
        }
    }

    /// Parses `X-User-Id`, `header:X-User-Id`, `cookie:session` or `json:user_id`.
    public init(parsing text: String) throws(GenericError) {
        if text.hasPrefix("cookie:") {
            self = .cookie(String(text.dropFirst(7)))
        } else if text.hasPrefix("json:") {
            self = .jsonField(String(text.dropFirst(5)))
        } else if text.hasPrefix("header:") {
            self = .header(String(text.dropFirst(7)))
        } else {
            self = .header(text)
        }
        try EndpointSettings(stickyKey: self).validate()
    }

    /// Encoded as its text form: `header:X-User-Id`, `cookie:session`, `json:user_id`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try StickyKeySource(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// What the prediction log keeps of a request's features.
public enum FeatureLogging: String, Sendable, Codable, CaseIterable {
    case off, hashed, full
}

/// How an endpoint's traffic is divided, routed and mirrored.
public struct TrafficPolicy: Sendable, Codable, Equatable {
    public var split: TrafficSplit
    /// Requests whose header equals a value go to a variant, in order, before the split.
    public var headerRoutes: [HeaderRoute]
    /// A share of the traffic copied to a variant; its answers are compared, never returned.
    public var mirrors: [MirrorRule]
    /// The request header that pins a variant.
    public var pinHeader: String
    /// The variant a request is retried on when a connection to another failed before any byte was sent.
    public var stableVariant: String?

    public init(
        split: TrafficSplit, headerRoutes: [HeaderRoute] = [], mirrors: [MirrorRule] = [], pinHeader: String = "X-Slipway-Variant",
        stableVariant: String? = nil
    ) {
        self.split = split
        self.headerRoutes = headerRoutes
        self.mirrors = mirrors
        self.pinHeader = pinHeader
        self.stableVariant = stableVariant
    }

    /// The variants that receive user traffic (weight above zero or a header route) or mirrored traffic.
    public var referencedVariants: Set<String> {
        Set(split.weights.filter { $0.value > 0 }.keys).union(headerRoutes.map(\.variant)).union(mirrors.map(\.variant))
    }
}

/// `header = value` → variant.
public struct HeaderRoute: Sendable, Codable, Equatable {
    public var header: String
    public var value: String
    public var variant: String

    public init(header: String, value: String, variant: String) {
        self.header = header
        self.value = value
        self.variant = variant
    }
}

/// Mirror `percent` of the traffic to `variant`.
public struct MirrorRule: Sendable, Codable, Equatable {
    public var variant: String
    /// 0–100.
    public var percent: Double

    public init(variant: String, percent: Double) {
        self.variant = variant
        self.percent = percent
    }
}

/// One variant of an endpoint: a model version served by a backend.
public struct Deployment: Sendable, Codable, Equatable {
    public var endpoint: String
    public var variant: String
    public var model: String
    public var version: Int
    public var backend: BackendSpec
    /// How many replicas a supervised backend runs.
    public var replicas: Int
    public var createdAt: Date
    public var createdBy: String

    public init(endpoint: String, variant: String, model: String, version: Int, backend: BackendSpec, replicas: Int = 1, createdAt: Date, createdBy: String) {
        self.endpoint = endpoint
        self.variant = variant
        self.model = model
        self.version = version
        self.backend = backend
        self.replicas = replicas
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    /// `model@version`.
    public var modelVersion: String { "\(model)@\(version)" }
}

/// What serves a deployment.
public enum BackendSpec: Sendable, Codable, Equatable {
    /// A model server someone already runs, e.g. `http://10.0.0.5:8080` (optionally with the backend's model name).
    case url(String, modelName: String?)
    /// A command Slipway starts and supervises on a free port (`$PORT`, `$MODEL_DIR`).
    case command(String)
    /// Slipway's own model server for the built-in model format.
    case builtin

    private enum CodingKeys: String, CodingKey { case kind, url, modelName, command }

    /// Encoded as `{"kind": "url", "url": …, "modelName": …}`, `{"kind": "command", "command": …}` or `{"kind": "builtin"}`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "url": self = .url(try c.decode(String.self, forKey: .url), modelName: try c.decodeIfPresent(String.self, forKey: .modelName))
        case "command": self = .command(try c.decode(String.self, forKey: .command))
        case "builtin": self = .builtin
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "backend kind '\(other)' is not url, command or builtin")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .url(let url, let modelName):
            try c.encode("url", forKey: .kind)
            try c.encode(url, forKey: .url)
            try c.encodeIfPresent(modelName, forKey: .modelName)
        case .command(let command):
            try c.encode("command", forKey: .kind)
            try c.encode(command, forKey: .command)
        case .builtin:
            try c.encode("builtin", forKey: .kind)
        }
    }
}
