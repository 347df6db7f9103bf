public import Logging
public import ServiceLifecycle

/// The long-running loop that advances every running rollout: at start (so a restarted server goes on
/// where it stopped, from the stored step, deadlines and measurements), then every `tick`.
public struct RolloutController: Service {
    let service: RolloutService
    let tick: Duration
    let logger: Logger

    /// Creates the controller.
    /// - Parameter tick: how often running rollouts are looked at (default 250 ms).
    public init(service: RolloutService, tick: Duration = .milliseconds(250), logger: Logger) {
        self.service = service
        self.tick = tick
        self.logger = logger
    }

    public func run() async throws {
        var failures: [String: String] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await advanceAll(failures: &failures)
            try? await Task.sleep(for: tick)
        }
    }

    /// One pass over the running rollouts.
    public func advanceAll() async {
        var failures: [String: String] = [:]
        await advanceAll(failures: &failures)
    }

    /// One pass; a rollout whose step fails is tried again next tick, and its error is logged when it first
    /// appears or changes (`failures` remembers the last one per rollout).
    func advanceAll(failures: inout [String: String]) async {
        let names: [String]
        do {
            names = try await service.running()
        } catch {
            logger.error("cannot read the running rollouts", metadata: ["slipway.error": "\(error)"])
            return
        }
        for name in names {
            do {
                try await service.advance(name)
                failures[name] = nil
            } catch {
                let text = "\(error)"
                if failures[name] != text {
                    logger.warning("rollout step failed; retrying", metadata: ["slipway.rollout": "\(name)", "slipway.error": "\(text)"])
                }
                failures[name] = text
            }
        }
        failures = failures.filter { names.contains($0.key) }
    }
}
