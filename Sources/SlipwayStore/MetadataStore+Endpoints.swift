public import SlipwayCore

/// The endpoint half of the metadata store: endpoints, their deployments and traffic policies.
///
/// The same rules as the rest of ``MetadataStore`` hold: every mutating method is one transaction
/// with its audit event (`endpoint.create`, `endpoint.update`, `endpoint.delete`, `deployment.put`,
/// `deployment.delete`, `traffic.update`), and the store enforces the invariants that must hold under
/// concurrency: unique names, that a deployment names an existing version, that a version a
/// deployment serves cannot be deleted (``MetadataStore/deleteVersion(model:version:actor:)`` and
/// ``MetadataStore/deleteModel(named:actor:)`` refuse with `failedPrecondition` naming the endpoint and
/// variant), that a variant the policy still sends traffic to cannot lose its deployment, and that a
/// policy update is compare-and-set on the endpoint's revision.
public protocol EndpointStore: Sendable {
    /// Creates an endpoint (revision 1, no deployments). Throws `alreadyExists`.
    func createEndpoint(_ endpoint: NewEndpoint, actor: String) async throws -> Endpoint
    /// The endpoint with its deployments, or nil.
    func endpoint(named name: String) async throws -> Endpoint?
    /// All endpoints with their deployments, by name.
    func endpoints() async throws -> [Endpoint]
    /// Replaces the settings and/or the policy if the endpoint is still at `expectedRevision`
    /// (else `failedPrecondition`: someone else changed it; read it again). Increments the revision.
    /// The policy may only name variants that have a deployment (else `failedPrecondition`).
    func updateEndpoint(
        named name: String, expectedRevision: Int, settings: EndpointSettings?, policy: TrafficPolicy?, actor: String
    ) async throws -> Endpoint
    /// Deletes an endpoint and its deployments. Throws `notFound`.
    func deleteEndpoint(named name: String, actor: String) async throws
    /// Creates or replaces the deployment of a variant. Throws `notFound` for an unknown endpoint or
    /// model version. Increments the endpoint's revision.
    func putDeployment(_ deployment: NewDeployment, actor: String) async throws -> Endpoint
    /// Removes a variant's deployment. Throws `notFound`, or `failedPrecondition` while the policy sends
    /// it traffic (a weight above zero, a header route or a mirror) or names it the stable variant.
    /// Increments the revision.
    func deleteDeployment(endpoint: String, variant: String, actor: String) async throws -> Endpoint
}

/// What a new endpoint carries.
public struct NewEndpoint: Sendable, Codable, Equatable {
    public var name: String
    public var description: String
    public var settings: EndpointSettings
    public var policy: TrafficPolicy

    public init(name: String, description: String = "", settings: EndpointSettings = EndpointSettings(), policy: TrafficPolicy) {
        self.name = name
        self.description = description
        self.settings = settings
        self.policy = policy
    }
}

/// What a deployment carries; the timestamps and actor are the store's.
public struct NewDeployment: Sendable, Codable, Equatable {
    public var endpoint: String
    public var variant: String
    public var model: String
    public var version: Int
    public var backend: BackendSpec
    public var replicas: Int

    public init(endpoint: String, variant: String, model: String, version: Int, backend: BackendSpec, replicas: Int = 1) {
        self.endpoint = endpoint
        self.variant = variant
        self.model = model
        self.version = version
        self.backend = backend
        self.replicas = replicas
    }
}
