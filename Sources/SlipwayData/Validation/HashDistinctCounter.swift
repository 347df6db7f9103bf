import Foundation
import SlipwayCore

/// Counts how many 64-bit hashes a stream had and how many of them were distinct, in bounded memory.
///
/// Hashes collect in an in-memory buffer of `memoryLimit` entries. When it fills, it is sorted and
/// deduplicated; if that does not free half of it, its hashes are spilled to 256 temporary files by
/// their top byte. At the end each file is read, sorted and counted on its own, so memory stays at
/// the buffer plus one file (about a 256th of the distinct hashes).
///
/// Two different values that share a hash count as one, so duplicates can be over-counted: for `n`
/// distinct values the chance of any collision is at most n(n−1)/2⁶⁵ (about 2.7·10⁻⁶ for ten million).
final class HashDistinctCounter {
    private let memoryLimit: Int
    private let folder: URL
    private var buffer: [UInt64] = []
    private var spill: [FileHandle]?
    private var spillBuffers: [[UInt64]] = []
    private var spillFolder: URL?
    /// Hashes added.
    private(set) var total = 0

    init(memoryLimit: Int, temporaryFolder: URL) {
        self.memoryLimit = max(16, memoryLimit)
        self.folder = temporaryFolder
    }

    deinit {
        if let spill { for handle in spill { try? handle.close() } }
        if let spillFolder { try? FileManager.default.removeItem(at: spillFolder) }
    }

    func insert(_ hash: UInt64) throws(DataValidationError) {
        total += 1
        buffer.append(hash)
        if buffer.count >= memoryLimit { try compact() }
    }

    private func compact() throws(DataValidationError) {
        buffer.sort()
        deduplicateSorted(&buffer)
        if buffer.count <= memoryLimit / 2 && spill == nil { return }
        try spillBuffer()
    }

    private func spillBuffer() throws(DataValidationError) {
        if spill == nil {
            let url = folder.appendingPathComponent("slipway-distinct-\(UUID().uuidString)")
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                var handles: [FileHandle] = []
                for i in 0..<256 {
                    let file = url.appendingPathComponent("\(i)")
                    _ = FileManager.default.createFile(atPath: file.path, contents: nil)
                    handles.append(try FileHandle(forUpdating: file))
                }
                spill = handles
                spillFolder = url
                spillBuffers = Array(repeating: [], count: 256)
            } catch {
                throw DataValidationError(
                    .unavailable, "cannot create temporary files in \(folder.path) (\(error.localizedDescription)); free disk space or set TMPDIR")
            }
        }
        for hash in buffer { spillBuffers[Int(hash >> 56)].append(hash) }
        buffer.removeAll(keepingCapacity: true)
        guard let spill else { return }
        for i in 0..<256 where !spillBuffers[i].isEmpty {
            let data = spillBuffers[i].withUnsafeBytes { Data($0) }
            do {
                try spill[i].write(contentsOf: data)
            } catch {
                throw DataValidationError(
                    .unavailable, "writing temporary files failed (\(error.localizedDescription)); free disk space or set TMPDIR")
            }
            spillBuffers[i].removeAll(keepingCapacity: false)
        }
    }

    /// The number of distinct hashes; call once, after the last insert.
    func distinct() throws(DataValidationError) -> Int {
        guard let spill else {
            buffer.sort()
            deduplicateSorted(&buffer)
            return buffer.count
        }
        if !buffer.isEmpty {
            buffer.sort()
            deduplicateSorted(&buffer)
            try spillBuffer()
        }
        buffer = []
        var count = 0
        for handle in spill {
            let data: Data
            do {
                try handle.seek(toOffset: 0)
                data = try handle.readToEnd() ?? Data()
            } catch {
                throw DataValidationError(.unavailable, "reading temporary files failed (\(error.localizedDescription))")
            }
            var hashes = [UInt64](repeating: 0, count: data.count / 8)
            hashes.withUnsafeMutableBytes { target in _ = data.copyBytes(to: target) }
            hashes.sort()
            deduplicateSorted(&hashes)
            count += hashes.count
        }
        return count
    }

    private func deduplicateSorted(_ values: inout [UInt64]) {
        guard values.count > 1 else { return }
        var write = 1
        for read in 1..<values.count where values[read] != values[write - 1] {
            values[write] = values[read]
            write += 1
        }
        values.removeSubrange(write...)
    }
}
