package dev.gantry.core.error;

/** A failure with a code and a message a user can act on. Carries no stack trace: it is an answer, not a bug. */
public final class GantryException extends RuntimeException {
    private final ErrorCode code;

    public GantryException(ErrorCode code, String message) {
        super(message, null, /* enableSuppression= */ false, /* writableStackTrace= */ false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public static GantryException invalid(String message) {
        return new GantryException(ErrorCode.INVALID_ARG, message);
    }

    public static GantryException notFound(String message) {
        return new GantryException(ErrorCode.NOT_FOUND, message);
    }

    public static GantryException unavailable(String message) {
        return new GantryException(ErrorCode.UNAVAILABLE, message);
    }
}
