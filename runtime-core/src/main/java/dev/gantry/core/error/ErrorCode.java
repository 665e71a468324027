package dev.gantry.core.error;

/** Every failure Gantry reports falls in one of these; the HTTP layer maps each to one status. */
public enum ErrorCode {
    INVALID_ARG,
    NOT_FOUND,
    UNAVAILABLE,
    ALREADY_EXISTS,
    UNSUPPORTED,
    INTERNAL,
    CANCELLED,
    UNAUTHENTICATED,
    FORBIDDEN,
    RESOURCE_EXHAUSTED,
    FAILED_PRECONDITION,
    /**
     * The version's isolated worker process died while running the request (503, like UNAVAILABLE); the worker
     * restarts for the next one.
     */
    WORKER_CRASHED,
    /** The request waited in the queue past its timeout; it was not executed. */
    DEADLINE_EXCEEDED,
    /** The model's execution did not finish within the server's request timeout (a hung model). */
    MODEL_TIMEOUT,
    /** The request body was larger than the server accepts. */
    PAYLOAD_TOO_LARGE,
    /** The request body is in a format the endpoint does not take. */
    UNSUPPORTED_MEDIA_TYPE,
    /** The version asked for was retired; the message names its successor when it has one. */
    GONE,
    /** The server's disk cannot take what the request would write (an upload) and keep its free-space floor. */
    INSUFFICIENT_STORAGE
}
