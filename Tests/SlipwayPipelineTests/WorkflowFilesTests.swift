import Foundation
import SlipwayCore
import Testing

@testable import SlipwayPipeline

@Suite("Workflow files")
struct WorkflowFilesTests {
    /// A temporary project with the given files (path → contents).
    func project(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-workflows-\(UUID().uuidString)").path
        for (path, contents) in files {
            let full = (root as NSString).appendingPathComponent(path)
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return root
    }

    let workflow = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n"

    @Test("discovery lists .slipway/workflows then .github/workflows, each sorted, .yml and .yaml only")
    func discover() throws {
        let root = try project([
            ".github/workflows/ci.yml": "name: CI\n" + workflow,
            ".github/workflows/b.yaml": workflow,
            ".github/workflows/notes.txt": "not a workflow",
            ".github/workflows/.hidden.yml": workflow,
            ".slipway/workflows/train.yml": "name: ML pipeline\n" + workflow,
            ".slipway/workflows/a.yml": workflow,
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(
            WorkflowFiles.discover(projectRoot: root) == [
                ".slipway/workflows/a.yml", ".slipway/workflows/train.yml", ".github/workflows/b.yaml", ".github/workflows/ci.yml",
            ])
        let empty = try project([:])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(WorkflowFiles.discover(projectRoot: empty).isEmpty)
    }

    @Test("resolve by path, file name (with or without extension) or name:, .slipway first")
    func resolve() throws {
        let root = try project([
            ".github/workflows/ci.yml": "name: CI\n" + workflow,
            ".github/workflows/train.yml": workflow,
            ".slipway/workflows/train.yml": "name: ML pipeline\n" + workflow,
            "custom/flow.yaml": workflow,
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try WorkflowFiles.resolve(name: "ci.yml", projectRoot: root) == ".github/workflows/ci.yml")
        #expect(try WorkflowFiles.resolve(name: "ci", projectRoot: root) == ".github/workflows/ci.yml")
        #expect(try WorkflowFiles.resolve(name: "train", projectRoot: root) == ".slipway/workflows/train.yml")
        #expect(try WorkflowFiles.resolve(name: ".github/workflows/train.yml", projectRoot: root) == ".github/workflows/train.yml")
        #expect(try WorkflowFiles.resolve(name: "./custom/flow.yaml", projectRoot: root) == "custom/flow.yaml")
        #expect(
            try WorkflowFiles.resolve(name: (root as NSString).appendingPathComponent("custom/flow.yaml"), projectRoot: root) == "custom/flow.yaml")
        #expect(try WorkflowFiles.resolve(name: "ML pipeline", projectRoot: root) == ".slipway/workflows/train.yml")
        #expect(try WorkflowFiles.resolve(name: "ml PIPELINE", projectRoot: root) == ".slipway/workflows/train.yml")
    }

    @Test("an unknown name lists the workflows that exist; an empty project says where to write one")
    func notFound() throws {
        let root = try project([".github/workflows/ci.yml": "name: CI\n" + workflow, ".github/workflows/broken.yml": "on: [\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            _ = try WorkflowFiles.resolve(name: "deploy", projectRoot: root)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .notFound)
            #expect(error.message.contains("no workflow 'deploy'"))
            #expect(error.message.contains(".github/workflows/ci.yml (CI)"))
            #expect(error.message.contains(".github/workflows/broken.yml"))
        }
        let empty = try project([:])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        do {
            _ = try WorkflowFiles.resolve(name: "ci", projectRoot: empty)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("the project has no workflows"))
            #expect(error.message.contains(".slipway/workflows/NAME.yml"))
        }
    }

    @Test("a name shared by two workflows is ambiguous")
    func ambiguous() throws {
        let root = try project([".github/workflows/a.yml": "name: Same\n" + workflow, ".github/workflows/b.yml": "name: Same\n" + workflow])
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            _ = try WorkflowFiles.resolve(name: "Same", projectRoot: root)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidArgument)
            #expect(error.message.contains(".github/workflows/a.yml, .github/workflows/b.yml"))
        }
    }
}
