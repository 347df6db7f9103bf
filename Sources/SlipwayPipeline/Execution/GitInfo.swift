public import Foundation

/// What a run knows about the project's git repository (all optional: a project need not be a repository).
public struct GitInfo: Sendable, Equatable {
    /// The commit checked out (`HEAD`), or nil outside a repository.
    public var sha: String?
    /// The parent of `HEAD`, or nil.
    public var parentSHA: String?
    /// The current branch, or nil when detached or outside a repository.
    public var branch: String?
    /// A tag pointing at `HEAD` when detached, or nil.
    public var tag: String?
    /// `owner/name` from the `origin` remote, or nil.
    public var repository: String?
    /// Paths changed by the last commit plus uncommitted and untracked changes; nil when unknown.
    public var changedPaths: [String]?
    public var commitMessage: String?
    public var commitTimestamp: String?
    public var authorName: String?
    public var authorEmail: String?
    /// The repository's top folder.
    public var root: String?

    public init() {}

    /// Reads the repository around `directory` with the `git` command; an empty value when there is none.
    public static func read(at directory: URL) -> GitInfo {
        var info = GitInfo()
        guard let root = git(["rev-parse", "--show-toplevel"], in: directory) else { return info }
        info.root = root
        info.sha = git(["rev-parse", "--verify", "-q", "HEAD"], in: directory)
        info.parentSHA = git(["rev-parse", "--verify", "-q", "HEAD~1"], in: directory)
        info.branch = git(["symbolic-ref", "--short", "-q", "HEAD"], in: directory)
        if info.branch == nil, info.sha != nil {
            info.tag = git(["tag", "--points-at", "HEAD"], in: directory)?.split(separator: "\n").first.map(String.init)
        }
        if let url = git(["remote", "get-url", "origin"], in: directory) { info.repository = repositoryName(fromRemote: url) }
        if info.sha != nil {
            let log = git(["log", "-1", "--format=%an%x00%ae%x00%cI%x00%B"], in: directory)?.split(separator: "\0", omittingEmptySubsequences: false)
            if let log, log.count >= 4 {
                info.authorName = String(log[0])
                info.authorEmail = String(log[1])
                info.commitTimestamp = String(log[2])
                info.commitMessage = String(log[3]).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        var changed: [String] = []
        if info.sha != nil {
            let committed =
                info.parentSHA != nil
                ? git(["diff", "--name-only", "HEAD~1", "HEAD"], in: directory)
                : git(["show", "--pretty=format:", "--name-only", "HEAD"], in: directory)
            changed += lines(committed)
            changed += lines(git(["diff", "--name-only", "HEAD"], in: directory))
        } else {
            changed += lines(git(["diff", "--name-only", "--cached"], in: directory))
        }
        changed += lines(git(["ls-files", "--others", "--exclude-standard"], in: directory))
        var seen = Set<String>()
        info.changedPaths = changed.filter { seen.insert($0).inserted }
        return info
    }

    /// `owner/name` of a remote URL (`git@github.com:owner/name.git`, `https://host/owner/name`).
    static func repositoryName(fromRemote url: String) -> String? {
        var text = url.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix(".git") { text.removeLast(4) }
        let parts = text.split(whereSeparator: { $0 == "/" || $0 == ":" }).map(String.init)
        guard parts.count >= 2 else { return nil }
        return "\(parts[parts.count - 2])/\(parts[parts.count - 1])"
    }

    private static func lines(_ text: String?) -> [String] {
        (text ?? "").split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// Runs git and returns its trimmed output, or nil when it fails or prints nothing.
    static func git(_ arguments: [String], in directory: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["LC_ALL"] = "C"
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
