import Foundation
import SlipwayCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file in fixed-size chunks into a sliding buffer, so a file of any size is read in bounded memory.
struct ByteSource {
    private let handle: FileHandle
    private let chunkSize: Int
    /// The buffered bytes; `buffer[position...]` are not consumed yet.
    private(set) var buffer: [UInt8] = []
    /// The first unconsumed byte.
    var position = 0
    /// Whether the file has been read to its end.
    private(set) var atEnd = false
    /// Bytes read from the file so far.
    private(set) var bytesRead: Int64 = 0

    init(url: URL, chunkSize: Int = 1 << 20) throws(DataValidationError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DataValidationError(.notFound, "the data file \(url.path) does not exist; check the path")
        }
        guard !isDirectory.boolValue else { throw DataValidationError(.invalidArgument, "\(url.path) is a directory; pass a CSV or JSON Lines file") }
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw DataValidationError(
                .invalidArgument, "the data file \(url.path) cannot be opened (\(error.localizedDescription)); check its permissions")
        }
        self.chunkSize = chunkSize
    }

    /// The number of unconsumed bytes in the buffer.
    var available: Int { buffer.count - position }

    /// Drops consumed bytes and reads one more chunk; returns `false` at the end of the file.
    mutating func refill() throws(DataValidationError) -> Bool {
        guard !atEnd else { return false }
        if position > 0 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        let data: Data?
        do {
            data = try handle.read(upToCount: chunkSize)
        } catch {
            throw DataValidationError(.invalidArgument, "reading the data failed after \(bytesRead) bytes (\(error.localizedDescription))")
        }
        guard let data, !data.isEmpty else {
            atEnd = true
            try? handle.close()
            return false
        }
        bytesRead += Int64(data.count)
        buffer.append(contentsOf: data)
        return true
    }

    /// The next byte without consuming it, reading more when needed; nil at the end of the file.
    mutating func peek() throws(DataValidationError) -> UInt8? {
        if position >= buffer.count {
            guard try refill() else { return nil }
        }
        return buffer[position]
    }

    /// Consumes and returns the next byte; nil at the end of the file.
    mutating func next() throws(DataValidationError) -> UInt8? {
        guard let b = try peek() else { return nil }
        position += 1
        return b
    }

    /// The index of the first `byte` in the buffer at or after `from` and before `to`, or nil.
    func find(_ byte: UInt8, from: Int, to: Int) -> Int? {
        guard from < to, to <= buffer.count else { return nil }
        return buffer.withUnsafeBufferPointer { raw -> Int? in
            guard let base = raw.baseAddress else { return nil }
            guard let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }
}
