/// A project folder whose data files are versioned by pointer files (`PATH.slipway`) and kept in a
/// content-addressed cache.
public struct DataWorkspace: Sendable {}
