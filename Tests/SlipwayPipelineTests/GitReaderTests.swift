import Foundation
import Testing

@testable import SlipwayPipeline

/// `GitInfo.read` takes what it can from the repository's files; on real repositories made with the
/// `git` command it must agree with what the `git` command reports, and it must read the ordinary
/// layouts itself rather than falling back to `git`.
@Suite("Git reader", .timeLimit(.minutes(2)))
struct GitReaderTests {
    func folder() throws -> URL { try scratchFolder("git") }

    /// Runs git (with a fixed identity and default branch) and returns its trimmed output; nil when it fails.
    @discardableResult
    func git(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> String? {
        try runGit(arguments, in: directory, environment: environment)
    }

    func write(_ text: String, _ name: String, in directory: URL) throws {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A repository with two commits on `main` and an `origin` remote.
    func repository() throws -> URL {
        let project = try folder()
        try git(["init", "-q"], in: project)
        try write("one\n", "data.txt", in: project)
        try git(["add", "data.txt"], in: project)
        try git(["commit", "-q", "-m", "first"], in: project)
        try write("two\n", "data.txt", in: project)
        try write("print(1)\n", "src/train.py", in: project)
        try git(["add", "-A"], in: project)
        try git(["commit", "-q", "-m", "second commit\n\nwith a body line"], in: project)
        try git(["remote", "add", "origin", "git@github.com:acme/models.git"], in: project)
        return project
    }

    /// Every fact `read` gives equals what the `git` command gives (the lazy ones included).
    func expectAgreesWithGit(_ directory: URL, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> GitInfo {
        let info = GitInfo.read(at: directory)
        let reference = GitInfo.readWithGit(at: directory)
        #expect(info == reference, sourceLocation: sourceLocation)
        #expect(info.root == (try git(["rev-parse", "--show-toplevel"], in: directory)), sourceLocation: sourceLocation)
        #expect(
            info.repository == (try git(["remote", "get-url", "origin"], in: directory)).flatMap(GitInfo.repositoryName(fromRemote:)),
            sourceLocation: sourceLocation)
        #expect(info.sha == (try git(["rev-parse", "--verify", "-q", "HEAD"], in: directory)), sourceLocation: sourceLocation)
        #expect(info.parentSHA == (try git(["rev-parse", "--verify", "-q", "HEAD~1"], in: directory)), sourceLocation: sourceLocation)
        #expect(info.branch == (try git(["symbolic-ref", "--short", "-q", "HEAD"], in: directory)), sourceLocation: sourceLocation)
        return info
    }

    /// The files answer `HEAD` themselves (no fallback to the `git` command).
    func expectReadDirectly(_ directory: URL, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> GitDirectory {
        guard case .known(let found?) = GitDirectory.discover(from: directory, environment: [:]) else {
            Issue.record("the repository around \(directory.path) was not read from its files", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        guard case .known = found.head() else {
            Issue.record("HEAD of \(directory.path) was not read from its files", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return found
    }

    @Test("a branch with commits and a remote, read from a subfolder")
    func branch() throws {
        let project = try repository()
        defer { try? FileManager.default.removeItem(at: project) }
        let sub = project.appendingPathComponent("src")
        let found = try expectReadDirectly(sub)
        #expect(found.gitDir == found.commonDir)
        let head = try #require(try git(["rev-parse", "HEAD"], in: project))
        guard case .known(let commit) = found.commit(head, environment: ProcessInfo.processInfo.environment) else {
            Issue.record("the loose commit object was not read")
            return
        }
        #expect(commit.parent == (try git(["rev-parse", "HEAD~1"], in: project)))
        #expect(commit.message == "second commit\n\nwith a body line\n")
        // As git prints it, after any insteadOf rewriting of this machine's config.
        let url = try #require(try git(["remote", "get-url", "origin"], in: sub))
        #expect(found.remoteURL("origin", environment: ProcessInfo.processInfo.environment) == .known(url))
        try write("changed\n", "data.txt", in: project)
        try write("new\n", "untracked.txt", in: project)
        let info = try expectAgreesWithGit(sub)
        #expect(try git(["remote", "get-url", "origin"], in: sub).flatMap(GitInfo.repositoryName(fromRemote:)) == info.repository)
        #expect(Set(GitInfo.read(at: project).changedPaths ?? []) == ["data.txt", "src/train.py", "untracked.txt"])
        #expect(info.branch == "main")
        #expect(info.repository == "acme/models")
        #expect(info.commitMessage == "second commit\n\nwith a body line")
        #expect(info.authorName == "Test User")
        #expect(info.authorEmail == "test@example.com")
        #expect(info.commitTimestamp == (try git(["log", "-1", "--format=%cI"], in: project)))
        // From a subfolder, untracked files are those below it (as `git ls-files --others` lists them).
        #expect(Set(info.changedPaths ?? []) == ["data.txt", "src/train.py"])
    }

    @Test("detached HEAD at an annotated tag")
    func detachedAtTag() throws {
        let project = try repository()
        defer { try? FileManager.default.removeItem(at: project) }
        try git(["tag", "-a", "v1.0", "-m", "release"], in: project)
        try git(["checkout", "-q", "--detach", "v1.0"], in: project)
        _ = try expectReadDirectly(project)
        let info = try expectAgreesWithGit(project)
        #expect(info.branch == nil)
        #expect(info.tag == "v1.0")
        #expect(info.sha == (try git(["rev-parse", "HEAD"], in: project)))
    }

    @Test("refs packed into packed-refs")
    func packedRefs() throws {
        let project = try repository()
        defer { try? FileManager.default.removeItem(at: project) }
        try git(["branch", "feature"], in: project)
        try git(["pack-refs", "--all", "--prune"], in: project)
        #expect(!FileManager.default.fileExists(atPath: project.appendingPathComponent(".git/refs/heads/main").path))
        let found = try expectReadDirectly(project)
        #expect(found.head() == .known(GitDirectory.Head(symbolicRef: "refs/heads/main", sha: try git(["rev-parse", "HEAD"], in: project))))
        _ = try expectAgreesWithGit(project)
        try git(["checkout", "-q", "feature"], in: project)
        let info = try expectAgreesWithGit(project)
        #expect(info.branch == "feature")
    }

    @Test("a linked worktree on its own branch")
    func worktree() throws {
        let project = try repository()
        let linked = try folder()
        defer {
            try? FileManager.default.removeItem(at: project)
            try? FileManager.default.removeItem(at: linked)
        }
        let target = linked.appendingPathComponent("wt")
        try #require(try git(["worktree", "add", "-q", "-b", "experiment", target.path], in: project) != nil)
        try write("more\n", "more.txt", in: target)
        try git(["add", "more.txt"], in: target)
        try git(["commit", "-q", "-m", "in the worktree"], in: target)
        let found = try expectReadDirectly(target)
        #expect(found.gitDir != found.commonDir)
        let info = try expectAgreesWithGit(target)
        #expect(info.branch == "experiment")
        #expect(info.repository == "acme/models")
        #expect(info.commitMessage == "in the worktree")
        // The main worktree still reads its own HEAD.
        let main = try expectAgreesWithGit(project)
        #expect(main.branch == "main")
        #expect(main.sha != info.sha)
    }

    @Test("commits read from their objects: merges, time zones, empty messages, packed and corrupted objects")
    func commits() throws {
        let project = try repository()
        defer { try? FileManager.default.removeItem(at: project) }
        let environment = ProcessInfo.processInfo.environment
        // A merge (first parent wins) committed in +05:30, and an empty message committed in -09:30.
        try git(["checkout", "-q", "-b", "side", "HEAD~1"], in: project)
        try write("side\n", "side.txt", in: project)
        try git(["add", "side.txt"], in: project)
        try git(["commit", "-q", "-m", "on the side"], in: project)
        try git(["checkout", "-q", "main"], in: project)
        try git(
            ["merge", "-q", "--no-ff", "-m", "merge side", "side"], in: project,
            environment: ["GIT_COMMITTER_DATE": "2001-02-03T04:05:06+0530", "GIT_AUTHOR_DATE": "2001-02-03T04:05:06+0530"])
        let found = try expectReadDirectly(project)
        let merge = try #require(try git(["rev-parse", "HEAD"], in: project))
        guard case .known(let commit) = found.commit(merge, environment: environment) else {
            Issue.record("the merge commit was not read from its object")
            return
        }
        #expect(commit.parent == (try git(["rev-parse", "HEAD^1"], in: project)))
        #expect(commit.committed == "2001-02-03T04:05:06+05:30")
        #expect(commit.committed == (try git(["log", "-1", "--format=%cI"], in: project)))
        _ = try expectAgreesWithGit(project)

        try git(
            ["commit", "-q", "--allow-empty", "--allow-empty-message", "-m", ""], in: project,
            environment: ["GIT_COMMITTER_DATE": "2001-02-03T04:05:06-0930"])
        let empty = try #require(try git(["rev-parse", "HEAD"], in: project))
        guard case .known(let emptyCommit) = found.commit(empty, environment: environment) else {
            Issue.record("the commit with an empty message was not read from its object")
            return
        }
        #expect(emptyCommit.message == "")
        #expect(emptyCommit.committed == "2001-02-03T04:05:06-09:30")
        #expect(emptyCommit.committed == (try git(["log", "-1", "--format=%cI"], in: project)))
        let info = try expectAgreesWithGit(project)
        #expect(info.commitMessage == "")

        // A corrupted loose object: never read as something; what git says stands.
        let object = project.appendingPathComponent(".git/objects/\(empty.prefix(2))/\(empty.dropFirst(2))")
        let saved = try Data(contentsOf: object)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: object.path)
        try Data("not zlib at all".utf8).write(to: object)
        #expect(found.commit(empty, environment: environment) == .askGit)
        #expect(GitInfo.read(at: project) == GitInfo.readWithGit(at: project))
        try saved.write(to: object)

        // Packed objects are left to git, with the same answers.
        try git(["gc", "-q", "--prune=now"], in: project)
        #expect(found.commit(empty, environment: environment) == .askGit)
        _ = try expectAgreesWithGit(project)
    }

    @Test("commit times in strict ISO 8601 with the committer's offset")
    func isoTimes() {
        #expect(GitDirectory.isoTime(0, "+0000") == "1970-01-01T00:00:00+00:00")
        #expect(GitDirectory.isoTime(951_782_400, "+0000") == "2000-02-29T00:00:00+00:00")
        #expect(GitDirectory.isoTime(1_700_000_000, "-0930") == "2023-11-14T12:43:20-09:30")
        #expect(GitDirectory.isoTime(-1, "+0000") == "1969-12-31T23:59:59+00:00")
        for bad in ["0000", "+00", "+0a00", "+0099", "++000"] { #expect(GitDirectory.isoTime(0, Substring(bad)) == nil, "\(bad)") }
    }

    @Test("a folder outside any repository")
    func noRepository() throws {
        let plain = try folder()
        defer { try? FileManager.default.removeItem(at: plain) }
        try #require(try git(["rev-parse", "--show-toplevel"], in: plain) == nil)
        let info = GitInfo.read(at: plain)
        #expect(info == GitInfo())
        #expect(info.changedPaths == nil)
        #expect(info.commitMessage == nil)
    }

    @Test("a repository without commits")
    func noCommits() throws {
        let project = try folder()
        defer { try? FileManager.default.removeItem(at: project) }
        try git(["init", "-q"], in: project)
        try write("staged\n", "staged.txt", in: project)
        try write("loose\n", "loose.txt", in: project)
        try git(["add", "staged.txt"], in: project)
        let found = try expectReadDirectly(project)
        #expect(found.head() == .known(GitDirectory.Head(symbolicRef: "refs/heads/main", sha: nil)))
        let info = try expectAgreesWithGit(project)
        #expect(info.sha == nil)
        #expect(info.branch == "main")
        #expect(info.parentSHA == nil)
        #expect(info.commitMessage == nil)
        #expect(Set(info.changedPaths ?? []) == ["staged.txt", "loose.txt"])
    }

    @Test("a branch that a tag of the same name shadows is named as git names it")
    func shadowedBranch() throws {
        let project = try repository()
        defer { try? FileManager.default.removeItem(at: project) }
        try git(["tag", "main"], in: project)
        let found = try expectReadDirectly(project)
        #expect(found.shortBranchName("refs/heads/main") == .askGit)
        let info = try expectAgreesWithGit(project)
        #expect(info.branch == "heads/main")
    }

    @Test("a remote URL rewritten by insteadOf, the longest prefix winning")
    func insteadOf() throws {
        let project = try repository()
        defer { try? FileManager.default.removeItem(at: project) }
        let environment = ProcessInfo.processInfo.environment
        try git(["config", "url.https://mirror.example/.insteadOf", "git@github.com:"], in: project)
        try git(["config", "url.https://acme.example/.insteadOf", "git@github.com:acme"], in: project)
        let found = try expectReadDirectly(project)
        let expected = try #require(try git(["remote", "get-url", "origin"], in: project))
        #expect(found.remoteURL("origin", environment: environment) == .known(expected))
        #expect(found.remoteURL("origin", environment: [:]) == .known("https://acme.example//models.git"))
        #expect(found.remoteURL("upstream", environment: environment) == .known(nil))
        _ = try expectAgreesWithGit(project)
        // Two rewrites of the same length: git decides.
        try git(["config", "url.https://other.example/.insteadOf", "git@github.com:acmf"], in: project)
        try git(["remote", "set-url", "origin", "git@github.com:acmf/models.git"], in: project)
        try git(["config", "url.https://third.example/.insteadOf", "git@github.com:acmf"], in: project)
        #expect(found.remoteURL("origin", environment: [:]) == .askGit)
        _ = try expectAgreesWithGit(project)
    }

    @Test("variables that move the repository make the reader ask git")
    func environment() throws {
        let project = try repository()
        defer { try? FileManager.default.removeItem(at: project) }
        for name in ["GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_COUNT", "GIT_NAMESPACE"] {
            #expect(GitDirectory.discover(from: project, environment: [name: "/elsewhere"]) == .askGit)
        }
        guard case .known(let found?) = GitDirectory.discover(from: project, environment: ["GIT_AUTHOR_NAME": "x", "GIT_SSL_CAINFO": "/etc/ssl/certs/ca.crt", "HOME": "/nonexistent"])
        else {
            Issue.record("identity and transport variables should not matter")
            return
        }
        #expect(found.root == (try git(["rev-parse", "--show-toplevel"], in: project)))
    }

    @Test("broken repository files: the reader never answers what git would not")
    func hostileFiles() throws {
        // A .git file pointing nowhere.
        let dangling = try folder()
        defer { try? FileManager.default.removeItem(at: dangling) }
        try write("gitdir: /nonexistent/slipway/.git\n", ".git", in: dangling)
        #expect(GitDirectory.discover(from: dangling, environment: [:]) == .askGit)
        #expect(GitInfo.read(at: dangling) == GitInfo.readWithGit(at: dangling))

        // A .git file with garbage.
        let garbage = try folder()
        defer { try? FileManager.default.removeItem(at: garbage) }
        try write("\u{0}\u{1}not a git file", ".git", in: garbage)
        #expect(GitDirectory.discover(from: garbage, environment: [:]) == .askGit)
        #expect(GitInfo.read(at: garbage) == GitInfo.readWithGit(at: garbage))

        // HEAD naming something outside refs/heads, a ref escaping the repository, or garbage.
        for head in ["ref: ../../../etc/passwd\n", "ref: refs/heads/../../../x\n", "0123\n", "", "ref: refs/remotes/origin/main\n"] {
            let project = try repository()
            defer { try? FileManager.default.removeItem(at: project) }
            try write(head, ".git/HEAD", in: project)
            let found = GitDirectory.discover(from: project, environment: [:])
            if case .known(let repository?) = found {
                if case .known(let answer) = repository.head() {
                    Issue.record("HEAD '\(head)' was read as \(answer)")
                }
            }
            #expect(GitInfo.read(at: project) == GitInfo.readWithGit(at: project), "HEAD '\(head)'")
        }

        // A config file git cannot read.
        let project = try repository()
        defer { try? FileManager.default.removeItem(at: project) }
        let config = project.appendingPathComponent(".git/config")
        let original = try String(contentsOf: config, encoding: .utf8)
        try (original + "[remote \"origin\n\turl = nowhere\n").write(to: config, atomically: true, encoding: .utf8)
        let found = discovered(project.appendingPathComponent("src"))
        if let found { #expect(found.remoteURL("origin", environment: [:]) == .askGit) }
        #expect(GitInfo.read(at: project) == GitInfo.readWithGit(at: project))

        // A packed-refs file with garbage.
        let packed = try repository()
        defer { try? FileManager.default.removeItem(at: packed) }
        try git(["pack-refs", "--all", "--prune"], in: packed)
        try write("# pack-refs with: peeled\nnot a ref line at all\n", ".git/packed-refs", in: packed)
        if case .known(let repository?) = GitDirectory.discover(from: packed, environment: [:]) {
            #expect(repository.head() == .askGit)
        }
        #expect(GitInfo.read(at: packed) == GitInfo.readWithGit(at: packed))
    }

    /// The repository the files describe, or nil when the reader leaves it to git.
    func discovered(_ directory: URL) -> GitDirectory? {
        guard case .known(let found?) = GitDirectory.discover(from: directory, environment: [:]) else { return nil }
        return found
    }

    @Test("config parsing: sections, subsections, comments, case")
    func configParsing() throws {
        let text = """
            # a comment
            [core]
            \trepositoryformatversion = 0
            \tBare = false ; trailing comment
            [remote "origin"]
            \tURL = https://example.com/acme/models.git # comment
            \tfetch = +refs/heads/*:refs/remotes/origin/*
            [remote "Origin"]
            \turl = elsewhere
            [branch "main"]
            \trebase
            """
        let config = try #require(GitConfig(text))
        #expect(config.values(section: "remote", subsection: "origin", key: "url") == ["https://example.com/acme/models.git"])
        #expect(config.values(section: "REMOTE", subsection: "Origin", key: "url") == ["elsewhere"])
        #expect(config.values(section: "core", key: "bare") == ["false"])
        #expect(config.values(section: "branch", subsection: "main", key: "rebase") == ["true"])
        // What it does not model, it refuses rather than guesses.
        for hostile in [
            "[remote \"origin\"\n\turl = x\n", "url = before any section\n", "[remote \"a\\\"b\"]\n\turl = x\n", "[core]\n\tpath = \"quoted\"\n",
            "[core]\n\tpath = a\\\n\tcontinued\n", "[remote.origin]\n\turl = x\n", "[core] bare = true\n", "[core]\n\tnot a key = 1\n",
        ] {
            #expect(GitConfig(hostile) == nil, "\(hostile.debugDescription)")
        }
    }
}
