public import Foundation
public import SlipwayCore

extension DataWorkspace {
    /// The dataset a tracked path registers as: the digest, size and file count of its pointer, and the
    /// profile of the data in the workspace (rows, columns, the time column's range).
    /// - Parameters:
    ///   - argument: the data path or its `.slipway` pointer, relative to `directory`.
    ///   - timeColumn: a column whose first and last values become the dataset's date range.
    /// - Throws: when the path is not tracked, its pointer is corrupt, or the data in the workspace is
    ///   missing or no longer what the pointer says (the profile would describe other data).
    public func newDataset(
        _ argument: String, timeColumn: String? = nil, description: String? = nil,
        from directory: String = FileManager.default.currentDirectoryPath
    ) throws -> NewDataset {
        let tracked = try tracked(argument, from: directory)
        let pointer = try pointer(of: tracked)
        let url = URL(fileURLWithPath: tracked.path)
        if pointer.kind == .file {
            let size = (try? FileManager.default.attributesOfItem(atPath: tracked.path)[.size] as? NSNumber)?.int64Value
            guard let size else {
                throw GenericError(.notFound, "'\(tracked.relative)' is not in the workspace; run `slipway data checkout \(tracked.relative)` first")
            }
            guard size == pointer.size else {
                throw GenericError(
                    .failedPrecondition,
                    "'\(tracked.relative)' has changed since its pointer was written (\(size) bytes, the pointer says \(pointer.size)); run `slipway data add \(tracked.relative)` or `slipway data checkout \(tracked.relative)` first"
                )
            }
        }
        let profile = try DatasetProfile.profile(of: url, timeColumn: timeColumn)
        return NewDataset(
            name: tracked.relative, digest: pointer.digest, kind: pointer.kind.rawValue, size: pointer.size, files: pointer.files,
            rows: profile.rows, columns: profile.columns, timeColumn: timeColumn, dateFrom: profile.dateFrom, dateTo: profile.dateTo,
            description: description)
    }
}
