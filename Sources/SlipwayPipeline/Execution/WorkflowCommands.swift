import Foundation

/// A workflow command a step printed on its output (`::name key=value,…::message`).
public struct WorkflowCommand: Sendable, Equatable {
    public var name: String
    public var properties: [String: String]
    public var message: String

    /// Parses one output line; nil when the line is not a command.
    public static func parse(_ line: String) -> WorkflowCommand? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix("::") else { return nil }
        let body = trimmed.dropFirst(2)
        guard let end = body.range(of: "::") else { return nil }
        let head = body[..<end.lowerBound]
        let message = String(body[end.upperBound...])
        let name: Substring
        var properties: [String: String] = [:]
        if let space = head.firstIndex(of: " ") {
            name = head[..<space]
            for pair in head[head.index(after: space)...].split(separator: ",") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let key = pair[..<equals].trimmingCharacters(in: .whitespaces)
                properties[key] = unescapeProperty(String(pair[pair.index(after: equals)...]))
            }
        } else {
            name = head
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
        return WorkflowCommand(name: String(name), properties: properties, message: unescapeData(message))
    }

    /// Command data with `%25`, `%0D` and `%0A` decoded.
    public static func unescapeData(_ text: String) -> String {
        guard text.contains("%") else { return text }
        return text.replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%0A", with: "\n")
            .replacingOccurrences(of: "%0d", with: "\r").replacingOccurrences(of: "%0a", with: "\n")
            .replacingOccurrences(of: "%25", with: "%")
    }

    /// A property value with `%25`, `%0D`, `%0A`, `%3A` and `%2C` decoded.
    public static func unescapeProperty(_ text: String) -> String {
        guard text.contains("%") else { return text }
        return text.replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%0A", with: "\n")
            .replacingOccurrences(of: "%3A", with: ":").replacingOccurrences(of: "%2C", with: ",")
            .replacingOccurrences(of: "%25", with: "%")
    }
}

/// What a step's output line means once its workflow command (if any) is applied.
enum OutputLine: Sendable, Equatable {
    /// A line to show and store (already masked).
    case text(String)
    /// `::group::title`.
    case groupStart(String)
    /// `::endgroup::`.
    case groupEnd
    /// `::debug::` text, shown only in verbose mode.
    case debug(String)
    /// An annotation (also shown as `Error: …`).
    case annotation(Annotation)
    /// Nothing to show (`::add-mask::`, `::stop-commands::`, …).
    case none
}

/// Applies workflow commands to a step's output, line by line, keeping the state they carry
/// (`::stop-commands::` and its end token).
struct WorkflowCommandProcessor {
    let masker: SecretMasker
    /// The end token while commands are stopped.
    private(set) var stopToken: String?

    init(masker: SecretMasker) { self.masker = masker }

    /// Interprets one line (without its line break).
    mutating func process(_ line: String) -> OutputLine {
        if let token = stopToken {
            if line.trimmingCharacters(in: .whitespaces) == "::\(token)::" {
                stopToken = nil
                return .none
            }
            return .text(masker.mask(line))
        }
        guard let command = WorkflowCommand.parse(line) else { return .text(masker.mask(line)) }
        switch command.name {
        case "add-mask":
            masker.add(command.message)
            return .none
        case "group":
            return .groupStart(masker.mask(command.message))
        case "endgroup":
            return .groupEnd
        case "debug":
            return .debug(masker.mask(command.message))
        case "stop-commands":
            guard !command.message.isEmpty else { return .text(masker.mask(line)) }
            stopToken = command.message
            return .none
        case "error", "warning", "notice":
            var annotation = Annotation(level: command.name, message: masker.mask(command.message))
            annotation.title = command.properties["title"].map { masker.mask($0) }
            annotation.file = command.properties["file"]
            annotation.line = command.properties["line"].flatMap { Int($0) }
            annotation.column = command.properties["col"].flatMap { Int($0) }
            return .annotation(annotation)
        case "echo", "save-state", "set-output", "add-matcher", "remove-matcher":
            // Accepted and not shown; `set-output` and `save-state` are deprecated by GitHub in favour of the files.
            return .none
        default:
            return .text(masker.mask(line))
        }
    }
}
