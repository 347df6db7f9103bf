import GRDB
public import SlipwayCore
public import SlipwayStore

extension SQLiteMetadataStore {
    public func createVersion(_ new: NewVersion, actor: String) async throws -> ModelVersion {
        try Self.validate(new)
        let lineage = try Rows.encodeLineage(new.lineage)
        return try await write { db in
            let model = try Rows.requireModel(db, named: new.model)
            let now = Timestamp.now()
            let id = try Self.insertVersion(
                db, new, lineage: lineage, model: model, number: model.nextVersion, at: Timestamp.millis(now), actor: actor)
            try db.cachedStatement(sql: "UPDATE models SET next_version = ?, updated_at = ? WHERE id = ?")
                .execute(arguments: [model.nextVersion + 1, Timestamp.millis(now), model.id])
            let version = try Rows.modelVersion(db, id: id)
            try Rows.appendAudit(
                db,
                .change(
                    action: "version.create", actor: actor, at: now, model: model.name, version: version.version, before: ModelVersion?.none,
                    after: version
                ),
                modelId: model.id
            )
            return version
        }
    }

    /// Registers many versions of one model in a single transaction, with one summary audit event.
    ///
    /// Meant for imports and for measuring search on large registries: the rows are handed to SQLite as a few
    /// JSON documents (`json_each`) instead of one statement per row. Every element must name `model`.
    ///
    /// - Returns: The numbers assigned, in the order of `versions`.
    package func createVersions(model name: String, _ versions: [NewVersion], actor: String) async throws -> [Int] {
        guard !versions.isEmpty else { return [] }
        var lineages: [String] = []
        lineages.reserveCapacity(versions.count)
        var previous: (Lineage, String)?
        for new in versions {
            guard new.model == name else {
                throw StoreError(.invalidArgument, "every version of a bulk registration must belong to '\(name)', not '\(new.model)'")
            }
            try Self.validate(new)
            if let previous, previous.0 == new.lineage {
                lineages.append(previous.1)
            } else {
                let text = try Rows.encodeLineage(new.lineage)
                previous = (new.lineage, text)
                lineages.append(text)
            }
        }
        var writer = JSONRowsWriter(reservingCapacity: versions.count * 256)
        for (new, lineage) in zip(versions, lineages) {
            writer.beginRow()
            writer.string(new.status.rawValue)
            writer.string(new.artifactDigest?.description)
            writer.integer(new.artifactSize)
            writer.string(new.source)
            writer.string(new.runId ?? "")
            writer.string(new.description)
            writer.json(lineage)
            writer.endRow()
        }
        let versionRows = writer.finished()
        return try await write { db in
            let model = try Rows.requireModel(db, named: name)
            let now = Timestamp.now()
            let millis = Timestamp.millis(now)
            let first = model.nextVersion
            try db.execute(
                sql: """
                    INSERT INTO versions (model_id, version, status, stage, artifact_digest, artifact_size, source, run_id, description,
                        lineage, created_at, updated_at, created_by)
                    SELECT ?, ? + key, json_extract(value, '$[0]'), 'None', json_extract(value, '$[1]'), json_extract(value, '$[2]'),
                        json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), json_extract(value, '$[6]'), ?, ?, ?
                    FROM json_each(?) ORDER BY key
                    """,
                arguments: [model.id, first, millis, millis, actor, versionRows]
            )
            var ids: [Int: Int64] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT version, id FROM versions WHERE model_id = ? AND version >= ?", arguments: [model.id, first]
            ) {
                ids[row[0]] = row[1] as Int64
            }
            var tags = JSONRowsWriter()
            var params = JSONRowsWriter()
            var metrics = JSONRowsWriter()
            for (index, new) in versions.enumerated() {
                guard let id = ids[first + index] else {
                    throw StoreError(.internal, "version \(first + index) of '\(name)' was not stored by the bulk registration")
                }
                for (key, value) in new.tags {
                    tags.beginRow()
                    tags.integer(id)
                    tags.string(key)
                    tags.string(value)
                    tags.endRow()
                }
                for (key, value) in new.lineage.parameters {
                    params.beginRow()
                    params.integer(id)
                    params.string(key)
                    params.string(value)
                    params.endRow()
                }
                for (key, value) in new.lineage.metrics {
                    metrics.beginRow()
                    metrics.integer(id)
                    metrics.string(key)
                    metrics.number(value)
                    metrics.endRow()
                }
            }
            for (table, rows) in [("version_tags", tags), ("version_params", params), ("version_metrics", metrics)] {
                try db.execute(
                    sql: """
                        INSERT INTO \(table) (version_id, key, value)
                        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)
                        """,
                    arguments: [rows.finished()]
                )
            }
            try db.cachedStatement(sql: "UPDATE models SET next_version = ?, updated_at = ? WHERE id = ?")
                .execute(arguments: [first + versions.count, millis, model.id])
            try Rows.appendAudit(
                db,
                .change(
                    action: "version.create.bulk", actor: actor, at: now, model: model.name, version: nil, before: [Int]?.none,
                    after: ["count": versions.count, "first": first, "last": first + versions.count - 1]
                ),
                modelId: model.id
            )
            return Array(first..<(first + versions.count))
        }
    }

    static func validate(_ new: NewVersion) throws {
        if new.status == .ready, new.artifactDigest == nil, new.source.isEmpty {
            throw StoreError(
                .invalidArgument,
                "a READY version of '\(new.model)' needs a stored artifact or an external source; register it as PENDING and finish it after the upload"
            )
        }
        if let bad = new.lineage.metrics.first(where: { !$0.value.isFinite }) {
            throw StoreError(.invalidArgument, "metric '\(bad.key)' is \(bad.value); metrics must be finite numbers")
        }
    }

    /// Inserts one version row with its tags, parameters and metrics; returns its row id.
    static func insertVersion(
        _ db: Database, _ new: NewVersion, lineage: String, model: ModelRecord, number: Int, at millis: Int64, actor: String
    ) throws -> Int64 {
        try db.cachedStatement(
            sql: """
                INSERT INTO versions (model_id, version, status, stage, artifact_digest, artifact_size, source, run_id, description,
                    lineage, created_at, updated_at, created_by)
                VALUES (?, ?, ?, 'None', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            model.id, number, new.status.rawValue, new.artifactDigest?.description, new.artifactSize, new.source, new.runId ?? "",
            new.description, lineage, millis, millis, actor,
        ])
        let id = db.lastInsertedRowID
        if !new.tags.isEmpty {
            let statement = try db.cachedStatement(sql: "INSERT INTO version_tags (version_id, key, value) VALUES (?, ?, ?)")
            for (key, value) in new.tags { try statement.execute(arguments: [id, key, value]) }
        }
        if !new.lineage.parameters.isEmpty {
            let statement = try db.cachedStatement(sql: "INSERT INTO version_params (version_id, key, value) VALUES (?, ?, ?)")
            for (key, value) in new.lineage.parameters { try statement.execute(arguments: [id, key, value]) }
        }
        if !new.lineage.metrics.isEmpty {
            let statement = try db.cachedStatement(sql: "INSERT INTO version_metrics (version_id, key, value) VALUES (?, ?, ?)")
            for (key, value) in new.lineage.metrics { try statement.execute(arguments: [id, key, value]) }
        }
        return id
    }

    public func version(model: String, version: Int) async throws -> ModelVersion? {
        try await read { db in
            guard let record = try Rows.model(db, named: model), let row = try Rows.version(db, modelId: record.id, number: version) else {
                return nil
            }
            return try Rows.detailedVersion(db, row)
        }
    }

    public func finishVersion(model: String, version: Int, outcome: VersionOutcome, actor: String) async throws -> ModelVersion {
        try await write { db in
            let record = try Rows.requireVersion(db, model: model, number: version)
            guard record.status == VersionStatus.pending.rawValue else {
                throw StoreError(
                    .failedPrecondition,
                    "model version '\(model)@\(version)' is \(record.status), not PENDING, and cannot change; register a new version instead"
                )
            }
            let before = try Rows.modelVersion(db, record)
            let now = Timestamp.now()
            switch outcome {
            case .ready(let digest, let size):
                try db.execute(
                    sql: "UPDATE versions SET status = ?, status_message = NULL, artifact_digest = ?, artifact_size = ?, updated_at = ? WHERE id = ?",
                    arguments: [VersionStatus.ready.rawValue, digest.description, size, Timestamp.millis(now), record.id]
                )
            case .failed(let message):
                try db.execute(
                    sql: "UPDATE versions SET status = ?, status_message = ?, updated_at = ? WHERE id = ?",
                    arguments: [VersionStatus.failed.rawValue, message, Timestamp.millis(now), record.id]
                )
            }
            let after = try Rows.modelVersion(db, id: record.id)
            try Rows.appendAudit(
                db, .change(action: "version.finish", actor: actor, at: now, model: model, version: version, before: before, after: after),
                modelId: record.modelId
            )
            return after
        }
    }

    public func updateVersion(model: String, version: Int, description: String, actor: String) async throws -> ModelVersion {
        try await write { db in
            let record = try Rows.requireVersion(db, model: model, number: version)
            let before = try Rows.modelVersion(db, record)
            let now = Timestamp.now()
            try db.execute(
                sql: "UPDATE versions SET description = ?, updated_at = ? WHERE id = ?", arguments: [description, Timestamp.millis(now), record.id]
            )
            let after = try Rows.modelVersion(db, id: record.id)
            try Rows.appendAudit(
                db, .change(action: "version.update", actor: actor, at: now, model: model, version: version, before: before, after: after),
                modelId: record.modelId
            )
            return after
        }
    }

    public func transitionStage(
        model: String, version: Int, expected: String, stage: String, archiveOthers: Bool, archiveStage: String, actor: String
    ) async throws -> ModelVersion {
        try await write { db in
            let record = try Rows.requireVersion(db, model: model, number: version)
            guard record.stage == expected else {
                throw StoreError(
                    .failedPrecondition,
                    "model version '\(model)@\(version)' is in stage '\(record.stage)', not '\(expected)'; it changed meanwhile, reload it and try again"
                )
            }
            let now = Timestamp.now()
            let millis = Timestamp.millis(now)
            if archiveOthers {
                let others = try Row.fetchAll(
                    db, sql: "SELECT id FROM versions WHERE model_id = ? AND stage = ? AND id != ? ORDER BY version",
                    arguments: [record.modelId, stage, record.id]
                ).map { $0[0] as Int64 }
                for id in others {
                    let before = try Rows.modelVersion(db, id: id)
                    try db.execute(sql: "UPDATE versions SET stage = ?, updated_at = ? WHERE id = ?", arguments: [archiveStage, millis, id])
                    let after = try Rows.modelVersion(db, id: id)
                    try Rows.appendAudit(
                        db,
                        .change(
                            action: "stage.transition", actor: actor, at: now, model: model, version: after.version, before: before, after: after),
                        modelId: record.modelId
                    )
                }
            }
            let before = try Rows.modelVersion(db, record)
            try db.execute(sql: "UPDATE versions SET stage = ?, updated_at = ? WHERE id = ?", arguments: [stage, millis, record.id])
            let after = try Rows.modelVersion(db, id: record.id)
            try Rows.appendAudit(
                db, .change(action: "stage.transition", actor: actor, at: now, model: model, version: version, before: before, after: after),
                modelId: record.modelId
            )
            return after
        }
    }

    public func deleteVersion(model: String, version: Int, actor: String) async throws {
        try await write { db in
            let record = try Rows.requireVersion(db, model: model, number: version)
            let aliases = try String.fetchAll(db, sql: "SELECT alias FROM aliases WHERE version_id = ? ORDER BY alias", arguments: [record.id])
            if !aliases.isEmpty {
                let subject = aliases.count == 1 ? "alias \(aliases[0]) points" : "aliases \(aliases.joined(separator: ", ")) point"
                throw StoreError(
                    .failedPrecondition,
                    "cannot delete model version '\(model)@\(version)': \(subject) at it; move or delete \(aliases.count == 1 ? "it" : "them") first"
                )
            }
            let serving = try Rows.deploymentsServing(db, versionIds: [record.id])
            if !serving.isEmpty {
                let list = serving.map { "endpoint '\($0.endpoint)' variant '\($0.variant)'" }.joined(separator: ", ")
                throw StoreError(
                    .failedPrecondition,
                    "cannot delete model version '\(model)@\(version)': \(list) \(serving.count == 1 ? "serves" : "serve") it; remove the \(serving.count == 1 ? "deployment" : "deployments") first"
                )
            }
            let before = try Rows.modelVersion(db, record)
            let now = Timestamp.now()
            try db.execute(sql: "DELETE FROM versions WHERE id = ?", arguments: [record.id])
            try Rows.touchModel(db, id: record.modelId, at: Timestamp.millis(now))
            try Rows.appendAudit(
                db,
                .change(action: "version.delete", actor: actor, at: now, model: model, version: version, before: before, after: ModelVersion?.none),
                modelId: record.modelId
            )
        }
    }

    public func setVersionTag(model: String, version: Int, key: String, value: String, immutable: Bool, actor: String) async throws {
        try await write { db in
            let record = try Rows.requireVersion(db, model: model, number: version)
            let current = try String.fetchOne(
                db, sql: "SELECT value FROM version_tags WHERE version_id = ? AND key = ?", arguments: [record.id, key])
            if current == value { return }
            if immutable, let current {
                throw StoreError(
                    .failedPrecondition,
                    "tag '\(key)' of model version '\(model)@\(version)' is immutable and already set to '\(current)'; use another key or another version"
                )
            }
            let before = try Rows.modelVersion(db, record)
            let now = Timestamp.now()
            try db.cachedStatement(
                sql:
                    "INSERT INTO version_tags (version_id, key, value) VALUES (?, ?, ?) ON CONFLICT (version_id, key) DO UPDATE SET value = excluded.value"
            ).execute(arguments: [record.id, key, value])
            try db.execute(sql: "UPDATE versions SET updated_at = ? WHERE id = ?", arguments: [Timestamp.millis(now), record.id])
            let after = try Rows.modelVersion(db, id: record.id)
            try Rows.appendAudit(
                db, .change(action: "version.tag.set", actor: actor, at: now, model: model, version: version, before: before, after: after),
                modelId: record.modelId
            )
        }
    }

    public func deleteVersionTag(model: String, version: Int, key: String, immutable: Bool, actor: String) async throws {
        try await write { db in
            let record = try Rows.requireVersion(db, model: model, number: version)
            let before = try Rows.modelVersion(db, record)
            guard before.tags[key] != nil else {
                throw StoreError(.notFound, "model version '\(model)@\(version)' has no tag '\(key)'")
            }
            if immutable {
                throw StoreError(.failedPrecondition, "tag '\(key)' of model version '\(model)@\(version)' is immutable and cannot be deleted")
            }
            let now = Timestamp.now()
            try db.execute(sql: "DELETE FROM version_tags WHERE version_id = ? AND key = ?", arguments: [record.id, key])
            try db.execute(sql: "UPDATE versions SET updated_at = ? WHERE id = ?", arguments: [Timestamp.millis(now), record.id])
            let after = try Rows.modelVersion(db, id: record.id)
            try Rows.appendAudit(
                db, .change(action: "version.tag.delete", actor: actor, at: now, model: model, version: version, before: before, after: after),
                modelId: record.modelId
            )
        }
    }
}
