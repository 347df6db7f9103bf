import ArgumentParser
import Foundation
import SlipwayStats

/// `slipway stats …`: the statistics engine from the command line.
///
/// Every subcommand prints readable text, or exactly one JSON object with `--json`.
/// Bad input is reported on standard error with a non-zero exit status.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Run the statistics behind Slipway's experiment, canary and drift decisions.",
        subcommands: [
            Proportions.self, TTest.self, SRM.self, KS.self, MannWhitney.self, Power.self, Correct.self, DivergenceCommand.self, Bayes.self,
            ChiSquareCommand.self, Bucket.self,
        ]
    )
}

// MARK: - Output and parsing

extension StatsCommand {

    /// A JSON value printed in a fixed key order with shortest round-trip numbers.
    enum JSON {
        case number(Double)
        case integer(Int)
        case bool(Bool)
        case string(String)
        case array([JSON])
        case object([(String, JSON)])

        var text: String {
            switch self {
            case .number(let d): return d.isFinite ? "\(d)" : "null"
            case .integer(let i): return "\(i)"
            case .bool(let b): return b ? "true" : "false"
            case .string(let s):
                var out = "\""
                for scalar in s.unicodeScalars {
                    switch scalar {
                    case "\"": out += "\\\""
                    case "\\": out += "\\\\"
                    case "\n": out += "\\n"
                    case "\r": out += "\\r"
                    case "\t": out += "\\t"
                    default:
                        if scalar.value < 0x20 {
                            out += String(format: "\\u%04x", scalar.value)
                        } else {
                            out.unicodeScalars.append(scalar)
                        }
                    }
                }
                return out + "\""
            case .array(let items): return "[" + items.map(\.text).joined(separator: ", ") + "]"
            case .object(let pairs): return "{" + pairs.map { JSON.string($0.0).text + ": " + $0.1.text }.joined(separator: ", ") + "}"
            }
        }
    }

    /// Options every subcommand shares.
    struct OutputOptions: ParsableArguments {
        @Flag(name: .long, help: "Print one JSON object instead of text.")
        var json = false

        func emit(_ pairs: [(String, JSON)], text lines: [String]) {
            if json {
                print(JSON.object(pairs).text)
            } else {
                for line in lines { print(line) }
            }
        }
    }

    /// Formats a number for the text output.
    static func fmt(_ value: Double) -> String {
        if !value.isFinite { return value.isNaN ? "nan" : (value > 0 ? "+inf" : "-inf") }
        if value != 0 && (abs(value) < 1e-4 || abs(value) >= 1e9) { return String(format: "%.6e", value) }
        return String(format: "%.6f", value)
    }

    /// A command-line failure printed as `Error: …` on standard error.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func parseList(_ text: String, name: String) throws -> [Double] {
        var values: [Double] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let v = Double(trimmed) else {
                throw ValidationError("--\(name): '\(trimmed)' is not a number; pass comma-separated numbers like 0.1,0.2")
            }
            values.append(v)
        }
        return values
    }

    /// Reads one number per line; blank lines and lines starting with `#` are skipped.
    static func readSample(_ path: String, option: String) throws -> [Double] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(description: "--\(option): cannot read '\(path)': \(error.localizedDescription)")
        }
        var values: [Double] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let v = Double(line) else {
                throw Failure(description: "\(path):\(index + 1): '\(line)' is not a number; the file must hold one number per line")
            }
            values.append(v)
        }
        return values
    }

    /// The alternative hypothesis as a command-line value.
    enum AlternativeOption: String, ExpressibleByArgument, CaseIterable {
        case twoSided = "two-sided"
        case greater
        case less

        var value: Alternative {
            switch self {
            case .twoSided: return .twoSided
            case .greater: return .greater
            case .less: return .less
            }
        }
    }
}

// MARK: - Subcommands

extension StatsCommand {
    struct Proportions: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "proportions", abstract: "Two-proportion z-test (pooled z, unpooled Wald interval for the difference).")
        @Option(help: "Control SUCCESSES/TRIALS, e.g. 100/1000.") var control: String
        @Option(help: "Treatment SUCCESSES/TRIALS.") var treatment: String
        @Option(help: "1 − confidence level.") var alpha = 0.05
        @Option(help: "two-sided, greater or less (treatment versus control).") var alternative: AlternativeOption = .twoSided
        @OptionGroup var output: OutputOptions

        func run() throws {
            let r = try twoProportionZTest(
                control: Proportion(parsing: control), treatment: Proportion(parsing: treatment), alpha: alpha, alternative: alternative.value)
            output.emit(
                [
                    ("z", .number(r.z)), ("p_value", .number(r.pValue)), ("ci_low", .number(r.ciLow)), ("ci_high", .number(r.ciHigh)),
                    ("lift_abs", .number(r.liftAbsolute)), ("lift_rel", .number(r.liftRelative)),
                ],
                text: [
                    "control rate     \(fmt(r.controlRate))", "treatment rate   \(fmt(r.treatmentRate))", "z                \(fmt(r.z))",
                    "p-value          \(fmt(r.pValue))",
                    "difference       \(fmt(r.liftAbsolute))  [\(fmt(r.ciLow)), \(fmt(r.ciHigh))] at \(String(format: "%g", 100 * (1 - alpha)))%",
                    "relative lift    \(fmt(r.liftRelative))",
                ])
        }
    }

    struct TTest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ttest", abstract: "Welch (default) or Student t-test of b (treatment) against a (control).")
        @Option(help: "File with the control sample, one number a line.") var a: String
        @Option(help: "File with the treatment sample, one number a line.") var b: String
        @Flag(help: "Assume equal variances (Student's t-test).") var equalVar = false
        @Option(help: "1 − confidence level.") var alpha = 0.05
        @OptionGroup var output: OutputOptions

        func run() throws {
            let x = try readSample(a, option: "a")
            let y = try readSample(b, option: "b")
            let r = equalVar ? try studentTTest(x, y, alpha: alpha) : try welchTTest(x, y, alpha: alpha)
            output.emit(
                [
                    ("t", .number(r.t)), ("df", .number(r.df)), ("p_value", .number(r.pValue)), ("ci_low", .number(r.ciLow)),
                    ("ci_high", .number(r.ciHigh)),
                ],
                text: [
                    equalVar ? "Student t-test" : "Welch t-test", "t                \(fmt(r.t))", "df               \(fmt(r.df))",
                    "p-value          \(fmt(r.pValue))", "mean b − mean a  \(fmt(r.difference))  [\(fmt(r.ciLow)), \(fmt(r.ciHigh))]",
                ])
        }
    }

    struct SRM: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "srm", abstract: "Sample-ratio-mismatch check (chi-square goodness of fit).")
        @Option(help: "Units per arm, e.g. 5100,4900.") var counts: String
        @Option(help: "Intended share per arm, summing to 1 (default: equal).") var weights: String?
        @Option(help: "Mismatch when p < threshold.") var threshold = 0.001
        @Option(help: "Minimum units per arm before a mismatch can be reported.") var minimumCount = 0.0
        @OptionGroup var output: OutputOptions

        func run() throws {
            let c = try parseList(counts, name: "counts")
            let w = try weights.map { try parseList($0, name: "weights") }
            let r = try srmCheck(counts: c, weights: w, threshold: threshold, minimumCount: minimumCount)
            output.emit(
                [("chi2", .number(r.chi2)), ("p_value", .number(r.pValue)), ("srm", .bool(r.isMismatch)), ("enough_data", .bool(r.hasEnoughData))],
                text: [
                    "chi2             \(fmt(r.chi2))", "p-value          \(fmt(r.pValue))",
                    r.isMismatch
                        ? "sample ratio mismatch: the observed split differs from the configured one (p < \(threshold))"
                        : (r.hasEnoughData ? "no sample ratio mismatch" : "not enough units per arm to judge"),
                ])
        }
    }

    struct KS: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ks", abstract: "Two-sample Kolmogorov–Smirnov test.")
        @Option(help: "File with the reference sample.") var a: String
        @Option(help: "File with the current sample.") var b: String
        @Option(help: "two-sided, less (a tends larger) or greater (a tends smaller), as scipy's ks_2samp.")
        var alternative: KSAlternativeOption = .twoSided
        @OptionGroup var output: OutputOptions

        enum KSAlternativeOption: String, ExpressibleByArgument, CaseIterable {
            case twoSided = "two-sided"
            case less
            case greater
        }

        func run() throws {
            let choice: KSAlternative = alternative == .twoSided ? .twoSided : (alternative == .less ? .less : .greater)
            let r = try ksTwoSample(readSample(a, option: "a"), readSample(b, option: "b"), alternative: choice)
            output.emit(
                [("d", .number(r.d)), ("p_value", .number(r.pValue)), ("method", .string(r.exact ? "exact" : "asymptotic"))],
                text: ["D                \(fmt(r.d))", "p-value          \(fmt(r.pValue)) (\(r.exact ? "exact" : "asymptotic"))"])
        }
    }

    struct MannWhitney: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mannwhitney", abstract: "Mann–Whitney U test of b (treatment) against a, with the Hodges–Lehmann shift.")
        @Option(help: "File with the control sample.") var a: String
        @Option(help: "File with the treatment sample.") var b: String
        @Option(help: "1 − confidence level of the shift interval.") var alpha = 0.05
        @OptionGroup var output: OutputOptions

        func run() throws {
            let x = try readSample(a, option: "a")
            let y = try readSample(b, option: "b")
            let r = try mannWhitneyU(x, y)
            let hl = try hodgesLehmann(x, y, alpha: alpha)
            output.emit(
                [
                    ("u", .number(r.u)), ("p_value", .number(r.pValue)), ("hodges_lehmann", .number(hl.estimate)), ("hl_ci_low", .number(hl.ciLow)),
                    ("hl_ci_high", .number(hl.ciHigh)),
                ],
                text: [
                    "U (of b)         \(fmt(r.u))", "p-value          \(fmt(r.pValue)) (\(r.exact ? "exact" : "normal approximation"))",
                    "shift b − a      \(fmt(hl.estimate))  [\(fmt(hl.ciLow)), \(fmt(hl.ciHigh))]",
                ])
        }
    }

    struct Power: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "power", abstract: "Sample size per arm for a two-proportion test (Cohen's h, normal approximation).")
        @Option(help: "Baseline conversion rate.") var baseline: Double
        @Option(help: "Minimum detectable effect (absolute unless --relative).") var mde: Double
        @Flag(help: "Treat --mde as relative to the baseline.") var relative = false
        @Option(help: "Significance level.") var alpha = 0.05
        @Option(help: "Desired power.") var power = 0.8
        @OptionGroup var output: OutputOptions

        func run() throws {
            let r = try PowerAnalysis.sampleSizeForProportions(
                baseline: baseline, minimumDetectableEffect: mde, relative: relative, alpha: alpha, power: self.power)
            output.emit(
                [("n_per_arm", .integer(Int(r.perArm))), ("n_per_arm_exact", .number(r.perArmExact)), ("effect_size", .number(r.effectSize))],
                text: ["units per arm    \(Int(r.perArm)) (exact \(fmt(r.perArmExact)))", "Cohen's h        \(fmt(r.effectSize))"])
        }
    }

    struct Correct: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "correct", abstract: "Adjust p-values for multiple testing (Holm or Benjamini–Hochberg).")
        enum Method: String, ExpressibleByArgument { case holm, bh }
        @Option(help: "holm or bh.") var method: Method
        @Option(help: "Comma-separated p-values.") var p: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let values = try parseList(p, name: "p")
            let adjusted = method == .holm ? try holm(values) : try benjaminiHochberg(values)
            output.emit(
                [("adjusted", .array(adjusted.map { .number($0) }))],
                text: zip(values, adjusted).map { "p \(fmt($0.0)) → \(fmt($0.1))" })
        }
    }

    struct DivergenceCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "divergence", abstract: "PSI, KL and Jensen–Shannon between two binned distributions.")
        @Option(help: "Reference shares or counts per bin.") var ref: String
        @Option(help: "Current shares or counts per bin.") var cur: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let r = try parseList(ref, name: "ref")
            let c = try parseList(cur, name: "cur")
            let p = try psi(reference: r, current: c)
            let k = try kl(reference: r, current: c)
            let js = try jensenShannon(reference: r, current: c)
            let js2 = try jensenShannon(reference: r, current: c, base: 2)
            output.emit(
                [("psi", .number(p)), ("kl", .number(k)), ("js", .number(js)), ("js_base2", .number(js2))],
                text: [
                    "PSI              \(fmt(p))", "KL(ref‖cur)      \(fmt(k))", "Jensen–Shannon   \(fmt(js)) (distance, nats)",
                    "Jensen–Shannon   \(fmt(js2)) (distance, bits)",
                ])
        }
    }

    struct Bayes: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "bayes", 
            abstract: "Bayesian comparison of two conversion rates on the relative effect (GrowthBook's model).")
        @Option(help: "Control SUCCESSES/TRIALS.") var control: String
        @Option(help: "Treatment SUCCESSES/TRIALS.") var treatment: String
        @Option(help: "Prior mean of the relative effect (with --prior-var: a proper prior).") var priorMean: Double?
        @Option(help: "Prior variance of the relative effect.") var priorVar: Double?
        @Option(help: "1 − credibility of the interval.") var alpha = 0.05
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if priorMean != nil && priorVar == nil { throw ValidationError("--prior-mean needs --prior-var (e.g. --prior-var 0.09)") }
        }

        func run() throws {
            let c = try Proportion(parsing: control)
            let t = try Proportion(parsing: treatment)
            let prior = priorVar.map { GaussianPrior(mean: priorMean ?? 0, variance: $0) }
            let r = try bayesianEffect(
                control: .proportion(successes: c.successes, trials: c.trials), treatment: .proportion(successes: t.successes, trials: t.trials),
                scale: .relative, prior: prior, alpha: alpha)
            output.emit(
                [
                    ("chance_to_win", .number(r.chanceToWin)), ("ci_low", .number(r.ciLow)), ("ci_high", .number(r.ciHigh)),
                    ("risk_control", .number(r.riskControl)), ("risk_treatment", .number(r.riskTreatment)), ("mean", .number(r.mean)),
                ],
                text: [
                    "chance to win    \(fmt(r.chanceToWin))", "relative effect  \(fmt(r.mean))  [\(fmt(r.ciLow)), \(fmt(r.ciHigh))]",
                    "risk (control)   \(fmt(r.riskControl))", "risk (treatment) \(fmt(r.riskTreatment))",
                ])
        }
    }

    struct ChiSquareCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "chi2", abstract: "Chi-square test of independence on a contingency table.")
        @Option(help: "Rows separated by '/', cells by ',', e.g. 50,30,20/40,35,25.") var table: String
        @Flag(help: "Do not apply Yates' correction to 2×2 tables.") var noCorrection = false
        @OptionGroup var output: OutputOptions

        func run() throws {
            let r = try chiSquareContingency(parseContingencyTable(table), yatesCorrection: !noCorrection)
            output.emit(
                [("chi2", .number(r.chi2)), ("p_value", .number(r.pValue)), ("dof", .integer(r.dof))],
                text: ["chi2             \(fmt(r.chi2))", "dof              \(r.dof)", "p-value          \(fmt(r.pValue))"])
        }
    }

    struct Bucket: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "bucket", abstract: "The bucket in [0, 1) a unit hashes to (GrowthBook v1/v2 or murmur3).")
        enum Hash: String, ExpressibleByArgument, CaseIterable {
            case fnv1a32V1 = "fnv1a32-v1"
            case fnv1a32V2 = "fnv1a32-v2"
            case murmur3
        }
        @Option(help: "fnv1a32-v1, fnv1a32-v2 or murmur3.") var hash: Hash = .fnv1a32V2
        @Option(help: "The experiment's hash seed (usually its key).") var seed: String
        @Option(help: "The unit's id.") var id: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let bucket: Double
            switch hash {
            case .fnv1a32V1: bucket = Bucketing.hash(seed: seed, value: id, version: 1)!
            case .fnv1a32V2: bucket = Bucketing.hash(seed: seed, value: id, version: 2)!
            case .murmur3: bucket = Double(Bucketing.murmur3x86_32(seed + id)) / 4_294_967_296
            }
            output.emit([("bucket", .number(bucket))], text: ["bucket           \(bucket)"])
        }
    }
}
