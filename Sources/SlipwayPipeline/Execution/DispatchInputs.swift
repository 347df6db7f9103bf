import Foundation

/// Turns `--input name=value` pairs into the typed `inputs` context of a `workflow_dispatch` run.
public enum DispatchInputs {
    /// A given input that does not fit the workflow's declaration.
    public struct InputError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(_ message: String) { self.message = message }
    }

    /// The `inputs` object: each declared input typed (boolean, number, string, choice, environment), defaults applied.
    /// - Throws: every problem at once: unknown names (listing the declared ones), missing required inputs, values of
    ///   the wrong type, choices not among the options.
    public static func resolve(_ given: [String: String], declared: [DispatchInput]) throws(InputError) -> ExpressionObject {
        var problems: [String] = []
        let names = declared.map(\.name)
        for name in given.keys.sorted() where !names.contains(name) {
            let list = names.isEmpty ? "the workflow declares no inputs" : "declared inputs: \(names.joined(separator: ", "))"
            problems.append("unknown input '\(name)' (\(list))")
        }
        var object = ExpressionObject()
        for input in declared {
            let text = given[input.name] ?? input.defaultValue
            guard let text else {
                if input.required {
                    problems.append("input '\(input.name)' is required: pass --input \(input.name)=VALUE")
                } else {
                    object[input.name] = input.kind == .boolean ? .bool(false) : .string("")
                }
                continue
            }
            switch input.kind {
            case .boolean:
                switch text.lowercased() {
                case "true": object[input.name] = .bool(true)
                case "false": object[input.name] = .bool(false)
                default: problems.append("input '\(input.name)' is a boolean: '\(text)' is neither true nor false")
                }
            case .number:
                if let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite {
                    object[input.name] = .number(number)
                } else {
                    problems.append("input '\(input.name)' is a number: '\(text)' is not one")
                }
            case .choice:
                if input.options.contains(text) {
                    object[input.name] = .string(text)
                } else {
                    problems.append("input '\(input.name)' must be one of \(input.options.joined(separator: ", ")); '\(text)' is not")
                }
            case .string, .environment:
                object[input.name] = .string(text)
            }
        }
        guard problems.isEmpty else { throw InputError(problems.joined(separator: "\n")) }
        return object
    }
}
