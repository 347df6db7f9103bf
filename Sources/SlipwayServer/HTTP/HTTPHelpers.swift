import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import SlipwayCore

extension Request {
    /// Decodes a JSON body no larger than the context's limit (413 above it, 400 when malformed).
    func decodeJSON<T: Decodable>(_ type: T.Type, context: APIContext) async throws -> T {
        let buffer = try await body.collect(upTo: context.maxBodyBytes)
        guard buffer.readableBytes > 0 else { throw GenericError(.invalidArgument, "the request needs a JSON body") }
        do {
            return try SlipwayJSON.decoder().decode(T.self, from: buffer)
        } catch let error as DecodingError {
            throw GenericError(.invalidArgument, "malformed JSON body: \(Self.explain(error, body: Data(buffer: buffer)))")
        }
    }

    /// The decoder says only "not valid JSON" both for broken JSON and for a number that does not fit
    /// its field (1.5 or 1e30 for a version); a second parse tells them apart.
    private static func explain(_ error: DecodingError, body: Data) -> String {
        guard case .dataCorrupted(let context) = error, context.codingPath.isEmpty else { return ErrorMiddleware.describe(error) }
        do {
            _ = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
            return "a number does not fit its field: versions and counts are whole numbers up to 9223372036854775807, metrics are finite"
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            return "the body is not valid JSON" + (detail.map { ": \($0)" } ?? "")
        }
    }

    /// A query parameter, or nil.
    func query(_ name: String) -> String? { FormQuery(uri.query).first(name) }

    /// All values of a repeated query parameter.
    func queryAll(_ name: String) -> [String] { FormQuery(uri.query).all(name) }

    /// An integer query parameter within bounds, or the default.
    func queryInt(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        try FormQuery(uri.query).parameterInt(name, default: value, in: range)
    }
}

extension Parameters {
    /// A path parameter as a version number.
    func versionNumber(_ name: String = "version") throws -> Int {
        let text = try require(name)
        guard let number = Int(text), number > 0 else {
            throw GenericError(.invalidArgument, "'\(text)' is not a version number (1, 2, …)")
        }
        return number
    }

    /// A path parameter, percent-decoded; 400 when its escapes are not UTF-8 (`%FF`) or incomplete (`%`).
    func decoded(_ name: String) throws -> String {
        try PathParameter.decode(require(name), name: name)
    }
}

/// Path parameters as they arrive: percent-encoded.
enum PathParameter {
    /// The decoded text; 400 when the escapes are not UTF-8 (`%FF`) or incomplete (`%`, `%2`).
    static func decode(_ text: String, name: String) throws -> String {
        guard let decoded = text.removingPercentEncoding else {
            throw GenericError(
                .invalidArgument, "the \(name) '\(text)' in the path is not valid percent-encoded UTF-8; write a literal % as %25")
        }
        return decoded
    }
}

/// Encodes a value as a JSON response with Slipway's conventions.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let data = try SlipwayJSON.encoder().encode(value)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
}

/// An empty JSON object response.
func emptyResponse(status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
}

/// Query parameters decoded as HTML forms send them (`+` is a space, then percent-decoding),
/// which is how Python clients encode them.
struct FormQuery {
    var pairs: [(key: String, value: String)]

    init(_ raw: String?) {
        pairs = []
        guard let raw, !raw.isEmpty else { return }
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(pieces[0])
            let value = pieces.count > 1 ? Self.decode(pieces[1]) : ""
            pairs.append((key, value))
        }
    }

    static func decode(_ text: Substring) -> String {
        // Most values have neither `+` nor escapes; Foundation's replacing and decoding cost more than the request.
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "%") }) else { return String(text) }
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// An integer parameter within bounds, or the default when it is absent (an empty value is refused), with the
    /// native API's message.
    func parameterInt(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = first(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw GenericError(.invalidArgument, "query parameter \(name)='\(text)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func first(_ name: String) -> String? { pairs.first { $0.key == name }?.value }

    func all(_ name: String) -> [String] { pairs.filter { $0.key == name }.map(\.value) }

    func required(_ name: String) throws -> String {
        guard let value = first(name), !value.isEmpty else {
            throw GenericError(.invalidArgument, "missing value for required parameter '\(name)'")
        }
        return value
    }

    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = first(name), !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw GenericError(
                .invalidArgument, "\(name)='\(text)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
