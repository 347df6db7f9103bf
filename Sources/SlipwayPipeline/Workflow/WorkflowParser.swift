import Foundation
import Yams
import SlipwayYAML

/// One problem found in a workflow file.
public struct WorkflowDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Every problem of a workflow file, reported at once; nothing runs.
public struct WorkflowErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [WorkflowDiagnostic]

    public init(_ diagnostics: [WorkflowDiagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Reads GitHub Actions workflow YAML into a `Workflow`, checking everything that can be checked
/// before running (unknown keys, types, `needs` cycles and missing jobs, expressions that do not
/// parse, a literal matrix that expands to nothing).
///
/// ```swift
/// let workflow = try WorkflowParser.parse(file: ".github/workflows/ml.yml", source: text)
/// ```
///
/// Files over 1 MiB, YAML nested more than 64 levels, and aliases or collections used as mapping
/// keys are refused before the YAML is composed; the values of matrices (where aliases could
/// multiply) are bounded to 100,000 in total.
public enum WorkflowParser {
    /// Parses one workflow file. `file` is the path shown in diagnostics.
    /// - Throws: `WorkflowErrors` with every problem found, sorted by position.
    public static func parse(file: String, source: String) throws(WorkflowErrors) -> Workflow {
        let reader = WorkflowReader(file: file, source: source)
        if let refusal = YAMLGuard.check(source) {
            throw WorkflowErrors([WorkflowDiagnostic(file: file, line: refusal.line, column: refusal.column, message: refusal.message)])
        }
        guard let root = compose(source, reader: reader) else {
            throw WorkflowErrors(reader.diagnostics)
        }
        let builder = WorkflowBuilder(reader: reader)
        var workflow = builder.workflow(root, file: file)
        workflow?.source = source
        let diagnostics = reader.diagnostics
        guard diagnostics.isEmpty, let workflow else {
            let sorted = diagnostics.enumerated().sorted {
                ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
            }
            throw WorkflowErrors(sorted.map(\.element))
        }
        return workflow
    }

    /// The document's root node, or nil after reporting a YAML error or an empty file.
    static func compose(_ source: String, reader: WorkflowReader) -> Node? {
        let root: Node?
        do {
            let parser = try Parser(yaml: source)
            root = try parser.singleRoot()
        } catch {
            reportYAML(error, source: source, reader: reader)
            return nil
        }
        guard let root, !reader.isNull(root) else {
            reader.report(
                at: SourceLocation(line: 1, column: 1),
                "the workflow file is empty; write a workflow with 'on:' and 'jobs:' (see GitHub's workflow syntax)")
            return nil
        }
        return root
    }

    /// A YAML syntax error, at its position.
    static func reportYAML(_ error: any Error, source: String, reader: WorkflowReader) {
        guard let yaml = error as? YamlError else {
            reader.report(at: SourceLocation(line: 1, column: 1), "the file is not valid YAML: \(error)")
            return
        }
        switch yaml {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text))" } ?? ""
            reader.report(at: SourceLocation(line: mark.line, column: mark.column), "invalid YAML: \(problem)\(during)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let first = SourceLocation(line: context.mark.line, column: context.mark.column)
            let key = duplicates.first ?? ""
            let second = secondOccurrence(of: key, after: first, in: source) ?? first
            reader.report(
                at: second,
                "the key '\(key)' appears twice in the same mapping (first at line \(first.line)); remove or rename one of them")
        case .reader(let problem, _, _, _):
            reader.report(at: SourceLocation(line: 1, column: 1), "the file cannot be read as text: \(problem)")
        default:
            reader.report(at: SourceLocation(line: 1, column: 1), "the file is not valid YAML: \(yaml)")
        }
    }

    /// Where a duplicated key appears again: the next line that starts with the key at the same column.
    static func secondOccurrence(of key: String, after first: SourceLocation, in source: String) -> SourceLocation? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        let candidates = ["\(key):", "\"\(key)\":", "'\(key)':"]
        for index in first.line..<lines.count {
            let line = lines[index]
            let scalars = Array(line.unicodeScalars)
            guard scalars.count >= first.column else { continue }
            let prefix = String(String.UnicodeScalarView(scalars[..<(first.column - 1)]))
            if !prefix.allSatisfy({ $0 == " " }) && !prefix.hasSuffix("- ") { continue }
            let rest = String(String.UnicodeScalarView(scalars[(first.column - 1)...]))
            if candidates.contains(where: { rest.hasPrefix($0) }) {
                return SourceLocation(line: index + 1, column: first.column)
            }
        }
        return nil
    }
}
