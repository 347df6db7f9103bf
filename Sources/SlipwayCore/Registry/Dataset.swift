public import Foundation

/// A data set registered in the store: a tracked file or folder (by its `.slipway` pointer's digest)
/// with what was learnt about it when it was registered. Model versions name it in their lineage.
///
/// The same path registered again with other contents is another dataset version (another digest);
/// the same contents registered twice are one.
public struct Dataset: Sendable, Codable, Equatable {
    /// The tracked path relative to the project root, such as `data/train.csv`.
    public var name: String
    /// The file's SHA-256, or the digest of the folder's manifest.
    public var digest: Digest
    /// `file` or `folder`.
    public var kind: String
    /// Bytes, and files (1 for a file).
    public var size: Int64
    public var files: Int
    /// Data rows (without the header), when the data is CSV or JSON Lines.
    public var rows: Int64?
    /// The columns and the type each one's values have.
    public var columns: [DatasetColumn]
    /// The column holding each row's time, when one was named; with the first and last time in it.
    public var timeColumn: String?
    public var dateFrom: String?
    public var dateTo: String?
    public var description: String?
    public var createdAt: Date
    public var createdBy: String

    public init(
        name: String, digest: Digest, kind: String, size: Int64, files: Int, rows: Int64? = nil, columns: [DatasetColumn] = [],
        timeColumn: String? = nil, dateFrom: String? = nil, dateTo: String? = nil, description: String? = nil, createdAt: Date,
        createdBy: String
    ) {
        self.name = name
        self.digest = digest
        self.kind = kind
        self.size = size
        self.files = files
        self.rows = rows
        self.columns = columns
        self.timeColumn = timeColumn
        self.dateFrom = dateFrom
        self.dateTo = dateTo
        self.description = description
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    /// How model lineage names this dataset.
    public var reference: DatasetReference {
        DatasetReference(uri: "slipway-data:\(name)", digest: digest, rows: rows, dateFrom: dateFrom, dateTo: dateTo)
    }
}

/// One column of a registered dataset.
public struct DatasetColumn: Sendable, Codable, Equatable {
    public var name: String
    /// `integer`, `number`, `boolean`, `datetime`, `string`, or `empty` when every value was missing.
    public var type: String

    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }
}

/// What registering a dataset stores.
public struct NewDataset: Sendable, Codable, Equatable {
    public var name: String
    public var digest: Digest
    public var kind: String
    public var size: Int64
    public var files: Int
    public var rows: Int64?
    public var columns: [DatasetColumn]
    public var timeColumn: String?
    public var dateFrom: String?
    public var dateTo: String?
    public var description: String?

    public init(
        name: String, digest: Digest, kind: String, size: Int64, files: Int, rows: Int64? = nil, columns: [DatasetColumn] = [],
        timeColumn: String? = nil, dateFrom: String? = nil, dateTo: String? = nil, description: String? = nil
    ) {
        self.name = name
        self.digest = digest
        self.kind = kind
        self.size = size
        self.files = files
        self.rows = rows
        self.columns = columns
        self.timeColumn = timeColumn
        self.dateFrom = dateFrom
        self.dateTo = dateTo
        self.description = description
    }
}
