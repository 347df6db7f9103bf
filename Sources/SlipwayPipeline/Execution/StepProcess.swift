import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs one step's command as a child process in its own process group, streaming its output.
///
/// Standard output and standard error share one pipe (so lines keep their order, as in GitHub's log); standard input
/// is `/dev/null`. The pipe is drained while the process runs by polling with short pauses, so no thread is held. When
/// the step must stop (its deadline passed, or `shouldInterrupt` turns true) the whole process group gets SIGINT, then
/// SIGKILL after the grace period, as GitHub's runner does on cancellation.
struct StepProcess: Sendable {
    /// How the process ended.
    enum End: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
        /// The deadline passed and the group was stopped.
        case timedOut
        /// `shouldInterrupt` turned true and the group was stopped.
        case interrupted
    }

    struct LaunchError: Error, CustomStringConvertible {
        var description: String
    }

    var argv: [String]
    var environment: [String: String]
    var directory: String
    var deadline: ContinuousClock.Instant
    var grace: Duration

    /// Starts the process, passes each chunk of output to `output`, and returns how it ended and its process group id.
    func run(
        shouldInterrupt: @Sendable () -> Bool, onStart: (pid_t) -> Void, output: (Data) -> Void
    ) async throws(LaunchError) -> End {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw LaunchError(description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        let readEnd = fds[0]
        let writeEnd = fds[1]
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        let pid: pid_t
        do {
            pid = try spawn(writeEnd: writeEnd)
        } catch {
            close(readEnd)
            close(writeEnd)
            throw error
        }
        close(writeEnd)
        onStart(pid)
        defer { close(readEnd) }
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)

        let clock = ContinuousClock()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var status: End?
        var stoppedFor: End?
        var killAt: ContinuousClock.Instant?
        var exitedAt: ContinuousClock.Instant?
        var eof = false
        var pause = Duration.milliseconds(2)
        while true {
            var gotData = false
            var reads = 0
            while !eof, reads < 32 {
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count > 0 {
                    output(Data(buffer[0..<count]))
                    gotData = true
                    reads += 1
                } else if count == 0 {
                    eof = true
                } else if errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            if status == nil, let ended = Self.reap(pid) {
                status = stoppedFor ?? ended
                exitedAt = clock.now
            }
            if status != nil {
                // Drain what the process wrote; a background child that keeps the pipe open does not hold the step.
                if eof || (exitedAt.map { clock.now - $0 > .milliseconds(500) } ?? true) { break }
            } else if stoppedFor == nil {
                if clock.now >= deadline {
                    stoppedFor = .timedOut
                } else if shouldInterrupt() || Task.isCancelled {
                    stoppedFor = .interrupted
                }
                if stoppedFor != nil {
                    kill(-pid, SIGINT)
                    killAt = clock.now + grace
                }
            } else if let at = killAt, clock.now >= at {
                kill(-pid, SIGKILL)
                killAt = nil
            }
            if gotData {
                pause = .milliseconds(1)
                await Task.yield()
                continue
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(50))
        }
        if stoppedFor != nil { kill(-pid, SIGKILL) }
        return status ?? .exited(-1)
    }

    private func spawn(writeEnd: Int32) throws(LaunchError) -> pid_t {
        guard let program = argv.first, !program.isEmpty else { throw LaunchError(description: "the shell command is empty") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        var command = argv
        if let changeDirectory = Self.addChdir {
            _ = directory.withCString { changeDirectory(&actions, $0) }
        } else {
            command = ["/bin/sh", "-c", "cd -- \"$0\" && exec \"$@\"", directory] + argv
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var args: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        args.append(nil)
        var env: [UnsafeMutablePointer<CChar>?] = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        env.append(nil)
        defer {
            for pointer in args { free(pointer) }
            for pointer in env { free(pointer) }
        }
        var pid: pid_t = 0
        let executable = Self.resolve(command[0], path: environment["PATH"] ?? "/usr/bin:/bin")
        let result = posix_spawn(&pid, executable, &actions, &attributes, args, env)
        guard result == 0 else {
            throw LaunchError(description: "cannot run '\(command[0])': \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// The program's path: as given when it holds a slash, else the first executable match on `path`.
    static func resolve(_ program: String, path: String) -> String {
        if program.contains("/") { return program }
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return program
    }

    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    private static func reap(_ pid: pid_t) -> End? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result == -1 { return errno == EINTR ? nil : .exited(-1) }
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(signal)
    }
}

/// Splits a byte stream into lines (without `\n` or a trailing `\r`).
struct LineSplitter {
    private var pending = Data()

    /// The complete lines in `chunk` (plus what was pending).
    mutating func feed(_ chunk: Data) -> [String] {
        pending.append(chunk)
        var lines: [String] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[pending.startIndex..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            lines.append(String(decoding: line, as: UTF8.self))
            pending = Data(pending[pending.index(after: newline)...])
        }
        return lines
    }

    /// The last, unterminated line, if any.
    mutating func finish() -> String? {
        defer { pending = Data() }
        guard !pending.isEmpty else { return nil }
        var line = pending
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        return String(decoding: line, as: UTF8.self)
    }
}
