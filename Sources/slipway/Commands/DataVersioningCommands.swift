import ArgumentParser
import Foundation
import SlipwayCore
import SlipwayData

/// Parses `--link`.
private func parseLink(_ text: String) throws -> LinkStrategy {
    guard let strategy = LinkStrategy(rawValue: text) else {
        throw ValidationError("--link must be one of \(LinkStrategy.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
    }
    return strategy
}

/// The remotes as `remote list --json` prints them.
private struct RemoteList: Encodable {
    var remotes: [String: String]
    var `default`: String?
}

/// The workspace of the current folder.
private func workspace() throws -> DataWorkspace {
    try DataWorkspace.find(from: FileManager.default.currentDirectoryPath)
}

/// The bearer token for a server remote: --token, else SLIPWAY_TOKEN.
private func remoteToken(_ global: GlobalOptions) -> String? {
    global.token ?? ProcessInfo.processInfo.environment["SLIPWAY_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
}

/// `slipway data add PATH…`
struct DataAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Track files or folders: hash them into the cache and write PATH.slipway pointers to commit.",
        discussion: "Unchanged files (same device, inode, size and modification time) are not hashed again. PATH is added to the .gitignore next to it."
    )

    @Argument(help: "Files or folders inside the project.") var paths: [String]
    @Option(
        name: .long,
        help: "How the cache and the workspace share the data: auto, reflink, hardlink, symlink or copy (default: data.link in .slipway/config.yml, else auto).",
        transform: parseLink)
    var link: LinkStrategy?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Output.run(json: global.json) {
            let bar = DataProgressBar(json: global.json)
            let report = try workspace().add(paths, link: link, progress: bar.handler)
            bar.finish("added \(report.paths.count) path(s): hashed \(report.hashedFiles) of \(report.scannedFiles) file(s), link \(report.link)")
            if global.json { return Output.json(report) }
            for entry in report.paths {
                Output.line(
                    "\(entry.pointerFile): \(entry.pointer.kind.rawValue) \(entry.pointer.digest.short) \(ProgressBar.size(entry.pointer.size)), "
                        + "\(entry.pointer.files) file(s), \(entry.newObjects) new in the cache")
            }
            Output.line("Commit the pointer file(s) with git; 'slipway data push' sends the data to a remote.")
        }
    }
}

/// `slipway data status [PATH…]`
struct DataStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show what changed in tracked data since each pointer.")

    @Argument(help: "Tracked paths or pointer files (default: every pointer in the project).") var paths: [String] = []
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Output.run(json: global.json) {
            let bar = DataProgressBar(json: global.json)
            let statuses = try workspace().status(paths, progress: bar.handler)
            bar.finish("checked \(statuses.count) tracked path(s), hashed \(statuses.reduce(0) { $0 + $1.hashedFiles }) file(s)")
            if global.json { return Output.json(["paths": statuses]) }
            if statuses.isEmpty { return Output.line("No tracked data: run 'slipway data add PATH'.") }
            for status in statuses {
                Output.line("\(status.path): \(status.state)")
                for path in status.added { Output.line("    added:    \(path)") }
                for path in status.modified { Output.line("    modified: \(path)") }
                for path in status.deleted where status.state != "deleted" { Output.line("    deleted:  \(path)") }
            }
        }
    }
}

/// `slipway data checkout [PATH…]`
struct DataCheckoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout", abstract: "Restore tracked data from the pointers, from the cache (objects are verified first).")

    @Argument(help: "Tracked paths or pointer files (default: every pointer in the project).") var paths: [String] = []
    @Option(name: .long, help: "auto, reflink, hardlink, symlink or copy.", transform: parseLink) var link: LinkStrategy?
    @Flag(name: .long, help: "Overwrite files with changes that are not in their pointer, and remove extra files in tracked folders.") var force = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Output.run(json: global.json) {
            let bar = DataProgressBar(json: global.json)
            let report = try workspace().checkout(paths, link: link, force: force, progress: bar.handler)
            bar.finish("checked out \(report.restored.count) file(s), \(report.unchanged) already up to date")
            if global.json { return Output.json(report) }
            for path in report.restored { Output.line("restored \(path)") }
            for path in report.removed { Output.line("removed  \(path)") }
            Output.line("\(report.restored.count) restored, \(report.removed.count) removed, \(report.unchanged) unchanged (link \(report.link))")
        }
    }
}

/// `slipway data diff REV1 [REV2]`
struct DataDiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "List data files added, removed and changed between two git revisions, or a revision and the workspace.")

    @Argument(help: "The older git revision.") var from: String
    @Argument(help: "The newer git revision (default: the workspace).") var to: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Output.run(json: global.json) {
            let changes = try workspace().diff(from: from, to: to)
            if global.json { return Output.json(["changes": changes]) }
            if changes.isEmpty { return Output.line("No data changes.") }
            Output.table(
                ["CHANGE", "PATH", "OLD SIZE", "NEW SIZE"],
                changes.map { [$0.change, $0.path, $0.oldSize.map(ProgressBar.size) ?? "-", $0.newSize.map(ProgressBar.size) ?? "-"] })
        }
    }
}

/// `slipway data ls [PATH.slipway…]`
struct DataListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the files of tracked data with sizes and digests.")

    @Argument(help: "Tracked paths or pointer files (default: every pointer in the project).") var paths: [String] = []
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Output.run(json: global.json) {
            let files = try workspace().list(paths)
            if global.json { return Output.json(["files": files]) }
            Output.table(["PATH", "SIZE", "DIGEST"], files.map { [$0.path, ProgressBar.size($0.size), $0.digest.description] })
        }
    }
}

/// `slipway data gc`
struct DataGarbageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gc", abstract: "Remove cache objects that no pointer in the workspace references.")

    @Flag(name: .long, help: "Only report what would be removed.") var dryRun = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Output.run(json: global.json) {
            let report = try workspace().collectGarbage(dryRun: dryRun)
            if global.json { return Output.json(report) }
            Output.line(
                "\(dryRun ? "Would remove" : "Removed") \(report.removedObjects) object(s), \(ProgressBar.size(report.removedBytes)); "
                    + "\(report.keptObjects) in use")
        }
    }
}

/// `slipway data remote add|list|remove`
struct DataRemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote", abstract: "Configure where data is pushed to and pulled from.", subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", 
            abstract: "Add a remote: a folder path or an http(s):// Slipway server (its token comes from SLIPWAY_TOKEN).")
        @Argument(help: "The remote's name.") var name: String
        @Argument(help: "A folder path or an http(s):// Slipway server URL.") var url: String
        @Flag(name: .long, help: "Make it the default remote (the first remote is the default anyway).") var `default` = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Output.run(json: global.json) {
                guard name.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", options: .regularExpression) != nil else {
                    throw DataError(.invalidArgument, "remote name '\(name)' must be letters, digits, '.', '_' or '-' (up to 64)")
                }
                let workspace = try workspace()
                _ = try DataWorkspace.remote(url: url, root: workspace.root, token: nil)
                var settings = workspace.settings
                settings.remotes[name] = url
                if self.default || settings.remote == nil { settings.remote = name }
                try settings.save(to: workspace.configPath)
                if global.json { return Output.json(["name": name, "url": url, "default": settings.remote ?? ""]) }
                Output.line("Remote '\(name)' → \(url)\(settings.remote == name ? " (default)" : "")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the remotes.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Output.run(json: global.json) {
                let settings = try workspace().settings
                if global.json { return Output.json(RemoteList(remotes: settings.remotes, default: settings.remote)) }
                Output.table(["NAME", "URL", "DEFAULT"], settings.remotes.sorted { $0.key < $1.key }.map { [$0.key, $0.value, $0.key == settings.remote ? "yes" : ""] })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a remote (its data is left alone).")
        @Argument(help: "The remote's name.") var name: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Output.run(json: global.json) {
                let workspace = try workspace()
                var settings = workspace.settings
                guard settings.remotes.removeValue(forKey: name) != nil else {
                    throw DataError(.notFound, "remote '\(name)' is not configured; 'slipway data remote list' shows the remotes")
                }
                if settings.remote == name { settings.remote = nil }
                try settings.save(to: workspace.configPath)
                if global.json { return Output.json(["removed": name]) }
                Output.line("Removed remote '\(name)'")
            }
        }
    }
}

/// Options shared by push, pull and fetch.
struct DataTransferOptions: ParsableArguments {
    @Option(name: .long, help: "The remote's name (default: data.remote in .slipway/config.yml).") var remote: String?
    @Argument(help: "Tracked paths or pointer files (default: every pointer in the project).") var paths: [String] = []
}

private func describe(_ report: TransferReport, verb: String) -> String {
    "\(verb) \(report.transferred) object(s), \(ProgressBar.size(report.bytes)); \(report.present) of \(report.objects) were already there"
}

/// Moves objects between the project and its remote with a progress bar; prints the report as JSON or a sentence.
private func transfer(
    _ global: GlobalOptions, _ options: DataTransferOptions, verb: String,
    _ move: @escaping (DataWorkspace, any DataRemote, DataProgressHandler?) async throws -> TransferReport
) async throws {
    try await Output.run(json: global.json) {
        let workspace = try workspace()
        let remote = try workspace.remote(named: options.remote, token: remoteToken(global))
        let bar = DataProgressBar(json: global.json)
        let report = try await move(workspace, remote, bar.handler)
        bar.finish(describe(report, verb: verb))
        if global.json { return Output.json(report) }
        Output.line(describe(report, verb: verb.prefix(1).uppercased() + verb.dropFirst()))
    }
}

/// `slipway data push`
struct DataPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Send the data of tracked paths to a remote (only objects it lacks, 8 at a time, verified on arrival).")
    @OptionGroup var options: DataTransferOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await transfer(global, options, verb: "pushed") { workspace, remote, progress in
            try await workspace.push(options.paths, to: remote, progress: progress)
        }
    }
}

/// `slipway data fetch`
struct DataFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch", abstract: "Bring the data of tracked paths from a remote into the cache (verified), without touching the workspace.")
    @OptionGroup var options: DataTransferOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await transfer(global, options, verb: "fetched") { workspace, remote, progress in
            try await workspace.fetch(options.paths, from: remote, progress: progress)
        }
    }
}

/// `slipway data pull`
struct DataPullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Fetch the data of tracked paths, then check it out.")
    @OptionGroup var options: DataTransferOptions
    @Option(name: .long, help: "auto, reflink, hardlink, symlink or copy.", transform: parseLink) var link: LinkStrategy?
    @Flag(name: .long, help: "Overwrite local changes.") var force = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Output.run(json: global.json) {
            let workspace = try workspace()
            let remote = try workspace.remote(named: options.remote, token: remoteToken(global))
            let bar = DataProgressBar(json: global.json)
            let report = try await workspace.pull(options.paths, from: remote, link: link, force: force, progress: bar.handler)
            bar.finish(describe(report, verb: "pulled"))
            if global.json { return Output.json(report) }
            Output.line(describe(report, verb: "Fetched"))
            if let checkout = report.checkout {
                Output.line("\(checkout.restored.count) file(s) restored, \(checkout.unchanged) unchanged")
            }
        }
    }
}
