import GRDB

/// A row of `versions` with the name of its model.
struct VersionRecord: Sendable {
    var id: Int64
    var modelId: Int64
    var model: String
    var version: Int
    var status: String
    var statusMessage: String?
    var stage: String
    var artifactDigest: String?
    var artifactSize: Int64?
    var source: String
    var runId: String
    var description: String
    var lineage: String
    var createdAt: Int64
    var updatedAt: Int64
    var createdBy: String

    static let columns = """
        v.id, v.model_id, m.name AS model_name, v.version, v.status, v.status_message, v.stage, v.artifact_digest, \
        v.artifact_size, v.source, v.run_id, v.description, v.lineage, v.created_at, v.updated_at, v.created_by
        """
    static let select = "SELECT \(columns) FROM versions v JOIN models m ON m.id = v.model_id"
}

extension VersionRecord {
    /// Reads a row of ``select`` (by position, which is faster than by name).
    init(row: Row) {
        id = row[0]
        modelId = row[1]
        model = row[2]
        version = row[3]
        status = row[4]
        statusMessage = row[5]
        stage = row[6]
        artifactDigest = row[7]
        artifactSize = row[8]
        source = row[9]
        runId = row[10]
        description = row[11]
        lineage = row[12]
        createdAt = row[13]
        updatedAt = row[14]
        createdBy = row[15]
    }
}
