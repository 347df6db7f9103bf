// Times SlipwayStats on the inputs written by bench/stats/run.sh and prints one JSON line per
// workload: {"side": "slipway", "name": …, "seconds": …, "check": …}.
//
// Usage: StatsBench DATA_DIR
import Foundation
import SlipwayStats

func readDoubles(_ path: String) -> [Double] {
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
        exit(2)
    }
    return data.withUnsafeBytes { raw in Array(raw.bindMemory(to: Double.self)) }
}

func time<T>(_ body: () throws -> T) rethrows -> (Double, T) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    let end = DispatchTime.now().uptimeNanoseconds
    return (Double(end - start) / 1e9, value)
}

func report(_ name: String, _ seconds: Double, _ check: Double) {
    print("{\"side\": \"slipway\", \"name\": \"\(name)\", \"seconds\": \(seconds), \"check\": \(check)}")
}

let args = CommandLine.arguments
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: StatsBench DATA_DIR\n".utf8))
    exit(2)
}
let dir = args[1]
let a = readDoubles(dir + "/a.f64")
let b = readDoubles(dir + "/b.f64")
let props = readDoubles(dir + "/proportions.f64")

do {
    let (ks, ksResult) = try time { try ksTwoSample(a, b) }
    report("ks_1e6_vs_1e6", ks, ksResult.pValue)

    let a5 = Array(a.prefix(100_000))
    let b5 = Array(b.prefix(100_000))
    let (mw, mwResult) = try time { try mannWhitneyU(a5, b5) }
    report("mannwhitney_1e5_vs_1e5", mw, mwResult.pValue)
    // No scipy counterpart: the Hodges–Lehmann shift over all 10^10 pairwise differences.
    let (hl, hlResult) = try time { try hodgesLehmann(a5, b5) }
    report("hodges_lehmann_1e5_vs_1e5", hl, hlResult.estimate)

    // Best of five passes, as the scipy side does.
    var best = Double.infinity
    var total = 0.0
    for _ in 0..<5 {
        let (seconds, sum) = try time { () throws -> Double in
            var sum = 0.0
            var i = 0
            while i + 3 < props.count {
                let r = try twoProportionZTest(
                    control: Proportion(successes: props[i], trials: props[i + 1]),
                    treatment: Proportion(successes: props[i + 2], trials: props[i + 3]))
                sum += r.pValue
                i += 4
            }
            return sum
        }
        best = min(best, seconds)
        total = sum
    }
    report("proportions_10000_tests", best, total)

    // The same 10,000 tests through the batch API, which spreads them over the cores.
    var controls: [Proportion] = []
    var treatments: [Proportion] = []
    var i = 0
    while i + 3 < props.count {
        controls.append(try Proportion(successes: props[i], trials: props[i + 1]))
        treatments.append(try Proportion(successes: props[i + 2], trials: props[i + 3]))
        i += 4
    }
    var bestBatch = Double.infinity
    var batchTotal = 0.0
    for _ in 0..<5 {
        let (seconds, results) = try time { try twoProportionZTests(controls: controls, treatments: treatments) }
        bestBatch = min(bestBatch, seconds)
        batchTotal = results.reduce(0) { $0 + $1.pValue }
    }
    report("proportions_10000_batch", bestBatch, batchTotal)
} catch {
    FileHandle.standardError.write(Data("benchmark failed: \(error)\n".utf8))
    exit(1)
}
