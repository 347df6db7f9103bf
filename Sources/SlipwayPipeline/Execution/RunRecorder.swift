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

    /// Saves are coalesced: the first and the final state are written at once, changes in between at
    /// most every `interval`, so a run of many short jobs does not rewrite its record for every change.
    private var savedOnce = false
    private var flushScheduled = false
    private static let interval = Duration.milliseconds(100)

    private func save() {
        if !savedOnce || record.state == .completed {
            write()
            return
        }
        guard !flushScheduled else { return }
        flushScheduled = true
        Task {
            try? await Task.sleep(for: Self.interval)
            self.flushScheduledSave()
        }
    }

    private func flushScheduledSave() {
        flushScheduled = false
        if record.state != .completed { write() }
    }

    private func write() {
        savedOnce = true
        do { try store.save(record) } catch { if saveError == nil { saveError = masker.mask("\(error)") } }
    }
}
