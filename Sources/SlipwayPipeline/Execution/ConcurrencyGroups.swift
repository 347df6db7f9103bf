import Crypto
import Foundation
import SlipwayCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `concurrency:` groups, held across the jobs of one process and across `slipway run` processes on the same data folder.
///
/// Each group is a lock file under `<data folder>/concurrency/` held with `flock` while a run (or job) of the group runs,
/// next to a holder file naming that run and its process. A second run of the group waits for the lock; with
/// `cancel-in-progress: true` it first cancels the holder: in the same process directly, in another process by sending
/// it SIGTERM (which `slipway run` turns into a cancellation).
struct ConcurrencyGroups: Sendable {
    let folder: URL

    /// Holders in this process, by lock file, with how to cancel them.
    private static let local = Mutex<[String: (run: String, cancel: @Sendable () -> Void)]>([:])

    struct Holder: Codable {
        var run: String
        var pid: Int32
        var group: String
    }

    /// A held group; releasing it lets the next run in.
    final class Lease: Sendable {
        let fd: Int32
        let lockPath: String
        let run: String
        init(fd: Int32, lockPath: String, run: String) {
            self.fd = fd
            self.lockPath = lockPath
            self.run = run
        }
        func release() {
            ConcurrencyGroups.local.withLock { holders in
                if holders[lockPath]?.run == run { holders[lockPath] = nil }
            }
            flock(fd, LOCK_UN)
            close(fd)
        }
    }

    /// Waits for the group (cancelling its holder first with `cancelInProgress`); nil when `isCancelled` turns true first,
    /// or the waiting task is cancelled (which calls `cancelSelf`).
    func acquire(
        group: String, cancelInProgress: Bool, run: String, cancelSelf: @escaping @Sendable () -> Void, isCancelled: @Sendable () -> Bool,
        waiting: (String) -> Void
    ) async throws -> Lease? {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let name = SHA256.hash(data: Data(group.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        let lockPath = folder.appendingPathComponent("\(name).lock").path
        let holderPath = folder.appendingPathComponent("\(name).json")
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RunStoreError("cannot open the concurrency lock \(lockPath): \(String(cString: strerror(errno)))") }
        var signalled = false
        var announced = false
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                let holder = Holder(run: run, pid: getpid(), group: group)
                try? SlipwayJSON.encoder().encode(holder).write(to: holderPath, options: .atomic)
                Self.local.withLock { $0[lockPath] = (run, cancelSelf) }
                return Lease(fd: fd, lockPath: lockPath, run: run)
            }
            // Cancelled while waiting, by the run or by the task waiting (whose sleep below would then return at
            // once, every time): a cancelled task cancels the run, which ends without the group.
            if Task.isCancelled { cancelSelf() }
            if isCancelled() {
                close(fd)
                return nil
            }
            let holder = (try? Data(contentsOf: holderPath)).flatMap { try? SlipwayJSON.decoder().decode(Holder.self, from: $0) }
            if !announced {
                waiting("waiting for concurrency group '\(group)'" + (holder.map { " (held by run \($0.run))" } ?? ""))
                announced = true
            }
            if cancelInProgress, !signalled, let holder {
                if holder.pid == getpid() {
                    let cancel = Self.local.withLock { $0[lockPath]?.cancel }
                    cancel?()
                } else if holder.pid > 0 {
                    kill(holder.pid, SIGTERM)
                }
                signalled = true
            }
            do {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                cancelSelf()
                close(fd)
                return nil
            }
        }
    }
}

/// A cancellation flag with an optional parent: cancelled when it or its parent is.
final class CancelScope: Sendable {
    private let flag = Mutex<Bool>(false)
    let parent: CancelScope?

    init(parent: CancelScope? = nil) { self.parent = parent }

    func cancel() { flag.withLock { $0 = true } }

    var isCancelled: Bool { flag.withLock { $0 } || (parent?.isCancelled ?? false) }
}
