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
        // Compiled once outside the transaction so that a malformed query fails before touching the database.
        let (_, _, offset, fingerprint) = try Self.prepare(query, target: .versions)
        return try await read { db in
            func fetchIds(_ plan: SearchCompiler.Plan?) throws -> [Int64] {
                let (sql, arguments) = try SearchCompiler.compile(
                    query, target: .versions, columns: "v.id", limit: query.limit + 1, offset: offset, plan: plan)
                return try Int64.fetchAll(db, sql: sql, arguments: arguments)
            }
            let plan = try Self.versionPlan(db, query, wanted: offset + query.limit + 1)
            var ids = try fetchIds(plan)
            if case .walk(through: .some) = plan, ids.count <= query.limit {
                // The newest versions walked held too few matches: the whole page is not among them.
                ids = try fetchIds(nil)
            }
            let page = Array(ids.prefix(query.limit))
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "\(VersionRecord.select) WHERE v.id IN (SELECT value FROM json_each(?))"), arguments: [Rows.idList(page)])
            let records = Self.ordered(rows.map(VersionRecord.init(row:)), by: page, id: \.id)
            let versions = try Rows.modelVersions(db, records)
            return Page(
                items: versions, nextPageToken: ids.count > query.limit ? PageToken(offset: offset + query.limit, query: fingerprint).encoded : nil)
        }
    }

    public func latestVersionsPerStage(models: [String]) async throws -> [String: [ModelVersion]] {
        // SQLite reads a bound string up to its first NUL; no stored name has one.
        let names = Array(Set(models.filter { !$0.utf8.contains(0) }))
        guard !names.isEmpty else { return [:] }
        return try await read { db in
            var latest: [String: [ModelVersion]] = [:]
            // Bound parameters are limited (32,766 by default); a page of models is far below that, chunks keep any list safe.
            for start in stride(from: 0, to: names.count, by: 10_000) {
                let chunk = Array(names[start..<min(start + 10_000, names.count)])
                // With MAX(), SQLite takes the bare column `id` from the row holding the maximum.
                let ids = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT v.id, MAX(v.version) FROM versions v JOIN models m ON m.id = v.model_id
                        WHERE m.name IN (\(Rows.placeholders(chunk.count))) GROUP BY v.model_id, v.stage
                        """,
                    arguments: StatementArguments(chunk)
                ).map { $0[0] as Int64 }
                guard !ids.isEmpty else { continue }
                let rows = try Row.fetchAll(
                    db, sql: "\(VersionRecord.select) WHERE v.id IN (\(Rows.placeholders(ids.count))) ORDER BY v.model_id, v.version",
                    arguments: StatementArguments(ids))
                for version in try Rows.modelVersions(db, rows.map(VersionRecord.init(row:))) {
                    latest[version.model, default: []].append(version)
                }
            }
            return latest
        }
    }

    /// The fewest matches a clause may have for the search to be driven by it whatever else the search asks.
    static let sparseMatches = 1_000

    /// Chooses how a version search in the default order finds its rows.
    ///
    /// The matches of each tag, parameter and metric clause are counted by an index-only scan that stops at
    /// ``sparseMatches``: a clause with fewer drives the search (its few matches are read and sorted). Otherwise every
    /// clause matches many versions, and the search walks the newest versions in index order, checking each clause by
    /// primary key and stopping at the page's last row; that walk is bounded to the newest `max(2,000, 40 × rows
    /// wanted)` versions (matches down to about 2.5 % of the rows), and when they hold too few matches the caller runs
    /// the search again with the default plan. Nil (the default plan) for searches that have no such clause or ask for
    /// another order.
    static func versionPlan(_ db: Database, _ query: SearchQuery, wanted: Int) throws -> SearchCompiler.Plan? {
        guard query.order.isEmpty || query.order == [SearchOrder(key: .attribute(.creationTimestamp), ascending: false)] else { return nil }
        var sparsest: (index: Int, count: Int)?
        for (index, clause) in query.filter.clauses.enumerated() {
            guard let (sql, arguments) = try SearchCompiler.candidateCount(clause, target: .versions, cap: sparseMatches) else { continue }
            let count = try Int.fetchOne(db, sql: sql, arguments: arguments) ?? 0
            if count < sparsest?.count ?? .max { sparsest = (index, count) }
        }
        guard let sparsest else { return nil }
        if sparsest.count < sparseMatches { return .drive(sparsest.index) }
        let budget = min(max(2_000, 40 * wanted), PageToken.maximumOffset)
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT created_at, version, id FROM versions ORDER BY created_at DESC, version DESC, id DESC LIMIT 1 OFFSET ?"),
            arguments: [budget - 1]
        )
        return .walk(through: row.map { SearchCompiler.Position(createdAt: $0[0], version: $0[1], id: $0[2]) })
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
