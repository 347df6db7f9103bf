import Testing

@testable import SlipwayPipeline

/// One pattern, one text, whether it matches.
struct PatternCase: CustomTestStringConvertible, Sendable {
    var pattern: String
    var text: String
    var matches: Bool
    var testDescription: String { "\(pattern) \(matches ? "matches" : "does not match") \(text)" }
}

@Suite("Trigger filters")
struct TriggerFilterTests {
    /// GitHub's filter pattern cheat sheet, plus the corners of each special character.
    static let patterns: [PatternCase] = [
        // Branches and tags.
        .init(pattern: "feature/*", text: "feature/my-branch", matches: true),
        .init(pattern: "feature/*", text: "feature/your-branch", matches: true),
        .init(pattern: "feature/*", text: "feature/a/b", matches: false),
        .init(pattern: "feature/**", text: "feature/beta-a/my-branch", matches: true),
        .init(pattern: "feature/**", text: "feature/your-branch", matches: true),
        .init(pattern: "feature/**", text: "feature/mona/the/octocat", matches: true),
        .init(pattern: "main", text: "main", matches: true),
        .init(pattern: "main", text: "main2", matches: false),
        .init(pattern: "releases/mona-the-octocat", text: "releases/mona-the-octocat", matches: true),
        .init(pattern: "*", text: "main", matches: true),
        .init(pattern: "*", text: "releases", matches: true),
        .init(pattern: "*", text: "releases/v1", matches: false),
        .init(pattern: "**", text: "all/the/branches", matches: true),
        .init(pattern: "*feature", text: "mona-feature", matches: true),
        .init(pattern: "*feature", text: "feature", matches: true),
        .init(pattern: "*feature", text: "ver-10-feature", matches: true),
        .init(pattern: "v2*", text: "v2", matches: true),
        .init(pattern: "v2*", text: "v2.0", matches: true),
        .init(pattern: "v2*", text: "v2.9", matches: true),
        .init(pattern: "v2*", text: "v3", matches: false),
        .init(pattern: "v[12].[0-9]+.[0-9]+", text: "v1.10.1", matches: true),
        .init(pattern: "v[12].[0-9]+.[0-9]+", text: "v2.0.0", matches: true),
        .init(pattern: "v[12].[0-9]+.[0-9]+", text: "v3.0.0", matches: false),
        .init(pattern: "v[12].[0-9]+.[0-9]+", text: "v1..1", matches: false),
        .init(pattern: "[CB]at", text: "Cat", matches: true),
        .init(pattern: "[CB]at", text: "Bat", matches: true),
        .init(pattern: "[CB]at", text: "Hat", matches: false),
        .init(pattern: "[1-2]00", text: "200", matches: true),
        .init(pattern: "[1-2]00", text: "300", matches: false),
        .init(pattern: "Octoc?at", text: "Octocat", matches: true),
        .init(pattern: "Octoc?at", text: "Octoat", matches: true),
        .init(pattern: "Octoc?at", text: "Octoccat", matches: false),
        .init(pattern: "v1+", text: "v111", matches: true),
        .init(pattern: "v1+", text: "v", matches: false),
        .init(pattern: "release\\*", text: "release*", matches: true),
        .init(pattern: "release\\*", text: "release1", matches: false),
        .init(pattern: "Main", text: "main", matches: false),
        // Paths.
        .init(pattern: "*", text: "README.md", matches: true),
        .init(pattern: "*", text: "server.rb", matches: true),
        .init(pattern: "*", text: "docs/README.md", matches: false),
        .init(pattern: "*.jsx?", text: "page.js", matches: true),
        .init(pattern: "*.jsx?", text: "page.jsx", matches: true),
        .init(pattern: "*.jsx?", text: "page.jsxx", matches: false),
        .init(pattern: "**", text: "all/the/files.md", matches: true),
        .init(pattern: "*.js", text: "app.js", matches: true),
        .init(pattern: "*.js", text: "index.js", matches: true),
        .init(pattern: "*.js", text: "src/app.js", matches: false),
        .init(pattern: "**.js", text: "index.js", matches: true),
        .init(pattern: "**.js", text: "js/index.js", matches: true),
        .init(pattern: "**.js", text: "src/js/app.js", matches: true),
        .init(pattern: "docs/*", text: "docs/README.md", matches: true),
        .init(pattern: "docs/*", text: "docs/file.txt", matches: true),
        .init(pattern: "docs/*", text: "docs/mona/octocat.txt", matches: false),
        .init(pattern: "docs/**", text: "docs/README.md", matches: true),
        .init(pattern: "docs/**", text: "docs/mona/octocat.txt", matches: true),
        .init(pattern: "docs/**", text: "documents/x", matches: false),
        .init(pattern: "docs/**/*.md", text: "docs/README.md", matches: true),
        .init(pattern: "docs/**/*.md", text: "docs/mona/hello-world.md", matches: true),
        .init(pattern: "docs/**/*.md", text: "docs/a/markdown/file.md", matches: true),
        .init(pattern: "docs/**/*.md", text: "docs/a/file.txt", matches: false),
        .init(pattern: "**/docs/**", text: "docs/hello.md", matches: true),
        .init(pattern: "**/docs/**", text: "dir/docs/my-file.txt", matches: true),
        .init(pattern: "**/docs/**", text: "space/docs/plan/space.doc", matches: true),
        .init(pattern: "**/docs/**", text: "mydocs/x", matches: false),
        .init(pattern: "**/README.md", text: "README.md", matches: true),
        .init(pattern: "**/README.md", text: "js/README.md", matches: true),
        .init(pattern: "**/*src/**", text: "a/src/app.js", matches: true),
        .init(pattern: "**/*src/**", text: "my-src/code/js/app.js", matches: true),
        .init(pattern: "**/*-post.md", text: "my-post.md", matches: true),
        .init(pattern: "**/*-post.md", text: "path/their-post.md", matches: true),
        .init(pattern: "**/migrate-*.sql", text: "migrate-10909.sql", matches: true),
        .init(pattern: "**/migrate-*.sql", text: "db/migrate-v1.0.sql", matches: true),
        .init(pattern: "**/migrate-*.sql", text: "db/sept/migrate-v1.sql", matches: true),
        .init(pattern: "[", text: "[", matches: true),
        .init(pattern: "a[b", text: "a[b", matches: true),
        .init(pattern: "?x", text: "?x", matches: true),
    ]

    @Test("GitHub's filter patterns", arguments: patterns)
    func pattern(_ example: PatternCase) {
        #expect(FilterPattern(example.pattern).matches(example.text) == example.matches)
    }

    @Test("negative patterns: the last matching pattern decides (GitHub's documented examples)")
    func negation() {
        let mdNotReadme = ["*.md", "!README.md"]
        #expect(FilterPattern.includes(mdNotReadme, "hello.md"))
        #expect(!FilterPattern.includes(mdNotReadme, "README.md"))
        #expect(!FilterPattern.includes(mdNotReadme, "docs/hello.md"))
        let readmeBack = ["*.md", "!README.md", "README*"]
        #expect(FilterPattern.includes(readmeBack, "hello.md"))
        #expect(FilterPattern.includes(readmeBack, "README.md"))
        #expect(FilterPattern.includes(readmeBack, "README.doc"))
        #expect(!FilterPattern.includes(readmeBack, "docs/hello.md"))
        let releases = ["releases/**", "!releases/**-alpha"]
        #expect(FilterPattern.includes(releases, "releases/10"))
        #expect(FilterPattern.includes(releases, "releases/beta/mona"))
        #expect(!FilterPattern.includes(releases, "releases/10-alpha"))
        #expect(!FilterPattern.includes(releases, "releases/beta/3-alpha"))
        #expect(!FilterPattern.includes(["!main"], "main"))
        #expect(!FilterPattern.includes(["!main"], "dev"))
        #expect(!FilterPattern.includes([], "main"))
    }

    @Test("branch filters: branches includes, branches-ignore excludes, and tag pushes do not run")
    func branchFilters() {
        let triggers = WorkflowTriggers(push: PushTrigger(branches: ["main", "releases/**"]))
        #expect(triggers.matches(TriggerEvent(name: "push", branch: "main")))
        #expect(triggers.matches(TriggerEvent(name: "push", branch: "releases/v1/rc")))
        #expect(!triggers.matches(TriggerEvent(name: "push", branch: "dev")))
        #expect(!triggers.matches(TriggerEvent(name: "push", tag: "v1.0")))
        #expect(!triggers.matches(TriggerEvent(name: "workflow_dispatch")))

        let ignore = WorkflowTriggers(push: PushTrigger(branchesIgnore: ["mona/octocat", "releases/**-alpha"]))
        #expect(ignore.matches(TriggerEvent(name: "push", branch: "main")))
        #expect(!ignore.matches(TriggerEvent(name: "push", branch: "mona/octocat")))
        #expect(!ignore.matches(TriggerEvent(name: "push", branch: "releases/beta/3-alpha")))
        #expect(!ignore.matches(TriggerEvent(name: "push", tag: "v1")))
    }

    @Test("tag filters: branch pushes do not run; with both kinds of filter each push uses its own")
    func tagFilters() {
        let tags = WorkflowTriggers(push: PushTrigger(tags: ["v*"]))
        #expect(tags.matches(TriggerEvent(name: "push", tag: "v1.2")))
        #expect(!tags.matches(TriggerEvent(name: "push", tag: "nightly")))
        #expect(!tags.matches(TriggerEvent(name: "push", branch: "main")))

        let tagsIgnore = WorkflowTriggers(push: PushTrigger(tagsIgnore: ["*-rc"]))
        #expect(tagsIgnore.matches(TriggerEvent(name: "push", tag: "v1")))
        #expect(!tagsIgnore.matches(TriggerEvent(name: "push", tag: "v1-rc")))
        #expect(!tagsIgnore.matches(TriggerEvent(name: "push", branch: "main")))

        let both = WorkflowTriggers(push: PushTrigger(branches: ["main"], tags: ["v*"]))
        #expect(both.matches(TriggerEvent(name: "push", branch: "main")))
        #expect(both.matches(TriggerEvent(name: "push", tag: "v2")))
        #expect(!both.matches(TriggerEvent(name: "push", branch: "dev")))
        #expect(!both.matches(TriggerEvent(name: "push", tag: "x")))

        let none = WorkflowTriggers(push: PushTrigger())
        #expect(none.matches(TriggerEvent(name: "push", branch: "anything")))
        #expect(none.matches(TriggerEvent(name: "push", tag: "anything")))
    }

    @Test("paths: at least one changed path must be included; unknown changes match; tag pushes skip path filters")
    func pathFilters() {
        let triggers = WorkflowTriggers(push: PushTrigger(branches: ["main"], paths: ["src/**", "!src/**.md"]))
        #expect(triggers.matches(TriggerEvent(name: "push", branch: "main", changedPaths: ["README.md", "src/train.py"])))
        #expect(!triggers.matches(TriggerEvent(name: "push", branch: "main", changedPaths: ["README.md", "src/notes.md"])))
        #expect(!triggers.matches(TriggerEvent(name: "push", branch: "main", changedPaths: [])))
        #expect(triggers.matches(TriggerEvent(name: "push", branch: "main", changedPaths: nil)))
        // Both the branch and the path filter must be satisfied.
        #expect(!triggers.matches(TriggerEvent(name: "push", branch: "dev", changedPaths: ["src/train.py"])))

        let tagAndPaths = WorkflowTriggers(push: PushTrigger(tags: ["v*"], paths: ["src/**"]))
        #expect(tagAndPaths.matches(TriggerEvent(name: "push", tag: "v1", changedPaths: ["docs/x.md"])))
    }

    @Test("paths-ignore: runs unless every changed path is ignored")
    func pathsIgnore() {
        let triggers = WorkflowTriggers(push: PushTrigger(pathsIgnore: ["docs/**", "**.md"]))
        #expect(!triggers.matches(TriggerEvent(name: "push", branch: "main", changedPaths: ["docs/a.txt", "README.md"])))
        #expect(triggers.matches(TriggerEvent(name: "push", branch: "main", changedPaths: ["docs/a.txt", "src/app.py"])))
        #expect(triggers.matches(TriggerEvent(name: "push", branch: "main", changedPaths: nil)))
        #expect(!triggers.matches(TriggerEvent(name: "push", branch: "main", changedPaths: [])))
    }

    @Test("workflow_dispatch and other events match by name")
    func otherEvents() {
        let triggers = WorkflowTriggers(workflowDispatch: DispatchTrigger(), otherEvents: ["schedule"])
        #expect(triggers.matches(TriggerEvent(name: "workflow_dispatch")))
        #expect(triggers.matches(TriggerEvent(name: "schedule")))
        #expect(!triggers.matches(TriggerEvent(name: "push", branch: "main")))
        #expect(!triggers.matches(TriggerEvent(name: "pull_request")))
    }

    @Test("filters read from YAML behave the same")
    func parsedFilters() throws {
        let workflow = try parseWorkflow(
            """
            on:
              push:
                branches:
                  - main
                  - 'releases/**'
                  - '!releases/**-alpha'
                paths-ignore:
                  - 'docs/**'
            jobs:
              a:
                runs-on: linux
                steps:
                  - run: echo
            """)
        #expect(workflow.triggers.matches(TriggerEvent(name: "push", branch: "releases/2", changedPaths: ["src/a.py"])))
        #expect(!workflow.triggers.matches(TriggerEvent(name: "push", branch: "releases/2-alpha", changedPaths: ["src/a.py"])))
        #expect(!workflow.triggers.matches(TriggerEvent(name: "push", branch: "main", changedPaths: ["docs/index.md"])))
    }
}
