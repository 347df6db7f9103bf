public import Foundation
public import SlipwayCore
public import SlipwayStore

/// Writes model versions as JSON straight into bytes, the way `SlipwayJSON.encoder()` writes them.
///
/// A search answer holds up to thousands of versions; `JSONEncoder` spends most of that answer's time on
/// boxing each field, formatting dates through a date formatter and sorting keys. This writer produces the
/// same document: the same keys in the same (sorted, byte-wise) order, optional fields left out when nil,
/// dates as `2026-11-27T10:15:30.123Z`, numbers as Swift prints them without a trailing `.0`, and the same
/// escapes (control characters, quote and backslash; slashes and non-ASCII text as they are).
///
/// ```swift
/// let body = try ModelVersionJSON.encode(page)   // {"items":[…],"nextPageToken":"…"}
/// ```
public enum ModelVersionJSON {
    /// A page of versions as `{"items":[…],"nextPageToken":…}`, the shape `Page<ModelVersion>` encodes to.
    ///
    /// - Throws: `EncodingError.invalidValue` for a metric that is not a finite number, as `JSONEncoder` does.
    public static func encode(_ page: Page<ModelVersion>) throws -> [UInt8] {
        var writer = Writer(capacity: 64 + page.items.count * 640)
        writer.raw("{\"items\":[")
        for (index, version) in page.items.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            try writer.version(version)
        }
        writer.byte(UInt8(ascii: "]"))
        if let token = page.nextPageToken {
            writer.raw(",\"nextPageToken\":")
            writer.string(token)
        }
        writer.byte(UInt8(ascii: "}"))
        return writer.bytes
    }

    /// One version as a JSON object.
    ///
    /// - Throws: `EncodingError.invalidValue` for a metric that is not a finite number.
    public static func encode(_ version: ModelVersion) throws -> [UInt8] {
        var writer = Writer(capacity: 640)
        try writer.version(version)
        return writer.bytes
    }

    /// `2026-11-27T10:15:30.123Z`, the text `Timestamp.format` gives for a date.
    public static func timestamp(_ date: Date) -> String {
        var writer = Writer(capacity: 26)
        writer.date(date)
        return String(decoding: writer.bytes.dropFirst().dropLast(), as: UTF8.self)
    }

    /// Appends JSON to a byte array.
    struct Writer {
        private(set) var bytes: [UInt8] = []

        init(capacity: Int) {
            bytes.reserveCapacity(capacity)
        }

        mutating func version(_ version: ModelVersion) throws {
            raw("{\"aliases\":[")
            for (index, alias) in version.aliases.enumerated() {
                if index > 0 { byte(UInt8(ascii: ",")) }
                string(alias)
            }
            byte(UInt8(ascii: "]"))
            if let digest = version.artifactDigest {
                raw(",\"artifactDigest\":\"sha256:")
                bytes.append(contentsOf: digest.hex.utf8)
                byte(UInt8(ascii: "\""))
            }
            if let size = version.artifactSize {
                raw(",\"artifactSize\":")
                integer(size)
            }
            raw(",\"createdAt\":")
            date(version.createdAt)
            raw(",\"createdBy\":")
            string(version.createdBy)
            raw(",\"description\":")
            string(version.description)
            raw(",\"lineage\":")
            try lineage(version.lineage)
            raw(",\"model\":")
            string(version.model)
            if let runId = version.runId {
                raw(",\"runId\":")
                string(runId)
            }
            raw(",\"source\":")
            string(version.source)
            raw(",\"stage\":")
            string(version.stage)
            raw(",\"status\":")
            string(version.status.rawValue)
            if let message = version.statusMessage {
                raw(",\"statusMessage\":")
                string(message)
            }
            raw(",\"tags\":")
            stringDictionary(version.tags)
            raw(",\"updatedAt\":")
            date(version.updatedAt)
            raw(",\"version\":")
            integer(Int64(version.version))
            byte(UInt8(ascii: "}"))
        }

        mutating func lineage(_ lineage: Lineage) throws {
            raw("{\"approvedBy\":")
            stringArray(lineage.approvedBy)
            optional("containerImage", lineage.containerImage)
            raw(",\"deployments\":[")
            for (index, deployment) in lineage.deployments.enumerated() {
                if index > 0 { byte(UInt8(ascii: ",")) }
                raw("{\"alias\":")
                string(deployment.alias)
                raw(",\"from\":")
                date(deployment.from)
                if let until = deployment.until {
                    raw(",\"until\":")
                    date(until)
                }
                byte(UInt8(ascii: "}"))
            }
            byte(UInt8(ascii: "]"))
            if let environment = lineage.environment {
                raw(",\"environment\":{")
                var first = true
                member("architecture", environment.architecture, first: &first)
                member("cuda", environment.cuda, first: &first)
                member("hostname", environment.hostname, first: &first)
                member("language", environment.language, first: &first)
                member("languageVersion", environment.languageVersion, first: &first)
                if !first { byte(UInt8(ascii: ",")) }
                first = false
                raw("\"libraries\":")
                stringDictionary(environment.libraries)
                member("os", environment.os, first: &first)
                byte(UInt8(ascii: "}"))
            }
            raw(",\"extras\":")
            stringDictionary(lineage.extras)
            if let git = lineage.git {
                raw(",\"git\":{")
                var first = true
                member("branch", git.branch, first: &first)
                if !first { byte(UInt8(ascii: ",")) }
                first = false
                raw("\"commit\":")
                string(git.commit)
                if let dirty = git.dirty { raw(dirty ? ",\"dirty\":true" : ",\"dirty\":false") }
                member("repository", git.repository, first: &first)
                byte(UInt8(ascii: "}"))
            }
            raw(",\"metrics\":{")
            for (index, metric) in Self.sorted(lineage.metrics).enumerated() {
                if index > 0 { byte(UInt8(ascii: ",")) }
                string(metric.key)
                byte(UInt8(ascii: ":"))
                try number(metric.value, key: metric.key)
            }
            byte(UInt8(ascii: "}"))
            optional("modelId", lineage.modelId)
            raw(",\"parameters\":")
            stringDictionary(lineage.parameters)
            optional("trainedBy", lineage.trainedBy)
            raw(",\"trainingData\":[")
            for (index, data) in lineage.trainingData.enumerated() {
                if index > 0 { byte(UInt8(ascii: ",")) }
                byte(UInt8(ascii: "{"))
                var first = true
                member("dateFrom", data.dateFrom, first: &first)
                member("dateTo", data.dateTo, first: &first)
                if let digest = data.digest {
                    if !first { byte(UInt8(ascii: ",")) }
                    first = false
                    raw("\"digest\":\"sha256:")
                    bytes.append(contentsOf: digest.hex.utf8)
                    byte(UInt8(ascii: "\""))
                }
                if let rows = data.rows {
                    if !first { byte(UInt8(ascii: ",")) }
                    first = false
                    raw("\"rows\":")
                    integer(rows)
                }
                if !first { byte(UInt8(ascii: ",")) }
                raw("\"uri\":")
                string(data.uri)
                byte(UInt8(ascii: "}"))
            }
            raw("]}")
        }

        // MARK: Members

        /// `,"key":"value"` when the value is there.
        private mutating func optional(_ key: StaticString, _ value: String?) {
            guard let value else { return }
            byte(UInt8(ascii: ","))
            quotedKey(key)
            string(value)
        }

        /// `"key":"value"` inside an object, with a comma unless it is the first member.
        private mutating func member(_ key: StaticString, _ value: String?, first: inout Bool) {
            guard let value else { return }
            if !first { byte(UInt8(ascii: ",")) }
            first = false
            quotedKey(key)
            string(value)
        }

        private mutating func quotedKey(_ key: StaticString) {
            byte(UInt8(ascii: "\""))
            raw(key)
            raw("\":")
        }

        private mutating func stringArray(_ values: [String]) {
            byte(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { byte(UInt8(ascii: ",")) }
                string(value)
            }
            byte(UInt8(ascii: "]"))
        }

        private mutating func stringDictionary(_ dictionary: [String: String]) {
            byte(UInt8(ascii: "{"))
            for (index, entry) in Self.sorted(dictionary).enumerated() {
                if index > 0 { byte(UInt8(ascii: ",")) }
                string(entry.key)
                byte(UInt8(ascii: ":"))
                string(entry.value)
            }
            byte(UInt8(ascii: "}"))
        }

        /// Entries in the order `JSONEncoder`'s `.sortedKeys` writes them: by the bytes of their UTF-8 keys.
        private static func sorted<Value>(_ dictionary: [String: Value]) -> [(key: String, value: Value)] {
            dictionary.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        }

        // MARK: Scalars

        mutating func byte(_ value: UInt8) {
            bytes.append(value)
        }

        mutating func raw(_ text: StaticString) {
            bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        /// A quoted string with the escapes `JSONEncoder` writes.
        mutating func string(_ value: String) {
            byte(UInt8(ascii: "\""))
            let utf8 = value.utf8
            if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                bytes.append(contentsOf: utf8)
            } else {
                for unit in utf8 {
                    switch unit {
                    case UInt8(ascii: "\""): raw("\\\"")
                    case UInt8(ascii: "\\"): raw("\\\\")
                    case 0x08: raw("\\b")
                    case 0x0C: raw("\\f")
                    case 0x0A: raw("\\n")
                    case 0x0D: raw("\\r")
                    case 0x09: raw("\\t")
                    case 0..<0x20:
                        raw("\\u00")
                        byte(Self.hexDigits[Int(unit >> 4)])
                        byte(Self.hexDigits[Int(unit & 0x0F)])
                    default: byte(unit)
                    }
                }
            }
            byte(UInt8(ascii: "\""))
        }

        private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

        mutating func integer(_ value: Int64) {
            if value < 0 {
                byte(UInt8(ascii: "-"))
                // The magnitude of Int64.min does not fit an Int64; UInt64 holds it.
                unsigned(value.magnitude)
            } else {
                unsigned(UInt64(value))
            }
        }

        private mutating func unsigned(_ value: UInt64) {
            var divisor: UInt64 = 1
            while value / divisor >= 10 { divisor *= 10 }
            while divisor > 0 {
                byte(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }

        /// A finite double as `JSONEncoder` writes it: Swift's shortest round-trip text without a trailing `.0`.
        mutating func number(_ value: Double, key: String) throws {
            guard value.isFinite else {
                throw EncodingError.invalidValue(
                    value, EncodingError.Context(codingPath: [], debugDescription: "metric '\(key)' is \(value), which JSON cannot hold"))
            }
            var text = value.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            bytes.append(contentsOf: text.utf8)
        }

        /// A quoted `Timestamp.format` date; computed directly for the years 1970 to 9999, and by
        /// `Timestamp.format` (whose calendar differs from the proleptic Gregorian one before 1582) otherwise.
        mutating func date(_ date: Date) {
            let millis = Timestamp.millis(date)
            guard millis >= 0, millis <= 253_402_300_799_999 else {
                byte(UInt8(ascii: "\""))
                bytes.append(contentsOf: Timestamp.format(date).utf8)
                byte(UInt8(ascii: "\""))
                return
            }
            let days = millis / 86_400_000
            let dayMillis = millis % 86_400_000
            // Civil date from days since 1970-01-01 in the proleptic Gregorian calendar (eras of 400 years).
            let shifted = days + 719_468
            let era = shifted / 146_097
            let dayOfEra = shifted - era * 146_097
            let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
            let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
            let monthIndex = (5 * dayOfYear + 2) / 153
            let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
            let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
            let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
            byte(UInt8(ascii: "\""))
            digits(year, count: 4)
            byte(UInt8(ascii: "-"))
            digits(month, count: 2)
            byte(UInt8(ascii: "-"))
            digits(day, count: 2)
            byte(UInt8(ascii: "T"))
            digits(dayMillis / 3_600_000, count: 2)
            byte(UInt8(ascii: ":"))
            digits(dayMillis / 60_000 % 60, count: 2)
            byte(UInt8(ascii: ":"))
            digits(dayMillis / 1_000 % 60, count: 2)
            byte(UInt8(ascii: "."))
            digits(dayMillis % 1_000, count: 3)
            raw("Z\"")
        }

        /// `value` (not negative) in exactly `count` decimal digits, zero-padded.
        private mutating func digits(_ value: Int64, count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                byte(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
    }
}
