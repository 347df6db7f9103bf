public import Foundation

/// Answers Open Inference Protocol (KServe V2) requests for one built-in model, without any HTTP:
/// the server turns its routes into calls of ``metadata()`` and ``infer(_:)``.
///
/// An inference request carries either one numeric tensor of shape `[N, F]` (features in the
/// model's order), or one tensor per feature, named like the feature, of shape `[N]` or `[N, 1]`.
/// The response has `label` (`[N]`, INT64 when every class label is an integer, else BYTES) and
/// `probabilities` (`[N, C]`, FP64, in class order).
public struct InferenceHandler: Sendable {
    public let model: BuiltinModel
    public let name: String
    public let version: String
    /// The most rows one request may hold.
    public var maxRows = 1_000_000

    public init(model: BuiltinModel, name: String, version: String) {
        self.model = model
        self.name = name
        self.version = version
    }

    /// What `GET /v2/models/{name}` answers.
    public func metadata() -> ModelMetadata {
        ModelMetadata(
            name: name, versions: [version], platform: "slipway",
            inputs: [TensorMetadata(name: "features", datatype: "FP64", shape: [-1, model.featureCount])],
            outputs: [
                TensorMetadata(name: "label", datatype: labelDatatype, shape: [-1]),
                TensorMetadata(name: "probabilities", datatype: "FP64", shape: [-1, model.classLabels.count]),
            ])
    }

    /// The datatype of the `label` output.
    public var labelDatatype: String { integerLabels == nil ? "BYTES" : "INT64" }

    private var integerLabels: [Int64]? {
        let values = model.classLabels.map { Int64($0) }
        return values.allSatisfy { $0 != nil } ? values.map { $0! } : nil
    }

    /// Decodes a request body, predicts and encodes the response.
    ///
    /// - Throws: ``ModelError/invalidInput(_:)`` for malformed JSON or tensors that do not fit the model (a 400).
    public func infer(_ body: Data) throws(ModelError) -> Data {
        let request = try decode(body)
        let response = try infer(request)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return try encoder.encode(response)
        } catch {
            throw ModelError.invalidInput("cannot encode the response: \(error)")
        }
    }

    /// Parses a request body.
    public func decode(_ body: Data) throws(ModelError) -> InferenceRequest {
        guard JSONNesting.depth(of: body, limit: 16) <= 16 else {
            throw ModelError.invalidInput("the request body is nested too deeply")
        }
        do {
            return try JSONDecoder().decode(InferenceRequest.self, from: body)
        } catch let error as ModelError {
            throw error
        } catch let error as DecodingError {
            throw ModelError.invalidInput("malformed inference request: \(ModelValidation.describe(error))")
        } catch {
            throw ModelError.invalidInput("malformed inference request: \(error)")
        }
    }

    /// Predicts for a decoded request.
    public func infer(_ request: InferenceRequest) throws(ModelError) -> InferenceResponse {
        let rows = try features(of: request)
        let predictions = try model.predict(features: rows)
        let n = predictions.count
        let classes = model.classLabels.count
        let labels: InferenceOutputData
        if let integers = integerLabels {
            let index = Dictionary(uniqueKeysWithValues: model.classLabels.enumerated().map { ($1, $0) })
            labels = .integers(predictions.map { integers[index[$0.label]!] })
        } else {
            labels = .strings(predictions.map(\.label))
        }
        var outputs = [
            InferenceOutputTensor(name: "label", shape: [n], datatype: labelDatatype, data: labels),
            InferenceOutputTensor(
                name: "probabilities", shape: [n, classes], datatype: "FP64", data: .numbers(predictions.flatMap(\.probabilities))),
        ]
        if let requested = request.outputs, !requested.isEmpty {
            for output in requested where !outputs.contains(where: { $0.name == output.name }) {
                throw ModelError.invalidInput("unknown output '\(output.name)'; this model has 'label' and 'probabilities'")
            }
            outputs = outputs.filter { output in requested.contains { $0.name == output.name } }
        }
        return InferenceResponse(modelName: name, modelVersion: version, id: request.id ?? UUID().uuidString.lowercased(), outputs: outputs)
    }

    /// The feature rows of a request, from one `[N, F]` tensor or one tensor per feature.
    public func features(of request: InferenceRequest) throws(ModelError) -> [[Double]] {
        let f = model.featureCount
        guard !request.inputs.isEmpty else { throw ModelError.invalidInput("the request has no inputs") }
        for tensor in request.inputs {
            guard tensor.shape.allSatisfy({ $0 >= 0 }) else {
                throw ModelError.invalidInput("input '\(tensor.name)' has a negative dimension in shape \(tensor.shape)")
            }
            var product = 1
            for d in tensor.shape {
                let (next, overflow) = product.multipliedReportingOverflow(by: d)
                guard !overflow else { throw ModelError.invalidInput("input '\(tensor.name)' has an impossible shape \(tensor.shape)") }
                product = next
            }
            guard product == tensor.data.count else {
                throw ModelError.invalidInput(
                    "input '\(tensor.name)' has shape \(tensor.shape), which needs \(product) values, but data holds \(tensor.data.count)")
            }
            if let bad = tensor.data.first(where: { !$0.isFinite }) {
                throw ModelError.invalidInput("input '\(tensor.name)' holds \(bad); values must be finite")
            }
        }
        if request.inputs.count == 1, let tensor = request.inputs.first, tensor.shape.count == 2 {
            guard tensor.shape[1] == f else {
                throw ModelError.invalidInput(
                    "input '\(tensor.name)' has shape \(tensor.shape); the model takes [N, \(f)] (\(BuiltinModel.preview(model.featureNames)))")
            }
            let n = tensor.shape[0]
            guard n <= maxRows else { throw ModelError.invalidInput("\(n) rows in one request; the limit is \(maxRows)") }
            return (0..<n).map { Array(tensor.data[($0 * f)..<($0 * f + f)]) }
        }
        // One tensor per feature.
        guard request.inputs.count == f else {
            throw ModelError.invalidInput(
                "send one input of shape [N, \(f)], or one input per feature (\(f): \(BuiltinModel.preview(model.featureNames))) of shape [N]; got \(request.inputs.count) inputs"
            )
        }
        let position = Dictionary(uniqueKeysWithValues: model.featureNames.enumerated().map { ($1, $0) })
        var columns = [[Double]?](repeating: nil, count: f)
        var n: Int?
        for tensor in request.inputs {
            guard let j = position[tensor.name] else {
                throw ModelError.invalidInput("input '\(tensor.name)' is not a feature of this model (\(BuiltinModel.preview(model.featureNames)))")
            }
            guard columns[j] == nil else { throw ModelError.invalidInput("input '\(tensor.name)' is given twice") }
            guard tensor.shape.count == 1 || (tensor.shape.count == 2 && tensor.shape[1] == 1) else {
                throw ModelError.invalidInput("input '\(tensor.name)' has shape \(tensor.shape); a per-feature input has shape [N] or [N, 1]")
            }
            guard n == nil || n == tensor.shape[0] else {
                throw ModelError.invalidInput("input '\(tensor.name)' has \(tensor.shape[0]) rows, but another input has \(n!)")
            }
            n = tensor.shape[0]
            columns[j] = tensor.data
        }
        let rows = n ?? 0
        guard rows <= maxRows else { throw ModelError.invalidInput("\(rows) rows in one request; the limit is \(maxRows)") }
        return (0..<rows).map { i in (0..<f).map { columns[$0]![i] } }
    }
}

/// Measures how deeply JSON arrays and objects nest, without parsing the document.
enum JSONNesting {
    /// The deepest nesting, or a number above `limit` as soon as it is passed.
    static func depth(of data: Data, limit: Int) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for byte in data {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
                if deepest > limit { return deepest }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}
