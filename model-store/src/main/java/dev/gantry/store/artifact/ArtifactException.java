package dev.gantry.store.artifact;

import java.util.Objects;

/** An upload could not be installed; {@link #reason()} says why in a form the HTTP layer maps to a status. */
public final class ArtifactException extends Exception {

    /** Why an install failed. */
    public enum Reason {
        /** The version exists with different bytes, or was put there by hand (HTTP 409). */
        CONFLICT,
        /** The archive holds an entry that could escape or abuse the version directory (HTTP 400). */
        UNSAFE_ARCHIVE,
        /** Bad model name or version, not a model or bundle, or a bundle without model.onnx (HTTP 400). */
        INVALID,
        /** The upload or its expanded contents exceed {@link ArtifactLimits} (HTTP 413). */
        TOO_LARGE,
        /** The shared store's copy of an artifact does not match its recorded digest: it is not installed. */
        CORRUPT,
        /** The file system or the shared store failed (HTTP 500). */
        IO
    }

    private final Reason reason;

    public ArtifactException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public ArtifactException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
