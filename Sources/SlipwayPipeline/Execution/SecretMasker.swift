public import Foundation
import Synchronization

/// Replaces secret values with `***` in everything a run shows or stores.
///
/// For each registered value Slipway masks the exact value, each line of a multi-line value, its base64 form and its
/// URL-encoded form. Values (and lines) shorter than ``minimumLength`` characters after trimming white space are not
/// masked: they would hide every such substring of the output without protecting anything. Longer values are replaced
/// first, so a secret that contains another is masked whole.
public final class SecretMasker: Sendable {
    /// The shortest value that is masked.
    public static let minimumLength = 3

    private let values = Mutex<[String]>([])

    public init(secrets: [String] = []) {
        for secret in secrets { add(secret) }
    }

    /// Registers a value (and its derived forms) to mask from now on.
    public func add(_ value: String) {
        var forms: [String] = []
        let lines = value.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        for candidate in [value.trimmingCharacters(in: .whitespacesAndNewlines)] + lines where candidate.count >= Self.minimumLength {
            forms.append(candidate)
        }
        guard let whole = forms.first else { return }
        let base64 = Data(whole.utf8).base64EncodedString()
        forms.append(base64)
        let unpadded = String(base64.reversed().drop { $0 == "=" }.reversed())
        if unpadded.count >= Self.minimumLength { forms.append(unpadded) }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        if let encoded = whole.addingPercentEncoding(withAllowedCharacters: allowed), encoded != whole { forms.append(encoded) }
        values.withLock { list in
            for form in forms where !list.contains(form) { list.append(form) }
            list.sort { $0.count > $1.count }
        }
    }

    /// `text` with every registered value replaced by `***`.
    public func mask(_ text: String) -> String {
        let list = values.withLock { $0 }
        guard !list.isEmpty, !text.isEmpty else { return text }
        var result = text
        for value in list where result.contains(value) {
            result = result.replacingOccurrences(of: value, with: "***")
        }
        return result
    }

    /// Every value of a dictionary masked.
    public func mask(_ map: [String: String]) -> [String: String] { map.mapValues { mask($0) } }
}
