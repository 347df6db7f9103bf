/// Whether a workflow runs for an event.
public struct TriggerEvent: Sendable, Equatable {
    /// `push` or `workflow_dispatch` (others are accepted by name).
    public var name: String
    /// The branch pushed (`main`), or nil for a tag push.
    public var branch: String?
    /// The tag pushed, or nil.
    public var tag: String?
    /// Paths changed by the push, relative to the repository root (from `git diff`); nil when unknown
    /// (path filters then match, as GitHub does for a first push).
    public var changedPaths: [String]?

    public init(name: String, branch: String? = nil, tag: String? = nil, changedPaths: [String]? = nil) {
        self.name = name
        self.branch = branch
        self.tag = tag
        self.changedPaths = changedPaths
    }
}

extension WorkflowTriggers {
    /// Whether the workflow runs for `event`, applying branch, tag and path filters with GitHub's
    /// pattern syntax and its rules for positive and negative (`!`) patterns.
    public func matches(_ event: TriggerEvent) -> Bool {
        switch event.name {
        case "push": push?.matches(event) ?? false
        case "workflow_dispatch": workflowDispatch != nil
        default: otherEvents.contains(event.name)
        }
    }
}

extension PushTrigger {
    /// Whether a push runs the workflow, with GitHub's rules:
    ///
    /// - With only branch filters, tag pushes do not run it; with only tag filters, branch pushes
    ///   do not; with both or neither, both kinds of push are filtered by their own filters.
    /// - `branches`/`tags`/`paths` include what their patterns match (the last matching pattern
    ///   decides; a `!` pattern excludes); the `-ignore` forms exclude what theirs match.
    /// - Path filters apply to branch pushes only, and then as well as the branch filters: `paths`
    ///   needs at least one changed path it includes; `paths-ignore` runs unless every changed
    ///   path is ignored. Unknown changed paths (nil) match.
    public func matches(_ event: TriggerEvent) -> Bool {
        let branchFilters = branches != nil || branchesIgnore != nil
        let tagFilters = tags != nil || tagsIgnore != nil
        if let tag = event.tag {
            if branchFilters && !tagFilters { return false }
            if let tags, !FilterPattern.includes(tags, tag) { return false }
            if let tagsIgnore, FilterPattern.includes(tagsIgnore, tag) { return false }
            return true
        }
        if let branch = event.branch {
            if tagFilters && !branchFilters { return false }
            if let branches, !FilterPattern.includes(branches, branch) { return false }
            if let branchesIgnore, FilterPattern.includes(branchesIgnore, branch) { return false }
            return pathsMatch(event.changedPaths)
        }
        // A push of an unknown ref: only a workflow without ref filters can run.
        if branchFilters || tagFilters { return false }
        return pathsMatch(event.changedPaths)
    }

    /// The path filters against the changed paths.
    func pathsMatch(_ changed: [String]?) -> Bool {
        guard let changed else { return true }
        if let paths {
            return changed.contains { FilterPattern.includes(paths, $0) }
        }
        if let pathsIgnore {
            return changed.contains { !FilterPattern.includes(pathsIgnore, $0) }
        }
        return true
    }
}
