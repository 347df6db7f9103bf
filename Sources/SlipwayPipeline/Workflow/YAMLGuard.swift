/// A lexical pass over workflow YAML before it is composed, refusing input that would make the
/// composer or the reader do unbounded work: files over 1 MiB, nesting deeper than a workflow ever
/// needs, and aliases or collections used as mapping keys (whose comparison walks the aliased tree,
/// the "billion laughs" shape). It tracks quotes, comments, flow collections and block scalars
/// (`run: |` bodies are skipped) so that shell scripts never trip it.
struct YAMLGuard {
    /// The largest workflow file read, in bytes.
    static let maximumBytes = 1 << 20
    /// The deepest nesting of mappings, lists and flow collections accepted.
    static let maximumDepth = 64

    /// A reason to refuse the text, with its position.
    struct Refusal: Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// The first reason to refuse `text`, or nil when it is safe to compose.
    static func check(_ text: String) -> Refusal? {
        let size = text.utf8.count
        if size > maximumBytes {
            return Refusal(
                line: 1, column: 1,
                message:
                    "the workflow file is \(size) bytes; workflows larger than 1 MiB (\(maximumBytes) bytes) are refused, split it into several files"
            )
        }
        var scanner = Scanner()
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if let refusal = scanner.scan(line: Array(line.unicodeScalars), number: lineNumber) { return refusal }
        }
        return nil
    }

    /// The per-line state machine.
    private struct Scanner {
        enum Quote { case single, double }

        /// Inside a multi-line quoted scalar.
        var quote: Quote?
        /// Depth of `[` / `{`.
        var flowDepth = 0
        /// Indentation of the line that opened a block scalar; its content is skipped.
        var blockScalarParent: Int?
        /// Indentations of the enclosing block collections.
        var indents: [Int] = []

        mutating func scan(line: [Unicode.Scalar], number: Int) -> Refusal? {
            let indent = line.prefix { $0 == " " }.count
            let blank = line.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }
            if let parent = blockScalarParent {
                if blank || indent > parent { return nil }
                blockScalarParent = nil
            }
            if quote == nil && flowDepth == 0 {
                if blank { return nil }
                if line.count >= 3, line[0] == "-", line[1] == "-", line[2] == "-" { return nil }
                if line.count >= 3, line[0] == ".", line[1] == ".", line[2] == "." { return nil }
                if line.first == "%" || line.dropFirst(indent).first == "#" { return nil }
                while let last = indents.last, last > indent { indents.removeLast() }
                if indents.last != indent { indents.append(indent) }
            }
            var i = quote == nil && flowDepth == 0 ? indent : 0
            var expectingNode = true
            var lineDepth = 0
            func refusal(_ message: String) -> Refusal { Refusal(line: number, column: min(i, line.count) + 1, message: message) }
            func followedByColon(_ from: Int) -> Bool {
                var j = from
                while j < line.count, line[j] == " " { j += 1 }
                guard j < line.count, line[j] == ":" else { return false }
                return j + 1 == line.count || [" ", "\t", "\r", ",", "]", "}"].contains(line[j + 1]) || flowDepth > 0
            }
            while i < line.count {
                let c = line[i]
                if let open = quote {
                    if open == .double && c == "\\" {
                        i += 2
                        continue
                    }
                    if (open == .double && c == "\"") || (open == .single && c == "'") {
                        if open == .single, i + 1 < line.count, line[i + 1] == "'" {
                            i += 2
                            continue
                        }
                        quote = nil
                        expectingNode = false
                        i += 1
                        continue
                    }
                    i += 1
                    continue
                }
                if c == " " || c == "\t" || c == "\r" {
                    i += 1
                    continue
                }
                if c == "#" && (i == 0 || line[i - 1] == " " || line[i - 1] == "\t") { break }
                if expectingNode {
                    switch c {
                    case "'":
                        quote = .single
                        i += 1
                        continue
                    case "\"":
                        quote = .double
                        i += 1
                        continue
                    case "*":
                        var j = i + 1
                        while j < line.count, !isNameEnd(line[j]) { j += 1 }
                        if followedByColon(j) {
                            return refusal("an alias ('*') is used as a mapping key; workflow keys must be plain names")
                        }
                        i = j
                        expectingNode = false
                        continue
                    case "&", "!":
                        var j = i + 1
                        while j < line.count, !isNameEnd(line[j]) { j += 1 }
                        i = j
                        continue
                    case "?" where i + 1 == line.count || line[i + 1] == " ":
                        return refusal("explicit mapping keys ('? ') are not allowed in workflows; write keys as plain names")
                    case "-" where flowDepth == 0 && (i + 1 == line.count || line[i + 1] == " "):
                        lineDepth += 1
                        i += 1
                        continue
                    case "|" where flowDepth == 0, ">" where flowDepth == 0:
                        blockScalarParent = indent
                        return depthCheck(lineDepth, refusal)
                    default:
                        break
                    }
                }
                switch c {
                case "[", "{":
                    flowDepth += 1
                    if flowDepth + indents.count + lineDepth > YAMLGuard.maximumDepth {
                        return refusal("the YAML is nested more than \(YAMLGuard.maximumDepth) levels deep; workflows never need that")
                    }
                    expectingNode = true
                    i += 1
                case "]", "}":
                    if flowDepth > 0 { flowDepth -= 1 }
                    i += 1
                    if followedByColon(i) {
                        return refusal("a list or mapping is used as a mapping key; workflow keys must be plain names")
                    }
                    expectingNode = false
                case "," where flowDepth > 0:
                    expectingNode = true
                    i += 1
                case ":" where i + 1 == line.count || line[i + 1] == " " || line[i + 1] == "\t" || (flowDepth > 0 && !expectingNode):
                    expectingNode = true
                    if flowDepth == 0 { lineDepth += 1 }
                    i += 1
                default:
                    // A plain scalar: skip to what ends it.
                    i += 1
                    while i < line.count {
                        let d = line[i]
                        if d == ":" && (i + 1 == line.count || line[i + 1] == " " || line[i + 1] == "\t") { break }
                        if flowDepth > 0 && (d == "," || d == "]" || d == "}" || d == ":") { break }
                        if d == "#" && (line[i - 1] == " " || line[i - 1] == "\t") { break }
                        i += 1
                    }
                    expectingNode = false
                }
            }
            return depthCheck(lineDepth, refusal)
        }

        func depthCheck(_ lineDepth: Int, _ refusal: (String) -> Refusal) -> Refusal? {
            if indents.count + lineDepth + flowDepth > YAMLGuard.maximumDepth {
                return refusal("the YAML is nested more than \(YAMLGuard.maximumDepth) levels deep; workflows never need that")
            }
            return nil
        }

        func isNameEnd(_ c: Unicode.Scalar) -> Bool {
            c == " " || c == "\t" || c == "\r" || c == "," || c == "[" || c == "]" || c == "{" || c == "}"
        }
    }
}
