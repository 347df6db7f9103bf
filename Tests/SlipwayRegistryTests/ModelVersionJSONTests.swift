import Foundation
import Testing

import SlipwayCore
import SlipwayRegistry
import SlipwayStore

/// ``ModelVersionJSON`` writes the document `SlipwayJSON.encoder()` writes, for every shape a version can take.
@Suite struct ModelVersionJSONTests {
    static let digest = Digest(of: Data("weights".utf8))

    /// A version with every field and every lineage field set, with text that needs escapes and non-ASCII text.
    static let full = ModelVersion(
        model: "churn-ü", version: 42, status: .failed, statusMessage: "upload \"broke\"\n\tat byte 7\u{1}", stage: "Production",
        artifactDigest: digest, artifactSize: 9_223_372_036_854_775_807, source: "s3://bucket/a/b?c=d&e=f", runId: "run-1",
        description: "Ünïcödé — 日本語 😀, slash / backslash \\ quote \" bell \u{7} U+2028 \u{2028}",
        tags: ["team": "nlp", "B": "upper", "a10": "x", "a9": "y", "é": "accent", "_": "", "": "empty key"],
        lineage: Lineage(
            modelId: "family/7", git: GitInfo(commit: "abc123", repository: "git@example.com:ml/churn.git", branch: "main", dirty: true),
            trainingData: [
                DatasetReference(uri: "s3://data/train.parquet", digest: digest, rows: -12, dateFrom: "2026-01-01", dateTo: "2026-06-30"),
                DatasetReference(uri: "file:///tmp/å"),
            ],
            parameters: ["lr": "0.01", "max_depth": "8", "Z": "z", "": ""],
            metrics: [
                "accuracy": 0.95, "one": 1, "tiny": 1e-5, "huge": 1e20, "negative zero": -0.0, "negative": -3.25, "long": 0.1 + 0.2,
                "max": .greatestFiniteMagnitude, "min": .leastNonzeroMagnitude, "exact": 1e15, "big": 123_456_789_012_345_678,
            ],
            environment: EnvironmentInfo(
                os: "Linux", architecture: "x86_64", language: "Python", languageVersion: "3.12.1",
                libraries: ["scikit-learn": "1.5.2", "numpy": "2.0"], cuda: "12.4", hostname: "trainer-01"),
            containerImage: "registry.example.com/churn@sha256:00", trainedBy: "alice",
            approvedBy: ["bob", "carol"],
            deployments: [
                DeploymentRecord(alias: "production", from: Timestamp.date(millis: 1_764_000_000_123), until: Timestamp.date(millis: 1_764_100_000_000)),
                DeploymentRecord(alias: "canary", from: Timestamp.date(millis: 0)),
            ],
            extras: ["note": "line\nbreak", "tab": "\t"]),
        aliases: ["champion", "production"], createdAt: Timestamp.date(millis: 1_764_236_130_123),
        updatedAt: Timestamp.date(millis: 253_402_300_799_999), createdBy: "alice@example.com")

    /// A version with nothing optional set: empty collections, no digest, no lineage.
    static let bare = ModelVersion(
        model: "m", version: 1, status: .pending, createdAt: Timestamp.date(millis: 0), updatedAt: Timestamp.date(millis: 1), createdBy: "")

    /// Optional parts present but empty, and dates outside the years written directly.
    static let partial = ModelVersion(
        model: "m", version: 2, status: .ready, stage: "None", artifactSize: 0, runId: "", description: "",
        lineage: Lineage(
            git: GitInfo(commit: ""), trainingData: [DatasetReference(uri: "", rows: 0)], environment: EnvironmentInfo(),
            deployments: [DeploymentRecord(alias: "old", from: Timestamp.date(millis: -86_400_001))]),
        createdAt: Timestamp.date(millis: -30_000_000_000_000), updatedAt: Timestamp.date(millis: 951_782_400_000), createdBy: "x")

    static let versions = [full, bare, partial]

    static func standard(_ value: some Encodable) throws -> Data {
        try SlipwayJSON.encoder().encode(value)
    }

    @Test("one version: the same values and the same bytes as the standard encoder", arguments: 0..<versions.count)
    func oneVersion(_ index: Int) throws {
        let version = Self.versions[index]
        let fast = Data(try ModelVersionJSON.encode(version))
        let decoded = try SlipwayJSON.decoder().decode(ModelVersion.self, from: fast)
        let expected = try SlipwayJSON.decoder().decode(ModelVersion.self, from: Self.standard(version))
        #expect(decoded == expected)
        #expect(decoded == version)
        #expect(String(decoding: fast, as: UTF8.self) == String(decoding: try Self.standard(version), as: UTF8.self))
    }

    @Test("a page, with and without a next-page token, and an empty page")
    func pages() throws {
        let pages = [
            Page(items: Self.versions, nextPageToken: "eyJvIjoxMDB9"), Page(items: Self.versions, nextPageToken: nil),
            Page<ModelVersion>(items: [], nextPageToken: nil), Page(items: [Self.bare], nextPageToken: "quote\"and\\"),
        ]
        for page in pages {
            let fast = Data(try ModelVersionJSON.encode(page))
            let decoded = try SlipwayJSON.decoder().decode(Page<ModelVersion>.self, from: fast)
            #expect(decoded == page)
            #expect(decoded == (try SlipwayJSON.decoder().decode(Page<ModelVersion>.self, from: Self.standard(page))))
            #expect(fast == (try Self.standard(page)))
        }
    }

    @Test("random versions encode to the standard encoder's document")
    func randomVersions() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aZ_-./ é日😀\"\\\n\t\u{1}0123456789")
        func text(_ maximum: Int) -> String {
            String((0..<Int.random(in: 0...maximum, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        for _ in 0..<300 {
            var metrics: [String: Double] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                let magnitude = Double.random(in: -30...30, using: &generator)
                metrics[text(6)] = Double.random(in: -1...1, using: &generator) * pow(10, magnitude)
            }
            let version = ModelVersion(
                model: text(10), version: Int.random(in: 1...Int.max, using: &generator), status: VersionStatus.allCases.randomElement()!,
                statusMessage: Bool.random() ? text(8) : nil, stage: text(8), artifactDigest: Bool.random() ? Self.digest : nil,
                artifactSize: Bool.random() ? Int64.random(in: 0...Int64.max, using: &generator) : nil, source: text(20),
                runId: Bool.random() ? text(5) : nil, description: text(30),
                tags: Dictionary((0..<Int.random(in: 0...5, using: &generator)).map { _ in (text(6), text(6)) }, uniquingKeysWith: { a, _ in a }),
                lineage: Lineage(
                    modelId: Bool.random() ? text(4) : nil, parameters: [text(4): text(4)], metrics: metrics,
                    trainedBy: Bool.random() ? text(4) : nil, approvedBy: Bool.random() ? [text(3)] : []),
                aliases: Bool.random() ? [text(5)] : [],
                createdAt: Timestamp.date(millis: Int64.random(in: 0...253_402_300_799_999, using: &generator)),
                updatedAt: Timestamp.date(millis: Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator)),
                createdBy: text(6))
            let fast = Data(try ModelVersionJSON.encode(version))
            #expect(try SlipwayJSON.decoder().decode(ModelVersion.self, from: fast) == version)
            #expect(fast == (try Self.standard(version)), "\(String(decoding: fast, as: UTF8.self))")
        }
    }

    @Test("timestamps are written as Timestamp.format writes them")
    func timestamps() {
        var millis: [Int64] = [
            0, 1, 999, 1_000, 86_399_999, 86_400_000, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, 253_402_300_799_999,
            253_402_300_800_000, -1, -86_400_001, -62_135_596_800_000, 1_764_236_130_123,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { millis.append(Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator)) }
        for value in millis {
            let date = Timestamp.date(millis: value)
            #expect(ModelVersionJSON.timestamp(date) == Timestamp.format(date), "\(value) ms")
        }
    }

    @Test("a metric that is not a finite number is refused, as the standard encoder refuses it")
    func nonFiniteMetric() throws {
        for value in [Double.nan, .infinity, -.infinity] {
            var version = Self.bare
            version.lineage.metrics["broken"] = value
            #expect(throws: EncodingError.self) { try ModelVersionJSON.encode(version) }
            #expect(throws: EncodingError.self) { try Self.standard(version) }
        }
    }
}
