import Foundation
public import SlipwayCore

/// The small YAML file `PATH.slipway` committed to git in place of a tracked file or folder.
///
/// ```yaml
/// # Slipway data pointer: commit this file; the data is in the cache and on remotes.
/// kind: folder
/// digest: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
/// size: 1048576
/// files: 3
/// ```
///
/// For a file, `digest` is the file's SHA-256; for a folder, the digest of its manifest (an
/// ``SlipwayStore/ArtifactManifest`` object in the cache, listing every file's path, digest and size).
public struct DataPointer: Sendable, Codable, Equatable {
    /// What a pointer tracks.
    public enum Kind: String, Sendable, Codable {
        case file, folder
    }

    /// The file name suffix of pointer files.
    public static let suffix = ".slipway"
    /// Pointer files larger than this are not pointers.
    static let maximumSize = 64 * 1024

    /// A file or a folder.
    public var kind: Kind
    /// The file's digest, or the digest of the folder's manifest.
    public var digest: Digest
    /// The total size of the data in bytes.
    public var size: Int64
    /// How many files the data holds (1 for a file).
    public var files: Int

    /// Creates a pointer.
    public init(kind: Kind, digest: Digest, size: Int64, files: Int) {
        self.kind = kind
        self.digest = digest
        self.size = size
        self.files = files
    }

    /// The pointer as the YAML text written to disk.
    public var yaml: String {
        """
        # Slipway data pointer: commit this file; the data is in the cache and on remotes.
        kind: \(kind.rawValue)
        digest: \(digest)
        size: \(size)
        files: \(files)

        """
    }

    /// Parses a pointer file.
    ///
    /// Accepts `key: value` lines (values may be quoted), comments and blank lines: the YAML that
    /// ``yaml`` writes and any hand edit of it.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - path: the file's path, for messages.
    /// - Throws: ``DataError`` (`invalidArgument`) naming the file, the line and the offending key.
    public static func parse(_ text: String, path: String) throws -> DataPointer {
        func fail(_ line: Int?, _ message: String) -> DataError {
            let place = line.map { "\(path):\($0)" } ?? path
            return DataError(
                .invalidArgument,
                "pointer file \(place) is corrupt: \(message); restore it with 'git checkout -- \(path)' or re-create it with 'slipway data add'")
        }
        var values: [String: (value: String, line: Int)] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed == "---" && values.isEmpty { continue }
            guard trimmed.startIndex == line.startIndex else { throw fail(number, "line \(number) is indented; pointer keys are at the top level") }
            guard let colon = line.firstIndex(of: ":") else {
                throw fail(number, "line \(number) '\(line.prefix(60))' is not 'key: value'")
            }
            let key = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            var value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if let hash = value.range(of: " #") { value = String(value[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces) }
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            guard ["kind", "digest", "size", "files"].contains(key) else {
                throw fail(number, "unknown key '\(key)' (a pointer has kind, digest, size and files)")
            }
            guard values[key] == nil else { throw fail(number, "key '\(key)' appears twice") }
            values[key] = (value, number)
        }
        func required(_ key: String) throws -> (value: String, line: Int) {
            guard let entry = values[key] else { throw fail(nil, "key '\(key)' is missing") }
            return entry
        }
        let kindEntry = try required("kind")
        guard let kind = Kind(rawValue: kindEntry.value) else {
            throw fail(kindEntry.line, "key 'kind' is '\(kindEntry.value)'; write file or folder")
        }
        let digestEntry = try required("digest")
        guard let digest = Digest(digestEntry.value) else {
            throw fail(digestEntry.line, "key 'digest' is '\(digestEntry.value.prefix(80))', not sha256:<64 hex digits>")
        }
        let sizeEntry = try required("size")
        guard let size = Int64(sizeEntry.value), size >= 0 else {
            throw fail(sizeEntry.line, "key 'size' is '\(sizeEntry.value.prefix(40))', not a number of bytes")
        }
        let filesEntry = try required("files")
        guard let files = Int(filesEntry.value), files >= 0, kind == .folder || files == 1 else {
            throw fail(filesEntry.line, "key 'files' is '\(filesEntry.value.prefix(40))', not a file count (1 for a file)")
        }
        return DataPointer(kind: kind, digest: digest, size: size, files: files)
    }
}
