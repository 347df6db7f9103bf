import Foundation
import Testing

@testable import SlipwayPipeline

@Suite("Workflow parser on hostile input", .timeLimit(.minutes(1)))
struct WorkflowHostileInputTests {
    @Test("a file over 1 MiB is refused before it is read as YAML")
    func oversized() {
        let padding = String(repeating: "# padding line to make the file large\n", count: 30_000)
        let source = "on: push\n" + padding + "jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n"
        let found = diagnostics(source)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("larger than 1 MiB") == true)
        #expect(found.first.map { ($0.line, $0.column) } ?? (0, 0) == (1, 1))
    }

    @Test("deeply nested flow collections are refused with a position")
    func deepFlow() {
        let depth = 5_000
        let source = "on: push\nenv:\n  A: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        let found = diagnostics(source)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("nested more than 64 levels") == true)
        #expect(found.first?.line == 3)
    }

    @Test("deeply nested block mappings and lists are refused")
    func deepBlock() {
        var source = "on: push\njobs:\n"
        for level in 0..<200 { source += String(repeating: " ", count: 2 * (level + 1)) + "k\(level):\n" }
        #expect(diagnostics(source).first?.message.contains("nested more than 64 levels") == true)

        let dashes = "on: push\nenv:\n  A:\n    " + String(repeating: "- ", count: 300) + "x\n"
        #expect(diagnostics(dashes).first?.message.contains("nested more than 64 levels") == true)
    }

    @Test("nesting inside a run: block is script text, not YAML, and is accepted")
    func nestingInBlockScalar() throws {
        let script = String(repeating: "[", count: 200) + " ${x} {{ }} &a *b ? - : ]]"
        let source = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: |\n          \(script)\n          echo done\n"
        let workflow = try parseWorkflow(source)
        #expect(workflow.jobs.first?.steps.first?.run == "\(script)\necho done\n")
    }

    @Test("billion laughs: an alias of a huge aliased tree used as a key is refused")
    func aliasAsKey() {
        var source = "on: push\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1..<10 {
            let previous = "*a\(level - 1)"
            source += "x\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        source += "? *a9\n: boom\n"
        let found = diagnostics(source)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("explicit mapping keys") == true || found.first?.message.contains("alias") == true)

        let implicitKey = source.replacingOccurrences(of: "? *a9\n: boom\n", with: "*a9 : boom\n")
        #expect(diagnostics(implicitKey).first?.message.contains("an alias ('*') is used as a mapping key") == true)

        let flowKey = source.replacingOccurrences(of: "? *a9\n: boom\n", with: "jobs: {[*a9]: boom}\n")
        #expect(diagnostics(flowKey).first?.message.contains("used as a mapping key") == true)
    }

    @Test("billion laughs: a huge aliased tree as a matrix value is bounded, not expanded")
    func aliasInMatrix() {
        var source = "on: push\nenv:\n  L0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1..<9 {
            source += "  L\(level): &a\(level) [\(Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", "))]\n"
        }
        source += "jobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n        v: *a8\n    steps:\n      - run: echo\n"
        let found = diagnostics(source)
        #expect(found.contains { $0.message.contains("the matrix holds more than 100000 values") }, "\(found)")
        // env values that are lists are reported once each, not walked.
        #expect(found.contains { $0.message.contains("env.L0 must be a text, number or boolean value, got a list") })
    }

    @Test("aliases spread across many steps stay linear")
    func manyAliases() throws {
        var source = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - &s {run: echo}\n"
        source += String(repeating: "      - *s\n", count: 5_000)
        let workflow = try parseWorkflow(source)
        #expect(workflow.jobs.first?.steps.count == 5_001)
    }

    @Test("binary garbage, lone quotes, and unknown aliases give YAML errors, not crashes")
    func garbage() {
        for source in [
            "\u{0}\u{1}\u{2}", "on: 'push\njobs:", "on: *missing\n", "{{{{", "]", "on: push\njobs:\n  a: !!binary x\n", "%YAML 9.9\n---\non: push\n",
        ] {
            let found = diagnostics(source)
            #expect(!found.isEmpty, "\(source.debugDescription)")
            #expect(found.allSatisfy { $0.line >= 1 && $0.column >= 1 })
        }
    }

    @Test("long lines and many jobs parse in reasonable time")
    func manyJobs() throws {
        var source = "on: push\njobs:\n"
        for index in 0..<2_000 {
            source += "  job\(index):\n    runs-on: x\n"
            if index > 0 { source += "    needs: [job\(index - 1)]\n" }
            source += "    steps:\n      - run: echo \(String(repeating: "x", count: 200))\n"
        }
        let workflow = try parseWorkflow(source)
        #expect(workflow.jobs.count == 2_000)
    }

    @Test("a cycle through many jobs is found and named without blowing the stack")
    func longCycle() {
        var source = "on: push\njobs:\n"
        for index in 0..<500 {
            source += "  j\(index):\n    needs: j\((index + 1) % 500)\n    runs-on: x\n    steps:\n      - run: echo\n"
        }
        let found = diagnostics(source)
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix("jobs.j0.needs forms a cycle: j0 → j1 → j2") == true)
        #expect(found.first?.message.contains("j499 → j0;") == true)
    }
}
