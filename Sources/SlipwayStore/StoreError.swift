public import SlipwayCore

/// Errors of the metadata and artifact stores.
public struct StoreError: SlipwayError, Equatable {
    public var kind: ErrorKind
    public var message: String

    public init(_ kind: ErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func modelNotFound(_ name: String) -> StoreError {
        StoreError(.notFound, "registered model '\(name)' does not exist; `slipway models list` shows the models")
    }

    public static func versionNotFound(_ model: String, _ version: Int) -> StoreError {
        StoreError(.notFound, "model version '\(model)@\(version)' does not exist; `slipway versions list \(model)` shows its versions")
    }

    public static func aliasNotFound(_ model: String, _ alias: String) -> StoreError {
        StoreError(.notFound, "model '\(model)' has no alias '\(alias)'")
    }

    public static func invalidPageToken() -> StoreError {
        StoreError(.invalidArgument, "the page token is not one this server issued; start the search again without it")
    }
}
