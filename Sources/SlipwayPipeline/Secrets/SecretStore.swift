import Crypto
public import Foundation
import SlipwayCore

/// Workflow secrets, encrypted at rest with AES-GCM.
///
/// Each secret is one file under `<data folder>/secrets/` (repository secrets in `repository/`,
/// an environment's in `env/<name>/`), written to a temporary file and renamed, mode 0600. The key
/// comes from `SLIPWAY_MASTER_KEY` (base64 of 32 bytes, or any passphrase of at least 16
/// characters, stretched with HKDF-SHA256) or else from `<data folder>/master.key`, created on
/// first use with 32 random bytes and mode 0600 (a key file readable by others is refused). A
/// secret's name and scope are bound into its ciphertext as authenticated data, so a file moved to
/// another name does not decrypt. Values are never logged, printed or returned by listings.
public struct SecretStore: Sendable {
    /// Where the secrets are.
    public let folder: URL
    private let key: SymmetricKey

    /// The longest value accepted (GitHub's limit is 48 KB).
    public static let maximumValueSize = 48 * 1024

    /// What a listing shows of a secret: never its value.
    public struct Entry: Sendable, Codable, Equatable {
        public var name: String
        /// The environment it belongs to, or nil for a repository secret.
        public var environment: String?
        public var updatedAt: Date
    }

    /// Opens the store of a data folder, creating its key file on first use unless
    /// `SLIPWAY_MASTER_KEY` is set.
    public static func open(dataDir: URL, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SecretStore {
        let folder = dataDir.appendingPathComponent("secrets", isDirectory: true)
        let key: SymmetricKey
        if let text = environment["SLIPWAY_MASTER_KEY"], !text.isEmpty {
            key = try masterKey(fromEnvironment: text)
        } else {
            key = try keyFile(at: dataDir.appendingPathComponent("master.key"))
        }
        let store = SecretStore(folder: folder, key: key)
        try store.checkKey()
        return store
    }

    private init(folder: URL, key: SymmetricKey) {
        self.folder = folder
        self.key = key
    }

    // MARK: Changing secrets

    /// Stores `value` as secret `name` (replacing an earlier value), for the repository or one environment.
    public func set(_ name: String, value: String, environment: String? = nil) throws {
        try Self.validate(name: name)
        if let environment { try Self.validate(environment: environment) }
        let bytes = Data(value.utf8)
        guard !bytes.isEmpty else { throw GenericError(.invalidArgument, "secret \(name) would be empty; give it a value on stdin or with --file") }
        guard bytes.count <= Self.maximumValueSize else {
            throw GenericError(.tooLarge, "secret \(name) is \(bytes.count) bytes; secrets hold at most \(Self.maximumValueSize) bytes")
        }
        let sealed = try AES.GCM.seal(bytes, using: key, authenticating: Self.binding(name, environment))
        guard let combined = sealed.combined else { throw GenericError(.internal, "could not encrypt secret \(name)") }
        let record = Record(version: 1, name: name, environment: environment, updatedAt: Date(), sealed: combined.base64EncodedString())
        try write(SlipwayJSON.encoder().encode(record), to: file(name, environment))
    }

    /// Removes a secret; false when there was none.
    @discardableResult
    public func delete(_ name: String, environment: String? = nil) throws -> Bool {
        try Self.validate(name: name)
        if let environment { try Self.validate(environment: environment) }
        let url = file(name, environment)
        guard FileManager.default.fileExists(atPath: url.path) else { return false }
        try FileManager.default.removeItem(at: url)
        return true
    }

    // MARK: Reading secrets

    /// The secrets of one scope (repository, or one environment's alone), by name, without values.
    public func list(environment: String? = nil) throws -> [Entry] {
        if let environment { try Self.validate(environment: environment) }
        return try records(in: scopeFolder(environment)).map { Entry(name: $0.name, environment: $0.environment, updatedAt: $0.updatedAt) }
            .sorted { $0.name < $1.name }
    }

    /// The values a job sees: the repository's secrets, overridden by its environment's when it names one.
    public func values(environment: String? = nil) throws -> [String: String] {
        var values: [String: String] = [:]
        for record in try records(in: scopeFolder(nil)) { values[record.name] = try open(record) }
        if let environment {
            try Self.validate(environment: environment)
            for record in try records(in: scopeFolder(environment)) { values[record.name] = try open(record) }
        }
        return values
    }

    // MARK: Names

    /// GitHub's rules: letters, digits and `_`, not starting with a digit, not starting with `GITHUB_`.
    public static func validate(name: String) throws {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, scalars.count <= 200,
            first == "_" || (first.isASCII && first.properties.isAlphabetic),
            scalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) })
        else {
            throw GenericError(.invalidArgument, "'\(name)' is not a valid secret name: use letters, digits and _, not starting with a digit")
        }
        guard !name.uppercased().hasPrefix("GITHUB_") else {
            throw GenericError(.invalidArgument, "secret names may not start with GITHUB_ ('\(name)')")
        }
    }

    /// Environment names: letters, digits, `-`, `_` and `.`, up to 255 characters.
    public static func validate(environment: String) throws {
        let allowed = environment.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
        }
        guard !environment.isEmpty, environment.count <= 255, allowed, environment != ".", environment != ".." else {
            throw GenericError(.invalidArgument, "'\(environment)' is not a valid environment name: use letters, digits, -, _ and .")
        }
    }

    // MARK: Files

    private struct Record: Codable {
        var version: Int
        var name: String
        var environment: String?
        var updatedAt: Date
        var sealed: String
    }

    private static func binding(_ name: String, _ environment: String?) -> Data {
        Data("slipway-secret\u{0}\(environment ?? "")\u{0}\(name)".utf8)
    }

    private func scopeFolder(_ environment: String?) -> URL {
        if let environment {
            return folder.appendingPathComponent("env", isDirectory: true).appendingPathComponent(environment, isDirectory: true)
        }
        return folder.appendingPathComponent("repository", isDirectory: true)
    }

    private func file(_ name: String, _ environment: String?) -> URL {
        scopeFolder(environment).appendingPathComponent("\(name).secret")
    }

    private func records(in scope: URL) throws -> [Record] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: scope.path)) ?? []
        return try names.filter { $0.hasSuffix(".secret") }.sorted().map { fileName in
            let url = scope.appendingPathComponent(fileName)
            guard let record = try? SlipwayJSON.decoder().decode(Record.self, from: Data(contentsOf: url)),
                "\(record.name).secret" == fileName
            else { throw GenericError(.corrupted, "the secret file \(url.path) is damaged; set the secret again") }
            return record
        }
    }

    private func open(_ record: Record) throws -> String {
        guard let combined = Data(base64Encoded: record.sealed),
            let box = try? AES.GCM.SealedBox(combined: combined),
            let plain = try? AES.GCM.open(box, using: key, authenticating: Self.binding(record.name, record.environment)),
            let value = String(data: plain, encoding: .utf8)
        else {
            throw GenericError(.corrupted, "secret \(record.name) cannot be decrypted: it was damaged or stored under another master key")
        }
        return value
    }

    private func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw GenericError(.unavailable, "could not write \(temporary.path)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw GenericError(.unavailable, "could not store \(url.path): \(reason)")
        }
    }

    // MARK: Keys

    /// A check value sealed with the key when the store is first used, so that opening it with another
    /// key fails with a clear message instead of later, secret by secret.
    private func checkKey() throws {
        let url = folder.appendingPathComponent("key-check")
        let marker = Data("slipway secrets key check".utf8)
        if let stored = try? Data(contentsOf: url) {
            guard let box = try? AES.GCM.SealedBox(combined: stored), (try? AES.GCM.open(box, using: key)) == marker else {
                throw GenericError(
                    .failedPrecondition,
                    "the master key does not match the one these secrets were stored with (\(folder.path)); set SLIPWAY_MASTER_KEY to that key"
                )
            }
            return
        }
        guard let combined = try AES.GCM.seal(marker, using: key).combined else { return }
        try write(combined, to: url)
    }

    static func masterKey(fromEnvironment text: String) throws -> SymmetricKey {
        if let bytes = Data(base64Encoded: text), bytes.count == 32 { return SymmetricKey(data: bytes) }
        guard text.count >= 16 else {
            throw GenericError(.invalidArgument, "SLIPWAY_MASTER_KEY must be base64 of 32 bytes or a passphrase of at least 16 characters")
        }
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(text.utf8)), salt: Data("slipway-secrets".utf8), outputByteCount: 32)
    }

    static func keyFile(at url: URL) throws -> SymmetricKey {
        let manager = FileManager.default
        if manager.fileExists(atPath: url.path) {
            let attributes = try manager.attributesOfItem(atPath: url.path)
            if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
                throw GenericError(
                    .failedPrecondition,
                    "the key file \(url.path) can be read by other users (mode \(String(mode, radix: 8))); run chmod 600 on it")
            }
            guard let text = try? String(contentsOf: url, encoding: .utf8),
                let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
            else { throw GenericError(.corrupted, "the key file \(url.path) does not hold a base64 32-byte key") }
            return SymmetricKey(data: bytes)
        }
        try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        let fd = Foundation.open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return try keyFile(at: url) }
            throw GenericError(.unavailable, "could not create the key file \(url.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = text.utf8CString.withUnsafeBufferPointer { Foundation.write(fd, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count, fsync(fd) == 0 else {
            throw GenericError(.unavailable, "could not write the key file \(url.path)")
        }
        return key
    }
}
