import Foundation

/// The run's record while it runs: every change is saved to the store, so `slipway runs show` and
/// `slipway runs logs --follow` see it live.
actor RunRecorder {
    private(set) var record: RunRecord
    private let store: any RunStore
    private let masker: SecretMasker
    /// The first error saving the record (reported once at the end).
    private(set) var saveError: String?

    init(record: RunRecord, store: any RunStore, masker: SecretMasker) {
        self.record = record
        self.store = store
        self.masker = masker
    }

    func update(_ body: (inout RunRecord) -> Void) {
        body(&record)
        save()
    }

    func updateJob(_ key: String, _ body: (inout JobRecord) -> Void) {
        guard let index = record.jobs.firstIndex(where: { $0.key == key }) else { return }
        body(&record.jobs[index])
        save()
    }

    /// Replaces the placeholder record of a matrix job by its legs' records.
    func expand(_ key: String, into legs: [JobRecord]) {
        if let index = record.jobs.firstIndex(where: { $0.key == key }) {
            record.jobs.replaceSubrange(index...index, with: legs)
        } else {
            record.jobs += legs
        }
        save()
    }

    func annotate(_ annotations: [Annotation]) {
        guard !annotations.isEmpty else { return }
        record.annotations += annotations
        save()
    }

    func job(_ key: String) -> JobRecord? { record.job(key) }

    private func save() {
        do { try store.save(record) } catch { if saveError == nil { saveError = masker.mask("\(error)") } }
    }
}
