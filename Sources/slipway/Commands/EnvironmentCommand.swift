import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore
import SlipwayPipeline
import SlipwayServer

/// `slipway env …`: protected deployment environments.
struct EnvironmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env",
        abstract: "Create and inspect protected deployment environments.",
        discussion: """
            A workflow job with `environment: NAME` waits until one of the environment's reviewers approves it \
            (`slipway approve RUN --env NAME`), then waits out the wait timer, and only then receives the \
            environment's secrets. --branches limits which branches may deploy to it.
            """,
        subcommands: [Create.self, List.self, Show.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an environment, or replace its protection rules.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The environment's name, e.g. production.") var name: String
        @Option(name: .long, help: "Comma-separated user names; one of them must approve each deployment.") var reviewers: String?
        @Option(name: .long, help: "How long an approved job still waits, e.g. 30s, 10m, 2h.") var waitTimer: String?
        @Flag(name: .long, help: "The person who started a run cannot approve it.") var preventSelfReview = false
        @Option(name: .long, help: "Comma-separated branch patterns allowed to deploy here, e.g. main,release/*.") var branches: String?

        func run() async throws {
            try await Output.run(json: global.json) {
                let reviewerList = Self.list(reviewers)
                if preventSelfReview, reviewerList.isEmpty {
                    throw GenericError(.invalidArgument, "--prevent-self-review needs --reviewers")
                }
                let environment = DeploymentEnvironment(
                    name: name, reviewers: reviewerList, waitTimerSeconds: try waitTimer.map(DeploymentEnvironment.waitTimer) ?? 0,
                    preventSelfReview: preventSelfReview, branches: branches.map(Self.list))
                let saved = try EnvironmentStore(dataDir: global.configuration().dataDir).save(environment)
                if global.json { Output.json(saved) } else { EnvironmentCommand.print(saved) }
            }
        }

        static func list(_ text: String?) -> [String] {
            (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List environments.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await Output.run(json: global.json) {
                let environments = try EnvironmentStore(dataDir: global.configuration().dataDir).list()
                if global.json { Output.json(environments); return }
                if environments.isEmpty { Output.line("No environments."); return }
                Output.table(
                    ["NAME", "REVIEWERS", "WAIT", "BRANCHES"],
                    environments.map {
                        [$0.name, $0.reviewers.isEmpty ? "-" : $0.reviewers.joined(separator: ","), "\($0.waitTimerSeconds)s",
                         $0.branches?.joined(separator: ",") ?? "all"]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an environment's protection rules.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The environment's name.") var name: String

        func run() async throws {
            try await Output.run(json: global.json) {
                guard let environment = try EnvironmentStore(dataDir: global.configuration().dataDir).get(name) else {
                    throw GenericError(.notFound, "there is no environment '\(name)'")
                }
                if global.json { Output.json(environment) } else { EnvironmentCommand.print(environment) }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an environment (its secrets stay until deleted).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The environment's name.") var name: String

        func run() async throws {
            try await Output.run(json: global.json) {
                guard try EnvironmentStore(dataDir: global.configuration().dataDir).delete(name) else {
                    throw GenericError(.notFound, "there is no environment '\(name)'")
                }
                if global.json { Output.json(["name": name, "deleted": "true"]) } else { Output.line("Deleted environment \(name).") }
            }
        }
    }

    static func print(_ environment: DeploymentEnvironment) {
        Output.line("Environment \(environment.name)")
        Output.line("  reviewers:          \(environment.reviewers.isEmpty ? "none (no approval needed)" : environment.reviewers.joined(separator: ", "))")
        Output.line("  wait timer:         \(environment.waitTimerSeconds) s")
        Output.line("  prevent self-review: \(environment.preventSelfReview ? "yes" : "no")")
        Output.line("  branches:           \(environment.branches?.joined(separator: ", ") ?? "all")")
    }
}

/// `slipway approve RUN --env NAME`: a reviewer's answer to a job waiting for a protected environment.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve (or --reject) a run's deployment to a protected environment.",
        discussion: "Without RUN, lists the deployments waiting for approval. The reviewer is the local user ($USER)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The run id.") var run: String?
    @Option(name: .long, help: "The environment the run waits for.") var env: String?
    @Flag(name: .long, help: "Reject instead of approving: the waiting jobs fail.") var reject = false
    @Option(name: .long, help: "A comment stored with the decision.") var comment: String?

    func run() async throws {
        try await Output.run(json: global.json) {
            let book = ApprovalBook(dataDir: try global.configuration().dataDir)
            guard let run else {
                let pending = try book.pending()
                if global.json { Output.json(pending); return }
                if pending.isEmpty { Output.line("Nothing waits for approval."); return }
                Output.table(
                    ["RUN", "ENVIRONMENT", "JOBS", "STARTED BY", "WAITING SINCE"],
                    pending.map { [$0.run, $0.environment, $0.jobs.joined(separator: ","), $0.requestedBy, Timestamp.format($0.requestedAt)] })
                return
            }
            guard let env else { throw GenericError(.invalidArgument, "name the environment with --env") }
            let reviewer = InProcessClient.localPrincipal().name
            let decision = try book.decide(run: run, environment: env, reviewer: reviewer, approve: !reject, comment: comment)
            if global.json { Output.json(decision) } else { Output.line("Run \(run): deployment to \(env) \(decision.state.rawValue) by \(reviewer).") }
        }
    }
}
