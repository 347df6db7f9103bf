import Foundation
import SlipwayCore
import SlipwayStore

/// Reads and writes folder manifests without `JSONEncoder`/`JSONDecoder` for the common case.
///
/// The bytes are exactly ``SlipwayStore/ArtifactManifest/canonicalJSON()``'s (sorted keys, no escaped
/// slashes), so a folder gets the same digest here as with `slipway versions create`. Paths that
/// would need escaping in JSON (quotes, backslashes, control or non-ASCII characters) go through the
/// Foundation coders instead; so does any manifest the fast reader does not recognise.
enum ManifestCodec {
    private static let head = Array(#"{"files":["#.utf8)
    private static let tail = Array(#"],"mediaType":"\#(ArtifactManifest.mediaType)"}"#.utf8)

    /// The canonical JSON of a manifest.
    static func encode(_ manifest: ArtifactManifest) throws -> Data {
        guard manifest.mediaType == ArtifactManifest.mediaType, manifest.files.allSatisfy({ isPlain($0.path) }) else {
            return try manifest.canonicalJSON()
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(manifest.files.count * 160 + 100)
        bytes += head
        for (index, entry) in manifest.files.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += #"{"digest":"sha256:"#.utf8
            bytes += entry.digest.hex.utf8
            bytes += #"","executable":"#.utf8
            bytes += (entry.executable ? "true" : "false").utf8
            bytes += #","path":""#.utf8
            bytes += entry.path.utf8
            bytes += #"","size":"#.utf8
            bytes += String(entry.size).utf8
            bytes.append(UInt8(ascii: "}"))
        }
        bytes += tail
        return Data(bytes)
    }

    /// The manifest in `data`, through the fast reader when it recognises the bytes, else `JSONDecoder`.
    static func decode(_ data: Data) -> ArtifactManifest? {
        if let files = data.withUnsafeBytes({ fastDecode(UnsafeRawBufferPointer($0)) }) {
            var manifest = ArtifactManifest(files: [])
            manifest.files = files
            return manifest
        }
        guard let manifest = try? SlipwayJSON.decoder().decode(ArtifactManifest.self, from: data), manifest.mediaType == ArtifactManifest.mediaType else {
            return nil
        }
        return manifest
    }

    /// A path that JSON carries without escapes: printable ASCII without `"` and `\`.
    private static func isPlain(_ path: String) -> Bool {
        path.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    private static func fastDecode(_ bytes: UnsafeRawBufferPointer) -> [ArtifactManifest.Entry]? {
        var position = 0
        func expect(_ text: some Sequence<UInt8>) -> Bool {
            for byte in text {
                guard position < bytes.count, bytes[position] == byte else { return false }
                position += 1
            }
            return true
        }
        func string() -> String? {
            let start = position
            while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                let byte = bytes[position]
                guard byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\\") else { return nil }
                position += 1
            }
            guard position < bytes.count else { return nil }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            position += 1
            return text
        }
        guard expect(head) else { return nil }
        var entries: [ArtifactManifest.Entry] = []
        var previous: String?
        while position < bytes.count && bytes[position] == UInt8(ascii: "{") {
            guard expect(#"{"digest":"sha256:"#.utf8), let hex = string(), hex.utf8.count == 64, let digest = Digest(hex: hex),
                expect(#","executable":"#.utf8)
            else { return nil }
            let executable: Bool
            if expect("true".utf8) {
                executable = true
            } else if expect("false".utf8) {
                executable = false
            } else {
                return nil
            }
            guard expect(#","path":""#.utf8), let path = string(), expect(#","size":"#.utf8) else { return nil }
            var size: Int64 = 0
            let digitsStart = position
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                let (times, overflow1) = size.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(Int64(bytes[position] - 0x30))
                guard !overflow1 && !overflow2 else { return nil }
                size = plus
                position += 1
            }
            guard position > digitsStart, expect("}".utf8) else { return nil }
            // Canonical manifests are sorted; anything else goes through the full decoder.
            if let previous, !(previous < path) { return nil }
            previous = path
            entries.append(ArtifactManifest.Entry(path: path, digest: digest, size: size, executable: executable))
            if position < bytes.count && bytes[position] == UInt8(ascii: ",") { position += 1 }
        }
        guard expect(tail), position == bytes.count else { return nil }
        return entries
    }
}
