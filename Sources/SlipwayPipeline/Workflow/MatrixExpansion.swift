/// Expands `strategy.matrix` into the job's legs, with GitHub's rules for `include` and `exclude`.
///
/// ```swift
/// let legs = try MatrixExpansion.legs(of: strategy.matrix, in: context)
/// let names = legs.map { MatrixExpansion.legName(job: "test", leg: $0) }   // ["test (3.11, linux)", …]
/// ```
public enum MatrixExpansion {
    /// GitHub's limit on the jobs one matrix may generate.
    public static let maximumLegs = 256
    /// The most combinations the dimensions may multiply to before `exclude` is applied.
    public static let maximumCombinations = 65_536

    /// The combinations of a matrix, in GitHub's order: the cartesian product of the dimensions
    /// (first dimension varying slowest), minus `exclude` matches, then `include` entries merged
    /// into matching combinations or appended. A matrix given as an expression is evaluated in
    /// `context` first, and so is a dimension or value written as a `${{ }}` expression. An empty
    /// result, or more than 256 legs, is an error.
    public static func legs(of spec: MatrixSpec, in context: ExpressionContext) throws(ExpressionError) -> [ExpressionObject] {
        switch spec {
        case .literal(let dimensions, let include, let exclude):
            var evaluated: [(name: String, values: [ExpressionValue])] = []
            for dimension in dimensions {
                if dimension.values.count == 1, case .string(let text) = dimension.values[0], text.contains("${{") {
                    // `os: ${{ fromJSON(…) }}`: the expression gives the dimension's list.
                    let value = try evaluate(.string(text), in: context)
                    guard case .array(let values) = value else {
                        throw ExpressionError(
                            message: "matrix dimension '\(dimension.name)' must evaluate to a list, got \(kind(of: value))", offset: 0)
                    }
                    guard !values.isEmpty else {
                        throw ExpressionError(message: "matrix dimension '\(dimension.name)' evaluated to an empty list", offset: 0)
                    }
                    evaluated.append((dimension.name, values))
                } else {
                    var values: [ExpressionValue] = []
                    for value in dimension.values { values.append(try evaluate(value, in: context)) }
                    evaluated.append((dimension.name, values))
                }
            }
            var includes: [ExpressionObject] = []
            for object in include { includes.append(try evaluateObject(object, in: context)) }
            var excludes: [ExpressionObject] = []
            for object in exclude { excludes.append(try evaluateObject(object, in: context)) }
            return try expand(dimensions: evaluated, include: includes, exclude: excludes)
        case .expression(let text):
            let value = try Template.value(of: text, in: context)
            guard case .object(let object) = value else {
                throw ExpressionError(message: "strategy.matrix must evaluate to an object of dimensions, got \(kind(of: value))", offset: 0)
            }
            var dimensions: [(name: String, values: [ExpressionValue])] = []
            var include: [ExpressionObject] = []
            var exclude: [ExpressionObject] = []
            for (key, value) in object.entries {
                switch key.lowercased() {
                case "include", "exclude":
                    guard case .array(let items) = value else {
                        throw ExpressionError(message: "matrix '\(key)' must be a list of objects, got \(kind(of: value))", offset: 0)
                    }
                    var objects: [ExpressionObject] = []
                    for item in items {
                        guard case .object(let entry) = item else {
                            throw ExpressionError(message: "matrix '\(key)' must be a list of objects, found \(kind(of: item))", offset: 0)
                        }
                        objects.append(entry)
                    }
                    if key.lowercased() == "include" { include = objects } else { exclude = objects }
                default:
                    guard case .array(let values) = value else {
                        throw ExpressionError(message: "matrix dimension '\(key)' must be a list, got \(kind(of: value))", offset: 0)
                    }
                    guard !values.isEmpty else {
                        throw ExpressionError(message: "matrix dimension '\(key)' has no values", offset: 0)
                    }
                    dimensions.append((key, values))
                }
            }
            return try expand(dimensions: dimensions, include: include, exclude: exclude)
        }
    }

    /// The expansion of evaluated dimensions, `include` and `exclude` (GitHub's algorithm).
    ///
    /// 1. The cartesian product of the dimensions, the first varying slowest.
    /// 2. `exclude`: a combination is removed when it has every key/value of an exclude entry
    ///    (a partial match suffices).
    /// 3. `include`, entry by entry: the entry's pairs are added to every remaining original
    ///    combination where none of them would overwrite an original matrix value (values added by
    ///    earlier entries may be overwritten); an entry that fits no original combination becomes a
    ///    combination of its own.
    static func expand(
        dimensions: [(name: String, values: [ExpressionValue])], include: [ExpressionObject], exclude: [ExpressionObject]
    ) throws(ExpressionError) -> [ExpressionObject] {
        var total = dimensions.isEmpty ? 0 : 1
        for dimension in dimensions {
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension.values.count)
            guard !overflow, product <= maximumCombinations else {
                throw ExpressionError(
                    message: "the matrix has more than \(maximumCombinations) combinations; GitHub runs at most \(maximumLegs) jobs per matrix",
                    offset: 0)
            }
            total = product
        }
        var combinations: [ExpressionObject] = dimensions.isEmpty ? [] : [ExpressionObject()]
        for dimension in dimensions {
            var next: [ExpressionObject] = []
            next.reserveCapacity(combinations.count * dimension.values.count)
            for combination in combinations {
                for value in dimension.values {
                    var extended = combination
                    extended[dimension.name] = value
                    next.append(extended)
                }
            }
            combinations = next
        }
        combinations.removeAll { combination in
            exclude.contains { entry in entry.entries.allSatisfy { combination[$0.key] == $0.value } }
        }
        let original = Set(dimensions.map { $0.name.lowercased() })
        let base = combinations
        var added: [ExpressionObject] = []
        for entry in include {
            var fitted = false
            for index in base.indices {
                let fits = entry.entries.allSatisfy { pair in
                    !original.contains(pair.key.lowercased()) || base[index][pair.key] == pair.value
                }
                guard fits else { continue }
                fitted = true
                for pair in entry.entries { combinations[index][pair.key] = pair.value }
            }
            if !fitted { added.append(entry) }
        }
        combinations += added
        guard !combinations.isEmpty else {
            throw ExpressionError(
                message:
                    "the matrix expands to no jobs: every combination is excluded and nothing is included; "
                        + "remove an 'exclude' entry or add an 'include'",
                offset: 0)
        }
        guard combinations.count <= maximumLegs else {
            throw ExpressionError(
                message: "the matrix expands to \(combinations.count) jobs; GitHub allows at most \(maximumLegs) per matrix", offset: 0)
        }
        return combinations
    }

    /// The name GitHub gives a leg: `test (3.11, linux)` — the job's name or id followed by the
    /// leg's values in order (the dimensions, then the keys `include` added), or the job name alone
    /// for an empty leg. Numbers print without a trailing `.0`; the values inside an object or list
    /// are listed in place, as GitHub shows them; null prints nothing.
    public static func legName(job: String, leg: ExpressionObject) -> String {
        guard !leg.entries.isEmpty else { return job }
        var parts: [String] = []
        for entry in leg.entries { flatten(entry.value, into: &parts) }
        return "\(job) (\(parts.joined(separator: ", ")))"
    }

    static func flatten(_ value: ExpressionValue, into parts: inout [String]) {
        switch value {
        case .null: break
        case .bool(let flag): parts.append(flag ? "true" : "false")
        case .number(let number): parts.append(format(number))
        case .string(let text): parts.append(text)
        case .array(let items): for item in items { flatten(item, into: &parts) }
        case .object(let object): for entry in object.entries { flatten(entry.value, into: &parts) }
        }
    }

    /// A number as GitHub prints it: whole numbers without a decimal point.
    static func format(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }

    static func kind(of value: ExpressionValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    /// A value with its `${{ }}` strings evaluated (a whole expression keeps its type).
    static func evaluate(_ value: ExpressionValue, in context: ExpressionContext) throws(ExpressionError) -> ExpressionValue {
        switch value {
        case .string(let text) where text.contains("${{"):
            return try Template.value(of: text, in: context)
        case .array(let items):
            var result: [ExpressionValue] = []
            for item in items { result.append(try evaluate(item, in: context)) }
            return .array(result)
        case .object(let object):
            return .object(try evaluateObject(object, in: context))
        default:
            return value
        }
    }

    static func evaluateObject(_ object: ExpressionObject, in context: ExpressionContext) throws(ExpressionError) -> ExpressionObject {
        guard ExpressionValue.object(object).containsExpressionText else { return object }
        var result = ExpressionObject()
        for entry in object.entries { result[entry.key] = try evaluate(entry.value, in: context) }
        return result
    }
}
