import Foundation
import SlipwayRollout

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The diagnostics of a spec, or none when it parses.
func diagnostics(_ yaml: String, file: String = "test.yml", library: [AnalysisTemplate] = []) -> [RolloutDiagnostic] {
    do {
        _ = try RolloutParser().parse(yaml, file: file, library: library)
        return []
    } catch {
        return error.diagnostics
    }
}

/// `line:column: message` of each diagnostic, for readable expectations.
func positions(_ diagnostics: [RolloutDiagnostic]) -> [String] {
    diagnostics.map { "\($0.line):\($0.column)" }
}
