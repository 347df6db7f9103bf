/// Checks a data set against a schema and, optionally, a reference data set.
public struct DataValidator: Sendable {}
