/// Grows one regression tree best-first from gradient and hessian histograms over binned features.
struct TreeGrower {
    private struct Histogram {
        var gradient: [Double]
        var hessian: [Double]
        var count: [Int32]

        init(size: Int) {
            gradient = [Double](repeating: 0, count: size)
            hessian = [Double](repeating: 0, count: size)
            count = [Int32](repeating: 0, count: size)
        }

        /// `parent - child`, in place on the parent's storage.
        mutating func subtract(_ child: Histogram) {
            for i in gradient.indices {
                gradient[i] -= child.gradient[i]
                hessian[i] -= child.hessian[i]
                count[i] -= child.count[i]
            }
        }
    }

    private struct Split {
        var gain: Double
        var feature: Int
        var bin: Int
    }

    private struct Node {
        var start: Int
        var end: Int
        var depth: Int
        var sumGradient: Double
        var sumHessian: Double
        var histogram: Histogram?
        var split: Split?
        var treeIndex: Int
    }

    let binned: [[UInt8]]
    /// Where each feature's bins start in a histogram: features are packed, each with only the bins it has.
    private let offsets: [Int]
    private let histogramSize: Int
    let binCounts: [Int]
    let edges: [[Double]]
    let parameters: GradientBoosting.Parameters
    private var indices: [Int32]
    private let minHessianToSplit = 1e-3

    init(binned: [[UInt8]], binCounts: [Int], edges: [[Double]], parameters: GradientBoosting.Parameters, sampleCount: Int) {
        self.binned = binned
        self.binCounts = binCounts
        self.edges = edges
        self.parameters = parameters
        self.indices = (0..<sampleCount).map { Int32($0) }
        var offsets: [Int] = []
        var total = 0
        for count in binCounts {
            offsets.append(total)
            total += count
        }
        self.offsets = offsets
        self.histogramSize = total
    }

    /// Grows a tree on these gradients and calls `apply(sample, leafValue)` for every training sample.
    mutating func grow(gradients: [Double], hessians: [Double], apply: (Int, Double) -> Void) -> DecisionTree {
        let n = indices.count
        for i in 0..<n { indices[i] = Int32(i) }
        var tree = DecisionTree()
        let rootHistogram = histogram(start: 0, end: n, gradients: gradients, hessians: hessians)
        var nodes = [node(start: 0, end: n, depth: 0, histogram: rootHistogram, treeIndex: tree.addNode())]
        var leaves = 1
        while parameters.maxLeafNodes.map({ leaves < $0 }) ?? true {
            var best: Int?
            for (i, candidate) in nodes.enumerated() {
                guard let split = candidate.split else { continue }
                if best == nil || split.gain > nodes[best!].split!.gain { best = i }
            }
            guard let parentIndex = best, let split = nodes[parentIndex].split else { break }
            nodes[parentIndex].split = nil
            let parent = nodes[parentIndex]
            let mid = partition(start: parent.start, end: parent.end, feature: split.feature, bin: split.bin)
            var parentHistogram = parent.histogram!
            nodes[parentIndex].histogram = nil
            let leftIsSmaller = mid - parent.start <= parent.end - mid
            let small =
                leftIsSmaller
                ? histogram(start: parent.start, end: mid, gradients: gradients, hessians: hessians)
                : histogram(start: mid, end: parent.end, gradients: gradients, hessians: hessians)
            parentHistogram.subtract(small)
            let (leftHistogram, rightHistogram) = leftIsSmaller ? (small, parentHistogram) : (parentHistogram, small)
            let leftIndex = tree.addNode()
            let rightIndex = tree.addNode()
            tree.feature[parent.treeIndex] = split.feature
            tree.threshold[parent.treeIndex] = edges[split.feature][split.bin]
            tree.left[parent.treeIndex] = leftIndex
            tree.right[parent.treeIndex] = rightIndex
            nodes.append(node(start: parent.start, end: mid, depth: parent.depth + 1, histogram: leftHistogram, treeIndex: leftIndex))
            nodes.append(node(start: mid, end: parent.end, depth: parent.depth + 1, histogram: rightHistogram, treeIndex: rightIndex))
            leaves += 1
        }
        let lambda = parameters.l2Regularization
        for node in nodes where tree.left[node.treeIndex] == -1 {
            let value = -parameters.learningRate * node.sumGradient / (node.sumHessian + lambda)
            tree.value[node.treeIndex] = value
            for k in node.start..<node.end { apply(Int(indices[k]), value) }
        }
        return tree
    }

    private func node(start: Int, end: Int, depth: Int, histogram: Histogram, treeIndex: Int) -> Node {
        var sumGradient = 0.0
        var sumHessian = 0.0
        if !binCounts.isEmpty {
            for b in 0..<binCounts[0] {
                sumGradient += histogram.gradient[b]
                sumHessian += histogram.hessian[b]
            }
        }
        var result = Node(
            start: start, end: end, depth: depth, sumGradient: sumGradient, sumHessian: sumHessian, histogram: histogram, split: nil,
            treeIndex: treeIndex)
        let count = end - start
        let depthAllows = parameters.maxDepth.map { depth < $0 } ?? true
        if depthAllows && count >= 2 * parameters.minSamplesLeaf && sumHessian >= 2 * minHessianToSplit {
            result.split = bestSplit(histogram, sumGradient: sumGradient, sumHessian: sumHessian, count: count)
        }
        return result
    }

    private func bestSplit(_ histogram: Histogram, sumGradient: Double, sumHessian: Double, count: Int) -> Split? {
        let lambda = parameters.l2Regularization
        let minLeaf = parameters.minSamplesLeaf
        let parentScore = sumGradient * sumGradient / (sumHessian + lambda)
        var best: Split?
        for feature in binCounts.indices where binCounts[feature] > 1 {
            let base = offsets[feature]
            var leftGradient = 0.0
            var leftHessian = 0.0
            var leftCount = 0
            for bin in 0..<(binCounts[feature] - 1) {
                leftGradient += histogram.gradient[base + bin]
                leftHessian += histogram.hessian[base + bin]
                leftCount += Int(histogram.count[base + bin])
                if leftCount < minLeaf { continue }
                let rightCount = count - leftCount
                if rightCount < minLeaf { break }
                let rightHessian = sumHessian - leftHessian
                if leftHessian < minHessianToSplit || rightHessian < minHessianToSplit { continue }
                let rightGradient = sumGradient - leftGradient
                let gain =
                    leftGradient * leftGradient / (leftHessian + lambda) + rightGradient * rightGradient / (rightHessian + lambda) - parentScore
                if gain > 1e-12 && gain > (best?.gain ?? 0) { best = Split(gain: gain, feature: feature, bin: bin) }
            }
        }
        return best
    }

    private func histogram(start: Int, end: Int, gradients: [Double], hessians: [Double]) -> Histogram {
        var histogram = Histogram(size: histogramSize)
        histogram.gradient.withUnsafeMutableBufferPointer { g in
            histogram.hessian.withUnsafeMutableBufferPointer { h in
                histogram.count.withUnsafeMutableBufferPointer { c in
                    indices.withUnsafeBufferPointer { idx in
                        gradients.withUnsafeBufferPointer { grad in
                            hessians.withUnsafeBufferPointer { hess in
                                for feature in binCounts.indices {
                                    let base = offsets[feature]
                                    binned[feature].withUnsafeBufferPointer { column in
                                        for k in start..<end {
                                            let i = Int(idx[k])
                                            let slot = base + Int(column[i])
                                            g[slot] += grad[i]
                                            h[slot] += hess[i]
                                            c[slot] += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return histogram
    }

    /// Moves the samples of `start..<end` with `bin <= split bin` to the front; returns where the rest begin.
    private mutating func partition(start: Int, end: Int, feature: Int, bin: Int) -> Int {
        let column = binned[feature]
        let threshold = UInt8(bin)
        // Stable, so that the order of samples (and hence every sum) does not depend on history.
        var left: [Int32] = []
        var right: [Int32] = []
        left.reserveCapacity(end - start)
        for k in start..<end {
            let i = indices[k]
            if column[Int(i)] <= threshold { left.append(i) } else { right.append(i) }
        }
        for (offset, i) in (left + right).enumerated() { indices[start + offset] = i }
        return start + left.count
    }
}
