/// A value in a workflow expression (`${{ … }}`): the JSON-like values of GitHub's expression
/// language. Objects keep their keys in insertion order, as `toJSON` prints them.
public indirect enum ExpressionValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([ExpressionValue])
    case object(ExpressionObject)
}

/// An object value: keys in insertion order, looked up case-insensitively as GitHub does for
/// context properties (`github.EVENT_NAME` is `github.event_name`).
public struct ExpressionObject: Sendable, Equatable {
    /// The entries in insertion order.
    public private(set) var entries: [(key: String, value: ExpressionValue)]
    /// The position in `entries` of each key, lower-cased, so that lookups do not scan.
    private var positions: [String: Int]

    /// An object with the given entries; a later duplicate key replaces an earlier one.
    public init(_ entries: [(key: String, value: ExpressionValue)] = []) {
        self.entries = []
        positions = [:]
        self.entries.reserveCapacity(entries.count)
        for entry in entries { self[entry.key] = entry.value }
    }

    /// The value under `key` (compared case-insensitively), or nil; setting nil removes the key.
    public subscript(key: String) -> ExpressionValue? {
        get {
            positions[key.lowercased()].map { entries[$0].value }
        }
        set {
            let folded = key.lowercased()
            switch (positions[folded], newValue) {
            case (let index?, let value?):
                entries[index].value = value
            case (let index?, nil):
                entries.remove(at: index)
                positions[folded] = nil
                for later in index..<entries.count { positions[entries[later].key.lowercased()] = later }
            case (nil, let value?):
                positions[folded] = entries.count
                entries.append((key, value))
            case (nil, nil):
                break
            }
        }
    }

    /// The keys in insertion order.
    public var keys: [String] { entries.map(\.key) }

    public static func == (lhs: ExpressionObject, rhs: ExpressionObject) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension ExpressionObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, ExpressionValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}
