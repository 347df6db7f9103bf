import Foundation
import GRDB
public import SlipwayCore
import SlipwayStore

/// Registered datasets in the table of migration `v5`: one row per name and content digest.
extension SQLiteMetadataStore {
    static let schemaV5 = """
        CREATE TABLE datasets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            digest TEXT NOT NULL,
            kind TEXT NOT NULL,
            size INTEGER NOT NULL,
            files INTEGER NOT NULL,
            rows INTEGER,
            columns TEXT NOT NULL,
            time_column TEXT,
            date_from TEXT,
            date_to TEXT,
            description TEXT,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            UNIQUE (name, digest)
        );
        CREATE INDEX datasets_digest ON datasets(digest);
        """

    /// The most columns a dataset may list.
    static let maximumDatasetColumns = 10_000

    public func registerDataset(_ new: NewDataset, actor: String) async throws -> (dataset: Dataset, created: Bool) {
        try Self.validate(new)
        let columns = String(decoding: try SlipwayJSON.encoder().encode(new.columns), as: UTF8.self)
        return try await write { db in
            if let existing = try Self.datasetRow(db, name: new.name, digest: new.digest) { return (existing, false) }
            let now = Timestamp.now()
            try db.execute(
                sql: """
                    INSERT INTO datasets (name, digest, kind, size, files, rows, columns, time_column, date_from, date_to, description,
                        created_at, created_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    new.name, new.digest.description, new.kind, new.size, new.files, new.rows, columns, new.timeColumn, new.dateFrom, new.dateTo,
                    new.description, Timestamp.millis(now), actor,
                ])
            let stored = try Self.datasetRow(db, name: new.name, digest: new.digest)!
            try Rows.appendAudit(
                db, .change(action: "dataset.register", actor: actor, at: now, model: nil, version: nil, before: NoState?.none, after: stored),
                modelId: nil)
            return (stored, true)
        }
    }

    public func dataset(named name: String, digest: Digest?) async throws -> Dataset? {
        try await read { db in
            if let digest { return try Self.datasetRow(db, name: name, digest: digest) }
            return try Row.fetchOne(db, sql: "SELECT * FROM datasets WHERE name = ? ORDER BY id DESC LIMIT 1", arguments: [name])
                .map(Self.datasetRecord)
        }
    }

    public func datasets(named name: String?, limit: Int) async throws -> [Dataset] {
        guard (1...1000).contains(limit) else { throw StoreError(.invalidArgument, "limit must be between 1 and 1000, got \(limit)") }
        return try await read { db in
            if let name {
                return try Row.fetchAll(db, sql: "SELECT * FROM datasets WHERE name = ? ORDER BY id DESC LIMIT ?", arguments: [name, limit])
                    .map(Self.datasetRecord)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM datasets ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.datasetRecord)
        }
    }

    static func validate(_ new: NewDataset) throws {
        guard !new.name.isEmpty, new.name.utf8.count <= 1024, !new.name.contains("\0") else {
            throw StoreError(.invalidArgument, "a dataset's name must be 1 to 1024 bytes without NUL characters")
        }
        guard new.kind == "file" || new.kind == "folder" else {
            throw StoreError(.invalidArgument, "a dataset's kind is 'file' or 'folder', not '\(new.kind)'")
        }
        guard new.size >= 0, new.files >= 0, (new.rows ?? 0) >= 0 else {
            throw StoreError(.invalidArgument, "a dataset's size, file count and row count cannot be negative")
        }
        guard new.columns.count <= maximumDatasetColumns else {
            throw StoreError(.invalidArgument, "a dataset may list at most \(maximumDatasetColumns) columns, got \(new.columns.count)")
        }
        for text in [new.timeColumn, new.dateFrom, new.dateTo].compactMap({ $0 }) + new.columns.flatMap({ [$0.name, $0.type] })
        where text.utf8.count > 1024 {
            throw StoreError(.invalidArgument, "a dataset's column names, types and dates are at most 1024 bytes each")
        }
        if let description = new.description, description.utf8.count > 65_536 {
            throw StoreError(.invalidArgument, "a dataset's description is at most 64 KiB")
        }
    }

    static func datasetRow(_ db: Database, name: String, digest: Digest) throws -> Dataset? {
        try Row.fetchOne(db, sql: "SELECT * FROM datasets WHERE name = ? AND digest = ?", arguments: [name, digest.description])
            .map(datasetRecord)
    }

    static func datasetRecord(_ row: Row) throws -> Dataset {
        let text: String = row["digest"]
        guard let digest = Digest(text) else { throw StoreError(.corrupted, "dataset '\(row["name"] as String)' has a corrupt digest") }
        let columns = (try? SlipwayJSON.decoder().decode([DatasetColumn].self, from: Data((row["columns"] as String).utf8))) ?? []
        return Dataset(
            name: row["name"], digest: digest, kind: row["kind"], size: row["size"], files: row["files"], rows: row["rows"], columns: columns,
            timeColumn: row["time_column"], dateFrom: row["date_from"], dateTo: row["date_to"], description: row["description"],
            createdAt: Timestamp.date(millis: row["created_at"]), createdBy: row["created_by"])
    }
}
