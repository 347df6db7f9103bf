public import SlipwayCore

/// Where the gateway hands each answered request's ``PredictionRecord``. Called on the data plane's
/// event loops, so it must not block: implementations buffer and write in batches.
public protocol PredictionSink: Sendable {
    func record(_ record: PredictionRecord)
}
