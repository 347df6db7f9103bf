#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// HTTP/1.1 message heads read straight from their bytes, for the gateway's fast path: the few facts
/// forwarding needs, found without building `HTTPRequestHead` or `HTTPHeaders`.
///
/// The reader is strict on purpose. Whatever it does not fully understand (a bare LF, a folded line, a
/// name that is not a token, a control byte in a value, a second `Content-Length`) is reported as
/// unusual, and the gateway hands such a request to its full HTTP parser, which decides.
enum RawHTTP {
    /// The offset just past the blank line ending a head that starts at `start`, or nil when the head
    /// is not complete yet (or a line ends in a bare LF: then `bareLF` is set).
    static func headEnd(_ bytes: UnsafeRawBufferPointer, from start: Int = 0, bareLF: inout Bool) -> Int? {
        var index = start
        var lineStart = start
        let count = bytes.count
        while index < count {
            guard let newline = memchrIndex(bytes, UInt8(ascii: "\n"), from: index) else { return nil }
            if newline == lineStart || bytes[newline - 1] != UInt8(ascii: "\r") {
                bareLF = true
                return nil
            }
            if newline - 1 == lineStart { return newline + 1 }
            lineStart = newline + 1
            index = newline + 1
        }
        return nil
    }

    /// The index of the first `byte` at or after `from`.
    static func memchrIndex(_ bytes: UnsafeRawBufferPointer, _ byte: UInt8, from: Int) -> Int? {
        guard from < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + from, Int32(byte), bytes.count - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// Calls `body` with the name and value (without surrounding blanks) of each header line of the
    /// head in `lines` (from the first header line to the end of the blank line). Returns false when
    /// a line is not a plain `token: value` line; stops early when `body` returns false.
    @discardableResult
    static func forEachField(
        _ bytes: UnsafeRawBufferPointer, _ lines: Range<Int>, _ body: (_ name: Range<Int>, _ value: Range<Int>, _ line: Range<Int>) -> Bool
    ) -> Bool {
        var lineStart = lines.lowerBound
        while lineStart < lines.upperBound {
            guard let newline = memchrIndex(bytes, UInt8(ascii: "\n"), from: lineStart), newline < lines.upperBound else { return false }
            let lineEnd = newline - 1  // the CR
            if lineEnd == lineStart { return true }  // the blank line
            var colon = lineStart
            while colon < lineEnd, isToken(bytes[colon]) { colon += 1 }
            guard colon > lineStart, colon < lineEnd, bytes[colon] == UInt8(ascii: ":") else { return false }
            var valueStart = colon + 1
            var valueEnd = lineEnd
            while valueStart < valueEnd, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
            while valueEnd > valueStart, bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            for index in valueStart..<valueEnd {
                let byte = bytes[index]
                if byte < 0x20 && byte != 0x09 || byte == 0x7F { return false }
            }
            if !body(lineStart..<colon, valueStart..<valueEnd, lineStart..<(newline + 1)) { return true }
            lineStart = newline + 1
        }
        return false
    }

    /// Whether a byte may appear in a header name (RFC 9110 `tchar`).
    static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"),
            UInt8(ascii: "~"):
            return true
        default: return false
        }
    }

    /// Whether the bytes in `range` equal `lowercase` (ASCII, given in lower case), ignoring case.
    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        equals(bytes, range, lowercased: UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount))
    }

    /// Whether the bytes in `range` equal `name` ignoring ASCII case.
    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, name: String) -> Bool {
        var name = name
        return name.withUTF8 { other in
            guard other.count == range.count else { return false }
            var offset = 0
            for index in range {
                var byte = bytes[index]
                var want = other[offset]
                if byte >= 0x41 && byte <= 0x5A { byte |= 0x20 }
                if want >= 0x41 && want <= 0x5A { want |= 0x20 }
                if byte != want { return false }
                offset += 1
            }
            return true
        }
    }

    /// Whether the bytes in `range` equal `lowercase` (ASCII, given in lower case), ignoring case.
    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, lowercased lowercase: [UInt8]) -> Bool {
        lowercase.withUnsafeBytes { equals(bytes, range, lowercased: $0) }
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, lowercased lowercase: UnsafeRawBufferPointer) -> Bool {
        guard range.count == lowercase.count else { return false }
        var offset = 0
        for index in range {
            let byte = bytes[index]
            let folded = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
            if folded != lowercase[offset] { return false }
            offset += 1
        }
        return true
    }

    /// Whether a comma-separated header value holds `token` (given in lower case), ignoring case.
    static func listContains(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ token: StaticString) -> Bool {
        var start = range.lowerBound
        while start <= range.upperBound {
            var end = start
            while end < range.upperBound, bytes[end] != UInt8(ascii: ",") { end += 1 }
            var first = start
            var last = end
            while first < last, bytes[first] == 0x20 || bytes[first] == 0x09 { first += 1 }
            while last > first, bytes[last - 1] == 0x20 || bytes[last - 1] == 0x09 { last -= 1 }
            if equals(bytes, first..<last, token) { return true }
            start = end + 1
        }
        return false
    }

    /// A decimal number of at most 15 digits (a `Content-Length`), or nil.
    static func decimal(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 15 else { return nil }
        var value = 0
        for index in range {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }

    /// The bytes in `range` as text.
    static func text(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}

extension ByteBuffer {
    /// Appends a static ASCII string.
    mutating func writeStatic(_ text: StaticString) {
        writeBytes(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

extension ByteBuffer {
    /// Appends the bytes of `part`, a buffer the channel just read, to this connection's input.
    ///
    /// The bytes are copied rather than `part` kept: a read buffer held past the read keeps NIO's receive
    /// allocator from reusing it, which costs an allocation and a free per read. An input with nothing left to
    /// read starts over at its beginning, keeping its storage unless that grew past 64 KiB for a large message.
    mutating func append(_ part: inout ByteBuffer) {
        if readableBytes == 0 {
            if capacity > 64 << 10 {
                self = part
                return
            }
            clear()
        } else if readerIndex > 64 << 10 {
            discardReadBytes()
        }
        writeBuffer(&part)
    }
}

/// Writes the parts of a message straight into memory reserved for all of them at once (see
/// ``ByteBuffer/writeParts(upTo:_:)``): one capacity check for the message instead of one per part.
struct PartWriter {
    private let base: UnsafeMutableRawPointer
    private let limit: Int
    private(set) var count = 0

    fileprivate init(_ memory: UnsafeMutableRawBufferPointer) {
        base = memory.baseAddress!
        limit = memory.count
    }

    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(bytes.count <= limit - count, "a message outgrew the room reserved for it")
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func put(_ text: StaticString) {
        put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func put(_ text: String) {
        var text = text
        text.withUTF8 { put(UnsafeRawBufferPointer($0)) }
    }

    mutating func put(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { put($0) }
    }

    /// A non-negative number in decimal.
    mutating func put(decimal value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var remaining = UInt64(max(value, 0))
        var length = 0
        withUnsafeMutableBytes(of: &digits) { room in
            repeat {
                length += 1
                room[24 - length] = UInt8(truncatingIfNeeded: remaining % 10) + UInt8(ascii: "0")
                remaining /= 10
            } while remaining > 0
        }
        withUnsafeBytes(of: &digits) { put(UnsafeRawBufferPointer(rebasing: $0[(24 - length)...])) }
    }
}

extension ByteBuffer {
    /// Appends what `body` puts, in at most `bound` bytes (it traps beyond them).
    mutating func writeParts(upTo bound: Int, _ body: (inout PartWriter) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { memory in
            var writer = PartWriter(memory)
            body(&writer)
            return writer.count
        }
    }
}
