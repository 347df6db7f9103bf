import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayGateway
import SlipwayStore

struct PredictionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predictions",
        abstract: "Export an endpoint's prediction log and post feedback (ground truth, outcomes) for its answers.",
        discussion: """
            The gateway logs every answer of an endpoint: request id, time, variant, model version, sticky key, \
            features (as the endpoint's --feature-logging keeps them), prediction, confidence, latency and status; \
            mirrored answers are logged too, with kind 'mirror'. Feedback attaches ground truth and/or a numeric \
            outcome to the answer a client got, by its X-Request-Id, and feeds the outcome metrics of the variant.

            Examples:
              slipway predictions export churn-api --format csv --since 24h --out day.csv
              slipway predictions export churn-api --format jsonl --kind primary
              slipway predictions feedback churn-api 5f0c…e1 --label churned
              slipway predictions feedback churn-api --file labels.jsonl
            """,
        subcommands: [Export.self, FeedbackCommand.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", 
            abstract: "Write an endpoint's prediction log as JSON Lines or CSV.",
            discussion: """
                Streams every page of the log, oldest first. JSON Lines has one record per line, the same JSON as \
                GET /api/v1/endpoints/ENDPOINT/predictions. CSV (RFC 4180) has a header row and the columns \
                \(CSV.header.joined(separator: ", ")); a field with a comma, quote or line break is quoted, \
                features always are, and an absent value is an empty field. Text starting with =, +, -, @, a tab \
                or a CR gets a leading ' so that a spreadsheet does not read it as a formula.

                With --out the records go to a temporary file next to FILE, which is renamed to FILE only once \
                the export is complete: a failed export leaves no partial file behind. With --json, --out is \
                needed, and a summary is printed instead.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The endpoint whose log to export.") var endpoint: String
        @Option(name: .long, help: "jsonl or csv.") var format: String
        @Option(
            name: .long,
            help:
                "Only records at or after this instant: ISO 8601 (2026-11-27T10:00:00Z), milliseconds since 1970, or a duration back from now (90s, 15m, 1h, 2d, 1w, 1h30m)."
        )
        var since: String?
        @Option(name: .long, help: "Write to this file instead of stdout (replaced once the export is complete).") var out: String?
        @Option(name: .long, help: "primary (the answers clients got), mirror (mirrored copies) or all.") var kind: String = "all"

        func run() async throws {
            try await Output.run(json: global.json) {
                guard let format = ExportFormat(rawValue: format.lowercased()) else {
                    throw GenericError(.invalidArgument, "--format must be jsonl or csv, got '\(format)'")
                }
                guard ["primary", "mirror", "all"].contains(kind) else {
                    throw GenericError(.invalidArgument, "--kind must be primary, mirror or all, got '\(kind)'")
                }
                let wanted = PredictionRecord.Kind(rawValue: kind)
                let start = try since.map { try PredictionsCommand.instant($0, now: Date()) }
                if global.json && out == nil {
                    throw GenericError(.invalidArgument, "with --json the summary goes to stdout, so give --out FILE for the records")
                }
                let client = try global.client()
                let sink = try ExportSink(path: out)
                let progress = ExportProgress(enabled: out != nil && !global.json)
                var count = 0
                do {
                    if format == .csv { try sink.write(CSV.headerLine) }
                    let encoder = SlipwayJSON.encoder()
                    var token: String?
                    repeat {
                        let page = try await client.predictions(endpoint: endpoint, since: start, limit: 5_000, pageToken: token)
                        for record in page.items where wanted == nil || record.kind == wanted {
                            switch format {
                            case .jsonl: try sink.write(try encoder.encode(record) + Data("\n".utf8))
                            case .csv: try sink.write(CSV.line(record))
                            }
                            count += 1
                        }
                        progress.update(count)
                        token = page.nextPageToken
                    } while token != nil
                    try sink.finish()
                    progress.finish()
                } catch {
                    sink.abandon()
                    progress.finish()
                    throw error
                }
                struct Summary: Encodable {
                    var endpoint: String
                    var format: String
                    var kind: String
                    var since: Date?
                    var records: Int
                    var out: String
                }
                if global.json {
                    Output.json(Summary(endpoint: endpoint, format: format.rawValue, kind: kind, since: start, records: count, out: sink.path ?? ""))
                } else if let path = sink.path {
                    Output.line("Exported \(count) record\(count == 1 ? "" : "s") of \(endpoint) to \(path).")
                }
            }
        }
    }

    struct FeedbackCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "feedback",
            abstract: "Attach ground truth and/or an outcome to answered requests.",
            discussion: """
                Give REQUEST_ID (the X-Request-Id the gateway answered with) and --label and/or --outcome, or \
                --file with one JSON object per line, as the API takes them:
                  {"requestId": "5f0c…e1", "groundTruth": "churned", "outcome": 1}
                (--file - reads stdin). A file is sent in batches of up to 1,000; requests the endpoint has not \
                logged are reported and the others still count, and the command then exits with 1. Later \
                feedback for a request replaces earlier feedback. Needs the editor role.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The endpoint that answered.") var endpoint: String
        @Argument(help: "The request's X-Request-Id.") var requestId: String?
        @Option(name: .long, help: "The true label (compared with the prediction).") var label: String?
        @Option(name: .long, help: "A numeric outcome: a conversion as 0 or 1, a revenue, a rating.") var outcome: String?
        @Option(name: .long, help: "A JSON Lines file of feedback items ('-' for stdin).") var file: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                if let file {
                    guard requestId == nil, label == nil, outcome == nil else {
                        throw GenericError(.invalidArgument, "give either REQUEST_ID with --label/--outcome, or --file, not both")
                    }
                    try await sendFile(file)
                    return
                }
                guard let requestId else {
                    throw GenericError(.invalidArgument, "give REQUEST_ID with --label and/or --outcome, or --file FILE")
                }
                guard label != nil || outcome != nil else {
                    throw GenericError(.invalidArgument, "give --label, --outcome or both for request '\(requestId)'")
                }
                let number = try outcome.map { text in
                    guard let value = Double(text), value.isFinite else {
                        throw GenericError(.invalidArgument, "--outcome must be a finite number such as 1, 0 or 19.99, got '\(text)'")
                    }
                    return value
                }
                let record = try await global.client().feedback(endpoint: endpoint, requestId: requestId, groundTruth: label, outcome: number)
                if global.json {
                    Output.json(record)
                    return
                }
                var parts: [String] = []
                if let truth = record.feedback?.groundTruth { parts.append("ground truth \(truth)") }
                if let value = record.feedback?.outcome { parts.append("outcome \(value)") }
                let predicted = record.prediction.map { ", predicted \($0)" } ?? ""
                Output.line("Feedback on \(requestId) (\(endpoint)/\(record.variant)\(predicted)): \(parts.joined(separator: ", ")).")
            }
        }

        func sendFile(_ file: String) async throws {
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
                    throw GenericError(.invalidArgument, "cannot read \(file): \(error.localizedDescription)")
                }
            }
            let decoder = SlipwayJSON.decoder()
            var items: [FeedbackItem] = []
            for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !text.isEmpty else { continue }
                do {
                    items.append(try decoder.decode(FeedbackItem.self, from: Data(text.utf8)))
                } catch {
                    let reason = (error as? DecodingError).map(PredictionsCommand.describe) ?? "\(error)"
                    throw GenericError(
                        .invalidArgument, "\(file):\(index + 1): \(reason); each line must be {\"requestId\": …, \"groundTruth\": …, \"outcome\": …}")
                }
            }
            guard !items.isEmpty else { throw GenericError(.invalidArgument, "\(file) has no feedback items") }
            let client = try global.client()
            var refused: [FeedbackResult] = []
            var attached = 0
            for start in stride(from: 0, to: items.count, by: EndpointService.maximumFeedbackBatch) {
                let batch = Array(items[start..<min(start + EndpointService.maximumFeedbackBatch, items.count)])
                for result in try await client.feedback(endpoint: endpoint, items: batch) {
                    if result.record != nil { attached += 1 } else { refused.append(result) }
                }
            }
            struct Summary: Encodable {
                var endpoint: String
                var attached: Int
                var refused: [FeedbackResult]
            }
            if global.json {
                Output.json(Summary(endpoint: endpoint, attached: attached, refused: refused))
            } else {
                Output.line("Attached feedback to \(attached) request\(attached == 1 ? "" : "s") of \(endpoint); \(refused.count) refused.")
                for result in refused { Output.note("refused \(result.requestId): \(result.error?.message ?? "unknown error")") }
            }
            if !refused.isEmpty { throw ExitCode(1) }
        }
    }

    enum ExportFormat: String {
        case jsonl, csv
    }

    /// An instant from `--since`: ISO 8601, milliseconds since 1970, or a duration back from `now` (`1h30m`).
    static func instant(_ text: String, now: Date) throws -> Date {
        if let date = Timestamp.parse(text) { return date }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        var seconds = 0.0
        var digits = ""
        var valid = !text.isEmpty
        for character in text {
            if character.isASCII && (character.isNumber || character == ".") {
                digits.append(character)
            } else if let unit = units[character], let value = Double(digits) {
                seconds += value * unit
                digits = ""
            } else {
                valid = false
                break
            }
        }
        let date = now.addingTimeInterval(-seconds)
        guard valid, digits.isEmpty, seconds.isFinite, Timestamp.range.contains(date) else {
            throw GenericError(
                .invalidArgument,
                "--since '\(text)' must be an ISO 8601 instant (2026-11-27T10:00:00Z), milliseconds since 1970, or a duration such as 15m, 1h, 2d or 1h30m"
            )
        }
        return date
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not a JSON object (\(context.debugDescription))" : "\(path): \(context.debugDescription)"
        case .keyNotFound(let key, _):
            return "missing field '\(key.stringValue)'"
        @unknown default:
            return "\(error)"
        }
    }
}

/// Prediction records as RFC 4180 CSV rows.
enum CSV {
    static let header = [
        "requestId", "timestamp", "endpoint", "variant", "modelVersion", "kind", "stickyKey", "features", "prediction", "confidence",
        "latencyMs", "status", "groundTruth", "outcome", "feedbackAt", "feedbackBy",
    ]

    static var headerLine: Data { Data((header.joined(separator: ",") + "\r\n").utf8) }

    static func line(_ record: PredictionRecord) -> Data {
        let fields: [String] = [
            field(record.requestId), field(Timestamp.format(record.timestamp)), field(record.endpoint), field(record.variant),
            field(record.modelVersion), field(record.kind.rawValue), field(record.stickyKey), field(record.features, alwaysQuoted: true),
            field(record.prediction), number(record.confidence), number(record.latencyMs), String(record.status),
            field(record.feedback?.groundTruth), number(record.feedback?.outcome), field(record.feedback.map { Timestamp.format($0.receivedAt) }),
            field(record.feedback?.by),
        ]
        return Data((fields.joined(separator: ",") + "\r\n").utf8)
    }

    /// A field as RFC 4180 writes it: quoted (with quotes doubled) when it holds a comma, a quote or a line break,
    /// or when it is empty text, so that it differs from an absent value (an empty field).
    /// Text that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a CR)
    /// gets a leading `'`, so that opening the export cannot run it.
    static func field(_ value: String?, alwaysQuoted: Bool = false) -> String {
        guard var value else { return "" }
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard alwaysQuoted || value.isEmpty || value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return value
        }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func number(_ value: Double?) -> String {
        value.map { "\($0)" } ?? ""
    }
}

/// Where an export goes: stdout, or a temporary file that becomes `path` only once it is complete.
final class ExportSink {
    let path: String?
    private let handle: FileHandle
    private let temporary: URL?
    private var buffer = Data()

    init(path: String?) throws {
        guard let path else {
            self.path = nil
            handle = .standardOutput
            temporary = nil
            return
        }
        let target = URL(fileURLWithPath: path)
        let folder = target.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GenericError(.invalidArgument, "cannot write \(path): the folder \(folder.path) does not exist")
        }
        let staging = folder.appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        guard FileManager.default.createFile(atPath: staging.path, contents: nil), let handle = try? FileHandle(forWritingTo: staging) else {
            throw GenericError(.unavailable, "cannot create a file in \(folder.path); check its permissions")
        }
        self.path = target.path
        self.handle = handle
        self.temporary = staging
    }

    func write(_ data: Data) throws {
        buffer.append(data)
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        if temporary == nil {
            Output.write(buffer, to: handle)
        } else {
            do { try handle.write(contentsOf: buffer) } catch {
                throw GenericError(.unavailable, "cannot write \(path ?? "the export"): \(error.localizedDescription)")
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is left and, for a file, moves it into place.
    func finish() throws {
        try flush()
        guard let temporary, let path else { return }
        try? handle.synchronize()
        try? handle.close()
        guard rename(temporary.path, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw GenericError(.unavailable, "cannot move the export to \(path): \(reason)")
        }
    }

    /// Removes the temporary file of a failed export.
    func abandon() {
        guard let temporary else { return }
        try? handle.close()
        try? FileManager.default.removeItem(at: temporary)
    }
}

/// A record count on stderr while a long export runs (from its second second on, at most once a second).
final class ExportProgress {
    private let enabled: Bool
    private let terminal = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var last = Date.distantPast
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ count: Int) {
        let now = Date()
        guard enabled, now.timeIntervalSince(start) >= 1, now.timeIntervalSince(last) >= 1 else { return }
        last = now
        shown = true
        Output.write(Data("\(terminal ? "\r" : "")exported \(count) records…\(terminal ? "" : "\n")".utf8), to: .standardError)
    }

    func finish() {
        if shown && terminal { Output.write(Data("\n".utf8), to: .standardError) }
    }
}
