public import SlipwayCore

/// Errors of the gateway: routing tables, traffic policies, proxying.
public struct GatewayError: SlipwayError, Equatable {
    public var kind: ErrorKind
    public var message: String

    public init(_ kind: ErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
