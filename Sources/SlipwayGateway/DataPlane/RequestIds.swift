import Foundation

/// The request ids one client connection gives the requests that bring none: 28 lower-case hex digits,
/// the wall clock in milliseconds (12 digits), then 48 random bits drawn when the connection opened (12),
/// then a counter (4).
///
/// Ids start with the time so that they sort in the order requests arrived: the prediction log's index of
/// request ids then grows at its end, as its other indexes do, instead of taking each new id somewhere in
/// the middle (which costs a page write per record once the log is larger than the store's cache). The
/// random part keeps connections apart and the counter keeps one connection's requests within the same
/// millisecond apart; one `getrandom` per connection, one coarse clock read per id.
struct RequestIds {
    private let connection: UInt64
    private var counter: UInt16 = 0

    init() {
        var generator = SystemRandomNumberGenerator()
        connection = (generator.next() as UInt64) & 0xFFFF_FFFF_FFFF
    }

    /// The length of every id.
    static let length = 28

    mutating func next() -> String {
        counter &+= 1
        return Self.format(millis: Self.millisecondsNow(), connection: connection, counter: counter)
    }

    static func format(millis: UInt64, connection: UInt64, counter: UInt16) -> String {
        String(unsafeUninitializedCapacity: length) { buffer in
            let digits: StaticString = "0123456789abcdef"
            let table = digits.utf8Start
            func put(_ value: UInt64, _ count: Int, at start: Int) {
                var value = value
                var index = start + count - 1
                while index >= start {
                    buffer[index] = table[Int(value & 0xF)]
                    value >>= 4
                    index -= 1
                }
            }
            put(millis & 0xFFFF_FFFF_FFFF, 12, at: 0)
            put(connection, 12, at: 12)
            put(UInt64(counter), 4, at: 24)
            return length
        }
    }

    /// Milliseconds since 1970 from the coarse real-time clock (a few nanoseconds to read; its resolution of
    /// a few milliseconds is enough for ordering).
    static func millisecondsNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        return UInt64(now.tv_sec) &* 1000 &+ UInt64(now.tv_nsec) / 1_000_000
    }
}
