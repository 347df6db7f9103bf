public import Foundation
public import SlipwayCore

extension AuditEvent {
    /// Builds the audit record of a change; backends append it in the same transaction as the change.
    public static func change(
        action: String, actor: String, at: Date, model: String?, version: Int?,
        before: (some Encodable)?, after: (some Encodable)?
    ) -> AuditEvent {
        AuditEvent(
            at: at, actor: actor, action: action, model: model, version: version,
            before: before.map { SlipwayJSON.string($0) }, after: after.map { SlipwayJSON.string($0) }
        )
    }
}

/// A stand-in for "no state" on one side of an audit record.
public struct NoState: Encodable, Sendable {}
