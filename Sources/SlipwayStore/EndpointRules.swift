import Foundation
public import SlipwayCore

/// The input rules every ``EndpointStore`` checks before it writes, so that each backend refuses the same input
/// with the same message.
///
/// These rules look at the input alone: names, settings, replicas, backends and the shape of a traffic policy. The
/// rules that depend on stored state (which variants are deployed, the endpoint's revision, the status of a model
/// version) are checked by the backend inside its transaction.
public enum EndpointRules {
    /// How many replicas a deployment may ask for.
    public static let replicas = 1...64

    /// The longest variant name.
    public static let maxVariantNameLength = 64

    /// Checks a variant name: 1–64 characters of ASCII letters, digits, `-` and `_` (`stable`, `canary`, `blue_2`).
    ///
    /// - Throws: ``StoreError`` with kind `invalidArgument` saying what is wrong with the name.
    public static func validateVariantName(_ name: String) throws(StoreError) {
        guard !name.isEmpty else { throw StoreError(.invalidArgument, "a variant name must not be empty; use a name such as 'stable' or 'canary'") }
        guard name.count <= maxVariantNameLength else {
            throw StoreError(
                .invalidArgument, "variant name '\(name.prefix(80))…' is \(name.count) characters long; the limit is \(maxVariantNameLength)")
        }
        if let bad = name.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")) }) {
            throw StoreError(
                .invalidArgument, "variant name '\(name)' contains '\(bad)'; use letters, digits, '-' and '_' (e.g. 'stable', 'canary')")
        }
    }

    /// Checks an endpoint name with the rules of model names (``Names/validateModelName(_:)``).
    ///
    /// - Throws: ``StoreError`` with kind `invalidArgument`.
    public static func validateEndpointName(_ name: String) throws(StoreError) {
        do {
            try Names.validateModelName(name)
        } catch {
            throw StoreError(.invalidArgument, error.message.replacingOccurrences(of: "model name", with: "endpoint name"))
        }
    }

    /// Checks the bounds of an endpoint's settings (``EndpointSettings/validate()``).
    ///
    /// - Throws: ``StoreError`` with kind `invalidArgument` naming the endpoint.
    public static func validate(_ settings: EndpointSettings, endpoint: String) throws(StoreError) {
        do {
            try settings.validate()
        } catch {
            throw StoreError(error.kind, "settings of endpoint '\(endpoint)': \(error.message)")
        }
    }

    /// Checks the shape of a traffic policy: every variant it names is a valid variant name, header routes name a
    /// header, mirror percentages are between 0 and 100, and the pin header is a valid header name.
    ///
    /// Whether the variants are deployed is not checked here (see ``variantsRequiringDeployment(_:)``).
    ///
    /// - Throws: ``StoreError`` with kind `invalidArgument` naming the endpoint.
    public static func validate(_ policy: TrafficPolicy, endpoint: String) throws(StoreError) {
        let named =
            policy.split.variants + policy.headerRoutes.map(\.variant) + policy.mirrors.map(\.variant) + (policy.stableVariant.map { [$0] } ?? [])
        for variant in named {
            do {
                try validateVariantName(variant)
            } catch {
                throw StoreError(.invalidArgument, "the traffic policy of endpoint '\(endpoint)': \(error.message)")
            }
        }
        guard isHeaderName(policy.pinHeader) else {
            throw StoreError(
                .invalidArgument,
                "the pin header '\(policy.pinHeader)' of endpoint '\(endpoint)' must be 1 to 128 printable ASCII characters without spaces")
        }
        for route in policy.headerRoutes {
            guard isHeaderName(route.header) else {
                throw StoreError(
                    .invalidArgument,
                    "the header route to '\(route.variant)' of endpoint '\(endpoint)' matches header '\(route.header)', which must be 1 to 128 printable ASCII characters without spaces"
                )
            }
            guard route.value.utf8.count <= 4096, !route.value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw StoreError(
                    .invalidArgument,
                    "the header route to '\(route.variant)' of endpoint '\(endpoint)' matches a value with a control character or over 4096 bytes"
                )
            }
        }
        var mirrored = Set<String>()
        for mirror in policy.mirrors {
            guard mirror.percent.isFinite, (0...100).contains(mirror.percent) else {
                throw StoreError(
                    .invalidArgument,
                    "the mirror to '\(mirror.variant)' of endpoint '\(endpoint)' copies \(mirror.percent)% of the traffic; give a percentage from 0 to 100"
                )
            }
            guard mirrored.insert(mirror.variant).inserted else {
                throw StoreError(.invalidArgument, "endpoint '\(endpoint)' mirrors to '\(mirror.variant)' twice; give one mirror rule per variant")
            }
        }
    }

    /// Checks a new endpoint: its name, settings and the shape of its policy. Its policy may name variants that are not
    /// deployed yet: at creation no variant is.
    ///
    /// - Throws: ``StoreError`` with kind `invalidArgument`.
    public static func validate(_ endpoint: NewEndpoint) throws(StoreError) {
        try validateEndpointName(endpoint.name)
        guard !endpoint.description.utf8.contains(0) else {
            throw StoreError(.invalidArgument, "the description of endpoint '\(endpoint.name)' contains a NUL character; remove it")
        }
        try validate(endpoint.settings, endpoint: endpoint.name)
        try validate(endpoint.policy, endpoint: endpoint.name)
    }

    /// Checks a deployment's variant name, replicas and backend. Whether the endpoint and the model version exist, and
    /// whether the version is READY, is the backend's to check.
    ///
    /// - Throws: ``StoreError`` with kind `invalidArgument`.
    public static func validate(_ deployment: NewDeployment) throws(StoreError) {
        try validateVariantName(deployment.variant)
        guard replicas.contains(deployment.replicas) else {
            throw StoreError(
                .invalidArgument,
                "variant '\(deployment.variant)' of endpoint '\(deployment.endpoint)' asks for \(deployment.replicas) replicas; give \(replicas.lowerBound) to \(replicas.upperBound)"
            )
        }
        switch deployment.backend {
        case .url(let url, let modelName):
            guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = components.host, !host.isEmpty
            else {
                throw StoreError(
                    .invalidArgument,
                    "the backend URL '\(url)' of variant '\(deployment.variant)' must be an http or https URL with a host, e.g. http://10.0.0.5:8080")
            }
            if let modelName, modelName.isEmpty || modelName.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw StoreError(
                    .invalidArgument, "the backend model name of variant '\(deployment.variant)' must be non-empty without control characters")
            }
        case .command(let command):
            guard !command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, !command.unicodeScalars.contains("\u{0}") else {
                throw StoreError(
                    .invalidArgument, "the backend command of variant '\(deployment.variant)' is empty; give the command that starts the model server"
                )
            }
        case .builtin:
            break
        }
    }

    /// The variants of a policy that must have a deployment: those that receive traffic
    /// (``TrafficPolicy/referencedVariants``) and the stable variant requests are retried on.
    public static func variantsRequiringDeployment(_ policy: TrafficPolicy) -> Set<String> {
        var variants = policy.referencedVariants
        if let stable = policy.stableVariant { variants.insert(stable) }
        return variants
    }

    /// How a policy uses a variant, in words (`weight 10%, a header route, a mirror`), or nil when it does not.
    public static func describeUse(of variant: String, in policy: TrafficPolicy) -> String? {
        var uses: [String] = []
        if let weight = policy.split.weights[variant], weight > 0 {
            uses.append("weight \(weight == weight.rounded() ? String(Int(weight)) : String(weight))%")
        }
        let routes = policy.headerRoutes.filter { $0.variant == variant }.count
        if routes > 0 { uses.append(routes == 1 ? "a header route" : "\(routes) header routes") }
        if policy.mirrors.contains(where: { $0.variant == variant }) { uses.append("a mirror") }
        if policy.stableVariant == variant { uses.append("the stable variant for retries") }
        return uses.isEmpty ? nil : uses.joined(separator: ", ")
    }

    private static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && name.allSatisfy { $0.isASCII && !$0.isWhitespace && $0.asciiValue.map { $0 > 32 && $0 < 127 } == true }
    }
}
