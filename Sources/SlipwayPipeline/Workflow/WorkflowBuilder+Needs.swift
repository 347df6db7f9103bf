import SlipwayCore
import Yams
import SlipwayYAML

extension WorkflowBuilder {
    /// Reports `needs` entries naming missing jobs, and every cycle of `needs`, named in order
    /// (`a → b → a`), at the `needs` of the cycle's first job in the file.
    func checkNeeds(_ jobs: [Job], fields: YAMLFields) {
        let ids = jobs.map(\.id)
        let index = Dictionary(jobs.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        for job in jobs {
            for need in job.needs where index[need] == nil {
                var message = "jobs.\(job.id).needs names '\(need)', which is not a job of this workflow"
                if let close = Suggestion.closest(to: need, in: ids) {
                    message += "; did you mean '\(close)'?"
                } else {
                    message += " (jobs: \(ids.joined(separator: ", ")))"
                }
                reader.report(needsNode(of: job.id, naming: need, in: fields), message)
            }
        }
        // Depth-first search in file order (iterative, so long chains cannot exhaust the stack);
        // a grey job reached again closes a cycle.
        enum Mark { case white, grey, black }
        var marks = [Mark](repeating: .white, count: jobs.count)
        var reported = Set<[Int]>()
        for root in jobs.indices where marks[root] == .white {
            var stack: [(job: Int, next: Int)] = [(root, 0)]
            marks[root] = .grey
            while let top = stack.last {
                let needs = jobs[top.job].needs
                guard top.next < needs.count else {
                    marks[top.job] = .black
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                guard let j = index[needs[top.next]] else { continue }
                switch marks[j] {
                case .white:
                    marks[j] = .grey
                    stack.append((j, 0))
                case .grey:
                    guard let start = stack.lastIndex(where: { $0.job == j }) else { continue }
                    var cycle = stack[start...].map(\.job)
                    // Name the cycle from its earliest job in the file, following `needs`.
                    if let first = cycle.indices.min(by: { cycle[$0] < cycle[$1] }) {
                        cycle = Array(cycle[first...] + cycle[..<first])
                    }
                    guard reported.insert(cycle).inserted else { continue }
                    let names = (cycle + [cycle[0]]).map { jobs[$0].id }
                    let next = jobs[cycle.count > 1 ? cycle[1] : cycle[0]].id
                    reader.report(
                        needsNode(of: jobs[cycle[0]].id, naming: next, in: fields),
                        "jobs.\(jobs[cycle[0]].id).needs forms a cycle: \(names.joined(separator: " → ")); a job cannot wait for itself"
                    )
                case .black:
                    break
                }
            }
        }
    }

    /// The node of `need` in the `needs` of job `id` (or the `needs` value, or the job's key).
    func needsNode(of id: String, naming need: String, in fields: YAMLFields) -> Node? {
        guard case .mapping(let jobs)? = fields["jobs"] else { return nil }
        for (key, value) in jobs where key.string == id {
            guard case .mapping(let job) = value else { return key }
            for (field, needs) in job where field.string == "needs" {
                if case .sequence(let items) = needs {
                    return items.first { $0.string == need } ?? needs
                }
                return needs
            }
            return key
        }
        return nil
    }
}
