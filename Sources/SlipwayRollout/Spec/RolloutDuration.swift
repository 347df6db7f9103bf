import Foundation

/// A length of time written the way Argo Rollouts and Go write it: `30s`, `10m`, `1h`, `1h30m`,
/// `500ms`, `2d`, or a bare number of seconds.
///
/// Stored and encoded as its canonical text (`5400` seconds is `"1h30m"`).
///
/// ```swift
/// let d = try RolloutDuration(parsing: "1h30m")   // d.seconds == 5400
/// ```
public struct RolloutDuration: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The length in seconds (never negative).
    public var seconds: Double

    /// A duration of `seconds`.
    public init(seconds: Double) {
        self.seconds = max(0, seconds)
    }

    /// A duration of whole minutes.
    public static func minutes(_ m: Double) -> RolloutDuration { RolloutDuration(seconds: m * 60) }
    /// A duration of whole hours.
    public static func hours(_ h: Double) -> RolloutDuration { RolloutDuration(seconds: h * 3600) }

    static let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]

    /// Parses `1h30m`, `30s`, `250ms`, `2d` or a bare number of seconds (`90`).
    /// - Throws: a sentence describing the accepted forms when `text` is none of them.
    public init(parsing text: String) throws(RolloutError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let problem = RolloutError(
            .invalidSpec, "'\(text)' is not a duration; write a number with a unit such as 30s, 10m, 1h or 1h30m (units: ms, s, m, h, d)")
        if let plain = Double(trimmed) {
            guard plain.isFinite, plain >= 0 else { throw problem }
            self.init(seconds: plain)
            return
        }
        var total = 0.0
        var rest = Substring(trimmed)
        var lastUnitIndex = Int.max
        guard !rest.isEmpty else { throw problem }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !digits.isEmpty, let value = Double(digits) else { throw problem }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix { $0.isASCII && $0.isLetter }
            guard let index = Self.units.firstIndex(where: { $0.suffix == String(letters) }) else { throw problem }
            // Units must go from large to small, each at most once (`1h30m`, not `30m1h`).
            guard index < lastUnitIndex else { throw problem }
            lastUnitIndex = index
            rest = rest.dropFirst(letters.count)
            total += value * Self.units[index].seconds
        }
        self.init(seconds: total)
    }

    /// The canonical text: the largest units first, `0s` for zero, `ms` for fractions of a second.
    public var description: String {
        if seconds == 0 { return "0s" }
        var millis = (seconds * 1000).rounded()
        var parts = ""
        for (suffix, unit) in Self.units.reversed() {
            let unitMillis = (unit * 1000).rounded()
            let count = (millis / unitMillis).rounded(.down)
            if count >= 1 {
                parts += "\(Int(count))\(suffix)"
                millis -= count * unitMillis
            }
        }
        return parts.isEmpty ? "0s" : parts
    }

    public static func < (a: RolloutDuration, b: RolloutDuration) -> Bool { a.seconds < b.seconds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self.init(seconds: number)
            return
        }
        let text = try container.decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
