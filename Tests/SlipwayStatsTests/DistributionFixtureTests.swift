import Foundation
import SlipwayStats
import Testing

@Suite("Distributions against scipy")
struct DistributionFixtureTests {
    /// Distributions are held to 2e-12 relative with no absolute floor, tails included (down to 1e-300).
    /// (The references carry errors of that order themselves: scipy's I_x(½, ½) at x = 1 − 1e-9 is off
    /// by 1.1e-12 from a 40-digit evaluation, which Slipway matches.)
    static func strict(
        _ actual: Double, _ expected: JSONValue, _ label: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        SlipwayStatsTests.expectClose(actual, expected, label(), rel: 2e-12, abs: 1e-305, sourceLocation: sourceLocation)
    }

    @Test("normal, t, chi-square, incomplete beta and gamma match scipy.special to 2e-12 relative")
    func distributionsMatchScipy() throws {
        let cases = try Fixtures.load("distributions")
        #expect(cases.count > 300)
        for c in cases {
            let a = c.args
            let label = "\(c.fn)\(a)"
            switch c.fn {
            case "norm.cdf": Self.strict(Normal.cdf(a["x"].double), c.expected["value"], label)
            case "norm.sf": Self.strict(Normal.sf(a["x"].double), c.expected["value"], label)
            case "norm.ppf": Self.strict(Normal.ppf(a["p"].double), c.expected["value"], label)
            case "norm.isf": Self.strict(Normal.isf(a["q"].double), c.expected["value"], label)
            case "t.cdf": Self.strict(StudentT(df: a["df"].double).cdf(a["t"].double), c.expected["value"], label)
            case "t.sf": Self.strict(StudentT(df: a["df"].double).sf(a["t"].double), c.expected["value"], label)
            case "t.ppf": Self.strict(StudentT(df: a["df"].double).ppf(a["p"].double), c.expected["value"], label)
            case "chi2.cdf": Self.strict(ChiSquare(df: a["df"].double).cdf(a["x"].double), c.expected["value"], label)
            case "chi2.sf": Self.strict(ChiSquare(df: a["df"].double).sf(a["x"].double), c.expected["value"], label)
            case "chi2.ppf": Self.strict(ChiSquare(df: a["df"].double).ppf(a["p"].double), c.expected["value"], label)
            case "chi2.isf": Self.strict(ChiSquare(df: a["df"].double).isf(a["q"].double), c.expected["value"], label)
            case "beta.ppf": Self.strict(BetaDistribution(a: a["a"].double, b: a["b"].double).ppf(a["p"].double), c.expected["value"], label)
            case "gamma.ppf": Self.strict(GammaDistribution(shape: a["shape"].double).ppf(a["p"].double), c.expected["value"], label)
            case "betainc":
                let r = SpecialFunctions.regularizedBeta(a: a["a"].double, b: a["b"].double, x: a["x"].double)
                Self.strict(r.lower, c.expected["value"], label)
                Self.strict(r.upper, c.expected["complement"], label + " complement")
            case "gammainc":
                let r = SpecialFunctions.regularizedGamma(a: a["a"].double, x: a["x"].double)
                Self.strict(r.lower, c.expected["value"], label)
                Self.strict(r.upper, c.expected["complement"], label + " complement")
            default: Issue.record("unknown fixture function \(c.fn)")
            }
        }
    }
}
