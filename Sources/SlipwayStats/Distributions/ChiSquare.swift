import Foundation

/// The chi-square distribution with `df` degrees of freedom.
public struct ChiSquare: Sendable, Hashable {
    /// Degrees of freedom, greater than zero.
    public let df: Double

    /// Creates the distribution; `df` must be positive.
    public init(df: Double) { self.df = df }

    /// The cumulative distribution P(X ≤ x).
    public func cdf(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 0 }
        return SpecialFunctions.regularizedGamma(a: 0.5 * df, x: 0.5 * x).lower
    }

    /// The survival function P(X > x), accurate in the upper tail (p-values down to 1e-300).
    public func sf(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 1 }
        return SpecialFunctions.regularizedGamma(a: 0.5 * df, x: 0.5 * x).upper
    }

    /// The density at x.
    public func pdf(_ x: Double) -> Double {
        if x < 0 { return 0 }
        if x == 0 { return df == 2 ? 0.5 : (df < 2 ? .infinity : 0) }
        let k = 0.5 * df
        let logDensity: Double = (k - 1) * log(0.5 * x) - 0.5 * x - lgamma(k)
        return 0.5 * exp(logDensity)
    }
}

/// The beta distribution with shapes `a` and `b`.
public struct BetaDistribution: Sendable, Hashable {
    /// First shape parameter, greater than zero.
    public let a: Double
    /// Second shape parameter, greater than zero.
    public let b: Double

    /// Creates the distribution; both shapes must be positive.
    public init(a: Double, b: Double) {
        self.a = a
        self.b = b
    }

    /// The cumulative distribution I_x(a, b).
    public func cdf(_ x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        return SpecialFunctions.regularizedBeta(a: a, b: b, x: x).lower
    }

    /// The survival function 1 − I_x(a, b), accurate in the upper tail.
    public func sf(_ x: Double) -> Double {
        if x <= 0 { return 1 }
        if x >= 1 { return 0 }
        return SpecialFunctions.regularizedBeta(a: a, b: b, x: x).upper
    }

    /// The mean a / (a + b).
    public var mean: Double { a / (a + b) }

    /// The variance ab / ((a + b)²(a + b + 1)).
    public var variance: Double { a * b / ((a + b) * (a + b) * (a + b + 1)) }
}

/// The gamma distribution with shape `shape` and scale `scale`.
public struct GammaDistribution: Sendable, Hashable {
    /// Shape k, greater than zero.
    public let shape: Double
    /// Scale θ, greater than zero.
    public let scale: Double

    /// Creates the distribution.
    public init(shape: Double, scale: Double = 1) {
        self.shape = shape
        self.scale = scale
    }

    /// The cumulative distribution P(shape, x/scale).
    public func cdf(_ x: Double) -> Double {
        if x <= 0 { return 0 }
        return SpecialFunctions.regularizedGamma(a: shape, x: x / scale).lower
    }

    /// The survival function Q(shape, x/scale), accurate in the upper tail.
    public func sf(_ x: Double) -> Double {
        if x <= 0 { return 1 }
        return SpecialFunctions.regularizedGamma(a: shape, x: x / scale).upper
    }
}

/// The regularised incomplete beta function I_x(a, b).
public func incompleteBeta(a: Double, b: Double, x: Double) -> Double {
    SpecialFunctions.regularizedBeta(a: a, b: b, x: x).lower
}

/// The regularised lower incomplete gamma function P(a, x).
public func incompleteGamma(a: Double, x: Double) -> Double {
    SpecialFunctions.regularizedGamma(a: a, x: x).lower
}

/// The regularised upper incomplete gamma function Q(a, x) = 1 − P(a, x).
public func incompleteGammaComplement(a: Double, x: Double) -> Double {
    SpecialFunctions.regularizedGamma(a: a, x: x).upper
}
