import SlipwayCore

extension SearchFilter {
    /// Whether a version satisfies every clause; used for stage-transition conditions.
    /// Returns the first clause that fails, or nil when all hold.
    func firstFailingClause(for version: ModelVersion) -> SearchClause? {
        clauses.first { !$0.holds(for: version) }
    }
}

extension SearchClause {
    func holds(for version: ModelVersion) -> Bool {
        switch key {
        case .metric(let name):
            guard let actual = version.lineage.metrics[name], case .number(let expected) = value else { return false }
            return compare(actual, expected)
        case .param(let name):
            guard let actual = version.lineage.parameters[name] else { return op == .notIn }
            return compareText(actual)
        case .tag(let name):
            guard let actual = version.tags[name] else { return op == .notIn }
            return compareText(actual)
        case .attribute(let attribute):
            switch attribute {
            case .name: return compareText(version.model)
            case .version:
                if case .number(let expected) = value { return compare(Double(version.version), expected) }
                return compareText(String(version.version))
            case .runId: return compareText(version.runId ?? "")
            case .source: return compareText(version.source)
            case .status: return compareText(version.status.rawValue)
            case .stage: return compareText(version.stage)
            case .description: return compareText(version.description)
            case .userId: return compareText(version.createdBy)
            case .creationTimestamp:
                guard case .number(let expected) = value else { return false }
                return compare(Double(Timestamp.millis(version.createdAt)), expected)
            case .lastUpdatedTimestamp:
                guard case .number(let expected) = value else { return false }
                return compare(Double(Timestamp.millis(version.updatedAt)), expected)
            }
        }
    }

    private func compare(_ actual: Double, _ expected: Double) -> Bool {
        switch op {
        case .equal: actual == expected
        case .notEqual: actual != expected
        case .less: actual < expected
        case .lessOrEqual: actual <= expected
        case .greater: actual > expected
        case .greaterOrEqual: actual >= expected
        default: false
        }
    }

    private func compareText(_ actual: String) -> Bool {
        switch (op, value) {
        case (.equal, .string(let s)): actual == s
        case (.notEqual, .string(let s)): actual != s
        case (.like, .string(let s)): Self.like(actual, s, caseInsensitive: false)
        case (.ilike, .string(let s)): Self.like(actual, s, caseInsensitive: true)
        case (.in, .list(let items)): items.contains(actual)
        case (.notIn, .list(let items)): !items.contains(actual)
        case (_, .number(let n)): compare(Double(actual) ?? .nan, n)
        default: false
        }
    }

    /// SQL LIKE: `%` any run, `_` one character.
    static func like(_ text: String, _ pattern: String, caseInsensitive: Bool) -> Bool {
        let t = Array(caseInsensitive ? text.lowercased() : text)
        let p = Array(caseInsensitive ? pattern.lowercased() : pattern)
        var memo = [Int: Bool]()
        func go(_ pi: Int, _ ti: Int) -> Bool {
            let key = pi * (t.count + 1) + ti
            if let known = memo[key] { return known }
            let result: Bool
            if pi == p.count {
                result = ti == t.count
            } else if p[pi] == "%" {
                result = go(pi + 1, ti) || (ti < t.count && go(pi, ti + 1))
            } else if ti < t.count, p[pi] == "_" || p[pi] == t[ti] {
                result = go(pi + 1, ti + 1)
            } else {
                result = false
            }
            memo[key] = result
            return result
        }
        return go(0, 0)
    }
}
