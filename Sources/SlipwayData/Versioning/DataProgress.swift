import Foundation
import Synchronization

/// How far a long data command has got, for a progress bar.
public struct DataProgress: Sendable, Equatable {
    /// What is being done ("hashing", "linking", "pushing", …).
    public var phase: String
    /// Files done so far and in total.
    public var files: Int
    public var totalFiles: Int
    /// Bytes done so far and in total.
    public var bytes: Int64
    public var totalBytes: Int64

    /// Creates a progress value.
    public init(phase: String, files: Int = 0, totalFiles: Int = 0, bytes: Int64 = 0, totalBytes: Int64 = 0) {
        self.phase = phase
        self.files = files
        self.totalFiles = totalFiles
        self.bytes = bytes
        self.totalBytes = totalBytes
    }
}

/// Called from any thread with the current progress (often: throttle drawing).
public typealias DataProgressHandler = @Sendable (DataProgress) -> Void

/// A progress value shared by worker threads.
final class ProgressCounter: Sendable {
    private let state: Mutex<DataProgress>
    private let handler: DataProgressHandler?

    init(_ phase: String, files: Int, bytes: Int64, handler: DataProgressHandler?) {
        state = Mutex(DataProgress(phase: phase, totalFiles: files, totalBytes: bytes))
        self.handler = handler
        handler?(DataProgress(phase: phase, totalFiles: files, totalBytes: bytes))
    }

    func advance(files: Int = 1, bytes: Int64) {
        guard let handler else { return }
        let now = state.withLock { state in
            state.files += files
            state.bytes += bytes
            return state
        }
        handler(now)
    }
}

/// Runs work on every core.
enum Parallel {
    /// The number of worker threads: one per core.
    static var width: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Calls `body` for every index in `0..<count` on all cores, each worker with its own buffer of
    /// ``Posix/bufferSize`` bytes; returns the results in order, or throws the error of the lowest failing index.
    static func map<T: Sendable>(
        _ count: Int, width: Int = Parallel.width, _ body: @Sendable (Int, UnsafeMutableRawBufferPointer) throws -> T
    ) throws -> [T] {
        try run(count, width: width, buffered: true, body)
    }

    /// Calls `body` for every index in `0..<count` on all cores (no buffers); returns the results in order, or
    /// throws the error of the lowest failing index. Workers take the next index as they finish, so a core that
    /// is busy with other processes holds up nothing.
    static func map<T: Sendable>(_ count: Int, width: Int = Parallel.width, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        try run(count, width: width, buffered: false) { index, _ in try body(index) }
    }

    private static func run<T: Sendable>(
        _ count: Int, width: Int, buffered: Bool, _ body: @Sendable (Int, UnsafeMutableRawBufferPointer) throws -> T
    ) throws -> [T] {
        guard count > 0 else { return [] }
        let results = ResultSlots<T>(count: count)
        let next = Atomic<Int>(0)
        let firstError = Mutex<(index: Int, error: any Error)?>(nil)
        let workers = min(max(1, width), count)
        withoutActuallyEscaping(body) { body in
            let shared = SharedBody(body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: buffered ? Posix.bufferSize : 0, alignment: 64)
                defer { buffer.deallocate() }
                while true {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < count else { break }
                    if firstError.withLock({ $0 != nil }) { break }
                    do {
                        results.set(index, try shared.body(index, buffer))
                    } catch {
                        firstError.withLock { current in
                            if current == nil || index < current!.index { current = (index, error) }
                        }
                    }
                }
            }
        }
        if let failure = firstError.withLock({ $0 }) { throw failure.error }
        return results.values()
    }
}

/// Wraps the non-escaping body so that `concurrentPerform` can share it.
private struct SharedBody<T>: @unchecked Sendable {
    // Only called while `Parallel.map` waits for `concurrentPerform`, which returns after every call.
    let body: (Int, UnsafeMutableRawBufferPointer) throws -> T
}

/// One slot per index; each slot is written by exactly one worker before `values()` reads them all.
private final class ResultSlots<T>: @unchecked Sendable {
    // Safe: workers write disjoint slots, and values() runs after concurrentPerform has joined them.
    private let storage: UnsafeMutableBufferPointer<T?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    func set(_ index: Int, _ value: T) { storage[index] = value }

    func values() -> [T] { storage.compactMap { $0 } }
}
