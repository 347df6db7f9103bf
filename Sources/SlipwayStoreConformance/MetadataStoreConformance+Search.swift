import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

extension MetadataStoreConformance {
    /// Four models and five versions with tags, parameters, metrics, stages and several registrants.
    ///
    /// | version | registrant | status  | stage      | run   | tags                      | params                  | metrics                 |
    /// |---------|------------|---------|------------|-------|---------------------------|-------------------------|-------------------------|
    /// | iris@1  | alice      | READY   | Production | run-1 | env=prod, owner=Alice     | max_depth=5, criterion  | accuracy=0.9, f1=0.8    |
    /// | iris@2  | bob        | READY   | None       | run-2 | env=staging, owner=bob    | max_depth=10            | accuracy=0.95           |
    /// | iris@3  | alice      | PENDING | None       |       | env=dev                   |                         |                         |
    /// | wine@1  | carol      | READY   | Staging    | run-3 | env=prod, owner=carol     | alpha=0.5               | rmse=0.7, accuracy=0.5  |
    /// | wine@2  | carol      | READY   | None       |       |                           |                         | rmse=0.6                |
    static func searchFixture(_ store: any MetadataStore) async throws {
        _ = try await store.createModel(NewModel(name: "iris", description: "Iris flowers", tags: ["team": "vision", "tier": "gold"]), actor: alice)
        _ = try await store.createModel(NewModel(name: "iris-v2", description: "Second iris", tags: ["team": "vision"]), actor: bob)
        _ = try await store.createModel(NewModel(name: "wine", description: "Wine quality", tags: ["team": "tabular"]), actor: bob)
        _ = try await store.createModel(NewModel(name: "WINE-red", description: ""), actor: carol)
        _ = try await store.createVersion(
            NewVersion(
                model: "iris", source: "s3://bucket/iris/1", runId: "run-1", description: "baseline", tags: ["env": "prod", "owner": "Alice"],
                lineage: Lineage(parameters: ["max_depth": "5", "criterion": "gini"], metrics: ["accuracy": 0.9, "f1": 0.8]), status: .ready,
                artifactDigest: digestA, artifactSize: 1
            ),
            actor: alice
        )
        _ = try await store.createVersion(
            NewVersion(
                model: "iris", source: "s3://bucket/iris/2", runId: "run-2", description: "Deeper trees", tags: ["env": "staging", "owner": "bob"],
                lineage: Lineage(parameters: ["max_depth": "10"], metrics: ["accuracy": 0.95]), status: .ready, artifactDigest: digestB,
                artifactSize: 2
            ),
            actor: bob
        )
        _ = try await store.createVersion(NewVersion(model: "iris", source: "file:///tmp/iris3", tags: ["env": "dev"]), actor: alice)
        _ = try await store.createVersion(
            NewVersion(
                model: "wine", source: "s3://other/wine/1", runId: "run-3", tags: ["env": "prod", "owner": "carol"],
                lineage: Lineage(parameters: ["alpha": "0.5"], metrics: ["rmse": 0.7, "accuracy": 0.5]), status: .ready, artifactDigest: digestA,
                artifactSize: 3
            ),
            actor: carol
        )
        _ = try await store.createVersion(
            NewVersion(model: "wine", source: "s3://other/wine/2", lineage: Lineage(metrics: ["rmse": 0.6]), status: .ready, artifactDigest: digestB),
            actor: carol
        )
        _ = try await store.transitionStage(
            model: "iris", version: 1, expected: "None", stage: "Production", archiveOthers: false, archiveStage: "Archived", actor: alice
        )
        _ = try await store.transitionStage(
            model: "wine", version: 1, expected: "None", stage: "Staging", archiveOthers: false, archiveStage: "Archived", actor: carol
        )
    }

    static let carol = "carol"

    /// Registered models by name, description, registrant, timestamps and tags, with every operator.
    public static func searchModels(_ store: any MetadataStore) async throws {
        try await searchFixture(store)
        func names(_ clauses: SearchClause...) async throws -> Set<String> {
            Set(try await store.searchModels(SearchQuery(filter: SearchFilter(clauses: clauses), limit: 100)).items.map(\.name))
        }
        let name = SearchKey.attribute(.name)
        #expect(try await names(clause(name, .equal, .string("iris"))) == ["iris"])
        #expect(try await names(clause(name, .notEqual, .string("iris"))) == ["iris-v2", "wine", "WINE-red"])
        #expect(try await names(clause(name, .like, .string("iris%"))) == ["iris", "iris-v2"])
        #expect(try await names(clause(name, .like, .string("iris_v2"))) == ["iris-v2"])
        #expect(try await names(clause(name, .like, .string("wine%"))) == ["wine"])
        #expect(try await names(clause(name, .like, .string("%INE%"))) == ["WINE-red"])
        #expect(try await names(clause(name, .ilike, .string("wine%"))) == ["wine", "WINE-red"])
        #expect(try await names(clause(name, .in, .list(["iris", "wine", "nope"]))) == ["iris", "wine"])
        #expect(try await names(clause(name, .notIn, .list(["iris", "wine"]))) == ["iris-v2", "WINE-red"])

        let description = SearchKey.attribute(.description)
        #expect(try await names(clause(description, .ilike, .string("%IRIS%"))) == ["iris", "iris-v2"])
        #expect(try await names(clause(description, .like, .string("%iris%"))) == ["iris-v2"])
        #expect(try await names(clause(description, .equal, .string(""))) == ["WINE-red"])
        #expect(try await names(clause(.attribute(.userId), .equal, .string(bob))) == ["iris-v2", "wine"])
        #expect(try await names(clause(.attribute(.userId), .in, .list([alice, carol]))) == ["iris", "WINE-red"])

        #expect(try await names(clause(.attribute(.creationTimestamp), .greaterOrEqual, .number(0))).count == 4)
        #expect(try await names(clause(.attribute(.creationTimestamp), .less, .number(0))).isEmpty)
        #expect(try await names(clause(.attribute(.lastUpdatedTimestamp), .greater, .string("2000-01-01T00:00:00Z"))).count == 4)
        let wine = try #require(try await store.model(named: "wine"))
        let recent = try await names(clause(.attribute(.creationTimestamp), .greaterOrEqual, .number(Double(Timestamp.millis(wine.createdAt)))))
        #expect(recent.isSuperset(of: ["wine", "WINE-red"]))

        let team = SearchKey.tag("team")
        #expect(try await names(clause(team, .equal, .string("vision"))) == ["iris", "iris-v2"])
        #expect(try await names(clause(team, .notEqual, .string("vision"))) == ["wine"])
        #expect(try await names(clause(team, .like, .string("vis%"))) == ["iris", "iris-v2"])
        #expect(try await names(clause(team, .like, .string("VIS%"))).isEmpty)
        #expect(try await names(clause(team, .ilike, .string("VIS%"))) == ["iris", "iris-v2"])
        #expect(try await names(clause(team, .in, .list(["tabular", "audio"]))) == ["wine"])
        #expect(try await names(clause(team, .notIn, .list(["tabular"]))) == ["iris", "iris-v2"])
        #expect(try await names(clause(.tag("tier"), .equal, .string("gold")), clause(team, .equal, .string("vision"))) == ["iris"])
        #expect(try await names(clause(.tag("missing"), .notEqual, .string("x"))).isEmpty)

        // Default order: by name.
        let ordered = try await modelNames(store, clause(name, .in, .list(["wine", "iris", "iris-v2"])))
        #expect(ordered == ["iris", "iris-v2", "wine"])
        let descending = try await modelNames(
            store, clause(name, .in, .list(["wine", "iris", "iris-v2"])), order: [SearchOrder(key: name, ascending: false)])
        #expect(descending == ["wine", "iris-v2", "iris"])
        let byTier = try await modelNames(
            store, clause(name, .in, .list(["wine", "iris", "iris-v2"])), order: [SearchOrder(key: .tag("tier"), ascending: false)])
        #expect(byTier == ["iris", "iris-v2", "wine"])
        let byCreation = try await store.searchModels(SearchQuery(order: [SearchOrder(key: .attribute(.creationTimestamp), ascending: true)])).items
        #expect(zip(byCreation, byCreation.dropFirst()).allSatisfy { $0.createdAt <= $1.createdAt })
        // Results carry tags, aliases and the latest version.
        let iris = try #require(try await store.searchModels(SearchQuery(filter: filter(clause(name, .equal, .string("iris"))))).items.first)
        #expect(iris.tags == ["team": "vision", "tier": "gold"])
        #expect(iris.latestVersion == 3)
    }

    /// Versions by every attribute, with every operator that fits its type.
    public static func searchVersionAttributes(_ store: any MetadataStore) async throws {
        try await searchFixture(store)
        func refs(_ clauses: SearchClause...) async throws -> Set<String> {
            Set(try await store.searchVersions(SearchQuery(filter: SearchFilter(clauses: clauses), limit: 100)).items.map(\.reference))
        }
        let all: Set<String> = ["iris@1", "iris@2", "iris@3", "wine@1", "wine@2"]
        #expect(try await refs() == all)
        let name = SearchKey.attribute(.name)
        #expect(try await refs(clause(name, .equal, .string("iris"))) == ["iris@1", "iris@2", "iris@3"])
        #expect(try await refs(clause(name, .notEqual, .string("iris"))) == ["wine@1", "wine@2"])
        #expect(try await refs(clause(name, .like, .string("i%"))) == ["iris@1", "iris@2", "iris@3"])
        #expect(try await refs(clause(name, .like, .string("WINE"))).isEmpty)
        #expect(try await refs(clause(name, .ilike, .string("WINE"))) == ["wine@1", "wine@2"])
        #expect(try await refs(clause(name, .in, .list(["wine", "nope"]))) == ["wine@1", "wine@2"])
        #expect(try await refs(clause(name, .notIn, .list(["wine"]))) == ["iris@1", "iris@2", "iris@3"])

        let version = SearchKey.attribute(.version)
        #expect(try await refs(clause(version, .equal, .number(2))) == ["iris@2", "wine@2"])
        #expect(try await refs(clause(version, .notEqual, .number(1))) == ["iris@2", "iris@3", "wine@2"])
        #expect(try await refs(clause(version, .greater, .number(1))) == ["iris@2", "iris@3", "wine@2"])
        #expect(try await refs(clause(version, .greaterOrEqual, .number(2))) == ["iris@2", "iris@3", "wine@2"])
        #expect(try await refs(clause(version, .less, .number(2))) == ["iris@1", "wine@1"])
        #expect(try await refs(clause(version, .lessOrEqual, .number(1))) == ["iris@1", "wine@1"])
        #expect(try await refs(clause(version, .in, .list(["1", "3"]))) == ["iris@1", "iris@3", "wine@1"])
        #expect(try await refs(clause(version, .notIn, .list(["1", "3"]))) == ["iris@2", "wine@2"])
        #expect(try await refs(clause(version, .equal, .string("3"))) == ["iris@3"])
        #expect(try await refs(clause(name, .equal, .string("iris")), clause(version, .greater, .number(1))) == ["iris@2", "iris@3"])

        let run = SearchKey.attribute(.runId)
        #expect(try await refs(clause(run, .equal, .string("run-1"))) == ["iris@1"])
        #expect(try await refs(clause(run, .like, .string("run-%"))) == ["iris@1", "iris@2", "wine@1"])
        #expect(try await refs(clause(run, .in, .list(["run-2", "run-3"]))) == ["iris@2", "wine@1"])
        #expect(try await refs(clause(run, .notEqual, .string("run-1"))).isSuperset(of: ["iris@2", "wine@1"]))

        let source = SearchKey.attribute(.source)
        #expect(try await refs(clause(source, .like, .string("s3://bucket/%"))) == ["iris@1", "iris@2"])
        #expect(try await refs(clause(source, .equal, .string("file:///tmp/iris3"))) == ["iris@3"])
        #expect(try await refs(clause(source, .ilike, .string("S3://OTHER/%"))) == ["wine@1", "wine@2"])

        let status = SearchKey.attribute(.status)
        #expect(try await refs(clause(status, .equal, .string("PENDING"))) == ["iris@3"])
        #expect(try await refs(clause(status, .notEqual, .string("READY"))) == ["iris@3"])
        #expect(try await refs(clause(status, .in, .list(["READY", "FAILED"]))) == ["iris@1", "iris@2", "wine@1", "wine@2"])

        let stage = SearchKey.attribute(.stage)
        #expect(try await refs(clause(stage, .equal, .string("Production"))) == ["iris@1"])
        #expect(try await refs(clause(stage, .notEqual, .string("None"))) == ["iris@1", "wine@1"])
        #expect(try await refs(clause(stage, .notIn, .list(["None", "Archived"]))) == ["iris@1", "wine@1"])

        let description = SearchKey.attribute(.description)
        #expect(try await refs(clause(description, .like, .string("%trees%"))) == ["iris@2"])
        #expect(try await refs(clause(description, .like, .string("%Trees%"))).isEmpty)
        #expect(try await refs(clause(description, .ilike, .string("%TREES%"))) == ["iris@2"])
        #expect(try await refs(clause(description, .equal, .string("baseline"))) == ["iris@1"])

        let user = SearchKey.attribute(.userId)
        #expect(try await refs(clause(user, .equal, .string(carol))) == ["wine@1", "wine@2"])
        #expect(try await refs(clause(user, .notIn, .list([carol, bob]))) == ["iris@1", "iris@3"])

        let created = SearchKey.attribute(.creationTimestamp)
        let wine1 = try #require(try await store.version(model: "wine", version: 1))
        let since = try await store.searchVersions(
            SearchQuery(filter: filter(clause(created, .greaterOrEqual, .number(Double(Timestamp.millis(wine1.createdAt)))))))
        #expect(Set(since.items.map(\.reference)).isSuperset(of: ["wine@1", "wine@2"]))
        #expect(since.items.allSatisfy { $0.createdAt >= wine1.createdAt })
        #expect(try await refs(clause(created, .less, .number(0))).isEmpty)
        #expect(try await refs(clause(created, .greater, .string("2000-01-01T00:00:00Z"))) == all)
        #expect(try await refs(clause(created, .less, .string("2000-01-01"))).isEmpty)
        let iris1 = try #require(try await store.version(model: "iris", version: 1))
        let updated = try await refs(clause(.attribute(.lastUpdatedTimestamp), .greaterOrEqual, .number(Double(Timestamp.millis(iris1.updatedAt)))))
        #expect(updated.contains("iris@1"))
        #expect(updated.contains("wine@1"))
    }

    /// Versions by tag, with every string operator; `!=` and `NOT IN` need the tag to be there.
    public static func searchVersionTags(_ store: any MetadataStore) async throws {
        try await searchFixture(store)
        func refs(_ clauses: SearchClause...) async throws -> Set<String> {
            Set(try await store.searchVersions(SearchQuery(filter: SearchFilter(clauses: clauses), limit: 100)).items.map(\.reference))
        }
        let env = SearchKey.tag("env")
        #expect(try await refs(clause(env, .equal, .string("prod"))) == ["iris@1", "wine@1"])
        #expect(try await refs(clause(env, .notEqual, .string("prod"))) == ["iris@2", "iris@3"])
        #expect(try await refs(clause(env, .like, .string("pro%"))) == ["iris@1", "wine@1"])
        #expect(try await refs(clause(env, .like, .string("PRO%"))).isEmpty)
        #expect(try await refs(clause(env, .ilike, .string("PRO%"))) == ["iris@1", "wine@1"])
        #expect(try await refs(clause(env, .like, .string("_ev"))) == ["iris@3"])
        #expect(try await refs(clause(env, .like, .string("%a%"))) == ["iris@2"])
        #expect(try await refs(clause(env, .in, .list(["prod", "dev"]))) == ["iris@1", "iris@3", "wine@1"])
        #expect(try await refs(clause(env, .notIn, .list(["prod"]))) == ["iris@2", "iris@3"])
        #expect(try await refs(clause(.tag("owner"), .ilike, .string("alice"))) == ["iris@1"])
        #expect(try await refs(clause(.tag("owner"), .equal, .string("alice"))).isEmpty)
        #expect(try await refs(clause(env, .equal, .string("prod")), clause(.attribute(.name), .equal, .string("wine"))) == ["wine@1"])
        #expect(try await refs(clause(env, .equal, .string("prod")), clause(.tag("owner"), .equal, .string("carol"))) == ["wine@1"])
        #expect(try await refs(clause(.tag("missing"), .equal, .string("x"))).isEmpty)
        // Model tags do not match version searches.
        #expect(try await refs(clause(.tag("team"), .equal, .string("vision"))).isEmpty)

        try await store.setVersionTag(model: "wine", version: 2, key: "env", value: "prod", immutable: false, actor: alice)
        #expect(try await refs(clause(env, .equal, .string("prod"))) == ["iris@1", "wine@1", "wine@2"])
        try await store.deleteVersionTag(model: "iris", version: 1, key: "env", immutable: false, actor: alice)
        #expect(try await refs(clause(env, .equal, .string("prod"))) == ["wine@1", "wine@2"])
    }

    /// Versions by hyper-parameter (as strings), with every string operator.
    public static func searchParams(_ store: any MetadataStore) async throws {
        try await searchFixture(store)
        func refs(_ clauses: SearchClause...) async throws -> Set<String> {
            Set(try await store.searchVersions(SearchQuery(filter: SearchFilter(clauses: clauses), limit: 100)).items.map(\.reference))
        }
        let depth = SearchKey.param("max_depth")
        #expect(try await refs(clause(depth, .equal, .string("5"))) == ["iris@1"])
        #expect(try await refs(clause(depth, .notEqual, .string("5"))) == ["iris@2"])
        #expect(try await refs(clause(depth, .like, .string("1%"))) == ["iris@2"])
        #expect(try await refs(clause(depth, .in, .list(["5", "10"]))) == ["iris@1", "iris@2"])
        #expect(try await refs(clause(depth, .notIn, .list(["5"]))) == ["iris@2"])
        #expect(try await refs(clause(.param("criterion"), .ilike, .string("GINI"))) == ["iris@1"])
        #expect(try await refs(clause(.param("criterion"), .like, .string("GINI"))).isEmpty)
        #expect(try await refs(clause(.param("alpha"), .equal, .string("0.5"))) == ["wine@1"])
        #expect(try await refs(clause(.param("nope"), .equal, .string("1"))).isEmpty)
    }

    /// Versions by metric, compared as numbers with every comparison.
    public static func searchMetrics(_ store: any MetadataStore) async throws {
        try await searchFixture(store)
        func refs(_ clauses: SearchClause...) async throws -> Set<String> {
            Set(try await store.searchVersions(SearchQuery(filter: SearchFilter(clauses: clauses), limit: 100)).items.map(\.reference))
        }
        let accuracy = SearchKey.metric("accuracy")
        #expect(try await refs(clause(accuracy, .greater, .number(0.9))) == ["iris@2"])
        #expect(try await refs(clause(accuracy, .greaterOrEqual, .number(0.9))) == ["iris@1", "iris@2"])
        #expect(try await refs(clause(accuracy, .less, .number(0.9))) == ["wine@1"])
        #expect(try await refs(clause(accuracy, .lessOrEqual, .number(0.5))) == ["wine@1"])
        #expect(try await refs(clause(accuracy, .equal, .number(0.95))) == ["iris@2"])
        #expect(try await refs(clause(accuracy, .notEqual, .number(0.95))) == ["iris@1", "wine@1"])
        #expect(try await refs(clause(accuracy, .in, .list(["0.9", "0.5"]))) == ["iris@1", "wine@1"])
        #expect(try await refs(clause(accuracy, .notIn, .list(["0.9"]))) == ["iris@2", "wine@1"])
        #expect(try await refs(clause(accuracy, .greater, .string("0.9"))) == ["iris@2"])
        #expect(try await refs(clause(.metric("rmse"), .less, .number(0.65))) == ["wine@2"])
        #expect(try await refs(clause(.metric("rmse"), .greater, .number(-1))) == ["wine@1", "wine@2"])
        #expect(try await refs(clause(accuracy, .greaterOrEqual, .number(0.5)), clause(.metric("f1"), .greater, .number(0.5))) == ["iris@1"])
        #expect(try await refs(clause(accuracy, .greater, .number(0.8)), clause(.tag("env"), .equal, .string("staging"))) == ["iris@2"])
        #expect(try await refs(clause(.metric("nope"), .greater, .number(0))).isEmpty)
    }

    /// Filters that cannot mean anything are `invalidArgument`, with a message naming the key.
    public static func searchRejectsInvalidFilters(_ store: any MetadataStore) async throws {
        try await searchFixture(store)
        func versions(_ clause: SearchClause, order: [SearchOrder] = []) async {
            await expectError(.invalidArgument) {
                _ = try await store.searchVersions(SearchQuery(filter: filter(clause), order: order))
            }
        }
        func models(_ clause: SearchClause?, order: [SearchOrder] = []) async {
            await expectError(.invalidArgument) {
                _ = try await store.searchModels(SearchQuery(filter: SearchFilter(clauses: clause.map { [$0] } ?? []), order: order))
            }
        }
        await versions(clause(.tag("env"), .greater, .string("a")))
        await versions(clause(.param("max_depth"), .lessOrEqual, .string("5")))
        await versions(clause(.metric("accuracy"), .like, .string("0.9%")))
        await versions(clause(.metric("accuracy"), .ilike, .string("0.9")))
        await versions(clause(.metric("accuracy"), .equal, .string("high")))
        await versions(clause(.attribute(.version), .like, .string("1")))
        await versions(clause(.attribute(.version), .in, .list(["1", "x"])))
        await versions(clause(.attribute(.creationTimestamp), .greater, .string("yesterday")))
        await versions(clause(.attribute(.name), .equal, .number(5)))
        await versions(clause(.tag("env"), .in, .list((0...1000).map(String.init))))
        await models(clause(.metric("accuracy"), .greater, .number(0.5)))
        await models(clause(.param("alpha"), .equal, .string("0.5")))
        await models(clause(.attribute(.version), .equal, .number(1)))
        await models(clause(.attribute(.runId), .equal, .string("run-1")))
        await models(clause(.attribute(.status), .equal, .string("READY")))
        await models(nil, order: [SearchOrder(key: .metric("accuracy"), ascending: false)])
        await models(nil, order: [SearchOrder(key: .attribute(.stage), ascending: false)])
    }

    /// `ORDER BY` attributes, tags, parameters and metrics; versions without the key come last in either direction.
    public static func searchOrdering(_ store: any MetadataStore) async throws {
        try await searchFixture(store)
        let accuracy = SearchKey.metric("accuracy")
        #expect(
            try await references(store, order: [SearchOrder(key: accuracy, ascending: false)]) == ["iris@2", "iris@1", "wine@1", "iris@3", "wine@2"])
        #expect(try await references(store, order: [SearchOrder(key: accuracy, ascending: true)]).prefix(3) == ["wine@1", "iris@1", "iris@2"])
        #expect(Set(try await references(store, order: [SearchOrder(key: accuracy, ascending: true)]).suffix(2)) == ["iris@3", "wine@2"])
        let byNameThenVersion = [SearchOrder(key: .attribute(.name), ascending: true), SearchOrder(key: .attribute(.version), ascending: false)]
        #expect(try await references(store, order: byNameThenVersion) == ["iris@3", "iris@2", "iris@1", "wine@2", "wine@1"])
        let byNameDescThenVersionAsc = [
            SearchOrder(key: .attribute(.name), ascending: false), SearchOrder(key: .attribute(.version), ascending: true),
        ]
        #expect(try await references(store, order: byNameDescThenVersionAsc) == ["wine@1", "wine@2", "iris@1", "iris@2", "iris@3"])

        let byVersion = try await store.searchVersions(SearchQuery(order: [SearchOrder(key: .attribute(.version), ascending: true)])).items
        #expect(byVersion.map(\.version) == [1, 1, 2, 2, 3])
        let byUser = try await store.searchVersions(SearchQuery(order: [SearchOrder(key: .attribute(.userId), ascending: true)])).items
        #expect(byUser.map(\.createdBy) == [alice, alice, bob, carol, carol])
        let byEnv = try await store.searchVersions(SearchQuery(order: [SearchOrder(key: .tag("env"), ascending: true)])).items
        #expect(byEnv.map { $0.tags["env"] } == ["dev", "prod", "prod", "staging", nil])
        let byDepth = try await references(store, order: [SearchOrder(key: .param("max_depth"), ascending: false)])
        #expect(byDepth.prefix(2) == ["iris@1", "iris@2"])
        let byRmse = try await references(
            store, clause(.attribute(.name), .equal, .string("wine")), order: [SearchOrder(key: .metric("rmse"), ascending: true)])
        #expect(byRmse == ["wine@2", "wine@1"])

        // Default order: newest first, then by version, highest first.
        #expect(try await references(store, clause(.attribute(.name), .equal, .string("iris"))) == ["iris@3", "iris@2", "iris@1"])
        let newestFirst = try await store.searchVersions(SearchQuery()).items
        #expect(newestFirst.count == 5)
        #expect(
            zip(newestFirst, newestFirst.dropFirst()).allSatisfy {
                $0.createdAt > $1.createdAt || ($0.createdAt == $1.createdAt && $0.version >= $1.version)
            }
        )
        let oldestFirst = try await store.searchVersions(SearchQuery(order: [SearchOrder(key: .attribute(.creationTimestamp), ascending: true)]))
            .items
        #expect(zip(oldestFirst, oldestFirst.dropFirst()).allSatisfy { $0.createdAt <= $1.createdAt })
        let byUpdate = try await store.searchVersions(SearchQuery(order: [SearchOrder(key: .attribute(.lastUpdatedTimestamp), ascending: false)]))
            .items
        #expect(zip(byUpdate, byUpdate.dropFirst()).allSatisfy { $0.updatedAt >= $1.updatedAt })
    }

    /// Paging walks every result exactly once, in order, and the last page has no token.
    public static func searchPaging(_ store: any MetadataStore) async throws {
        _ = try await store.createModel(NewModel(name: "paged"), actor: alice)
        for index in 0..<23 {
            _ = try await store.createVersion(
                NewVersion(model: "paged", tags: ["parity": index % 2 == 0 ? "even" : "odd"], lineage: Lineage(metrics: ["m": Double(index % 4)])),
                actor: alice
            )
        }
        for index in 0..<7 {
            _ = try await store.createModel(NewModel(name: "model-\(index)", tags: ["group": "a"]), actor: alice)
        }

        func walkVersions(_ query: SearchQuery) async throws -> (items: [String], pages: Int) {
            var query = query
            var items: [String] = []
            var pages = 0
            repeat {
                let page = try await store.searchVersions(query)
                #expect(page.items.count <= query.limit)
                if page.nextPageToken != nil { #expect(page.items.count == query.limit) }
                items += page.items.map(\.reference)
                pages += 1
                query.pageToken = page.nextPageToken
            } while query.pageToken != nil && pages < 100
            return (items, pages)
        }

        let everything = try await references(store)
        #expect(everything.count == 23)
        let walked = try await walkVersions(SearchQuery(limit: 5))
        #expect(walked.items == everything)
        #expect(walked.pages == 5)

        let ordered = SearchQuery(order: [SearchOrder(key: .metric("m"), ascending: false)], limit: 4)
        let single = try await references(store, order: ordered.order)
        let paged = try await walkVersions(ordered)
        #expect(paged.items == single)
        #expect(Set(paged.items).count == 23)

        // Exactly two full pages: no empty third page.
        let odd = SearchQuery(filter: filter(clause(.tag("parity"), .equal, .string("odd"))), limit: 11)
        let oddPages = try await walkVersions(odd)
        #expect(oddPages.items.count == 11)
        #expect(oddPages.pages == 1)
        let even = SearchQuery(filter: filter(clause(.tag("parity"), .equal, .string("even"))), limit: 6)
        let evenPages = try await walkVersions(even)
        #expect(evenPages.items.count == 12)
        #expect(evenPages.pages == 2)

        var modelQuery = SearchQuery(filter: filter(clause(.tag("group"), .equal, .string("a"))), limit: 3)
        var models: [String] = []
        var pages = 0
        repeat {
            let page = try await store.searchModels(modelQuery)
            models += page.items.map(\.name)
            modelQuery.pageToken = page.nextPageToken
            pages += 1
        } while modelQuery.pageToken != nil && pages < 100
        #expect(models == (0..<7).map { "model-\($0)" })
        #expect(pages == 3)
    }

    /// A page token from another query, or one that was never issued, is `invalidArgument`.
    public static func searchInvalidPageTokens(_ store: any MetadataStore) async throws {
        _ = try await store.createModel(NewModel(name: "paged"), actor: alice)
        for _ in 0..<5 { _ = try await store.createVersion(NewVersion(model: "paged", tags: ["k": "v"]), actor: alice) }
        for index in 0..<5 { _ = try await store.createModel(NewModel(name: "m\(index)"), actor: alice) }

        let query = SearchQuery(filter: filter(clause(.tag("k"), .equal, .string("v"))), limit: 2)
        let token = try #require(try await store.searchVersions(query).nextPageToken)
        var next = query
        next.pageToken = token
        #expect(try await store.searchVersions(next).items.count == 2)

        for garbage in ["garbage", "eyJvIjoyfQ", "%%%", String(repeating: "A", count: 5000), token + "x", String(token.dropLast())] {
            var bad = query
            bad.pageToken = garbage
            await expectError(.invalidArgument) { _ = try await store.searchVersions(bad) }
        }
        var otherFilter = SearchQuery(filter: filter(clause(.tag("k"), .equal, .string("w"))), limit: 2)
        otherFilter.pageToken = token
        await expectError(.invalidArgument) { _ = try await store.searchVersions(otherFilter) }
        var otherOrder = query
        otherOrder.order = [SearchOrder(key: .attribute(.version), ascending: true)]
        otherOrder.pageToken = token
        await expectError(.invalidArgument) { _ = try await store.searchVersions(otherOrder) }
        await expectError(.invalidArgument) { _ = try await store.searchModels(SearchQuery(filter: query.filter, limit: 2, pageToken: token)) }

        let modelToken = try #require(try await store.searchModels(SearchQuery(limit: 2)).nextPageToken)
        await expectError(.invalidArgument) { _ = try await store.searchVersions(SearchQuery(limit: 2, pageToken: modelToken)) }
        #expect(try await store.searchModels(SearchQuery(limit: 2, pageToken: modelToken)).items.count == 2)
    }

    /// Limits run from 1 to 10,000.
    public static func searchLimitBounds(_ store: any MetadataStore) async throws {
        try await seed(store, model: "iris", versions: 3)
        for limit in [0, -1, 10_001, Int.max] {
            await expectError(.invalidArgument) { _ = try await store.searchVersions(SearchQuery(limit: limit)) }
            await expectError(.invalidArgument) { _ = try await store.searchModels(SearchQuery(limit: limit)) }
        }
        let one = try await store.searchVersions(SearchQuery(limit: 1))
        #expect(one.items.count == 1)
        #expect(one.nextPageToken != nil)
        let most = try await store.searchVersions(SearchQuery(limit: 10_000))
        #expect(most.items.count == 3)
        #expect(most.nextPageToken == nil)
        #expect(try await store.searchModels(SearchQuery(limit: 10_000)).items.count == 1)
    }

    /// Quotes, wildcards, SQL, Unicode and long values are stored as given and matched literally by `=`.
    public static func hostileStrings(_ store: any MetadataStore) async throws {
        let values = [
            "it's \"quoted\"", "100%", "1000", "a_b", "axb", "'; DROP TABLE models; --", "Zürich — 東京 🚀", "[x]*?", "x", "back\\slash", "",
            String(repeating: "long value ", count: 1000),
        ]
        let key = "my key.with \"dots\" and 'quotes'"
        _ = try await store.createModel(NewModel(name: "hostile", description: values[0], tags: [key: values[5]]), actor: "o'brien")
        for value in values {
            _ = try await store.createVersion(
                NewVersion(
                    model: "hostile", source: value, runId: value.isEmpty ? nil : value, description: value, tags: [key: value],
                    lineage: Lineage(parameters: [key: value])),
                actor: "o'brien"
            )
        }
        let model = try #require(try await store.model(named: "hostile"))
        #expect(model.description == values[0])
        #expect(model.tags == [key: values[5]])
        #expect(model.createdBy == "o'brien")
        for (index, value) in values.enumerated() {
            let version = try #require(try await store.version(model: "hostile", version: index + 1))
            #expect(version.tags == [key: value])
            #expect(version.source == value)
            #expect(version.description == value)
            #expect(version.lineage.parameters == [key: value])
            for searchKey in [SearchKey.tag(key), .param(key), .attribute(.source), .attribute(.description)] {
                #expect(
                    try await references(store, clause(searchKey, .equal, .string(value))) == ["hostile@\(index + 1)"],
                    "\(searchKey) = \(value.prefix(40))")
            }
        }
        func refs(_ op: SearchOperator, _ value: SearchValue) async throws -> Set<String> {
            Set(try await references(store, clause(.tag(key), op, value)))
        }
        let number = { (value: String) in "hostile@\(values.firstIndex(of: value)! + 1)" }
        #expect(try await refs(.like, .string("100%")) == [number("100%"), number("1000")])
        #expect(try await refs(.like, .string("a_b")) == [number("a_b"), number("axb")])
        #expect(try await refs(.like, .string("[x]*?")) == [number("[x]*?")])
        #expect(try await refs(.like, .string("%DROP TABLE%")) == [number("'; DROP TABLE models; --")])
        #expect(try await refs(.like, .string("%東京%")) == [number("Zürich — 東京 🚀")])
        #expect(try await refs(.ilike, .string("it'S \"QUOTED\"")) == [number("it's \"quoted\"")])
        #expect(try await refs(.like, .string("back\\slash")) == [number("back\\slash")])
        #expect(try await refs(.in, .list(["'; DROP TABLE models; --", "it's \"quoted\""])).count == 2)
        #expect(try await refs(.equal, .string("long value")).isEmpty)
        #expect(try await refs(.like, .string("long value %")) == ["hostile@\(values.count)"])
        #expect(try await store.model(named: "hostile") != nil)
        #expect(
            try await store.searchModels(SearchQuery(filter: filter(clause(.tag(key), .equal, .string(values[5]))))).items.map(\.name) == ["hostile"])
        #expect(
            try await store.searchVersions(SearchQuery(filter: filter(clause(.attribute(.userId), .equal, .string("o'brien"))))).items.count
                == values.count)
    }
}
