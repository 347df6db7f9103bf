import Foundation
import SlipwayCore
import SlipwayStore

/// The opaque page token of a search: where the next page starts, and a fingerprint of the query it belongs to.
struct PageToken: Codable, Equatable {
    /// How many results come before the next page.
    var offset: Int
    /// ``SearchCompiler/fingerprint(_:target:)`` of the query.
    var query: String

    enum CodingKeys: String, CodingKey {
        case offset = "o"
        case query = "q"
    }

    /// Far beyond any real result set; keeps a forged token from overflowing arithmetic.
    static let maximumOffset = 1 << 40

    /// The token's text: the same query and offset always give the same token (an encoder without sorted keys would
    /// write the two keys in an order that changes from one process to the next).
    var encoded: String {
        let data = Data(#"{"o":\#(offset),"q":\#(SlipwayJSON.string(query))}"#.utf8)
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a token and checks that it belongs to the query with `fingerprint`.
    static func decode(_ text: String, fingerprint: String) throws -> PageToken {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.utf8.count <= 512, let data = Data(base64Encoded: base64), let token = try? JSONDecoder().decode(PageToken.self, from: data),
            token.offset > 0, token.offset <= maximumOffset, token.query == fingerprint
        else {
            throw StoreError.invalidPageToken()
        }
        return token
    }
}
