import Foundation
import GRDB
public import SlipwayCore
public import SlipwayStore

/// Endpoints, their deployments and traffic policies in the tables of migration `v2`.
///
/// Each mutating method is one write transaction that checks the stored state, changes it and appends its audit
/// event (`endpoint.create`, `endpoint.update`, `traffic.update`, `endpoint.delete`, `deployment.put`,
/// `deployment.delete`, with the endpoint before and after). Input rules come from ``EndpointRules``.
///
/// A new endpoint's policy may name variants that have no deployment yet: at creation no variant is deployed, so
/// `TrafficSplit(allTo: "stable")` is accepted before `stable` is deployed (the gateway has no backend for it until
/// then). From then on a policy update may only name deployed variants, and a deployment the policy still names
/// (a weight above zero, a header route, a mirror, the stable variant) cannot be removed.
// EndpointStore is part of MetadataStore, to which SQLiteMetadataStore conforms.
extension SQLiteMetadataStore {
    public func createEndpoint(_ new: NewEndpoint, actor: String) async throws -> Endpoint {
        try EndpointRules.validate(new)
        let settings = try Self.encode(new.settings, what: "settings of endpoint '\(new.name)'")
        let policy = try Self.encode(new.policy, what: "traffic policy of endpoint '\(new.name)'")
        return try await write { db in
            if try Rows.endpointRecord(db, named: new.name) != nil {
                throw StoreError(
                    .alreadyExists, "endpoint '\(new.name)' already exists; choose another name or deploy to it with `slipway deploy \(new.name)`")
            }
            let now = Timestamp.now()
            let millis = Timestamp.millis(now)
            try db.execute(
                sql: """
                    INSERT INTO endpoints (name, description, settings, policy, revision, created_at, updated_at, created_by)
                    VALUES (?, ?, ?, ?, 1, ?, ?, ?)
                    """,
                arguments: [new.name, new.description, settings, policy, millis, millis, actor]
            )
            let endpoint = try Rows.endpoint(db, id: db.lastInsertedRowID)
            try Rows.appendAudit(
                db,
                .change(action: "endpoint.create", actor: actor, at: now, model: nil, version: nil, before: Endpoint?.none, after: endpoint),
                modelId: nil
            )
            return endpoint
        }
    }

    public func endpoint(named name: String) async throws -> Endpoint? {
        try await read { db in
            guard let record = try Rows.endpointRecord(db, named: name) else { return nil }
            return try Rows.endpoints(db, [record])[0]
        }
    }

    public func endpoints() async throws -> [Endpoint] {
        try await read { db in
            let records = try Row.fetchAll(db, sql: "\(EndpointRecord.select) ORDER BY name").map(EndpointRecord.init(row:))
            return try Rows.endpoints(db, records)
        }
    }

    public func updateEndpoint(
        named name: String, expectedRevision: Int, settings: EndpointSettings?, policy: TrafficPolicy?, actor: String
    ) async throws -> Endpoint {
        guard settings != nil || policy != nil else {
            throw StoreError(.invalidArgument, "give new settings or a new traffic policy for endpoint '\(name)'; nothing would change")
        }
        if let settings { try EndpointRules.validate(settings, endpoint: name) }
        if let policy { try EndpointRules.validate(policy, endpoint: name) }
        let settingsJSON = try settings.map { try Self.encode($0, what: "settings of endpoint '\(name)'") }
        let policyJSON = try policy.map { try Self.encode($0, what: "traffic policy of endpoint '\(name)'") }
        return try await write { db in
            let record = try Rows.requireEndpoint(db, named: name)
            guard record.revision == expectedRevision else {
                throw StoreError(
                    .failedPrecondition,
                    "endpoint '\(name)' is at revision \(record.revision), not \(expectedRevision): someone else changed it; read it again and retry"
                )
            }
            let before = try Rows.endpoints(db, [record])[0]
            if let policy {
                let deployed = Set(before.deployments.map(\.variant))
                let missing = EndpointRules.variantsRequiringDeployment(policy).subtracting(deployed).sorted()
                if !missing.isEmpty {
                    let list = missing.map { "'\($0)'" }.joined(separator: ", ")
                    throw StoreError(
                        .failedPrecondition,
                        "the traffic policy of endpoint '\(name)' names \(missing.count == 1 ? "variant" : "variants") \(list) without a deployment; deploy \(missing.count == 1 ? "it" : "them") first with `slipway deploy \(name) --variant \(missing[0]) …`"
                    )
                }
            }
            let now = Timestamp.now()
            try db.execute(
                sql: """
                    UPDATE endpoints SET settings = COALESCE(?, settings), policy = COALESCE(?, policy), revision = revision + 1, updated_at = ?
                    WHERE id = ? AND revision = ?
                    """,
                arguments: [settingsJSON, policyJSON, Timestamp.millis(now), record.id, expectedRevision]
            )
            let after = try Rows.endpoint(db, id: record.id)
            let action = settings == nil ? "traffic.update" : "endpoint.update"
            try Rows.appendAudit(
                db, .change(action: action, actor: actor, at: now, model: nil, version: nil, before: before, after: after), modelId: nil)
            return after
        }
    }

    public func deleteEndpoint(named name: String, actor: String) async throws {
        try await write { db in
            let record = try Rows.requireEndpoint(db, named: name)
            let before = try Rows.endpoints(db, [record])[0]
            try db.execute(sql: "DELETE FROM endpoints WHERE id = ?", arguments: [record.id])
            try Rows.appendAudit(
                db,
                .change(
                    action: "endpoint.delete", actor: actor, at: Timestamp.now(), model: nil, version: nil, before: before, after: Endpoint?.none),
                modelId: nil
            )
        }
    }

    public func putDeployment(_ deployment: NewDeployment, actor: String) async throws -> Endpoint {
        try EndpointRules.validate(deployment)
        let backend = try Self.encode(deployment.backend, what: "backend of variant '\(deployment.variant)'")
        return try await write { db in
            let record = try Rows.requireEndpoint(db, named: deployment.endpoint)
            let version = try Rows.requireVersion(db, model: deployment.model, number: deployment.version)
            guard version.status == VersionStatus.ready.rawValue else {
                throw StoreError(
                    .failedPrecondition,
                    "model version '\(version.model)@\(version.version)' is \(version.status), not READY, and cannot be deployed; deploy a READY version or finish this one's upload first"
                )
            }
            let before = try Rows.endpoints(db, [record])[0]
            let now = Timestamp.now()
            let millis = Timestamp.millis(now)
            try db.execute(
                sql: """
                    INSERT INTO deployments (endpoint_id, variant, version_id, backend, replicas, created_at, created_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (endpoint_id, variant) DO UPDATE SET version_id = excluded.version_id, backend = excluded.backend,
                        replicas = excluded.replicas, created_at = excluded.created_at, created_by = excluded.created_by
                    """,
                arguments: [record.id, deployment.variant, version.id, backend, deployment.replicas, millis, actor]
            )
            try Rows.bumpRevision(db, endpointId: record.id, at: millis)
            let after = try Rows.endpoint(db, id: record.id)
            try Rows.appendAudit(
                db,
                .change(
                    action: "deployment.put", actor: actor, at: now, model: version.model, version: version.version, before: before, after: after),
                modelId: version.modelId
            )
            return after
        }
    }

    public func deleteDeployment(endpoint name: String, variant: String, actor: String) async throws -> Endpoint {
        try await write { db in
            let record = try Rows.requireEndpoint(db, named: name)
            let before = try Rows.endpoints(db, [record])[0]
            guard let existing = before.deployment(variant) else {
                throw StoreError(.notFound, "endpoint '\(name)' has no variant '\(variant)'; `slipway endpoints show \(name)` lists its variants")
            }
            if let use = EndpointRules.describeUse(of: variant, in: before.policy) {
                throw StoreError(
                    .failedPrecondition,
                    "cannot remove variant '\(variant)' of endpoint '\(name)': its traffic policy still uses it (\(use)); move its traffic to another variant first, e.g. `slipway traffic set \(name) …`"
                )
            }
            let modelId = try Int64.fetchOne(
                db,
                sql: "SELECT v.model_id FROM deployments d JOIN versions v ON v.id = d.version_id WHERE d.endpoint_id = ? AND d.variant = ?",
                arguments: [record.id, variant]
            )
            let now = Timestamp.now()
            let millis = Timestamp.millis(now)
            try db.execute(sql: "DELETE FROM deployments WHERE endpoint_id = ? AND variant = ?", arguments: [record.id, variant])
            try Rows.bumpRevision(db, endpointId: record.id, at: millis)
            let after = try Rows.endpoint(db, id: record.id)
            try Rows.appendAudit(
                db,
                .change(
                    action: "deployment.delete", actor: actor, at: now, model: existing.model, version: existing.version, before: before,
                    after: after),
                modelId: modelId
            )
            return after
        }
    }

    /// A value as the JSON document a column stores.
    static func encode(_ value: some Encodable, what: String) throws -> String {
        do {
            return String(decoding: try SlipwayJSON.encoder().encode(value), as: UTF8.self)
        } catch {
            throw StoreError(.invalidArgument, "the \(what) cannot be stored: \(error)")
        }
    }
}

/// A row of `endpoints`.
struct EndpointRecord: Sendable {
    var id: Int64
    var name: String
    var description: String
    var settings: String
    var policy: String
    var revision: Int
    var createdAt: Int64
    var updatedAt: Int64
    var createdBy: String

    static let select = "SELECT id, name, description, settings, policy, revision, created_at, updated_at, created_by FROM endpoints"

    /// Reads a row of ``select`` (by position).
    init(row: Row) {
        id = row[0]
        name = row[1]
        description = row[2]
        settings = row[3]
        policy = row[4]
        revision = row[5]
        createdAt = row[6]
        updatedAt = row[7]
        createdBy = row[8]
    }
}

extension Rows {
    // MARK: Endpoints

    static func endpointRecord(_ db: Database, named name: String) throws -> EndpointRecord? {
        // SQLite reads a bound string up to its first NUL: "a\0b" would find "a". No stored name has a NUL.
        guard !name.utf8.contains(0) else { return nil }
        return try Row.fetchOne(db.cachedStatement(sql: "\(EndpointRecord.select) WHERE name = ?"), arguments: [name]).map(EndpointRecord.init(row:))
    }

    static func requireEndpoint(_ db: Database, named name: String) throws -> EndpointRecord {
        guard let record = try endpointRecord(db, named: name) else {
            throw StoreError(.notFound, "endpoint '\(name)' does not exist; `slipway endpoints list` shows the endpoints")
        }
        return record
    }

    static func endpoint(_ db: Database, id: Int64) throws -> Endpoint {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "\(EndpointRecord.select) WHERE id = ?"), arguments: [id]) else {
            throw StoreError(.internal, "endpoint #\(id) vanished during the transaction")
        }
        return try endpoints(db, [EndpointRecord(row: row)])[0]
    }

    /// The domain values of endpoint rows with their deployments, by variant name (one extra query in all).
    static func endpoints(_ db: Database, _ records: [EndpointRecord]) throws -> [Endpoint] {
        guard !records.isEmpty else { return [] }
        let ids = records.map(\.id)
        let names = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0.name) })
        let decoder = SlipwayJSON.decoder()
        var deployments: [Int64: [Deployment]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT d.endpoint_id, d.variant, m.name, v.version, d.backend, d.replicas, d.created_at, d.created_by
                FROM deployments d JOIN versions v ON v.id = d.version_id JOIN models m ON m.id = v.model_id
                WHERE d.endpoint_id IN (\(placeholders(ids.count))) ORDER BY d.endpoint_id, d.variant
                """,
            arguments: StatementArguments(ids)
        ) {
            let endpointId: Int64 = row[0]
            let endpoint = names[endpointId] ?? ""
            let variant: String = row[1]
            let backend = try decode(BackendSpec.self, row[4], what: "backend of variant '\(variant)' of endpoint '\(endpoint)'", decoder)
            deployments[endpointId, default: []].append(
                Deployment(
                    endpoint: endpoint, variant: variant, model: row[2], version: row[3], backend: backend, replicas: row[5],
                    createdAt: Timestamp.date(millis: row[6]), createdBy: row[7]
                )
            )
        }
        return try records.map { record in
            Endpoint(
                name: record.name, description: record.description,
                settings: try decode(EndpointSettings.self, record.settings, what: "settings of endpoint '\(record.name)'", decoder),
                policy: try decode(TrafficPolicy.self, record.policy, what: "traffic policy of endpoint '\(record.name)'", decoder),
                deployments: deployments[record.id] ?? [], revision: record.revision, createdAt: Timestamp.date(millis: record.createdAt),
                updatedAt: Timestamp.date(millis: record.updatedAt), createdBy: record.createdBy
            )
        }
    }

    static func bumpRevision(_ db: Database, endpointId: Int64, at millis: Int64) throws {
        try db.cachedStatement(sql: "UPDATE endpoints SET revision = revision + 1, updated_at = ? WHERE id = ?").execute(arguments: [
            millis, endpointId,
        ])
    }

    /// The deployments serving the given model versions, as `(endpoint, variant, version number)`, ordered.
    static func deploymentsServing(_ db: Database, versionIds: [Int64]) throws -> [(endpoint: String, variant: String, version: Int)] {
        guard !versionIds.isEmpty else { return [] }
        return try Row.fetchAll(
            db,
            sql: """
                SELECT e.name, d.variant, v.version FROM deployments d JOIN endpoints e ON e.id = d.endpoint_id JOIN versions v ON v.id = d.version_id
                WHERE d.version_id IN (\(placeholders(versionIds.count))) ORDER BY v.version, e.name, d.variant
                """,
            arguments: StatementArguments(versionIds)
        ).map { ($0[0], $0[1], $0[2]) }
    }

    /// The deployments serving any version of a model, as `(endpoint, variant, version number)`, ordered.
    static func deploymentsServing(_ db: Database, modelId: Int64) throws -> [(endpoint: String, variant: String, version: Int)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT e.name, d.variant, v.version FROM deployments d JOIN endpoints e ON e.id = d.endpoint_id JOIN versions v ON v.id = d.version_id
                WHERE v.model_id = ? ORDER BY v.version, e.name, d.variant
                """,
            arguments: [modelId]
        ).map { ($0[0], $0[1], $0[2]) }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String, what: String, _ decoder: JSONDecoder) throws -> T {
        do {
            return try decoder.decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError(.internal, "the stored \(what) cannot be read: \(error)")
        }
    }
}
