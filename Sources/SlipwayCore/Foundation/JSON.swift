public import Foundation

/// The JSON conventions Slipway uses on the wire and in files: sorted keys, ISO 8601 dates with milliseconds.
public enum SlipwayJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let millis = try? container.decode(Double.self) {
                let date = Date(timeIntervalSince1970: millis / 1000)
                guard Timestamp.range.contains(date) else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(millis) ms is outside the years 1 to 9999")
                }
                return date
            }
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an ISO 8601 date in the years 1 to 9999")
            }
            return date
        }
        return decoder
    }

    /// Encodes a value to a compact JSON string (for audit records).
    public static func string(_ value: some Encodable) -> String {
        guard let data = try? encoder().encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Millisecond timestamps: how dates are stored, compared and printed.
public enum Timestamp {
    /// The instants Slipway accepts: the years 1 to 9999, which ISO 8601 writes with four digits.
    public static let range = Date(timeIntervalSince1970: -62_135_596_800)...Date(timeIntervalSince1970: 253_402_300_799.999)

    /// Milliseconds since 1970 for a date (saturating far outside ``range``, never trapping).
    public static func millis(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        return Int64(exactly: value) ?? (value.isNaN ? 0 : value < 0 ? .min : .max)
    }

    /// The date for milliseconds since 1970.
    public static func date(millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    /// The current time, truncated to milliseconds so that it round-trips through storage.
    public static func now() -> Date { date(millis: millis(Date())) }

    /// `2026-11-27T10:15:30.123Z`.
    public static func format(_ date: Date) -> String {
        // Format whole seconds and append the milliseconds ourselves: the formatter's own fraction
        // can lose a millisecond to floating point, and then an instant would not round-trip.
        // Clamped to `range`, so no instant can overflow the arithmetic below.
        let ms = millis(min(max(date, range.lowerBound), range.upperBound))
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let fraction = ms - seconds * 1000
        let text = Date(timeIntervalSince1970: Double(seconds)).formatted(Date.ISO8601FormatStyle())
        let digits = String(fraction)
        return String(text.dropLast()) + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Parses ISO 8601 with or without fractional seconds or a time, or milliseconds since 1970.
    /// Instants outside ``range`` are refused (nil).
    public static func parse(_ text: String) -> Date? {
        guard let parsed = parseAnyYear(text), range.contains(parsed) else { return nil }
        return parsed
    }

    private static func parseAnyYear(_ text: String) -> Date? {
        if let millis = Int64(text) { return date(millis: millis) }
        let styles = [
            Date.ISO8601FormatStyle(includingFractionalSeconds: true), Date.ISO8601FormatStyle(),
            Date.ISO8601FormatStyle().year().month().day(),
        ]
        for style in styles {
            // Rounded to the millisecond, the precision Slipway stores, so parse(format(d)) == d.
            if let parsed = try? style.parse(text) { return date(millis: millis(parsed)) }
        }
        return nil
    }
}
