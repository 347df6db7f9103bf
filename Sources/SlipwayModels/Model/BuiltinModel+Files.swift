public import Foundation

extension BuiltinModel {
    /// The largest model file accepted: a guard against a hostile or mistaken file filling memory.
    public static let maxFileBytes = 512 << 20

    /// Writes `DIR/slipway-model.json`, creating the directory; the file is replaced atomically.
    public func save(to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ModelError.io("cannot create \(directory.path): \(error.localizedDescription)")
        }
        let data: Data
        do {
            data = try Self.encoder().encode(document)
        } catch {
            throw ModelError.invalidModel(path: directory.path, message: "cannot encode the model: \(error)")
        }
        let file = directory.appendingPathComponent(ModelDocument.fileName)
        let temporary = directory.appendingPathComponent(".\(ModelDocument.fileName).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try (data + Data("\n".utf8)).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ModelError.io("cannot write \(temporary.path): \(error.localizedDescription)")
        }
        // rename(2) replaces an existing model atomically: a reader sees the old file or the new one.
        if rename(temporary.path, file.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ModelError.io("cannot write \(file.path): \(reason)")
        }
    }

    /// Loads and checks a model from its directory (or from the `slipway-model.json` file itself).
    ///
    /// - Throws: ``ModelError/invalidModel(path:message:)`` for a missing, oversized, malformed or
    ///   inconsistent file; it never traps on hostile input.
    public static func load(from location: URL) throws -> BuiltinModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location.path, isDirectory: &isDirectory) else {
            throw ModelError.invalidModel(path: location.path, message: "no such model directory; train one with `slipway train … --out DIR`")
        }
        let file = isDirectory.boolValue ? location.appendingPathComponent(ModelDocument.fileName) : location
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        } catch {
            throw ModelError.invalidModel(path: file.path, message: "no model file here; a model directory holds \(ModelDocument.fileName)")
        }
        if let size = attributes[.size] as? NSNumber, size.int64Value > Int64(maxFileBytes) {
            throw ModelError.invalidModel(path: file.path, message: "the file is \(size.int64Value) bytes; model files are at most \(maxFileBytes)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw ModelError.io("cannot read \(file.path): \(error.localizedDescription)")
        }
        return try decode(data, source: file.path)
    }

    /// Decodes and checks a model file's bytes.
    public static func decode(_ data: Data, source: String) throws(ModelError) -> BuiltinModel {
        guard data.count <= maxFileBytes else {
            throw ModelError.invalidModel(path: source, message: "the file is \(data.count) bytes; model files are at most \(maxFileBytes)")
        }
        try ModelValidation.checkNesting(data, source: source)
        let document: ModelDocument
        do {
            document = try JSONDecoder().decode(ModelDocument.self, from: data)
        } catch let error as DecodingError {
            throw ModelError.invalidModel(path: source, message: "not a Slipway model file: \(ModelValidation.describe(error))")
        } catch {
            throw ModelError.invalidModel(path: source, message: "not a Slipway model file: \(error)")
        }
        return try BuiltinModel(document: document, source: source)
    }

    /// The model file's bytes, as ``save(to:)`` writes them.
    public func encoded() throws -> Data {
        try Self.encoder().encode(document)
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}
