public import AsyncHTTPClient
import Crypto
public import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import SlipwayCore
public import SlipwayStore
import Synchronization

/// Tells a rollout's webhooks (`spec.webhooks`) about its phase changes and gates.
///
/// Each change a webhook asked for becomes one `POST` of a JSON ``WebhookEvent`` with the headers
/// `X-Slipway-Event` (`phase`, `gate`, `step` or `transition`), `X-Slipway-Delivery` (the event's id) and, when the
/// webhook names a `secretEnv`, `X-Slipway-Signature: sha256=<hex>` — HMAC-SHA256 of the exact body with the
/// value of that environment variable of the server as key.
///
/// Deliveries run in the background and never hold up the transition. A delivery is tried up to three times
/// (after 1 s and 4 s by default) while the answer is a transport error, 408, 429 or 5xx; other answers end it.
/// A delivery that fails for good is logged with the webhook's URL (without its query) and the last error —
/// never with the secret.
public struct RolloutNotifier: Sendable {
    let logger: Logger
    let client: HTTPClient
    let retryDelays: [Duration]
    let attemptTimeout: Duration
    let secret: @Sendable (String) -> String?
    let deliveries: Deliveries

    /// A notifier that logs under `slipway.webhooks` and uses the process-wide HTTP client.
    public init() {
        self.init(logger: Logger(label: "slipway.webhooks"))
    }

    /// Creates a notifier.
    /// - Parameters:
    ///   - logger: where failed deliveries are logged.
    ///   - httpClient: the client deliveries use (default: the process-wide shared client, never shut down by Slipway).
    ///   - retryDelays: the waits before the second, third… attempt; `[1 s, 4 s]` makes three attempts.
    ///   - attemptTimeout: how long one attempt may take.
    ///   - secret: reads a secret by environment variable name (default: the server's environment).
    public init(
        logger: Logger, httpClient: HTTPClient = .shared, retryDelays: [Duration] = [.seconds(1), .seconds(4)],
        attemptTimeout: Duration = .seconds(10),
        secret: @escaping @Sendable (String) -> String? = { ProcessInfo.processInfo.environment[$0] }
    ) {
        self.logger = logger
        self.client = httpClient
        self.retryDelays = retryDelays
        self.attemptTimeout = attemptTimeout
        self.secret = secret
        self.deliveries = Deliveries()
    }

    /// Called after every stored transition of a rollout, with the record before and after it. Returns at once;
    /// the events are sent in the background.
    public func rolloutChanged(from previous: RolloutRecord, to updated: RolloutRecord, action: String) async {
        guard action != RolloutChange.measureAction else { return }
        let hooks: [WebhookSpec]
        do {
            hooks = try SlipwayJSON.decoder().decode(StoredRolloutSpec.self, from: Data(updated.spec.utf8)).spec.webhooks
        } catch {
            logger.debug("webhooks skipped: the stored spec does not decode", metadata: ["slipway.rollout": "\(updated.name)"])
            return
        }
        for hook in hooks {
            guard let kind = Self.eventKind(for: hook, from: previous, to: updated, action: action) else { continue }
            let event = WebhookEvent(
                id: UUID().uuidString.lowercased(), event: kind, rollout: updated.name, endpoint: updated.endpoint, fromPhase: previous.phase,
                toPhase: updated.phase, action: action, reason: updated.reason, step: updated.step, revision: updated.revision,
                time: updated.updatedAt)
            deliveries.start { await deliver(event, to: hook) }
        }
    }

    /// Waits until every delivery started so far has succeeded or given up (for shutdown and tests).
    public func waitForDeliveries() async {
        await deliveries.waitForAll()
    }

    /// The `event` value sent to `hook` for this transition, or nil when the hook did not ask for it. A transition
    /// to Paused is a `gate`, else a phase change a `phase`, else a finished step a `step`, else a `transition`
    /// (for webhooks with `all`).
    static func eventKind(for hook: WebhookSpec, from previous: RolloutRecord, to updated: RolloutRecord, action: String) -> String? {
        let gate = updated.phase == .paused && previous.phase != .paused
        let phase = updated.phase != previous.phase
        if gate && hook.wants(.gate) { return WebhookSpec.Event.gate.rawValue }
        if phase && hook.wants(.phase) { return WebhookSpec.Event.phase.rawValue }
        if action == "rollout.step" && hook.wants(.step) { return WebhookSpec.Event.step.rawValue }
        if hook.wants(.all) { return "transition" }
        return nil
    }

    /// `sha256=<hex>`: the HMAC-SHA256 of `body` keyed with `secret`.
    public static func signature(body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    // MARK: Delivery

    private func deliver(_ event: WebhookEvent, to hook: WebhookSpec) async {
        let shownURL = MetricProviders.redacted(hook.url)
        var metadata: Logger.Metadata = [
            "slipway.rollout": "\(event.rollout)", "slipway.webhook": "\(shownURL)", "slipway.event": "\(event.event)",
            "slipway.delivery": "\(event.id)",
        ]
        var key: String?
        if let name = hook.secretEnv {
            guard let value = secret(name), !value.isEmpty else {
                metadata["slipway.secret_env"] = "\(name)"
                logger.error(
                    "webhook event not sent: the server's environment variable named by secretEnv is not set; set it and restart the server",
                    metadata: metadata)
                return
            }
            key = value
        }
        let body: Data
        do { body = try SlipwayJSON.encoder().encode(event) } catch {
            logger.error("webhook event not sent: it does not encode", metadata: metadata)
            return
        }
        var lastError = ""
        let attempts = retryDelays.count + 1
        var made = 0
        for attempt in 1...attempts {
            made = attempt
            if attempt > 1 {
                do { try await Task.sleep(for: retryDelays[attempt - 2]) } catch { break }
            }
            var request = HTTPClientRequest(url: hook.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "slipway-webhooks")
            request.headers.add(name: "X-Slipway-Event", value: event.event)
            request.headers.add(name: "X-Slipway-Delivery", value: event.id)
            if let key { request.headers.add(name: "X-Slipway-Signature", value: Self.signature(body: body, secret: key)) }
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let nanos = attemptTimeout.components.seconds * 1_000_000_000 + attemptTimeout.components.attoseconds / 1_000_000_000
                let response = try await client.execute(request, deadline: .now() + .nanoseconds(nanos))
                // Only the status matters; read a little of the answer so the connection can be reused.
                let answer = try? await response.body.collect(upTo: 64 * 1024)
                let status = Int(response.status.code)
                if (200..<300).contains(status) {
                    if attempt > 1 {
                        logger.info("webhook event delivered after retrying", metadata: metadata.merging(["slipway.attempts": "\(attempt)"]) { $1 })
                    }
                    return
                }
                let text = answer.map { String(buffer: $0).prefix(200) } ?? ""
                lastError = "answered \(status)" + (text.isEmpty ? "" : ": \(text)")
                guard status == 408 || status == 429 || status >= 500 else { break }
            } catch {
                lastError = "\(error)"
            }
        }
        metadata["slipway.error"] = "\(lastError)"
        metadata["slipway.attempts"] = "\(made)"
        logger.warning("webhook event could not be delivered", metadata: metadata)
    }

    /// The background deliveries in flight, so they can be awaited.
    final class Deliveries: Sendable {
        private let running = Mutex<[UUID: Task<Void, Never>]>([:])

        /// Runs `work` in the background.
        func start(_ work: @escaping @Sendable () async -> Void) {
            let id = UUID()
            running.withLock { tasks in
                // Deliveries are independent of the transition that caused them: they outlive its task on purpose.
                tasks[id] = Task { [weak self] in
                    await work()
                    self?.finished(id)
                }
            }
        }

        private func finished(_ id: UUID) {
            _ = running.withLock { $0.removeValue(forKey: id) }
        }

        func waitForAll() async {
            while true {
                let tasks = running.withLock { Array($0.values) }
                if tasks.isEmpty { return }
                for task in tasks { await task.value }
            }
        }
    }
}

/// The JSON body of a webhook call.
public struct WebhookEvent: Sendable, Codable, Equatable {
    /// The delivery's id, also in the `X-Slipway-Delivery` header (the same on every attempt).
    public var id: String
    /// `phase`, `gate`, `step` or `transition`, also in the `X-Slipway-Event` header.
    public var event: String
    /// The rollout's name.
    public var rollout: String
    /// The endpoint whose traffic the rollout moves.
    public var endpoint: String
    /// The phase before the transition.
    public var fromPhase: RolloutPhase
    /// The phase after it.
    public var toPhase: RolloutPhase
    /// What happened: `rollout.pause`, `rollout.step`, `rollout.complete`, `rollout.abort`…
    public var action: String
    /// Why, in the controller's or the person's words.
    public var reason: String
    /// The step the rollout is at after the transition.
    public var step: Int
    /// The rollout's revision after the transition; it orders events of one rollout.
    public var revision: Int
    /// When the transition was stored.
    public var time: Date
}
