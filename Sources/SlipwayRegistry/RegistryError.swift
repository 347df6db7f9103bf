public import SlipwayCore

/// Errors of the registry's rules (policies, roles, references). Store errors pass through as they are.
public struct RegistryError: SlipwayError, Equatable {
    public var kind: ErrorKind
    public var message: String

    public init(_ kind: ErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
