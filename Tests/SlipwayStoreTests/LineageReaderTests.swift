import Foundation
import SlipwayCore
import SlipwayStore
@testable import SlipwayStoreSQLite
import Testing

/// ``LineageReader`` reads what `JSONDecoder` reads, with the same result, or leaves the document to it.
@Suite struct LineageReaderTests {
    static let digest = Digest(of: Data("data".utf8))

    static let lineages: [Lineage] = [
        Lineage(),
        Lineage(parameters: ["lr": "0.01", "depth": "3"], metrics: ["accuracy": 0.9123, "f1": 1, "loss": 1e-7, "big": 1e300]),
        Lineage(
            modelId: "family/ü", git: GitInfo(commit: "abc", repository: "git@x:y.git", branch: "main", dirty: false),
            trainingData: [
                DatasetReference(uri: "s3://d/\"q\"", digest: digest, rows: Int64.min, dateFrom: "2026-01-01", dateTo: "2026-02-01"),
                DatasetReference(uri: "", rows: Int64.max),
            ],
            parameters: ["": "", "日本": "語 😀", "escape": "\\ \" / \n \r \t \u{8} \u{c} \u{1} \u{1f}"],
            metrics: ["negative zero": -0.0, "negative": -2.5e-300, "max": .greatestFiniteMagnitude, "min": .leastNonzeroMagnitude],
            environment: EnvironmentInfo(
                os: "Linux", architecture: "arm64", language: "Python", languageVersion: "3.12", libraries: ["numpy": "2.0"], cuda: "12",
                hostname: "h"),
            containerImage: "img", trainedBy: "alice", approvedBy: ["bob", "ü"],
            deployments: [
                DeploymentRecord(alias: "production", from: Timestamp.date(millis: 1_764_000_000_123), until: Timestamp.date(millis: 1_764_000_100_000)),
                DeploymentRecord(alias: "old", from: Timestamp.date(millis: -62_135_596_800_000)),
            ],
            extras: ["k": "v"]),
        Lineage(git: GitInfo(commit: "c"), environment: EnvironmentInfo()),
    ]

    static func decode(_ text: String) -> Lineage? {
        try? SlipwayJSON.decoder().decode(Lineage.self, from: Data(text.utf8))
    }

    @Test("stored lineages read to the values they were written from")
    func roundTrip() throws {
        for lineage in Self.lineages {
            let text = String(decoding: try SlipwayJSON.encoder().encode(lineage), as: UTF8.self)
            let read = try #require(LineageReader.read(text), "\(text)")
            #expect(read == lineage)
            #expect(read == Self.decode(text))
        }
    }

    @Test("random lineages read as the decoder reads them")
    func randomLineages() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab_ é日😀\"\\/\n\t\u{1}09")
        func text() -> String {
            String((0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        for _ in 0..<500 {
            var lineage = Lineage()
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                lineage.metrics[text()] = Double.random(in: -1...1, using: &generator) * pow(10, Double.random(in: -300...300, using: &generator))
                lineage.parameters[text()] = text()
            }
            if Bool.random() { lineage.trainingData = [DatasetReference(uri: text(), rows: Int64.random(in: .min ... .max, using: &generator))] }
            if Bool.random() { lineage.trainedBy = text() }
            let encoded = String(decoding: try SlipwayJSON.encoder().encode(lineage), as: UTF8.self)
            #expect(LineageReader.read(encoded) == lineage, "\(encoded)")
        }
    }

    @Test("documents written by hand: read exactly as the decoder reads them, or left to it")
    func handWritten() {
        let documents = [
            // Accepted by both.
            #"{}"#,
            #" { "metrics" : { "a" : 1 , "b" : -0.5E+2 } , "parameters" : { } } "#,
            #"{"metrics":{"a":1e2,"b":0,"c":-0,"d":0.000001}}"#,
            #"{"parameters":{"\u00e9\ud83d\ude00":"\/\b\f"}}"#,
            #"{"modelId":null,"git":null,"trainingData":null,"environment":null,"approvedBy":null,"deployments":null,"extras":null}"#,
            #"{"unknown":{"nested":[1,2,{"x":null}],"more":true},"trainedBy":"x","other":[]}"#,
            #"{"git":{"commit":"c","dirty":null,"branch":null,"extra":1}}"#,
            #"{"trainingData":[{"uri":"u","rows":12,"digest":null}]}"#,
            #"{"deployments":[{"alias":"a","from":1764000000123,"until":"2026-11-27T10:00:00.5Z"}]}"#,
            #"{"deployments":[{"alias":"a","from":"2026-11-27"}]}"#,
            // Left to the decoder (which may accept or refuse them).
            #"{"trainingData":[{"uri":"u","rows":12.0}]}"#,
            #"{"trainingData":[{"uri":"u","rows":1e2}]}"#,
            #"{"trainingData":[{"uri":"u","rows":9223372036854775808}]}"#,
            #"{"metrics":{"a":1,"a":2}}"#,
            #"{"trainedBy":"a","trainedBy":"b"}"#,
            #"{"metrics":{"a":1e400}}"#,
            #"{"metrics":{"a":"1"}}"#,
            #"{"metrics":{"a":01}}"#,
            #"{"metrics":{"a":.5}}"#,
            #"{"metrics":{"a":1.}}"#,
            #"{"metrics":{"a":+1}}"#,
            #"{"metrics":{"a":NaN}}"#,
            #"{"metrics":{"a":-}}"#,
            #"{"parameters":{"a":1}}"#,
            #"{"parameters":{"a":"\ud83d"}}"#,
            #"{"parameters":{"a":"\udc00"}}"#,
            #"{"parameters":{"a":"\x"}}"#,
            #"{"parameters":{"a":"\u12"}}"#,
            "{\"parameters\":{\"a\":\"raw\ncontrol\"}}",
            #"{"git":{"branch":"b"}}"#,
            #"{"git":{"commit":null}}"#,
            #"{"git":{"commit":"c","dirty":"yes"}}"#,
            #"{"trainingData":[{"digest":"sha256:00","uri":"u"}]}"#,
            #"{"deployments":[{"alias":"a"}]}"#,
            #"{"deployments":[{"alias":"a","from":"yesterday"}]}"#,
            #"{"deployments":[{"alias":"a","from":1e30}]}"#,
            #"{"approvedBy":["a",]}"#,
            #"{"approvedBy":["a" "b"]}"#,
            #"{"metrics":{"a":1},}"#,
            #"{"metrics":{"a":1}} trailing"#,
            #"{"metrics":{"a":1}"#,
            #"{"metrics""#,
            #"[]"#,
            #"null"#,
            #""#,
            #"{"metrics":{"a":tru}}"#,
            #"{"unknown":nul}"#,
            #"{"unknown":[1,,2]}"#,
        ]
        for document in documents {
            let fast = LineageReader.read(document)
            let slow = Self.decode(document)
            if let fast {
                #expect(fast == slow, "read \(document) differently from the decoder")
            }
        }
        // The common shapes are read without the decoder.
        for document in documents.prefix(10) {
            #expect(LineageReader.read(document) != nil, "\(document)")
        }
    }

    static func record(_ lineage: String, version: Int = 3) -> VersionRecord {
        VersionRecord(
            id: 1, modelId: 1, model: "churn", version: version, status: "READY", statusMessage: nil, stage: "None", artifactDigest: nil,
            artifactSize: nil, source: "", runId: "", description: "", lineage: lineage, createdAt: 0, updatedAt: 0, createdBy: "alice")
    }

    @Test("a stored lineage the reader leaves alone is decoded by the decoder; an unreadable one names its version")
    func fallsBackToDecoder() throws {
        let stored = Self.lineages.map { String(decoding: try! SlipwayJSON.encoder().encode($0), as: UTF8.self) }
        let unusual = #"{"trainingData":[{"uri":"u","rows":12.0}],"metrics":{"a":1}}"#
        let read = try Rows.lineages((stored + [unusual]).map { Self.record($0) })
        #expect(Array(read.prefix(stored.count)) == Self.lineages)
        #expect(read.last == Self.decode(unusual))
        #expect(read.last?.metrics == ["a": 1])

        for broken in [#"{"metrics":{"a":"high"}}"#, "not json", ""] {
            do {
                _ = try Rows.lineages([Self.record(stored[1]), Self.record(broken, version: 7)])
                Issue.record("the unreadable lineage '\(broken)' was accepted")
            } catch let error as StoreError {
                #expect(error.message.contains("churn@7"), "\(error.message)")
            }
        }
    }
}
