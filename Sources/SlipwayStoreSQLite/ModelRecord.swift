import GRDB

/// A row of `models`.
struct ModelRecord: Sendable {
    var id: Int64
    var name: String
    var description: String
    var nextVersion: Int
    var createdAt: Int64
    var updatedAt: Int64
    var createdBy: String

    static let select = "SELECT id, name, description, next_version, created_at, updated_at, created_by FROM models m"

    /// Reads a row of ``select`` (by position, which is faster than by name).
    init(row: Row) {
        id = row[0]
        name = row[1]
        description = row[2]
        nextVersion = row[3]
        createdAt = row[4]
        updatedAt = row[5]
        createdBy = row[6]
    }
}
