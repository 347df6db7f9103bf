import Foundation

/// Reads the facts a run needs (top folder, `HEAD`, its branch, the `origin` URL) straight from a
/// repository's files, without starting `git`.
///
/// It understands the common layouts: a `.git` folder, a `.git` file (`gitdir: …`) of a linked worktree
/// or submodule with its `commondir`, loose refs and `packed-refs`. Whenever the answer could depend on
/// something it does not model (the `GIT_*` variables that move the repository, `core.worktree`, bare
/// repositories, reftable, config includes, remotes defined outside the repository, a folder owned by another user, a
/// branch name that a tag shadows), it answers `.askGit` and the caller runs the `git` command, so the
/// result always agrees with git's.
struct GitDirectory: Sendable, Equatable {
    /// An answer, or a request to ask the `git` command instead.
    enum Answer<Value: Sendable & Equatable>: Sendable, Equatable {
        case known(Value)
        case askGit
    }

    /// The worktree's top folder, symbolic links resolved (as `git rev-parse --show-toplevel` prints it).
    let root: String
    /// The folder with this worktree's `HEAD`.
    let gitDir: String
    /// The folder with the shared refs, objects and config (the same as `gitDir` outside linked worktrees).
    let commonDir: String

    /// Variables that change where the repository is, how its refs read or which config applies.
    private static let movingVariables: Set<String> = [
        "GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_NAMESPACE",
        "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_DEFAULT_HASH", "GIT_DEFAULT_REF_FORMAT", "GIT_REF_PARANOIA",
    ]

    /// Whether a variable can change what git reads (`GIT_DIR`, `GIT_CONFIG_*`, …).
    static func movesRepository(_ name: String) -> Bool {
        movingVariables.contains(name) || name.hasPrefix("GIT_CONFIG") || name.hasPrefix("GIT_TEST_")
    }

    /// The repository around `directory`: `.known(nil)` when there is none, `.askGit` when its layout or
    /// the environment is out of the ordinary.
    static func discover(from directory: URL, environment: [String: String]) -> Answer<GitDirectory?> {
        if environment.keys.contains(where: movesRepository) { return .askGit }
        guard var current = realPath(directory.path) else { return .askGit }
        var start = stat()
        guard stat(current, &start) == 0 else { return .askGit }
        let user = geteuid()
        while true {
            let dotGit = current == "/" ? "/.git" : current + "/.git"
            var info = stat()
            if lstat(dotGit, &info) == 0 {
                let gitDir: String
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    gitDir = dotGit
                case S_IFREG:
                    guard let text = readText(dotGit), text.hasPrefix("gitdir: ") else { return .askGit }
                    let target = String(text.dropFirst("gitdir: ".count)).trimmingCharacters(in: .newlines)
                    guard !target.isEmpty, let resolved = realPath(target.hasPrefix("/") ? target : current + "/" + target) else { return .askGit }
                    gitDir = resolved
                default:
                    return .askGit
                }
                guard looksLikeGitDirectory(gitDir) else { return .askGit }
                var commonDir = gitDir
                if let text = readText(gitDir + "/commondir") {
                    let target = text.trimmingCharacters(in: .newlines)
                    guard !target.isEmpty, let resolved = realPath(target.hasPrefix("/") ? target : gitDir + "/" + target) else { return .askGit }
                    commonDir = resolved
                }
                // git refuses (or needs safe.directory for) a repository another user owns.
                var owner = stat()
                for path in [current, gitDir, commonDir] {
                    guard stat(path, &owner) == 0, owner.st_uid == user else { return .askGit }
                }
                return .known(GitDirectory(root: current, gitDir: gitDir, commonDir: commonDir))
            } else if errno != ENOENT && errno != ENOTDIR {
                return .askGit
            }
            // A bare repository (or a folder that looks like one) changes how git reads this folder.
            if looksLikeGitDirectory(current) { return .askGit }
            if current == "/" { return .known(nil) }
            let parent = (current as NSString).deletingLastPathComponent
            var parentInfo = stat()
            guard stat(parent, &parentInfo) == 0 else { return .askGit }
            // git stops at file system boundaries unless told otherwise.
            if parentInfo.st_dev != start.st_dev { return .askGit }
            current = parent
        }
    }

    /// The repository's configuration, when nothing in it asks for more than this reader models.
    func configuration() -> GitConfig? {
        guard let text = Self.readText(commonDir + "/config"), let config = GitConfig(text) else { return nil }
        if config.values(section: "core", key: "bare").contains(where: { GitConfig.truth($0) != false }) { return nil }
        if !config.values(section: "core", key: "worktree").isEmpty { return nil }
        if config.hasSection("include") || config.hasSection("includeif") { return nil }
        if config.hasSection("extensions") {
            // Only these extensions leave refs and config as read here.
            let understood: Set<String> = ["objectformat", "preciousobjects", "partialclone", "noop"]
            if config.entries.contains(where: { $0.section == "extensions" && !understood.contains($0.key) }) { return nil }
        }
        return config
    }

    /// What `HEAD` is: the branch it names (full ref) and the commit it resolves to.
    struct Head: Sendable, Equatable {
        /// `refs/heads/…` when `HEAD` names a branch, nil when detached.
        var symbolicRef: String?
        /// The commit, or nil on a branch without commits.
        var sha: String?
    }

    /// Reads `HEAD`.
    func head() -> Answer<Head> {
        guard configuration() != nil else { return .askGit }
        var info = stat()
        guard lstat(gitDir + "/HEAD", &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, let text = Self.readText(gitDir + "/HEAD") else {
            return .askGit
        }
        let content = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if content.hasPrefix("ref:") {
            let target = content.dropFirst(4).trimmingCharacters(in: .whitespaces)
            guard target.hasPrefix("refs/heads/"), target.count > "refs/heads/".count else { return .askGit }
            switch resolve(target, depth: 0) {
            case .askGit: return .askGit
            case .known(let sha): return .known(Head(symbolicRef: target, sha: sha))
            }
        }
        guard Self.isObjectName(content) else { return .askGit }
        return .known(Head(symbolicRef: nil, sha: content))
    }

    /// The short name `git symbolic-ref --short HEAD` prints for a branch ref, when no other ref makes it ambiguous.
    func shortBranchName(_ ref: String) -> Answer<String> {
        guard ref.hasPrefix("refs/heads/") else { return .askGit }
        let short = String(ref.dropFirst("refs/heads/".count))
        // git shortens to `heads/<name>` when `<name>`, `refs/<name>` or `refs/tags/<name>` also exists.
        for shadow in [gitDir + "/" + short, commonDir + "/refs/" + short, commonDir + "/refs/tags/" + short] where Self.exists(shadow) {
            return .askGit
        }
        guard let packed = packedRefs() else { return .askGit }
        if packed["refs/" + short] != nil || packed["refs/tags/" + short] != nil { return .askGit }
        return .known(short)
    }

    /// The URL of a remote, as `git remote get-url` prints it (nil when there is no such remote), with
    /// the `url.<base>.insteadOf` rewriting of the repository's, the user's and the system's config.
    func remoteURL(_ name: String, environment: [String: String]) -> Answer<String?> {
        guard let config = configuration(), let outer = Self.outerConfigs(environment: environment) else { return .askGit }
        let configs = [config] + outer
        for legacy in [commonDir + "/remotes/" + name, commonDir + "/branches/" + name] where Self.exists(legacy) { return .askGit }
        guard let url = config.values(section: "remote", subsection: name, key: "url").first else { return .known(nil) }
        // The longest matching insteadOf prefix wins; a tie between two is left to git.
        var best: (prefix: String, base: String)?
        var tie = false
        for entry in configs.flatMap(\.entries) where entry.section == "url" && entry.key == "insteadof" {
            guard let base = entry.subsection, let prefix = entry.value, !prefix.isEmpty else { return .askGit }
            guard url.hasPrefix(prefix) else { continue }
            if let current = best, current.prefix.count >= prefix.count {
                if current.prefix.count == prefix.count, current.base != base { tie = true }
                continue
            }
            best = (prefix, base)
            tie = false
        }
        if tie { return .askGit }
        guard let best else { return .known(url) }
        return .known(best.base + url.dropFirst(best.prefix.count))
    }

    /// What a commit object says, as `git log -1 --format=%P%x00%an%x00%ae%x00%cI%x00%B` would print it.
    struct Commit: Sendable, Equatable {
        /// The first parent, or nil for a root commit.
        var parent: String?
        var authorName: String
        var authorEmail: String
        /// The committer's time in strict ISO 8601 with the committer's offset (`%cI`).
        var committed: String
        /// The raw message (`%B`).
        var message: String
    }

    /// A commit stored as a loose object; `.askGit` when it is packed, when replace refs, grafts or a
    /// shallow history could change what git shows, or when the message is not UTF-8.
    func commit(_ sha: String, environment: [String: String]) -> Answer<Commit> {
        guard Self.isObjectName(sha), sha.utf8.count == 40 else { return .askGit }
        // A mailmap, signatures shown by log or another output encoding change what git prints.
        guard let config = configuration(), let outer = Self.outerConfigs(environment: environment), !Self.exists(root + "/.mailmap") else { return .askGit }
        for entry in ([config] + outer).flatMap(\.entries) where entry.section == "mailmap" || entry.section == "i18n" || entry.section == "log" {
            return .askGit
        }
        for path in [commonDir + "/shallow", commonDir + "/info/grafts", commonDir + "/refs/replace"] where Self.exists(path) { return .askGit }
        guard let packed = packedRefs(), !packed.keys.contains(where: { $0.hasPrefix("refs/replace/") }) else { return .askGit }
        let path = commonDir + "/objects/" + sha.prefix(2) + "/" + sha.dropFirst(2)
        guard let compressed = Self.readBytes(path, limit: 4 << 20), let object = Zlib.inflate(compressed, limit: 16 << 20) else { return .askGit }
        guard let space = object.firstIndex(of: 0x20), let nul = object.firstIndex(of: 0), space < nul,
            object[..<space].elementsEqual("commit".utf8), Int(String(decoding: object[(space + 1)..<nul], as: UTF8.self)) == object.count - nul - 1,
            let text = String(validating: object[(nul + 1)...], as: UTF8.self)
        else { return .askGit }
        guard let blank = text.range(of: "\n\n") else { return .askGit }
        var parent: String?
        var author: (name: String, email: String)?
        var committed: String?
        for line in text[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(" ") { continue }  // a continuation (gpgsig, mergetag)
            if line.hasPrefix("parent ") {
                if parent == nil { parent = String(line.dropFirst("parent ".count)) }
            } else if line.hasPrefix("author ") {
                guard let ident = Self.identity(line.dropFirst("author ".count)) else { return .askGit }
                author = (ident.name, ident.email)
            } else if line.hasPrefix("committer ") {
                guard let ident = Self.identity(line.dropFirst("committer ".count)), let time = Self.isoTime(ident.seconds, ident.offset) else { return .askGit }
                committed = time
            } else if line.hasPrefix("encoding ") {
                return .askGit
            }
        }
        guard let author, let committed, parent.map({ Self.isObjectName($0) }) ?? true else { return .askGit }
        return .known(Commit(parent: parent, authorName: author.name, authorEmail: author.email, committed: committed, message: String(text[blank.upperBound...])))
    }

    /// `Name <email> seconds +hhmm`.
    private static func identity(_ text: Substring) -> (name: String, email: String, seconds: Int64, offset: Substring)? {
        guard let open = text.firstIndex(of: "<"), let close = text[open...].firstIndex(of: ">") else { return nil }
        let name = text[..<open].trimmingCharacters(in: .whitespaces)
        let email = String(text[text.index(after: open)..<close])
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard rest.count == 2, let seconds = Int64(rest[0]) else { return nil }
        return (name, email, seconds, rest[1])
    }

    /// Strict ISO 8601 in the given `+hhmm` offset, as `%cI` prints it.
    static func isoTime(_ seconds: Int64, _ offset: Substring) -> String? {
        let digits = offset.dropFirst()
        guard offset.count == 5, let sign = offset.first, sign == "+" || sign == "-", digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(digits)
        else { return nil }
        let hours = value / 100
        let minutes = value % 100
        guard minutes < 60, hours < 100 else { return nil }
        let shift = (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
        let local = seconds + shift
        let days = local >= 0 ? local / 86400 : (local - 86399) / 86400
        let secondOfDay = local - days * 86400
        // Days since 1970-01-01 to a civil date (proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        guard (0...9999).contains(year) else { return nil }
        func two(_ number: Int64) -> String { number < 10 ? "0\(number)" : "\(number)" }
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return "\(yearText)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
            + "\(sign)\(two(hours)):\(two(minutes))"
    }

    /// The commit a ref points at (following symbolic refs), nil when it does not exist.
    private func resolve(_ ref: String, depth: Int) -> Answer<String?> {
        guard depth < 5, !ref.split(separator: "/").contains(".."), !ref.contains("\0") else { return .askGit }
        let path = commonDir + "/" + ref
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFREG, let text = Self.readText(path) else { return .askGit }
            let content = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if content.hasPrefix("ref:") {
                let target = content.dropFirst(4).trimmingCharacters(in: .whitespaces)
                guard target.hasPrefix("refs/") else { return .askGit }
                return resolve(target, depth: depth + 1)
            }
            guard Self.isObjectName(content) else { return .askGit }
            return .known(content)
        } else if errno != ENOENT && errno != ENOTDIR {
            return .askGit
        }
        guard let packed = packedRefs() else { return .askGit }
        return .known(packed[ref])
    }

    /// `packed-refs` as ref → commit (empty when the file does not exist), nil when it does not read as expected.
    private func packedRefs() -> [String: String]? {
        let path = commonDir + "/packed-refs"
        guard let text = Self.readText(path) else { return Self.exists(path) ? nil : [:] }
        var refs: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("#") || line.hasPrefix("^") { continue }
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, Self.isObjectName(parts[0]) else { return nil }
            refs[String(parts[1])] = String(parts[0])
        }
        return refs
    }

    /// The user's and the system's config, parsed; nil when one cannot be read with certainty or has
    /// includes or remotes (left to git).
    static func outerConfigs(environment: [String: String]) -> [GitConfig]? {
        var configs: [GitConfig] = []
        for file in outerConfigFiles(environment: environment) {
            guard let text = readText(file) else {
                if exists(file) { return nil }
                continue
            }
            guard let config = GitConfig(text), !config.hasSection("include"), !config.hasSection("includeif"), !config.hasSection("remote") else {
                return nil
            }
            configs.append(config)
        }
        return configs
    }

    /// The user's and the system's git config files that may exist.
    private static func outerConfigFiles(environment: [String: String]) -> [String] {
        var files = ["/etc/gitconfig"]
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            files.append(xdg + "/git/config")
        } else if let home {
            files.append(home + "/.config/git/config")
        }
        if let home { files.append(home + "/.gitconfig") }
        return files
    }

    /// A folder with `HEAD`, `objects` (or a `commondir`) and `refs`, which git takes for a repository.
    private static func looksLikeGitDirectory(_ path: String) -> Bool {
        exists(path + "/HEAD") && (exists(path + "/objects") || exists(path + "/commondir")) && (exists(path + "/refs") || exists(path + "/commondir"))
    }

    static func isObjectName<S: StringProtocol>(_ text: S) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64) && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A file's bytes; nil when missing, unreadable or larger than `limit`.
    static func readBytes(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
            if bytes.count > limit { return nil }
        }
        return bytes
    }

    /// A small text file's contents (refs, `HEAD`, config); nil when missing, unreadable, larger than 4 MiB or not UTF-8.
    static func readText(_ path: String) -> String? {
        readBytes(path, limit: 4 << 20).flatMap { String(validating: $0, as: UTF8.self) }
    }
}

/// The entries of a git config file (`[section "subsection"]` and `key = value` lines), enough to find
/// values such as a remote's URL. Refuses (nil) text it cannot read with certainty.
struct GitConfig: Sendable, Equatable {
    /// One `key = value`; section and key lowercased (they are case-insensitive), the subsection as written.
    struct Entry: Sendable, Equatable {
        var section: String
        var subsection: String?
        var key: String
        /// nil for a key without `=` (a boolean true).
        var value: String?
    }

    var entries: [Entry] = []

    init?(_ text: String) {
        var section: String?
        var subsection: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            line = line.drop(while: { $0 == " " || $0 == "\t" })
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { return nil }
                let rest = line[line.index(after: close)...].drop(while: { $0 == " " || $0 == "\t" })
                // Something after the header on the same line (a key, `]` inside a name) is left to git.
                guard rest.isEmpty || rest.hasPrefix("#") || rest.hasPrefix(";") else { return nil }
                let header = line[line.index(after: line.startIndex)..<close]
                if let quote = header.firstIndex(of: "\"") {
                    let name = header[..<quote].trimmingCharacters(in: .whitespaces)
                    let quoted = header[header.index(after: quote)...]
                    guard quoted.hasSuffix("\""), !quoted.dropLast().contains("\\"), !quoted.dropLast().contains("\"") else { return nil }
                    section = name.lowercased()
                    subsection = String(quoted.dropLast())
                } else {
                    let name = header.trimmingCharacters(in: .whitespaces)
                    // `[section.subsection]` (the old form) is left to git.
                    guard !name.contains("."), !name.isEmpty else { return nil }
                    section = name.lowercased()
                    subsection = nil
                }
                continue
            }
            guard let current = section else { return nil }
            // Escapes, quotes and line continuations are left to git.
            guard !line.contains("\\"), !line.contains("\"") else { return nil }
            var key: Substring
            var value: String?
            if let equals = line.firstIndex(of: "=") {
                key = line[..<equals]
                var text = line[line.index(after: equals)...]
                if let comment = text.firstIndex(where: { $0 == "#" || $0 == ";" }) { text = text[..<comment] }
                value = text.trimmingCharacters(in: .whitespaces)
            } else {
                key = line
                if let comment = key.firstIndex(where: { $0 == "#" || $0 == ";" }) { key = key[..<comment] }
            }
            let name = key.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return nil }
            entries.append(Entry(section: current, subsection: subsection, key: name.lowercased(), value: value))
        }
    }

    /// Whether any `[name …]` section is present.
    func hasSection(_ name: String) -> Bool { entries.contains { $0.section == name.lowercased() } }

    /// The values of a key, in file order.
    func values(section: String, subsection: String? = nil, key: String) -> [String] {
        entries.filter { $0.section == section.lowercased() && $0.subsection == subsection && $0.key == key.lowercased() }.map { $0.value ?? "true" }
    }

    /// A config boolean: true, false, or nil when the text is not one.
    static func truth(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "1", "": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }
}

/// zlib's `uncompress`, found in the running process (Foundation links zlib); nil when it is not there,
/// and then the caller asks the `git` command instead.
enum Zlib {
    private typealias Uncompress = @convention(c) (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt>?, UnsafePointer<UInt8>?, UInt) -> Int32

    private static let uncompress: Uncompress? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "uncompress") else { return nil }
        return unsafeBitCast(symbol, to: Uncompress.self)
    }()

    /// The inflated bytes of a zlib stream, nil when it is not one or inflates to more than `limit` bytes.
    static func inflate(_ data: [UInt8], limit: Int) -> [UInt8]? {
        guard let uncompress, !data.isEmpty else { return nil }
        var capacity = max(4096, data.count * 4)
        while true {
            var output = [UInt8](repeating: 0, count: capacity)
            var length = UInt(capacity)
            let status = output.withUnsafeMutableBufferPointer { out in
                data.withUnsafeBufferPointer { input in uncompress(out.baseAddress, &length, input.baseAddress, UInt(input.count)) }
            }
            switch status {
            case 0:
                output.removeSubrange(Int(length)...)
                return output
            case -5 where capacity < limit:  // Z_BUF_ERROR: the output did not fit
                capacity = min(capacity * 4, limit)
            default:
                return nil
            }
        }
    }
}
