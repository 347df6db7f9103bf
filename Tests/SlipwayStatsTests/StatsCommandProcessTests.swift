import Foundation
import Testing

/// Runs the `stats` command as a real child process: the development `stats-cli` executable, or
/// `slipway stats` when the tests run inside the full package. Skips when neither has been built.
@Suite("stats command")
struct StatsCommandProcessTests {
    static func executable() -> (URL, [String])? {
        var directories: [URL] = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        if let bundle = Bundle.main.executableURL?.deletingLastPathComponent() { directories.append(bundle) }
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        directories.append(dir.appendingPathComponent(".build/debug"))
        for d in directories {
            let cli = d.appendingPathComponent("stats-cli")
            if FileManager.default.isExecutableFile(atPath: cli.path) { return (cli, []) }
            let slipway = d.appendingPathComponent("slipway")
            if FileManager.default.isExecutableFile(atPath: slipway.path) { return (slipway, ["stats"]) }
        }
        return nil
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Output? {
        guard let (url, prefix) = executable() else { return nil }
        let process = Process()
        process.executableURL = url
        process.arguments = prefix + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func json(_ arguments: [String]) throws -> [String: Any]? {
        guard let r = try run(arguments + ["--json"]) else { return nil }
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1, "exactly one JSON document")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    }

    static func temporaryFile(_ values: [Double]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-stats-\(UUID().uuidString).txt")
        try values.map { "\($0)" }.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("every subcommand prints one JSON object with the contract's keys")
    func contract() throws {
        guard Self.executable() != nil else { return }
        let a = try Self.temporaryFile([1, 2, 3, 4, 5, 6, 7])
        let b = try Self.temporaryFile([2, 3.5, 5, 7, 8, 9.5])
        defer {
            try? FileManager.default.removeItem(atPath: a)
            try? FileManager.default.removeItem(atPath: b)
        }
        let expectations: [([String], [String])] = [
            (["proportions", "--control", "100/1000", "--treatment", "130/1000"], ["z", "p_value", "ci_low", "ci_high", "lift_abs", "lift_rel"]),
            (["ttest", "--a", a, "--b", b], ["t", "df", "p_value", "ci_low", "ci_high"]),
            (["ttest", "--a", a, "--b", b, "--equal-var"], ["t", "df", "p_value", "ci_low", "ci_high"]),
            (["srm", "--counts", "5100,4900", "--weights", "0.5,0.5"], ["chi2", "p_value", "srm"]),
            (["ks", "--a", a, "--b", b], ["d", "p_value"]),
            (["ks", "--a", a, "--b", b, "--alternative", "less"], ["d", "p_value"]),
            (["mannwhitney", "--a", a, "--b", b], ["u", "p_value", "hodges_lehmann"]),
            (["power", "--baseline", "0.10", "--mde", "0.01"], ["n_per_arm"]),
            (["power", "--baseline", "0.10", "--mde", "0.1", "--relative", "--alpha", "0.05", "--power", "0.9"], ["n_per_arm"]),
            (["correct", "--method", "holm", "--p", "0.01,0.04,0.03"], ["adjusted"]),
            (["correct", "--method", "bh", "--p", "0.01,0.04,0.03"], ["adjusted"]),
            (["divergence", "--ref", "0.1,0.2,0.7", "--cur", "0.2,0.2,0.6"], ["psi", "kl", "js", "js_base2"]),
            (
                ["bayes", "--control", "100/1000", "--treatment", "120/1000"],
                ["chance_to_win", "ci_low", "ci_high", "risk_control", "risk_treatment"]
            ),
            (["bayes", "--control", "100/1000", "--treatment", "120/1000", "--prior-mean", "0", "--prior-var", "0.09"], ["chance_to_win"]),
            (["chi2", "--table", "50,30,20/40,35,25"], ["chi2", "p_value", "dof"]),
            (["bucket", "--hash", "fnv1a32-v2", "--seed", "exp-1", "--id", "user-123"], ["bucket"]),
            (["bucket", "--hash", "fnv1a32-v1", "--seed", "exp-1", "--id", "user-123"], ["bucket"]),
            (["bucket", "--hash", "murmur3", "--seed", "exp-1", "--id", "user-123"], ["bucket"]),
        ]
        for (args, keys) in expectations {
            guard let object = try Self.json(args) else { continue }
            for key in keys { #expect(object[key] != nil, "\(args.first!) lacks \(key)") }
        }
        let srm = try Self.json(["srm", "--counts", "5100,4900"])
        #expect(srm?["srm"] as? Bool == false)
        #expect(abs((srm?["p_value"] as? Double ?? 0) - 0.04550026389635842) < 1e-12)
        let holm = try Self.json(["correct", "--method", "holm", "--p", "0.01,0.04,0.03"])
        #expect(holm?["adjusted"] as? [Double] == [0.03, 0.06, 0.06])
        let power = try Self.json(["power", "--baseline", "0.10", "--mde", "0.01"])
        #expect(power?["n_per_arm"] as? Int == 14745)
        let chi2 = try Self.json(["chi2", "--table", "50,30,20/40,35,25"])
        #expect(chi2?["dof"] as? Int == 2)
    }

    @Test("text output is readable")
    func text() throws {
        guard let r = try Self.run(["proportions", "--control", "100/1000", "--treatment", "130/1000"]) else { return }
        #expect(r.status == 0)
        #expect(r.stdout.contains("p-value"))
        #expect(!r.stdout.contains("{"))
    }

    @Test("bad input goes to stderr with a non-zero exit")
    func errors() throws {
        let bad: [[String]] = [
            ["proportions", "--control", "10/5", "--treatment", "1/2", "--json"],
            ["proportions", "--control", "abc", "--treatment", "1/2"],
            ["srm", "--counts", "10,20", "--weights", "0.5,0.6", "--json"],
            ["srm", "--counts", "10,-2"],
            ["ttest", "--a", "/nonexistent/a.txt", "--b", "/nonexistent/b.txt"],
            ["correct", "--method", "holm", "--p", "0.1,1.5"],
            ["correct", "--method", "bonferroni", "--p", "0.1"],
            ["divergence", "--ref", "0.1,0.9", "--cur", "0.5"],
            ["chi2", "--table", "1,2/3"],
            ["power", "--baseline", "0.1", "--mde", "0"],
            ["bayes", "--control", "0/10", "--treatment", "1/10"],
        ]
        for args in bad {
            guard let r = try Self.run(args) else { return }
            #expect(r.status != 0, "\(args) should fail")
            #expect(r.stdout.isEmpty, "\(args) printed to stdout: \(r.stdout)")
            #expect(!r.stderr.isEmpty, "\(args) printed no error")
        }
        let garbage = try Self.temporaryFile([1, 2])
        try "1\n2\nthree\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: garbage) }
        if let r = try Self.run(["ks", "--a", garbage, "--b", garbage]) {
            #expect(r.status != 0)
            #expect(r.stderr.contains(":3:"), "names the line: \(r.stderr)")
        }
    }
}
