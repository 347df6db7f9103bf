import Foundation
import SlipwayYAML
import Testing
import Yams

/// Workflow-style options: `!!str` honoured, null keys refused, every allowed key listed.
private let listing = YAMLReaderOptions(allowedKeys: .alwaysListed, refusesNullKeys: true, honoursStringTag: true, describedTextLimit: 40)
/// Spec-style options: allowed keys listed only when nothing is close, text quoted whole.
private let suggesting = YAMLReaderOptions(
    allowedKeys: .listedWithoutSuggestion, refusesNullKeys: false, honoursStringTag: false, describedTextLimit: nil)

/// Composes `source` and returns a reader over it with the root node.
private func read(_ source: String, options: YAMLReaderOptions = listing) throws -> (YAMLNodeReader, Node) {
    let root = try #require(try Yams.compose(yaml: source))
    return (YAMLNodeReader(file: "test.yml", source: source, options: options), root)
}

/// The value under `key`, failing the test when it is missing.
private func value(_ mapping: YAMLMapping, _ key: String) throws -> Node { try #require(mapping[key], "missing key \(key)") }

@Suite("YAML node reader")
struct YAMLNodeReaderTests {
    @Test("nodes keep their line and column, and problems carry them")
    func positions() throws {
        let source = "name: train\nsteps:\n  - run: echo\n    with:\n      depth: 3\n"
        let (reader, root) = try read(source)
        let top = try #require(reader.mapping(root, path: "", allowed: ["name", "steps"]))
        #expect(reader.position(top["name"]) == YAMLPosition(line: 1, column: 7))
        #expect(reader.position(top.keyNode("steps")) == YAMLPosition(line: 2, column: 1))
        guard case .sequence(let steps) = try value(top, "steps") else {
            Issue.record("steps is not a list")
            return
        }
        let step = try #require(reader.mapping(steps[0], path: "steps[0]", allowed: ["run", "with"]))
        let with = try #require(reader.mapping(try value(step, "with"), path: step.child("with"), allowed: ["depth"]))
        #expect(with.path == "steps[0].with")
        #expect(reader.position(with["depth"]) == YAMLPosition(line: 5, column: 14))
        reader.report(with["depth"], "depth is wrong")
        reader.report(nil, "no node")
        #expect(
            reader.problems == [
                YAMLProblem(position: YAMLPosition(line: 5, column: 14), message: "depth is wrong"),
                YAMLProblem(position: .start, message: "no node"),
            ])
    }

    @Test("offsets inside plain, quoted and block scalars map to file positions")
    func offsets() throws {
        let source = "a: hello world\nb: \"quoted text\"\nc: |\n    first\n    second line\n"
        let (reader, root) = try read(source)
        let m = try #require(reader.mapping(root, path: "", allowed: nil))
        #expect(reader.position(ofOffset: 6, in: try value(m, "a")) == YAMLPosition(line: 1, column: 10))
        #expect(reader.position(ofOffset: 7, in: try value(m, "b")) == YAMLPosition(line: 2, column: 12))
        // "first\nsecond line\n": offset 13 is the 'l' of "line" on the second line of the body.
        #expect(reader.position(ofOffset: 13, in: try value(m, "c")) == YAMLPosition(line: 5, column: 12))
        #expect(reader.position(ofOffset: 3, in: root) == reader.position(root))
    }

    @Test("YAML 1.2 core scalars: nulls, booleans and numbers, and quoted or tagged strings")
    func typedScalars() throws {
        let source = """
            n1: ~
            n2:
            n3: NULL
            b1: true
            b2: FALSE
            b3: yes
            q: "true"
            t: !!str true
            i: 0x1F
            o: 0o17
            f: -1.5e3
            inf: .inf
            bad: 1.2.3
            """
        let (reader, root) = try read(source)
        let m = try #require(reader.mapping(root, path: "", allowed: nil))
        func node(_ key: String) throws -> Node { try value(m, key) }
        #expect(try reader.isNull(node("n1")) && reader.isNull(node("n2")) && reader.isNull(node("n3")))
        #expect(try reader.boolValue(node("b1")) == true)
        #expect(try reader.boolValue(node("b2")) == false)
        #expect(try reader.boolValue(node("b3")) == nil)
        #expect(try reader.boolValue(node("q")) == nil)
        #expect(try reader.boolValue(node("t")) == nil)
        #expect(try reader.numberValue(node("i")) == 31)
        #expect(try reader.numberValue(node("o")) == 15)
        #expect(try reader.numberValue(node("f")) == -1500)
        #expect(try reader.numberValue(node("inf")) == .infinity)
        #expect(try reader.numberValue(node("bad")) == nil)
        #expect(YAMLNodeReader.coreNumber(".5") == 0.5)
        #expect(YAMLNodeReader.coreNumber("1e") == nil)
        #expect(YAMLNodeReader.coreNumber("") == nil)
        #expect(YAMLNodeReader.coreNumber("+") == nil)

        let (loose, looseRoot) = try read(source, options: suggesting)
        let l = try #require(loose.mapping(looseRoot, path: "", allowed: nil))
        #expect(loose.boolValue(try value(l, "t")) == true)
    }

    @Test("text values: nulls, lists and blank text are refused with the path and what was found")
    func text() throws {
        let (reader, root) = try read("a: hi\nb: ~\nc: [1]\nd: '  '\ne: 42\n")
        let m = try #require(reader.mapping(root, path: "job", allowed: nil))
        #expect(reader.text(try value(m, "a"), path: m.child("a")) == "hi")
        #expect(reader.text(try value(m, "b"), path: m.child("b")) == nil)
        #expect(reader.text(try value(m, "c"), path: m.child("c")) == nil)
        #expect(reader.text(try value(m, "d"), path: m.child("d")) == nil)
        #expect(reader.text(try value(m, "d"), path: m.child("d"), allowEmpty: true) == "  ")
        #expect(reader.text(try value(m, "e"), path: m.child("e")) == "42")
        #expect(
            reader.problems.map(\.message) == [
                "job.b must be a text value, got nothing", "job.c must be a text value, got a list", "job.d must not be empty",
            ])
        #expect(
            reader.problems.map(\.position) == [YAMLPosition(line: 2, column: 4), YAMLPosition(line: 3, column: 4), YAMLPosition(line: 4, column: 4)])
    }

    @Test("unknown keys are refused at the key with the closest allowed key, in each format's wording")
    func unknownKeys() throws {
        let source = "runs-on: x\nstpes: []\nzzzz: 1\n"
        let (listed, root) = try read(source)
        let m = try #require(listed.mapping(root, path: "jobs.train", allowed: ["runs-on", "steps", "needs"]))
        #expect(m.entries.map(\.key) == ["runs-on"])
        #expect(
            listed.problems == [
                YAMLProblem(
                    position: YAMLPosition(line: 2, column: 1),
                    message: "unknown key 'stpes' in jobs.train; did you mean 'steps'? Allowed keys: runs-on, steps, needs"),
                YAMLProblem(
                    position: YAMLPosition(line: 3, column: 1), message: "unknown key 'zzzz' in jobs.train Allowed keys: runs-on, steps, needs"),
            ])

        let (suggested, root2) = try read(source, options: suggesting)
        _ = suggested.mapping(root2, path: "spec", allowed: ["runs-on", "steps"], what: "the spec")
        #expect(
            suggested.problems.map(\.message) == [
                "unknown key 'stpes' in the spec; did you mean 'steps'?", "unknown key 'zzzz' in the spec; allowed keys are runs-on, steps",
            ])
    }

    @Test("keys that are not plain names, and nodes that are not mappings")
    func badMappings() throws {
        let (reader, root) = try read("? [a, b]\n: 1\n~: 2\nok: 3\n")
        let m = try #require(reader.mapping(root, path: "env", allowed: nil))
        #expect(m.entries.map(\.key) == ["ok"])
        #expect(reader.problems.map(\.message) == ["keys of env must be plain names", "keys of env must be plain names"])
        #expect(reader.problems.map(\.position.line) == [1, 3])

        let (loose, looseRoot) = try read("~: 2\n", options: suggesting)
        #expect(loose.mapping(looseRoot, path: "env", allowed: nil)?.entries.map(\.key) == ["~"])

        let (list, listRoot) = try read("- a\n- b\n")
        #expect(list.mapping(listRoot, path: "on", allowed: nil) == nil)
        #expect(list.problems == [YAMLProblem(position: .start, message: "on must be a mapping of keys to values, got a list")])
    }

    @Test("deep nesting is walked level by level without recursion in the reader")
    func deepNesting() throws {
        let depth = 150
        var source = ""
        for level in 0..<depth { source += String(repeating: "  ", count: level) + "k:\n" }
        source += String(repeating: "  ", count: depth) + "leaf: 1\n"
        let (reader, root) = try read(source)
        var node = root
        for level in 0..<depth {
            let m = try #require(reader.mapping(node, path: "k", allowed: ["k"]))
            #expect(reader.position(m.keyNode("k")) == YAMLPosition(line: level + 1, column: 2 * level + 1))
            node = try value(m, "k")
        }
        let leaf = try #require(reader.mapping(node, path: "leaf", allowed: ["leef"]))
        #expect(leaf.entries.isEmpty)
        #expect(reader.problems.map(\.message) == ["unknown key 'leaf' in leaf; did you mean 'leef'? Allowed keys: leef"])
        #expect(reader.problems.first?.position == YAMLPosition(line: depth + 1, column: 2 * depth + 1))
    }

    @Test("a huge scalar is quoted cut short in messages but read whole")
    func hugeScalar() throws {
        let big = String(repeating: "x", count: 1 << 20)
        let (reader, root) = try read("a: \(big)\nb: [\(big)]\n")
        let m = try #require(reader.mapping(root, path: "", allowed: nil))
        #expect(reader.text(try value(m, "a"), path: "a")?.count == 1 << 20)
        _ = reader.mapping(try value(m, "a"), path: "a", allowed: nil)
        let message = try #require(reader.problems.first?.message)
        #expect(message == "a must be a mapping of keys to values, got '\(String(repeating: "x", count: 40))…'")
        #expect(reader.describe(try value(m, "b")) == "a list")

        let (whole, wholeRoot) = try read("a: \(String(repeating: "y", count: 50))\n", options: suggesting)
        let w = try #require(whole.mapping(wholeRoot, path: "", allowed: nil))
        #expect(whole.describe(try value(w, "a")) == "'\(String(repeating: "y", count: 50))'")
    }

    @Test("aliases resolve to their anchors, which keep the anchor's position")
    func aliases() throws {
        let source = "base: &b\n  image: python\nother: *b\n"
        let (reader, root) = try read(source)
        let m = try #require(reader.mapping(root, path: "", allowed: ["base", "other"]))
        let other = try #require(reader.mapping(try value(m, "other"), path: "other", allowed: ["image"]))
        #expect(reader.text(try value(other, "image"), path: "other.image") == "python")
        #expect(reader.position(other["image"]) == YAMLPosition(line: 2, column: 10))
        #expect(reader.problems.isEmpty)
    }

    @Test("tabs: refused as indentation by the composer, kept and counted inside scalars")
    func tabs() throws {
        #expect(throws: (any Error).self) { _ = try Yams.compose(yaml: "a:\n\tb: 1\n") }
        let (reader, root) = try read("a: \"x\\ty\"\nb: 1\t# comment\n")
        let m = try #require(reader.mapping(root, path: "", allowed: nil))
        #expect(reader.text(try value(m, "a"), path: "a") == "x\ty")
        #expect(reader.position(ofOffset: 2, in: try value(m, "a")) == YAMLPosition(line: 1, column: 7))
        #expect(reader.numberValue(try value(m, "b")) == 1)
    }

    @Test("bytes that are not UTF-8 become replacement characters, reported at their position")
    func nonUTF8() throws {
        var bytes = Array("ok: 1\n".utf8)
        bytes += [0x6B, 0xFF, 0xFE, 0x3A, 0x20, 0x32, 0x0A]  // "k\u{FFFD}\u{FFFD}: 2"
        let source = String(decoding: bytes, as: UTF8.self)
        #expect(String(bytes: bytes, encoding: .utf8) == nil)
        let (reader, root) = try read(source)
        let m = try #require(reader.mapping(root, path: "top", allowed: ["ok"]))
        #expect(m.entries.map(\.key) == ["ok"])
        #expect(reader.problems.count == 1)
        #expect(reader.problems.first?.position == YAMLPosition(line: 2, column: 1))
        #expect(reader.problems.first?.message.hasPrefix("unknown key 'k\u{FFFD}\u{FFFD}' in top") == true)
    }
}
