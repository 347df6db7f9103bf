public import Foundation
import Crypto

/// A SHA-256 content digest, written `sha256:<64 lowercase hex digits>`.
///
/// Every artifact, dataset and manifest in Slipway is addressed by its digest: the same
/// bytes always have the same address, and a read that does not hash back to it is corrupt.
public struct Digest: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, LosslessStringConvertible {
    /// The 64 lowercase hexadecimal digits of the SHA-256 hash.
    public let hex: String

    /// Creates a digest from its 64 hexadecimal digits, or returns nil if they are not that.
    public init?(hex: String) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ Digest.isHexDigit($0) }) else { return nil }
        self.hex = hex.lowercased()
    }

    /// Parses `sha256:<hex>` (or the bare hex digits).
    public init?(_ description: String) {
        let text = description.hasPrefix("sha256:") ? String(description.dropFirst(7)) : description
        self.init(hex: text)
    }

    /// The digest of a byte buffer.
    public init(of data: some DataProtocol) {
        var hasher = DigestHasher()
        hasher.update(data)
        self = hasher.finalize()
    }

    public var description: String { "sha256:\(hex)" }

    /// A short form for people: the first 12 hex digits.
    public var short: String { String(hex.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let digest = Digest(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a sha256 digest")
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
    }
}

/// Incremental SHA-256 over streamed bytes.
public struct DigestHasher: Sendable {
    private var hasher = SHA256()
    /// How many bytes went in so far.
    public private(set) var count: Int64 = 0

    public init() {}

    public mutating func update(_ data: some DataProtocol) {
        hasher.update(data: data)
        count += Int64(data.count)
    }

    public mutating func update(bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        count += Int64(bytes.count)
    }

    public func finalize() -> Digest {
        let bytes = hasher.finalize()
        // Lowercase hex written straight into the string's storage: no per-character appends, nothing to validate.
        let hex = String(unsafeUninitializedCapacity: 64) { out in
            let digits: StaticString = "0123456789abcdef"
            var index = 0
            for byte in bytes {
                out[index] = digits.utf8Start[Int(byte >> 4)]
                out[index + 1] = digits.utf8Start[Int(byte & 0x0f)]
                index += 2
            }
            return index
        }
        return Digest(lowercaseHex: hex)
    }
}

extension Digest {
    /// A digest from 64 lowercase hex digits known to be well formed.
    fileprivate init(lowercaseHex: String) { self.hex = lowercaseHex }
}
