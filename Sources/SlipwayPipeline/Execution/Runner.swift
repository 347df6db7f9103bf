import Foundation

/// A place jobs run: it has labels, and it takes a job whose `runs-on` labels it all has.
///
/// The local pool implements it now; remote runners (`slipway runner --labels …`) will too.
public protocol PipelineRunner: Sendable {
    /// The runner's name (`runner.name`).
    var name: String { get }
    /// Its labels, lowercased.
    var labels: Set<String> { get }
    /// How many jobs it runs at once.
    var capacity: Int { get }
    /// Whether it can run a job that asks for `requested` labels.
    func accepts(_ requested: [String]) -> Bool
}

/// This machine as a runner.
///
/// Labels: `self-hosted`, the OS (`linux` or `macos`), the architecture (`x64`, `arm64`), `gpu` and `cuda<major>` when
/// `nvidia-smi` reports a device, and any configured extra labels. GitHub-hosted runner names for this OS
/// (`ubuntu-latest`, `ubuntu-24.04`, … on Linux; `macos-latest`, … on macOS) are accepted too, so a workflow written
/// for GitHub runs unchanged.
public struct LocalRunner: PipelineRunner {
    public var name: String
    public var labels: Set<String>
    public var capacity: Int
    /// `Linux` or `macOS` (`runner.os`, `RUNNER_OS`).
    public var os: String
    /// `X64` or `ARM64` (`runner.arch`, `RUNNER_ARCH`).
    public var arch: String

    /// The local runner with detected labels plus `extraLabels`; `capacity` defaults to the number of cores.
    public static func detect(extraLabels: [String] = [], capacity: Int? = nil) -> LocalRunner {
        #if os(macOS)
            let os = "macOS"
        #else
            let os = "Linux"
        #endif
        #if arch(arm64)
            let arch = "ARM64"
        #else
            let arch = "X64"
        #endif
        var labels: Set<String> = ["self-hosted", os.lowercased(), arch.lowercased()]
        if let cuda = detectCUDA() {
            labels.insert("gpu")
            if let major = cuda { labels.insert("cuda\(major)") }
        }
        for label in extraLabels where !label.trimmingCharacters(in: .whitespaces).isEmpty {
            labels.insert(label.trimmingCharacters(in: .whitespaces).lowercased())
        }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "local"
        return LocalRunner(
            name: "local-\(host)", labels: labels, capacity: max(1, capacity ?? ProcessInfo.processInfo.activeProcessorCount), os: os, arch: arch)
    }

    public func accepts(_ requested: [String]) -> Bool {
        requested.allSatisfy { label in
            let label = label.lowercased()
            return labels.contains(label) || Self.isHostedName(label, os: os)
        }
    }

    /// GitHub-hosted runner names that the local runner stands in for.
    static func isHostedName(_ label: String, os: String) -> Bool {
        switch os {
        case "Linux": label.hasPrefix("ubuntu-")
        case "macOS": label.hasPrefix("macos-")
        default: false
        }
    }

    /// nil when no GPU; `.some(nil)` for a GPU without a readable CUDA version; `.some(major)` otherwise.
    static func detectCUDA() -> Int?? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let program = StepProcess.resolve("nvidia-smi", path: path)
        guard program.contains("/"), FileManager.default.isExecutableFile(atPath: program) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, text.contains("NVIDIA-SMI") || text.contains("GPU") else { return nil }
        guard let range = text.range(of: "CUDA Version:") else { return .some(nil) }
        let digits = text[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber }
        return .some(Int(digits))
    }
}

/// The runners of a run and their free slots, with per-job `max-parallel` limits.
actor RunnerPool {
    let runners: [any PipelineRunner]
    private var busy: [String: Int] = [:]
    private var perJob: [String: Int] = [:]

    init(runners: [any PipelineRunner]) { self.runners = runners }

    /// Whether any runner has all the labels.
    nonisolated func canRun(_ labels: [String]) -> Bool { runners.contains { $0.accepts(labels) } }

    /// Takes a slot on a runner with the labels, if one is free and the job is under its `max-parallel`.
    func tryAcquire(labels: [String], job: String, maxParallel: Int?) -> (any PipelineRunner)? {
        if let limit = maxParallel, perJob[job, default: 0] >= limit { return nil }
        for runner in runners where runner.accepts(labels) && busy[runner.name, default: 0] < runner.capacity {
            busy[runner.name, default: 0] += 1
            perJob[job, default: 0] += 1
            return runner
        }
        return nil
    }

    /// Gives a slot back.
    func release(runner: String, job: String) {
        busy[runner, default: 1] -= 1
        perJob[job, default: 1] -= 1
    }
}
