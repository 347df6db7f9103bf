public import SlipwayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of a data versioning command: what went wrong and what to do about it.
public struct DataError: SlipwayError, Equatable {
    /// The kind of failure (becomes the exit code and the `error.code` of `--json` output).
    public var kind: ErrorKind
    /// A message that names the file and says what to do.
    public var message: String

    /// Creates an error of a kind with a message.
    public init(_ kind: ErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

extension DataError {
    static func corrupted(_ digest: Digest, path: String, actual: Digest) -> DataError {
        DataError(
            .corrupted,
            "cache object \(digest) at '\(path)' is corrupted (its bytes hash to \(actual)); it was not checked out. "
                + "Delete it and run 'slipway data pull' to fetch a good copy, or 'slipway data add' the original file again")
    }

    static func system(_ action: String, _ path: String, _ code: Int32) -> DataError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOSPC, EDQUOT:
            return DataError(.unavailable, "cannot \(action) '\(path)': \(reason); free some disk space and run the command again")
        case EACCES, EPERM, EROFS:
            return DataError(.permissionDenied, "cannot \(action) '\(path)': \(reason); check the permissions of the folder")
        case ENOENT:
            return DataError(.notFound, "cannot \(action) '\(path)': \(reason)")
        case ELOOP:
            return DataError(.invalidArgument, "cannot \(action) '\(path)': it is a symbolic link loop; fix or remove the link")
        default:
            return DataError(.internal, "cannot \(action) '\(path)': \(reason)")
        }
    }
}
