import ArgumentParser
import SlipwayRegistry
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayData
import SlipwayStore

struct VersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "Register, list, show, download, tag and delete model versions.",
        subcommands: [Create.self, List.self, Show.self, Download.self, Tag.self, Untag.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", 
            abstract: "Register the next version of a model with its artifact and lineage.",
            discussion: """
                The artifact (a file or a folder) is stored by content digest. The git commit of the current \
                folder and the machine's environment are recorded by themselves; --lineage adds what a team \
                writes down (data, parameters, metrics, image, people), and --param/--metric add to it.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The registered model.") var model: String
        @Option(name: .long, help: "The model file or folder.") var artifact: String?
        @Option(name: .long, help: "A lineage YAML file (see docs/registry.md).") var lineage: String?
        @Option(name: .long, help: "A hyper-parameter as key=value (repeatable).") var param: [String] = []
        @Option(name: .long, help: "A metric as key=number (repeatable).") var metric: [String] = []
        @Option(name: .long, help: "A tag as key=value (repeatable).") var tag: [String] = []
        @Option(name: .long, help: "A description.") var description: String = ""
        @Option(name: .long, help: "Where the model came from, when there is no --artifact (a URI).") var source: String?
        @Option(
            name: .long,
            help: "Training data tracked with `slipway data add` (PATH or PATH.slipway, repeatable): registered as a dataset and recorded in the lineage."
        ) var data: [String] = []
        @Option(name: .long, help: "With --data: a column holding each row's time, for the data's date range.") var timeColumn: String?
        @Flag(name: .long, help: "Do not record the git commit and the environment.") var noProbe = false

        func run() async throws {
            try await Output.run(json: global.json) {
                guard artifact != nil || source != nil else {
                    throw GenericError(.invalidArgument, "give --artifact PATH (a file or folder) or --source URI")
                }
                var lineage = try self.lineage.map(LineageFile.load) ?? Lineage()
                for (key, value) in try keyValues(param, what: "--param") { lineage.parameters[key] = value }
                for (key, text) in try keyValues(metric, what: "--metric") {
                    guard let value = Double(text), value.isFinite else {
                        throw GenericError(.invalidArgument, "--metric \(key)=\(text): the value must be a finite number")
                    }
                    lineage.metrics[key] = value
                }
                if !noProbe {
                    let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
                    if lineage.git == nil { lineage.git = LineageProbe.git(in: here) }
                    if lineage.environment == nil { lineage.environment = LineageProbe.environment() }
                }
                let client = try global.client()
                if lineage.trainedBy == nil { lineage.trainedBy = try await client.whoami().name }
                if !data.isEmpty {
                    let workspace = try DataWorkspace.find(from: FileManager.default.currentDirectoryPath)
                    // Every path is checked before anything is registered.
                    let drafts = try data.map { try workspace.newDataset($0, timeColumn: timeColumn) }
                    for draft in drafts {
                        let dataset = try await client.registerDataset(draft)
                        lineage.trainingData.removeAll { $0.digest == dataset.digest }
                        lineage.trainingData.append(dataset.reference)
                    }
                }
                var draft = NewVersion(
                    model: model, source: source ?? "", description: description, tags: try keyValues(tag, what: "--tag"), lineage: lineage)
                if let artifact {
                    _ = try await client.model(model)
                    let url = URL(fileURLWithPath: artifact)
                    let bar = ProgressBar(label: "upload", enabled: !global.json)
                    let object = try await client.uploadArtifact(at: url, progress: { bar.update($0, $1) })
                    bar.finish()
                    draft.artifactDigest = object.digest
                    if draft.source.isEmpty { draft.source = url.standardizedFileURL.path }
                }
                let version = try await client.createVersion(draft)
                if global.json { Output.json(version) } else {
                    Output.line("Registered \(version.reference) (\(version.status.rawValue), artifact \(version.artifactDigest?.short ?? "none")).")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the versions of a model, newest first.")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Option(name: .long, help: "At most this many (1-10000).") var limit: Int = 100
        @Option(name: .long, help: "The token of the next page.") var pageToken: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let client = try global.client()
                _ = try await client.model(model)
                let escaped = model.replacingOccurrences(of: "'", with: "\\'")
                let page = try await client.searchVersions(
                    filter: "name = '\(escaped)'", orderBy: ["version_number DESC"], limit: limit, pageToken: pageToken)
                if global.json { Output.json(page); return }
                VersionsCommand.printTable(page.items)
                if let next = page.nextPageToken { Output.note("more: --page-token \(next)") }
            }
        }
    }

    static func printTable(_ versions: [ModelVersion]) {
        Output.table(
            ["MODEL", "VERSION", "STATUS", "STAGE", "ALIASES", "ARTIFACT", "CREATED", "BY"],
            versions.map {
                [
                    $0.model, String($0.version), $0.status.rawValue, $0.stage, $0.aliases.sorted().joined(separator: ","),
                    $0.artifactDigest?.short ?? "-", Output.date($0.createdAt), $0.createdBy,
                ]
            })
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a version with its whole lineage.")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument(help: "A version number, 'latest' or an alias.") var version: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let v = try await global.client().version(model, version)
                if global.json { Output.json(v); return }
                VersionsCommand.describe(v)
            }
        }
    }

    static func describe(_ v: ModelVersion) {
        Output.line("Version:     \(v.reference)  \(v.status.rawValue)  stage \(v.stage)")
        if !v.aliases.isEmpty { Output.line("Aliases:     \(v.aliases.sorted().joined(separator: ", "))") }
        Output.line("Artifact:    \(v.artifactDigest?.description ?? "none") (\(ProgressBar.size(v.artifactSize ?? 0)))")
        Output.line("Source:      \(v.source)")
        Output.line("Registered:  \(Output.date(v.createdAt)) by \(v.createdBy)")
        let l = v.lineage
        if let git = l.git {
            Output.line("Git:         \(git.commit)\(git.branch.map { " (\($0))" } ?? "")\(git.dirty == true ? " dirty" : "")\(git.repository.map { " \($0)" } ?? "")")
        }
        for data in l.trainingData {
            var parts = [data.uri]
            if let d = data.digest { parts.append(d.description) }
            if let rows = data.rows { parts.append("\(rows) rows") }
            if data.dateFrom != nil || data.dateTo != nil { parts.append("\(data.dateFrom ?? "?")..\(data.dateTo ?? "?")") }
            Output.line("Data:        \(parts.joined(separator: "  "))")
        }
        if !l.parameters.isEmpty { Output.line("Parameters:  \(l.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))") }
        if !l.metrics.isEmpty { Output.line("Metrics:     \(l.metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))") }
        if let env = l.environment {
            let libs = env.libraries.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            Output.line("Environment: \([env.os, env.architecture, env.language, env.languageVersion, env.cuda.map { "cuda \($0)" }].compactMap { $0 }.joined(separator: ", "))\(libs.isEmpty ? "" : "; " + libs.joined(separator: ", "))")
        }
        if let image = l.containerImage { Output.line("Image:       \(image)") }
        if let by = l.trainedBy { Output.line("Trained by:  \(by)") }
        if !l.approvedBy.isEmpty { Output.line("Approved by: \(l.approvedBy.joined(separator: ", "))") }
        for d in l.deployments {
            Output.line("Deployed:    \(d.alias) from \(Output.date(d.from))\(d.until.map { " until \(Output.date($0))" } ?? " (live)")")
        }
        for (k, value) in l.extras.sorted(by: { $0.key < $1.key }) { Output.line("Extra:       \(k)=\(value)") }
        for (k, value) in v.tags.sorted(by: { $0.key < $1.key }) { Output.line("Tag:         \(k)=\(value)") }
        if !v.description.isEmpty { Output.line("Description: \(v.description)") }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "download", abstract: "Download a version's artifact (verified by digest).")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument(help: "A version number, 'latest' or an alias.") var version: String
        @Option(name: .long, help: "Where to write the file or folder (must not exist).") var out: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let client = try global.client()
                let v = try await client.version(model, version)
                guard let digest = v.artifactDigest else {
                    throw GenericError(.failedPrecondition, "\(v.reference) has no stored artifact (its source is \(v.source))")
                }
                let destination = URL(fileURLWithPath: out)
                if FileManager.default.fileExists(atPath: destination.path) {
                    throw GenericError(.alreadyExists, "\(out) already exists; choose another --out")
                }
                let bar = ProgressBar(label: "download", enabled: !global.json)
                try await client.downloadArtifact(digest, to: destination, progress: { bar.update($0, $1) })
                bar.finish()
                struct Result: Encodable {
                    var model: String
                    var version: Int
                    var digest: Digest
                    var path: String
                }
                if global.json {
                    Output.json(Result(model: v.model, version: v.version, digest: digest, path: destination.path))
                } else {
                    Output.line("Downloaded \(v.reference) (\(digest.short)) to \(out).")
                }
            }
        }
    }

    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tag", abstract: "Set a version tag (release tags like v2.1.0 can be set once).")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument var version: Int
        @Argument(help: "key=value") var pair: String

        func run() async throws {
            try await Output.run(json: global.json) {
                let (key, value) = try keyValues([pair], what: "tag").first!
                try await global.client().setVersionTag(model, version, key: key, value: value)
                if global.json { Output.json(["model": model, "version": String(version), "key": key, "value": value]) } else {
                    Output.line("Tagged \(model)@\(version) \(key)=\(value).")
                }
            }
        }
    }

    struct Untag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "untag", abstract: "Remove a version tag.")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument var version: Int
        @Argument var key: String

        func run() async throws {
            try await Output.run(json: global.json) {
                try await global.client().deleteVersionTag(model, version, key: key)
                if global.json { Output.json(["model": model, "version": String(version), "key": key]) } else {
                    Output.line("Removed tag \(key) from \(model)@\(version).")
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a version (refused while an alias points at it).")
        @OptionGroup var global: GlobalOptions
        @Argument var model: String
        @Argument var version: Int

        func run() async throws {
            try await Output.run(json: global.json) {
                try await global.client().deleteVersion(model, version)
                if global.json { Output.json(["model": model, "deleted": String(version)]) } else { Output.line("Deleted \(model)@\(version).") }
            }
        }
    }
}
