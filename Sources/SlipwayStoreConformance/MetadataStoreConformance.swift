import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

/// The behaviour every ``MetadataStore`` backend must show, as Swift Testing checks.
///
/// Each case takes a fresh, empty store and records failures with `#expect` / `#require`. A backend's
/// tests run every entry of ``all`` against a new store of their own:
///
/// ```swift
/// @Test(arguments: MetadataStoreConformance.all.map(\.0))
/// func conformance(_ name: String) async throws {
///     let body = try #require(MetadataStoreConformance.all.first { $0.0 == name }?.1)
///     try await body(makeFreshStore())
/// }
/// ```
public enum MetadataStoreConformance {
    /// One conformance case: it gets an empty store.
    public typealias Case = @Sendable (any MetadataStore) async throws -> Void

    /// Every case, by name.
    public static let all: [(String, Case)] = [
        ("modelsRoundTrip", modelsRoundTrip),
        ("modelTags", modelTags),
        ("renameKeepsVersionsAliasesAndHistory", renameKeepsVersionsAliasesAndHistory),
        ("versionRoundTrip", versionRoundTrip),
        ("versionNumbersAreNeverReused", versionNumbersAreNeverReused),
        ("concurrentVersionsGetDistinctNumbers", concurrentVersionsGetDistinctNumbers),
        ("finishVersionOnlyFromPending", finishVersionOnlyFromPending),
        ("readyVersionsAreImmutable", readyVersionsAreImmutable),
        ("stageCompareAndSet", stageCompareAndSet),
        ("concurrentStageTransitionsHaveOneWinner", concurrentStageTransitionsHaveOneWinner),
        ("versionTags", versionTags),
        ("immutableTags", immutableTags),
        ("aliasesAndHistory", aliasesAndHistory),
        ("immutableAliases", immutableAliases),
        ("referentialIntegrityOnDelete", referentialIntegrityOnDelete),
        ("approvalsAreIdempotent", approvalsAreIdempotent),
        ("auditEventsForEveryChange", auditEventsForEveryChange),
        ("failedChangesLeaveNoTrace", failedChangesLeaveNoTrace),
        ("tokens", tokens),
        ("searchModels", searchModels),
        ("searchVersionAttributes", searchVersionAttributes),
        ("searchVersionTags", searchVersionTags),
        ("searchParams", searchParams),
        ("searchMetrics", searchMetrics),
        ("searchRejectsInvalidFilters", searchRejectsInvalidFilters),
        ("searchOrdering", searchOrdering),
        ("searchPaging", searchPaging),
        ("searchInvalidPageTokens", searchInvalidPageTokens),
        ("searchLimitBounds", searchLimitBounds),
        ("hostileStrings", hostileStrings),
        ("predictionsRoundTrip", predictionsRoundTrip),
        ("predictionsSkipDuplicates", predictionsSkipDuplicates),
        ("predictionsPaging", predictionsPaging),
        ("predictionsLimitsAndTokens", predictionsLimitsAndTokens),
        ("feedbackAttachesToPrimary", feedbackAttachesToPrimary),
        ("predictionsOfOtherEndpointsInvisible", predictionsOfOtherEndpointsInvisible),
        ("hostilePredictionStrings", hostilePredictionStrings),
    ] + rolloutCases + datasetCases

    // MARK: Helpers

    static let alice = "alice"
    static let bob = "bob"

    static let digestA = Digest(of: Data("artifact a".utf8))
    static let digestB = Digest(of: Data("artifact b".utf8))

    /// Expects `body` to throw a Slipway error of `kind` whose message contains every one of `fragments`.
    static func expectError(
        _ kind: ErrorKind, containing fragments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("expected a \(kind.rawValue) error, but the call succeeded", sourceLocation: sourceLocation)
        } catch let error as any SlipwayError {
            #expect(error.kind == kind, "expected \(kind.rawValue), got \(error.kind.rawValue): \(error.message)", sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(error.message.contains(fragment), "'\(error.message)' should mention '\(fragment)'", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a \(kind.rawValue) error, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Creates a model and `count` PENDING versions of it.
    @discardableResult
    static func seed(_ store: any MetadataStore, model: String, versions count: Int = 0, actor: String = alice) async throws -> [ModelVersion] {
        _ = try await store.createModel(NewModel(name: model), actor: actor)
        var versions: [ModelVersion] = []
        for _ in 0..<count {
            versions.append(try await store.createVersion(NewVersion(model: model), actor: actor))
        }
        return versions
    }

    static func ready(_ model: String, digest: Digest = digestA, tags: [String: String] = [:], lineage: Lineage = Lineage()) -> NewVersion {
        NewVersion(
            model: model, source: "file:///tmp/\(model)", tags: tags, lineage: lineage, status: .ready, artifactDigest: digest, artifactSize: 42)
    }

    static func filter(_ clauses: SearchClause...) -> SearchFilter {
        SearchFilter(clauses: clauses)
    }

    static func clause(_ key: SearchKey, _ op: SearchOperator, _ value: SearchValue) -> SearchClause {
        SearchClause(key: key, op: op, value: value)
    }

    /// `model@version` of every version matching a filter (one page of up to 10,000), in result order.
    static func references(_ store: any MetadataStore, _ clauses: SearchClause..., order: [SearchOrder] = []) async throws -> [String] {
        try await store.searchVersions(SearchQuery(filter: SearchFilter(clauses: clauses), order: order, limit: 10_000)).items.map(\.reference)
    }

    /// Names of the models matching a filter, in result order.
    static func modelNames(_ store: any MetadataStore, _ clauses: SearchClause..., order: [SearchOrder] = []) async throws -> [String] {
        try await store.searchModels(SearchQuery(filter: SearchFilter(clauses: clauses), order: order, limit: 10_000)).items.map(\.name)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ json: String?, sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
        let text = try #require(json, sourceLocation: sourceLocation)
        return try SlipwayJSON.decoder().decode(type, from: Data(text.utf8))
    }
}
