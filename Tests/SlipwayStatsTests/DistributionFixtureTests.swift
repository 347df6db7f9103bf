import Foundation
import SlipwayStats
import Testing

@Suite("Distributions against scipy")
struct DistributionFixtureTests {
    @Test("normal, t, chi-square, incomplete beta and gamma match scipy.special")
    func distributionsMatchScipy() throws {
        let cases = try Fixtures.load("distributions")
        #expect(cases.count > 300)
        for c in cases {
            let a = c.args
            let label = "\(c.fn)\(a)"
            switch c.fn {
            case "norm.cdf": expectClose(Normal.cdf(a["x"].double), c.expected["value"], label)
            case "norm.sf": expectClose(Normal.sf(a["x"].double), c.expected["value"], label)
            case "norm.ppf": expectClose(Normal.ppf(a["p"].double), c.expected["value"], label)
            case "norm.isf": expectClose(Normal.isf(a["q"].double), c.expected["value"], label)
            case "t.cdf": expectClose(StudentT(df: a["df"].double).cdf(a["t"].double), c.expected["value"], label)
            case "t.sf": expectClose(StudentT(df: a["df"].double).sf(a["t"].double), c.expected["value"], label)
            case "t.ppf": expectClose(StudentT(df: a["df"].double).ppf(a["p"].double), c.expected["value"], label)
            case "chi2.cdf": expectClose(ChiSquare(df: a["df"].double).cdf(a["x"].double), c.expected["value"], label)
            case "chi2.sf": expectClose(ChiSquare(df: a["df"].double).sf(a["x"].double), c.expected["value"], label)
            case "betainc":
                let r = SpecialFunctions.regularizedBeta(a: a["a"].double, b: a["b"].double, x: a["x"].double)
                expectClose(r.lower, c.expected["value"], label)
                expectClose(r.upper, c.expected["complement"], label + " complement")
            case "gammainc":
                let r = SpecialFunctions.regularizedGamma(a: a["a"].double, x: a["x"].double)
                expectClose(r.lower, c.expected["value"], label)
                expectClose(r.upper, c.expected["complement"], label + " complement")
            default: Issue.record("unknown fixture function \(c.fn)")
            }
        }
    }
}
