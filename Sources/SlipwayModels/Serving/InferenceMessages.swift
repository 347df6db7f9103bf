/// A tensor in an Open Inference Protocol (KServe V2) request.
///
/// `data` may be flat (row-major) or nested like the shape; either way it is read as numbers.
public struct InferenceInputTensor: Sendable, Decodable {
    public var name: String
    public var shape: [Int]
    public var datatype: String
    /// The values, flattened in row-major order.
    public var data: [Double]

    public init(name: String, shape: [Int], datatype: String, data: [Double]) {
        self.name = name
        self.shape = shape
        self.datatype = datatype
        self.data = data
    }

    enum CodingKeys: String, CodingKey { case name, shape, datatype, data }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        shape = try container.decode([Int].self, forKey: .shape)
        datatype = try container.decode(String.self, forKey: .datatype)
        guard InferenceInputTensor.numericTypes.contains(datatype) else {
            throw ModelError.invalidInput(
                "input '\(name)' has datatype \(datatype); send numbers as FP64, FP32, FP16 or an INT/UINT type")
        }
        var values: [Double] = []
        var nested = try container.nestedUnkeyedContainer(forKey: .data)
        try Self.flatten(&nested, into: &values, depth: 1, name: name)
        data = values
    }

    /// The datatypes read as numbers.
    public static let numericTypes: Set<String> = ["FP64", "FP32", "FP16", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"]

    private static func flatten(_ container: inout any UnkeyedDecodingContainer, into values: inout [Double], depth: Int, name: String) throws {
        guard depth <= 8 else { throw ModelError.invalidInput("input '\(name)': data is nested more than 8 levels deep") }
        while !container.isAtEnd {
            if let value = try? container.decode(Double.self) {
                values.append(value)
            } else if var inner = try? container.nestedUnkeyedContainer() {
                try flatten(&inner, into: &values, depth: depth + 1, name: name)
            } else {
                throw ModelError.invalidInput("input '\(name)': data must hold only numbers (or arrays of numbers), item \(values.count) is neither")
            }
        }
    }
}

/// An output the client asks for by name.
public struct InferenceRequestedOutput: Sendable, Decodable {
    public var name: String

    public init(name: String) {
        self.name = name
    }
}

/// An Open Inference Protocol inference request: `{"id", "inputs": [...], "outputs": [...], "parameters"}`.
/// `parameters` is accepted and ignored.
public struct InferenceRequest: Sendable, Decodable {
    public var id: String?
    public var inputs: [InferenceInputTensor]
    public var outputs: [InferenceRequestedOutput]?

    public init(id: String? = nil, inputs: [InferenceInputTensor], outputs: [InferenceRequestedOutput]? = nil) {
        self.id = id
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// The values of an output tensor.
public enum InferenceOutputData: Sendable, Equatable, Encodable {
    case numbers([Double])
    case integers([Int64])
    case strings([String])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .numbers(let values): try container.encode(values)
        case .integers(let values): try container.encode(values)
        case .strings(let values): try container.encode(values)
        }
    }
}

/// A tensor in an inference response.
public struct InferenceOutputTensor: Sendable, Encodable {
    public var name: String
    public var shape: [Int]
    public var datatype: String
    public var data: InferenceOutputData

    public init(name: String, shape: [Int], datatype: String, data: InferenceOutputData) {
        self.name = name
        self.shape = shape
        self.datatype = datatype
        self.data = data
    }
}

/// An Open Inference Protocol inference response.
public struct InferenceResponse: Sendable, Encodable {
    public var modelName: String
    public var modelVersion: String
    public var id: String
    public var outputs: [InferenceOutputTensor]

    public init(modelName: String, modelVersion: String, id: String, outputs: [InferenceOutputTensor]) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.id = id
        self.outputs = outputs
    }

    enum CodingKeys: String, CodingKey {
        case modelName = "model_name"
        case modelVersion = "model_version"
        case id, outputs
    }
}

/// A tensor described in model metadata; `-1` in a shape means any size.
public struct TensorMetadata: Sendable, Codable, Equatable {
    public var name: String
    public var datatype: String
    public var shape: [Int]

    public init(name: String, datatype: String, shape: [Int]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }
}

/// The answer to `GET /v2/models/{name}`.
public struct ModelMetadata: Sendable, Codable, Equatable {
    public var name: String
    public var versions: [String]
    public var platform: String
    public var inputs: [TensorMetadata]
    public var outputs: [TensorMetadata]

    public init(name: String, versions: [String], platform: String, inputs: [TensorMetadata], outputs: [TensorMetadata]) {
        self.name = name
        self.versions = versions
        self.platform = platform
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// The Open Inference Protocol error body: `{"error": "…"}`.
public struct InferenceErrorBody: Sendable, Codable, Equatable {
    public var error: String

    public init(error: String) {
        self.error = error
    }
}
