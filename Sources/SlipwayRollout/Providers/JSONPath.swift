import Foundation

/// A JSON path of the `web` provider: `$`, then `.name`, `['name']` or `[index]` parts, as in
/// `$.data.latency.p99` or `$.results[0].value`. Kubernetes' `{$.a.b}` form is accepted too.
///
/// ```swift
/// let path = try JSONPath("$.data.ok")
/// let value = try path.select(in: .map(["data": .map(["ok": .bool(true)])]))   // .bool(true)
/// ```
public struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    /// One step of a path.
    public enum Component: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    /// The steps after `$`.
    public let components: [Component]
    /// The path as written.
    public let description: String

    /// Parses a path.
    /// - Throws: `JSONPath.SyntaxError` naming the path and the offending character.
    public init(_ text: String) throws(SyntaxError) {
        description = text
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("{") && body.hasSuffix("}") { body = body.dropFirst().dropLast() }
        guard body.first == "$" else {
            throw SyntaxError(path: text, message: "a JSON path starts with '$', such as $.data.value")
        }
        let chars = Array(body.dropFirst())
        var parts: [Component] = []
        var i = 0
        func fail(_ message: String) -> SyntaxError { SyntaxError(path: text, message: "\(message) at character \(i + 2)") }
        while i < chars.count {
            switch chars[i] {
            case ".":
                i += 1
                var name = ""
                while i < chars.count, chars[i] != ".", chars[i] != "[" {
                    name.append(chars[i])
                    i += 1
                }
                guard !name.isEmpty else { throw fail("a name must follow '.'") }
                guard !name.contains(where: { $0 == "]" || $0 == "'" || $0 == "\"" || $0 == " " }) else {
                    throw fail("'\(name)' is not a plain name; write ['\(name)'] for a key with special characters")
                }
                parts.append(.key(name))
            case "[":
                i += 1
                guard i < chars.count else { throw fail("'[' is not closed") }
                if chars[i] == "'" || chars[i] == "\"" {
                    let quote = chars[i]
                    i += 1
                    var name = ""
                    while i < chars.count, chars[i] != quote {
                        name.append(chars[i])
                        i += 1
                    }
                    guard i + 1 < chars.count, chars[i] == quote, chars[i + 1] == "]" else { throw fail("a quoted key must end with \(quote)]") }
                    i += 2
                    parts.append(.key(name))
                } else {
                    var digits = ""
                    while i < chars.count, chars[i] != "]" {
                        digits.append(chars[i])
                        i += 1
                    }
                    guard i < chars.count else { throw fail("'[' is not closed") }
                    guard let index = Int(digits.trimmingCharacters(in: .whitespaces)), index >= 0 else {
                        throw fail("'[\(digits)]' is not an index; use a whole number ≥ 0 or a quoted key such as ['name']")
                    }
                    i += 1
                    parts.append(.index(index))
                }
            default:
                throw fail("unexpected '\(chars[i])'; use .name, ['name'] or [index]")
            }
        }
        components = parts
    }

    /// The part of `value` the path names.
    /// - Throws: `JSONPath.SelectionError` naming the path, where it stopped and why.
    public func select(in value: ConditionValue) throws(SelectionError) -> ConditionValue {
        var current = value
        var walked = "$"
        for component in components {
            switch (component, current) {
            case (.key(let key), .map(let map)):
                guard let next = map[key] else {
                    let keys = map.keys.sorted().prefix(10).joined(separator: ", ")
                    throw SelectionError(
                        path: description, message: "\(walked) has no key '\(key)'" + (keys.isEmpty ? " (it is empty)" : "; its keys are \(keys)"))
                }
                current = next
                walked += ".\(key)"
            case (.index(let index), .array(let items)):
                guard index < items.count else {
                    throw SelectionError(path: description, message: "\(walked) has \(items.count) element(s), so [\(index)] is out of range")
                }
                current = items[index]
                walked += "[\(index)]"
            case (.key(let key), _):
                throw SelectionError(path: description, message: "\(walked) is \(current.typeName), not an object, so it has no key '\(key)'")
            case (.index(let index), _):
                throw SelectionError(path: description, message: "\(walked) is \(current.typeName), not an array, so it has no element [\(index)]")
            }
        }
        return current
    }

    /// A path that does not parse.
    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "jsonPath '\(path)' does not parse: \(message)" }
    }

    /// A path that does not match the document.
    public struct SelectionError: Error, Equatable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "jsonPath '\(path)' does not match the answer: \(message)" }
    }
}

extension ConditionValue {
    /// The value of a JSON document (objects become maps, arrays arrays, numbers numbers).
    /// - Throws: when `data` is not JSON; the error says what the text starts with.
    static func decodeJSON(_ data: Data) throws(JSONDocumentError) -> ConditionValue {
        do {
            return try JSONDecoder().decode(ConditionValue.self, from: data)
        } catch {
            let start = String(decoding: data.prefix(80), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
            throw JSONDocumentError(start: start)
        }
    }
}

/// A document that is not JSON.
struct JSONDocumentError: Error {
    /// Its first characters.
    var start: String
}
