import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Starting, signalling and reaping replica processes, with POSIX calls.
///
/// A replica runs as `/bin/sh -c WRAPPER slipway-replica COMMAND` in a process group of its own
/// (its pid is the group id), with every signal at its default disposition (the server ignores
/// SIGTERM and SIGINT to handle them itself, and ignored signals would be inherited), stdin from
/// `/dev/null`, stdout and stderr appended to its log file, and no other descriptor of the server
/// but the read end of the watchdog pipe on fd 3.
///
/// The wrapper starts a watchdog in the group that blocks reading fd 3. The server holds the only
/// write end and never writes, so the read returns only when the server is gone, however it ended
/// (even SIGKILL, which no handler sees); the watchdog then sends SIGKILL to the whole group. Then
/// the wrapper closes fd 3 and execs `/bin/sh -c COMMAND`, so the replica's pid stays the one the
/// server waits for.
enum ReplicaProcess {
    static let wrapper = #"( read -r _ <&3; kill -9 0 ) </dev/null >/dev/null 2>&1 & exec 3<&-; exec /bin/sh -c "$1""#

    /// Why a process could not be started.
    struct LaunchError: Error, CustomStringConvertible {
        var description: String

        init(_ action: String, code: Int32 = errno) {
            description = "cannot \(action): \(String(cString: strerror(code)))"
        }
    }

    /// The pipe whose read end every replica's watchdog holds. Both ends are close-on-exec here.
    static func makeWatchdogPipe() throws(LaunchError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw LaunchError("create the watchdog pipe") }
        // Keep the read end away from 0–3, where the file actions of a spawn put other descriptors.
        let read = fcntl(fds[0], F_DUPFD_CLOEXEC, 10)
        let saved = errno
        close(fds[0])
        guard read >= 0 else {
            close(fds[1])
            throw LaunchError("move the watchdog pipe", code: saved)
        }
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (read, fds[1])
    }

    /// A port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
    static func freePort() throws(LaunchError) -> Int {
        #if canImport(Glibc) || canImport(Musl)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LaunchError("open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw LaunchError("bind a socket to find a free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw LaunchError("read the port of a socket") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts `command` with `/bin/sh -c` (inside the watchdog wrapper) in a new process group.
    ///
    /// - Parameters:
    ///   - command: the shell command.
    ///   - environment: the whole environment of the process.
    ///   - log: a descriptor open for appending; it becomes stdout and stderr.
    ///   - watchdog: the read end of the watchdog pipe; it becomes fd 3.
    /// - Returns: the process id, which is also its process group id.
    static func spawn(command: String, environment: [String: String], log: Int32, watchdog: Int32) throws(LaunchError) -> pid_t {
        #if canImport(Darwin)
        var attributes: posix_spawnattr_t? = nil
        var actions: posix_spawn_file_actions_t? = nil
        #else
        var attributes = posix_spawnattr_t()
        var actions = posix_spawn_file_actions_t()
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        var flags = Int32(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        posix_spawnattr_setflags(&attributes, Int16(flags))

        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)
        posix_spawn_file_actions_adddup2(&actions, watchdog, 3)
        #if !canImport(Darwin)
        closeInheritedDescriptors(&actions, from: 4)
        #endif

        let words: [String] = ["/bin/sh", "-c", wrapper, "slipway-replica", command]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let variables: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in arguments { free(pointer) }
            for pointer in variables { free(pointer) }
        }
        var pid = pid_t()
        let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, arguments, variables)
        guard result == 0 else { throw LaunchError("run /bin/sh", code: result) }
        return pid
    }

    #if !canImport(Darwin)
    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34 and later), looked up at run time because
    /// the C library's module does not export GNU extensions to Swift.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// Makes the spawn close every descriptor from `first` on, so nothing of the server (sockets, the
    /// database) leaks into a replica even when it was opened without close-on-exec.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t, from first: Int32) {
        if let addCloseFrom {
            _ = addCloseFrom(&actions, first)
            return
        }
        // Older C libraries: close the descriptors open now that would be inherited.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) } ?? []
        for fd in open where fd >= first && fcntl(fd, F_GETFD) & FD_CLOEXEC == 0 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }
    #endif

    /// Sends a signal to a replica's process group (its pid is the group id).
    static func signalGroup(_ pid: pid_t, _ signal: Int32) {
        guard pid > 1 else { return }
        _ = kill(-pid, signal)
    }

    /// The exit of a replica if it ended, without waiting; nil while it runs.
    static func reap(_ pid: pid_t) -> ProcessExit? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { return ProcessExit(waitStatus: status) }
        if result == -1 && errno == ECHILD { return ProcessExit(reason: "ended; its exit status was not available") }
        return nil
    }

    /// Waits for a replica that was sent SIGKILL.
    static func reapBlocking(_ pid: pid_t) -> ProcessExit {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, 0)
            if result == pid { return ProcessExit(waitStatus: status) }
            if result == -1 && errno != EINTR { return ProcessExit(reason: "ended; its exit status was not available") }
        }
    }

    /// Opens a replica's log for appending, moving it to `NAME.1` first when it grew over `rotateAt` bytes.
    static func openLog(_ path: String, rotateAt: Int64 = 16 << 20) throws(LaunchError) -> Int32 {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw LaunchError("create the log folder \(folder)", code: EACCES)
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int64, size > rotateAt {
            _ = rename(path, path + ".1")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LaunchError("open the log file \(path)") }
        return fd
    }

    /// Appends a line to an open log.
    static func write(_ line: String, to fd: Int32) {
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// The last line of a log file, without control characters and at most `limit` characters long,
    /// to quote in the server's log when a replica exits.
    static func lastLine(of path: String, limit: Int = 200) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), end > 0 else { return nil }
        let start = end > 4096 ? end - 4096 : 0
        try? handle.seek(toOffset: start)
        guard let data = try? handle.readToEnd() else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            return nil
        }
        let clean = String(line.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }.map(Character.init))
        return clean.count > limit ? String(clean.prefix(limit)) + "…" : clean
    }

    /// The path of the running executable, for starting `slipway serve-model`.
    static func currentExecutable() -> String {
        let argument = CommandLine.arguments.first ?? ""
        if argument.contains("/") {
            let path = URL(fileURLWithPath: argument).standardizedFileURL.path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        #if os(Linux)
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return target.hasSuffix(" (deleted)") ? String(target.dropLast(10)) : target
        }
        #endif
        return Bundle.main.executablePath ?? argument
    }

    /// `text` in single quotes for `/bin/sh`.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
