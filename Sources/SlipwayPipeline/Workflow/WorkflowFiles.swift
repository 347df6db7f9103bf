import Foundation
public import SlipwayCore
import Yams

/// Finds workflow files in a project: `.slipway/workflows/*.yml|yaml`, then
/// `.github/workflows/*.yml|yaml`.
///
/// ```swift
/// let files = WorkflowFiles.discover(projectRoot: root)          // [".slipway/workflows/ml.yml", …]
/// let file = try WorkflowFiles.resolve(name: "ML pipeline", projectRoot: root)
/// ```
public enum WorkflowFiles {
    /// The folders searched, in order of precedence.
    public static let folders = [".slipway/workflows", ".github/workflows"]

    /// The workflow files of the project, relative to `projectRoot`: those of `.slipway/workflows`
    /// sorted by name, then those of `.github/workflows` sorted by name. Hidden files and folders
    /// are skipped; missing folders contribute nothing.
    public static func discover(projectRoot: String) -> [String] {
        let fileManager = FileManager.default
        var result: [String] = []
        for folder in folders {
            let path = (projectRoot as NSString).appendingPathComponent(folder)
            guard let names = try? fileManager.contentsOfDirectory(atPath: path) else { continue }
            for name in names.sorted() where !name.hasPrefix(".") && (name.hasSuffix(".yml") || name.hasSuffix(".yaml")) {
                var isDirectory: ObjCBool = false
                let full = (path as NSString).appendingPathComponent(name)
                guard fileManager.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                result.append("\(folder)/\(name)")
            }
        }
        return result
    }

    /// The workflow file meant by `name`, relative to `projectRoot` (or absolute when `name` is an
    /// absolute path outside it). `name` may be a path to the file (absolute, or relative to the
    /// project), a file name with or without `.yml`/`.yaml` (`.slipway/workflows` wins over
    /// `.github/workflows`), or the workflow's `name:`.
    /// - Throws: `GenericError` (`notFound`) listing the workflows that exist, or
    ///   (`invalidArgument`) when a `name:` is shared by several files.
    public static func resolve(name: String, projectRoot: String) throws(GenericError) -> String {
        let fileManager = FileManager.default
        let discovered = discover(projectRoot: projectRoot)
        let trimmed = name.workflowTrimmed
        guard !trimmed.isEmpty else {
            throw GenericError(.invalidArgument, "name a workflow; \(listing(discovered, projectRoot: projectRoot))")
        }
        // A path.
        if trimmed.contains("/") || trimmed.hasSuffix(".yml") || trimmed.hasSuffix(".yaml") {
            if trimmed.hasPrefix("/") {
                if fileManager.fileExists(atPath: trimmed) { return relative(trimmed, to: projectRoot) }
            } else {
                let normalized = trimmed.hasPrefix("./") ? String(trimmed.dropFirst(2)) : trimmed
                let full = (projectRoot as NSString).appendingPathComponent(normalized)
                if fileManager.fileExists(atPath: full) { return normalized }
            }
        }
        // A file name, with or without its extension.
        let byFile = discovered.filter { path in
            let file = (path as NSString).lastPathComponent
            return file == trimmed || (file as NSString).deletingPathExtension == trimmed
        }
        if let first = byFile.first { return first }
        // A workflow's `name:`.
        let named = discovered.map { ($0, declaredName(of: $0, projectRoot: projectRoot)) }
        var byName = named.filter { $0.1 == trimmed }.map(\.0)
        if byName.isEmpty { byName = named.filter { $0.1?.lowercased() == trimmed.lowercased() }.map(\.0) }
        if byName.count == 1 { return byName[0] }
        if byName.count > 1 {
            throw GenericError(
                .invalidArgument,
                "several workflows are named '\(trimmed)' (\(byName.joined(separator: ", "))); name the file instead")
        }
        throw GenericError(.notFound, "no workflow '\(trimmed)'; \(listing(discovered, projectRoot: projectRoot))")
    }

    /// The workflows that exist, for error messages.
    static func listing(_ discovered: [String], projectRoot: String) -> String {
        guard !discovered.isEmpty else {
            return
                "the project has no workflows (looked in \(folders.joined(separator: " and ")) under \(projectRoot)); "
                    + "write one as .slipway/workflows/NAME.yml"
        }
        let lines = discovered.map { path -> String in
            if let name = declaredName(of: path, projectRoot: projectRoot) { return "  \(path) (\(name))" }
            return "  \(path)"
        }
        return "the workflows are:\n\(lines.joined(separator: "\n"))"
    }

    /// The top-level `name:` of a workflow file, read without checking the rest; nil if unreadable.
    static func declaredName(of path: String, projectRoot: String) -> String? {
        let full = (projectRoot as NSString).appendingPathComponent(path)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: full),
            let size = attributes[.size] as? NSNumber, size.intValue <= YAMLGuard.maximumBytes,
            let text = try? String(contentsOfFile: full, encoding: .utf8), YAMLGuard.check(text) == nil,
            let root = try? Parser(yaml: text).singleRoot(), case .mapping(let mapping) = root
        else { return nil }
        for (key, value) in mapping where key.string == "name" {
            if case .scalar(let scalar) = value { return scalar.string }
        }
        return nil
    }

    static func relative(_ path: String, to root: String) -> String {
        let standardRoot = (root as NSString).standardizingPath
        let standardPath = (path as NSString).standardizingPath
        let prefix = standardRoot.hasSuffix("/") ? standardRoot : standardRoot + "/"
        return standardPath.hasPrefix(prefix) ? String(standardPath.dropFirst(prefix.count)) : standardPath
    }
}
