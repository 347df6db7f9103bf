import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import SlipwayCore
import SlipwayStore

/// Content-addressed artifacts under `/api/v1/artifacts/{digest}`: uploads and downloads stream,
/// so a 2 GiB model moves in constant memory; an upload whose bytes do not hash to the digest in
/// its path is refused and nothing is stored; a download is verified before and while it streams.
struct ArtifactController {
    let artifacts: any ArtifactStore

    func addRoutes(to group: RouterGroup<APIContext>) {
        group.head("artifacts/:digest", use: head)
        group.get("artifacts/:digest", use: download)
        group.put("artifacts/:digest", use: upload)
    }

    private func digest(_ context: APIContext) throws -> Digest {
        let text = try context.parameters.decoded("digest")
        guard let digest = Digest(text) else {
            throw GenericError(.invalidArgument, "'\(text)' is not a digest; write sha256:<64 hex digits>")
        }
        return digest
    }

    @Sendable func head(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.viewer, for: "reading artifacts")
        let digest = try digest(context)
        guard try await artifacts.contains(digest) else { return Response(status: .notFound) }
        let size = try await artifacts.size(of: digest)
        return Response(status: .ok, headers: [.contentLength: String(size), .contentType: "application/octet-stream"])
    }

    @Sendable func download(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.viewer, for: "downloading artifacts")
        let reader = try await artifacts.open(try digest(context))
        let size = reader.object.size
        let logger = context.logger
        let body = ResponseBody(contentLength: Int(size)) { writer in
            do {
                while let chunk = try await reader.read(maxLength: 1 << 20) {
                    try await writer.write(ByteBuffer(data: chunk))
                }
                await reader.close()
                try await writer.finish(nil)
            } catch {
                await reader.close()
                logger.error("artifact download aborted", metadata: ["slipway.digest": "\(reader.object.digest)", "slipway.error": "\(error)"])
                throw error
            }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/octet-stream", HTTPField.Name("X-Slipway-Digest")!: reader.object.digest.description],
            body: body)
    }

    @Sendable func upload(_ request: Request, context: APIContext) async throws -> Response {
        try context.requirePrincipal().require(.editor, for: "uploading artifacts")
        let expected = try digest(context)
        if try await artifacts.contains(expected) {
            // Content-addressed: the bytes are already here. Drain the body and answer at once.
            for try await _ in request.body {}
            return try jsonResponse(StoredObject(digest: expected, size: try await artifacts.size(of: expected)))
        }
        let upload = try await artifacts.beginUpload()
        do {
            for try await buffer in request.body {
                try await upload.write(Data(buffer: buffer, byteTransferStrategy: .noCopy))
            }
            let stored = try await upload.commit(expected: expected)
            return try jsonResponse(stored, status: .created)
        } catch {
            await upload.abort()
            throw error
        }
    }
}

