/// Serializes the changes of rollouts within one process: the controller loop and people's commands
/// take it around a read-decide-act-record sequence, so a command never interleaves with a step.
/// Across processes the store's compare-and-set on the revision decides.
public actor RolloutLock {
    /// The lock every ``RolloutService`` of this process shares.
    public static let shared = RolloutLock()

    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    func acquire() async {
        guard locked else {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            locked = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    /// Runs `body` holding the lock.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            release()
            return result
        } catch {
            release()
            throw error
        }
    }
}
