/// GitHub's filter pattern syntax for branch, tag and path filters.
///
/// - `*` matches zero or more characters except `/`; `**` matches zero or more of any character
///   (and `**/` also matches no folder at all, so `docs/**/*.md` matches `docs/README.md`).
/// - `?` makes the preceding character (or `[]` set) optional; `+` repeats it one or more times.
/// - `[]` matches one character listed or in a range (`[0-9a-z]`, `[CB]at`).
/// - `\` makes the next character literal.
/// - A leading `!` (in a list of patterns) excludes what an earlier pattern included; patterns are
///   read in order and the last one that matches decides.
///
/// ```swift
/// FilterPattern.includes(["*.md", "!README.md"], "hello.md")      // true
/// FilterPattern("docs/**").matches("docs/mona/octocat.txt")      // true
/// ```
public struct FilterPattern: Sendable, Equatable {
    enum Atom: Sendable, Equatable {
        case literal(Unicode.Scalar)
        case set([ClosedRange<Unicode.Scalar>])
        /// `*`: anything but `/`.
        case star
        /// `**`: anything.
        case globstar
        /// `**/` at the start or after `/`: nothing, or anything ending in `/`.
        case globstarFolder
    }

    enum Count: Sendable, Equatable { case one, optional, oneOrMore }

    struct Piece: Sendable, Equatable {
        var atom: Atom
        var count: Count
    }

    /// The pattern as written (without a leading `!`).
    public let source: String
    let pieces: [Piece]

    /// Compiles one pattern (a leading `!` is part of the pattern here; lists handle negation).
    public init(_ pattern: String) {
        source = pattern
        let scalars = Array(pattern.unicodeScalars)
        var pieces: [Piece] = []
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            switch c {
            case "\\":
                if i + 1 < scalars.count {
                    pieces.append(Piece(atom: .literal(scalars[i + 1]), count: .one))
                    i += 2
                } else {
                    pieces.append(Piece(atom: .literal(c), count: .one))
                    i += 1
                }
            case "*":
                if i + 1 < scalars.count, scalars[i + 1] == "*" {
                    let atFolderStart = i == 0 || scalars[i - 1] == "/"
                    if atFolderStart, i + 2 < scalars.count, scalars[i + 2] == "/" {
                        pieces.append(Piece(atom: .globstarFolder, count: .one))
                        i += 3
                    } else {
                        pieces.append(Piece(atom: .globstar, count: .one))
                        i += 2
                        while i < scalars.count, scalars[i] == "*" { i += 1 }
                    }
                } else {
                    pieces.append(Piece(atom: .star, count: .one))
                    i += 1
                }
            case "?", "+":
                if let last = pieces.last, last.count == .one, Self.isRepeatable(last.atom) {
                    pieces[pieces.count - 1].count = c == "?" ? .optional : .oneOrMore
                } else {
                    pieces.append(Piece(atom: .literal(c), count: .one))
                }
                i += 1
            case "[":
                if let (ranges, end) = Self.set(scalars, from: i) {
                    pieces.append(Piece(atom: .set(ranges), count: .one))
                    i = end + 1
                } else {
                    pieces.append(Piece(atom: .literal(c), count: .one))
                    i += 1
                }
            default:
                pieces.append(Piece(atom: .literal(c), count: .one))
                i += 1
            }
        }
        self.pieces = pieces
    }

    static func isRepeatable(_ atom: Atom) -> Bool {
        switch atom {
        case .literal, .set: true
        case .star, .globstar, .globstarFolder: false
        }
    }

    /// A `[…]` set starting at `start`: its ranges and the index of its `]`, or nil if unclosed.
    static func set(_ scalars: [Unicode.Scalar], from start: Int) -> ([ClosedRange<Unicode.Scalar>], Int)? {
        var ranges: [ClosedRange<Unicode.Scalar>] = []
        var i = start + 1
        while i < scalars.count {
            let c = scalars[i]
            if c == "]" { return ranges.isEmpty ? nil : (ranges, i) }
            if i + 2 < scalars.count, scalars[i + 1] == "-", scalars[i + 2] != "]", c <= scalars[i + 2] {
                ranges.append(c...scalars[i + 2])
                i += 3
            } else {
                ranges.append(c...c)
                i += 1
            }
        }
        return nil
    }

    /// Whether the whole of `text` matches the pattern.
    public func matches(_ text: String) -> Bool {
        let chars = Array(text.unicodeScalars)
        // memo[p][s]: 0 unknown, 1 no, 2 yes; bounded by pattern length × text length.
        var memo = [[UInt8]](repeating: [UInt8](repeating: 0, count: chars.count + 1), count: pieces.count + 1)
        func accepts(_ atom: Atom, _ c: Unicode.Scalar) -> Bool {
            switch atom {
            case .literal(let l): l == c
            case .set(let ranges): ranges.contains { $0.contains(c) }
            case .star, .globstar, .globstarFolder: false
            }
        }
        func match(_ p: Int, _ s: Int) -> Bool {
            if p == pieces.count { return s == chars.count }
            if memo[p][s] != 0 { return memo[p][s] == 2 }
            var result = false
            let piece = pieces[p]
            switch piece.atom {
            case .star:
                var j = s
                while true {
                    if match(p + 1, j) {
                        result = true
                        break
                    }
                    guard j < chars.count, chars[j] != "/" else { break }
                    j += 1
                }
            case .globstar:
                for j in s...chars.count where match(p + 1, j) {
                    result = true
                    break
                }
            case .globstarFolder:
                if match(p + 1, s) {
                    result = true
                } else {
                    for j in s..<chars.count where chars[j] == "/" && match(p + 1, j + 1) {
                        result = true
                        break
                    }
                }
            case .literal, .set:
                switch piece.count {
                case .one:
                    result = s < chars.count && accepts(piece.atom, chars[s]) && match(p + 1, s + 1)
                case .optional:
                    result = match(p + 1, s) || (s < chars.count && accepts(piece.atom, chars[s]) && match(p + 1, s + 1))
                case .oneOrMore:
                    var j = s
                    while j < chars.count, accepts(piece.atom, chars[j]) {
                        j += 1
                        if match(p + 1, j) {
                            result = true
                            break
                        }
                    }
                }
            }
            memo[p][s] = result ? 2 : 1
            return result
        }
        return match(0, 0)
    }

    /// Whether a list of patterns includes `text`: patterns are read in order, a pattern that
    /// matches includes it, a matching `!pattern` excludes it again, and the last match decides.
    /// Nothing matching means not included.
    public static func includes(_ patterns: [String], _ text: String) -> Bool {
        var included = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if included, FilterPattern(String(pattern.dropFirst())).matches(text) { included = false }
            } else if !included, FilterPattern(pattern).matches(text) {
                included = true
            }
        }
        return included
    }
}
