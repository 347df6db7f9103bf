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

extension ManifestCodec {
    /// The digest of the canonical manifest of a scanned folder whose files are all in the hash index,
    /// computed while the JSON is written in pieces (no ``ArtifactManifest``, no ``Digest`` per file).
    ///
    /// The bytes hashed are exactly ``encode(_:)``'s for the same files. Returns nil when a file is not
    /// in the index (it must be hashed first) or has a path that needs escaping in JSON; the caller then
    /// builds the manifest the ordinary way.
    static func digest(of scan: DataWorkspace.Scan, index: HashIndex) -> Digest? {
        var writer = HashingWriter()
        defer { writer.release() }
        writer.append(head)
        let complete = index.withStoredBytes { stored -> Bool in
            for (position, file) in scan.files.enumerated() {
                guard let raw = index.rawDigest(for: file.info) else { return false }
                let path = file.relative.utf8
                writer.reserve(path.count + 160)
                if position > 0 { writer.append(UInt8(ascii: ",")) }
                writer.append(entryDigest)
                switch raw {
                case .stored(let offset): writer.appendHex(UnsafeRawBufferPointer(rebasing: stored[offset..<offset + 32]))
                case .updated(let digest): writer.append(digest.hex.utf8)
                }
                writer.append(file.executable ? entryExecutableTrue : entryExecutableFalse)
                guard writer.appendPlain(path) else { return false }
                writer.append(entrySize)
                writer.appendDecimal(file.info.size)
                writer.append(UInt8(ascii: "}"))
            }
            return true
        }
        guard complete else { return nil }
        writer.append(tail)
        return writer.finalize()
    }

    private static let entryDigest = Array(#"{"digest":"sha256:"#.utf8)
    private static let entryExecutableTrue = Array(#"","executable":true,"path":""#.utf8)
    private static let entryExecutableFalse = Array(#"","executable":false,"path":""#.utf8)
    private static let entrySize = Array(#"","size":"#.utf8)
}

/// Collects bytes in a fixed buffer and feeds them to SHA-256 whenever it fills.
private struct HashingWriter {
    private var hasher = DigestHasher()
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 64)
    private var used = 0
    private static let digits = Array("0123456789abcdef".utf8)

    /// Makes room for `count` more bytes (flushing, or growing the buffer for a very long path).
    mutating func reserve(_ count: Int) {
        guard used + count > buffer.count else { return }
        flush()
        if count > buffer.count {
            buffer.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        }
    }

    mutating func append(_ byte: UInt8) {
        reserve(1)
        buffer[used] = byte
        used += 1
    }

    mutating func append(_ bytes: [UInt8]) {
        reserve(bytes.count)
        bytes.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: buffer[used..<used + source.count]).copyMemory(from: source)
        }
        used += bytes.count
    }

    mutating func append(_ text: String.UTF8View) {
        reserve(text.count)
        for byte in text {
            buffer[used] = byte
            used += 1
        }
    }

    /// Appends a path that JSON carries without escapes; false (nothing usable written) for any other.
    mutating func appendPlain(_ text: String.UTF8View) -> Bool {
        reserve(text.count)
        for byte in text {
            guard byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") else { return false }
            buffer[used] = byte
            used += 1
        }
        return true
    }

    /// Appends 32 bytes as 64 lowercase hex digits.
    mutating func appendHex(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count * 2)
        Self.digits.withUnsafeBufferPointer { table in
            for byte in bytes {
                buffer[used] = table[Int(byte >> 4)]
                buffer[used + 1] = table[Int(byte & 0x0f)]
                used += 2
            }
        }
    }

    /// Appends a non-negative integer in decimal (as `String(value)` writes it).
    mutating func appendDecimal(_ value: Int64) {
        guard value >= 0 else {
            append(String(value).utf8)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 20 digits, written from the end
        let count = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
            var rest = UInt64(value)
            var position = scratch.count
            repeat {
                position -= 1
                scratch[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            let count = scratch.count - position
            reserve(count)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[used..<used + count])
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[position...]))
            return count
        }
        used += count
    }

    private mutating func flush() {
        guard used > 0 else { return }
        hasher.update(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<used]))
        used = 0
    }

    mutating func finalize() -> Digest {
        flush()
        return hasher.finalize()
    }

    func release() { buffer.deallocate() }
}
