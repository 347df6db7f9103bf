/// Centers each feature on its training mean and divides by its standard deviation.
///
/// A constant feature keeps a scale of 1, so it maps to zero rather than to a division by zero.
public struct StandardScaler: Sendable, Codable, Equatable {
    public var mean: [Double]
    public var scale: [Double]

    public init(mean: [Double], scale: [Double]) {
        self.mean = mean
        self.scale = scale
    }

    /// Fits the scaler to row-major data.
    public init(fitting rows: [[Double]]) {
        let featureCount = rows.first?.count ?? 0
        var mean = [Double](repeating: 0, count: featureCount)
        for row in rows { for j in 0..<featureCount { mean[j] += row[j] } }
        let n = Double(max(rows.count, 1))
        for j in 0..<featureCount { mean[j] /= n }
        var variance = [Double](repeating: 0, count: featureCount)
        for row in rows {
            for j in 0..<featureCount {
                let d = row[j] - mean[j]
                variance[j] += d * d
            }
        }
        self.mean = mean
        self.scale = variance.map { v in
            let sd = (v / n).squareRoot()
            return sd > 1e-12 * 1 && sd.isFinite ? sd : 1
        }
    }

    /// Scales one row.
    public func transform(_ row: [Double]) -> [Double] {
        var out = row
        for j in out.indices { out[j] = (row[j] - mean[j]) / scale[j] }
        return out
    }
}
