public import Foundation

/// Reading and checking the `with:` inputs of a built-in action.
///
/// Every accessor names the action and the input in its error, and says what is allowed, so a mistake in a workflow is
/// fixed from the message alone.
public struct ActionInputs: Sendable {
    /// The action's `uses:` name, for messages.
    public let action: String
    /// The rendered `with:` values.
    public let values: [String: String]
    /// The job's workspace: relative paths are resolved against it, and no path may leave it.
    public let workspace: URL

    /// Inputs of `invocation` for the action called `action`.
    public init(_ action: String, _ invocation: ActionInvocation) {
        self.action = action
        self.values = invocation.inputs
        self.workspace = invocation.workspace
    }

    /// The trimmed value of an input, or nil when it is missing or empty.
    public func optional(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// The trimmed value of a required input.
    /// - Throws: naming the input when it is missing or empty.
    public func required(_ name: String, _ what: String) throws(ActionError) -> String {
        guard let value = optional(name) else {
            throw ActionError("\(action): the input '\(name)' is required (\(what)); add it under with:")
        }
        return value
    }

    /// A `true`/`false` input (GitHub's spelling; case does not matter).
    /// - Throws: when the value is anything else.
    public func bool(_ name: String, default fallback: Bool) throws(ActionError) -> Bool {
        guard let value = optional(name) else { return fallback }
        switch value.lowercased() {
        case "true": return true
        case "false": return false
        default: throw ActionError("\(action): the input '\(name)' is '\(value)'; allowed: true or false")
        }
    }

    /// One of a fixed set of words.
    /// - Throws: listing the allowed words when the value is not one of them.
    public func choice(_ name: String, _ allowed: [String], default fallback: String) throws(ActionError) -> String {
        guard let value = optional(name) else { return fallback }
        guard let match = allowed.first(where: { $0 == value.lowercased() }) else {
            throw ActionError("\(action): the input '\(name)' is '\(value)'; allowed: \(allowed.joined(separator: ", "))")
        }
        return match
    }

    /// A number.
    /// - Throws: when the value is not a finite number.
    public func number(_ name: String, default fallback: Double) throws(ActionError) -> Double {
        guard let value = optional(name) else { return fallback }
        guard let number = Double(value), number.isFinite else {
            throw ActionError("\(action): the input '\(name)' is '\(value)'; it must be a number (e.g. 0.01)")
        }
        return number
    }

    /// A whole number of at least `minimum`.
    public func integer(_ name: String, minimum: Int) throws(ActionError) -> Int? {
        guard let value = optional(name) else { return nil }
        guard let number = Int(value), number >= minimum else {
            throw ActionError("\(action): the input '\(name)' is '\(value)'; it must be a whole number of at least \(minimum)")
        }
        return number
    }

    /// `key=value` lines (blank lines and `#` comments are skipped), in order.
    /// - Throws: naming the first line that is not `key=value`.
    public func keyValues(_ name: String) throws(ActionError) -> [(key: String, value: String)] {
        guard let text = values[name] else { return [] }
        var pairs: [(key: String, value: String)] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                throw ActionError("\(action): the input '\(name)' has the line '\(line)'; each line must be key=value")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            pairs.append((key, value))
        }
        return pairs
    }

    /// A path inside the workspace, made absolute.
    /// - Throws: when it is absolute outside the workspace, or `..` (or a symbolic link) leads out of it.
    public func path(_ name: String, _ value: String) throws(ActionError) -> URL {
        do { return try Self.resolve(value, in: workspace) } catch { throw ActionError("\(action): the input '\(name)': \(error.message)") }
    }

    /// A required path input inside the workspace.
    public func requiredPath(_ name: String, _ what: String) throws(ActionError) -> URL {
        try path(name, try required(name, what))
    }

    /// An optional path input inside the workspace.
    public func optionalPath(_ name: String) throws(ActionError) -> URL? {
        guard let value = optional(name) else { return nil }
        return try path(name, value)
    }

    /// `value` as an absolute path inside `workspace` (`~` is not expanded).
    /// - Throws: when the path leaves the workspace, lexically or through a symbolic link.
    public static func resolve(_ value: String, in workspace: URL) throws(ActionError) -> URL {
        guard !value.utf8.contains(0) else { throw ActionError("the path contains a NUL character") }
        let root = workspace.standardizedFileURL.resolvingSymlinksInPath().path
        let lexicalRoot = workspace.standardizedFileURL.path
        var candidate: URL
        if value.hasPrefix("/") {
            candidate = URL(fileURLWithPath: value).standardizedFileURL
        } else {
            candidate = URL(fileURLWithPath: lexicalRoot).appendingPathComponent(value).standardizedFileURL
        }
        // Follow symbolic links of the part that exists.
        var existing = candidate
        var rest: [String] = []
        while existing.path != "/", !FileManager.default.fileExists(atPath: existing.path) {
            rest.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent()
        }
        var real = existing.resolvingSymlinksInPath()
        for part in rest { real.appendPathComponent(part) }
        candidate = real.standardizedFileURL
        let path = candidate.path
        guard path == root || path.hasPrefix(root == "/" ? "/" : root + "/") else {
            throw ActionError("'\(value)' is outside the workspace \(lexicalRoot); use a path inside it")
        }
        return candidate
    }
}
