import GRDB
public import SlipwayCore
public import SlipwayStore

extension SQLiteMetadataStore {
    public func searchModels(_ query: SearchQuery) async throws -> Page<RegisteredModel> {
        let (sql, arguments, offset, fingerprint) = try Self.prepare(query, target: .models)
        return try await read { db in
            let ids = try Int64.fetchAll(db, sql: sql, arguments: arguments)
            let page = Array(ids.prefix(query.limit))
            let rows = try Row.fetchAll(
                db, sql: "\(ModelRecord.select) WHERE id IN (\(Rows.placeholders(page.count)))", arguments: StatementArguments(page))
            let records = Self.ordered(rows.map(ModelRecord.init(row:)), by: page, id: \.id)
            let models = try Rows.registeredModels(db, records)
            return Page(
                items: models, nextPageToken: ids.count > query.limit ? PageToken(offset: offset + query.limit, query: fingerprint).encoded : nil)
        }
    }

    public func searchVersions(_ query: SearchQuery) async throws -> Page<ModelVersion> {
        let (sql, arguments, offset, fingerprint) = try Self.prepare(query, target: .versions)
        return try await read { db in
            let ids = try Int64.fetchAll(db, sql: sql, arguments: arguments)
            let page = Array(ids.prefix(query.limit))
            let rows = try Row.fetchAll(
                db, sql: "\(VersionRecord.select) WHERE v.id IN (\(Rows.placeholders(page.count)))", arguments: StatementArguments(page)
            )
            let records = Self.ordered(rows.map(VersionRecord.init(row:)), by: page, id: \.id)
            let versions = try Rows.modelVersions(db, records)
            return Page(
                items: versions, nextPageToken: ids.count > query.limit ? PageToken(offset: offset + query.limit, query: fingerprint).encoded : nil)
        }
    }

    /// Checks the limit and the page token and compiles the query.
    ///
    /// The compiled query selects only ids, sorted and cut to one row more than the limit (to know whether a next
    /// page exists); the full rows of the page are read afterwards, so sorting never drags large columns along.
    static func prepare(
        _ query: SearchQuery, target: SearchCompiler.Target
    ) throws -> (sql: String, arguments: StatementArguments, offset: Int, fingerprint: String) {
        guard (1...10_000).contains(query.limit) else {
            throw StoreError(.invalidArgument, "the search limit must be between 1 and 10000, got \(query.limit)")
        }
        let fingerprint = SearchCompiler.fingerprint(query, target: target)
        let offset = try query.pageToken.map { try PageToken.decode($0, fingerprint: fingerprint).offset } ?? 0
        let column = target == .models ? "m.id" : "v.id"
        let (sql, arguments) = try SearchCompiler.compile(query, target: target, columns: column, limit: query.limit + 1, offset: offset)
        return (sql, arguments, offset, fingerprint)
    }

    /// `records` in the order of `ids`.
    static func ordered<Record>(_ records: [Record], by ids: [Int64], id: (Record) -> Int64) -> [Record] {
        let byId = Dictionary(records.map { (id($0), $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byId[$0] }
    }
}
