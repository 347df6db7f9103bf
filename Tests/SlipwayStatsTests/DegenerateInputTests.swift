import Foundation
import SlipwayStats
import Testing

/// Bad input gives a typed `StatsError`, never a crash or a silent NaN.
@Suite("Degenerate input")
struct DegenerateInputTests {
    @Test("proportions reject negative counts, successes above trials, empty arms and non-finite values")
    func proportions() {
        #expect(throws: StatsError.negativeCount(what: "successes", value: -1)) { try Proportion(successes: -1, trials: 10) }
        #expect(throws: StatsError.successesExceedTrials(successes: 11, trials: 10)) { try Proportion(successes: 11, trials: 10) }
        #expect(throws: StatsError.tooFewObservations(what: "trials", count: 0, minimum: 1)) { try Proportion(successes: 0, trials: 0) }
        #expect(throws: StatsError.nonFiniteValue(what: "trials")) { try Proportion(successes: 1, trials: .infinity) }
        #expect(throws: StatsError.nonFiniteValue(what: "successes")) { try Proportion(successes: .nan, trials: 3) }
        #expect(throws: StatsError.self) { try Proportion(parsing: "12-100") }
        #expect(throws: StatsError.self) {
            try twoProportionZTest(control: Proportion(successes: 0, trials: 10), treatment: Proportion(successes: 0, trials: 12))
        }
        #expect(throws: StatsError.self) {
            try twoProportionZTest(control: Proportion(successes: 1, trials: 10), treatment: Proportion(successes: 2, trials: 12), alpha: 1.5)
        }
    }

    @Test("t-tests need two finite observations per sample and some variance")
    func ttests() {
        #expect(throws: StatsError.tooFewObservations(what: "control sample", count: 1, minimum: 2)) { try welchTTest([1], [1, 2, 3]) }
        #expect(throws: StatsError.nonFiniteValue(what: "sample")) { try welchTTest([1, .nan, 3], [1, 2, 3]) }
        #expect(throws: StatsError.nonFiniteValue(what: "sample")) { try studentTTest([1, 2], [1, -.infinity]) }
        #expect(throws: StatsError.zeroVariance(what: "both samples")) { try welchTTest([2, 2, 2], [3, 3]) }
        #expect(throws: StatsError.self) { try welchTTest([], []) }
    }

    @Test("SRM check validates counts and weights")
    func srm() {
        #expect(throws: StatsError.weightsDoNotSumToOne(sum: 1.1)) { try srmCheck(counts: [10, 20], weights: [0.5, 0.6]) }
        #expect(throws: StatsError.negativeCount(what: "arm count", value: -3)) { try srmCheck(counts: [10, -3]) }
        #expect(throws: StatsError.tooFewObservations(what: "arms", count: 1, minimum: 2)) { try srmCheck(counts: [10]) }
        #expect(throws: StatsError.lengthMismatch(what: "counts and weights", first: 2, second: 3)) {
            try srmCheck(counts: [10, 20], weights: [0.2, 0.3, 0.5])
        }
        #expect(throws: StatsError.self) { try srmCheck(counts: [0, 0]) }
        #expect(throws: StatsError.self) { try srmCheck(counts: [.nan, 4]) }
        #expect(throws: StatsError.self) { try srmCheck(counts: [5, 4], weights: [1, 0]) }
    }

    @Test("contingency tables must be rectangular, non-negative, without empty rows or columns")
    func contingency() throws {
        #expect(throws: StatsError.self) { try chiSquareContingency([[1, 2], [3]]) }
        #expect(throws: StatsError.self) { try chiSquareContingency([[1, -2], [3, 4]]) }
        #expect(throws: StatsError.self) { try chiSquareContingency([[0, 0], [3, 4]]) }
        #expect(throws: StatsError.self) { try chiSquareContingency([[0, 1], [0, 4]]) }
        #expect(throws: StatsError.self) { try parseContingencyTable("1,2/3,x") }
    }

    @Test("rank and distance tests reject empty or non-finite samples")
    func rankTests() {
        #expect(throws: StatsError.self) { try ksTwoSample([], [1]) }
        #expect(throws: StatsError.self) { try ksTwoSample([1, .nan], [1]) }
        #expect(throws: StatsError.self) { try mannWhitneyU([1, 2], []) }
        #expect(throws: StatsError.self) { try mannWhitneyU([.infinity], [1]) }
        #expect(throws: StatsError.self) { try mannWhitneyU([1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1]) }
        #expect(throws: StatsError.self) { try hodgesLehmann([], [1]) }
        #expect(throws: StatsError.self) { try wasserstein([1], []) }
        #expect(throws: StatsError.self) { try psi(reference: [0.5, 0.5], current: [1]) }
        #expect(throws: StatsError.self) { try kl(reference: [0.5, -0.5], current: [0.5, 0.5]) }
        #expect(throws: StatsError.self) { try jensenShannon(reference: [0, 0], current: [0.5, 0.5]) }
        #expect(throws: StatsError.self) { try Binning.sturges.edges(for: []) }
    }

    @Test("effects, power and corrections reject impossible parameters")
    func effects() {
        let zero = ArmStatistic.proportion(successes: 0, trials: 100)
        let some = ArmStatistic.proportion(successes: 5, trials: 100)
        #expect(throws: StatsError.self) { try frequentistEffect(control: zero, treatment: some) }
        #expect(throws: StatsError.self) { try bayesianEffect(control: some, treatment: some, prior: GaussianPrior(mean: 0, variance: 0)) }
        #expect(throws: StatsError.self) { try sequentialEffect(control: some, treatment: some, tuning: -1) }
        #expect(throws: StatsError.self) { try PowerAnalysis.sampleSizeForProportions(baseline: 0.95, minimumDetectableEffect: 0.1) }
        #expect(throws: StatsError.self) { try PowerAnalysis.sampleSize(effectSize: 0) }
        #expect(throws: StatsError.self) { try PowerAnalysis.sampleSize(effectSize: 0.1, power: 1) }
        #expect(throws: StatsError.self) { try holm([0.1, 1.2]) }
        #expect(throws: StatsError.self) { try benjaminiHochberg([.nan]) }
        #expect(throws: StatsError.self) { try benjaminiHochberg([]) }
        #expect(throws: StatsError.self) { try Bucketing.bucketRanges(arms: 2, weights: [0.2, 0.2]) }
        #expect(throws: StatsError.self) {
            try betaBinomialTest(control: Proportion(successes: 1, trials: 2), treatment: Proportion(successes: 1, trials: 2), priorAlpha: 0)
        }
    }

    @Test("every error tells the user what to do")
    func messages() {
        let errors: [StatsError] = [
            .tooFewObservations(what: "x", count: 1, minimum: 2), .nonFiniteValue(what: "x"), .negativeCount(what: "x", value: -1),
            .successesExceedTrials(successes: 2, trials: 1), .weightsDoNotSumToOne(sum: 0.9),
            .parameterOutOfRange(name: "alpha", value: 2, expected: "0 < alpha < 1"), .lengthMismatch(what: "x", first: 1, second: 2),
            .zeroVariance(what: "x"), .noSolution(reason: "pass a non-zero effect"),
        ]
        for e in errors { #expect(e.description.count > 20) }
    }

    @Test("distribution functions stay finite and in range at extreme arguments")
    func extremes() {
        for df in [0.1, 1, 3.5, 1e3, 1e12, Double.infinity] {
            let t = StudentT(df: df)
            for x in [-1e300, -1e10, -50, 0, 50, 1e10, 1e300] {
                let c = t.cdf(x)
                #expect(c >= 0 && c <= 1, "t(\(df)).cdf(\(x)) = \(c)")
            }
            for p in [1e-300, 1e-10, 0.5, 1 - 1e-10] {
                #expect(!t.ppf(p).isNaN, "t(\(df)).ppf(\(p))")
            }
        }
        #expect(Normal.cdf(-40) == 0 || Normal.cdf(-40) < 1e-300)
        #expect(Normal.ppf(0) == -.infinity && Normal.ppf(1) == .infinity)
        #expect(ChiSquare(df: 1e6).sf(1e7) == 0)
        #expect(abs(ChiSquare(df: 2).sf(2 * 690) - exp(-690)) <= 1e-12 * exp(-690))
    }
}
