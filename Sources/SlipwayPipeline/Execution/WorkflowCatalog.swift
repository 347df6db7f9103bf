public import Foundation

/// The workflow files of a project: `.slipway/workflows/*.yml` and `.github/workflows/*.yml` (and `.yaml`).
public struct WorkflowCatalog: Sendable {
    /// A workflow file, parsed or not.
    public struct Entry: Sendable {
        /// The path relative to the project.
        public var file: String
        public var workflow: Workflow?
        public var errors: WorkflowErrors?
    }

    public var entries: [Entry]

    /// Reads and parses every workflow file of `project`.
    public static func load(project: URL) -> WorkflowCatalog {
        let files = WorkflowFiles.discover(projectRoot: project.path)
        return WorkflowCatalog(entries: files.map { parse(file: $0, at: project.appendingPathComponent($0)) })
    }

    /// Parses one file (`file` is the path shown in messages).
    public static func parse(file: String, at url: URL) -> Entry {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return Entry(file: file, errors: WorkflowErrors([WorkflowDiagnostic(file: file, line: 1, column: 1, message: "cannot read the file")]))
        }
        do {
            return Entry(file: file, workflow: try WorkflowParser.parse(file: file, source: String(decoding: data, as: UTF8.self)))
        } catch {
            return Entry(file: file, errors: error)
        }
    }

    /// The entry a user names: a file name (`ci.yml`), a path relative to the project or the current folder, or a `name:`.
    public func find(_ reference: String, project: URL) -> Entry? {
        let standardized = URL(fileURLWithPath: reference, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
        for entry in entries {
            let full = project.appendingPathComponent(entry.file).standardizedFileURL.path
            if entry.file == reference || full == standardized { return entry }
        }
        if let byName = entries.first(where: { ($0.file as NSString).lastPathComponent == reference }) { return byName }
        let stem = entries.filter { (($0.file as NSString).lastPathComponent as NSString).deletingPathExtension == reference }
        if stem.count == 1 { return stem[0] }
        return entries.first { $0.workflow?.name == reference }
    }
}
