public import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import SlipwayCore
import SlipwayHTTP
public import SlipwayRegistry
public import SlipwayStore
public import SlipwayGateway
public import SlipwayRollout

/// Talks to a `slipway server` over HTTP with a bearer token.
///
/// The server's error messages are passed on as they are, so a command says the same thing against a server as
/// it does in-process.
public struct RemoteClient: SlipwayClient {
    let connection: ServerConnection

    /// The server's URL without trailing slashes.
    public var baseURL: String { connection.baseURL }

    /// - Parameters:
    ///   - baseURL: e.g. `http://127.0.0.1:8420`.
    ///   - token: the bearer token (`--token` / `SLIPWAY_TOKEN`).
    ///   - http: the client to send requests with; by default one shared client that reports a server it cannot
    ///     connect to within seconds.
    public init(baseURL: String, token: String?, http: HTTPClient? = nil) {
        connection = ServerConnection(baseURL: baseURL, token: token, http: http ?? ServerConnection.defaultClient)
    }

    public var location: String { baseURL }

    // MARK: Transport

    private static let timeout = TimeAmount.seconds(60)

    /// The error a caller sees: the server's own message when it sent one (as the in-process client would say
    /// it), else the connection's message naming the server.
    private func relayed(_ error: ServerConnectionError) -> GenericError {
        GenericError(error.kind, error.serverMessage ?? error.message)
    }

    private func request(_ method: HTTPMethod, _ path: String, query: [(String, String)] = []) throws -> HTTPClientRequest {
        do { return try connection.request(method, path, query: query) } catch { throw relayed(error) }
    }

    private func send<Response: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: (some Encodable)? = Optional<Int>.none,
        as type: Response.Type
    ) async throws -> Response {
        let answer: Response?
        do {
            answer = try await connection.call(method, path, query: query, body: body, as: type, timeout: Self.timeout)
        } catch {
            throw relayed(error)
        }
        guard let answer else {
            throw GenericError(.internal, "the Slipway server at \(baseURL) answered \(method.rawValue) /api/v1/\(path) with no content")
        }
        return answer
    }

    private func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        do { return try await connection.execute(request, timeout: Self.timeout) } catch { throw relayed(error) }
    }

    /// The answer if it is `2xx`, its body still to be read; else the server's error.
    private func checked(_ response: HTTPClientResponse, _ action: String) async throws -> HTTPClientResponse {
        do { return try await connection.checked(response, to: action) } catch { throw relayed(error) }
    }

    /// The whole body of a `2xx` answer, up to `limit` bytes; else the server's error.
    private func body(of response: HTTPClientResponse, _ action: String, limit: Int) async throws -> ByteBuffer {
        do { return try await connection.body(of: response, to: action, limit: limit) } catch { throw relayed(error) }
    }

    private func decode<Answer: Decodable>(_ type: Answer.Type, from buffer: ByteBuffer, _ action: String) throws -> Answer {
        do { return try connection.decode(type, from: buffer, answering: action) } catch { throw relayed(error) }
    }

    typealias Empty = ServerConnection.Empty

    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%;")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private func m(_ name: String) -> String { "models/" + Self.segment(name) }

    // MARK: SlipwayClient

    public func whoami() async throws -> Principal { try await send(.GET, "whoami", as: Principal.self) }

    public func createModel(_ model: NewModel) async throws -> RegisteredModel {
        try await send(.POST, "models", body: model, as: RegisteredModel.self)
    }
    public func model(_ name: String) async throws -> RegisteredModel { try await send(.GET, m(name), as: RegisteredModel.self) }
    public func searchModels(filter: String, orderBy: [String], limit: Int, pageToken: String?) async throws -> Page<RegisteredModel> {
        try await send(.GET, "models", query: searchQuery(filter, orderBy, limit, pageToken), as: Page<RegisteredModel>.self)
    }
    public func updateModel(_ name: String, description: String) async throws -> RegisteredModel {
        try await send(.PATCH, m(name), body: ["description": description], as: RegisteredModel.self)
    }
    public func renameModel(_ name: String, to newName: String) async throws -> RegisteredModel {
        try await send(.POST, m(name) + "/rename", body: ["newName": newName], as: RegisteredModel.self)
    }
    public func deleteModel(_ name: String) async throws { _ = try await send(.DELETE, m(name), as: Empty.self) }
    public func setModelTag(_ name: String, key: String, value: String) async throws {
        _ = try await send(.PUT, m(name) + "/tags/" + Self.segment(key), body: ["value": value], as: Empty.self)
    }
    public func deleteModelTag(_ name: String, key: String) async throws {
        _ = try await send(.DELETE, m(name) + "/tags/" + Self.segment(key), as: Empty.self)
    }

    private func searchQuery(_ filter: String, _ orderBy: [String], _ limit: Int, _ pageToken: String?) -> [(String, String)] {
        var query: [(String, String)] = [("filter", filter), ("limit", String(limit))]
        for term in orderBy { query.append(("orderBy", term)) }
        if let pageToken { query.append(("pageToken", pageToken)) }
        return query
    }

    // MARK: Artifacts

    public func uploadArtifact(at path: URL, progress: TransferProgress?) async throws -> StoredObject {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw GenericError(.invalidArgument, "\(path.path) does not exist")
        }
        guard isDirectory.boolValue else {
            let size = try FileStreams.size(of: path)
            return try await uploadFile(path, progress: scaled(progress, total: size))
        }
        let files = try FileStreams.listFiles(in: path)
        let total = files.reduce(Int64(0)) { $0 + $1.size }
        let counter = ByteCounter()
        var entries: [ArtifactManifest.Entry] = []
        for file in files {
            let base = counter.value
            let object = try await uploadFile(file.url, progress: scaled(progress, base: base, total: total))
            counter.add(file.size)
            entries.append(ArtifactManifest.Entry(path: file.relativePath, digest: object.digest, size: object.size, executable: file.executable))
        }
        let manifest = ArtifactManifest(files: entries)
        let data = try manifest.canonicalJSON()
        return try await uploadData(data, digest: Digest(of: data))
    }

    private func uploadFile(_ url: URL, progress: (@Sendable (Int64) -> Void)?) async throws -> StoredObject {
        let (digest, size) = try FileStreams.digest(of: url)
        if let existing = try await head(digest) { progress?(size); return existing }
        var request = try request(.PUT, "artifacts/" + digest.description)
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .stream(FileStreams.chunks(of: url, progress: progress), length: .known(size))
        let action = "store object \(digest)"
        return try decode(StoredObject.self, from: try await body(of: try await execute(request), action, limit: 1 << 20), action)
    }

    private func uploadData(_ data: Data, digest: Digest) async throws -> StoredObject {
        if let existing = try await head(digest) { return existing }
        var request = try request(.PUT, "artifacts/" + digest.description)
        request.body = .bytes(ByteBuffer(data: data))
        let action = "store object \(digest)"
        return try decode(StoredObject.self, from: try await body(of: try await execute(request), action, limit: 1 << 20), action)
    }

    private func head(_ digest: Digest) async throws -> StoredObject? {
        let response = try await execute(try request(.HEAD, "artifacts/" + digest.description))
        if response.status == .notFound { return nil }
        _ = try await checked(response, "check object \(digest)")
        let size = response.headers.first(name: "Content-Length").flatMap(Int64.init) ?? 0
        return StoredObject(digest: digest, size: size)
    }

    public func downloadArtifact(_ digest: Digest, to destination: URL, progress: TransferProgress?) async throws {
        if FileManager.default.fileExists(atPath: destination.path) {
            throw GenericError(.alreadyExists, "\(destination.path) already exists; choose another --out or remove it")
        }
        let parent = destination.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(destination.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: staging) }
        // A small object may be a manifest: look before streaming it to disk.
        let size = try await head(digest)?.size ?? { throw GenericError(.notFound, "artifact \(digest) is not on the server") }()
        if size <= ArtifactManifest.maximumSize, let manifest = try await fetchManifest(digest) {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            let total = manifest.totalSize
            var done: Int64 = 0
            for entry in manifest.files {
                try LocalArtifactStore.validateRelativePath(entry.path)
                let target = staging.appendingPathComponent(entry.path)
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                let base = done
                try await downloadFile(entry.digest, to: target, progress: scaled(progress, base: base, total: total))
                if entry.executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target.path) }
                done += entry.size
            }
        } else {
            try await downloadFile(digest, to: staging, progress: scaled(progress, total: size))
        }
        try FileManager.default.moveItem(at: staging, to: destination)
    }

    private func fetchManifest(_ digest: Digest) async throws -> ArtifactManifest? {
        let response = try await execute(try request(.GET, "artifacts/" + digest.description))
        let buffer = try await body(of: response, "send object \(digest)", limit: Int(ArtifactManifest.maximumSize) + 1)
        let data = Data(buffer: buffer)
        guard Digest(of: data) == digest else {
            throw GenericError(.corrupted, "artifact \(digest) arrived with other bytes; try again")
        }
        guard let manifest = try? SlipwayJSON.decoder().decode(ArtifactManifest.self, from: data),
            manifest.mediaType == ArtifactManifest.mediaType
        else { return nil }
        return manifest
    }

    private func downloadFile(_ digest: Digest, to url: URL, progress: (@Sendable (Int64) -> Void)?) async throws {
        let response = try await checked(try await execute(try request(.GET, "artifacts/" + digest.description)), "send object \(digest)")
        let writer = try FileStreams.Writer(url: url)
        var hasher = DigestHasher()
        do {
            for try await buffer in response.body {
                buffer.withUnsafeReadableBytes { hasher.update(bytes: $0) }
                try writer.write(buffer)
                progress?(hasher.count)
            }
            try writer.close()
        } catch {
            try? writer.close()
            throw GenericError(.unavailable, "the download of \(digest) broke off: \(error); run the command again")
        }
        guard hasher.finalize() == digest else {
            throw GenericError(.corrupted, "artifact \(digest) arrived with other bytes (the server may hold a corrupted copy)")
        }
    }

    // MARK: Versions

    public func createVersion(_ version: NewVersion) async throws -> ModelVersion {
        struct Body: Encodable {
            var source: String
            var runId: String?
            var description: String
            var tags: [String: String]
            var lineage: Lineage
            var artifactDigest: Digest?
        }
        return try await send(
            .POST, m(version.model) + "/versions",
            body: Body(
                source: version.source, runId: version.runId, description: version.description, tags: version.tags, lineage: version.lineage,
                artifactDigest: version.artifactDigest), as: ModelVersion.self)
    }
    public func version(_ model: String, _ reference: String) async throws -> ModelVersion {
        try await send(.GET, m(model) + "/versions/" + Self.segment(reference), as: ModelVersion.self)
    }
    public func searchVersions(filter: String, orderBy: [String], limit: Int, pageToken: String?) async throws -> Page<ModelVersion> {
        try await send(.GET, "versions", query: searchQuery(filter, orderBy, limit, pageToken), as: Page<ModelVersion>.self)
    }
    public func deleteVersion(_ model: String, _ version: Int) async throws {
        _ = try await send(.DELETE, m(model) + "/versions/\(version)", as: Empty.self)
    }
    public func setVersionTag(_ model: String, _ version: Int, key: String, value: String) async throws {
        _ = try await send(.PUT, m(model) + "/versions/\(version)/tags/" + Self.segment(key), body: ["value": value], as: Empty.self)
    }
    public func deleteVersionTag(_ model: String, _ version: Int, key: String) async throws {
        _ = try await send(.DELETE, m(model) + "/versions/\(version)/tags/" + Self.segment(key), as: Empty.self)
    }

    // MARK: Aliases

    private struct AliasBody: Encodable {
        var version: Int
        var reason: String?
    }

    private struct AliasAt: Decodable {
        var version: Int?
    }

    private struct Events<T: Decodable>: Decodable {
        var events: [T]
    }

    public func setAlias(_ model: String, alias: String, version: Int, reason: String?) async throws -> AliasEvent {
        try await send(.PUT, m(model) + "/aliases/" + Self.segment(alias), body: AliasBody(version: version, reason: reason), as: AliasEvent.self)
    }
    public func deleteAlias(_ model: String, alias: String, reason: String?) async throws -> AliasEvent {
        try await send(.DELETE, m(model) + "/aliases/" + Self.segment(alias), query: reason.map { [("reason", $0)] } ?? [], as: AliasEvent.self)
    }
    public func alias(_ model: String, alias: String) async throws -> ModelVersion {
        try await send(.GET, m(model) + "/aliases/" + Self.segment(alias), as: ModelVersion.self)
    }
    public func alias(_ model: String, alias: String, at instant: Date) async throws -> Int? {
        try await send(
            .GET, m(model) + "/aliases/" + Self.segment(alias), query: [("at", Timestamp.format(instant))], as: AliasAt.self
        ).version
    }
    public func aliasHistory(_ model: String, alias: String?) async throws -> [AliasEvent] {
        let path = alias.map { m(model) + "/aliases/" + Self.segment($0) + "/history" } ?? m(model) + "/history"
        return try await send(.GET, path, as: Events<AliasEvent>.self).events
    }

    // MARK: Endpoints

    private func e(_ name: String) -> String { "endpoints/" + Self.segment(name) }

    public func createEndpoint(name: String, description: String, settings: EndpointSettings, initialVariant: String) async throws -> EndpointStatus {
        struct Body: Encodable {
            var name: String
            var description: String
            var stickyKey: String
            var maxBodyBytes: Int
            var timeoutSeconds: Double
            var featureLogging: FeatureLogging
            var initialVariant: String
        }
        return try await send(
            .POST, "endpoints",
            body: Body(
                name: name, description: description, stickyKey: settings.stickyKey.description, maxBodyBytes: settings.maxBodyBytes,
                timeoutSeconds: settings.timeoutSeconds, featureLogging: settings.featureLogging, initialVariant: initialVariant),
            as: EndpointStatus.self)
    }
    public func endpoint(_ name: String) async throws -> EndpointStatus { try await send(.GET, e(name), as: EndpointStatus.self) }
    public func endpoints() async throws -> [Endpoint] {
        struct List: Decodable { var endpoints: [Endpoint] }
        return try await send(.GET, "endpoints", as: List.self).endpoints
    }
    public func deleteEndpoint(_ name: String) async throws { _ = try await send(.DELETE, e(name), as: Empty.self) }
    public func deploy(endpoint: String, variant: String, model: String, backend: BackendSpec, replicas: Int) async throws -> EndpointStatus {
        struct Body: Encodable {
            var model: String
            var backend: BackendSpec
            var replicas: Int
        }
        return try await send(
            .PUT, e(endpoint) + "/deployments/" + Self.segment(variant), body: Body(model: model, backend: backend, replicas: replicas),
            as: EndpointStatus.self)
    }
    public func undeploy(endpoint: String, variant: String) async throws -> EndpointStatus {
        try await send(.DELETE, e(endpoint) + "/deployments/" + Self.segment(variant), as: EndpointStatus.self)
    }
    public func setWeights(endpoint: String, weights: [(String, Double)]) async throws -> EndpointStatus {
        struct Weight: Encodable {
            var variant: String
            var weight: Double
        }
        struct Body: Encodable { var weights: [Weight] }
        return try await send(
            .PUT, e(endpoint) + "/traffic", body: Body(weights: weights.map { Weight(variant: $0.0, weight: $0.1) }), as: EndpointStatus.self)
    }
    public func switchTraffic(endpoint: String, to variant: String) async throws -> EndpointStatus {
        try await send(.POST, e(endpoint) + "/traffic/switch", body: ["variant": variant], as: EndpointStatus.self)
    }
    public func mirror(endpoint: String, to variant: String, percent: Double) async throws -> EndpointStatus {
        struct Body: Encodable {
            var variant: String
            var percent: Double
        }
        return try await send(.PUT, e(endpoint) + "/traffic/mirror", body: Body(variant: variant, percent: percent), as: EndpointStatus.self)
    }
    public func route(endpoint: String, header: String, value: String, to variant: String?) async throws -> EndpointStatus {
        struct Body: Encodable {
            var header: String
            var value: String
            var variant: String?
        }
        return try await send(.PUT, e(endpoint) + "/traffic/routes", body: Body(header: header, value: value, variant: variant), as: EndpointStatus.self)
    }

    // MARK: Prediction log

    public func feedback(endpoint: String, requestId: String, groundTruth: String?, outcome: Double?) async throws -> PredictionRecord {
        try await send(
            .POST, e(endpoint) + "/feedback", body: FeedbackItem(requestId: requestId, groundTruth: groundTruth, outcome: outcome),
            as: PredictionRecord.self)
    }
    public func feedback(endpoint: String, items: [FeedbackItem]) async throws -> [FeedbackResult] {
        struct Body: Encodable { var feedback: [FeedbackItem] }
        struct Results: Decodable { var results: [FeedbackResult] }
        return try await send(.POST, e(endpoint) + "/feedback", body: Body(feedback: items), as: Results.self).results
    }
    public func predictions(endpoint: String, since: Date?, limit: Int, pageToken: String?) async throws -> Page<PredictionRecord> {
        struct PredictionPage: Decodable {
            var predictions: [PredictionRecord]
            var nextPageToken: String?
        }
        var query = [("limit", String(limit))]
        if let since { query.append(("since", Timestamp.format(since))) }
        if let pageToken { query.append(("pageToken", pageToken)) }
        let page = try await send(.GET, e(endpoint) + "/predictions", query: query, as: PredictionPage.self)
        return Page(items: page.predictions, nextPageToken: page.nextPageToken)
    }

    // MARK: Stages, audit, tokens

    public func approve(_ model: String, _ version: Int, stage: String, comment: String?) async throws -> ModelVersion {
        try await send(
            .POST, m(model) + "/versions/\(version)/approvals", body: ["stage": stage, "comment": comment ?? ""], as: ModelVersion.self)
    }
    public func transitionStage(_ model: String, _ version: Int, to stage: String, archiveExisting: Bool) async throws -> ModelVersion {
        struct Body: Encodable {
            var stage: String
            var archiveExisting: Bool
        }
        return try await send(.POST, m(model) + "/versions/\(version)/stage", body: Body(stage: stage, archiveExisting: archiveExisting), as: ModelVersion.self)
    }
    public func audit(model: String?, limit: Int) async throws -> [AuditEvent] {
        var query = [("limit", String(limit))]
        if let model { query.append(("model", model)) }
        return try await send(.GET, "audit", query: query, as: Events<AuditEvent>.self).events
    }
    public func createToken(name: String, role: Role) async throws -> AccessTokens.Issued {
        try await send(.POST, "tokens", body: ["name": name, "role": role.rawValue], as: AccessTokens.Issued.self)
    }

    // MARK: Datasets

    private struct DatasetList: Decodable { var datasets: [Dataset] }

    public func registerDataset(_ dataset: NewDataset) async throws -> Dataset {
        try await send(.POST, "datasets", body: dataset, as: Dataset.self)
    }
    public func dataset(_ name: String, digest: Digest?) async throws -> Dataset {
        var query = [("name", name), ("limit", "1")]
        if let digest { query.append(("digest", digest.description)) }
        guard let found = try await send(.GET, "datasets", query: query, as: DatasetList.self).datasets.first else {
            throw GenericError(
                .notFound,
                "dataset '\(name)'" + (digest.map { " with digest \($0)" } ?? "")
                    + " is not registered; register it with `slipway datasets register \(name).slipway`")
        }
        return found
    }
    public func datasets(name: String?, limit: Int) async throws -> [Dataset] {
        var query = [("limit", String(limit))]
        if let name { query.append(("name", name)) }
        return try await send(.GET, "datasets", query: query, as: DatasetList.self).datasets
    }

    // MARK: Rollouts

    private struct StartRollout: Encodable {
        var yaml: String
        var file: String
    }

    private struct RolloutCommandBody: Encodable {
        var reason: String?
        var full: Bool?
    }

    private struct RolloutList: Decodable { var rollouts: [RolloutStatus] }
    private struct RolloutHistory: Decodable { var history: [RolloutTransition] }

    public func startRollout(yaml: String, file: String) async throws -> RolloutStatus {
        try await send(.POST, "rollouts", body: StartRollout(yaml: yaml, file: file), as: RolloutStatus.self)
    }

    public func rollout(_ name: String) async throws -> RolloutStatus {
        try await send(.GET, "rollouts/" + Self.segment(name), as: RolloutStatus.self)
    }

    public func rollouts() async throws -> [RolloutStatus] {
        try await send(.GET, "rollouts", as: RolloutList.self).rollouts
    }

    public func rolloutHistory(_ name: String) async throws -> [RolloutTransition] {
        try await send(.GET, "rollouts/" + Self.segment(name) + "/history", as: RolloutHistory.self).history
    }

    public func rolloutCommand(_ name: String, _ action: RolloutAction, reason: String?, full: Bool) async throws -> RolloutStatus {
        try await send(
            .POST, "rollouts/" + Self.segment(name) + "/" + action.rawValue, body: RolloutCommandBody(reason: reason, full: full ? true : nil),
            as: RolloutStatus.self)
    }
}
