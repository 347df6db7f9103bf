public import Foundation
import Synchronization

/// What a run knows about the project's git repository (all optional: a project need not be a repository).
///
/// `read(at:)` takes the top folder, `HEAD`, the branch, the `origin` URL and `HEAD`'s commit (when it is
/// a loose object) from the repository's files (`GitDirectory`) and asks the `git` command only for what
/// those files do not answer simply. The commit's facts (parent, message, author, time) and the changed
/// paths are read on first use, so a run that never looks at them reads nothing for them.
public struct GitInfo: Sendable, Equatable {
    /// The commit checked out (`HEAD`), or nil outside a repository.
    public var sha: String?
    /// The current branch, or nil when detached or outside a repository.
    public var branch: String?
    /// A tag pointing at `HEAD` when detached, or nil.
    public var tag: String?
    /// `owner/name` from the `origin` remote, or nil.
    public var repository: String?
    /// The repository's top folder.
    public var root: String?

    /// The parent of `HEAD`, or nil.
    public var parentSHA: String? {
        get { commit.value.parentSHA }
        set { changeCommit { $0.parentSHA = newValue } }
    }
    /// The message of `HEAD`'s commit, without surrounding blank lines.
    public var commitMessage: String? {
        get { commit.value.message }
        set { changeCommit { $0.message = newValue } }
    }
    /// The commit time of `HEAD` (ISO 8601, as `git log --format=%cI` prints it).
    public var commitTimestamp: String? {
        get { commit.value.timestamp }
        set { changeCommit { $0.timestamp = newValue } }
    }
    /// The author's name of `HEAD`'s commit.
    public var authorName: String? {
        get { commit.value.authorName }
        set { changeCommit { $0.authorName = newValue } }
    }
    /// The author's email of `HEAD`'s commit.
    public var authorEmail: String? {
        get { commit.value.authorEmail }
        set { changeCommit { $0.authorEmail = newValue } }
    }
    /// Paths changed by the last commit plus uncommitted and untracked changes; nil when unknown.
    public var changedPaths: [String]? {
        get { changes.value }
        set { changes = Deferred(value: newValue) }
    }

    /// The facts of `HEAD`'s commit, read together.
    struct CommitFacts: Sendable, Equatable {
        var parentSHA: String?
        var message: String?
        var timestamp: String?
        var authorName: String?
        var authorEmail: String?
    }

    private var commit = Deferred(value: CommitFacts())
    private var changes = Deferred<[String]?>(value: nil)

    /// No repository: every fact nil.
    public init() {}

    private mutating func changeCommit(_ body: (inout CommitFacts) -> Void) {
        var facts = commit.value
        body(&facts)
        commit = Deferred(value: facts)
    }

    /// Equal when every fact is (the deferred ones are read to compare them).
    public static func == (lhs: GitInfo, rhs: GitInfo) -> Bool {
        lhs.sha == rhs.sha && lhs.branch == rhs.branch && lhs.tag == rhs.tag && lhs.repository == rhs.repository && lhs.root == rhs.root
            && lhs.commit.value == rhs.commit.value && lhs.changedPaths == rhs.changedPaths
    }

    /// Reads the repository around `directory`; an empty value when there is none.
    public static func read(at directory: URL) -> GitInfo {
        let environment = ProcessInfo.processInfo.environment
        switch GitDirectory.discover(from: directory, environment: environment) {
        case .known(nil):
            return GitInfo()
        case .known(let repository?):
            if let info = read(repository, at: directory, environment: environment) { return info }
            return readWithGit(at: directory)
        case .askGit:
            return readWithGit(at: directory)
        }
    }

    /// The facts from the repository's files, asking `git` for a detached `HEAD`'s tag and for
    /// anything the files do not answer simply; nil when even `HEAD` needs the `git` command.
    private static func read(_ repository: GitDirectory, at directory: URL, environment: [String: String]) -> GitInfo? {
        guard case .known(let head) = repository.head() else { return nil }
        var info = GitInfo()
        info.root = repository.root
        info.sha = head.sha
        if let ref = head.symbolicRef {
            switch repository.shortBranchName(ref) {
            case .known(let name): info.branch = name
            case .askGit: info.branch = git(["symbolic-ref", "--short", "-q", "HEAD"], in: directory)
            }
        }
        if info.branch == nil, info.sha != nil {
            info.tag = git(["tag", "--points-at", "HEAD"], in: directory)?.split(separator: "\n").first.map(String.init)
        }
        let url: String?
        switch repository.remoteURL("origin", environment: environment) {
        case .known(let value): url = value
        case .askGit: url = git(["remote", "get-url", "origin"], in: directory)
        }
        if let url { info.repository = repositoryName(fromRemote: url) }
        info.deferGitFacts(at: directory)
        if let sha = info.sha {
            info.commit = Deferred {
                guard case .known(let commit) = repository.commit(sha, environment: environment) else { return readCommit(at: directory) }
                return CommitFacts(
                    parentSHA: commit.parent, message: commit.message.trimmingCharacters(in: .whitespacesAndNewlines),
                    timestamp: commit.committed, authorName: commit.authorName, authorEmail: commit.authorEmail)
            }
        }
        return info
    }

    /// Everything with the `git` command (the layout or the environment is out of the ordinary).
    static func readWithGit(at directory: URL) -> GitInfo {
        var info = GitInfo()
        guard let root = git(["rev-parse", "--show-toplevel"], in: directory) else { return info }
        info.root = root
        info.sha = git(["rev-parse", "--verify", "-q", "HEAD"], in: directory)
        info.branch = git(["symbolic-ref", "--short", "-q", "HEAD"], in: directory)
        if info.branch == nil, info.sha != nil {
            info.tag = git(["tag", "--points-at", "HEAD"], in: directory)?.split(separator: "\n").first.map(String.init)
        }
        if let url = git(["remote", "get-url", "origin"], in: directory) { info.repository = repositoryName(fromRemote: url) }
        info.deferGitFacts(at: directory)
        return info
    }

    /// Makes the commit facts and the changed paths load on first use.
    private mutating func deferGitFacts(at directory: URL) {
        let hasCommit = sha != nil
        commit = Deferred { hasCommit ? Self.readCommit(at: directory) : CommitFacts() }
        changes = Deferred { Self.readChangedPaths(at: directory, hasCommit: hasCommit) }
    }

    /// Parent, author, time and message of `HEAD`, with one `git log`.
    static func readCommit(at directory: URL) -> CommitFacts {
        var facts = CommitFacts()
        guard let output = gitOutput(["log", "-1", "--format=%P%x00%an%x00%ae%x00%cI%x00%B", "HEAD"], in: directory) else { return facts }
        let fields = output.split(separator: "\0", omittingEmptySubsequences: false)
        guard fields.count >= 5 else { return facts }
        facts.parentSHA = fields[0].split(separator: " ").first.map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        facts.authorName = String(fields[1])
        facts.authorEmail = String(fields[2])
        facts.timestamp = String(fields[3])
        facts.message = fields[4...].joined(separator: "\0").trimmingCharacters(in: .whitespacesAndNewlines)
        return facts
    }

    /// Paths changed by the last commit plus uncommitted and untracked changes.
    static func readChangedPaths(at directory: URL, hasCommit: Bool) -> [String] {
        var changed: [String] = []
        if hasCommit {
            let hasParent = git(["rev-parse", "--verify", "-q", "HEAD~1"], in: directory) != nil
            let committed =
                hasParent
                ? git(["diff", "--name-only", "HEAD~1", "HEAD"], in: directory)
                : git(["show", "--pretty=format:", "--name-only", "HEAD"], in: directory)
            changed += lines(committed)
            changed += lines(git(["diff", "--name-only", "HEAD"], in: directory))
        } else {
            changed += lines(git(["diff", "--name-only", "--cached"], in: directory))
        }
        changed += lines(git(["ls-files", "--others", "--exclude-standard"], in: directory))
        var seen = Set<String>()
        return changed.filter { seen.insert($0).inserted }
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
        guard let output = gitOutput(arguments, in: directory) else { return nil }
        let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Runs git and returns its output as printed, or nil when it cannot start or fails.
    static func gitOutput(_ arguments: [String], in directory: URL) -> String? {
        let process = Process()
        var environment = ProcessInfo.processInfo.environment
        if let executable = GitExecutable.path(searching: environment["PATH"]) {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git"] + arguments
        }
        process.currentDirectoryURL = directory
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
        return String(decoding: data, as: UTF8.self)
    }
}

/// Where `git` is on `PATH`, looked up once per `PATH` value (as `/usr/bin/env git` would find it).
enum GitExecutable {
    private static let found = Mutex<(path: String?, executable: String?)?>(nil)

    static func path(searching path: String?) -> String? {
        if let known = found.withLock({ $0 }), known.path == path { return known.executable }
        var executable: String?
        for folder in (path ?? "").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (folder.isEmpty ? "." : String(folder)) + "/git"
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                executable = candidate.hasPrefix("/") ? candidate : nil
                break
            }
        }
        found.withLock { $0 = (path, executable) }
        return executable
    }
}

/// A value computed on first use and then kept; concurrent first readers wait for one computation.
final class Deferred<Value: Sendable>: Sendable {
    private enum State {
        case pending(@Sendable () -> Value)
        case ready(Value)
    }

    private let state: Mutex<State>

    init(_ compute: @escaping @Sendable () -> Value) { state = Mutex(.pending(compute)) }
    init(value: Value) { state = Mutex(.ready(value)) }

    var value: Value {
        state.withLock { state in
            switch state {
            case .ready(let value): return value
            case .pending(let compute):
                let value = compute()
                state = .ready(value)
                return value
            }
        }
    }
}
