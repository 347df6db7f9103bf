import Foundation
import SlipwayStats
import Testing

@Suite("Accumulators")
struct AccumulatorTests {
    @Test("merged accumulators equal one accumulator over all values")
    func mergeMoments() throws {
        let values = (0..<1000).map { Double(($0 * 7919) % 1009) / 10 }
        var whole = MomentAccumulator()
        whole.add(contentsOf: values)
        var shards = [MomentAccumulator](repeating: MomentAccumulator(), count: 4)
        for (i, v) in values.enumerated() { shards[i % 4].add(v) }
        let merged = shards.reduce(MomentAccumulator()) { $0.merging($1) }
        #expect(merged.count == whole.count)
        #expect(abs(merged.sum - whole.sum) <= 1e-9 * whole.sum)
        #expect(abs(merged.sumOfSquares - whole.sumOfSquares) <= 1e-9 * whole.sumOfSquares)
        let direct = try SampleSummary(values)
        #expect(abs(merged.summary.variance - direct.variance) <= 1e-9 * direct.variance)
        #expect(abs(merged.summary.mean - direct.mean) <= 1e-12 * direct.mean)
    }

    @Test("tests run on accumulated summaries give the raw-data answer")
    func testsFromAccumulators() throws {
        let a = (0..<300).map { Double(($0 * 31) % 97) / 9 }
        let b = (0..<280).map { Double(($0 * 37) % 101) / 9 + 0.4 }
        var sa = MomentAccumulator()
        var sb = MomentAccumulator()
        sa.add(contentsOf: a)
        sb.add(contentsOf: b)
        let fromRaw = try welchTTest(a, b)
        let fromSums = try welchTTest(control: sa.summary, treatment: sb.summary)
        #expect(abs(fromRaw.pValue - fromSums.pValue) <= 1e-9 * fromRaw.pValue)
        #expect(abs(fromRaw.t - fromSums.t) <= 1e-9 * abs(fromRaw.t))
    }

    @Test("pair accumulators merge and give the sample covariance")
    func pairs() {
        var p = PairAccumulator()
        var q = PairAccumulator()
        let xs = [1.0, 2, 3, 4, 5, 6]
        let ys = [2.0, 4.5, 5.5, 8, 10, 13]
        for i in 0..<3 { p.add(x: xs[i], y: ys[i]) }
        for i in 3..<6 { q.add(x: xs[i], y: ys[i]) }
        p.merge(q)
        let mx = xs.reduce(0, +) / 6
        let my = ys.reduce(0, +) / 6
        let cov = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / 5
        #expect(abs(p.covariance - cov) <= 1e-12 * cov)
    }

    @Test("histograms bin like numpy and refuse to merge different edges")
    func histograms() throws {
        var h = try HistogramAccumulator(edges: [0, 1, 2, 3])
        h.add(contentsOf: [0, 0.5, 1, 2.999, 3, -1, 4, .nan])
        #expect(h.counts == [2, 1, 2])
        #expect(h.outOfRange == 3)
        let other = try HistogramAccumulator(edges: [0, 1, 2])
        #expect(throws: StatsError.self) { try h.merge(other) }
        #expect(throws: StatsError.self) { try HistogramAccumulator(edges: [0, 0, 1]) }
    }
}

@Suite("Hodges–Lehmann selection")
struct HodgesLehmannTests {
    @Test("selection without forming the differences equals the sorted differences", arguments: [3, 50, 400])
    func selection(n: Int) throws {
        let a = (0..<n).map { Double(($0 * 7919) % 613) / 7 }
        let b = (0..<(n + 7)).map { Double(($0 * 104_729) % 619) / 7 + 1 }
        var all: [Double] = []
        for x in a { for y in b { all.append(y - x) } }
        all.sort()
        let r = try hodgesLehmann(a, b)
        let m = all.count
        let median = m % 2 == 1 ? all[m / 2] : 0.5 * (all[m / 2 - 1] + all[m / 2])
        #expect(r.estimate == median)
        #expect(r.ciLow <= r.estimate && r.estimate <= r.ciHigh)
    }

    @Test("large samples finish quickly", .timeLimit(.minutes(1)))
    func large() throws {
        let a = (0..<30_000).map { Double(($0 * 7919) % 30_011) / 300 }
        let b = (0..<30_000).map { Double(($0 * 104_729) % 30_013) / 300 + 0.5 }
        let r = try hodgesLehmann(a, b)
        #expect(abs(r.estimate - 0.5) < 0.1)
    }
}

@Suite("Canary judge")
struct KayentaJudgeTests {
    static let baseline = (0..<60).map { 100 + Double(($0 * 37) % 17) }

    @Test("an unchanged canary passes with a full score")
    func unchanged() throws {
        let judge = KayentaJudge(metrics: [.init(name: "latency", direction: .increase)])
        let r = try judge.judge(["latency": (Self.baseline, Self.baseline.map { $0 + 0.0 })])
        #expect(r.verdict == .pass)
        #expect(r.score == 100)
        #expect(r.metrics[0].classification == .pass)
    }

    @Test("a significant increase is High and fails a critical metric")
    func increase() throws {
        let judge = KayentaJudge(metrics: [.init(name: "latency", direction: .increase, critical: true), .init(name: "cpu")])
        let r = try judge.judge(["latency": (Self.baseline, Self.baseline.map { $0 * 1.5 }), "cpu": (Self.baseline, Self.baseline)])
        #expect(r.metrics[0].classification == .high)
        #expect(r.metrics[0].failsCanary)
        #expect(r.verdict == .fail)
        #expect(r.score == 50)
    }

    @Test("direction and tolerance decide what counts as a failure")
    func directionAndTolerance() throws {
        let lower = Self.baseline.map { $0 * 0.5 }
        let higher = Self.baseline.map { $0 * 1.02 }
        let judge = KayentaJudge(metrics: [
            .init(name: "latency", direction: .increase),
            .init(name: "throughput", direction: .decrease),
            .init(name: "errors", direction: .increase, allowedIncrease: 0.05),
            .init(name: "missing"),
        ])
        let r = try judge.judge([
            "latency": (Self.baseline, lower), "throughput": (Self.baseline, lower), "errors": (Self.baseline, higher),
        ])
        #expect(r.metrics[0].classification == .pass)
        #expect(r.metrics[1].classification == .low)
        #expect(r.metrics[2].classification == .pass)
        #expect(r.metrics[3].classification == .noData)
        #expect(abs(r.score - 200.0 / 3) < 1e-9)
        #expect(r.verdict == .fail)
    }

    @Test("weights and thresholds give a marginal verdict")
    func marginal() throws {
        let judge = KayentaJudge(
            metrics: [.init(name: "a", weight: 8), .init(name: "b", weight: 2)], passThreshold: 90, marginalThreshold: 70)
        let r = try judge.judge(["a": (Self.baseline, Self.baseline), "b": (Self.baseline, Self.baseline.map { $0 + 50 })])
        #expect(r.score == 80)
        #expect(r.verdict == .marginal)
    }

    @Test("a critical effect-size limit fails the canary")
    func criticalLimit() throws {
        let judge = KayentaJudge(metrics: [.init(name: "a", direction: .increase, allowedIncrease: 0.01, criticalIncrease: 0.2)])
        let r = try judge.judge(["a": (Self.baseline, Self.baseline.map { $0 * 1.3 })])
        #expect(r.metrics[0].failsCanary)
        #expect(r.verdict == .fail)
    }
}

@Suite("Drift detection")
struct DriftDetectorTests {
    @Test("the default test depends on column kind, size and labels")
    func chooser() {
        let d = DriftDetector()
        #expect(d.method(for: .numerical([]), referenceCount: 1000) == .kolmogorovSmirnov)
        #expect(d.method(for: .numerical([]), referenceCount: 1001) == .wassersteinNormed)
        #expect(d.method(for: .categorical([]), referenceCount: 500, labels: 2) == .proportionZTest)
        #expect(d.method(for: .categorical([]), referenceCount: 500, labels: 3) == .chiSquare)
        #expect(d.method(for: .categorical([]), referenceCount: 5000, labels: 3) == .jensenShannon)
    }

    @Test("drifted columns are flagged and dataset drift follows the share")
    func dataset() throws {
        let ref = (0..<800).map { Double(($0 * 7919) % 1009) / 100 }
        let same = (0..<700).map { Double(($0 * 104_729) % 1013) / 100 }
        let shifted = same.map { $0 + 3 }
        let bigRef = (0..<5000).map { Double(($0 * 7919) % 5003) / 500 }
        let bigCur = (0..<5000).map { Double(($0 * 104_729) % 5009) / 500 + 2 }
        let labels = (0..<600).map { ["a", "b", "c"][$0 % 3] }
        let skewed = (0..<600).map { $0 % 5 == 0 ? "a" : "b" }
        let r = try DriftDetector().detect(
            reference: ["x": .numerical(ref), "y": .numerical(ref), "big": .numerical(bigRef), "cat": .categorical(labels)],
            current: ["x": .numerical(same), "y": .numerical(shifted), "big": .numerical(bigCur), "cat": .categorical(skewed)])
        let byName = Dictionary(uniqueKeysWithValues: r.columns.map { ($0.name, $0) })
        #expect(byName["x"]?.drifted == false)
        #expect(byName["y"]?.drifted == true)
        #expect(byName["big"]?.method == .wassersteinNormed)
        #expect(byName["big"]?.drifted == true)
        #expect(byName["cat"]?.method == .chiSquare)
        #expect(byName["cat"]?.drifted == true)
        #expect(r.driftShare == 0.75)
        #expect(r.datasetDrift)
        #expect(throws: StatsError.self) {
            try DriftDetector().detect(reference: ["x": .numerical(ref)], current: ["x": .categorical(labels)])
        }
    }
}

@Suite("Bucketing")
struct BucketingTests {
    /// The `hash` vectors of GrowthBook's cross-SDK test suite (seed, value, version, bucket).
    static let sdkHashCases: [(String, String, Int, Double?)] = [
        ("", "a", 1, 0.22), ("", "b", 1, 0.077), ("b", "a", 1, 0.946), ("ef", "d", 1, 0.652), ("asdf", "8952klfjas09ujk", 1, 0.549),
        ("", "123", 1, 0.011), ("", "___)((*\":&", 1, 0.563), ("seed", "a", 2, 0.0505), ("seed", "b", 2, 0.2696), ("foo", "ab", 2, 0.2575),
        ("foo", "def", 2, 0.2019), ("89123klj", "8952klfjas09ujkasdf", 2, 0.124), ("90850943850283058242805", "123", 2, 0.7516),
        ("()**(%$##$%#$#", "___)((*\":&", 2, 0.0128), ("abc", "def", 99, nil),
        // Buckets of the suite's feature cases (the seed is the feature key).
        ("feature", "123", 1, 0.863), ("feature", "456", 1, 0.178), ("feature", "fds", 1, 0.514), ("feature", "123", 2, 0.5231),
    ]

    @Test("GrowthBook's cross-SDK hash cases")
    func sdkHashes() {
        for (seed, value, version, expected) in Self.sdkHashCases {
            #expect(Bucketing.hash(seed: seed, value: value, version: version) == expected, "\(seed) \(value) v\(version)")
        }
    }

    @Test("the allocation-free version 2 hash equals its definition, fnv1a32(String(fnv1a32(seed + value)))")
    func hashV2MatchesItsDefinition() {
        func reference(_ text: String) -> UInt32 {
            var hash: UInt32 = 0x811C_9DC5
            for unit in text.utf16 {
                hash ^= UInt32(unit)
                hash = hash &* 0x0100_0193
            }
            return hash
        }
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = Array("aZ09-_ é日本😀\u{0}\u{7F}\u{80}\u{FFFF}")
        var cases: [(String, String)] = [("", ""), ("seed", ""), ("", "v"), ("exp", "user-1"), ("ünï", "😀x")]
        for _ in 0..<2000 {
            let seed = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let value = String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            cases.append((seed, value))
        }
        for (seed, value) in cases {
            #expect(Bucketing.hashV2(seed: seed, value: value) == reference(String(reference(seed + value))), "\(seed) \(value)")
            #expect(Bucketing.fnv1a32(seed + value) == reference(seed + value))
        }
    }

    @Test("GrowthBook's cross-SDK bucket ranges, with invalid weights rejected instead of replaced")
    func sdkRanges() throws {
        let valid: [(Int, Double, [Double]?, [[Double]])] = [
            (2, 1, nil, [[0, 0.5], [0.5, 1]]), (2, 0.5, nil, [[0, 0.25], [0.5, 0.75]]), (2, 0, nil, [[0, 0], [0.5, 0.5]]),
            (4, 1, nil, [[0, 0.25], [0.25, 0.5], [0.5, 0.75], [0.75, 1]]), (2, 1, [0.4, 0.6], [[0, 0.4], [0.4, 1]]),
            (3, 1, [0.2, 0.3, 0.5], [[0, 0.2], [0.2, 0.5], [0.5, 1]]), (3, 0.2, [0.2, 0.3, 0.5], [[0, 0.04], [0.2, 0.26], [0.5, 0.6]]),
            (2, -0.2, nil, [[0, 0], [0.5, 0.5]]), (2, 1.5, nil, [[0, 0.5], [0.5, 1]]), (2, 1, [0.4, 0.5999], [[0, 0.4], [0.4, 0.9999]]),
        ]
        for (arms, coverage, weights, expected) in valid {
            let ranges = try Bucketing.bucketRanges(arms: arms, coverage: coverage, weights: weights)
            #expect(ranges.count == expected.count)
            for (r, e) in zip(ranges, expected) {
                #expect(abs(r.lower - e[0]) < 1e-12 && abs(r.upper - e[1]) < 1e-12, "\(arms) \(coverage) \(String(describing: weights))")
            }
        }
        #expect(throws: StatsError.self) { try Bucketing.bucketRanges(arms: 2, weights: [0.4, 0.1]) }
        #expect(throws: StatsError.self) { try Bucketing.bucketRanges(arms: 2, weights: [0.7, 0.6]) }
        #expect(throws: StatsError.self) { try Bucketing.bucketRanges(arms: 4, weights: [0.4, 0.4, 0.2]) }
    }

    @Test("assignments are spread evenly over arms")
    func uniform() throws {
        let ranges = try Bucketing.bucketRanges(arms: 4)
        var counts = [0, 0, 0, 0]
        for i in 0..<40_000 {
            if let arm = Bucketing.chooseArm(hash: Bucketing.hash(seed: "exp", value: "user-\(i)", version: 2)!, ranges: ranges) { counts[arm] += 1 }
        }
        let srm = try srmCheck(counts: counts.map(Double.init))
        #expect(!srm.isMismatch)
    }
}

@Suite("Distribution identities")
struct IdentityTests {
    @Test("quantiles invert the distribution functions", arguments: [0.7, 2.0, 11.0, 250.0])
    func inverses(df: Double) {
        let t = StudentT(df: df)
        for p in [1e-12, 1e-4, 0.05, 0.3, 0.5, 0.9, 0.999] {
            let x = t.ppf(p)
            #expect(abs(t.cdf(x) - p) <= 1e-12 * max(p, 1e-3), "df \(df) p \(p)")
            let z = Normal.ppf(p)
            #expect(abs(Normal.cdf(z) - p) <= 1e-13 * p + 1e-16)
        }
    }

    @Test("Gauss–Legendre weights integrate polynomials exactly")
    func quadrature() throws {
        // P(X > Y) for X ~ Beta(2.5, 3.5), Y ~ Beta(2.5, 3.5) is ½ by symmetry (exercises the integration path).
        let p = probabilityBetaGreater(2.5, 3.5, than: 2.5, 3.5)
        #expect(abs(p - 0.5) < 1e-10)
        let q = probabilityBetaGreater(3, 5, than: 3, 5)
        #expect(abs(q - 0.5) < 1e-12)
    }
}

@Suite("Beta-binomial")
struct BetaBinomialTests {
    @Test("credible intervals are the Beta posterior quantiles and contain the posterior mean")
    func intervals() throws {
        let r = try betaBinomialTest(control: Proportion(successes: 30, trials: 200), treatment: Proportion(successes: 45, trials: 210))
        #expect(r.controlInterval.contains(r.controlMean))
        #expect(r.treatmentInterval.contains(r.treatmentMean))
        let posterior = BetaDistribution(a: 31, b: 171)
        #expect(abs(posterior.cdf(r.controlInterval.lowerBound) - 0.025) < 1e-12)
        #expect(abs(posterior.sf(r.controlInterval.upperBound) - 0.025) < 1e-12)
        #expect(r.chanceToWin > 0.9)
        #expect(r.riskTreatment < r.riskControl)
    }
}

@Suite("Power round trips")
struct PowerRoundTripTests {
    @Test("the detectable effect at n needs exactly n units", arguments: [0.01, 0.1, 0.5, 0.9])
    func proportions(baseline: Double) throws {
        let mde = try PowerAnalysis.minimumDetectableEffectForProportions(baseline: baseline, n1: 5000)
        let n = try PowerAnalysis.sampleSizeForProportions(baseline: baseline, minimumDetectableEffect: mde)
        #expect(abs(n.perArmExact - 5000) < 1e-6)
        let power = PowerAnalysis.power(effectSize: PowerAnalysis.cohensH(baseline, baseline + mde), n1: 5000)
        #expect(abs(power - 0.8) < 1e-12)
    }

    @Test("means scale with the standard deviation")
    func means() throws {
        let d = try PowerAnalysis.minimumDetectableEffectForMeans(standardDeviation: 2, n1: 400, ratio: 2)
        let n = try PowerAnalysis.sampleSizeForMeans(standardDeviation: 2, minimumDetectableEffect: d, ratio: 2)
        #expect(abs(n.perArmExact - 400) < 1e-6)
        #expect(throws: StatsError.self) { try PowerAnalysis.minimumDetectableEffectForProportions(baseline: 0.99, n1: 3) }
    }
}

@Suite("Batch proportion tests")
struct BatchProportionTests {
    @Test("the batch API equals one call per pair and reports the first failing pair")
    func batch() throws {
        var controls: [Proportion] = []
        var treatments: [Proportion] = []
        for i in 0..<10_000 {
            let k = Double(i)
            controls.append(try Proportion(successes: 100 + k.truncatingRemainder(dividingBy: 50), trials: 1000 + k))
            treatments.append(try Proportion(successes: 110 + k.truncatingRemainder(dividingBy: 37), trials: 1000 + 2 * k))
        }
        let batch = try twoProportionZTests(controls: controls, treatments: treatments)
        for i in stride(from: 0, to: 10_000, by: 97) {
            #expect(batch[i] == (try twoProportionZTest(control: controls[i], treatment: treatments[i])))
        }
        var broken = controls
        broken[7000] = try Proportion(successes: 0, trials: 10)
        var brokenTreatments = treatments
        brokenTreatments[7000] = try Proportion(successes: 0, trials: 10)
        #expect(throws: StatsError.self) { try twoProportionZTests(controls: broken, treatments: brokenTreatments) }
        #expect(throws: StatsError.self) { try twoProportionZTests(controls: controls, treatments: Array(treatments.prefix(3))) }
    }
}
