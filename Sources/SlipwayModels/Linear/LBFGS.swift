/// Limited-memory BFGS for smooth unconstrained minimisation, with a backtracking line search
/// that keeps the Armijo condition.
struct LBFGS {
    /// The result of a minimisation.
    struct Result {
        var x: [Double]
        var value: Double
        var iterations: Int
        var converged: Bool
        var gradientNorm: Double
    }

    var memory = 10
    var maxIterations = 1000
    /// Stop when the largest gradient component is at most this.
    var tolerance = 1e-6

    /// Minimises `objective`, which returns the value and fills the gradient.
    ///
    /// - Parameter progress: called after each iteration with the iteration number and the value.
    func minimize(
        from start: [Double], objective: (_ x: [Double], _ gradient: inout [Double]) -> Double, progress: (Int, Double) -> Void = { _, _ in }
    ) -> Result {
        let n = start.count
        var x = start
        var g = [Double](repeating: 0, count: n)
        var f = objective(x, &g)
        var s: [[Double]] = []
        var y: [[Double]] = []
        var rho: [Double] = []
        var iteration = 0
        var gNorm = g.reduce(0) { max($0, abs($1)) }
        if gNorm <= tolerance { return Result(x: x, value: f, iterations: 0, converged: true, gradientNorm: gNorm) }
        var newG = [Double](repeating: 0, count: n)
        var direction = [Double](repeating: 0, count: n)
        var alpha = [Double](repeating: 0, count: memory)
        while iteration < maxIterations {
            iteration += 1
            // Two-loop recursion: direction = -H g.
            for i in 0..<n { direction[i] = -g[i] }
            let count = s.count
            if count > 0 {
                for j in stride(from: count - 1, through: 0, by: -1) {
                    alpha[j] = rho[j] * dot(s[j], direction)
                    axpy(-alpha[j], y[j], &direction)
                }
                let last = count - 1
                let gamma = dot(s[last], y[last]) / dot(y[last], y[last])
                for i in 0..<n { direction[i] *= gamma }
                for j in 0..<count {
                    let beta = rho[j] * dot(y[j], direction)
                    axpy(alpha[j] - beta, s[j], &direction)
                }
            } else {
                let norm = dot(g, g).squareRoot()
                for i in 0..<n { direction[i] /= max(norm, 1) }
            }
            var slope = dot(g, direction)
            if slope >= 0 {
                // Not a descent direction (numerical trouble): restart from steepest descent.
                s.removeAll()
                y.removeAll()
                rho.removeAll()
                for i in 0..<n { direction[i] = -g[i] }
                slope = dot(g, direction)
            }
            var step = 1.0
            var newX = x
            var newF = f
            var accepted = false
            for _ in 0..<60 {
                for i in 0..<n { newX[i] = x[i] + step * direction[i] }
                newF = objective(newX, &newG)
                if newF.isFinite && newF <= f + 1e-4 * step * slope {
                    accepted = true
                    break
                }
                step *= 0.5
            }
            guard accepted else {
                return Result(x: x, value: f, iterations: iteration, converged: gNorm <= tolerance * 10, gradientNorm: gNorm)
            }
            var sk = [Double](repeating: 0, count: n)
            var yk = [Double](repeating: 0, count: n)
            for i in 0..<n {
                sk[i] = newX[i] - x[i]
                yk[i] = newG[i] - g[i]
            }
            let sy = dot(sk, yk)
            if sy > 1e-12 * dot(yk, yk).squareRoot() * dot(sk, sk).squareRoot() && sy > 0 {
                if s.count == memory {
                    s.removeFirst()
                    y.removeFirst()
                    rho.removeFirst()
                }
                s.append(sk)
                y.append(yk)
                rho.append(1 / sy)
            }
            let decrease = f - newF
            x = newX
            f = newF
            swap(&g, &newG)
            gNorm = g.reduce(0) { max($0, abs($1)) }
            progress(iteration, f)
            if gNorm <= tolerance { return Result(x: x, value: f, iterations: iteration, converged: true, gradientNorm: gNorm) }
            // No measurable progress: the objective is flat to machine precision here.
            if decrease <= 1e-16 * max(abs(f), 1) { break }
        }
        return Result(x: x, value: f, iterations: iteration, converged: gNorm <= tolerance, gradientNorm: gNorm)
    }
}

@inline(__always) func dot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for i in a.indices { sum += a[i] * b[i] }
    return sum
}

@inline(__always) func axpy(_ a: Double, _ x: [Double], _ y: inout [Double]) {
    for i in x.indices { y[i] += a * x[i] }
}
