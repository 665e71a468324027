package dev.gantry.http.error;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.StatusException;

/**
 * The one place that turns a failure into a gRPC status, beside {@link ErrorMapper} for HTTP: the same codes
 * and the same messages, so a caller reads the same answer on either transport.
 */
public final class GrpcStatusMapper {
    private GrpcStatusMapper() {
    }

    public static GrpcStatus status(ErrorCode code) {
        return switch (code) {
            case INVALID_ARG, UNSUPPORTED, UNSUPPORTED_MEDIA_TYPE -> GrpcStatus.INVALID_ARGUMENT;
            case NOT_FOUND -> GrpcStatus.NOT_FOUND;
            // gRPC has no "gone": the retired version is not there to call, and the message names its successor
            case GONE -> GrpcStatus.NOT_FOUND;
            case UNAVAILABLE, WORKER_CRASHED -> GrpcStatus.UNAVAILABLE;
            case ALREADY_EXISTS -> GrpcStatus.ALREADY_EXISTS;
            case INTERNAL -> GrpcStatus.INTERNAL;
            case CANCELLED -> GrpcStatus.CANCELLED;
            case UNAUTHENTICATED -> GrpcStatus.UNAUTHENTICATED;
            case FORBIDDEN -> GrpcStatus.PERMISSION_DENIED;
            // a message over the size limit is RESOURCE_EXHAUSTED in gRPC, as a full queue or a rate limit is
            case RESOURCE_EXHAUSTED, PAYLOAD_TOO_LARGE, INSUFFICIENT_STORAGE -> GrpcStatus.RESOURCE_EXHAUSTED;
            case FAILED_PRECONDITION -> GrpcStatus.FAILED_PRECONDITION;
            case DEADLINE_EXCEEDED, MODEL_TIMEOUT -> GrpcStatus.DEADLINE_EXCEEDED;
        };
    }

    /** The status for {@code failure}: unwrapped and logged as {@link ErrorMapper#toGantry} does. */
    public static StatusException toStatus(Throwable failure) {
        GantryException e = ErrorMapper.toGantry(failure);
        return new StatusException(status(e.code()), e.getMessage());
    }
}
