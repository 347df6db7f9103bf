/// Shell-style globs for names: `*` (any run), `?` (one character), `[a-z0-9]` (a class, `!` or `^` negates).
enum Glob {
    static func matches(pattern: String, _ text: String) -> Bool {
        match(Array(pattern), 0, Array(text), 0)
    }

    private static func match(_ p: [Character], _ pi: Int, _ t: [Character], _ ti: Int) -> Bool {
        var pi = pi
        var ti = ti
        while pi < p.count {
            switch p[pi] {
            case "*":
                for start in ti...t.count where match(p, pi + 1, t, start) { return true }
                return false
            case "?":
                guard ti < t.count else { return false }
            case "[":
                if ti < t.count, let (matched, next) = matchClass(p, pi, t[ti]) {
                    guard matched else { return false }
                    pi = next
                    ti += 1
                    continue
                }
                // An unclosed class is a literal '['.
                guard ti < t.count, p[pi] == t[ti] else { return false }
            default:
                guard ti < t.count, p[pi] == t[ti] else { return false }
            }
            pi += 1
            ti += 1
        }
        return ti == t.count
    }

    /// Returns whether `c` is in the class starting at `p[start]` (a `[`) and the index after its `]`,
    /// or nil when the class is not closed (then `[` is literal).
    private static func matchClass(_ p: [Character], _ start: Int, _ c: Character) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count, p[i] == "!" || p[i] == "^" {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < p.count, p[i] != "]" || first {
            first = false
            if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
                if p[i] <= c && c <= p[i + 2] { matched = true }
                i += 3
            } else {
                if p[i] == c { matched = true }
                i += 1
            }
        }
        guard i < p.count else { return nil }
        return (matched != negate, i + 1)
    }
}
