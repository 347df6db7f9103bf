import Foundation
import GRDB
import SlipwayCore
public import SlipwayStore

/// The embedded ``MetadataStore``: one SQLite file in WAL mode, read concurrently and written by one writer at a time.
///
/// Every mutating method runs in one `IMMEDIATE` write transaction that also appends the audit event, so a
/// change and its audit record land together or not at all. Schema changes are versioned migrations
/// (`v1`, `v2`, …) applied when the store opens.
///
/// ```swift
/// let store = try SQLiteMetadataStore(path: ".slipway/metadata.sqlite")
/// let model = try await store.createModel(NewModel(name: "iris"), actor: "alice")
/// ```
public final class SQLiteMetadataStore: MetadataStore {
    /// The path of the database file.
    public let path: String
    let pool: DatabasePool
    /// The prediction log, in ``predictionLogFolder``.
    let predictionLog: PredictionSegments

    /// The folder of the prediction log's segment files, beside the database: `<path>-predictions`.
    public var predictionLogFolder: String { predictionLog.folder }

    /// Opens (or creates) the database at `path`, creating its parent folder, and applies pending migrations.
    ///
    /// - Parameter path: The database file, e.g. `.slipway/metadata.sqlite`.
    /// - Throws: ``StoreError`` with kind `unavailable` when the file cannot be created or opened, or
    ///   `internal` when a migration fails.
    public convenience init(path: String) throws {
        try self.init(path: path, schemaUpTo: nil)
    }

    /// Opens (or creates) the database at `path` with the schema up to the migration named `schemaUpTo` (all when nil).
    ///
    /// Only for tests that upgrade files written by an earlier version of the schema.
    package init(path: String, schemaUpTo lastMigration: String?) throws {
        self.path = path
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.unavailable, "cannot create the folder '\(folder.path)' for the metadata database: \(error.localizedDescription)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: Self.configuration())
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw Self.notADatabase(path)
        } catch {
            throw StoreError(
                .unavailable, "cannot open the metadata database '\(path)': \(Self.describe(error)); check that the file is readable and writable")
        }
        let migrator = Self.migrator
        do {
            // Whether the file is a database of a version this one can open, before anything is written beside it.
            let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                throw StoreError(
                    .unavailable, "the metadata database '\(path)' was written by a newer version of Slipway; upgrade Slipway to open it"
                )
            }
        } catch {
            throw Self.openingError(error, path: path)
        }
        predictionLog = try PredictionSegments(folder: path + "-predictions")
        do {
            if let lastMigration {
                try migrator.migrate(pool, upTo: lastMigration)
            } else {
                try movePredictionsToSegments()
                try migrator.migrate(pool)
            }
        } catch {
            throw Self.openingError(error, path: path)
        }
    }

    private static func openingError(_ error: any Error, path: String) -> any Error {
        switch error {
        case let error as StoreError:
            return error
        case let error as DatabaseError where error.resultCode == .SQLITE_NOTADB:
            return notADatabase(path)
        default:
            return StoreError(.internal, "cannot update the metadata database '\(path)' to the current schema: \(describe(error))")
        }
    }

    static func notADatabase(_ path: String) -> StoreError {
        StoreError(.unavailable, "'\(path)' is not a Slipway metadata database; move the file away or choose another data folder")
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        // Several processes (a server and a CLI) may write the same file: wait for the lock instead of failing.
        config.busyMode = .timeout(10)
        config.label = "slipway.metadata"
        config.prepareDatabase { db in
            // Case-insensitive comparison for ILIKE, with Unicode case folding rather than SQLite's ASCII-only one.
            db.add(function: foldFunction)
        }
        return config
    }

    /// `slipway_fold(text)`: the text lowercased with Unicode rules; NULL stays NULL.
    static let foldFunction = DatabaseFunction("slipway_fold", argumentCount: 1, pure: true) { values in
        guard let text = String.fromDatabaseValue(values[0]) else { return nil }
        return text.lowercased()
    }

    // MARK: Transactions

    /// Runs `body` in a write transaction, mapping database failures to ``StoreError``.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` in a read transaction (a snapshot), mapping database failures to ``StoreError``.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// The ``StoreError`` for an error thrown inside a transaction. Raw SQL never reaches the user.
    static func storeError(_ error: any Error) -> any Error {
        switch error {
        case let error as StoreError:
            return error
        case is CancellationError:
            return error
        case let error as DatabaseError:
            switch error.resultCode {
            case .SQLITE_CONSTRAINT:
                return StoreError(
                    .failedPrecondition, "the change conflicts with the stored data (a uniqueness or reference rule); reload and try again")
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return StoreError(.unavailable, "the metadata database is busy; try again in a moment")
            case .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_NOMEM:
                return StoreError(.unavailable, "the metadata database cannot be written (\(describe(error))); check the disk and its permissions")
            default:
                return StoreError(.internal, "the metadata database failed (\(describe(error)))")
            }
        default:
            return StoreError(.internal, "the metadata database failed: \(error)")
        }
    }

    /// A short description of a database error without its SQL text or arguments.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        return "SQLite error \(error.extendedResultCode.rawValue): \(error.message ?? "unknown")"
    }
}

extension SQLiteMetadataStore {
    /// The journal mode SQLite reports for the file (`wal` once opened by this store).
    package func journalMode() async throws -> String {
        try await read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// The migrations applied to the file, in order.
    package func appliedMigrations() async throws -> [String] {
        try await read { db in try Self.migrator.appliedMigrations(db) }
    }
}
