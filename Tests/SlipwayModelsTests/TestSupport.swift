import Foundation
import SlipwayModels

/// A file in a fresh temporary folder, removed when the value is released.
final class TemporaryFile {
    let directory: URL
    let url: URL

    init(contents: String, name: String = "data.csv") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        url = directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

/// A temporary folder, removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A seeded generator for repeatable random tests (SplitMix64).
struct TestRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    mutating func gaussian() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let v = Double.random(in: 0..<1, using: &self)
        return (-2 * Foundation.log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

/// The example data sets shipped under examples/data.
enum ExampleData {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/data")

    static func load(_ set: String, target: String) throws -> (train: LabeledData, test: LabeledData) {
        let train = try LabeledData.load(csv: root.appendingPathComponent("\(set)/train.csv"), target: target)
        let test = try LabeledData.load(csv: root.appendingPathComponent("\(set)/test.csv"), target: target, encoding: train.encoding)
        return (train, test)
    }

    static func breastCancer() throws -> (train: LabeledData, test: LabeledData) { try load("breast-cancer", target: "target") }
    static func digits() throws -> (train: LabeledData, test: LabeledData) { try load("digits", target: "digit") }

    /// Three well-separated Gaussian blobs with text labels, made deterministically.
    static func blobs(samples: Int, seed: UInt64) -> LabeledData {
        var random = TestRandom(seed: seed)
        let centers: [(String, [Double])] = [("north", [0, 4, 1]), ("south", [0, -4, -1]), ("east", [4, 0, 0])]
        var features: [[Double]] = []
        var labels: [String] = []
        for i in 0..<samples {
            let (label, center) = centers[i % 3]
            features.append(center.map { $0 + random.gaussian() })
            labels.append(label)
        }
        let encoding = FeatureEncoding(columns: [InputColumn(name: "x"), InputColumn(name: "y"), InputColumn(name: "z")])
        return LabeledData(target: "direction", encoding: encoding, features: features, labels: labels)
    }
}
