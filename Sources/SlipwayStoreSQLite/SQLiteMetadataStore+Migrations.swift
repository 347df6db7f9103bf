import GRDB

extension SQLiteMetadataStore {
    /// The schema, one migration per version. Never edit a released migration: add the next one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: schemaV1)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: schemaV2)
        }
        migrator.registerMigration("v3") { db in
            try db.execute(sql: schemaV3)
        }
        migrator.registerMigration("v4") { db in try db.execute(sql: schemaV4) }
        migrator.registerMigration("v5") { db in try db.execute(sql: schemaV5) }
        // The prediction log moved to segment files (`PredictionSegments`); the store moves a v3–v5 table's rows
        // there before this runs (`movePredictionsToSegments`).
        migrator.registerMigration("v6") { db in try db.execute(sql: "DROP TABLE predictions") }
        return migrator
    }

    /// Models, versions and their searchable tags, parameters and metrics; aliases with their history;
    /// approvals; the audit log; tokens. Timestamps are INTEGER milliseconds since 1970. Rows refer to
    /// each other by id, so a rename touches one row and keeps every history.
    static let schemaV1 = """
        CREATE TABLE models (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            next_version INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            created_by TEXT NOT NULL
        );
        CREATE INDEX models_created_at ON models(created_at);

        CREATE TABLE model_tags (
            model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (model_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX model_tags_key_value ON model_tags(key, value, model_id);

        CREATE TABLE versions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            status TEXT NOT NULL,
            status_message TEXT,
            stage TEXT NOT NULL,
            artifact_digest TEXT,
            artifact_size INTEGER,
            source TEXT NOT NULL,
            run_id TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            lineage TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            UNIQUE (model_id, version)
        );
        CREATE INDEX versions_created ON versions(created_at, version);
        CREATE INDEX versions_model_created ON versions(model_id, created_at, version);
        CREATE INDEX versions_run_id ON versions(run_id);

        CREATE TABLE version_tags (
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (version_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX version_tags_key_value ON version_tags(key, value, version_id);

        CREATE TABLE version_params (
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (version_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX version_params_key_value ON version_params(key, value, version_id);

        CREATE TABLE version_metrics (
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (version_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX version_metrics_key_value ON version_metrics(key, value, version_id);

        CREATE TABLE aliases (
            model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            alias TEXT NOT NULL,
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE RESTRICT,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (model_id, alias)
        ) WITHOUT ROWID;
        CREATE INDEX aliases_version ON aliases(version_id);

        CREATE TABLE alias_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            alias TEXT NOT NULL,
            from_version INTEGER,
            to_version INTEGER,
            actor TEXT NOT NULL,
            reason TEXT,
            at INTEGER NOT NULL
        );
        CREATE INDEX alias_events_model_alias ON alias_events(model_id, alias, id);

        CREATE TABLE approvals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            approver TEXT NOT NULL,
            comment TEXT,
            at INTEGER NOT NULL,
            UNIQUE (version_id, stage, approver)
        );

        CREATE TABLE audit_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            model_id INTEGER,
            model_name TEXT,
            version INTEGER,
            before TEXT,
            after TEXT
        );
        CREATE INDEX audit_events_model_id ON audit_events(model_id, id);
        CREATE INDEX audit_events_model_name ON audit_events(model_name, id);

        CREATE TABLE tokens (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            secret_hash TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            revoked_at INTEGER
        );
        """

    /// Endpoints and their deployments. Settings, traffic policy and backend are JSON documents (read and written
    /// whole); a deployment refers to the model version it serves by id, so a renamed model shows under its new name,
    /// and `ON DELETE RESTRICT` keeps a served version from vanishing even if a check were missed.
    static let schemaV2 = """
        CREATE TABLE endpoints (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            settings TEXT NOT NULL,
            policy TEXT NOT NULL,
            revision INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            created_by TEXT NOT NULL
        );

        CREATE TABLE deployments (
            endpoint_id INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
            variant TEXT NOT NULL,
            version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE RESTRICT,
            backend TEXT NOT NULL,
            replicas INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            PRIMARY KEY (endpoint_id, variant)
        ) WITHOUT ROWID;
        CREATE INDEX deployments_version ON deployments(version_id);
        """

    /// The prediction log. Keyed by endpoint name, not by id: the log outlives an endpoint that is deleted and
    /// recreated. One primary record per request id and endpoint, one mirror record per mirrored variant.
    static let schemaV3 = """
        CREATE TABLE predictions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            endpoint TEXT NOT NULL,
            request_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            variant TEXT NOT NULL,
            ts INTEGER NOT NULL,
            model_version TEXT NOT NULL,
            sticky_key TEXT,
            features TEXT,
            prediction TEXT,
            confidence REAL,
            latency_ms REAL NOT NULL,
            status INTEGER NOT NULL,
            ground_truth TEXT,
            outcome REAL,
            feedback_at INTEGER,
            feedback_by TEXT
        );
        CREATE UNIQUE INDEX predictions_request ON predictions(endpoint, request_id, kind, variant);
        CREATE INDEX predictions_endpoint_id ON predictions(endpoint, id);
        CREATE INDEX predictions_endpoint_ts ON predictions(endpoint, ts);
        """
}
