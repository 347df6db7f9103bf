import Foundation
import SlipwayCore
import SlipwayStore

/// The model folders of supervised replicas (`$MODEL_DIR`): each version's artifact written out once
/// under `<data-dir>/runtime/models/<digest>/`, shared by every replica and restart that serves it.
///
/// A folder artifact becomes the folder itself; a single file goes inside it under the name it was
/// registered from. Every byte comes through the artifact store's verified reads, into a temporary
/// sibling that is renamed into place at the end, so a folder under its final name is always whole.
struct ModelFolders: Sendable {
    let root: URL
    let artifacts: any ArtifactStore

    /// The folder of an artifact, written out first if it is not there yet.
    ///
    /// - Throws: ``ModelFolderFailure`` saying what went wrong (a version without an artifact, a
    ///   missing or corrupted object, a full disk).
    func prepare(_ spec: ReplicaSpec) async throws(ModelFolderFailure) -> String {
        guard let digest = spec.artifact else {
            throw ModelFolderFailure(
                message: "\(spec.modelVersion) has no stored artifact, so there is nothing to serve; register a version with --artifact")
        }
        let destination = root.appendingPathComponent(digest.hex).path
        if FileManager.default.fileExists(atPath: destination) { return destination }
        let temporary = root.appendingPathComponent(".\(digest.hex).\(UUID().uuidString.lowercased()).partial").path
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            if try await artifacts.manifest(digest) != nil {
                try await artifacts.materialize(digest, to: URL(fileURLWithPath: temporary))
            } else {
                try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
                try await artifacts.materialize(digest, to: URL(fileURLWithPath: temporary).appendingPathComponent(spec.artifactFileName))
            }
            if rename(temporary, destination) != 0 {
                let code = errno
                try? FileManager.default.removeItem(atPath: temporary)
                // Another start of the same artifact got there first.
                if FileManager.default.fileExists(atPath: destination) { return destination }
                throw ModelFolderFailure(message: "cannot move the model folder into \(destination): \(String(cString: strerror(code)))")
            }
            return destination
        } catch let failure as ModelFolderFailure {
            throw failure
        } catch let error as any SlipwayError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ModelFolderFailure(message: "cannot write the artifact of \(spec.modelVersion) to \(destination): \(error.message)")
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ModelFolderFailure(message: "cannot write the artifact of \(spec.modelVersion) to \(destination): \(error.localizedDescription)")
        }
    }

    /// The file name a single-file artifact gets: the last component of the path it was registered
    /// from when that is a plain name, otherwise `model`.
    static func fileName(fromSource source: String) -> String {
        let name = source.split(separator: "/").last.map(String.init) ?? ""
        let plain =
            !name.isEmpty && name != "." && name != ".." && name.utf8.count <= 200 && !name.contains(":")
            && name.unicodeScalars.allSatisfy { !CharacterSet.controlCharacters.contains($0) }
        return plain ? name : "model"
    }
}
