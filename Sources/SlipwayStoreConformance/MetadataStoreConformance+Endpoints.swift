import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

extension MetadataStoreConformance {
    /// One endpoint conformance case: it gets an empty store that keeps both models and endpoints.
    public typealias EndpointCase = @Sendable (any MetadataStore & EndpointStore) async throws -> Void

    /// Every endpoint case, by name. A backend's tests run each against a new store of their own, as with ``all``.
    public static let endpointCases: [(String, @Sendable (any MetadataStore & EndpointStore) async throws -> Void)] = [
        ("endpointsRoundTrip", endpointsRoundTrip),
        ("endpointInputIsValidated", endpointInputIsValidated),
        ("hostileEndpointStrings", hostileEndpointStrings),
        ("deploymentsRoundTrip", deploymentsRoundTrip),
        ("onlyReadyVersionsAreDeployed", onlyReadyVersionsAreDeployed),
        ("policyNamesOnlyDeployedVariants", policyNamesOnlyDeployedVariants),
        ("endpointUpdateIsCompareAndSet", endpointUpdateIsCompareAndSet),
        ("concurrentPolicyUpdatesHaveOneWinner", concurrentPolicyUpdatesHaveOneWinner),
        ("referencedDeploymentsCannotBeRemoved", referencedDeploymentsCannotBeRemoved),
        ("deleteEndpointRemovesItsDeployments", deleteEndpointRemovesItsDeployments),
        ("servedVersionsCannotBeDeleted", servedVersionsCannotBeDeleted),
        ("endpointAuditEvents", endpointAuditEvents),
        ("failedEndpointChangesLeaveNoTrace", failedEndpointChangesLeaveNoTrace),
    ]

    // MARK: Helpers

    static func split(_ weights: (String, Double)...) throws -> TrafficSplit {
        try TrafficSplit(weights: weights)
    }

    static func deployment(
        _ endpoint: String, _ variant: String, _ model: String, _ version: Int, backend: BackendSpec = .builtin, replicas: Int = 1
    ) -> NewDeployment {
        NewDeployment(endpoint: endpoint, variant: variant, model: model, version: version, backend: backend, replicas: replicas)
    }

    /// Creates a model with `count` READY versions.
    static func seedReady(_ store: any MetadataStore, model: String, versions count: Int) async throws {
        _ = try await store.createModel(NewModel(name: model), actor: alice)
        for _ in 0..<count {
            _ = try await store.createVersion(ready(model), actor: alice)
        }
    }

    /// The audit events about endpoints and deployments, newest first.
    static func endpointAudit(_ store: any MetadataStore) async throws -> [AuditEvent] {
        try await store.auditEvents(model: nil, limit: 10_000, beforeId: nil).filter {
            $0.action.hasPrefix("endpoint.") || $0.action.hasPrefix("deployment.") || $0.action.hasPrefix("traffic.")
        }
    }

    // MARK: Cases

    /// Endpoints are created at revision 1 without deployments, read back equal, listed by name, unique, and deleted.
    public static func endpointsRoundTrip(_ store: any MetadataStore & EndpointStore) async throws {
        let settings = EndpointSettings(stickyKey: .cookie("session"), maxBodyBytes: 1 << 20, timeoutSeconds: 2.5, featureLogging: .full)
        // At creation no variant is deployed, so the policy may name variants that do not exist yet.
        let policy = TrafficPolicy(
            split: try split(("stable", 90), ("canary", 10)), headerRoutes: [HeaderRoute(header: "X-Group", value: "internal", variant: "canary")],
            mirrors: [MirrorRule(variant: "shadow", percent: 12.5)], pinHeader: "X-Pin", stableVariant: "stable"
        )
        let created = try await store.createEndpoint(
            NewEndpoint(name: "churn-api", description: "churn scores", settings: settings, policy: policy), actor: alice)
        #expect(created.name == "churn-api")
        #expect(created.description == "churn scores")
        #expect(created.settings == settings)
        #expect(created.policy == policy)
        #expect(created.policy.split.weights == ["stable": 90, "canary": 10])
        #expect(created.deployments.isEmpty)
        #expect(created.revision == 1)
        #expect(created.createdBy == alice)
        #expect(created.createdAt == created.updatedAt)

        #expect(try await store.endpoint(named: "churn-api") == created)
        #expect(try await store.endpoint(named: "CHURN-API") == nil)
        #expect(try await store.endpoint(named: "unknown") == nil)

        let defaults = try await store.createEndpoint(
            NewEndpoint(name: "a-first", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: bob)
        #expect(defaults.settings == EndpointSettings())
        #expect(defaults.description == "")
        #expect(defaults.policy.pinHeader == "X-Slipway-Variant")
        _ = try await store.createEndpoint(NewEndpoint(name: "Churn-API", policy: TrafficPolicy(split: TrafficSplit(allTo: "blue"))), actor: bob)
        #expect(try await store.endpoints().map(\.name) == ["Churn-API", "a-first", "churn-api"])
        #expect(try await store.endpoints().last == created)

        await expectError(.alreadyExists, containing: ["churn-api"]) {
            _ = try await store.createEndpoint(NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "x"))), actor: bob)
        }
        #expect(try await store.endpoint(named: "churn-api") == created)

        try await store.deleteEndpoint(named: "churn-api", actor: alice)
        #expect(try await store.endpoint(named: "churn-api") == nil)
        #expect(try await store.endpoints().map(\.name) == ["Churn-API", "a-first"])
        await expectError(.notFound, containing: ["churn-api"]) { try await store.deleteEndpoint(named: "churn-api", actor: alice) }
        // The name is free again, and a new endpoint starts over at revision 1.
        let again = try await store.createEndpoint(
            NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: bob)
        #expect(again.revision == 1)
        #expect(again.createdBy == bob)
    }

    /// Names, settings, policies, replicas and backends are checked before anything is written.
    public static func endpointInputIsValidated(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 1)
        let simple = TrafficPolicy(split: TrafficSplit(allTo: "stable"))
        let badEndpointNames = [
            "", " ", "churn api", "-churn", ".churn", "churn/api", "../etc", "churn..api", "Zürich", "churn\napi", "'; DROP TABLE endpoints; --",
            String(repeating: "e", count: 257),
        ]
        for name in badEndpointNames {
            await expectError(.invalidArgument) { _ = try await store.createEndpoint(NewEndpoint(name: name, policy: simple), actor: alice) }
        }
        _ = try await store.createEndpoint(NewEndpoint(name: String(repeating: "e", count: 256), policy: simple), actor: alice)
        _ = try await store.createEndpoint(NewEndpoint(name: "churn_api.v2-1", policy: simple), actor: alice)

        let badSettings = [
            EndpointSettings(maxBodyBytes: 10), EndpointSettings(maxBodyBytes: 2 << 30), EndpointSettings(timeoutSeconds: 0),
            EndpointSettings(timeoutSeconds: -1), EndpointSettings(timeoutSeconds: .nan), EndpointSettings(timeoutSeconds: .infinity),
            EndpointSettings(stickyKey: .header("")), EndpointSettings(stickyKey: .cookie("has space")),
            EndpointSettings(stickyKey: .jsonField(String(repeating: "k", count: 129))),
        ]
        for settings in badSettings {
            await expectError(.invalidArgument, containing: ["bad-settings"]) {
                _ = try await store.createEndpoint(NewEndpoint(name: "bad-settings", settings: settings, policy: simple), actor: alice)
            }
        }

        let badVariants = ["", "can ary", "a.b", "a/b", "ü", "canary\n", "'; DROP TABLE deployments; --", String(repeating: "v", count: 65)]
        for variant in badVariants {
            await expectError(.invalidArgument) {
                _ = try await store.createEndpoint(
                    NewEndpoint(name: "bad-policy", policy: TrafficPolicy(split: TrafficSplit(allTo: variant))), actor: alice)
            }
            await expectError(.invalidArgument) {
                _ = try await store.createEndpoint(
                    NewEndpoint(
                        name: "bad-policy",
                        policy: TrafficPolicy(
                            split: TrafficSplit(allTo: "stable"), headerRoutes: [HeaderRoute(header: "X-Group", value: "a", variant: variant)])),
                    actor: alice)
            }
            await expectError(.invalidArgument) {
                _ = try await store.createEndpoint(
                    NewEndpoint(
                        name: "bad-policy",
                        policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"), mirrors: [MirrorRule(variant: variant, percent: 5)])),
                    actor: alice)
            }
            await expectError(.invalidArgument) {
                _ = try await store.createEndpoint(
                    NewEndpoint(name: "bad-policy", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"), stableVariant: variant)), actor: alice
                )
            }
            await expectError(.invalidArgument) {
                _ = try await store.putDeployment(deployment("churn_api.v2-1", variant, "churn", 1), actor: alice)
            }
        }
        let badPolicies = [
            TrafficPolicy(split: TrafficSplit(allTo: "stable"), mirrors: [MirrorRule(variant: "shadow", percent: 101)]),
            TrafficPolicy(split: TrafficSplit(allTo: "stable"), mirrors: [MirrorRule(variant: "shadow", percent: -1)]),
            TrafficPolicy(split: TrafficSplit(allTo: "stable"), mirrors: [MirrorRule(variant: "shadow", percent: .nan)]),
            TrafficPolicy(
                split: TrafficSplit(allTo: "stable"),
                mirrors: [MirrorRule(variant: "shadow", percent: 5), MirrorRule(variant: "shadow", percent: 10)]),
            TrafficPolicy(split: TrafficSplit(allTo: "stable"), headerRoutes: [HeaderRoute(header: "", value: "a", variant: "stable")]),
            TrafficPolicy(split: TrafficSplit(allTo: "stable"), headerRoutes: [HeaderRoute(header: "X Group", value: "a", variant: "stable")]),
            TrafficPolicy(
                split: TrafficSplit(allTo: "stable"), headerRoutes: [HeaderRoute(header: "X-Group", value: "a\r\nX-Evil: 1", variant: "stable")]),
            TrafficPolicy(split: TrafficSplit(allTo: "stable"), pinHeader: ""),
            TrafficPolicy(split: TrafficSplit(allTo: "stable"), pinHeader: "X-Pin\n"),
        ]
        for policy in badPolicies {
            await expectError(.invalidArgument, containing: ["bad-policy"]) {
                _ = try await store.createEndpoint(NewEndpoint(name: "bad-policy", policy: policy), actor: alice)
            }
        }
        #expect(try await store.endpoint(named: "bad-settings") == nil)
        #expect(try await store.endpoint(named: "bad-policy") == nil)

        // Variant names: 1 to 64 letters, digits, '-' and '_'.
        let longest = String(repeating: "v", count: 64)
        for variant in ["a", "A1", "blue-green_2", longest] {
            _ = try await store.putDeployment(deployment("churn_api.v2-1", variant, "churn", 1), actor: alice)
        }
        #expect(try await store.endpoint(named: "churn_api.v2-1")?.deployments.map(\.variant) == ["A1", "a", "blue-green_2", longest].sorted())

        // Replicas: 1 to 64.
        for replicas in [0, -1, 65, Int.max] {
            await expectError(.invalidArgument, containing: ["replicas"]) {
                _ = try await store.putDeployment(deployment("churn_api.v2-1", "stable", "churn", 1, replicas: replicas), actor: alice)
            }
        }
        #expect(
            try await store.putDeployment(deployment("churn_api.v2-1", "stable", "churn", 1, replicas: 64), actor: alice).deployment("stable")?
                .replicas == 64)

        // Backends: an http(s) URL with a host, or a command that is not blank.
        let badBackends: [BackendSpec] = [
            .url("", modelName: nil), .url("not a url", modelName: nil), .url("ftp://host/x", modelName: nil), .url("http://", modelName: nil),
            .url("http://host:8080", modelName: ""), .command(""), .command("  \n "),
        ]
        for backend in badBackends {
            await expectError(.invalidArgument) {
                _ = try await store.putDeployment(deployment("churn_api.v2-1", "other", "churn", 1, backend: backend), actor: alice)
            }
        }
        #expect(try await store.endpoint(named: "churn_api.v2-1")?.deployment("other") == nil)

        // Updates check settings and policies the same way.
        let current = try #require(try await store.endpoint(named: "churn_api.v2-1"))
        await expectError(.invalidArgument) {
            _ = try await store.updateEndpoint(
                named: "churn_api.v2-1", expectedRevision: current.revision, settings: EndpointSettings(timeoutSeconds: 0), policy: nil, actor: alice)
        }
        await expectError(.invalidArgument) {
            _ = try await store.updateEndpoint(
                named: "churn_api.v2-1", expectedRevision: current.revision, settings: nil, policy: TrafficPolicy(split: TrafficSplit(allTo: "a b")),
                actor: alice)
        }
        await expectError(.invalidArgument) {
            _ = try await store.updateEndpoint(named: "churn_api.v2-1", expectedRevision: current.revision, settings: nil, policy: nil, actor: alice)
        }
        #expect(try await store.endpoint(named: "churn_api.v2-1") == current)
    }

    /// Descriptions, backends, header values and actors with quotes, SQL and Unicode round-trip exactly; hostile names
    /// are refused everywhere without touching other rows.
    public static func hostileEndpointStrings(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 1)
        let hostile = "it's \"quoted\" '; DROP TABLE endpoints; -- 100% a_b Zürich — 東京 🚀 \\ back"
        let big = String(repeating: "long description ", count: 1000)
        let policy = TrafficPolicy(
            split: TrafficSplit(allTo: "stable"), headerRoutes: [HeaderRoute(header: "X-Group", value: hostile, variant: "stable")])
        let created = try await store.createEndpoint(NewEndpoint(name: "hostile", description: hostile, policy: policy), actor: "o'brien")
        #expect(created.description == hostile)
        #expect(created.createdBy == "o'brien")
        _ = try await store.createEndpoint(NewEndpoint(name: "big", description: big, policy: policy), actor: "o'brien")
        #expect(try await store.endpoint(named: "big")?.description == big)

        let command = "sh -c 'exec server --port \"$PORT\" --model \"$MODEL_DIR\"'; echo '; DROP TABLE deployments; --' 東京"
        _ = try await store.putDeployment(deployment("hostile", "stable", "churn", 1, backend: .command(command)), actor: "o'brien")
        _ = try await store.putDeployment(
            deployment("hostile", "remote", "churn", 1, backend: .url("http://10.0.0.5:8080/v2?x='1'", modelName: hostile)), actor: "o'brien")
        let read = try #require(try await store.endpoint(named: "hostile"))
        #expect(read.description == hostile)
        #expect(read.policy.headerRoutes.first?.value == hostile)
        #expect(read.deployment("stable")?.backend == .command(command))
        #expect(read.deployment("stable")?.createdBy == "o'brien")
        #expect(read.deployment("remote")?.backend == .url("http://10.0.0.5:8080/v2?x='1'", modelName: hostile))

        // Lookups with hostile names find nothing and break nothing.
        for name in ["'; DROP TABLE endpoints; --", "hostile' OR '1'='1", "%", "_ostile", "HOSTILE", "hostile ", "hostile\u{0}"] {
            #expect(try await store.endpoint(named: name) == nil)
            await expectError(.notFound) { try await store.deleteEndpoint(named: name, actor: alice) }
            await expectError(.notFound) {
                _ = try await store.updateEndpoint(named: name, expectedRevision: 1, settings: EndpointSettings(), policy: nil, actor: alice)
            }
            await expectError(.notFound) { _ = try await store.putDeployment(deployment(name, "stable", "churn", 1), actor: alice) }
            await expectError(.notFound) { _ = try await store.deleteDeployment(endpoint: name, variant: "stable", actor: alice) }
            await expectError(.notFound) { _ = try await store.deleteDeployment(endpoint: "hostile", variant: name, actor: alice) }
            await expectError(.notFound) { _ = try await store.putDeployment(deployment("hostile", "other", name, 1), actor: alice) }
        }
        // A name with a NUL is another name: it finds nothing rather than what precedes the NUL.
        await expectError(.notFound) { _ = try await store.putDeployment(deployment("hostile", "other", "churn\u{0}", 1), actor: alice) }
        await expectError(.notFound) { try await store.deleteModel(named: "churn\u{0}", actor: alice) }
        await expectError(.invalidArgument) {
            _ = try await store.createEndpoint(NewEndpoint(name: "nul", description: "before\u{0}after", policy: policy), actor: alice)
        }
        #expect(try await store.model(named: "churn") != nil)
        #expect(try await store.endpoints().map(\.name) == ["big", "hostile"])
        #expect(try await store.endpoint(named: "hostile") == read)
    }

    /// Deployments are created, replaced and listed by variant; each change increments the revision; unknown endpoints,
    /// models and versions are `notFound`; a renamed model shows under its new name.
    public static func deploymentsRoundTrip(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 3)
        let created = try await store.createEndpoint(
            NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)

        let first = try await store.putDeployment(
            deployment("churn-api", "stable", "churn", 1, backend: .url("http://127.0.0.1:9000", modelName: "churn"), replicas: 1), actor: alice)
        #expect(first.revision == 2)
        #expect(first.updatedAt >= created.updatedAt)
        #expect(first.createdAt == created.createdAt)
        let stable = try #require(first.deployment("stable"))
        #expect(stable.endpoint == "churn-api")
        #expect(stable.model == "churn")
        #expect(stable.version == 1)
        #expect(stable.modelVersion == "churn@1")
        #expect(stable.backend == .url("http://127.0.0.1:9000", modelName: "churn"))
        #expect(stable.replicas == 1)
        #expect(stable.createdBy == alice)

        let second = try await store.putDeployment(
            deployment("churn-api", "canary", "churn", 2, backend: .command("serve --port $PORT"), replicas: 3), actor: bob)
        #expect(second.revision == 3)
        #expect(second.deployments.map(\.variant) == ["canary", "stable"])
        #expect(second.deployment("canary")?.replicas == 3)
        #expect(second.deployment("canary")?.createdBy == bob)
        #expect(second.deployment("stable") == stable)
        #expect(try await store.endpoint(named: "churn-api") == second)
        #expect(try await store.endpoints() == [second])

        // Putting a variant again replaces its deployment.
        let replaced = try await store.putDeployment(deployment("churn-api", "canary", "churn", 3, backend: .builtin, replicas: 2), actor: alice)
        #expect(replaced.revision == 4)
        #expect(replaced.deployments.count == 2)
        let canary = try #require(replaced.deployment("canary"))
        #expect(canary.modelVersion == "churn@3")
        #expect(canary.backend == .builtin)
        #expect(canary.replicas == 2)
        #expect(canary.createdBy == alice)
        #expect(canary.createdAt >= second.deployment("canary")!.createdAt)

        // A deployment follows its model through a rename.
        _ = try await store.renameModel(from: "churn", to: "churn-v2", actor: alice)
        let renamed = try #require(try await store.endpoint(named: "churn-api"))
        #expect(renamed.deployments.map(\.modelVersion) == ["churn-v2@3", "churn-v2@1"])
        #expect(renamed.revision == 4)

        await expectError(.notFound, containing: ["nope"]) {
            _ = try await store.putDeployment(deployment("nope", "stable", "churn-v2", 1), actor: alice)
        }
        await expectError(.notFound, containing: ["churn"]) {
            _ = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: alice)
        }
        await expectError(.notFound, containing: ["churn-v2@9"]) {
            _ = try await store.putDeployment(deployment("churn-api", "stable", "churn-v2", 9), actor: alice)
        }
        #expect(try await store.endpoint(named: "churn-api") == renamed)

        // Removing an unreferenced deployment increments the revision too.
        let removed = try await store.deleteDeployment(endpoint: "churn-api", variant: "canary", actor: alice)
        #expect(removed.revision == 5)
        #expect(removed.deployments.map(\.variant) == ["stable"])
        await expectError(.notFound, containing: ["canary"]) {
            _ = try await store.deleteDeployment(endpoint: "churn-api", variant: "canary", actor: alice)
        }
        await expectError(.notFound, containing: ["nope"]) { _ = try await store.deleteDeployment(endpoint: "nope", variant: "stable", actor: alice) }
        #expect(try await store.endpoint(named: "churn-api") == removed)
    }

    /// Only READY versions can be deployed: PENDING and FAILED ones are `failedPrecondition`, and a deployment that was
    /// refused leaves the endpoint as it was.
    public static func onlyReadyVersionsAreDeployed(_ store: any MetadataStore & EndpointStore) async throws {
        try await seed(store, model: "churn", versions: 2)
        _ = try await store.finishVersion(model: "churn", version: 2, outcome: .failed(message: "training diverged"), actor: alice)
        let endpoint = try await store.createEndpoint(
            NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        await expectError(.failedPrecondition, containing: ["churn@1", "PENDING", "READY"]) {
            _ = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: alice)
        }
        await expectError(.failedPrecondition, containing: ["churn@2", "FAILED", "READY"]) {
            _ = try await store.putDeployment(deployment("churn-api", "stable", "churn", 2), actor: alice)
        }
        #expect(try await store.endpoint(named: "churn-api") == endpoint)

        _ = try await store.finishVersion(model: "churn", version: 1, outcome: .ready(digest: digestA, size: 42), actor: alice)
        let deployed = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: alice)
        #expect(deployed.deployment("stable")?.modelVersion == "churn@1")
        #expect(deployed.revision == 2)
        // A version registered READY can be deployed at once.
        _ = try await store.createVersion(ready("churn"), actor: alice)
        #expect(try await store.putDeployment(deployment("churn-api", "canary", "churn", 3), actor: alice).deployments.count == 2)
    }

    /// A policy update may only name variants that have a deployment (weights above zero, header routes, mirrors, the
    /// stable variant); variants at weight zero need none. Settings alone can change while the creation policy still
    /// names undeployed variants.
    public static func policyNamesOnlyDeployedVariants(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 2)
        var endpoint = try await store.createEndpoint(
            NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: try split(("stable", 90), ("canary", 10)))), actor: alice)
        // Nothing is deployed yet, yet the settings may change: the stored policy is not checked again.
        endpoint = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: 1, settings: EndpointSettings(timeoutSeconds: 5), policy: nil, actor: alice)
        #expect(endpoint.revision == 2)
        #expect(endpoint.settings.timeoutSeconds == 5)

        endpoint = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: alice)
        let attempts: [(String, TrafficPolicy)] = [
            ("canary", TrafficPolicy(split: try split(("stable", 90), ("canary", 10)))),
            (
                "canary",
                TrafficPolicy(
                    split: TrafficSplit(allTo: "stable"), headerRoutes: [HeaderRoute(header: "X-Group", value: "internal", variant: "canary")])
            ),
            ("shadow", TrafficPolicy(split: TrafficSplit(allTo: "stable"), mirrors: [MirrorRule(variant: "shadow", percent: 100)])),
            ("green", TrafficPolicy(split: TrafficSplit(allTo: "stable"), stableVariant: "green")),
        ]
        for (missing, policy) in attempts {
            await expectError(.failedPrecondition, containing: ["churn-api", "'\(missing)'", "deploy"]) {
                _ = try await store.updateEndpoint(
                    named: "churn-api", expectedRevision: endpoint.revision, settings: nil, policy: policy, actor: alice)
            }
        }
        await expectError(.failedPrecondition, containing: ["'canary'", "'shadow'"]) {
            _ = try await store.updateEndpoint(
                named: "churn-api", expectedRevision: endpoint.revision, settings: EndpointSettings(),
                policy: TrafficPolicy(
                    split: try split(("stable", 50), ("canary", 50)), mirrors: [MirrorRule(variant: "shadow", percent: 1)]), actor: alice)
        }
        #expect(try await store.endpoint(named: "churn-api") == endpoint)

        endpoint = try await store.putDeployment(deployment("churn-api", "canary", "churn", 2), actor: alice)
        endpoint = try await store.putDeployment(deployment("churn-api", "shadow", "churn", 2), actor: alice)
        var policy = TrafficPolicy(
            split: try split(("stable", 95), ("canary", 5)), headerRoutes: [HeaderRoute(header: "X-Group", value: "internal", variant: "canary")],
            mirrors: [MirrorRule(variant: "shadow", percent: 100)], stableVariant: "stable"
        )
        endpoint = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: endpoint.revision, settings: nil, policy: policy, actor: alice)
        #expect(endpoint.policy == policy)
        #expect(endpoint.settings.timeoutSeconds == 5)
        #expect(try await store.endpoint(named: "churn-api") == endpoint)

        // A variant left at weight zero in the split needs no deployment.
        policy = TrafficPolicy(split: policy.split, stableVariant: "stable")
        try policy.split.apply([("stable", 100), ("canary", 0)])
        #expect(policy.split.variants.contains("canary"))
        endpoint = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: endpoint.revision, settings: nil, policy: policy, actor: alice)
        endpoint = try await store.deleteDeployment(endpoint: "churn-api", variant: "canary", actor: alice)
        endpoint = try await store.deleteDeployment(endpoint: "churn-api", variant: "shadow", actor: alice)
        #expect(endpoint.deployments.map(\.variant) == ["stable"])
        try policy.split.apply([("stable", 100)])
        endpoint = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: endpoint.revision, settings: nil, policy: policy, actor: alice)
        #expect(endpoint.policy.split.weights == ["stable": 100])
    }

    /// An update names the revision it was based on: a stale revision is `failedPrecondition` and changes nothing; a
    /// current one replaces the settings and/or the policy and increments the revision.
    public static func endpointUpdateIsCompareAndSet(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 2)
        _ = try await store.createEndpoint(NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        _ = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: alice)
        let base = try await store.putDeployment(deployment("churn-api", "canary", "churn", 2), actor: alice)
        #expect(base.revision == 3)

        for stale in [1, 2, 4, 0, -1] {
            await expectError(.failedPrecondition, containing: ["churn-api", "revision 3", "read it again"]) {
                _ = try await store.updateEndpoint(
                    named: "churn-api", expectedRevision: stale, settings: EndpointSettings(timeoutSeconds: 9), policy: nil, actor: bob)
            }
        }
        #expect(try await store.endpoint(named: "churn-api") == base)

        let policy = TrafficPolicy(split: try split(("stable", 80), ("canary", 20)))
        let trafficOnly = try await store.updateEndpoint(named: "churn-api", expectedRevision: 3, settings: nil, policy: policy, actor: bob)
        #expect(trafficOnly.revision == 4)
        #expect(trafficOnly.policy == policy)
        #expect(trafficOnly.settings == base.settings)
        #expect(trafficOnly.deployments == base.deployments)
        #expect(trafficOnly.updatedAt >= base.updatedAt)
        #expect(trafficOnly.createdAt == base.createdAt)
        #expect(trafficOnly.createdBy == alice)

        let settings = EndpointSettings(stickyKey: .jsonField("user_id"), maxBodyBytes: 4096, timeoutSeconds: 0.25, featureLogging: .off)
        let settingsOnly = try await store.updateEndpoint(named: "churn-api", expectedRevision: 4, settings: settings, policy: nil, actor: bob)
        #expect(settingsOnly.revision == 5)
        #expect(settingsOnly.settings == settings)
        #expect(settingsOnly.policy == policy)

        let both = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: 5, settings: EndpointSettings(), policy: TrafficPolicy(split: TrafficSplit(allTo: "canary")),
            actor: bob)
        #expect(both.revision == 6)
        #expect(both.settings == EndpointSettings())
        #expect(both.policy.split.weights == ["canary": 100])
        #expect(try await store.endpoint(named: "churn-api") == both)

        // The revision taken before the last change is stale now.
        await expectError(.failedPrecondition) {
            _ = try await store.updateEndpoint(named: "churn-api", expectedRevision: 5, settings: nil, policy: policy, actor: alice)
        }
        await expectError(.notFound, containing: ["nope"]) {
            _ = try await store.updateEndpoint(named: "nope", expectedRevision: 1, settings: EndpointSettings(), policy: nil, actor: alice)
        }
        #expect(try await store.endpoint(named: "churn-api") == both)
    }

    /// Writers that read the same revision race to change the policy: exactly one wins, the others are told to read
    /// again, and the stored policy is the winner's.
    public static func concurrentPolicyUpdatesHaveOneWinner(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 2)
        _ = try await store.createEndpoint(NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        _ = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: alice)
        let base = try await store.putDeployment(deployment("churn-api", "canary", "churn", 2), actor: alice)
        let writers = 16
        let outcomes = await withTaskGroup(of: (Int, Result<Endpoint, any Error>).self) { group in
            for index in 0..<writers {
                group.addTask {
                    do {
                        let policy = TrafficPolicy(
                            split: try TrafficSplit(weights: [("stable", Double(100 - index - 1)), ("canary", Double(index + 1))]))
                        let endpoint = try await store.updateEndpoint(
                            named: "churn-api", expectedRevision: base.revision, settings: nil, policy: policy, actor: "writer-\(index)")
                        return (index, .success(endpoint))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            return await group.reduce(into: [(Int, Result<Endpoint, any Error>)]()) { $0.append($1) }
        }
        let winners = outcomes.compactMap { outcome -> (Int, Endpoint)? in
            if case .success(let endpoint) = outcome.1 { return (outcome.0, endpoint) }
            return nil
        }
        #expect(winners.count == 1)
        for case (_, .failure(let error)) in outcomes {
            #expect((error as? any SlipwayError)?.kind == .failedPrecondition, "\(error)")
        }
        let (index, winner) = try #require(winners.first)
        #expect(winner.revision == base.revision + 1)
        #expect(winner.policy.split.weights["canary"] == Double(index + 1))
        #expect(try await store.endpoint(named: "churn-api") == winner)
        let audit = try await endpointAudit(store).filter { $0.action == "traffic.update" }
        #expect(audit.count == 1)
        #expect(audit.first?.actor == "writer-\(index)")
    }

    /// A deployment the policy still uses (a weight above zero, a header route, a mirror, the stable variant) cannot
    /// be removed; once the policy moves away from it, it can.
    public static func referencedDeploymentsCannotBeRemoved(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 2)
        _ = try await store.createEndpoint(NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        for variant in ["stable", "canary", "internal", "shadow", "blue"] {
            _ = try await store.putDeployment(deployment("churn-api", variant, "churn", variant == "stable" ? 1 : 2), actor: alice)
        }
        var endpoint = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: 6, settings: nil,
            policy: TrafficPolicy(
                split: try split(("stable", 90), ("canary", 10)),
                headerRoutes: [HeaderRoute(header: "X-Group", value: "internal", variant: "internal")],
                mirrors: [MirrorRule(variant: "shadow", percent: 0)], stableVariant: "blue"
            ),
            actor: alice
        )
        let uses = ["stable": "weight 90%", "canary": "weight 10%", "internal": "header route", "shadow": "mirror", "blue": "stable variant"]
        for (variant, use) in uses {
            await expectError(.failedPrecondition, containing: ["'\(variant)'", "churn-api", use]) {
                _ = try await store.deleteDeployment(endpoint: "churn-api", variant: variant, actor: bob)
            }
        }
        #expect(try await store.endpoint(named: "churn-api") == endpoint)

        // Move all traffic to stable; the others are free to go.
        var policy = endpoint.policy
        try policy.split.apply([("stable", 100)])
        policy.headerRoutes = []
        policy.mirrors = []
        policy.stableVariant = "stable"
        endpoint = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: endpoint.revision, settings: nil, policy: policy, actor: alice)
        for variant in ["canary", "internal", "shadow", "blue"] {
            let before = endpoint.revision
            endpoint = try await store.deleteDeployment(endpoint: "churn-api", variant: variant, actor: bob)
            #expect(endpoint.revision == before + 1)
            #expect(endpoint.deployment(variant) == nil)
        }
        #expect(endpoint.deployments.map(\.variant) == ["stable"])
        await expectError(.failedPrecondition, containing: ["stable"]) {
            _ = try await store.deleteDeployment(endpoint: "churn-api", variant: "stable", actor: bob)
        }
    }

    /// Deleting an endpoint removes its deployments with it, which frees the versions they served.
    public static func deleteEndpointRemovesItsDeployments(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 2)
        _ = try await store.createEndpoint(NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        _ = try await store.createEndpoint(NewEndpoint(name: "other", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        _ = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: alice)
        _ = try await store.putDeployment(deployment("churn-api", "canary", "churn", 2), actor: alice)
        let other = try await store.putDeployment(deployment("other", "stable", "churn", 2), actor: alice)
        // The policy still sends traffic to a variant: deleting the whole endpoint is allowed all the same.
        try await store.deleteEndpoint(named: "churn-api", actor: bob)
        #expect(try await store.endpoint(named: "churn-api") == nil)
        #expect(try await store.endpoints() == [other])
        try await store.deleteVersion(model: "churn", version: 1, actor: alice)
        await expectError(.failedPrecondition, containing: ["churn@2", "'other'", "'stable'"]) {
            try await store.deleteVersion(model: "churn", version: 2, actor: alice)
        }
        // A new endpoint with the old name starts empty.
        let again = try await store.createEndpoint(
            NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        #expect(again.deployments.isEmpty)
        #expect(again.revision == 1)
    }

    /// A version a deployment serves cannot be deleted, nor can its model; the error names the endpoint and the
    /// variant. The alias check still applies first. Replacing or removing the deployment frees the version.
    public static func servedVersionsCannotBeDeleted(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 3)
        _ = try await store.createEndpoint(NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        // The batch endpoint's policy sends its traffic to a variant not deployed yet, so its 'stable' deployment can go.
        _ = try await store.createEndpoint(NewEndpoint(name: "batch", policy: TrafficPolicy(split: TrafficSplit(allTo: "main"))), actor: alice)
        _ = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: alice)
        _ = try await store.putDeployment(deployment("churn-api", "canary", "churn", 2), actor: alice)
        _ = try await store.putDeployment(deployment("batch", "stable", "churn", 2), actor: alice)

        await expectError(
            .failedPrecondition, containing: ["churn@1", "endpoint 'churn-api' variant 'stable' serves it", "remove the deployment first"]
        ) {
            try await store.deleteVersion(model: "churn", version: 1, actor: alice)
        }
        await expectError(
            .failedPrecondition, containing: ["churn@2", "endpoint 'batch' variant 'stable'", "endpoint 'churn-api' variant 'canary'", "deployments"]
        ) {
            try await store.deleteVersion(model: "churn", version: 2, actor: alice)
        }
        await expectError(
            .failedPrecondition,
            containing: ["'churn'", "endpoint 'churn-api' variant 'stable' serves version 1", "endpoint 'churn-api' variant 'canary'"]
        ) {
            try await store.deleteModel(named: "churn", actor: alice)
        }
        // Aliases are still checked, and first.
        _ = try await store.setAlias(model: "churn", alias: "production", version: 1, immutable: false, reason: nil, actor: alice)
        await expectError(.failedPrecondition, containing: ["production"]) { try await store.deleteVersion(model: "churn", version: 1, actor: alice) }
        await expectError(.failedPrecondition, containing: ["production"]) { try await store.deleteModel(named: "churn", actor: alice) }
        _ = try await store.deleteAlias(model: "churn", alias: "production", immutable: false, reason: nil, actor: alice)
        #expect(try await store.version(model: "churn", version: 1) != nil)
        #expect(try await store.version(model: "churn", version: 2) != nil)

        // An unserved version goes as before.
        try await store.deleteVersion(model: "churn", version: 3, actor: alice)

        // Replacing a deployment frees the version it served.
        _ = try await store.createVersion(ready("churn"), actor: alice)
        _ = try await store.putDeployment(deployment("churn-api", "stable", "churn", 4), actor: alice)
        try await store.deleteVersion(model: "churn", version: 1, actor: alice)
        #expect(try await store.version(model: "churn", version: 1) == nil)

        // Removing the deployments frees version 2 and, with the last one gone, the model.
        _ = try await store.deleteDeployment(endpoint: "churn-api", variant: "canary", actor: alice)
        await expectError(.failedPrecondition, containing: ["'batch'"]) { try await store.deleteVersion(model: "churn", version: 2, actor: alice) }
        _ = try await store.deleteDeployment(endpoint: "batch", variant: "stable", actor: alice)
        try await store.deleteVersion(model: "churn", version: 2, actor: alice)
        await expectError(.failedPrecondition, containing: ["endpoint 'churn-api' variant 'stable' serves version 4", "remove the deployment first"])
        {
            try await store.deleteModel(named: "churn", actor: alice)
        }
        try await store.deleteEndpoint(named: "churn-api", actor: alice)
        try await store.deleteModel(named: "churn", actor: alice)
        #expect(try await store.model(named: "churn") == nil)
    }

    /// Every endpoint change leaves one audit event with its actor and the endpoint before and after.
    public static func endpointAuditEvents(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 2)
        let created = try await store.createEndpoint(
            NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        let stable = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: bob)
        let canary = try await store.putDeployment(deployment("churn-api", "canary", "churn", 2), actor: bob)
        let traffic = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: 3, settings: nil, policy: TrafficPolicy(split: try split(("stable", 50), ("canary", 50))),
            actor: "carol")
        let settings = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: 4, settings: EndpointSettings(timeoutSeconds: 3), policy: nil, actor: "carol")
        let moved = try await store.updateEndpoint(
            named: "churn-api", expectedRevision: 5, settings: nil, policy: TrafficPolicy(split: TrafficSplit(allTo: "stable")), actor: alice)
        let removed = try await store.deleteDeployment(endpoint: "churn-api", variant: "canary", actor: alice)
        try await store.deleteEndpoint(named: "churn-api", actor: bob)

        let audit = Array(try await endpointAudit(store).reversed())
        #expect(
            audit.map(\.action) == [
                "endpoint.create", "deployment.put", "deployment.put", "traffic.update", "endpoint.update", "traffic.update", "deployment.delete",
                "endpoint.delete",
            ])
        #expect(audit.map(\.actor) == [alice, bob, bob, "carol", "carol", alice, alice, bob])
        guard audit.count == 8 else { return }
        let states: [(Endpoint?, Endpoint?)] = [
            (nil, created), (created, stable), (stable, canary), (canary, traffic), (traffic, settings), (settings, moved), (moved, removed),
            (removed, nil),
        ]
        for (event, (before, after)) in zip(audit, states) {
            if let before {
                #expect(try decode(Endpoint.self, event.before) == before, "\(event.action) before")
            } else {
                #expect(event.before == nil, "\(event.action) before")
            }
            if let after {
                #expect(try decode(Endpoint.self, event.after) == after, "\(event.action) after")
            } else {
                #expect(event.after == nil, "\(event.action) after")
            }
        }
        // Deployment events name the model version deployed or removed; endpoint events name no model.
        #expect(audit[1].model == "churn")
        #expect(audit[1].version == 1)
        #expect(audit[2].version == 2)
        #expect(audit[6].model == "churn")
        #expect(audit[6].version == 2)
        #expect([0, 3, 4, 5, 7].allSatisfy { audit[$0].model == nil && audit[$0].version == nil })
        #expect(zip(audit, audit.dropFirst()).allSatisfy { $0.at <= $1.at && $0.id < $1.id })
        // A model's history shows when its versions were deployed.
        let modelHistory = try await store.auditEvents(model: "churn", limit: 100, beforeId: nil).map(\.action)
        #expect(modelHistory.filter { $0.hasPrefix("deployment.") } == ["deployment.delete", "deployment.put", "deployment.put"])
    }

    /// A refused endpoint change changes nothing and leaves no audit event.
    public static func failedEndpointChangesLeaveNoTrace(_ store: any MetadataStore & EndpointStore) async throws {
        try await seedReady(store, model: "churn", versions: 2)
        _ = try await store.createVersion(NewVersion(model: "churn"), actor: alice)
        _ = try await store.createEndpoint(NewEndpoint(name: "churn-api", policy: TrafficPolicy(split: TrafficSplit(allTo: "stable"))), actor: alice)
        _ = try await store.putDeployment(deployment("churn-api", "stable", "churn", 1), actor: alice)
        let before = try await store.auditEvents(model: nil, limit: 10_000, beforeId: nil)
        let endpoint = try #require(try await store.endpoint(named: "churn-api"))
        let model = try await store.model(named: "churn")

        await expectError(.alreadyExists) {
            _ = try await store.createEndpoint(
                NewEndpoint(name: "churn-api", description: "dup", policy: TrafficPolicy(split: TrafficSplit(allTo: "x"))), actor: bob)
        }
        await expectError(.invalidArgument) {
            _ = try await store.createEndpoint(NewEndpoint(name: "bad name", policy: TrafficPolicy(split: TrafficSplit(allTo: "x"))), actor: bob)
        }
        await expectError(.failedPrecondition) {
            _ = try await store.updateEndpoint(
                named: "churn-api", expectedRevision: 1, settings: EndpointSettings(timeoutSeconds: 1), policy: nil, actor: bob)
        }
        await expectError(.failedPrecondition) {
            _ = try await store.updateEndpoint(
                named: "churn-api", expectedRevision: endpoint.revision, settings: EndpointSettings(timeoutSeconds: 1),
                policy: TrafficPolicy(split: TrafficSplit(allTo: "canary")), actor: bob)
        }
        await expectError(.failedPrecondition) { _ = try await store.deleteDeployment(endpoint: "churn-api", variant: "stable", actor: bob) }
        await expectError(.notFound) { _ = try await store.deleteDeployment(endpoint: "churn-api", variant: "canary", actor: bob) }
        await expectError(.failedPrecondition) { _ = try await store.putDeployment(deployment("churn-api", "canary", "churn", 3), actor: bob) }
        await expectError(.notFound) { _ = try await store.putDeployment(deployment("churn-api", "canary", "churn", 9), actor: bob) }
        await expectError(.invalidArgument) {
            _ = try await store.putDeployment(deployment("churn-api", "canary", "churn", 2, replicas: 0), actor: bob)
        }
        await expectError(.failedPrecondition) { try await store.deleteVersion(model: "churn", version: 1, actor: bob) }
        await expectError(.failedPrecondition) { try await store.deleteModel(named: "churn", actor: bob) }

        #expect(try await store.auditEvents(model: nil, limit: 10_000, beforeId: nil) == before)
        #expect(try await store.endpoint(named: "churn-api") == endpoint)
        #expect(try await store.endpoints() == [endpoint])
        #expect(try await store.model(named: "churn") == model)
        #expect(try await store.version(model: "churn", version: 1) != nil)
    }
}
