// Search latency of SQLiteMetadataStore over 100 models x 1,000 versions (see run.sh).
//
// Each version has tags team (one of four, so 25 % are 'nlp') and dataset (reviews-0 … reviews-999, so each
// value matches 0.1 %), parameters lr and depth, and metrics accuracy (uniform in 0.5…1, so 20 % are above 0.9)
// and f1. Each line prints the filter, the page size, p50 and p99, and a checksum of the first two pages, so
// that two builds can be compared for identical answers.
import Foundation
import SlipwayCore
import SlipwayStore
import SlipwayStoreSQLite

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let args = CommandLine.arguments
let path = args.count > 1 ? args[1] : "/tmp/slw-bench/bench.sqlite"
let rounds = args.count > 2 ? Int(args[2])! : 1000
let fresh = !FileManager.default.fileExists(atPath: path)
let store = try SQLiteMetadataStore(path: path)
let clock = ContinuousClock()
if fresh {
    var rng = SplitMix(state: 42)
    let teams = ["nlp", "vision", "search", "ads"]
    let start = clock.now
    for m in 0..<100 { _ = try await store.createModel(NewModel(name: String(format: "load-%04d", m)), actor: "bench") }
    var global = 0
    for _ in 0..<10 {
        for m in 0..<100 {
            let name = String(format: "load-%04d", m)
            var batch: [NewVersion] = []
            for _ in 0..<100 {
                var lineage = Lineage(parameters: [
                    "lr": "0.0\(Int.random(in: 1...9, using: &rng))", "depth": "\(Int.random(in: 2...12, using: &rng))",
                ])
                lineage.metrics = [
                    "accuracy": (Double.random(in: 0.5...1.0, using: &rng) * 10000).rounded() / 10000,
                    "f1": (Double.random(in: 0.4...1.0, using: &rng) * 10000).rounded() / 10000,
                ]
                batch.append(
                    NewVersion(
                        model: name, source: "s3://bench-bucket/\(name)/\(global)",
                        tags: ["team": teams.randomElement(using: &rng)!, "dataset": "reviews-\(global % 1000)"], lineage: lineage))
                global += 1
            }
            _ = try await store.createVersions(model: name, batch, actor: "bench")
        }
        // Batches a few milliseconds apart, so that creation times differ between batches.
        try await Task.sleep(for: .milliseconds(2))
    }
    print("loaded \(global) versions in \(clock.now - start)")
}

func ms(_ d: Duration) -> String {
    let (s, a) = d.components
    return String(format: "%.2f", Double(s) * 1000 + Double(a) / 1e15)
}

func hashIds(_ items: [ModelVersion]) -> String {
    var h: UInt64 = 1_469_598_103_934_665_603
    for item in items {
        for b in "\(item.model)@\(item.version)|\(item.tags.sorted { $0.key < $1.key })|\(item.lineage.metrics.sorted { $0.key < $1.key })".utf8 {
            h = (h ^ UInt64(b)) &* 1_099_511_628_211
        }
    }
    return String(h, radix: 16)
}

let cases: [(String, String)] = [
    ("tag+metric", "tags.team = 'nlp' AND metrics.accuracy > 0.9"),
    ("tag dense", "tags.team = 'nlp'"),
    ("metric dense", "metrics.accuracy > 0.9"),
    ("tag sparse", "tags.dataset = 'reviews-7'"),
    ("name", "name = 'load-0007'"),
    ("unfiltered", ""),
]
for (label, text) in cases {
    let filter = try SearchFilterParser.parse(text)
    let query = SearchQuery(filter: filter, limit: 100)
    let first = try await store.searchVersions(query)
    var second: Page<ModelVersion>?
    if let token = first.nextPageToken {
        second = try await store.searchVersions(SearchQuery(filter: filter, limit: 100, pageToken: token))
    }
    for _ in 0..<20 { _ = try await store.searchVersions(query) }
    var samples: [Duration] = []
    samples.reserveCapacity(rounds)
    for _ in 0..<rounds {
        let start = clock.now
        _ = try await store.searchVersions(query)
        samples.append(clock.now - start)
    }
    samples.sort()
    let line =
        "| `\(text.isEmpty ? "(none)" : text)` | \(first.items.count) | p50 \(ms(samples[samples.count / 2])) ms | p99 \(ms(samples[samples.count * 99 / 100])) ms |"
    print(line + " check \(hashIds(first.items)) \(second.map { hashIds($0.items) + " n=\($0.items.count)" } ?? "-")  [\(label)]")
}
