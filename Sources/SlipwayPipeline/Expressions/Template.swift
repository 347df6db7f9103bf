import Foundation

/// Workflow text with embedded `${{ … }}` expressions, as used in `run:`, `with:`, `env:`, `name:`.
///
/// An expression ends at the first `}}` outside a single-quoted string, so `${{ '}}' }}` is the
/// string `}}`. There is no escape for `${{` itself; write `${{ '${{' }}`.
public enum Template {
    /// A piece of template text: literal text or an embedded expression.
    enum Segment {
        case text(String)
        /// An expression and the offset of its `${{` in the template.
        case expression(Expression, offset: Int)
    }

    /// The expressions embedded in `text`, each with the offset (in Unicode scalars) of its `${{`,
    /// for validation without evaluation.
    /// - Throws: the first expression that does not parse or is not closed; the error's offset is
    ///   relative to `text`.
    public static func expressions(in text: String) throws(ExpressionError) -> [(offset: Int, expression: Expression)] {
        try segments(of: text).compactMap { segment in
            if case .expression(let expression, let offset) = segment { return (offset, expression) }
            return nil
        }
    }

    /// Whether `text` holds at least one `${{`.
    public static func containsExpression(_ text: String) -> Bool {
        text.contains("${{")
    }

    /// `text` with each `${{ … }}` replaced by its value converted to a string (GitHub's rules:
    /// null → empty, numbers without a trailing `.0`, objects and arrays as JSON).
    /// - Throws: `ExpressionError` for an expression that does not parse or cannot be evaluated.
    public static func render(_ text: String, in context: ExpressionContext) throws(ExpressionError) -> String {
        guard containsExpression(text) else { return text }
        var output = ""
        for segment in try segments(of: text) {
            switch segment {
            case .text(let literal): output += literal
            case .expression(let expression, let offset): output += try evaluate(expression, textOffset: offset + 3, in: context).stringValue
            }
        }
        return output
    }

    /// Evaluates a value that may be a whole expression (`${{ matrix.os }}` keeps its type) or text.
    /// Text with no expression is a string as it is; text mixing literal text and expressions is
    /// rendered to a string.
    public static func value(of text: String, in context: ExpressionContext) throws(ExpressionError) -> ExpressionValue {
        guard containsExpression(text) else { return .string(text) }
        let parts = try segments(of: text)
        if parts.count == 1, case .expression(let expression, let offset) = parts[0] {
            return try evaluate(expression, textOffset: offset + 3, in: context)
        }
        return .string(try render(text, in: context))
    }

    /// Evaluates an `if:` condition: with or without `${{ }}`, and with GitHub's implicit
    /// `success() &&` when the condition calls none of the status functions. An empty condition is `success()`.
    ///
    /// A condition that is exactly one `${{ … }}` is that expression. A condition that has any
    /// other text around its `${{ … }}`, even a space or the line break a YAML `|` block keeps, is,
    /// as on GitHub, a string: true when it is not empty (`${{ false }} && true` renders to
    /// "false && true", which is true). Without `${{`, the whole text is one expression.
    /// - Throws: `ExpressionError` for a condition that does not parse or cannot be evaluated.
    public static func condition(_ text: String?, in context: ExpressionContext) throws(ExpressionError) -> Bool {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return context.status.isSuccess }
        guard containsExpression(text) else {
            return try condition(Expression.parse(text), textOffset: 0, in: context)
        }
        let parts = try segments(of: text)
        if parts.count == 1, case .expression(let expression, let offset) = parts[0] {
            return try condition(expression, textOffset: offset + 3, in: context)
        }
        let callsStatus = parts.contains { segment in
            if case .expression(let expression, _) = segment { return expression.callsStatusFunction }
            return false
        }
        if !callsStatus && !context.status.isSuccess { return false }
        return try ExpressionValue.string(render(text, in: context)).isTruthy
    }

    private static func condition(_ expression: Expression, textOffset: Int, in context: ExpressionContext) throws(ExpressionError) -> Bool {
        if !expression.callsStatusFunction && !context.status.isSuccess { return false }
        return try evaluate(expression, textOffset: textOffset, in: context).isTruthy
    }

    /// Evaluates an expression whose text starts at `textOffset` in the template, making the error's
    /// offset relative to the template.
    private static func evaluate(_ expression: Expression, textOffset: Int, in context: ExpressionContext) throws(ExpressionError) -> ExpressionValue
    {
        do {
            return try expression.evaluate(in: context)
        } catch {
            throw ExpressionError(message: error.message, offset: error.offset + textOffset)
        }
    }

    /// Splits `text` into literal text and expressions.
    static func segments(of text: String) throws(ExpressionError) -> [Segment] {
        let scalars = Array(text.unicodeScalars)
        var segments: [Segment] = []
        var literal = String.UnicodeScalarView()
        var position = 0
        func opensExpression(_ index: Int) -> Bool {
            index + 2 < scalars.count && scalars[index] == "$" && scalars[index + 1] == "{" && scalars[index + 2] == "{"
        }
        while position < scalars.count {
            guard opensExpression(position) else {
                literal.append(scalars[position])
                position += 1
                continue
            }
            let start = position
            var end = start + 3
            var inString = false
            var closed = false
            while end < scalars.count {
                let scalar = scalars[end]
                if scalar == "'" {
                    inString.toggle()
                } else if !inString, scalar == "}", end + 1 < scalars.count, scalars[end + 1] == "}" {
                    closed = true
                    break
                }
                end += 1
            }
            guard closed else {
                let reason = inString ? "; a string inside it (starting with ') is not closed either" : ""
                throw ExpressionError(
                    message: "The expression starting at position \(start + 1) is not closed with '}}'\(reason)", offset: start)
            }
            let inner = String(String.UnicodeScalarView(scalars[(start + 3)..<end]))
            let expression: Expression
            do {
                expression = try Expression.parse(inner)
            } catch {
                throw ExpressionError(message: error.message, offset: error.offset + start + 3)
            }
            if !literal.isEmpty {
                segments.append(.text(String(literal)))
                literal = String.UnicodeScalarView()
            }
            segments.append(.expression(expression, offset: start))
            position = end + 2
        }
        if !literal.isEmpty { segments.append(.text(String(literal))) }
        return segments
    }
}
