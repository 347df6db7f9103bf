import Foundation
import GRDB
import SlipwayCore
import SlipwayStore

/// Reading and writing rows inside a transaction.
enum Rows {
    // MARK: Models

    static func model(_ db: Database, named name: String) throws -> ModelRecord? {
        // SQLite reads a bound string up to its first NUL: "a\0b" would find (and delete) "a". No stored name has a NUL.
        guard !name.utf8.contains(0) else { return nil }
        return try Row.fetchOne(db.cachedStatement(sql: "\(ModelRecord.select) WHERE name = ?"), arguments: [name]).map(ModelRecord.init(row:))
    }

    static func requireModel(_ db: Database, named name: String) throws -> ModelRecord {
        guard let model = try model(db, named: name) else { throw StoreError.modelNotFound(name) }
        return model
    }

    /// The domain values of model rows, with their tags, aliases and latest version (three queries in all).
    static func registeredModels(_ db: Database, _ records: [ModelRecord]) throws -> [RegisteredModel] {
        guard !records.isEmpty else { return [] }
        let ids = records.map(\.id)
        let marks = placeholders(ids.count)
        var tags: [Int64: [String: String]] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT model_id, key, value FROM model_tags WHERE model_id IN (\(marks))", arguments: StatementArguments(ids))
        {
            tags[row[0], default: [:]][row[1]] = row[2] as String
        }
        var aliases: [Int64: [String: Int]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: "SELECT a.model_id, a.alias, v.version FROM aliases a JOIN versions v ON v.id = a.version_id WHERE a.model_id IN (\(marks))",
            arguments: StatementArguments(ids)
        ) {
            aliases[row[0], default: [:]][row[1]] = row[2] as Int
        }
        var latest: [Int64: Int] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT model_id, MAX(version) FROM versions WHERE model_id IN (\(marks)) GROUP BY model_id", arguments: StatementArguments(ids)
        ) {
            latest[row[0]] = row[1] as Int
        }
        return records.map { record in
            RegisteredModel(
                name: record.name, description: record.description, tags: tags[record.id] ?? [:], aliases: aliases[record.id] ?? [:],
                latestVersion: latest[record.id], createdAt: Timestamp.date(millis: record.createdAt),
                updatedAt: Timestamp.date(millis: record.updatedAt), createdBy: record.createdBy
            )
        }
    }

    static func registeredModel(_ db: Database, id: Int64) throws -> RegisteredModel {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "\(ModelRecord.select) WHERE id = ?"), arguments: [id]) else {
            throw StoreError(.internal, "registered model #\(id) vanished during the transaction")
        }
        return try registeredModels(db, [ModelRecord(row: row)])[0]
    }

    static func touchModel(_ db: Database, id: Int64, at: Int64) throws {
        try db.cachedStatement(sql: "UPDATE models SET updated_at = ? WHERE id = ?").execute(arguments: [at, id])
    }

    // MARK: Versions

    static func version(_ db: Database, modelId: Int64, number: Int) throws -> VersionRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "\(VersionRecord.select) WHERE v.model_id = ? AND v.version = ?"), arguments: [modelId, number])
            .map(VersionRecord.init(row:))
    }

    static func requireVersion(_ db: Database, model name: String, number: Int) throws -> VersionRecord {
        guard let model = try model(db, named: name), let version = try version(db, modelId: model.id, number: number) else {
            throw StoreError.versionNotFound(name, number)
        }
        return version
    }

    static func versionRecord(_ db: Database, id: Int64) throws -> VersionRecord {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "\(VersionRecord.select) WHERE v.id = ?"), arguments: [id]) else {
            throw StoreError(.internal, "model version #\(id) vanished during the transaction")
        }
        return VersionRecord(row: row)
    }

    /// The domain values of version rows with their tags and aliases (two extra queries in all).
    static func modelVersions(_ db: Database, _ records: [VersionRecord]) throws -> [ModelVersion] {
        guard !records.isEmpty else { return [] }
        let ids = idList(records.map(\.id))
        var tags: [Int64: [String: String]] = [:]
        for row in try Row.fetchAll(
            db.cachedStatement(sql: "SELECT version_id, key, value FROM version_tags WHERE version_id IN (SELECT value FROM json_each(?))"),
            arguments: [ids])
        {
            tags[row[0], default: [:]][row[1]] = row[2] as String
        }
        var aliases: [Int64: [String]] = [:]
        for row in try Row.fetchAll(
            db.cachedStatement(sql: "SELECT version_id, alias FROM aliases WHERE version_id IN (SELECT value FROM json_each(?)) ORDER BY alias"),
            arguments: [ids]
        ) {
            aliases[row[0], default: []].append(row[1])
        }
        let lineages = try lineages(records)
        return try zip(records, lineages).map { record, lineage in
            guard let status = VersionStatus(rawValue: record.status) else {
                throw StoreError(.internal, "model version '\(record.model)@\(record.version)' has an unknown status '\(record.status)'")
            }
            return ModelVersion(
                model: record.model, version: record.version, status: status, statusMessage: record.statusMessage, stage: record.stage,
                artifactDigest: record.artifactDigest.flatMap { Digest($0) }, artifactSize: record.artifactSize, source: record.source,
                runId: record.runId.isEmpty ? nil : record.runId, description: record.description, tags: tags[record.id] ?? [:],
                lineage: lineage, aliases: aliases[record.id] ?? [], createdAt: Timestamp.date(millis: record.createdAt),
                updatedAt: Timestamp.date(millis: record.updatedAt), createdBy: record.createdBy
            )
        }
    }

    /// The decoded lineages of `records`, in their order.
    ///
    /// Each is read by ``LineageReader``, which is several times faster than `JSONDecoder`; a document it leaves
    /// alone is decoded by `JSONDecoder`, so that the error names the version whose lineage is unreadable.
    static func lineages(_ records: [VersionRecord]) throws -> [Lineage] {
        var decoder: JSONDecoder?
        return try records.map { record in
            if let lineage = LineageReader.read(record.lineage) { return lineage }
            let slow = decoder ?? SlipwayJSON.decoder()
            decoder = slow
            do {
                return try slow.decode(Lineage.self, from: Data(record.lineage.utf8))
            } catch {
                throw StoreError(.internal, "the stored lineage of model version '\(record.model)@\(record.version)' cannot be read: \(error)")
            }
        }
    }

    static func modelVersion(_ db: Database, _ record: VersionRecord) throws -> ModelVersion {
        try modelVersions(db, [record])[0]
    }

    static func modelVersion(_ db: Database, id: Int64) throws -> ModelVersion {
        try modelVersion(db, versionRecord(db, id: id))
    }

    /// A version with the approvals and alias periods of its lineage filled in.
    static func detailedVersion(_ db: Database, _ record: VersionRecord) throws -> ModelVersion {
        var version = try modelVersion(db, record)
        let approvers = try String.fetchAll(
            db.cachedStatement(sql: "SELECT approver FROM approvals WHERE version_id = ? ORDER BY id"), arguments: [record.id]
        )
        for approver in approvers where !version.lineage.approvedBy.contains(approver) {
            version.lineage.approvedBy.append(approver)
        }
        version.lineage.deployments += try deployments(db, modelId: record.modelId, version: record.version)
        return version
    }

    /// The periods during which an alias of the model pointed at `version`, from the alias history.
    static func deployments(_ db: Database, modelId: Int64, version: Int) throws -> [DeploymentRecord] {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT alias, from_version, to_version, at FROM alias_events
                    WHERE model_id = ? AND (from_version = ? OR to_version = ?) ORDER BY id
                    """
            ),
            arguments: [modelId, version, version]
        )
        var open: [String: Int] = [:]
        var records: [DeploymentRecord] = []
        for row in rows {
            let alias: String = row["alias"]
            let from: Int? = row["from_version"]
            let to: Int? = row["to_version"]
            let at = Timestamp.date(millis: row["at"])
            if from == version, to != version, let index = open.removeValue(forKey: alias) {
                records[index].until = at
            }
            if to == version, from != version, open[alias] == nil {
                open[alias] = records.count
                records.append(DeploymentRecord(alias: alias, from: at))
            }
        }
        return records
    }

    // MARK: Audit

    static func appendAudit(_ db: Database, _ event: AuditEvent, modelId: Int64?) throws {
        try db.cachedStatement(
            sql: "INSERT INTO audit_events (at, actor, action, model_id, model_name, version, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [
            Timestamp.millis(event.at), event.actor, event.action, modelId, event.model, event.version, event.before, event.after,
        ])
    }

    // MARK: Helpers

    /// Row ids as one JSON array (`[3,1,2]`), bound as a single value and read with `json_each`: the statement's text
    /// is then the same for any number of ids, so it is compiled once per connection and cached, where an
    /// `IN (?, ?, …)` list would be compiled again for every page size.
    static func idList(_ ids: [Int64]) -> String {
        var text = "["
        text.reserveCapacity(ids.count * 8 + 2)
        for (index, id) in ids.enumerated() {
            if index > 0 { text += "," }
            text += String(id)
        }
        return text + "]"
    }

    /// `?, ?, ?` for `count` bound values.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    static func encodeLineage(_ lineage: Lineage) throws -> String {
        do {
            return String(decoding: try SlipwayJSON.encoder().encode(lineage), as: UTF8.self)
        } catch {
            throw StoreError(.invalidArgument, "the lineage cannot be stored: \(error); metrics must be finite numbers")
        }
    }
}
