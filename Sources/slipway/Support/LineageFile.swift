import Foundation
import SlipwayCore
import Yams

/// The lineage YAML teams write next to a model (snake_case keys, all optional):
/// ```yaml
/// model_id: churn-2026
/// git: {commit: 3f2a…, repository: https://…, branch: main}
/// training_data:
///   - {uri: s3://bucket/churn.csv, digest: "sha256:…", rows: 120000, date_from: 2026-01-01, date_to: 2026-06-30}
/// parameters: {learning_rate: 0.1, max_depth: 6}
/// metrics: {accuracy: 0.94, auc: 0.97}
/// environment: {language: python, language_version: "3.11", libraries: {scikit-learn: "1.5.2"}, cuda: "12.4"}
/// container_image: ghcr.io/acme/churn:1.4
/// trained_by: alice
/// extras: {ticket: ML-123}
/// ```
struct LineageFile: Decodable {
    var model_id: String?
    var git: Git?
    var training_data: [Data]?
    var parameters: [String: Scalar]?
    var hyperparameters: [String: Scalar]?
    var metrics: [String: Double]?
    var environment: Environment?
    var container_image: String?
    var trained_by: String?
    var extras: [String: Scalar]?

    struct Git: Decodable {
        var commit: String
        var repository: String?
        var branch: String?
        var dirty: Bool?
    }

    struct Data: Decodable {
        var uri: String
        var digest: String?
        var rows: Int64?
        var date_from: Scalar?
        var date_to: Scalar?
    }

    struct Environment: Decodable {
        var os: String?
        var architecture: String?
        var language: String?
        var language_version: Scalar?
        var libraries: [String: Scalar]?
        var cuda: Scalar?
    }

    /// Any YAML scalar, kept as its text (`0.1`, `true`, `2026-01-01`).
    struct Scalar: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                text = s
            } else if let i = try? c.decode(Int.self) {
                text = String(i)
            } else if let d = try? c.decode(Double.self) {
                text = String(d)
            } else if let b = try? c.decode(Bool.self) {
                text = String(b)
            } else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a string, number or boolean")
            }
        }
    }

    /// Reads and checks a lineage file; errors name the file and the key.
    static func load(_ path: String) throws -> Lineage {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw GenericError(.invalidArgument, "cannot read lineage file \(path): \(error.localizedDescription)")
        }
        guard text.utf8.count <= 1 << 20 else { throw GenericError(.invalidArgument, "lineage file \(path) is over 1 MiB") }
        let file: LineageFile
        do {
            file = try YAMLDecoder().decode(LineageFile.self, from: text)
        } catch let error as DecodingError {
            throw GenericError(.invalidArgument, "lineage file \(path): \(describe(error))")
        } catch {
            throw GenericError(.invalidArgument, "lineage file \(path): \(error)")
        }
        var lineage = Lineage()
        lineage.modelId = file.model_id
        lineage.git = file.git.map { GitInfo(commit: $0.commit, repository: $0.repository, branch: $0.branch, dirty: $0.dirty) }
        lineage.trainingData = try (file.training_data ?? []).enumerated().map { index, item in
            var digest: Digest?
            if let text = item.digest {
                guard let parsed = Digest(text) else {
                    throw GenericError(.invalidArgument, "lineage file \(path): training_data.\(index).digest '\(text)' is not sha256:<64 hex>")
                }
                digest = parsed
            }
            return DatasetReference(uri: item.uri, digest: digest, rows: item.rows, dateFrom: item.date_from?.text, dateTo: item.date_to?.text)
        }
        lineage.parameters = (file.parameters ?? file.hyperparameters ?? [:]).mapValues(\.text)
        lineage.metrics = file.metrics ?? [:]
        if let env = file.environment {
            lineage.environment = EnvironmentInfo(
                os: env.os, architecture: env.architecture, language: env.language, languageVersion: env.language_version?.text,
                libraries: (env.libraries ?? [:]).mapValues(\.text), cuda: env.cuda?.text)
        }
        lineage.containerImage = file.container_image
        lineage.trainedBy = file.trained_by
        lineage.extras = (file.extras ?? [:]).mapValues(\.text)
        return lineage
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "document" : text
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)): missing \(type)"
        case .keyNotFound(let key, let context): return "\(path(context)): missing key '\(key.stringValue)'"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// Facts about the code and machine that `versions create` records by itself.
enum LineageProbe {
    /// The git commit, branch, remote and dirtiness of the repository containing `directory`, if any.
    static func git(in directory: URL) -> GitInfo? {
        guard let commit = run(["git", "-C", directory.path, "rev-parse", "HEAD"]), commit.count >= 40 else { return nil }
        let branch = run(["git", "-C", directory.path, "rev-parse", "--abbrev-ref", "HEAD"])
        let remote = run(["git", "-C", directory.path, "config", "--get", "remote.origin.url"]).map(redactCredentials)
        let status = run(["git", "-C", directory.path, "status", "--porcelain", "--untracked-files=no"])
        return GitInfo(commit: commit, repository: remote, branch: branch == "HEAD" ? nil : branch, dirty: status.map { !$0.isEmpty })
    }

    /// The OS, architecture, host name and CUDA version of this machine.
    static func environment() -> EnvironmentInfo {
        var info = utsname()
        uname(&info)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        var env = EnvironmentInfo(
            os: "\(field(info.sysname)) \(field(info.release))", architecture: field(info.machine), hostname: field(info.nodename))
        if let python = run(["python3", "-c", "import platform; print(platform.python_version())"]) {
            env.libraries["python"] = python
        }
        if let cuda = run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]) { env.cuda = cuda.split(separator: "\n").first.map(String.init) }
        return env
    }

    /// `https://user:secret@host/x` → `https://host/x`: credentials never reach lineage.
    static func redactCredentials(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(url[url.index(after: at)...])
    }

    /// Runs a command and returns its trimmed stdout, or nil when it fails or is missing.
    static func run(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
