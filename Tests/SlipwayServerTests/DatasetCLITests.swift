import Foundation
import SlipwayCore
import Testing

/// `slipway datasets` and `slipway versions create --data` as child processes on a real project folder and
/// a real SQLite store: tracked data is registered with what Slipway reads from it and named in the lineage.
@Suite(.timeLimit(.minutes(3))) struct DatasetCLITests {
    static let csv = #"""
        day,amount,country,fraud
        2026-01-03,12.5,DE,0
        2026-01-01,80,FR,1
        2026-02-11,7.25,DE,0
        2026-01-20,,"New ""Caledonia""",0

        """#

    /// A project folder (`.slipway/` marks its root) with data/train.csv tracked, and a data folder for the store.
    static func project(_ label: String) throws -> (root: URL, dataDir: String, cli: ([String]) async throws -> (status: Int32, stdout: String, stderr: String)) {
        let root = try makeScratchFolder(label)
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".slipway"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("data"), withIntermediateDirectories: true)
        try csv.write(to: root.appendingPathComponent("data/train.csv"), atomically: true, encoding: .utf8)
        try Data("model".utf8).write(to: root.appendingPathComponent("model.bin"))
        let dataDir = root.appendingPathComponent("store").path
        let cli = { (arguments: [String]) in try await runCLI(arguments + ["--data-dir", dataDir], in: root) }
        return (root, dataDir, cli)
    }

    @Test func trackedDataIsRegisteredAndNamedInTheLineage() async throws {
        let (root, _, cli) = try Self.project("datasets-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let added = try await runCLI(["data", "add", "data/train.csv"], in: root)
        #expect(added.status == 0, "\(added.stderr)")
        let pointer = try String(contentsOf: root.appendingPathComponent("data/train.csv.slipway"), encoding: .utf8)
        let digest = try #require(pointer.split(separator: "\n").first { $0.hasPrefix("digest:") }.map { $0.dropFirst(7).trimmingCharacters(in: .whitespaces) })

        let registered = try await cli(["datasets", "register", "data/train.csv.slipway", "--time-column", "day", "--json"])
        #expect(registered.status == 0, "\(registered.stderr)")
        let dataset = try SlipwayJSON.decoder().decode(Dataset.self, from: Data(registered.stdout.utf8))
        #expect(dataset.name == "data/train.csv" && dataset.digest.description == digest && dataset.rows == 4)
        #expect(dataset.columns == [
            DatasetColumn(name: "day", type: "datetime"), DatasetColumn(name: "amount", type: "number"),
            DatasetColumn(name: "country", type: "string"), DatasetColumn(name: "fraud", type: "integer"),
        ])
        #expect(dataset.dateFrom == "2026-01-01" && dataset.dateTo == "2026-02-11")

        #expect(try await cli(["models", "create", "fraud"]).status == 0)
        let created = try await cli(["versions", "create", "fraud", "--artifact", "model.bin", "--data", "data/train.csv", "--no-probe", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let version = try SlipwayJSON.decoder().decode(ModelVersion.self, from: Data(created.stdout.utf8))
        #expect(version.lineage.trainingData.map(\.uri) == ["slipway-data:data/train.csv"])
        #expect(version.lineage.trainingData.first?.digest?.description == digest && version.lineage.trainingData.first?.rows == 4)
        let shown = try await cli(["versions", "show", "fraud", "1"])
        #expect(shown.stdout.contains("slipway-data:data/train.csv") && shown.stdout.contains(digest), "\(shown.stdout)")
        let listed = try await cli(["datasets", "list"])
        #expect(listed.status == 0 && listed.stdout.contains("data/train.csv") && listed.stdout.contains("2026-01-01"), "\(listed.stdout)")
        let show = try await cli(["datasets", "show", "data/train.csv"])
        #expect(show.status == 0 && show.stdout.contains("country (string)"), "\(show.stdout)")
    }

    @Test func changedMissingAndUntrackedDataAreRefusedWithNothingRegistered() async throws {
        let (root, _, cli) = try Self.project("datasets-cli-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try await runCLI(["data", "add", "data/train.csv"], in: root).status == 0)
        #expect(try await cli(["models", "create", "fraud"]).status == 0)

        // A time column the data does not have.
        let noColumn = try await cli(["datasets", "register", "data/train.csv", "--time-column", "when"])
        #expect(noColumn.status != 0 && noColumn.stderr.contains("'when'"), "\(noColumn.stderr)")
        // Untracked data, and a path outside the project.
        try "x,y\n1,2\n".write(to: root.appendingPathComponent("data/other.csv"), atomically: true, encoding: .utf8)
        let untracked = try await cli(["versions", "create", "fraud", "--artifact", "model.bin", "--data", "data/other.csv", "--no-probe"])
        #expect(untracked.status != 0 && untracked.stderr.contains("slipway data add"), "\(untracked.stderr)")
        let outside = try await cli(["datasets", "register", "/etc/passwd"])
        #expect(outside.status != 0 && outside.stderr.contains("outside the project"), "\(outside.stderr)")
        // Data changed since its pointer: the profile would describe other data.
        try (Self.csv + "2026-03-01,1,DE,0\n").write(to: root.appendingPathComponent("data/train.csv"), atomically: true, encoding: .utf8)
        let changed = try await cli(["versions", "create", "fraud", "--artifact", "model.bin", "--data", "data/train.csv", "--no-probe"])
        #expect(changed.status != 0 && changed.stderr.contains("changed since its pointer"), "\(changed.stderr)")
        // A corrupt pointer.
        try "kind: file\ndigest: nope\n".write(to: root.appendingPathComponent("data/train.csv.slipway"), atomically: true, encoding: .utf8)
        let corrupt = try await cli(["datasets", "register", "data/train.csv"])
        #expect(corrupt.status != 0 && corrupt.stderr.contains("train.csv.slipway"), "\(corrupt.stderr)")

        // Nothing was registered, no version was created.
        let listed = try await cli(["datasets", "list", "--json"])
        let datasets = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["datasets"] as? [Any]
        #expect(listed.status == 0 && datasets?.isEmpty == true, "\(listed.stdout)")
        #expect(try await cli(["versions", "list", "fraud", "--json"]).stdout.contains("\"version\"") == false)
    }
}
