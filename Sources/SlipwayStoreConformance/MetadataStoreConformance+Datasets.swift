import Foundation
import SlipwayCore
public import SlipwayStore
import Testing

extension MetadataStoreConformance {
    /// Every dataset case, by name; part of ``all``.
    public static let datasetCases: [(String, Case)] = [
        ("datasetsRoundTrip", datasetsRoundTrip),
        ("datasetRegistrationIsIdempotent", datasetRegistrationIsIdempotent),
        ("datasetsRejectHostileInput", datasetsRejectHostileInput),
    ]

    static func newDataset(_ name: String = "data/train.csv", digest: Digest = digestA, rows: Int64? = 569) -> NewDataset {
        NewDataset(
            name: name, digest: digest, kind: "file", size: 125_204, files: 1, rows: rows,
            columns: [DatasetColumn(name: "radius", type: "number"), DatasetColumn(name: "day", type: "datetime")], timeColumn: "day",
            dateFrom: "2026-01-01", dateTo: "2026-03-31", description: "Wisconsin diagnostic breast cancer")
    }

    /// A registered dataset reads back as stored; by digest, and without one as the name's latest.
    public static func datasetsRoundTrip(_ store: any MetadataStore) async throws {
        let (first, created) = try await store.registerDataset(newDataset(), actor: alice)
        #expect(created)
        #expect(first.name == "data/train.csv" && first.digest == digestA && first.rows == 569 && first.files == 1)
        #expect(first.columns.map(\.name) == ["radius", "day"] && first.timeColumn == "day")
        #expect(first.dateFrom == "2026-01-01" && first.dateTo == "2026-03-31" && first.createdBy == alice)
        #expect(try await store.dataset(named: "data/train.csv", digest: digestA) == first)
        let (second, _) = try await store.registerDataset(newDataset(digest: digestB, rows: 600), actor: bob)
        #expect(try await store.dataset(named: "data/train.csv", digest: nil) == second)
        #expect(try await store.dataset(named: "data/train.csv", digest: digestA) == first)
        #expect(try await store.dataset(named: "nope", digest: nil) == nil)
        _ = try await store.registerDataset(newDataset("data/test.csv"), actor: alice)
        #expect(try await store.datasets(named: nil, limit: 10).map(\.name) == ["data/test.csv", "data/train.csv", "data/train.csv"])
        #expect(try await store.datasets(named: "data/train.csv", limit: 10).map(\.digest) == [digestB, digestA])
        #expect(try await store.datasets(named: nil, limit: 1).count == 1)
        let audit = try await store.auditEvents(model: nil, limit: 50, beforeId: nil).filter { $0.action == "dataset.register" }
        #expect(audit.count == 3 && audit.allSatisfy { $0.after?.contains("data/") == true })
    }

    /// The same name and contents registered again return the first registration and write nothing.
    public static func datasetRegistrationIsIdempotent(_ store: any MetadataStore) async throws {
        let (first, _) = try await store.registerDataset(newDataset(), actor: alice)
        let (again, created) = try await store.registerDataset(newDataset(rows: 1), actor: bob)
        #expect(!created && again == first && again.rows == 569 && again.createdBy == alice)
        let audit = try await store.auditEvents(model: nil, limit: 50, beforeId: nil).filter { $0.action == "dataset.register" }
        #expect(audit.count == 1)
    }

    /// Hostile names, kinds, sizes and limits are refused with a sentence; SQL in names is only text.
    public static func datasetsRejectHostileInput(_ store: any MetadataStore) async throws {
        await expectError(.invalidArgument, containing: ["name"]) { _ = try await store.registerDataset(newDataset(""), actor: alice) }
        await expectError(.invalidArgument, containing: ["name"]) {
            _ = try await store.registerDataset(newDataset(String(repeating: "x", count: 2000)), actor: alice)
        }
        var folder = newDataset()
        folder.kind = "socket"
        await expectError(.invalidArgument, containing: ["kind"]) { _ = try await store.registerDataset(folder, actor: alice) }
        var negative = newDataset()
        negative.size = -1
        await expectError(.invalidArgument, containing: ["negative"]) { _ = try await store.registerDataset(negative, actor: alice) }
        var wide = newDataset()
        wide.columns = (0..<10_001).map { DatasetColumn(name: "c\($0)", type: "number") }
        await expectError(.invalidArgument, containing: ["columns"]) { _ = try await store.registerDataset(wide, actor: alice) }
        await expectError(.invalidArgument, containing: ["limit"]) { _ = try await store.datasets(named: nil, limit: 0) }
        let hostile = "x'; DROP TABLE datasets; --"
        _ = try await store.registerDataset(newDataset(hostile), actor: alice)
        #expect(try await store.dataset(named: hostile, digest: nil)?.name == hostile)
        #expect(try await store.datasets(named: nil, limit: 10).count == 1)
    }
}
