import Foundation
import Synchronization
import Testing

/// Runs at most a few end-to-end tests at a time. Each of them starts `slipway server` and often model
/// servers and load; on a small machine, dozens of them at once starve each other of CPU and their
/// deadlines (readiness, analysis windows) stop meaning anything. Unit tests still run beside them.
///
/// ```swift
/// @Suite(.timeLimit(.minutes(20)), .endToEnd) struct RolloutTests { … }
/// ```
///
/// The wait for a slot counts towards a test's time limit, so the tests of these suites have generous ones.
struct EndToEndSlots: SuiteTrait, TestTrait, TestScoping {
    /// How many end-to-end tests may run at once (`SLIPWAY_TEST_SLOTS`, default 3).
    static let slots = Int(ProcessInfo.processInfo.environment["SLIPWAY_TEST_SLOTS"] ?? "").flatMap { $0 > 0 ? $0 : nil } ?? 3
    static let semaphore = AsyncSemaphore(slots)
    /// Set while a task holds a slot, so that nested scopes (a parameterized test's cases) do not take another.
    @TaskLocal static var holding = false

    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard !test.isSuite, !Self.holding else { return try await function() }
        await Self.semaphore.acquire()
        defer { Self.semaphore.release() }
        try await Self.$holding.withValue(true) { try await function() }
    }
}

extension Trait where Self == EndToEndSlots {
    /// Runs the suite's tests in the limited end-to-end slots.
    static var endToEnd: Self { EndToEndSlots() }
}

/// A counting semaphore for async code: waiters are resumed in arrival order.
final class AsyncSemaphore: Sendable {
    private let state: Mutex<(available: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(_ count: Int) { state = Mutex((count, [])) }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
