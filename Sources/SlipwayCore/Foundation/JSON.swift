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
                return Date(timeIntervalSince1970: millis / 1000)
            }
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 date")
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
    /// Milliseconds since 1970 for a date.
    public static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// The date for milliseconds since 1970.
    public static func date(millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    /// The current time, truncated to milliseconds so that it round-trips through storage.
    public static func now() -> Date { date(millis: millis(Date())) }

    /// `2026-11-27T10:15:30.123Z`.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Parses ISO 8601 with or without fractional seconds or a time, or milliseconds since 1970.
    public static func parse(_ text: String) -> Date? {
        if let millis = Int64(text) { return date(millis: millis) }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().year().month().day().parse(text) { return date }
        return nil
    }
}
