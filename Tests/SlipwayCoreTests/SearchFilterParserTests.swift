import Testing

@testable import SlipwayCore

// MARK: - Helpers

private func clause(_ key: SearchKey, _ op: SearchOperator, _ value: SearchValue) -> SearchClause {
    SearchClause(key: key, op: op, value: value)
}

/// A filter string and the clauses it must parse to.
struct ValidFilter: Sendable, CustomTestStringConvertible {
    var text: String
    var clauses: [SearchClause]
    var testDescription: String { text.debugDescription }

    init(_ text: String, _ clauses: SearchClause...) {
        self.text = text
        self.clauses = clauses
    }
}

/// A filter string that must fail at `column` with a message containing `fragment`.
struct InvalidFilter: Sendable, CustomTestStringConvertible {
    var text: String
    var column: Int
    var fragment: String
    var testDescription: String { text.debugDescription }

    init(_ text: String, _ column: Int, _ fragment: String) {
        self.text = text
        self.column = column
        self.fragment = fragment
    }
}

/// Order terms and the orders they must parse to.
struct ValidOrder: Sendable, CustomTestStringConvertible {
    var terms: [String]
    var orders: [SearchOrder]
    var testDescription: String { terms.description }
}

/// Order terms that must fail at `column` with a message containing `fragment`.
struct InvalidOrder: Sendable, CustomTestStringConvertible {
    var terms: [String]
    var column: Int
    var fragment: String
    var testDescription: String { terms.description }
}

// MARK: - Valid filters

private let validFilters: [ValidFilter] = [
    // Empty filters match everything.
    ValidFilter(""),
    ValidFilter("   \n\t\r "),
    // Text attributes.
    ValidFilter("name = 'iris'", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("name='iris'", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("name = \"iris\"", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("  name   =   'iris'  ", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("NAME = 'iris'", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("attributes.name = 'iris'", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("attribute.name = 'iris'", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("attr.name = 'iris'", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("ATTR.Name = 'iris'", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("attr.`name` = 'iris'", clause(.attribute(.name), .equal, .string("iris"))),
    ValidFilter("name != 'iris'", clause(.attribute(.name), .notEqual, .string("iris"))),
    ValidFilter("name <> 'iris'", clause(.attribute(.name), .notEqual, .string("iris"))),
    ValidFilter("name LIKE 'iris%'", clause(.attribute(.name), .like, .string("iris%"))),
    ValidFilter("name like 'iris%'", clause(.attribute(.name), .like, .string("iris%"))),
    ValidFilter("name ILIKE '%IRIS_'", clause(.attribute(.name), .ilike, .string("%IRIS_"))),
    ValidFilter("name LIKE'iris%'", clause(.attribute(.name), .like, .string("iris%"))),
    ValidFilter("name IN ('a', 'b')", clause(.attribute(.name), .in, .list(["a", "b"]))),
    ValidFilter("name in('a')", clause(.attribute(.name), .in, .list(["a"]))),
    ValidFilter("name NOT IN ('a', \"b\")", clause(.attribute(.name), .notIn, .list(["a", "b"]))),
    ValidFilter("name not   in\n( 'a' ,'b' )", clause(.attribute(.name), .notIn, .list(["a", "b"]))),
    ValidFilter("run_id = 'abc123'", clause(.attribute(.runId), .equal, .string("abc123"))),
    ValidFilter("source LIKE 's3://bucket/%'", clause(.attribute(.source), .like, .string("s3://bucket/%"))),
    ValidFilter("status = 'READY'", clause(.attribute(.status), .equal, .string("READY"))),
    ValidFilter("current_stage IN ('Staging', 'Production')", clause(.attribute(.stage), .in, .list(["Staging", "Production"]))),
    ValidFilter("description ILIKE '%fraud%'", clause(.attribute(.description), .ilike, .string("%fraud%"))),
    ValidFilter("user_id != 'bob'", clause(.attribute(.userId), .notEqual, .string("bob"))),
    ValidFilter("name = ''", clause(.attribute(.name), .equal, .string(""))),
    // Numeric attributes.
    ValidFilter("version_number = 3", clause(.attribute(.version), .equal, .number(3))),
    ValidFilter("version = 3", clause(.attribute(.version), .equal, .number(3))),
    ValidFilter("attributes.version = 3", clause(.attribute(.version), .equal, .number(3))),
    ValidFilter("version_number = '3'", clause(.attribute(.version), .equal, .number(3))),
    ValidFilter("version_number != \"-2.5\"", clause(.attribute(.version), .notEqual, .number(-2.5))),
    ValidFilter(
        "version_number >= 2 AND version_number < 10",
        clause(.attribute(.version), .greaterOrEqual, .number(2)),
        clause(.attribute(.version), .less, .number(10))
    ),
    ValidFilter("version_number <= 7", clause(.attribute(.version), .lessOrEqual, .number(7))),
    ValidFilter("version_number > 7", clause(.attribute(.version), .greater, .number(7))),
    ValidFilter("creation_timestamp > 1700000000000", clause(.attribute(.creationTimestamp), .greater, .number(1_700_000_000_000))),
    ValidFilter("timestamp > 5", clause(.attribute(.creationTimestamp), .greater, .number(5))),
    ValidFilter("last_updated_timestamp <= 1.7e12", clause(.attribute(.lastUpdatedTimestamp), .lessOrEqual, .number(1.7e12))),
    ValidFilter("version_number IN (1, '2', 3.0, '04')", clause(.attribute(.version), .in, .list(["1", "2", "3", "4"]))),
    ValidFilter("version_number NOT IN (1.5)", clause(.attribute(.version), .notIn, .list(["1.5"]))),
    // Tags and params.
    ValidFilter("tags.team = 'nlp'", clause(.tag("team"), .equal, .string("nlp"))),
    ValidFilter("tag.team = 'nlp'", clause(.tag("team"), .equal, .string("nlp"))),
    ValidFilter("TAGS.Team = 'nlp'", clause(.tag("Team"), .equal, .string("nlp"))),
    ValidFilter("tags.`my key` = 'v'", clause(.tag("my key"), .equal, .string("v"))),
    ValidFilter("tags.\"my.key\" = 'v'", clause(.tag("my.key"), .equal, .string("v"))),
    ValidFilter("tags.a.b = 'v'", clause(.tag("a.b"), .equal, .string("v"))),
    ValidFilter("tags.`a``b` = 'v'", clause(.tag("a`b"), .equal, .string("v"))),
    ValidFilter("tags.team-name = 'v'", clause(.tag("team-name"), .equal, .string("v"))),
    ValidFilter("tags.name = 'v'", clause(.tag("name"), .equal, .string("v"))),
    ValidFilter("tags.team IN ('nlp', 'cv')", clause(.tag("team"), .in, .list(["nlp", "cv"]))),
    ValidFilter("tags.x IN (1, 2.50, -3)", clause(.tag("x"), .in, .list(["1", "2.50", "-3"]))),
    ValidFilter("tags.x NOT IN ('a')", clause(.tag("x"), .notIn, .list(["a"]))),
    ValidFilter("tags.x LIKE '%a%'", clause(.tag("x"), .like, .string("%a%"))),
    ValidFilter("params.lr = '0.01'", clause(.param("lr"), .equal, .string("0.01"))),
    ValidFilter("param.optimizer LIKE 'ad%'", clause(.param("optimizer"), .like, .string("ad%"))),
    ValidFilter("params.x ILIKE 'A%'", clause(.param("x"), .ilike, .string("A%"))),
    ValidFilter("params.model/layers != '3'", clause(.param("model/layers"), .notEqual, .string("3"))),
    ValidFilter("params.depth NOT IN ('1','2')", clause(.param("depth"), .notIn, .list(["1", "2"]))),
    // Metrics.
    ValidFilter("metrics.accuracy >= 0.9", clause(.metric("accuracy"), .greaterOrEqual, .number(0.9))),
    ValidFilter("metric.loss < 1e-3", clause(.metric("loss"), .less, .number(0.001))),
    ValidFilter("metrics.x = -2", clause(.metric("x"), .equal, .number(-2))),
    ValidFilter("metrics.x != +3", clause(.metric("x"), .notEqual, .number(3))),
    ValidFilter("metrics.x <> 3", clause(.metric("x"), .notEqual, .number(3))),
    ValidFilter("metrics.x > .5", clause(.metric("x"), .greater, .number(0.5))),
    ValidFilter("metrics.x > -.5", clause(.metric("x"), .greater, .number(-0.5))),
    ValidFilter("metrics.x > 5.", clause(.metric("x"), .greater, .number(5))),
    ValidFilter("metrics.x = 1E+2", clause(.metric("x"), .equal, .number(100))),
    ValidFilter("metrics.x>=1", clause(.metric("x"), .greaterOrEqual, .number(1))),
    ValidFilter("metrics.x<=-1", clause(.metric("x"), .lessOrEqual, .number(-1))),
    ValidFilter("metrics.`val loss` <= 0.25", clause(.metric("val loss"), .lessOrEqual, .number(0.25))),
    ValidFilter("metrics.val.loss < 0.3", clause(.metric("val.loss"), .less, .number(0.3))),
    ValidFilter("metrics.version > 1", clause(.metric("version"), .greater, .number(1))),
    // Escapes in strings.
    ValidFilter("name = 'it''s'", clause(.attribute(.name), .equal, .string("it's"))),
    ValidFilter("name = \"say \"\"hi\"\"\"", clause(.attribute(.name), .equal, .string("say \"hi\""))),
    ValidFilter("name = 'a\\'b'", clause(.attribute(.name), .equal, .string("a'b"))),
    ValidFilter("name = \"a\\\"b\"", clause(.attribute(.name), .equal, .string("a\"b"))),
    ValidFilter("name = 'a\\\\b'", clause(.attribute(.name), .equal, .string("a\\b"))),
    ValidFilter("name = 'a\"b'", clause(.attribute(.name), .equal, .string("a\"b"))),
    ValidFilter("name = 'tab\\there\\nnew\\rline'", clause(.attribute(.name), .equal, .string("tab\there\nnew\rline"))),
    ValidFilter("name LIKE '100\\%'", clause(.attribute(.name), .like, .string("100\\%"))),
    ValidFilter("name LIKE 'a\\_b'", clause(.attribute(.name), .like, .string("a\\_b"))),
    ValidFilter("tags.`a\\`b` = 'v'", clause(.tag("a`b"), .equal, .string("v"))),
    // Keywords inside strings are just text.
    ValidFilter("name = 'a AND b'", clause(.attribute(.name), .equal, .string("a AND b"))),
    ValidFilter("name = 'x OR y'", clause(.attribute(.name), .equal, .string("x OR y"))),
    ValidFilter("name = ')'", clause(.attribute(.name), .equal, .string(")"))),
    // Unicode.
    ValidFilter("name = 'ñandú 🐦'", clause(.attribute(.name), .equal, .string("ñandú 🐦"))),
    ValidFilter("tags.ключ = 'значение'", clause(.tag("ключ"), .equal, .string("значение"))),
    ValidFilter("tags.`🔥` = '👩‍👩‍👧'", clause(.tag("🔥"), .equal, .string("👩‍👩‍👧"))),
    ValidFilter("params.日本 = 'e\u{301}'", clause(.param("日本"), .equal, .string("e\u{301}"))),
    // Conjunctions.
    ValidFilter(
        "name = 'a' and version = 1 AnD tags.t = 'x'",
        clause(.attribute(.name), .equal, .string("a")),
        clause(.attribute(.version), .equal, .number(1)),
        clause(.tag("t"), .equal, .string("x"))
    ),
    ValidFilter(
        "name = 'a'\nAND\tversion = 1",
        clause(.attribute(.name), .equal, .string("a")),
        clause(.attribute(.version), .equal, .number(1))
    ),
    ValidFilter(
        "name='a'AND version=1",
        clause(.attribute(.name), .equal, .string("a")),
        clause(.attribute(.version), .equal, .number(1))
    ),
    ValidFilter(
        "name = 'iris' AND tags.team = 'nlp' AND metrics.accuracy >= 0.9 AND params.lr IN ('0.1', '0.01')",
        clause(.attribute(.name), .equal, .string("iris")),
        clause(.tag("team"), .equal, .string("nlp")),
        clause(.metric("accuracy"), .greaterOrEqual, .number(0.9)),
        clause(.param("lr"), .in, .list(["0.1", "0.01"]))
    ),
    ValidFilter(
        "name = 'a' AND name = 'a'",
        clause(.attribute(.name), .equal, .string("a")),
        clause(.attribute(.name), .equal, .string("a"))
    ),
]

@Test("valid filters parse to their exact AST", arguments: validFilters)
func validFilter(_ valid: ValidFilter) throws {
    let filter = try SearchFilterParser.parse(valid.text)
    #expect(filter == SearchFilter(clauses: valid.clauses))
}

// MARK: - Invalid filters

private let invalidFilters: [InvalidFilter] = [
    // Conjunctions.
    InvalidFilter("name = 'iris' AN version = 3", 15, "unexpected token 'AN' at column 15: expected AND"),
    InvalidFilter("name = 'a' OR name = 'b'", 12, "OR is not supported at column 12"),
    InvalidFilter("name = 'a' or name = 'b'", 12, "OR is not supported"),
    InvalidFilter("name = 'a' AND name = 'b' OR", 27, "OR is not supported"),
    InvalidFilter("name = 'a' AND", 15, "unexpected end of filter after AND"),
    InvalidFilter("name = 'a' AND   ", 18, "after AND"),
    InvalidFilter("name = 'a' name = 'b'", 12, "expected AND"),
    InvalidFilter("name = 'a' ORDER BY name", 12, "unexpected token 'ORDER'"),
    InvalidFilter("name = 'a' ANDname = 'b'", 12, "unexpected token 'ANDname'"),
    InvalidFilter("name = 'a' AND AND name = 'b'", 16, "unknown attribute 'AND'"),
    InvalidFilter("name = 'a' && name = 'b'", 12, "unexpected token '&'"),
    InvalidFilter("name = 'a',", 11, "expected AND"),
    // Keys.
    InvalidFilter("foo = 'x'", 1, "unknown attribute 'foo' at column 1: expected one of name, version_number"),
    InvalidFilter("foo.bar = 'x'", 1, "unknown key prefix 'foo'"),
    InvalidFilter("attributes.foo = 'x'", 12, "unknown attribute 'foo'"),
    InvalidFilter("run.id = 'x'", 1, "unknown key prefix 'run'"),
    InvalidFilter("tags. = 'x'", 6, "expected a key name after 'tags.'"),
    InvalidFilter("tags.`` = 'x'", 6, "empty key name"),
    InvalidFilter("tags.'x' = 'x'", 6, "expected a key name"),
    InvalidFilter("tags.`x = 'x'", 6, "unterminated string"),
    InvalidFilter("tags.`a`b = 'x'", 9, "expected an operator"),
    InvalidFilter("(name = 'a')", 1, "expected a key such as name"),
    InvalidFilter("= 'a'", 1, "expected a key"),
    InvalidFilter("'name' = 'a'", 1, "expected a key"),
    InvalidFilter("NOT name = 'a'", 1, "unknown attribute 'NOT'"),
    InvalidFilter("tags.🔥 = 'x'", 6, "expected a key name"),
    InvalidFilter("name = 'a' AND tags.\u{1F525} = 'x'", 21, "expected a key name"),
    // Operators.
    InvalidFilter("name", 5, "unexpected end of filter at column 5: expected an operator"),
    InvalidFilter("name 'x'", 6, "expected an operator"),
    InvalidFilter("name == 'x'", 6, "=="),
    InvalidFilter("name ! 'x'", 6, "unexpected token '!'"),
    InvalidFilter("name LIKES 'x'", 6, "unexpected token 'LIKES'"),
    InvalidFilter("name NOT LIKE 'x'", 10, "expected IN after NOT"),
    InvalidFilter("name NOT", 9, "expected IN after NOT"),
    InvalidFilter("name NOTIN ('a')", 6, "unexpected token 'NOTIN'"),
    InvalidFilter("name IS NULL", 6, "unexpected token 'IS'"),
    InvalidFilter("metrics.x LIKE '1'", 11, "operator LIKE is not supported for metrics.x at column 11: use one of =, !=, <, <=, >, >="),
    InvalidFilter("metrics.x IN (1)", 11, "operator IN is not supported for metrics.x"),
    InvalidFilter("metrics.x NOT IN (1)", 11, "operator NOT IN is not supported"),
    InvalidFilter("tags.x > 'a'", 8, "operator > is not supported for tags.x"),
    InvalidFilter("params.x < 'a'", 10, "operator < is not supported"),
    InvalidFilter("name >= 'a'", 6, "operator >= is not supported for name"),
    InvalidFilter("version_number LIKE '1%'", 16, "operator LIKE is not supported for version_number"),
    InvalidFilter("creation_timestamp ILIKE '1%'", 20, "operator ILIKE is not supported"),
    // Values.
    InvalidFilter("name =", 7, "expected a value"),
    InvalidFilter("name = iris", 8, "unexpected token 'iris' at column 8: expected a value"),
    InvalidFilter("name = 'iris", 8, "unterminated string starting at column 8: add a closing '"),
    InvalidFilter("name = \"iris", 8, "unterminated string"),
    InvalidFilter("name = 'iris\\'", 8, "unterminated string"),
    InvalidFilter("name = 'iris\\", 8, "unterminated string"),
    InvalidFilter("name = 'a\\qb'", 10, "unknown escape '\\q'"),
    InvalidFilter("name = 3", 8, "name compares strings but the value is the number 3"),
    InvalidFilter("tags.x = 1", 10, "expected a quoted string such as '1'"),
    InvalidFilter("params.x = 0.5", 12, "compares strings"),
    InvalidFilter("metrics.x = '1'", 13, "metrics.x compares numbers but the value is a string"),
    InvalidFilter("metrics.x = 'abc'", 13, "compares numbers"),
    InvalidFilter("version_number = 'abc'", 18, "'abc' is not a number"),
    InvalidFilter("version_number = ''", 18, "is not a number"),
    InvalidFilter("version_number = ' 3'", 18, "is not a number"),
    InvalidFilter("version_number = '3x'", 18, "is not a number"),
    InvalidFilter("version_number = '1e999'", 18, "is not a number"),
    InvalidFilter("metrics.x > 1.2.3", 13, "malformed number '1.2.3'"),
    InvalidFilter("metrics.x > 3abc", 13, "malformed number '3abc'"),
    InvalidFilter("metrics.x > 1e", 13, "malformed number"),
    InvalidFilter("metrics.x > 1e+", 13, "malformed number"),
    InvalidFilter("metrics.x > 3-2", 13, "malformed number"),
    InvalidFilter("metrics.x > 1e999", 13, "number '1e999' is out of range"),
    InvalidFilter("metrics.x > -", 13, "expected a value"),
    InvalidFilter("metrics.x > .", 13, "expected a value"),
    InvalidFilter("metrics.x > --1", 13, "expected a value"),
    InvalidFilter("metrics.x > NaN", 13, "unexpected token 'NaN'"),
    InvalidFilter("metrics.x > 1 2", 15, "expected AND"),
    // Lists.
    InvalidFilter("name IN ()", 9, "empty list at column 9"),
    InvalidFilter("name IN (  )", 9, "empty list"),
    InvalidFilter("name IN ('a',)", 14, "expected a value"),
    InvalidFilter("name IN ('a',", 9, "unterminated list"),
    InvalidFilter("name IN ('a'", 9, "unterminated list"),
    InvalidFilter("name IN (", 9, "unterminated list"),
    InvalidFilter("name IN ('a' 'b')", 14, "expected ',' or ')'"),
    InvalidFilter("name IN ('a';'b')", 13, "expected ',' or ')'"),
    InvalidFilter("name IN 'a'", 9, "expected '('"),
    InvalidFilter("name IN", 8, "expected '('"),
    InvalidFilter("name IN (('a'))", 10, "expected a value"),
    InvalidFilter("name IN (a)", 10, "unexpected token 'a'"),
    InvalidFilter("name = ('a')", 8, "unexpected list at column 8: a parenthesised list may only follow IN or NOT IN"),
    InvalidFilter("version_number IN (1, 'x')", 23, "'x' is not a number"),
    InvalidFilter("version_number IN (1, 2", 19, "unterminated list"),
    // Control characters.
    InvalidFilter("\u{0}", 1, "control character U+0000 at column 1"),
    InvalidFilter("name = 'a\u{0}'", 10, "control character U+0000"),
    InvalidFilter("name = 'a\u{7F}'", 10, "control character U+007F"),
    InvalidFilter("name = 'a\u{85}'", 10, "control character U+0085"),
    InvalidFilter("name\u{1B}[31m = 'a'", 5, "control character U+001B"),
    InvalidFilter("name = 'a\tb'", 10, "control character U+0009 inside quotes at column 10: write it as an escape"),
    InvalidFilter("name = 'a\nb'", 10, "control character U+000A inside quotes"),
    InvalidFilter("name = 'a\r\nb'", 10, "inside quotes"),
    // Columns count characters, not scalars or bytes.
    InvalidFilter("tags.`é🔥` = 'x' AN x", 17, "unexpected token 'AN' at column 17: expected AND"),
    InvalidFilter("tags.`e\u{301}🔥` = 'x' AN x", 17, "unexpected token 'AN' at column 17: expected AND"),
    InvalidFilter("name = '👩‍👩‍👧' x", 12, "unexpected token 'x' at column 12"),
    InvalidFilter("name = 'é' = 'x'", 12, "unexpected token '='"),
]

@Test("invalid filters fail at the right column", arguments: invalidFilters)
func invalidFilter(_ invalid: InvalidFilter) {
    #expect {
        _ = try SearchFilterParser.parse(invalid.text)
    } throws: { error in
        guard let error = error as? SearchFilterError else { return false }
        #expect(error.column == invalid.column, "\(error.message)")
        #expect(error.message.contains(invalid.fragment), "\(error.message)")
        #expect(error.message.contains("at column \(error.column)"))
        return true
    }
}

@Test func errorMessageIsTheDescription() {
    do {
        _ = try SearchFilterParser.parse("name = 'iris' AND x.y = 1")
        Issue.record("expected an error")
    } catch {
        #expect(error.column == 19)
        #expect(error.description == error.message)
        #expect(
            error.message
                == "unknown key prefix 'x' at column 19: expected attributes., tags., metrics. or params. (or attribute., attr., tag., metric., param.)"
        )
        #expect(error == SearchFilterError(message: error.message, column: 19))
    }
}

// MARK: - Limits

@Test func oneHundredClausesAreAccepted() throws {
    let text = Array(repeating: "metrics.m >= 0.5", count: 100).joined(separator: " AND ")
    let filter = try SearchFilterParser.parse(text)
    #expect(filter.clauses.count == 100)
    #expect(filter.clauses.allSatisfy { $0 == clause(.metric("m"), .greaterOrEqual, .number(0.5)) })
}

@Test func theHundredAndFirstClauseIsRejected() {
    let one = "metrics.m >= 0.5"
    let text = Array(repeating: one, count: 101).joined(separator: " AND ")
    #expect(throws: SearchFilterError.self) { try SearchFilterParser.parse(text) }
    do {
        _ = try SearchFilterParser.parse(text)
    } catch {
        #expect(error.column == 100 * (one.count + 5) + 1)
        #expect(error.message.contains("too many clauses"))
    }
}

@Test func tenThousandCharactersAreAccepted() throws {
    let body = String(repeating: "a", count: SearchFilterParser.maximumLength - 9)
    let text = "name = '\(body)'"
    #expect(text.count == 10_000)
    let filter = try SearchFilterParser.parse(text)
    #expect(filter == SearchFilter(clauses: [clause(.attribute(.name), .equal, .string(body))]))
}

@Test func longerFiltersAreRejected() {
    let texts = [
        "name = '" + String(repeating: "a", count: 9_992) + "'",
        String(repeating: " ", count: 10_001),
        String(repeating: "(", count: 1_000_000),
        "name = '" + String(repeating: "é", count: 20_000),
    ]
    for text in texts {
        do {
            _ = try SearchFilterParser.parse(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.column == 10_001)
            #expect(error.message == "filter too long at column 10001: at most 10000 characters are allowed")
        }
    }
}

@Test func lengthCountsCharactersNotScalars() throws {
    // 9,990 characters, each one letter and a combining mark: 19,980 scalars.
    let body = String(repeating: "e\u{301}", count: 9_990)
    let filter = try SearchFilterParser.parse("name = '\(body)'")
    #expect(filter.clauses.first?.value == .string(body))
}

@Test(.timeLimit(.minutes(3)))
func hostileInputsFailQuickly() {
    let hostile = [
        String(repeating: "(", count: 9_999),
        String(repeating: "'", count: 9_999),
        "name = '" + String(repeating: "\\", count: 9_990),
        "name = '" + String(repeating: "''", count: 4_990),
        "name IN (" + String(repeating: "'a',", count: 2_400),
        String(repeating: "name = 'a' AND ", count: 600),
        String(repeating: "tags.", count: 1_999),
        String(repeating: "\u{301}", count: 9_999),
        "metrics.x > " + String(repeating: "9", count: 9_980),
        "metrics.x > 0." + String(repeating: "0", count: 9_980) + "1",
    ]
    for text in hostile {
        do {
            _ = try SearchFilterParser.parse(text)
        } catch {
            #expect(error.column >= 1 && error.column <= text.count + 1)
        }
    }
}

@Test func longListsParse() throws {
    let text = "name IN (" + Array(repeating: "'a'", count: 2_000).joined(separator: ",") + ")"
    let filter = try SearchFilterParser.parse(text)
    #expect(filter == SearchFilter(clauses: [clause(.attribute(.name), .in, .list(Array(repeating: "a", count: 2_000)))]))
}

// MARK: - Order terms

private let validOrders: [ValidOrder] = [
    ValidOrder(terms: [], orders: []),
    ValidOrder(terms: ["name"], orders: [SearchOrder(key: .attribute(.name), ascending: true)]),
    ValidOrder(terms: ["name ASC"], orders: [SearchOrder(key: .attribute(.name), ascending: true)]),
    ValidOrder(terms: ["  name   DESC  "], orders: [SearchOrder(key: .attribute(.name), ascending: false)]),
    ValidOrder(terms: ["version_number DESC"], orders: [SearchOrder(key: .attribute(.version), ascending: false)]),
    ValidOrder(terms: ["version desc"], orders: [SearchOrder(key: .attribute(.version), ascending: false)]),
    ValidOrder(terms: ["creation_timestamp ASC"], orders: [SearchOrder(key: .attribute(.creationTimestamp), ascending: true)]),
    ValidOrder(terms: ["timestamp"], orders: [SearchOrder(key: .attribute(.creationTimestamp), ascending: true)]),
    ValidOrder(terms: ["last_updated_timestamp DESC"], orders: [SearchOrder(key: .attribute(.lastUpdatedTimestamp), ascending: false)]),
    ValidOrder(terms: ["attributes.name Desc"], orders: [SearchOrder(key: .attribute(.name), ascending: false)]),
    ValidOrder(terms: ["metrics.accuracy DESC"], orders: [SearchOrder(key: .metric("accuracy"), ascending: false)]),
    ValidOrder(terms: ["metrics.`val loss`"], orders: [SearchOrder(key: .metric("val loss"), ascending: true)]),
    ValidOrder(terms: ["tags.team"], orders: [SearchOrder(key: .tag("team"), ascending: true)]),
    ValidOrder(terms: ["params.\"lr\" asc"], orders: [SearchOrder(key: .param("lr"), ascending: true)]),
    ValidOrder(
        terms: ["name", "version DESC", "metrics.f1 DESC"],
        orders: [
            SearchOrder(key: .attribute(.name), ascending: true),
            SearchOrder(key: .attribute(.version), ascending: false),
            SearchOrder(key: .metric("f1"), ascending: false),
        ]
    ),
]

@Test("valid order terms", arguments: validOrders)
func validOrder(_ valid: ValidOrder) throws {
    #expect(try SearchFilterParser.parseOrder(valid.terms) == valid.orders)
}

private let invalidOrders: [InvalidOrder] = [
    InvalidOrder(terms: [""], column: 1, fragment: "order term 1: empty order term at column 1"),
    InvalidOrder(terms: ["   "], column: 4, fragment: "empty order term"),
    InvalidOrder(terms: ["name DOWN"], column: 6, fragment: "order term 1: unexpected token 'DOWN' at column 6: expected ASC, DESC"),
    InvalidOrder(terms: ["name DESC x"], column: 11, fragment: "unexpected token 'x'"),
    InvalidOrder(terms: ["name DESC DESC"], column: 11, fragment: "expected the end of the term"),
    InvalidOrder(terms: ["name", "foo"], column: 1, fragment: "order term 2: unknown attribute 'foo' at column 1"),
    InvalidOrder(terms: ["name, version"], column: 5, fragment: "unexpected token ','"),
    InvalidOrder(terms: ["metrics. DESC"], column: 9, fragment: "expected a key name"),
    InvalidOrder(terms: ["tags.`team DESC"], column: 6, fragment: "unterminated string"),
    InvalidOrder(terms: ["name DESC;"], column: 10, fragment: "unexpected token ';'"),
    InvalidOrder(terms: ["foo.bar"], column: 1, fragment: "unknown key prefix"),
    InvalidOrder(terms: ["name\u{0}"], column: 5, fragment: "control character U+0000"),
    InvalidOrder(terms: ["name ASCENDING"], column: 6, fragment: "expected ASC, DESC"),
    InvalidOrder(terms: ["name", "name", String(repeating: "a", count: 10_001)], column: 10_001, fragment: "order term 3: term too long"),
    InvalidOrder(terms: Array(repeating: "name", count: 101), column: 1, fragment: "too many order terms (101)"),
]

@Test("invalid order terms", arguments: invalidOrders)
func invalidOrder(_ invalid: InvalidOrder) {
    #expect {
        _ = try SearchFilterParser.parseOrder(invalid.terms)
    } throws: { error in
        guard let error = error as? SearchFilterError else { return false }
        #expect(error.column == invalid.column, "\(error.message)")
        #expect(error.message.contains(invalid.fragment), "\(error.message)")
        return true
    }
}

// MARK: - Fuzzing

/// SplitMix64: a small, fixed-seed generator so every run mutates the same way.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes a filter back as text, so a parsed filter can be parsed again.
private func render(_ filter: SearchFilter) -> String {
    func quote(_ text: String, _ mark: Character) -> String {
        var out = String(mark)
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\r\n": out += "\\r\\n"
            case mark: out += String([mark, mark])
            default: out.append(character)
            }
        }
        out.append(mark)
        return out
    }
    func key(_ key: SearchKey) -> String {
        switch key {
        case .attribute(let attribute): attribute.rawValue
        case .tag(let name): "tags." + quote(name, "`")
        case .metric(let name): "metrics." + quote(name, "`")
        case .param(let name): "params." + quote(name, "`")
        }
    }
    func value(_ value: SearchValue) -> String {
        switch value {
        case .string(let string): quote(string, "'")
        case .number(let number): "\(number)"
        case .list(let items): "(" + items.map { quote($0, "'") }.joined(separator: ", ") + ")"
        }
    }
    return filter.clauses.map { "\(key($0.key)) \($0.op.rawValue) \(value($0.value))" }.joined(separator: " AND ")
}

private let fuzzSeeds = [
    "name = 'iris' AND tags.team = 'nlp' AND metrics.accuracy >= 0.9",
    "version_number IN (1, '2', 3.5) AND creation_timestamp > 1700000000000",
    "tags.`my key` NOT IN ('a', \"b\") AND params.\"lr.max\" LIKE 'x\\%'",
    "attr.name ILIKE '%it''s%' and metric.loss < -1e-3 AND source != \"s3://b\\\\c\"",
    "params.x <> 'y' AND version <= '7' AND tags.ключ = '🔥' AND user_id IN ('a')",
]

private let fuzzPieces: [String] = [
    "'", "\"", "`", "\\", "(", ")", ",", ".", "=", "!", "<", ">", "-", "+", "e", "%", "_", " ", "\t", "\n", "\r",
    "\u{0}", "\u{1F}", "\u{7F}", "\u{85}", "\u{301}", "\u{200D}", "\u{FEFF}", "\u{202E}", "🔥", "é", "ß", "日",
    "AND", " AND ", "OR", "NOT", "IN", "LIKE", "tags.", "metrics.", "params.", "attr.", "0", "9", "1e308", "1e999",
]

/// Applies one random edit to `scalars`.
private func mutate(_ scalars: inout [Unicode.Scalar], using rng: inout SplitMix64) {
    let count = scalars.count
    let at = count == 0 ? 0 : Int.random(in: 0...count, using: &rng)
    switch Int.random(in: 0..<7, using: &rng) {
    case 0:  // insert a piece
        let piece = fuzzPieces[Int.random(in: 0..<fuzzPieces.count, using: &rng)]
        scalars.insert(contentsOf: piece.unicodeScalars, at: at)
    case 1:  // insert a random scalar
        let value = UInt32.random(in: 0...0x2FFFF, using: &rng)
        if let scalar = Unicode.Scalar(value) { scalars.insert(scalar, at: at) }
    case 2:  // delete a range
        guard at < count else { return }
        let end = min(count, at + Int.random(in: 1...4, using: &rng))
        scalars.removeSubrange(at..<end)
    case 3:  // replace one scalar with an ASCII byte
        guard at < count else { return }
        scalars[at] = Unicode.Scalar(UInt8.random(in: 0...127, using: &rng))
    case 4:  // duplicate a range
        guard at < count else { return }
        let end = min(count, at + Int.random(in: 1...12, using: &rng))
        scalars.insert(contentsOf: scalars[at..<end], at: Int.random(in: 0...count, using: &rng))
    case 5:  // truncate
        scalars.removeSubrange(at..<count)
    default:  // swap two scalars
        guard count > 1 else { return }
        scalars.swapAt(Int.random(in: 0..<count, using: &rng), Int.random(in: 0..<count, using: &rng))
    }
}

@Test(.timeLimit(.minutes(3)))
func fuzzedFiltersParseOrThrow() throws {
    var rng = SplitMix64(state: 0x5EED_0F_F11E)
    var parsed = 0
    var failed = 0
    for iteration in 0..<4_000 {
        var scalars = Array(fuzzSeeds[iteration % fuzzSeeds.count].unicodeScalars)
        for _ in 0..<Int.random(in: 1...4, using: &rng) { mutate(&scalars, using: &rng) }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        let text = String(view)
        do {
            let filter = try SearchFilterParser.parse(text)
            parsed += 1
            // Whatever parses must survive being written back and parsed again.
            let again = try SearchFilterParser.parse(render(filter))
            #expect(again == filter, "\(text.debugDescription) -> \(render(filter).debugDescription)")
        } catch {
            failed += 1
            #expect(error.column >= 1 && error.column <= text.count + 1, "\(text.debugDescription): \(error.message)")
            #expect(error.message.contains("at column \(error.column)"), "\(error.message)")
        }
    }
    // Both outcomes must be exercised for the fuzzing to mean anything.
    #expect(parsed > 100)
    #expect(failed > 100)
}

@Test(.timeLimit(.minutes(3)))
func fuzzedOrderTermsParseOrThrow() {
    var rng = SplitMix64(state: 42)
    let seeds = ["name DESC", "metrics.`val loss` asc", "tags.\"a.b\"", "version", "attr.last_updated_timestamp DESC"]
    for iteration in 0..<2_000 {
        var scalars = Array(seeds[iteration % seeds.count].unicodeScalars)
        for _ in 0..<Int.random(in: 1...3, using: &rng) { mutate(&scalars, using: &rng) }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        let term = String(view)
        do {
            let orders = try SearchFilterParser.parseOrder([term])
            #expect(orders.count == 1)
        } catch {
            #expect(error.column >= 1 && error.column <= term.count + 1, "\(term.debugDescription): \(error.message)")
        }
    }
}

@Test func fuzzGeneratorIsDeterministic() {
    var first = SplitMix64(state: 7)
    var second = SplitMix64(state: 7)
    #expect((0..<16).map { _ in first.next() } == (0..<16).map { _ in second.next() })
}
