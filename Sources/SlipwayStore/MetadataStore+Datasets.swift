public import SlipwayCore

/// The dataset half of the metadata store: data sets registered by their content digest.
///
/// Registering is idempotent: the same name and digest again returns the dataset stored first (and
/// writes nothing); the same name with a new digest is a new dataset version. Every registration that
/// stores something appends a `dataset.register` audit event.
public protocol DatasetStore: Sendable {
    /// Stores a dataset unless one with the same name and digest exists. Returns the stored dataset and
    /// whether this call created it. Throws `invalidArgument` for an empty or oversized name, a kind other
    /// than `file` or `folder`, negative sizes or counts, or more than 10,000 columns.
    func registerDataset(_ dataset: NewDataset, actor: String) async throws -> (dataset: Dataset, created: Bool)
    /// The dataset of this name and digest; with no digest, the one of this name registered last. Nil when there is none.
    func dataset(named name: String, digest: Digest?) async throws -> Dataset?
    /// Datasets registered last first; only those of one name when `name` is given; at most `limit` (1–1,000).
    func datasets(named name: String?, limit: Int) async throws -> [Dataset]
}
