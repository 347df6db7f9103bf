import SlipwayCore
import Foundation
import Yams
import SlipwayYAML

extension SpecBuilder {
    static let webhookKeys = ["url", "events", "secretEnv"]

    /// `spec.webhooks`: a list of `{url, events, secretEnv}`.
    func webhooks(_ fields: Fields) -> [WebhookSpec] {
        guard let items = reader.list(fields, "webhooks") else { return [] }
        var hooks: [WebhookSpec] = []
        for (index, item) in items.enumerated() {
            let path = "\(fields.child("webhooks"))[\(index)]"
            guard let f = reader.mapping(item, path: path, allowed: Self.webhookKeys) else { continue }
            let url = reader.string(f, "url", required: true, hint: "the http:// or https:// URL events are POSTed to")
            if let url, let node = f["url"] { checkWebhookURL(url, node, path: f.child("url")) }
            var events = WebhookSpec.defaultEvents
            if let eventNodes = reader.list(f, "events", nonEmpty: true) {
                var chosen: [WebhookSpec.Event] = []
                let names = WebhookSpec.Event.allCases.map(\.rawValue)
                for (i, node) in eventNodes.enumerated() {
                    guard let text = reader.string(node, path: "\(f.child("events"))[\(i)]") else { continue }
                    guard let event = WebhookSpec.Event(rawValue: text) else {
                        var message = "unknown event '\(text)' in \(f.child("events")); events are \(names.joined(separator: ", "))"
                        if let close = Suggestion.closest(to: text, in: names) { message += "; did you mean '\(close)'?" }
                        reader.report(node, message)
                        continue
                    }
                    if !chosen.contains(event) { chosen.append(event) }
                }
                events = chosen
            }
            var secretEnv: String?
            if let name = reader.string(f, "secretEnv"), let node = f["secretEnv"] {
                if Self.isEnvironmentName(name) {
                    secretEnv = name
                } else {
                    reader.report(
                        node,
                        "\(f.child("secretEnv")) must name an environment variable of the server (letters, digits and '_', such as "
                            + "SLIPWAY_HOOK_SECRET), not hold the secret itself")
                }
            }
            guard let url, !events.isEmpty else { continue }
            hooks.append(WebhookSpec(url: url, events: events, secretEnv: secretEnv))
        }
        return hooks
    }

    func checkWebhookURL(_ text: String, _ node: Node, path: String) {
        guard let url = URLComponents(string: text), url.scheme == "http" || url.scheme == "https", url.host?.isEmpty == false else {
            reader.report(node, "\(path) must be an http:// or https:// URL such as https://hooks.example.com/slipway, got '\(text)'")
            return
        }
        if url.user != nil || url.password != nil {
            reader.report(node, "\(path) must not carry a user name or password; sign events with secretEnv instead")
        }
    }

    /// `NAME_1`: an ASCII letter or '_' first, then letters, digits or '_'.
    static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 128 else { return false }
        func ok(_ s: Unicode.Scalar) -> Bool { s.isASCII && (CharacterSet.alphanumerics.contains(s) || s == "_") }
        return (first == "_" || (first.isASCII && CharacterSet.letters.contains(first))) && text.unicodeScalars.allSatisfy(ok)
    }
}
