/// Validation of the names users choose: models, aliases, tag and metric keys.
public enum Names {
    /// Model names: 1–256 characters of letters, digits, `_`, `-`, `.`, starting with a letter or digit.
    public static func validateModelName(_ name: String) throws(GenericError) {
        try validate(name, what: "model name", maxLength: 256, extra: "_-.")
    }

    /// Alias names: 1–128 characters of letters, digits, `_`, `-`, `.`, starting with a letter or digit;
    /// not a bare number and not `latest`, which refer to versions.
    public static func validateAlias(_ alias: String) throws(GenericError) {
        try validate(alias, what: "alias", maxLength: 128, extra: "_-.")
        if alias.allSatisfy(\.isNumber) || alias.lowercased() == "latest" || alias.lowercased().hasPrefix("v") && alias.dropFirst().allSatisfy(\.isNumber) {
            throw GenericError(.invalidArgument, "alias '\(alias)' would be read as a version number; choose a name such as 'production' or 'champion'")
        }
    }

    /// Tag, parameter and metric keys: 1–250 characters, no control characters.
    public static func validateKey(_ key: String, what: String = "tag key") throws(GenericError) {
        guard !key.isEmpty, key.count <= 250 else {
            throw GenericError(.invalidArgument, "\(what) must have 1 to 250 characters, got \(key.count)")
        }
        guard !key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw GenericError(.invalidArgument, "\(what) '\(key.debugDescription)' contains a control character")
        }
    }

    /// Values of tags and parameters: at most 5,000 characters.
    public static func validateValue(_ value: String, what: String = "tag value") throws(GenericError) {
        guard value.utf8.count <= 5000 else {
            throw GenericError(.invalidArgument, "\(what) is \(value.utf8.count) bytes long; the limit is 5000")
        }
    }

    private static func validate(_ name: String, what: String, maxLength: Int, extra: String) throws(GenericError) {
        guard !name.isEmpty else { throw GenericError(.invalidArgument, "\(what) must not be empty") }
        guard name.count <= maxLength else {
            throw GenericError(.invalidArgument, "\(what) is \(name.count) characters long; the limit is \(maxLength)")
        }
        let allowed = { (c: Character) -> Bool in
            (c.isASCII && (c.isLetter || c.isNumber)) || extra.contains(c)
        }
        guard let first = name.first, first.isASCII, first.isLetter || first.isNumber else {
            throw GenericError(.invalidArgument, "\(what) '\(name)' must start with a letter or a digit")
        }
        if let bad = name.first(where: { !allowed($0) }) {
            throw GenericError(
                .invalidArgument,
                "\(what) '\(name)' contains '\(bad)'; use letters, digits and \(extra.map { "'\($0)'" }.joined(separator: " "))"
            )
        }
        if name.contains("..") || name.hasSuffix("/") || name.contains("//") {
            throw GenericError(.invalidArgument, "\(what) '\(name)' must not contain '..', '//' or end with '/'")
        }
    }
}
