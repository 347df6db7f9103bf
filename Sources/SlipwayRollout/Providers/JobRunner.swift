import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs the command of a `job` metric as a child process in its own process group.
///
/// The program and its arguments are passed as they are (no shell; the parser turns a single string
/// into `/bin/sh -c …`). Standard input is `/dev/null`, standard output and error go to files in a
/// scratch folder, so a chatty command never fills a pipe. The exit is awaited by polling with short
/// sleeps: no thread of the controller or of an event loop is held while the command runs. On timeout,
/// or when the waiting task is cancelled, the whole process group gets SIGTERM, then SIGKILL two
/// seconds later.
struct JobRunner: Sendable {
    /// How a run ended.
    enum Termination: Sendable, Equatable {
        /// The process exited with this status.
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)
        /// It ran longer than the timeout and its process group was killed.
        case timedOut
        /// The task waiting for it was cancelled and its process group was killed.
        case cancelled
    }

    /// What a run produced.
    struct Result: Sendable {
        var termination: Termination
        /// The last lines of standard error (at most `tailLines` lines, `tailBytes` bytes).
        var stderrTail: String
    }

    /// A command that could not be started.
    struct LaunchError: Error, CustomStringConvertible {
        var description: String
    }

    /// Lines of standard error kept for the measurement's message.
    static let tailLines = 10
    /// Bytes of standard error kept for the measurement's message.
    static let tailBytes = 2000
    /// Time between SIGTERM and SIGKILL.
    static let killGrace: Duration = .seconds(2)

    /// Runs `command` and waits for it, at most `timeout`.
    /// - Throws: `LaunchError` when the program cannot be started (not found, not executable).
    func run(_ command: [String], timeout: Duration) async throws(LaunchError) -> Result {
        guard let program = command.first, !program.isEmpty else { throw LaunchError(description: "the command is empty") }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-job-\(UUID().uuidString.prefix(12))")
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw LaunchError(description: "cannot create a scratch folder for the job: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stdoutPath = scratch.appendingPathComponent("stdout").path
        let stderrPath = scratch.appendingPathComponent("stderr").path
        let pid = try Self.spawn(command, stdout: stdoutPath, stderr: stderrPath)

        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var termination: Termination?
        var killedFor: Termination?
        var sigkillAt: ContinuousClock.Instant?
        var pause = Duration.milliseconds(5)
        while true {
            if let status = Self.reap(pid) {
                termination = killedFor ?? status
                break
            }
            if killedFor == nil {
                if Task.isCancelled {
                    killedFor = .cancelled
                } else if clock.now >= deadline {
                    killedFor = .timedOut
                }
                if killedFor != nil {
                    kill(-pid, SIGTERM)
                    sigkillAt = clock.now + Self.killGrace
                }
            } else if let at = sigkillAt, clock.now >= at {
                kill(-pid, SIGKILL)
                sigkillAt = nil
            }
            // Task.sleep returns at once when cancelled; the short pause below then keeps the (rare) wait after a
            // cancellation from spinning until the group is gone.
            if (try? await Task.sleep(for: pause)) == nil { usleep(10_000) }
            pause = min(pause * 2, .milliseconds(100))
        }
        // Whatever the leader left behind in its group goes with it when it was killed.
        if killedFor != nil { kill(-pid, SIGKILL) }
        return Result(termination: termination ?? .exited(-1), stderrTail: Self.tail(of: stderrPath))
    }

    /// Starts the process in a new process group with default signal handling and an empty signal mask.
    private static func spawn(_ command: [String], stdout: String, stderr: String) throws(LaunchError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else of the server (listening sockets, the database) is passed on to the job.
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        // The server ignores SIGPIPE (and may handle others); the job starts with the defaults.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, command[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw LaunchError(description: "cannot run '\(command[0])': \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which its Swift module does not export.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// The process's termination once it has ended (and reaps it), nil while it runs.
    private static func reap(_ pid: pid_t) -> Termination? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result == -1 {
            // Someone else reaped it (or it never existed): its status is lost.
            return errno == EINTR ? nil : .exited(-1)
        }
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(signal)
    }

    /// The last lines of a file, trimmed.
    static func tail(of path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return "" }
        let text = String(decoding: data.suffix(64 * 1024), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        var kept = lines.suffix(tailLines).joined(separator: "\n")
        if kept.utf8.count > tailBytes { kept = "…" + String(decoding: kept.utf8.suffix(tailBytes), as: UTF8.self) }
        return kept
    }
}
